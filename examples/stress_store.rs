//! One plan, two sizes: the run is one function of a checked-in plan file. This example's
//! `main` runs it at the plan's full size (and takes overrides on the command line); the test
//! `tests/stress/store_plan.rs` runs the same function on the same file, shortened.
//!
//! ```text
//! cargo run --release --example stress_store -- examples/stress_store.plan.toml
//! cargo run --release --example stress_store -- examples/stress_store.plan.toml --operations 10000000
//! cargo run --release --example stress_store -- --help
//! ```
//!
//! Exit status: 0 passed, 1 failed (a mismatch, a broken limit), 2 bad arguments or plan.

#[path = "stress_support/stores.rs"]
#[allow(dead_code)]
mod stores;

use stateprop::stress::{PlanError, Stress, StressPlan, StressResult};
use stores::{CleanStore, Store};

/// The run `plan` describes: its `params.keys` sets the model's key space, and memory is the
/// store's own gauge (the bytes its entries take), deterministic at any size, so the short
/// form in a test checks the same growth limit the full run does. Without `.gauge(..)` the
/// run measures the process's RSS instead.
pub fn store_run(plan: StressPlan) -> Result<StressResult, PlanError> {
    // Refused by name, on the plan file's line, like the plan's own values.
    let keys = plan.param_in("keys", 10_000, 1..=i64::from(u32::MAX))? as u32;
    Stress::<Store, CleanStore>::with_initial(plan, Store::with_keys(keys))
        .gauge(CleanStore::gauge)
        .run(CleanStore::default)
}

fn main() -> std::process::ExitCode {
    stateprop::stress::main(store_run)
}
