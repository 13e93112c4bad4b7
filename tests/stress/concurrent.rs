//! Concurrent stress: threads in rounds, each round's history judged at a barrier and dropped.

use stateprop::models::{CasRegister, Counter, CounterOp, CounterOut, RegisterOp, RegisterOut};
use stateprop::stress::{Stress, StressPlan, StressVerdict};
use stateprop::ConcurrentSystem;
use std::path::PathBuf;
use std::sync::atomic::{AtomicI64, Ordering};

use crate::counters::{AtomicCounter, RacyCounter};

fn plan_file(name: &str, text: &str) -> PathBuf {
    let path = std::env::temp_dir().join(format!("stateprop-cs-{}-{name}", std::process::id()));
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn a_correct_counter_passes_200k_operations_on_4_threads_holding_one_round() {
    let path = plan_file(
        "correct.json",
        r#"{ "operations": 200000, "threads": 4, "round": 64, "seed": 5 }"#,
    );
    let plan = StressPlan::from_file(&path).unwrap();
    let _ = std::fs::remove_file(&path);
    let result = Stress::<Counter, AtomicCounter>::new(plan)
        .ignore_env()
        .quiet()
        .run_concurrent(AtomicCounter::default)
        .unwrap();
    assert!(result.passed(), "{}", result.text());
    assert_eq!(result.operations, 200_000);
    // The harness held one round's history at a time (4 threads x 64), never the run's.
    let held = result.max_history_ops.unwrap();
    assert!(held > 0 && held <= 4 * 64, "held {held}");
    assert!(result.notes.is_empty(), "{:?}", result.notes);
    let timed: u64 = result.latencies.iter().map(|l| l.count).sum();
    assert!(timed > 0, "latencies were sampled on every thread");
}

#[test]
fn a_racy_counter_is_found_at_a_round_within_the_default_run() {
    let path = plan_file("racy.json", r#"{ "threads": 4, "round": 32 }"#);
    let plan = StressPlan::from_file(&path).unwrap();
    let _ = std::fs::remove_file(&path);
    assert_eq!(plan.operations, None, "the default run's length");
    let result = Stress::<Counter, RacyCounter>::new(plan)
        .ignore_env()
        .quiet()
        .run_concurrent(RacyCounter::default)
        .unwrap();
    assert_eq!(result.verdict, StressVerdict::Mismatch, "{}", result.text());
    assert!(
        result.operations < 1_000_000,
        "stopped at the failing round"
    );
    let f = result.failure.as_ref().unwrap();
    let round = f.round.expect("a concurrent failure names its round");
    let thread = f.thread.expect("and the thread");
    assert!(thread < 4);
    assert!(round * 4 * 32 < result.operations + 1);
    assert!(
        !f.window.is_empty() && f.window.len() <= 4 * 32,
        "{:?}",
        f.window
    );
    let text = result.text();
    assert!(
        text.contains(&format!(
            "round {round} failed (thread {thread}, operation "
        )) && text.contains("the round's history has no linearization"),
        "{text}"
    );
    assert!(
        text.contains("stateprop::Program::parallel(vec![], vec!["),
        "{text}"
    );
    // The round is tried again on fresh systems (alone, then after the earlier rounds): the
    // race needs no history and recurs in about half the reruns, so it is shrunk to a small
    // parallel program; when no rerun brings the interleaving back, the result says so.
    if text.contains("shrunk by the concurrent runner") {
        let steps: usize = (f.minimal.iter())
            .map(|b| b.matches("CounterOp::").count())
            .sum();
        assert!((2..=16).contains(&steps), "{:?}", f.minimal);
        assert!(text.contains("stateprop::replay_concurrent_with::<Counter, RacyCounter>("));
    } else {
        assert!(
            text.contains("the round failed only in the run, not on fresh systems"),
            "{text}"
        );
    }
}

#[test]
fn a_sequential_run_with_threads_is_refused_by_name() {
    use stateprop::models::Counter as M;
    #[derive(Default)]
    struct Seq(i64);
    impl stateprop::System<M> for Seq {
        fn apply(&mut self, op: &CounterOp) -> CounterOut {
            match *op {
                CounterOp::Add { by } => {
                    self.0 += by;
                    CounterOut::Done
                }
                CounterOp::Read => CounterOut::Value(self.0),
            }
        }
    }
    let err = Stress::<M, Seq>::new(StressPlan::operations(10).threads(2))
        .ignore_env()
        .quiet()
        .run(Seq::default)
        .unwrap_err();
    assert!(err.to_string().contains("run_concurrent"), "{err}");
}

/// A counter whose 5,000th `Add` adds one too many: every round is linearizable on its own,
/// from the right state; only a run that carries each round's end states into the next sees it.
#[derive(Default)]
struct OffByOneLater {
    value: AtomicI64,
    adds: std::sync::atomic::AtomicU64,
}

impl ConcurrentSystem<Counter> for OffByOneLater {
    fn apply(&self, op: &CounterOp) -> CounterOut {
        match *op {
            CounterOp::Add { by } => {
                let n = self.adds.fetch_add(1, Ordering::SeqCst);
                let by = if n == 4_999 { by + 1 } else { by };
                self.value.fetch_add(by, Ordering::SeqCst);
                CounterOut::Done
            }
            CounterOp::Read => CounterOut::Value(self.value.load(Ordering::SeqCst)),
        }
    }
}

#[test]
fn a_wrong_add_late_in_the_run_is_found_in_a_later_round_from_carried_states() {
    let plan = StressPlan::operations(40_000).threads(3).round(16).seed(9);
    let result = Stress::<Counter, OffByOneLater>::new(plan)
        .ignore_env()
        .quiet()
        .run_concurrent(OffByOneLater::default)
        .unwrap();
    assert_eq!(result.verdict, StressVerdict::Mismatch, "{}", result.text());
    let f = result.failure.as_ref().unwrap();
    let round = f.round.unwrap();
    // About half the operations are adds: the 5,000th is near operation 10,000, round ~200.
    assert!(round > 100, "round {round}");
    assert!(result.operations > 5_000 && result.operations < 40_000);
    let text = result.text();
    assert!(
        text.contains(&format!(
            "round {round} starts from one of these model states"
        )),
        "{text}"
    );
    // From a fresh system the round alone never reaches the 5,000th add, and the ~10,000
    // operations before it are past the default shrink bound (2,000): nothing fails anew, and
    // the result says what was tried rather than offering a program that passes.
    assert!(
        text.contains(&format!(
            "the round failed only in the run, not on fresh systems: round {round} alone, \
             from the initial state, passed every rerun; rounds 0..{round} hold "
        )) && text.contains("past the shrink bound of 2000 (`shrink_bound`)"),
        "{text}"
    );
    assert!(f.minimal.is_empty(), "{:?}", f.minimal);
}

/// A register behind a lock whose writes are slow, so the threads' last writes of a round
/// overlap and the round may end in several states.
#[derive(Default)]
struct SlowRegister(std::sync::Mutex<Option<i64>>);

impl ConcurrentSystem<CasRegister> for SlowRegister {
    fn apply(&self, op: &RegisterOp) -> RegisterOut {
        match *op {
            RegisterOp::Read => RegisterOut::Value(*self.0.lock().unwrap()),
            RegisterOp::Write { value } => {
                std::thread::sleep(std::time::Duration::from_micros(200));
                *self.0.lock().unwrap() = Some(value);
                RegisterOut::Written
            }
            RegisterOp::Cas { from, to } => {
                let mut v = self.0.lock().unwrap();
                let swapped = *v == Some(from);
                if swapped {
                    *v = Some(to);
                }
                RegisterOut::Cas(swapped)
            }
        }
    }
}

#[test]
fn a_correct_register_passes_carrying_several_end_states_and_more_than_allowed_is_undecided() {
    let plan = || {
        StressPlan::operations(4_000)
            .threads(4)
            .round(4)
            .seed(2)
            .weight("Write", 2)
            .weight("Read", 2)
            .weight("Cas", 1)
    };
    let result = Stress::<CasRegister, SlowRegister>::new(plan())
        .ignore_env()
        .quiet()
        .run_concurrent(SlowRegister::default)
        .unwrap();
    assert!(result.passed(), "{}", result.text());
    // With one state kept, a round whose overlapping writes leave two is not judged further.
    let result = Stress::<CasRegister, SlowRegister>::new(plan().max_end_states(1))
        .ignore_env()
        .quiet()
        .run_concurrent(SlowRegister::default)
        .unwrap();
    assert_eq!(
        result.verdict,
        StressVerdict::Undecided,
        "{}",
        result.text()
    );
    let text = result.text();
    assert!(text.contains("more than 1 distinct end states"), "{text}");
    assert!(result.operations < 4_000);
}

#[test]
fn a_run_stops_at_its_operation_count_or_its_duration() {
    // 1,001 operations on 4 threads: the last round is short, not rounded up.
    let result = Stress::<Counter, AtomicCounter>::new(StressPlan::operations(1_001).threads(4))
        .ignore_env()
        .quiet()
        .run_concurrent(AtomicCounter::default)
        .unwrap();
    assert!(result.passed(), "{}", result.text());
    assert_eq!(result.operations, 1_001);
    let plan = StressPlan::duration(std::time::Duration::from_millis(300)).threads(2);
    let result = Stress::<Counter, AtomicCounter>::new(plan)
        .ignore_env()
        .quiet()
        .run_concurrent(AtomicCounter::default)
        .unwrap();
    assert!(result.passed(), "{}", result.text());
    assert!(result.operations > 0);
    assert!(
        result.elapsed_secs >= 0.3 && result.elapsed_secs < 30.0,
        "{}",
        result.elapsed_secs
    );
}

#[test]
fn a_concurrent_result_that_cannot_be_written_fails_the_run_naming_the_path() {
    let dir = std::env::temp_dir().join(format!("stateprop-conc-unwritten-{}", std::process::id()));
    let missing = dir.join("no-such-dir").join("x.json");
    let plan = StressPlan::operations(1_000).threads(2).seed(4);
    let result = Stress::<Counter, AtomicCounter>::new(plan.clone().result_path(&missing))
        .ignore_env()
        .quiet()
        .run_concurrent(AtomicCounter::default)
        .unwrap();
    assert!(!result.passed(), "{}", result.text());
    let text = result.text();
    assert!(text.contains("result not written"), "{text}");
    assert!(text.contains(&missing.display().to_string()), "{text}");
    // With a folder to write into, the same run passes and its file reads back.
    std::fs::create_dir_all(&dir).unwrap();
    let there = dir.join("x.json");
    let written = Stress::<Counter, AtomicCounter>::new(plan.result_path(&there))
        .ignore_env()
        .quiet()
        .run_concurrent(AtomicCounter::default)
        .unwrap();
    assert!(written.passed(), "{}", written.text());
    let read = stateprop::stress::StressResult::read(&there).unwrap();
    assert_eq!(read.operations, 1_000);
    let _ = std::fs::remove_dir_all(&dir);
}

/// A counter whose harness-side calls can be made to block forever: the factory, a gauge, the
/// teardown, or connecting a client.
#[derive(Clone, Copy, PartialEq)]
enum Stuck {
    Nowhere,
    Teardown,
    Connect(u64),
}

struct Blocking(AtomicCounter, Stuck);

fn block_forever() -> ! {
    loop {
        std::thread::park();
    }
}

impl stateprop::ClientSystem<Counter> for Blocking {
    type Client = ();
    fn connect(&self, client: u64) {
        if self.1 == Stuck::Connect(client) {
            block_forever();
        }
    }
    fn call(&self, _: &mut (), op: &CounterOp) -> CounterOut {
        self.0.apply(op)
    }
    fn teardown(&mut self) {
        if self.1 == Stuck::Teardown {
            block_forever();
        }
    }
}

fn short_timeout() -> StressPlan {
    StressPlan::operations(2_000)
        .threads(2)
        .round(16)
        .seed(8)
        .step_timeout(std::time::Duration::from_millis(200))
}

fn hang_of(result: &stateprop::stress::StressResult, what: &str) {
    assert_eq!(result.verdict, StressVerdict::Mismatch, "{}", result.text());
    let cause = &result.failure.as_ref().unwrap().cause;
    assert!(
        cause.starts_with(&format!("hang: {what} did not return within 200 ms")),
        "{}",
        result.text()
    );
}

#[test]
fn a_factory_that_never_returns_ends_the_run_as_a_hang_naming_the_factory() {
    let result = Stress::<Counter, Blocking>::new(short_timeout())
        .ignore_env()
        .quiet()
        .run_concurrent(|| -> Blocking { block_forever() })
        .unwrap();
    hang_of(&result, "the factory");
    assert_eq!(result.operations, 0);
}

#[test]
fn a_gauge_that_never_returns_ends_the_run_as_a_hang_naming_the_gauge() {
    let plan = short_timeout().warmup(0).sample_every(100);
    let result = Stress::<Counter, Blocking>::new(plan)
        .ignore_env()
        .quiet()
        .gauge(|_: &Blocking| block_forever())
        .run_concurrent(|| Blocking(AtomicCounter::default(), Stuck::Nowhere))
        .unwrap();
    hang_of(&result, "the gauge");
    let f = result.failure.as_ref().unwrap();
    assert_eq!(f.round, Some(0), "sampled at the first barrier");
    assert!(result.operations < 2_000);
}

#[test]
fn a_teardown_that_never_returns_ends_a_passing_run_as_a_hang_naming_the_teardown() {
    let result = Stress::<Counter, Blocking>::new(short_timeout())
        .ignore_env()
        .quiet()
        .run_concurrent(|| Blocking(AtomicCounter::default(), Stuck::Teardown))
        .unwrap();
    hang_of(&result, "the teardown");
    // Every operation ran and passed before it.
    assert_eq!(result.operations, 2_000);
}

#[test]
fn a_client_that_never_connects_ends_the_run_as_a_hang_naming_it() {
    let result = Stress::<Counter, Blocking>::new(short_timeout())
        .ignore_env()
        .quiet()
        .run_concurrent(|| Blocking(AtomicCounter::default(), Stuck::Connect(1)))
        .unwrap();
    hang_of(&result, "connecting client 1");
    assert_eq!(result.failure.as_ref().unwrap().thread, Some(1));
}

#[test]
fn a_large_round_on_many_threads_reserves_only_what_the_budget_can_fill() {
    // Each value within its cap, but threads x round is 1024 x 2^20 operations: reserved up
    // front, that is tens of GiB and the allocation aborts the process. 1,000 operations fill
    // 1,000 slots whatever the round.
    let plan = StressPlan::operations(1_000)
        .threads(1024)
        .round(1 << 20)
        .seed(3);
    let result = Stress::<Counter, AtomicCounter>::new(plan)
        .ignore_env()
        .quiet()
        .run_concurrent(AtomicCounter::default)
        .unwrap();
    assert!(result.passed(), "{}", result.text());
    assert_eq!(result.operations, 1_000);
}
