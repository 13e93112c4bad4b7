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

/// A sequential run that ends as a hang keeps what it measured before the stuck call: latency,
/// throughput and memory samples, in a result a later `compare` reads.
#[test]
fn a_hang_keeps_the_figures_measured_before_it() {
    let path = std::env::temp_dir().join(format!(
        "stateprop-stress-hang-figures-{}.json",
        std::process::id()
    ));
    let plan = StressPlan::operations(400_000)
        .seed(11)
        .latency_every(1)
        .step_timeout(Duration::from_millis(200))
        .result_path(&path);
    let result = Stress::<Counter, Trapped>::new(plan)
        .ignore_env()
        .quiet()
        .gauge(|t: &Trapped| 1_000 + t.calls.load(Ordering::SeqCst))
        .run(|| Trapped::new(Trap::Hang(200_000)))
        .unwrap();
    let text = result.text();
    assert_eq!(result.operations, 200_000, "{text}");
    assert!(
        result.failure.as_ref().unwrap().cause.contains("hang"),
        "{text}"
    );
    let overall = result
        .overall
        .as_ref()
        .expect("latency measured before the hang");
    // Every call timed, published at least at operations 65,536, 131,072 and 196,608.
    assert!(
        (196_608..=200_000).contains(&overall.count),
        "{}: {text}",
        overall.count
    );
    assert!(!result.latencies.is_empty(), "{text}");
    assert!(
        result.throughput.is_finite() && result.throughput > 0.0,
        "{text}"
    );
    assert!(result.growth.samples >= 2, "{text}");
    assert!(result.growth.bytes_per_million.is_some(), "{text}");
    // What it wrote reads back (a compare would accept it) and says the same.
    let back = stateprop::stress::StressResult::read(&path).unwrap();
    let _ = std::fs::remove_file(&path);
    assert_eq!(back.overall, result.overall);
}

/// A counter whose teardown never returns.
struct StuckTeardown(Trapped);

impl stateprop::System<Counter> for StuckTeardown {
    fn apply(&mut self, op: &CounterOp) -> CounterOut {
        self.0.apply(op)
    }

    fn teardown(&mut self) {
        loop {
            std::thread::park();
        }
    }
}

fn short_plan() -> StressPlan {
    StressPlan::operations(5_000)
        .seed(11)
        .sample_every(1_000)
        .step_timeout(Duration::from_millis(200))
}

/// The factory, the gauge and the teardown are the system's code too: one that never returns
/// ends the run with a hang naming it, and the harness returns.
#[test]
fn a_factory_gauge_or_teardown_that_never_returns_is_reported_as_a_hang() {
    let factory = Stress::<Counter, Trapped>::new(short_plan())
        .ignore_env()
        .quiet()
        .run(|| -> Trapped {
            loop {
                std::thread::park();
            }
        })
        .unwrap();
    let text = factory.text();
    assert_eq!(factory.verdict, StressVerdict::Mismatch, "{text}");
    assert_eq!(factory.operations, 0, "{text}");
    assert!(
        text.contains("hang: the factory did not return within 200 ms"),
        "{text}"
    );
    assert!(!text.contains("did not replay"), "{text}");

    let gauge = Stress::<Counter, Trapped>::new(short_plan())
        .ignore_env()
        .quiet()
        .gauge(|t: &Trapped| {
            while t.calls.load(Ordering::SeqCst) >= 3_000 {
                std::thread::park();
            }
            0
        })
        .run(|| Trapped::new(Trap::None))
        .unwrap();
    let text = gauge.text();
    assert_eq!(gauge.operations, 3_000, "{text}");
    assert!(
        text.contains(
            "hang: the memory gauge did not return within 200 ms (`step_timeout_ms`), after \
             operation 2999"
        ),
        "{text}"
    );

    let teardown = Stress::<Counter, StuckTeardown>::new(short_plan())
        .ignore_env()
        .quiet()
        .run(|| StuckTeardown(Trapped::new(Trap::None)))
        .unwrap();
    let text = teardown.text();
    assert_eq!(teardown.operations, 5_000, "{text}");
    assert_eq!(teardown.failure.as_ref().unwrap().operation, 4_999);
    assert!(
        text.contains("hang: the system's teardown did not return within 200 ms"),
        "{text}"
    );
}

/// A memory gauge that panics fails the run as the user's code, at the operation after which it
/// was read, with its message: not as a bug of stateprop's.
#[test]
fn a_gauge_that_panics_fails_the_run_with_its_message() {
    let result = Stress::<Counter, Trapped>::new(short_plan())
        .ignore_env()
        .quiet()
        .gauge(|t: &Trapped| {
            let calls = t.calls.load(Ordering::SeqCst);
            assert!(calls < 2_000, "gauge gave up at {calls} calls");
            calls
        })
        .run(|| Trapped::new(Trap::None))
        .unwrap();
    let text = result.text();
    assert_eq!(result.verdict, StressVerdict::Mismatch, "{text}");
    assert_eq!(result.operations, 2_000, "{text}");
    let failure = result.failure.as_ref().unwrap();
    assert_eq!(failure.operation, 1_999);
    assert!(
        failure.cause.starts_with(
            "gauge: the memory gauge panicked after operation 1999: gauge gave up at 2000 calls"
        ),
        "{text}"
    );
    assert!(!text.contains("did not replay"), "{text}");
}
