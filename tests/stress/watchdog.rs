//! The stress watchdog: a system call that never returns ends the run with a report naming the
//! operation, instead of hanging the test; a call that panics is reported at its operation.

use stateprop::models::{Counter, CounterOp, CounterOut};
use stateprop::stress::{Stress, StressPlan, StressVerdict};
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::Duration;

/// What a counter does on its `n`th call (from 0), if anything odd.
#[derive(Clone, Copy)]
enum Trap {
    None,
    /// Blocks forever on this call.
    Hang(u64),
    /// Panics on this call.
    Panic(u64),
}

/// A correct counter, but for its trap.
struct Trapped {
    value: AtomicI64,
    calls: AtomicU64,
    trap: Trap,
}

impl Trapped {
    fn new(trap: Trap) -> Self {
        Trapped {
            value: AtomicI64::new(0),
            calls: AtomicU64::new(0),
            trap,
        }
    }

    fn apply(&self, op: &CounterOp) -> CounterOut {
        let n = self.calls.fetch_add(1, Ordering::SeqCst);
        match self.trap {
            Trap::Hang(at) if n == at => loop {
                std::thread::park();
            },
            Trap::Panic(at) if n == at => panic!("trapped at call {n}"),
            _ => {}
        }
        match *op {
            CounterOp::Add { by } => {
                self.value.fetch_add(by, Ordering::SeqCst);
                CounterOut::Done
            }
            CounterOp::Read => CounterOut::Value(self.value.load(Ordering::SeqCst)),
        }
    }
}

impl stateprop::System<Counter> for Trapped {
    fn apply(&mut self, op: &CounterOp) -> CounterOut {
        Trapped::apply(self, op)
    }
}

fn sequential(trap: Trap) -> stateprop::stress::StressResult {
    let plan = StressPlan::operations(5_000)
        .seed(11)
        .window(4)
        .step_timeout(Duration::from_millis(200));
    Stress::<Counter, Trapped>::new(plan)
        .ignore_env()
        .quiet()
        .run(move || Trapped::new(trap))
        .unwrap()
}

#[test]
fn a_sequential_call_that_never_returns_is_reported_as_a_hang_at_its_operation() {
    let result = sequential(Trap::Hang(999));
    assert_eq!(result.verdict, StressVerdict::Mismatch, "{}", result.text());
    assert_eq!(result.operations, 999);
    let failure = result.failure.as_ref().unwrap();
    assert_eq!(failure.operation, 999);
    assert!(failure.cause.contains("hang"), "{}", failure.cause);
    assert!(failure.cause.contains("200 ms"), "{}", failure.cause);
    // The four operations before it, then it.
    assert_eq!(failure.window.len(), 5, "{:?}", failure.window);
    assert!(
        failure.window[0].starts_with("995: CounterOp::"),
        "{:?}",
        failure.window
    );
    assert!(
        failure.window[4].starts_with("999: CounterOp::")
            && failure.window[4].ends_with("<- did not return"),
        "{:?}",
        failure.window
    );
    let text = result.text();
    assert!(text.contains("<- did not return"), "{text}");
    // Not replayed (it would hang again), so not called nondeterministic either.
    assert!(!text.contains("did not replay"), "{text}");
    assert!(result.elapsed_secs >= 0.2, "{}", result.elapsed_secs);
}

#[test]
fn a_sequential_call_that_panics_is_reported_at_its_operation_with_the_message() {
    let result = sequential(Trap::Panic(500));
    assert_eq!(result.verdict, StressVerdict::Mismatch, "{}", result.text());
    let failure = result.failure.as_ref().unwrap();
    assert_eq!(failure.operation, 500);
    assert!(
        failure.cause.contains("trapped at call 500"),
        "{}",
        failure.cause
    );
    assert!(failure
        .window
        .last()
        .unwrap()
        .starts_with("500: CounterOp::"));
}

#[test]
fn a_correct_sequential_run_is_unaffected_by_a_short_step_timeout() {
    let result = sequential(Trap::None);
    assert!(result.passed(), "{}", result.text());
    assert_eq!(result.operations, 5_000);
}

impl stateprop::ConcurrentSystem<Counter> for Trapped {
    fn apply(&self, op: &CounterOp) -> CounterOut {
        Trapped::apply(self, op)
    }
}

fn concurrent(trap: Trap) -> stateprop::stress::StressResult {
    let plan = StressPlan::operations(5_000)
        .seed(12)
        .threads(4)
        .round(64)
        .step_timeout(Duration::from_millis(200));
    Stress::<Counter, Trapped>::new(plan)
        .ignore_env()
        .quiet()
        .run_concurrent(move || Trapped::new(trap))
        .unwrap()
}

/// The system counts calls as they enter it, the run numbers them by their invocation on its
/// logical clock, taken just before: each of the 4 threads may have one call between the two,
/// so the numbers agree within 3.
fn near(at: u64, call: u64) -> bool {
    at.abs_diff(call) <= 3
}

#[test]
fn a_concurrent_call_that_never_returns_is_reported_as_a_hang_naming_its_thread() {
    let result = concurrent(Trap::Hang(999));
    assert_eq!(result.verdict, StressVerdict::Mismatch, "{}", result.text());
    let failure = result.failure.as_ref().unwrap();
    assert!(near(failure.operation, 999), "{}", result.text());
    assert!(failure.cause.contains("hang"), "{}", failure.cause);
    assert!(failure.cause.contains("200 ms"), "{}", failure.cause);
    let t = failure.thread.expect("the hung thread is named");
    assert!(
        failure.cause.contains(&format!("on thread {t}")),
        "{}",
        failure.cause
    );
    // The round's operations so far, the hung call among them with no return.
    let pending = format!("t{t} [");
    assert!(
        failure
            .window
            .iter()
            .any(|l| l.starts_with(&pending) && l.contains(", -]")),
        "{:?}",
        failure.window
    );
    assert_eq!(failure.round, Some(failure.operation / 256));
}

#[test]
fn a_concurrent_call_that_panics_is_reported_at_its_operation_with_the_message() {
    let result = concurrent(Trap::Panic(500));
    assert_eq!(result.verdict, StressVerdict::Mismatch, "{}", result.text());
    let failure = result.failure.as_ref().unwrap();
    assert!(near(failure.operation, 500), "{}", result.text());
    assert!(
        failure.cause.contains("trapped at call 500"),
        "{}",
        failure.cause
    );
    let t = failure.thread.expect("the panicking thread is named");
    assert!(
        failure.cause.contains(&format!("thread {t}")),
        "{}",
        failure.cause
    );
}

#[test]
fn a_correct_concurrent_run_is_unaffected_by_a_short_step_timeout() {
    let result = concurrent(Trap::None);
    assert!(result.passed(), "{}", result.text());
    assert_eq!(result.operations, 5_000);
}

#[test]
fn a_plan_file_sets_the_step_timeout_and_zero_is_refused_by_name() {
    let dir = std::env::temp_dir();
    let path = dir.join(format!("stateprop-wd-{}-ok.json", std::process::id()));
    std::fs::write(&path, r#"{ "operations": 10, "step_timeout_ms": 250 }"#).unwrap();
    let plan = StressPlan::from_file(&path).unwrap();
    let _ = std::fs::remove_file(&path);
    assert_eq!(plan.step_timeout_ms, 250);
    assert_eq!(StressPlan::operations(10).step_timeout_ms, 60_000);
    let zero = StressPlan::operations(10).step_timeout(Duration::ZERO);
    let err = Stress::<Counter, Trapped>::new(zero)
        .ignore_env()
        .quiet()
        .run(|| Trapped::new(Trap::None))
        .unwrap_err();
    assert!(err.to_string().contains("step_timeout_ms"), "{err}");
}
