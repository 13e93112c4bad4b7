//! The concurrent runner end to end: races found on real threads and shrunk, no false alarms
//! on correct systems, panics and hangs in branches named, reports, persistence and replay.

#[path = "../../examples/ticket_dispenser.rs"]
#[allow(dead_code)]
mod tickets;

// Under the `shuttle` feature the example's systems use shuttle's types, which run only under the
// controlled scheduler: the threads tests run in the normal build, `scheduled` in that one.
// `races` and `correct` run in both, each under the schedulers of its build (`modes`).
mod correct;
#[cfg(not(feature = "shuttle"))]
mod dispenser;
#[cfg(not(feature = "shuttle"))]
mod failures;
#[cfg(not(feature = "shuttle"))]
mod interleavings;
mod invariants;
mod races;
#[cfg(not(feature = "shuttle"))]
mod saved;
#[cfg(feature = "shuttle")]
mod scheduled;
mod scheduler_choice;
#[cfg(all(feature = "tokio", not(feature = "shuttle")))]
mod tasks;

use stateprop::{Config, Program, Scheduler};
use tickets::TicketOp;

/// A configuration that means the same whatever the environment says, saving nothing.
pub fn pinned(seed: u64) -> Config {
    Config::default()
        .ignore_env()
        .seed(seed)
        .persist(false)
        .name("concurrent")
}

/// The schedulers a test that runs in both builds asserts under: real threads in the normal
/// build; under the `shuttle` feature, where systems written against `stateprop::sync` run only
/// under a controlled scheduler, both of those.
pub fn modes() -> &'static [Scheduler] {
    if stateprop::sync::CONTROLLED {
        &[Scheduler::Pct, Scheduler::Random]
    } else {
        &[Scheduler::Threads]
    }
}

/// The dispenser race at its smallest: no prefix, one take on each of two branches.
pub fn two_takes() -> Program<TicketOp> {
    Program::parallel(vec![], vec![vec![TicketOp::Take], vec![TicketOp::Take]])
}

/// A unique scratch directory under the target directory.
pub fn scratch(name: &str) -> std::path::PathBuf {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("concurrent-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
