//! Reports never hide the bug: a candidate that hangs while shrinking, a system that is not
//! deterministic, a replayed program, a test's last words.

use crate::kv::{BuggyStore, Kv, KvOp};
use crate::scratch;
use stateprop::prelude::*;
use stateprop::{FailureKind, Origin, Runner};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

/// Set once `HangsWhenShrinking` has given its first wrong answer.
static WRONG_ONCE: AtomicBool = AtomicBool::new(false);

/// The quickstart's buggy store, checked against a correct shadow so it knows when it answered
/// wrong; from then on, a get right after the first operation hangs. Generation finds the
/// stale read; shrinking then tries a candidate like `[Put, Get]`, which hangs.
#[derive(Default)]
struct HangsWhenShrinking {
    buggy: BuggyStore,
    shadow: crate::GoodStore,
    steps: usize,
}

impl System<Kv> for HangsWhenShrinking {
    fn apply(&mut self, op: &KvOp) -> Option<u32> {
        self.steps += 1;
        if WRONG_ONCE.load(Ordering::SeqCst) && self.steps == 2 && matches!(op, KvOp::Get { .. }) {
            // Long enough to be a hang to the runner, short enough to free the thread later.
            std::thread::sleep(Duration::from_secs(5));
        }
        let answer = self.buggy.apply(op);
        if answer != self.shadow.apply(op) {
            WRONG_ONCE.store(true, Ordering::SeqCst);
        }
        answer
    }
}

#[test]
fn a_hang_while_shrinking_keeps_the_failure_and_its_smallest_program() {
    let file = scratch("hang-shrinking").join("kv.stateprop-regressions");
    let r = Runner::<Kv>::new(
        Config::default()
            .ignore_env()
            .seed(5)
            .step_timeout(Duration::from_millis(300))
            .regression_file(&file),
    )
    .run_default::<HangsWhenShrinking>();
    let text = r.report.text();
    assert!(r.failed(), "{text}");
    // The bug found, not the hang.
    let failure = r.report.failure.as_ref().unwrap();
    assert_eq!(failure.kind.name(), "postcondition", "{text}");
    assert!(
        text.contains("a candidate program hung at step 1"),
        "{text}"
    );
    // Shrunk as far as it got, and not empty.
    assert!(!r.minimal.is_empty(), "{text}");
    assert!(r.minimal.len() < r.report.shrink.steps_before, "{text}");
    assert!(
        matches!(r.report.origin, Some(Origin::Generated { .. })),
        "{text}"
    );
    assert!(r.report.stats.cases > 0, "{text}");
    // The JSON says what the text says.
    let json = r.report.json();
    assert_eq!(json["failure"]["kind"], "postcondition");
    assert_eq!(
        json["minimal"].as_array().map(Vec::len),
        Some(r.minimal.len())
    );
    assert!(json["note"].as_str().unwrap().contains("hung"), "{json}");
    // Saved, so the next run replays it first.
    assert_eq!(r.report.saved_to.as_deref(), file.to_str());
    let saved = std::fs::read_to_string(&file).unwrap();
    assert_eq!(saved.lines().filter(|l| !l.starts_with('#')).count(), 1);
}

/// A correct store, except that it hangs on any get of key 3 (as in `failures.rs`).
#[derive(Default)]
struct HangsOnKey3(crate::GoodStore);

impl System<Kv> for HangsOnKey3 {
    fn apply(&mut self, op: &KvOp) -> Option<u32> {
        if let KvOp::Get { key: 3 } = op {
            std::thread::sleep(Duration::from_secs(5));
        }
        self.0.apply(op)
    }
}

#[test]
fn a_saved_program_that_hangs_is_reported_with_its_steps() {
    let file = scratch("hang-saved").join("kv.stateprop-regressions");
    let first = Runner::<Kv>::new(
        Config::default()
            .ignore_env()
            .seed(5)
            .step_timeout(Duration::from_millis(300))
            .regression_file(&file),
    )
    .run_default::<HangsOnKey3>();
    assert!(first.failed());
    assert!(!first.minimal.is_empty(), "{}", first.report.text());
    assert!(first.report.saved_to.is_some(), "{}", first.report.text());
    // The saved case is replayed first and hangs again: still a program, not `[]`.
    let second = Runner::<Kv>::new(
        Config::default()
            .ignore_env()
            .seed(77)
            .step_timeout(Duration::from_millis(300))
            .regression_file(&file),
    )
    .run_default::<HangsOnKey3>();
    let text = second.report.text();
    assert!(matches!(
        second.report.failure.as_ref().unwrap().kind,
        FailureKind::Hang { .. }
    ));
    assert!(
        matches!(second.report.origin, Some(Origin::Saved { .. })),
        "{text}"
    );
    assert_eq!(
        second.report.minimal_rust, first.report.minimal_rust,
        "{text}"
    );
    assert_eq!(
        second.report.json()["minimal"].as_array().map(Vec::len),
        Some(first.minimal.len())
    );
}

/// Systems made so far, and which of them are broken: a cache that "warms up", global state
/// that makes the same program fail early in a run and pass later.
static MADE: AtomicU64 = AtomicU64::new(0);
static BROKEN_UP_TO: AtomicU64 = AtomicU64::new(u64::MAX);
static BROKEN_ALSO: AtomicU64 = AtomicU64::new(0);

/// Returns `Some(0)` for a missing key, but only while it is one of the broken systems.
struct WarmsUp {
    store: crate::GoodStore,
    broken: bool,
}

impl Default for WarmsUp {
    fn default() -> Self {
        let n = MADE.fetch_add(1, Ordering::SeqCst) + 1;
        let broken =
            n <= BROKEN_UP_TO.load(Ordering::SeqCst) || n == BROKEN_ALSO.load(Ordering::SeqCst);
        WarmsUp {
            store: crate::GoodStore::default(),
            broken,
        }
    }
}

impl System<Kv> for WarmsUp {
    fn apply(&mut self, op: &KvOp) -> Option<u32> {
        match (self.store.apply(op), op) {
            (None, KvOp::Get { .. }) if self.broken => Some(0),
            (answer, _) => answer,
        }
    }
}

fn warms_up(broken_up_to: u64, broken_also: u64) -> stateprop::RunResult<KvOp> {
    MADE.store(0, Ordering::SeqCst);
    BROKEN_UP_TO.store(broken_up_to, Ordering::SeqCst);
    BROKEN_ALSO.store(broken_also, Ordering::SeqCst);
    Runner::<Kv>::new(Config::default().ignore_env().seed(11).persist(false))
        .run_default::<WarmsUp>()
}

/// One test, so the three runs never share the counters with each other.
#[test]
fn a_program_that_does_not_fail_again_is_not_called_minimal() {
    // Always broken: deterministic, so the shrunk program is confirmed and reported plainly.
    let steady = warms_up(u64::MAX, 0);
    let text = steady.report.text();
    assert!(steady.failed());
    assert_eq!(steady.report.note, None, "{text}");
    assert!(text.contains("minimal program"), "{text}");
    // Every system the run made before confirming: one per case, one per shrink run.
    let before_confirming = steady.report.stats.cases + steady.report.shrink.runs;

    // Broken only until the rerun that confirms: the shrunk program passes when rerun, and so
    // does every earlier one. Said plainly; nothing is called minimal.
    let flaky = warms_up(before_confirming, 0);
    let text = flaky.report.text();
    assert!(flaky.failed(), "{text}");
    let note = flaky.report.note.clone().unwrap_or_default();
    assert!(note.contains("not deterministic"), "{text}");
    assert!(note.contains("passed when rerun"), "{text}");
    assert!(!text.contains("minimal program"), "{text}");

    // Broken again for the second rerun: the program before the shrunk one fails again, and it
    // is the one reported.
    let walked_back = warms_up(before_confirming, before_confirming + 2);
    let text = walked_back.report.text();
    let note = walked_back.report.note.clone().unwrap_or_default();
    assert!(note.contains("last program that failed again"), "{text}");
    assert!(walked_back.minimal.len() >= steady.minimal.len(), "{text}");
    assert_ne!(
        walked_back.report.minimal_rust, steady.report.minimal_rust,
        "{text}"
    );
    // What is reported really fails: replayed on a broken system, it fails.
    BROKEN_UP_TO.store(u64::MAX, Ordering::SeqCst);
    let replayed = std::panic::catch_unwind(|| {
        stateprop::replay::<Kv, WarmsUp>(&walked_back.minimal);
    });
    assert!(replayed.is_err());
}

#[test]
fn a_replayed_program_is_not_called_minimal() {
    let ops = [
        KvOp::Put { key: 2, value: 5 },
        KvOp::Put { key: 1, value: 7 },
        KvOp::Delete { key: 1 },
        KvOp::Get { key: 1 },
    ];
    let err = std::panic::catch_unwind(|| stateprop::replay::<Kv, BuggyStore>(&ops))
        .expect_err("the buggy store fails");
    let message = err.downcast_ref::<String>().cloned().unwrap_or_default();
    assert!(
        message.contains("stateprop: program, replayed as given (4 steps):"),
        "{message}"
    );
    assert!(!message.contains("minimal program"), "{message}");
}

/// The child side of `the_report_is_the_last_thing_a_failing_test_prints`.
#[test]
#[ignore = "run as a child process by the_report_is_the_last_thing_a_failing_test_prints"]
fn child_fails_with_a_report() {
    stateprop::check_sequential::<Kv, BuggyStore>(
        Config::default().ignore_env().seed(42).persist(false),
    );
}

#[test]
fn the_report_is_the_last_thing_a_failing_test_prints() {
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--ignored",
            "--exact",
            "trust::child_fails_with_a_report",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("RUST_BACKTRACE", "1")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    let end = stderr.trim_end();
    // The pasteable test closes the report, and nothing follows it: no panic line, no backtrace.
    assert!(end.ends_with("]);\n}"), "{stderr}");
    assert!(!stderr.contains("stack backtrace"), "{stderr}");
    assert!(!stderr.contains("panicked at"), "{stderr}");
    assert!(
        stderr.contains("stateprop: cause: postcondition failed"),
        "{stderr}"
    );
}

#[test]
fn programs_longer_than_a_case_may_hold_are_refused_plainly() {
    let err = std::panic::catch_unwind(|| {
        Runner::<Kv>::new(
            Config::default()
                .ignore_env()
                .steps(0..=usize::MAX)
                .persist(false),
        )
        .run_default::<crate::GoodStore>()
    })
    .expect_err("refused");
    let message = err.downcast_ref::<String>().cloned().unwrap_or_default();
    assert!(message.contains("programs of up to"), "{message}");
    assert!(message.contains("at most"), "{message}");
}

/// Systems made so far by `EveryOther`.
static EVERY_OTHER_MADE: AtomicU64 = AtomicU64::new(0);

/// The quickstart's stale-cache bug, in every other system made: a failure that shows half the
/// time, as a race does.
struct EveryOther {
    buggy: Option<BuggyStore>,
    good: crate::GoodStore,
}

impl Default for EveryOther {
    fn default() -> Self {
        let n = EVERY_OTHER_MADE.fetch_add(1, Ordering::SeqCst);
        EveryOther {
            buggy: (n % 2 == 1).then(BuggyStore::default),
            good: crate::GoodStore::default(),
        }
    }
}

impl System<Kv> for EveryOther {
    fn apply(&mut self, op: &KvOp) -> Option<u32> {
        match &mut self.buggy {
            Some(buggy) => buggy.apply(op),
            None => self.good.apply(op),
        }
    }
}

#[test]
fn reruns_shrink_a_failure_that_shows_half_the_time_and_give_its_rate() {
    EVERY_OTHER_MADE.store(0, Ordering::SeqCst);
    let r = Runner::<Kv>::new(
        Config::default()
            .ignore_env()
            .seed(42)
            .reruns(4)
            .persist(false),
    )
    .run_default::<EveryOther>();
    let text = r.report.text();
    assert!(r.failed(), "{text}");
    // Every candidate that can fail gets four runs, two of them on a buggy system: shrinking
    // reaches the same three steps as for the always-buggy store.
    assert_eq!(r.minimal.len(), 3, "{text}");
    assert!(matches!(r.minimal[1], KvOp::Delete { .. }), "{text}");
    assert_eq!(r.report.reproduction, Some((2, 4)), "{text}");
    assert!(
        text.contains("reproduced: 2 of 4 runs of this program failed this way"),
        "{text}"
    );
    assert_eq!(r.report.note, None, "{text}");
    assert_eq!(r.report.json()["reproduction"]["runs"], 4);
}
