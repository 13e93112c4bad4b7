//! A sequence counter kept in 16 bits: right for the first 65,536 ids, then it wraps to 0. No
//! case of 50 steps gets there; a stress run does, and reports the operation where it happened,
//! the operations before it, and that no shorter program exists than the 65,537 it took.
//!
//! Run it with `cargo run --release --example stress_wrap`. The fix is on the marked line of
//! `stress_support/stores.rs` (a `u64`).

#[path = "stress_support/stores.rs"]
#[allow(dead_code)]
mod stores;

use stateprop::stress::{Stress, StressPlan};
use stores::{Sequence, U16Sequence};

fn main() {
    let plan = StressPlan::operations(1_000_000).seed(7).window(10);
    let result = match Stress::<Sequence, U16Sequence>::new(plan).run(U16Sequence::default) {
        Ok(result) => result,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(2);
        }
    };
    let Some(failure) = result.failure else {
        eprintln!("stateprop: the wrap was not found; this example expects to find it");
        std::process::exit(1);
    };
    assert!(failure.operation >= 65_536);
}
