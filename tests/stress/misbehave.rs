//! Systems that misbehave outside their calls, or only on a second build, must still leave the
//! harness with a report that says what happened, never stuck and never mislabelled.

use stateprop::models::{Counter, CounterOp, CounterOut};
use stateprop::stress::{Stress, StressPlan, StressVerdict};
use stateprop::ConcurrentSystem;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::Duration;

fn block_forever() -> ! {
    loop {
        std::thread::park();
    }
}

fn plan(operations: u64) -> StressPlan {
    StressPlan::operations(operations)
        .seed(17)
        .window(4)
        .step_timeout(Duration::from_millis(200))
}

/// A correct counter whose invariant blocks once it has taken `at` calls.
struct StuckInvariant {
    value: AtomicI64,
    calls: AtomicU64,
    at: u64,
}

impl StuckInvariant {
    fn new(at: u64) -> Self {
        StuckInvariant {
            value: AtomicI64::new(0),
            calls: AtomicU64::new(0),
            at,
        }
    }

    fn apply(&self, op: &CounterOp) -> CounterOut {
        self.calls.fetch_add(1, Ordering::SeqCst);
        match *op {
            CounterOp::Add { by } => {
                self.value.fetch_add(by, Ordering::SeqCst);
                CounterOut::Done
            }
            CounterOp::Read => CounterOut::Value(self.value.load(Ordering::SeqCst)),
        }
    }

    fn check(&self) -> Result<(), String> {
        if self.calls.load(Ordering::SeqCst) >= self.at {
            block_forever();
        }
        Ok(())
    }
}

impl stateprop::System<Counter> for StuckInvariant {
    fn apply(&mut self, op: &CounterOp) -> CounterOut {
        StuckInvariant::apply(self, op)
    }
    fn invariant(&self, _: &Counter) -> Result<(), String> {
        self.check()
    }
}

impl ConcurrentSystem<Counter> for StuckInvariant {
    fn apply(&self, op: &CounterOp) -> CounterOut {
        StuckInvariant::apply(self, op)
    }
    fn invariant(&self, _: &Counter) -> Result<(), String> {
        self.check()
    }
}

#[test]
fn a_sequential_invariant_that_never_returns_is_reported_as_a_hang_after_its_operation() {
    let result = Stress::<Counter, StuckInvariant>::new(plan(5_000))
        .ignore_env()
        .quiet()
        .run(|| StuckInvariant::new(300))
        .unwrap();
    assert_eq!(result.verdict, StressVerdict::Mismatch, "{}", result.text());
    let f = result.failure.as_ref().unwrap();
    // The 300th call is operation 299; its invariant is the one that blocks.
    assert_eq!(f.operation, 299, "{}", result.text());
    assert!(
        f.cause
            .starts_with("hang: the invariant did not return within 200 ms"),
        "{}",
        f.cause
    );
    assert!(
        f.window.last().unwrap().contains("invariant"),
        "{:?}",
        f.window
    );
}

#[test]
fn a_concurrent_invariant_that_never_returns_is_reported_as_a_hang_at_its_barrier() {
    let result = Stress::<Counter, StuckInvariant>::new(plan(20_000).threads(2))
        .ignore_env()
        .quiet()
        .run_concurrent(|| StuckInvariant::new(1_000))
        .unwrap();
    assert_eq!(result.verdict, StressVerdict::Mismatch, "{}", result.text());
    let f = result.failure.as_ref().unwrap();
    assert!(
        f.cause
            .starts_with("hang: the invariant did not return within 200 ms"),
        "{}",
        f.cause
    );
    assert!(f.round.is_some(), "{}", result.text());
    assert!(result.operations < 20_000, "{}", result.text());
}

/// A counter whose `Add` loads, then stores: two adds at once lose one.
#[derive(Default)]
struct RacyCounter(AtomicI64);

impl ConcurrentSystem<Counter> for RacyCounter {
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
fn a_concurrent_failures_pasteable_test_is_named_after_the_callers_file() {
    // A test's thread names the pasted test; a program's `main` thread does not, and the
    // caller's file does. Run as a program would.
    let result = std::thread::Builder::new()
        .name("main".into())
        .spawn(|| {
            Stress::<Counter, RacyCounter>::new(StressPlan::default().seed(5).threads(4))
                .ignore_env()
                .quiet()
                .run_concurrent(RacyCounter::default)
                .unwrap()
        })
        .unwrap()
        .join()
        .unwrap();
    assert_eq!(result.verdict, StressVerdict::Mismatch, "{}", result.text());
    let report = result.failure.as_ref().unwrap().report.clone().unwrap();
    assert!(report.contains("fn regression_misbehave_"), "{report}");
    assert!(!report.contains("regression_fresh"), "{report}");
}
