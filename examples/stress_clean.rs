//! A correct store for 10 million operations: every step checked against the model, memory flat
//! after warm-up, latency per operation kind. The default test suite runs a short version
//! (`tests/stress/growth.rs`); this is the full size.
//!
//! Run it with `cargo run --release --example stress_clean` (`-- 2000000` for another length,
//! at least [`MIN_OPERATIONS`]). Exit status: 0 passed, 1 failed, 2 a bad argument.

#[path = "stress_support/stores.rs"]
#[allow(dead_code)]
pub mod stores;

use stateprop::stress::{Stress, StressPlan};
use std::process::ExitCode;
use stores::{CleanStore, Store};

/// The store's key space.
const KEYS: u32 = 10_000;

/// Operations before growth is measured, at least: 30 key spaces. With 5 puts and 2 deletes in
/// 10 operations the store settles near 5/7 of its keys, within 1/e of that every ~1.4 key
/// spaces, and its map takes its last resize on the way; a shorter warm-up measures the filling
/// as growth and blames the store for state it does not accumulate.
const WARMUP: u64 = 30 * KEYS as u64;

/// The shortest run that measures growth honestly: RSS moves by whole pages and allocator
/// chunks, tens of KiB at a time, so fewer operations after warm-up turn one such step into
/// a growth past the limit of 256 KiB per million.
pub const MIN_OPERATIONS: u64 = 1_000_000;

/// The plan for the command line's argument (`None`: 10 million operations), or the
/// `stateprop:` lines refusing it.
pub fn clean_plan(arg: Option<&str>) -> Result<StressPlan, String> {
    let usage = "stateprop: usage: stress_clean [OPERATIONS]";
    let ops = match arg {
        None => 10_000_000,
        Some(a) => {
            let digits: String = a.trim().chars().filter(|&c| c != '_').collect();
            let ops = digits.parse::<u64>().map_err(|_| {
                format!("stateprop: `{a}` is not a whole number of operations\n{usage}")
            })?;
            if ops < MIN_OPERATIONS {
                return Err(format!(
                    "stateprop: {ops} operations are too few to measure memory growth: give \
                     at least {MIN_OPERATIONS}\n{usage}"
                ));
            }
            ops
        }
    };
    Ok(StressPlan::operations(ops)
        .seed(1)
        .warmup(WARMUP.max(ops / 10))
        .sample_every((ops / 200).max(1))
        .param("keys", i64::from(KEYS))
        // Memory in use by a store of at most 10,000 entries does not grow with time.
        .max_growth_per_million(256.0 * 1024.0))
}

fn main() -> ExitCode {
    let arg = std::env::args().nth(1);
    let plan = match clean_plan(arg.as_deref()) {
        Ok(plan) => plan,
        Err(message) => {
            eprintln!("{message}");
            return ExitCode::from(2);
        }
    };
    match Stress::<Store, CleanStore>::with_initial(plan, Store::with_keys(KEYS))
        .run(CleanStore::default)
    {
        Ok(result) if result.passed() => ExitCode::SUCCESS,
        Ok(_) => ExitCode::from(1),
        Err(e) => {
            eprintln!("{e}");
            ExitCode::from(2)
        }
    }
}
