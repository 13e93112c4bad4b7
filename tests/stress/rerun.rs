//! What a failing stress run says about rerunning it: a sequential run replays from its seed, a
//! concurrent one does not (the seed fixes each thread's operations, not their interleaving).

use stateprop::models::{Counter, CounterOp, CounterOut};
use stateprop::stress::{Stress, StressPlan, StressVerdict};
use stateprop::ConcurrentSystem;
use std::sync::atomic::{AtomicI64, Ordering};

/// A counter whose `Add` loads, yields, then stores: two adds at once lose one.
#[derive(Default)]
struct LossyCounter(AtomicI64);

impl ConcurrentSystem<Counter> for LossyCounter {
    fn apply(&self, op: &CounterOp) -> CounterOut {
        match *op {
            CounterOp::Add { by } => {
                let v = self.0.load(Ordering::SeqCst);
                std::thread::yield_now();
                self.0.store(v + by, Ordering::SeqCst);
                CounterOut::Done
            }
            CounterOp::Read => CounterOut::Value(self.0.load(Ordering::SeqCst)),
        }
    }
}

#[test]
fn a_concurrent_failure_says_the_seed_does_not_fix_the_interleaving() {
    let plan = StressPlan::operations(400_000).threads(4).round(32).seed(5);
    let result = Stress::<Counter, LossyCounter>::new(plan)
        .ignore_env()
        .quiet()
        .run_concurrent(LossyCounter::default)
        .unwrap();
    assert_eq!(result.verdict, StressVerdict::Mismatch, "{}", result.text());
    let text = result.text();
    assert!(
        text.contains(
            "STATEPROP_SEED=5 gives each thread the same operations but not the same interleaving (rounds"
        ),
        "{text}"
    );
    // The shrunk report of the round (when its race recurs on rerun) must not claim a replay.
    assert!(
        !text.contains("found by a stress run at operation"),
        "{text}"
    );
    if text.contains("shrunk by the concurrent runner") {
        assert!(
            text.contains("found by a concurrent stress run (4 threads)"),
            "{text}"
        );
    }
}
