//! Model/system mismatches in a stress run: found at the operation where they happen, reported
//! with the window before it, bisected, and shrunk when short.

use crate::kv::{BuggyStore, Kv};
use crate::stores::{SeqOp, Sequence, U16Sequence};
use stateprop::stress::{Stress, StressPlan, StressVerdict};

#[test]
fn a_u16_sequence_wraps_at_operation_65536() {
    // Only `Next`: the 65,537th id (operation 65,536) is the first a u16 cannot give.
    let plan = StressPlan::operations(200_000)
        .seed(5)
        .weight("Next", 1)
        .window(8);
    let result = Stress::<Sequence, U16Sequence>::new(plan)
        .ignore_env()
        .quiet()
        .run(U16Sequence::default)
        .unwrap();
    assert_eq!(result.verdict, StressVerdict::Mismatch, "{}", result.text());
    assert_eq!(result.operations, 65_537);
    let failure = result.failure.as_ref().unwrap();
    assert_eq!(failure.operation, 65_536);
    assert!(failure.cause.contains("65536"), "{}", failure.cause);
    // The window: the eight operations before, then the failing one.
    assert_eq!(failure.window.len(), 9);
    assert_eq!(failure.window[0], "65528: SeqOp::Next");
    assert!(failure.window[8].starts_with("65536: SeqOp::Next"));
    // The whole stream up to it is needed, and is past the bound: not shrunk.
    assert_eq!(failure.prefix, Some(65_537));
    assert!(failure.report.is_none());
    assert!(result.text().contains("past the shrink bound of 2000"));
}

#[test]
fn with_peeks_in_the_mix_the_wrap_is_found_after_65536_ids() {
    let result = Stress::<Sequence, U16Sequence>::new(StressPlan::operations(200_000).seed(2))
        .ignore_env()
        .quiet()
        .run(U16Sequence::default)
        .unwrap();
    let failure = result.failure.as_ref().unwrap();
    // About one operation in ten is a `Peek`: the wrap shows at the 65,537th `Next` or a `Peek`
    // after the 65,536th, somewhere past operation 65,536.
    assert!(
        (65_536..80_000).contains(&failure.operation),
        "{}",
        failure.operation
    );
    assert_eq!(failure.prefix, Some(failure.operation + 1));
    let _ = SeqOp::Peek;
}

#[test]
fn a_short_failing_prefix_is_shrunk_into_the_usual_report() {
    // The stale-cache store of the quickstart: wrong within a few dozen operations.
    let plan = StressPlan::operations(100_000).seed(4);
    let result = Stress::<Kv, BuggyStore>::new(plan)
        .ignore_env()
        .quiet()
        .run(BuggyStore::default)
        .unwrap();
    assert_eq!(result.verdict, StressVerdict::Mismatch);
    let failure = result.failure.as_ref().unwrap();
    assert!(failure.operation < 2_000, "{}", failure.operation);
    assert_eq!(failure.prefix, Some(failure.operation + 1));
    // Shrunk to the known minimal program: put, delete, get of one key.
    assert_eq!(failure.minimal.len(), 3, "{:?}", failure.minimal);
    assert!(failure.minimal[0].starts_with("KvOp::Put"));
    assert!(failure.minimal[1].starts_with("KvOp::Delete"));
    assert!(failure.minimal[2].starts_with("KvOp::Get"));
    let report = failure.report.as_ref().unwrap();
    assert!(
        report.contains("stateprop::replay_with::<Kv, BuggyStore>("),
        "{report}"
    );
    assert!(report.contains("minimal program (3 steps"), "{report}");
    let text = result.text();
    let found = format!(
        "found by a stress run at operation {} of the stream of seed 4",
        failure.operation
    );
    assert!(text.contains(&found), "{text}");
    if std::env::var_os("SHOW").is_some() {
        eprintln!("{text}");
    }
}

/// A sequence counter that answers wrong at operation `at_first` on the first system built, and
/// at `at_later` on every later one: a failure that depends on something outside the stream.
mod flaky {
    use crate::stores::{SeqOp, Sequence};
    use stateprop::System;
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::sync::Arc;

    pub struct Flaky {
        pub ops: u64,
        pub fails_at: u64,
        pub next: u64,
    }

    impl System<Sequence> for Flaky {
        fn apply(&mut self, op: &SeqOp) -> u64 {
            let wrong = self.ops == self.fails_at;
            self.ops += 1;
            let out = match op {
                SeqOp::Next => {
                    self.next += 1;
                    self.next - 1
                }
                SeqOp::Peek => self.next,
            };
            out + u64::from(wrong)
        }
    }

    pub fn factory(at_first: u64, at_later: Option<u64>) -> impl Fn() -> Flaky + Clone + Send {
        let built = Arc::new(AtomicU64::new(0));
        move || Flaky {
            ops: 0,
            fails_at: match built.fetch_add(1, Ordering::SeqCst) {
                0 => at_first,
                _ => at_later.unwrap_or(u64::MAX),
            },
            next: 0,
        }
    }
}

#[test]
fn a_failure_that_does_not_replay_is_reported_as_such() {
    let plan = StressPlan::operations(10_000).seed(1);
    let result = Stress::<Sequence, flaky::Flaky>::new(plan)
        .ignore_env()
        .quiet()
        .run(flaky::factory(5_000, None))
        .unwrap();
    let failure = result.failure.as_ref().unwrap();
    assert_eq!(failure.operation, 5_000);
    assert_eq!(failure.prefix, None);
    assert!(failure.report.is_none());
    assert!(result
        .text()
        .contains("did not replay from the seed on a fresh system"));
}

#[test]
fn a_replay_failing_earlier_shortens_the_prefix() {
    // First run fails at 5,000; every replay fails at 300: the shortest failing prefix the
    // replays show is 301 operations, which the shrinker then takes (it is under the bound).
    let plan = StressPlan::operations(10_000).seed(1).shrink_bound(200);
    let result = Stress::<Sequence, flaky::Flaky>::new(plan)
        .ignore_env()
        .quiet()
        .run(flaky::factory(5_000, Some(300)))
        .unwrap();
    let failure = result.failure.as_ref().unwrap();
    assert_eq!(failure.operation, 5_000);
    assert_eq!(failure.prefix, Some(301));
    assert!(failure.report.is_none(), "301 is past the bound of 200");
}

/// A store that corrupts a put of a value ending in 007 (in thousands): rare, and needs nothing
/// that came long before it.
#[derive(Default)]
pub struct RareCorruption(std::collections::HashMap<u32, u64>);

impl stateprop::System<crate::stores::Store> for RareCorruption {
    fn apply(&mut self, op: &crate::stores::StoreOp) -> Option<u64> {
        use crate::stores::StoreOp;
        match *op {
            StoreOp::Put { key, value } => {
                let stored = if value % 1000 == 7 { value + 1 } else { value };
                self.0.insert(key, stored)
            }
            StoreOp::Get { key } => self.0.get(&key).copied(),
            StoreOp::Delete { key } => self.0.remove(&key),
        }
    }
}

#[test]
fn past_the_bound_a_tail_that_fails_alone_is_shrunk() {
    use crate::stores::Store;
    let seed = std::env::var("SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1);
    let plan = StressPlan::operations(1_000_000)
        .seed(seed)
        .shrink_bound(300)
        .weight("Put", 1)
        .weight("Get", 1);
    let result = Stress::<Store, RareCorruption>::with_initial(plan, Store::with_keys(4))
        .ignore_env()
        .quiet()
        .run(RareCorruption::default)
        .unwrap();
    let failure = result.failure.as_ref().unwrap();
    if std::env::var_os("SHOW").is_some() {
        eprintln!("{}", result.text());
    }
    assert!(failure.operation > 300, "{}", failure.operation);
    assert_eq!(failure.prefix, Some(failure.operation + 1));
    assert_eq!(failure.tail, Some(300));
    // The corrupting put, then the get that reads it back.
    assert_eq!(failure.minimal.len(), 2, "{:?}", failure.minimal);
    assert!(failure.minimal[0].starts_with("StoreOp::Put"));
    assert!(failure.minimal[1].starts_with("StoreOp::Get"));
    assert!(result
        .text()
        .contains("its last 300 operations alone fail on a fresh system"));
}
