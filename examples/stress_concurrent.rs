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

/// The operations per run and the thread counts the arguments ask for, or the `stateprop:`
/// lines refusing one (a word that is neither was silently skipped before).
pub fn parse_args(args: impl IntoIterator<Item = String>) -> Result<(u64, Vec<u32>), String> {
    let usage = "stateprop: usage: stress_concurrent [ops=N] [THREADS ...]";
    let mut ops = 2_000_000;
    let mut counts: Vec<u32> = Vec::new();
    for arg in args {
        let parsed = match arg.strip_prefix("ops=") {
            Some(n) => n.parse().map(|n| ops = n).ok(),
            None => arg.parse().map(|t| counts.push(t)).ok(),
        };
        if parsed.is_none() {
            return Err(format!(
                "stateprop: `{arg}` is neither ops=N nor a number of threads\n{usage}"
            ));
        }
    }
    if counts.is_empty() {
        counts = vec![1, 2, 4];
    }
    Ok((ops, counts))
}

fn main() -> std::process::ExitCode {
    use std::process::ExitCode;
    let (ops, counts) = match parse_args(std::env::args().skip(1)) {
        Ok(parsed) => parsed,
        Err(message) => {
            eprintln!("{message}");
            return ExitCode::from(2);
        }
    };
    for threads in counts {
        let plan = StressPlan::operations(ops)
            .threads(threads)
            .round(64)
            .warmup(200_000)
            .seed(1);
        let result = match Stress::<Counter, AtomicCounter>::new(plan)
            .quiet()
            .run_concurrent(AtomicCounter::default)
        {
            Ok(result) => result,
            Err(e) => {
                eprintln!("{e}");
                return ExitCode::from(2);
            }
        };
        println!(
            "stateprop: {threads} thread(s): {} operations in {:.2} s, {:.0} ops/s, {}, at most \
             {} operations held, RSS slope {}",
            result.operations,
            result.elapsed_secs,
            result.throughput,
            result.verdict,
            result.max_history_ops.unwrap_or(0),
            (result.growth.bytes_per_million)
                .map_or("not measured (too few samples)".into(), |b| {
                    format!("{b:.0} bytes per million operations")
                })
        );
        if !result.passed() {
            eprint!("{}", result.text());
            return ExitCode::from(1);
        }
    }
    ExitCode::SUCCESS
}
