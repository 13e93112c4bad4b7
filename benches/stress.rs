//! Stress mode's cost, side by side with loops written by hand over the same system and the same
//! operation stream: the harness's overhead per operation, and its memory from 1 to 10 million
//! operations.
//!
//! Run it with `cargo bench --bench stress` (`-- 2000000` for another length of the timed runs).

#[path = "../examples/stress_support/stores.rs"]
#[allow(dead_code)]
mod stores;

use stateprop::stress::{resident_bytes, GrowthSource, ProgressMode, Stress, StressPlan};
use stateprop::{Model, System};
use std::hint::black_box;
use std::sync::{Arc, Mutex};
use std::time::Instant;
use stores::{CleanStore, Store, StoreOp};

const KEYS: u32 = 10_000;

/// A clean store that also keeps every operation it is given: the stream, to replay by hand.
#[derive(Clone)]
struct Taping {
    store: Arc<Mutex<(CleanStore, Vec<StoreOp>)>>,
}

impl System<Store> for Taping {
    fn apply(&mut self, op: &StoreOp) -> Option<u64> {
        let mut guard = self.store.lock().unwrap();
        guard.1.push(op.clone());
        guard.0.apply(op)
    }
}

/// SplitMix64, for the loop that draws its own operations.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// The raw loop as `benches/throughput.rs` writes it: operations drawn by hand with the
/// derive's weights (Put 5, Get 3, Delete 2) and key range, applied to the model and the
/// system, answers compared. No framework.
fn raw_loop(ops: u64) {
    let mut rng = Rng(42);
    let mut model = Store::with_keys(KEYS);
    let mut sys = CleanStore::default();
    for _ in 0..ops {
        let key = rng.below(u64::from(KEYS)) as u32;
        let op = match rng.below(10) {
            0..=4 => StoreOp::Put {
                key,
                value: rng.next(),
            },
            5..=7 => StoreOp::Get { key },
            _ => StoreOp::Delete { key },
        };
        let expected = model.step(&op);
        let actual = sys.apply(black_box(&op));
        assert_eq!(expected, actual);
    }
}

fn plan(ops: u64) -> StressPlan {
    StressPlan::operations(ops)
        .seed(42)
        .param("keys", i64::from(KEYS))
}

fn main() {
    let ops: u64 = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(1_000_000);

    // The stream, taped once (not timed).
    let tape = Taping {
        store: Arc::new(Mutex::new((CleanStore::default(), Vec::new()))),
    };
    let factory = {
        let tape = tape.clone();
        move || tape.clone()
    };
    Stress::<Store, Taping>::with_initial(plan(ops), Store::with_keys(KEYS))
        .quiet()
        .run(factory)
        .expect("valid plan");
    let stream = std::mem::take(&mut tape.store.lock().unwrap().1);
    assert_eq!(stream.len() as u64, ops);

    let mut best = [f64::MAX; 5];
    for _ in 0..5 {
        // 1. The system alone, over the taped stream.
        let mut sys = CleanStore::default();
        let t = Instant::now();
        for op in &stream {
            black_box(sys.apply(black_box(op)));
        }
        best[0] = best[0].min(t.elapsed().as_secs_f64());

        // 2. By hand: the system and the model, answers compared.
        let mut sys = CleanStore::default();
        let mut model = Store::with_keys(KEYS);
        let t = Instant::now();
        for op in &stream {
            let expected = model.step(op);
            let actual = sys.apply(black_box(op));
            assert_eq!(expected, actual);
        }
        best[1] = best[1].min(t.elapsed().as_secs_f64());

        // 3. The stress harness: generation, both sides, the step judge, latency per call.
        // Progress as a run outside a terminal shows it (lines; no subscriber prints them), so
        // its tick is part of the cost.
        let result = Stress::<Store, CleanStore>::with_initial(
            plan(ops).latency_every(1),
            Store::with_keys(KEYS),
        )
        .quiet()
        .progress(ProgressMode::Lines)
        .run(CleanStore::default)
        .expect("valid plan");
        assert!(result.passed());
        best[2] = best[2].min(result.elapsed_secs);

        // 4. The same, timing one call in 16 (the default).
        let result = Stress::<Store, CleanStore>::with_initial(plan(ops), Store::with_keys(KEYS))
            .quiet()
            .progress(ProgressMode::Lines)
            .run(CleanStore::default)
            .expect("valid plan");
        assert!(result.passed());
        best[3] = best[3].min(result.elapsed_secs);

        // 5. The raw loop: its own draws, the model, the system.
        let t = Instant::now();
        raw_loop(ops);
        best[4] = best[4].min(t.elapsed().as_secs_f64());
    }
    let ns = |s: f64| s * 1e9 / ops as f64;
    println!("stateprop: stress overhead, {ops} operations of a HashMap store (best of 5)");
    println!(
        "stateprop:   taped stream, system only        {:>7.1} ns/op",
        ns(best[0])
    );
    println!(
        "stateprop:   taped stream, system + model     {:>7.1} ns/op",
        ns(best[1])
    );
    println!(
        "stateprop:   raw loop, draws + model + system {:>7.1} ns/op",
        ns(best[4])
    );
    for (name, t) in [
        ("every call timed", best[2]),
        ("1 call in 16 timed", best[3]),
    ] {
        println!(
            "stateprop:   stress, {name:<19}      {:>7.1} ns/op   ({:.2}x the raw loop, \
             {:.2}x taped system + model, {:.2}x system only)",
            ns(t),
            t / best[4],
            t / best[1],
            t / best[0]
        );
    }

    // Harness memory: RSS after 1 M and after 10 M operations of one run (a store whose size is
    // bounded by its key space, so what grows would be the harness's).
    let long = 10_000_000;
    let result = Stress::<Store, CleanStore>::with_initial(
        plan(long).warmup(1_000_000).sample_every(1_000_000),
        Store::with_keys(KEYS),
    )
    .quiet()
    .run(CleanStore::default)
    .expect("valid plan");
    match (result.growth.first_bytes, result.growth.last_bytes) {
        (Some(first), Some(last)) if result.growth.source == GrowthSource::Rss => println!(
            "stateprop:   RSS at 1 M operations {:.1} MiB, at 10 M {:.1} MiB ({:+.2}%)",
            first as f64 / 1048576.0,
            last as f64 / 1048576.0,
            (last as f64 / first as f64 - 1.0) * 100.0
        ),
        _ => println!("stateprop:   RSS unavailable on this platform"),
    }
    let _ = resident_bytes();
}
