//! A correct store for 10 million operations: every step checked against the model, memory flat
//! after warm-up, latency per operation kind. The default test suite runs a short version
//! (`tests/stress/growth.rs`); this is the full size.
//!
//! Run it with `cargo run --release --example stress_clean` (`-- 1000000` for another length).

#[path = "stress_support/stores.rs"]
#[allow(dead_code)]
mod stores;

use stateprop::stress::{Stress, StressPlan};
use stores::{CleanStore, Store};

fn main() {
    let ops = std::env::args()
        .nth(1)
        .map(|a| a.parse().expect("a number of operations"))
        .unwrap_or(10_000_000);
    let plan = StressPlan::operations(ops)
        .seed(1)
        .warmup(ops / 10)
        .sample_every((ops / 200).max(1))
        .param("keys", 10_000)
        // Memory in use by a store of at most 10,000 entries does not grow with time.
        .max_growth_per_million(256.0 * 1024.0);
    let keys = plan.param_or("keys", 0) as u32;
    let result = Stress::<Store, CleanStore>::with_initial(plan, Store::with_keys(keys))
        .run(CleanStore::default)
        .unwrap_or_else(|e| panic!("{e}"));
    if !result.passed() {
        std::process::exit(1);
    }
}
