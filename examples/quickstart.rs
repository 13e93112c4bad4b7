//! Quickstart: stateprop finds the bug in a key-value store with a stale read cache.
//!
//! Run it with `cargo run --example quickstart`. The store (in `support/kv.rs`) forgets to drop
//! its cached entry on delete; stateprop generates programs of puts, gets and deletes, checks every
//! answer against a `BTreeMap` model, finds a failing program, shrinks it to three steps and prints
//! a test to paste. `STATEPROP_SEED=<n>` repeats a run exactly.

#[path = "support/kv.rs"]
mod kv;

use kv::{BuggyStore, Kv, KvOp};
use stateprop::{Config, RunResult, Runner};

fn main() {
    let result = run(config());
    // Wall-clock figures first, so the report is the last thing on the screen.
    println!("{}", result.report.timing_line());
    println!("{}", result.report.text());
    if !result.failed() {
        eprintln!("stateprop: the planted bug was not found; this example expects to find it");
        std::process::exit(1);
    }
}

/// The example's settings: programs of 1 to 49 steps, and no regression file.
pub fn config() -> Config {
    Config::default().steps(1..50).persist(false)
}

/// In a test you would write `stateprop::check_sequential::<Kv, BuggyStore>(config)`, which
/// fails with this report. The example prints it instead. (`tests/docs` runs this function as
/// `main` would, to check the report README.md quotes.)
pub fn run(config: Config) -> RunResult<KvOp> {
    Runner::<Kv>::new(config).run_default::<BuggyStore>()
}
