//! What `stress::Progress::tick` costs per call, beside the same loop without it.
//!
//! `cargo bench --bench progress` prints nanoseconds per operation for a raw loop (a cheap
//! stand-in for one operation: a few arithmetic steps on a running state), and for the same
//! loop calling `tick` after every operation in each mode. Nothing is asserted: the figures are
//! the result (docs/stress.md quotes them). Standard error is not a terminal under `cargo
//! bench | tee`, so the bar mode measures the bar's bookkeeping without its drawing.

use stateprop::stress::{Progress, ProgressMode};
use std::hint::black_box;
use std::time::{Duration, Instant};

const OPS: u64 = 200_000_000;
const ROUNDS: usize = 5;

/// The stand-in operation: a xorshift step, so the compiler cannot fold the loop away.
#[inline(always)]
fn operation(state: u64) -> u64 {
    let mut x = state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    x
}

fn raw() -> Duration {
    let start = Instant::now();
    let mut state = black_box(0x9e37_79b9_7f4a_7c15u64);
    for _ in 0..OPS {
        state = operation(state);
    }
    black_box(state);
    start.elapsed()
}

fn with_progress(mode: ProgressMode) -> Duration {
    let start = Instant::now();
    let mut progress =
        Progress::new(Some(OPS), None, mode).line_interval(Duration::from_secs(3600));
    let mut state = black_box(0x9e37_79b9_7f4a_7c15u64);
    for done in 1..=OPS {
        state = operation(state);
        progress.tick(done);
    }
    progress.finish();
    black_box(state);
    start.elapsed()
}

fn main() {
    println!("stateprop: progress bench: {OPS} operations, best of {ROUNDS} rounds");
    let modes = [
        ("quiet", ProgressMode::Quiet),
        ("lines", ProgressMode::Lines),
        ("bar", ProgressMode::Bar),
    ];
    // The best round of each, the variants taking turns within a round: the machine is shared,
    // and taking turns spreads a busy spell over all of them instead of one.
    let mut best = [Duration::MAX; 4];
    for _ in 0..ROUNDS {
        best[0] = best[0].min(raw());
        for (i, (_, mode)) in modes.iter().enumerate() {
            best[i + 1] = best[i + 1].min(with_progress(*mode));
        }
    }
    let per_op = |d: Duration| d.as_nanos() as f64 / OPS as f64;
    let base = per_op(best[0]);
    println!("stateprop: raw loop            {base:6.3} ns/op");
    for (i, (name, _)) in modes.iter().enumerate() {
        let t = per_op(best[i + 1]);
        println!(
            "stateprop: tick, {name:<6}        {t:6.3} ns/op  ({:+.3} ns per tick)",
            t - base
        );
    }
}
