//! A store that keeps a tombstone per delete: correct at every step, so 50-step cases pass, but
//! its memory grows for as long as it runs. A stress run at production size finds it through the
//! plan's memory-growth limit.
//!
//! Run it with `cargo run --release --example stress_tombstones` (a few seconds; the plan is
//! `examples/stress_tombstones.plan.json`, and its `params.keys` sets the key space). The fix is
//! on the marked line of `stress_support/stores.rs`.

#[path = "stress_support/stores.rs"]
#[allow(dead_code)]
mod stores;

use stateprop::stress::{Stress, StressPlan, StressVerdict};
use stateprop::{Config, Runner};
use stores::{Store, TombstoneStore};

fn main() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/examples/stress_tombstones.plan.json"
    );
    let plan = match StressPlan::from_file(path) {
        Ok(plan) => plan,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(2);
        }
    };
    let keys = match plan.param_in("keys", 1000, 1..=i64::from(u32::MAX)) {
        Ok(keys) => keys as u32,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(2);
        }
    };

    // The usual check: short programs, every answer right. Nothing to find here.
    let config = Config::default().steps(1..50).cases(500).persist(false);
    let cases =
        Runner::<Store>::with_initial(config, Store::with_keys(keys)).run(TombstoneStore::default);
    eprintln!(
        "stateprop: 500 cases of up to 50 steps: {}",
        if cases.failed() { "failed" } else { "passed" }
    );

    // The stress run: the process's RSS, sampled every 50,000 operations after warm-up.
    let result = match Stress::<Store, TombstoneStore>::with_initial(plan, Store::with_keys(keys))
        .run(TombstoneStore::default)
    {
        Ok(result) => result,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(2);
        }
    };
    if result.verdict != StressVerdict::LimitBroken {
        eprintln!("stateprop: the growth limit held; this example expects it broken");
        std::process::exit(1);
    }
}
