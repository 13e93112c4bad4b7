//! Specifications that allow a choice: a priority queue whose equal-priority elements may pop in
//! any order, and a bag whose "take any" may take any element. The models pick one answer
//! themselves and follow the system's through `Model::accept`, so a correct system that chooses
//! differently passes, and a system whose choice was not allowed (or that drifts afterwards) is
//! found and shrunk to its exact minimum.

use crate::{assert_finds, assert_one_minimal, run, SEEDS};
use stateprop::prelude::*;
use stateprop::{ConcurrentSystem, Runner};

// ---- A priority queue with ties ----

/// The elements as a sorted multiset of `(priority, value)`: the state says what is queued, not
/// in which order equal priorities arrived, since the specification does not care.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct PqModel {
    items: Vec<(u8, u8)>,
}

#[derive(Debug, Clone, StateMachine)]
#[state_machine(model = PqModel)]
pub enum PqOp {
    #[rule(weight = 2)]
    Push {
        #[strategy(0..3u8)]
        prio: u8,
        #[strategy(0..4u8)]
        value: u8,
    },
    Pop,
}

impl PqModel {
    fn insert(&mut self, item: (u8, u8)) {
        let at = self.items.partition_point(|e| *e <= item);
        self.items.insert(at, item);
    }
}

impl Model for PqModel {
    type Op = PqOp;
    type Output = Option<(u8, u8)>;

    /// Pops the highest priority, and among ties the highest value: one allowed answer of many.
    fn step(&mut self, op: &PqOp) -> Option<(u8, u8)> {
        match *op {
            PqOp::Push { prio, value } => {
                self.insert((prio, value));
                None
            }
            PqOp::Pop => self.items.pop(),
        }
    }

    /// Any queued element of the highest priority may pop: the model gives back its own and
    /// takes the system's.
    fn accept(
        &mut self,
        op: &PqOp,
        expected: Option<(u8, u8)>,
        actual: &Option<(u8, u8)>,
    ) -> Result<Option<(u8, u8)>, Option<(u8, u8)>> {
        if let (PqOp::Pop, Some(mine), Some(theirs)) = (op, expected, *actual) {
            if theirs != mine && theirs.0 == mine.0 {
                if let Ok(at) = self.items.binary_search(&theirs) {
                    self.items.remove(at);
                    self.insert(mine);
                    return Ok(Some(theirs));
                }
            }
        }
        if expected == *actual {
            Ok(expected)
        } else {
            Err(expected)
        }
    }
}

/// The same queue, told only through `outputs_match`: it accepts the system's tie but keeps its
/// own, which is how a model had to be written before `accept`.
#[derive(Debug, Clone, Default)]
pub struct MatchOnlyPq(PqModel);

#[derive(Debug, Clone, StateMachine)]
#[state_machine(model = MatchOnlyPq)]
pub enum MatchOnlyOp {
    #[rule(weight = 2)]
    Push {
        #[strategy(0..3u8)]
        prio: u8,
        #[strategy(0..4u8)]
        value: u8,
    },
    Pop,
}

impl Model for MatchOnlyPq {
    type Op = MatchOnlyOp;
    type Output = Option<(u8, u8)>;
    fn step(&mut self, op: &MatchOnlyOp) -> Option<(u8, u8)> {
        match *op {
            MatchOnlyOp::Push { prio, value } => self.0.step(&PqOp::Push { prio, value }),
            MatchOnlyOp::Pop => self.0.step(&PqOp::Pop),
        }
    }
    fn outputs_match(
        &self,
        _: &MatchOnlyOp,
        expected: &Option<(u8, u8)>,
        actual: &Option<(u8, u8)>,
    ) -> bool {
        // As exact as `outputs_match` can be: the system's element has the top priority and
        // was queued (the model's own, or one still queued after the step).
        match (expected, actual) {
            (Some(mine), Some(theirs)) => {
                mine.0 == theirs.0 && (mine == theirs || self.0.items.contains(theirs))
            }
            _ => expected == actual,
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum PqBug {
    /// First in, first out among equal priorities: correct.
    None,
    /// Pops the element pushed last, whatever its priority.
    Stack,
    /// Pops correctly, but drops another element of the same priority along with it.
    LosesTie,
}

/// Elements in arrival order.
#[derive(Default)]
pub struct Pq<const BUG: u8>(Vec<(u8, u8)>);

impl<const BUG: u8> Pq<BUG> {
    const BUG: PqBug = match BUG {
        0 => PqBug::None,
        1 => PqBug::Stack,
        _ => PqBug::LosesTie,
    };

    fn pop(&mut self) -> Option<(u8, u8)> {
        if Self::BUG == PqBug::Stack {
            return self.0.pop();
        }
        let top = self.0.iter().map(|e| e.0).max()?;
        let at = self.0.iter().position(|e| e.0 == top)?;
        let item = self.0.remove(at);
        if Self::BUG == PqBug::LosesTie {
            if let Some(other) = self.0.iter().position(|e| e.0 == top) {
                self.0.remove(other);
            }
        }
        Some(item)
    }

    fn apply_op(&mut self, push: Option<(u8, u8)>) -> Option<(u8, u8)> {
        match push {
            Some(item) => {
                self.0.push(item);
                None
            }
            None => self.pop(),
        }
    }
}

impl<const BUG: u8> System<PqModel> for Pq<BUG> {
    fn apply(&mut self, op: &PqOp) -> Option<(u8, u8)> {
        match *op {
            PqOp::Push { prio, value } => self.apply_op(Some((prio, value))),
            PqOp::Pop => self.apply_op(None),
        }
    }
}

impl<const BUG: u8> System<MatchOnlyPq> for Pq<BUG> {
    fn apply(&mut self, op: &MatchOnlyOp) -> Option<(u8, u8)> {
        match *op {
            MatchOnlyOp::Push { prio, value } => self.apply_op(Some((prio, value))),
            MatchOnlyOp::Pop => self.apply_op(None),
        }
    }
}

/// Asserts no false alarm on any pinned seed.
fn assert_passes_every_seed<M, S>(config: Config, cases: u64)
where
    M: Model + Default + Send,
    M::Op: Send,
    S: System<M> + Default + 'static,
{
    for seed in SEEDS {
        let result = run::<M, S>(config.clone().cases(cases), seed);
        assert!(
            !result.failed(),
            "seed {seed}: false alarm:\n{}",
            result.report.text()
        );
        assert_eq!(result.report.stats.cases, cases);
    }
}

#[test]
fn a_queue_breaking_ties_its_own_way_passes() {
    assert_passes_every_seed::<PqModel, Pq<0>>(Config::default().ignore_env(), 1000);
}

/// Why `accept` exists: the same correct queue, judged by a model that only widens
/// `outputs_match`, is failed once the model's tie and the system's differ and the two drift.
#[test]
fn outputs_match_alone_drifts_into_a_false_alarm() {
    let result = run::<MatchOnlyPq, Pq<0>>(Config::default().ignore_env().cases(1000), SEEDS[0]);
    assert!(result.failed(), "{}", result.report.text());
}

/// The minimal program of the queue that pops last in, as Rust source per step (the zoo test
/// and the findpower bench compare against it).
pub const EXPECTED_STACK: &[&str] = &[
    "PqOp::Push { prio: 1, value: 0 }",
    "PqOp::Push { prio: 0, value: 0 }",
    "PqOp::Pop",
];

#[test]
fn finds_a_queue_popping_below_the_top_priority() {
    assert_finds::<PqModel, Pq<1>>(
        Config::default().ignore_env(),
        EXPECTED_STACK,
        "postcondition",
    );
}

/// The minimal program of the queue that loses a tied element, as Rust source per step (the zoo
/// test and the findpower bench compare against it).
pub const EXPECTED_LOSES_TIE: &[&str] = &[
    "PqOp::Push { prio: 0, value: 0 }",
    "PqOp::Push { prio: 0, value: 0 }",
    "PqOp::Pop",
    "PqOp::Pop",
];

#[test]
fn finds_a_queue_losing_an_element_after_a_tie() {
    assert_finds::<PqModel, Pq<2>>(
        Config::default().ignore_env(),
        EXPECTED_LOSES_TIE,
        "postcondition",
    );
}

/// The queue shared by threads, behind a lock: each pop is atomic, and ties go first in, first
/// out, unlike the model's.
#[derive(Default)]
pub struct SharedPq<const BUG: u8>(std::sync::Mutex<Pq<BUG>>);

impl<const BUG: u8> ConcurrentSystem<PqModel> for SharedPq<BUG> {
    fn apply(&self, op: &PqOp) -> Option<(u8, u8)> {
        let mut queue = self
            .0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        System::<PqModel>::apply(&mut *queue, op)
    }
}

/// On threads the linearizability judge places each pop with the model following the recorded
/// tie: no false alarm, and a lost tied element is still a violation.
#[test]
fn on_threads_ties_pass_and_a_lost_tie_is_a_violation() {
    let config = |seed| {
        Config::default()
            .ignore_env()
            .seed(seed)
            .persist(false)
            .cases(100)
    };
    for seed in SEEDS {
        let result = Runner::<PqModel>::new(config(seed)).run_concurrent_default::<SharedPq<0>>();
        assert!(
            !result.failed(),
            "seed {seed}: false alarm:\n{}",
            result.report.text()
        );
        let result = Runner::<PqModel>::new(config(seed)).run_concurrent_default::<SharedPq<2>>();
        let text = result.report.text();
        assert!(
            result.failed(),
            "seed {seed}: the lost element was not found"
        );
        assert!(
            text.contains("the history is not linearizable"),
            "seed {seed}:\n{text}"
        );
    }
}

// ---- A bag with "take any", and a `Var` naming what was taken ----

#[derive(Debug, Clone, PartialEq)]
pub enum BagOut {
    Done,
    Took(Option<u8>),
}

impl FromOutput<BagOut> for u8 {
    fn from_output(output: &BagOut) -> Option<u8> {
        match output {
            BagOut::Took(item) => *item,
            BagOut::Done => None,
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct BagModel {
    items: std::collections::BTreeSet<u8>,
}

#[derive(Debug, Clone, StateMachine)]
#[state_machine(model = BagModel)]
pub enum BagOp {
    #[rule(weight = 2)]
    Insert {
        #[strategy(0..6u8)]
        item: u8,
    },
    TakeAny,
    /// Puts back what an earlier `TakeAny` took: the model must put back what the *system*
    /// took, or the two sets part.
    Restore {
        item: Var<u8>,
    },
}

impl Model for BagModel {
    type Op = BagOp;
    type Output = BagOut;

    /// Takes the smallest element; the system may take any.
    fn step(&mut self, op: &BagOp) -> BagOut {
        match op {
            BagOp::Insert { item } => {
                self.items.insert(*item);
                BagOut::Done
            }
            BagOp::TakeAny => BagOut::Took(self.items.pop_first()),
            BagOp::Restore { item } => {
                self.items.insert(**item);
                BagOut::Done
            }
        }
    }

    fn accept(&mut self, op: &BagOp, expected: BagOut, actual: &BagOut) -> Result<BagOut, BagOut> {
        if let (BagOp::TakeAny, BagOut::Took(Some(mine)), BagOut::Took(Some(theirs))) =
            (op, &expected, actual)
        {
            // Still here after the step: it was there before, and is not the model's own.
            if self.items.remove(theirs) {
                self.items.insert(*mine);
                return Ok(actual.clone());
            }
        }
        if expected == *actual {
            Ok(expected)
        } else {
            Err(expected)
        }
    }
}

/// "Take any" takes the largest element. The bug: it removes the largest but answers the
/// smallest, an element that was there, so only a later step shows the sets apart.
#[derive(Default)]
pub struct Bag<const BUGGY: bool>(std::collections::BTreeSet<u8>);

impl<const BUGGY: bool> System<BagModel> for Bag<BUGGY> {
    fn apply(&mut self, op: &BagOp) -> BagOut {
        match op {
            BagOp::Insert { item } => {
                self.0.insert(*item);
                BagOut::Done
            }
            BagOp::Restore { item } => {
                self.0.insert(**item);
                BagOut::Done
            }
            BagOp::TakeAny if BUGGY => {
                let smallest = self.0.first().copied();
                self.0.pop_last();
                BagOut::Took(smallest)
            }
            BagOp::TakeAny => BagOut::Took(self.0.pop_last()),
        }
    }
}

#[test]
fn a_bag_taking_its_own_choice_passes_and_restores_it() {
    assert_passes_every_seed::<BagModel, Bag<false>>(Config::default().ignore_env(), 1000);
}

/// The two minimal programs of the bag (the zoo test and the findpower bench accept either).
pub const BAG_MINIMA: [[&str; 4]; 2] = [
    [
        "BagOp::Insert { item: 0 }",
        "BagOp::Insert { item: 1 }",
        "BagOp::TakeAny",
        "BagOp::TakeAny",
    ],
    [
        "BagOp::Insert { item: 1 }",
        "BagOp::Insert { item: 0 }",
        "BagOp::TakeAny",
        "BagOp::TakeAny",
    ],
];

/// A set forgets the order of its inserts, so the minimum is exact up to that order: either
/// two inserts of 0 and 1, then two takes (the first answers 0 and removes 1, the second
/// answers 0, which the model, having followed the first, no longer holds).
#[test]
fn finds_a_bag_answering_one_element_and_removing_another() {
    for seed in SEEDS {
        let result = run::<BagModel, Bag<true>>(Config::default().ignore_env(), seed);
        let text = result.report.text();
        assert!(result.failed(), "seed {seed}: the bug was not found");
        let program = &result.report.minimal_rust.prefix;
        assert!(
            BAG_MINIMA.iter().any(|m| program[..] == m[..]),
            "seed {seed}: unexpected minimal program\n{text}"
        );
        let failure = result.report.failure.as_ref().expect("failure");
        assert_eq!(failure.kind.name(), "postcondition", "seed {seed}: {text}");
        assert_one_minimal::<BagModel, Bag<true>>(&result.minimal);
    }
}
