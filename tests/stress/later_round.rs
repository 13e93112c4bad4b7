//! A concurrent stress run's failing round after the first, tried again on fresh systems: alone
//! from the initial state, then after the earlier rounds as a sequential prefix while they are
//! within `shrink_bound`; the first that fails is shrunk, and when none does the result says
//! what was tried.

use stateprop::models::{Counter, CounterOp, CounterOut};
use stateprop::prelude::*;
use stateprop::stress::{Stress, StressPlan, StressResult, StressVerdict};
use stateprop::ConcurrentSystem;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};

/// Doubling, as a model: stateless, so any round alone starts where it did in the run.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Doubling;

#[derive(Debug, Clone, StateMachine)]
#[state_machine(model = Doubling)]
pub enum DoubleOp {
    Double {
        #[strategy(0..1000u32)]
        n: u32,
    },
}

impl Model for Doubling {
    type Op = DoubleOp;
    type Output = u64;
    fn step(&mut self, op: &DoubleOp) -> u64 {
        let DoubleOp::Double { n } = *op;
        u64::from(n) * 2
    }
}

/// Doubles, but for one input in a hundred (a bug in the operation's content, not in how many
/// ran before it): a run meets it in whichever round first draws such an input.
#[derive(Default)]
struct Mangler;

impl ConcurrentSystem<Doubling> for Mangler {
    fn apply(&self, op: &DoubleOp) -> u64 {
        let DoubleOp::Double { n } = *op;
        u64::from(n) * 2 + u64::from(n % 100 == 37)
    }
}

#[test]
fn a_content_bug_first_met_in_a_later_round_is_shrunk_from_that_round_alone() {
    let plan = StressPlan::operations(20_000).threads(2).round(4).seed(3);
    let result = Stress::<Doubling, Mangler>::new(plan)
        .ignore_env()
        .quiet()
        .run_concurrent(|| Mangler)
        .unwrap();
    assert_eq!(result.verdict, StressVerdict::Mismatch, "{}", result.text());
    let f = result.failure.as_ref().unwrap();
    let round = f.round.unwrap();
    // The seed's streams draw no such input in round 0: the case this test is about.
    assert!(
        round > 0,
        "round {round}: pick another seed\n{}",
        result.text()
    );
    let text = result.text();
    assert!(
        text.contains(&format!(
            "round {round} alone, from the initial state, failed again on fresh systems: \
             shrunk by the concurrent runner"
        )),
        "{text}"
    );
    // One call of a mangled input is the whole bug (the shrinker may move it into the
    // program's prefix: it needs no other thread).
    let steps: usize = (f.minimal.iter())
        .map(|l| l.matches("DoubleOp::Double").count())
        .sum();
    assert_eq!(steps, 1, "{:?}\n{text}", f.minimal);
    assert!(
        f.minimal.iter().any(|l| l.contains("37 }")),
        "{:?}",
        f.minimal
    );
    assert!(
        text.contains("stateprop::replay_concurrent_with::<Doubling, Mangler>("),
        "{text}"
    );
    assert!(!text.contains("failed only in the run"), "{text}");
    assert!(!text.contains("as a sequential prefix ("), "{text}");
}

/// A counter whose 40th `Add` adds one too many: a bug of how many operations ran, which no
/// round of a few operations shows alone.
#[derive(Default)]
struct FortiethAdd {
    value: AtomicI64,
    adds: AtomicU64,
}

impl ConcurrentSystem<Counter> for FortiethAdd {
    fn apply(&self, op: &CounterOp) -> CounterOut {
        match *op {
            CounterOp::Add { by } => {
                let n = self.adds.fetch_add(1, Ordering::SeqCst);
                let by = if n == 39 { by + 1 } else { by };
                self.value.fetch_add(by, Ordering::SeqCst);
                CounterOut::Done
            }
            CounterOp::Read => CounterOut::Value(self.value.load(Ordering::SeqCst)),
        }
    }
}

fn fortieth(bound: u64) -> StressResult {
    // Rounds of 2 x 8 operations, about half of them adds: the 40th add is met near round 5.
    let plan = StressPlan::operations(4_000)
        .threads(2)
        .round(8)
        .seed(4)
        .shrink_bound(bound);
    Stress::<Counter, FortiethAdd>::new(plan)
        .ignore_env()
        .quiet()
        .run_concurrent(FortiethAdd::default)
        .unwrap()
}

#[test]
fn a_count_bug_within_the_shrink_bound_is_shrunk_after_the_earlier_rounds_as_a_prefix() {
    let result = fortieth(2_000);
    assert_eq!(result.verdict, StressVerdict::Mismatch, "{}", result.text());
    let f = result.failure.as_ref().unwrap();
    let round = f.round.unwrap();
    assert!(round > 0, "round {round}\n{}", result.text());
    let text = result.text();
    assert!(
        text.contains(&format!(
            "round {round} alone, from the initial state, passed every rerun; after rounds \
             0..{round} as a sequential prefix ("
        )) && text.contains("it failed again on fresh systems: shrunk by the concurrent runner"),
        "{text}"
    );
    // The shrunk program still needs 40 adds, now in its prefix: nothing fewer fails.
    let prefix = f.minimal.first().expect("a shrunk program");
    assert!(prefix.starts_with("prefix: "), "{:?}", f.minimal);
    let adds: usize = (f.minimal.iter())
        .map(|l| l.matches("CounterOp::Add").count())
        .sum();
    assert!(adds >= 40, "{adds} adds: {:?}", f.minimal);
    assert!(
        text.contains("stateprop::replay_concurrent_with::<Counter, FortiethAdd>("),
        "{text}"
    );
}

#[test]
fn a_count_bug_past_the_shrink_bound_is_reported_as_failing_only_in_the_run() {
    let result = fortieth(20);
    assert_eq!(result.verdict, StressVerdict::Mismatch, "{}", result.text());
    let f = result.failure.as_ref().unwrap();
    let round = f.round.unwrap();
    assert!(round > 1, "round {round}\n{}", result.text());
    let text = result.text();
    assert!(
        text.contains(&format!(
            "the round failed only in the run, not on fresh systems: round {round} alone, \
             from the initial state, passed every rerun; rounds 0..{round} hold "
        )) && text.contains("operations, past the shrink bound of 20 (`shrink_bound`)"),
        "{text}"
    );
    assert!(f.minimal.is_empty(), "{:?}", f.minimal);
    assert!(!text.contains("shrunk by the concurrent runner"), "{text}");
}
