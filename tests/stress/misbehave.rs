//! Systems that misbehave outside their calls, or only on a second build, must still leave the
//! harness with a report that says what happened, never stuck and never mislabelled.

use stateprop::models::{Counter, CounterOp, CounterOut};
use stateprop::stress::{Stress, StressPlan, StressVerdict};
use stateprop::ConcurrentSystem;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::Arc;
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
    assert!(
        f.cause.contains("at the barrier after round "),
        "{}",
        f.cause
    );
    assert!(result.operations < 20_000, "{}", result.text());
}

use crate::counters::RacyCounter;

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

/// A counter whose builds before build `hang_from` answer every `Read` from call `at` on
/// wrongly, and whose later builds block from call `at` on: a system that fails in the run and
/// hangs in a replay.
#[derive(Clone)]
struct WrongThenHang {
    built: Arc<AtomicU64>,
    at: u64,
    hang_from: u64,
}

struct Flaky {
    value: i64,
    calls: u64,
    build: u64,
    spec: WrongThenHang,
}

impl WrongThenHang {
    fn build(&self) -> Flaky {
        Flaky {
            value: 0,
            calls: 0,
            build: self.built.fetch_add(1, Ordering::SeqCst) + 1,
            spec: self.clone(),
        }
    }
}

impl Flaky {
    fn apply(&mut self, op: &CounterOp) -> CounterOut {
        self.calls += 1;
        let late = self.calls >= self.spec.at;
        if late && self.build >= self.spec.hang_from {
            block_forever();
        }
        match *op {
            CounterOp::Add { by } => {
                self.value += by;
                CounterOut::Done
            }
            CounterOp::Read if late && self.build < self.spec.hang_from => {
                CounterOut::Value(self.value + 1)
            }
            CounterOp::Read => CounterOut::Value(self.value),
        }
    }
}

impl stateprop::System<Counter> for Flaky {
    fn apply(&mut self, op: &CounterOp) -> CounterOut {
        Flaky::apply(self, op)
    }
}

fn wrong_then_hang(hang_from: u64) -> stateprop::stress::StressResult {
    let spec = WrongThenHang {
        built: Arc::default(),
        at: 40,
        hang_from,
    };
    Stress::<Counter, Flaky>::new(plan(5_000))
        .ignore_env()
        .quiet()
        .run(move || spec.build())
        .unwrap()
}

#[test]
fn a_system_that_hangs_in_the_prefix_search_keeps_the_mismatch_the_run_found() {
    let result = wrong_then_hang(2);
    assert_eq!(result.verdict, StressVerdict::Mismatch, "{}", result.text());
    let f = result.failure.as_ref().unwrap();
    assert!(f.cause.contains("postcondition failed"), "{}", f.cause);
    assert!(f.operation >= 39, "{}", result.text());
    assert_eq!(f.prefix, None);
    let text = result.text();
    assert!(
        text.contains("a replay of the stream on a fresh system hung") && text.contains("200 ms"),
        "{text}"
    );
    assert!(!text.contains("not deterministic"), "{text}");
}

#[test]
fn a_system_that_hangs_in_the_shrinker_keeps_the_mismatch_the_run_found() {
    // Build 1 is the run; the prefix search's replays (the first two probes settle it for a
    // system that fails where it did) and the prefix's regeneration are builds 2 to 4.
    let result = wrong_then_hang(5);
    assert_eq!(result.verdict, StressVerdict::Mismatch, "{}", result.text());
    let f = result.failure.as_ref().unwrap();
    assert!(f.cause.contains("postcondition failed"), "{}", f.cause);
    assert!(f.prefix.is_some(), "{}", result.text());
    assert!(f.minimal.is_empty(), "{}", result.text());
    let text = result.text();
    assert!(
        text.contains("a replay of the shrinker on a fresh system hung"),
        "{text}"
    );
}

/// A counter that panics in its factory.
struct NeverBuilt;

impl stateprop::System<Counter> for NeverBuilt {
    fn apply(&mut self, _: &CounterOp) -> CounterOut {
        CounterOut::Done
    }
}

impl ConcurrentSystem<Counter> for NeverBuilt {
    fn apply(&self, _: &CounterOp) -> CounterOut {
        CounterOut::Done
    }
}

fn no_build() -> NeverBuilt {
    panic!("factory boom")
}

#[test]
fn a_factory_that_always_panics_is_reported_as_one_not_as_nondeterminism() {
    let sequential = Stress::<Counter, NeverBuilt>::new(plan(1_000))
        .ignore_env()
        .quiet()
        .run(no_build)
        .unwrap();
    let concurrent = Stress::<Counter, NeverBuilt>::new(plan(1_000).threads(2))
        .ignore_env()
        .quiet()
        .run_concurrent(no_build)
        .unwrap();
    for result in [sequential, concurrent] {
        assert_eq!(result.verdict, StressVerdict::Mismatch, "{}", result.text());
        let f = result.failure.as_ref().unwrap();
        assert!(
            f.cause.starts_with("the factory panicked: factory boom"),
            "{}",
            f.cause
        );
        let text = result.text();
        assert!(!text.contains("did not replay"), "{text}");
        assert!(!text.contains("not deterministic"), "{text}");
    }
}

/// A counter whose first build answers every `Read` from call `at` on wrongly, and whose later
/// builds block from call `at` on.
struct SharedFlaky {
    value: AtomicI64,
    calls: AtomicU64,
    build: u64,
    at: u64,
}

impl ConcurrentSystem<Counter> for SharedFlaky {
    fn apply(&self, op: &CounterOp) -> CounterOut {
        let late = self.calls.fetch_add(1, Ordering::SeqCst) >= self.at;
        if late && self.build > 1 {
            block_forever();
        }
        match *op {
            CounterOp::Add { by } => {
                self.value.fetch_add(by, Ordering::SeqCst);
                CounterOut::Done
            }
            CounterOp::Read if late => CounterOut::Value(self.value.load(Ordering::SeqCst) + 1000),
            CounterOp::Read => CounterOut::Value(self.value.load(Ordering::SeqCst)),
        }
    }
}

#[test]
fn a_concurrent_round_whose_retry_hangs_says_the_retry_hung() {
    let built = Arc::new(AtomicU64::new(0));
    let result = Stress::<Counter, SharedFlaky>::new(plan(2_000).threads(2))
        .ignore_env()
        .quiet()
        .run_concurrent(move || SharedFlaky {
            value: AtomicI64::new(0),
            calls: AtomicU64::new(0),
            build: built.fetch_add(1, Ordering::SeqCst) + 1,
            at: 10,
        })
        .unwrap();
    assert_eq!(result.verdict, StressVerdict::Mismatch, "{}", result.text());
    let f = result.failure.as_ref().unwrap();
    assert_eq!(f.round, Some(0), "{}", result.text());
    assert!(f.minimal.is_empty(), "{}", result.text());
    let report = f.report.as_deref().unwrap();
    assert!(
        report.contains("round 0 alone, from the initial state, retried on fresh systems, hung")
            && report.contains("200 ms"),
        "{report}"
    );
    assert!(
        !report.contains("shrunk by the concurrent runner"),
        "{report}"
    );
}

/// A counter whose every `Read` from call 300 on is wrong, and whose builds after the fourth
/// (the shrinker's: build 1 is the run, 2 to 4 the prefix search) take 3 ms a call, so the
/// shrinking outlasts the 5 s after which the shrinker reports its progress.
struct SlowToShrink {
    value: i64,
    calls: u64,
    slow: bool,
}

impl stateprop::System<Counter> for SlowToShrink {
    fn apply(&mut self, op: &CounterOp) -> CounterOut {
        self.calls += 1;
        if self.slow {
            std::thread::sleep(Duration::from_millis(3));
        }
        match *op {
            CounterOp::Add { by } => {
                self.value += by;
                CounterOut::Done
            }
            CounterOp::Read if self.calls >= 300 => CounterOut::Value(self.value + 1),
            CounterOp::Read => CounterOut::Value(self.value),
        }
    }
}

/// The child side of `a_quiet_run_prints_no_shrinking_progress`.
#[test]
#[ignore = "run as a child process by a_quiet_run_prints_no_shrinking_progress"]
fn child_shrinks_for_longer_than_the_progress_interval() {
    let built = Arc::new(AtomicU64::new(0));
    // The environment is the parent's choice: it bounds the shrinking.
    let result = Stress::<Counter, SlowToShrink>::new(StressPlan::operations(2_000).seed(3))
        .progress(stateprop::stress::ProgressMode::Quiet)
        .run(move || SlowToShrink {
            value: 0,
            calls: 0,
            slow: built.fetch_add(1, Ordering::SeqCst) >= 4,
        })
        .unwrap();
    assert_eq!(result.verdict, StressVerdict::Mismatch);
    assert!(result.failure.unwrap().report.is_some());
}

#[test]
fn a_quiet_run_prints_no_shrinking_progress() {
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--ignored",
            "--exact",
            "misbehave::child_shrinks_for_longer_than_the_progress_interval",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("STATEPROP_MAX_SHRINK_TIME", "7s")
        .env_remove("STATEPROP_SEED")
        .env_remove("STATEPROP_STRESS_RESULT")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    // The result is printed (quiet progress is not a quiet result), and shrunk...
    assert!(stderr.contains("stress run FAILED"), "{stderr}");
    assert!(stderr.contains("shrunk:"), "{stderr}");
    // ...but nothing came between the run's header and it: no progress, no early headline,
    // no shrinking lines.
    assert!(!stderr.contains("shrinking:"), "{stderr}");
    let mut lines = stderr.lines().filter(|l| l.starts_with("stateprop:"));
    assert!(lines
        .next()
        .unwrap()
        .starts_with("stateprop: stress run: 2,000 operations"));
    assert!(
        lines
            .next()
            .unwrap()
            .starts_with("stateprop: stress run FAILED"),
        "{stderr}"
    );
}

/// A counter built at `start` whose every `Read` from call 50 on is one too many.
struct OffByOne {
    value: i64,
    calls: u64,
}

impl stateprop::System<Counter> for OffByOne {
    fn apply(&mut self, op: &CounterOp) -> CounterOut {
        self.calls += 1;
        match *op {
            CounterOp::Add { by } => {
                self.value += by;
                CounterOut::Done
            }
            CounterOp::Read if self.calls >= 50 => CounterOut::Value(self.value + 1),
            CounterOp::Read => CounterOut::Value(self.value),
        }
    }
}

fn off_by_one(stress: Stress<Counter, OffByOne>, start: i64) -> String {
    let result = stress
        .ignore_env()
        .quiet()
        .run(move || OffByOne {
            value: start,
            calls: 0,
        })
        .unwrap();
    assert_eq!(result.verdict, StressVerdict::Mismatch, "{}", result.text());
    let f = result.failure.unwrap();
    assert!(!f.minimal.is_empty(), "shrunk: {:?}", f.report);
    f.report.unwrap()
}

#[test]
fn a_pasted_test_does_not_start_from_the_default_model_when_the_run_did_not() {
    let initial = Counter { value: 7 };
    let report = off_by_one(Stress::with_initial(plan(1_000), initial), 7);
    assert!(!report.contains("Counter::default()"), "{report}");
    assert!(
        report.contains(
            r#"todo!("the initial model given to `Stress::with_initial`: Counter {{ value: 7 }}")"#
        ),
        "{report}"
    );
    // From the default model, the paste is code that runs as it is.
    let report = off_by_one(Stress::new(plan(1_000)), 0);
    assert!(report.contains("Counter::default()"), "{report}");
}
