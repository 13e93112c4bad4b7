//! A concurrent stress run: an atomic counter called from 1, 2 and 4 threads (or the counts
//! given on the command line), every round's history judged for linearizability at the barrier
//! that ends it. Prints each run's throughput and the most operations the harness held.
//!
//! `cargo run --release --example stress_concurrent -- 1 2 4` (`ops=N` among the arguments sets
//! the operations per run, 2,000,000 by default).

use stateprop::models::{Counter, CounterOp, CounterOut};
use stateprop::stress::{Stress, StressPlan};
use stateprop::ConcurrentSystem;
use std::sync::atomic::{AtomicI64, Ordering};

#[derive(Default)]
struct AtomicCounter(AtomicI64);

impl ConcurrentSystem<Counter> for AtomicCounter {
    fn apply(&self, op: &CounterOp) -> CounterOut {
        match *op {
            CounterOp::Add { by } => {
                self.0.fetch_add(by, Ordering::SeqCst);
                CounterOut::Done
            }
            CounterOp::Read => CounterOut::Value(self.0.load(Ordering::SeqCst)),
        }
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let ops = (args.iter())
        .find_map(|a| a.strip_prefix("ops=")?.parse().ok())
        .unwrap_or(2_000_000);
    let mut counts: Vec<u32> = args.iter().filter_map(|a| a.parse().ok()).collect();
    if counts.is_empty() {
        counts = vec![1, 2, 4];
    }
    for threads in counts {
        let plan = StressPlan::operations(ops)
            .threads(threads)
            .round(64)
            .warmup(200_000)
            .seed(1);
        let result = Stress::<Counter, AtomicCounter>::new(plan)
            .quiet()
            .run_concurrent(AtomicCounter::default)
            .expect("a valid plan");
        println!(
            "stateprop: {threads} thread(s): {} operations in {:.2} s, {:.0} ops/s, {}, at most \
             {} operations held, RSS slope {:.0} bytes per million operations",
            result.operations,
            result.elapsed_secs,
            result.throughput,
            result.verdict,
            result.max_history_ops.unwrap_or(0),
            result.growth.bytes_per_million.unwrap_or(f64::NAN)
        );
        assert!(result.passed(), "{}", result.text());
    }
}
