//! Concurrent stress with rules that are not valid in every state: rounds drawn at the barrier
//! as parallel programs from the states the round may start in.

use stateprop::prelude::*;
use stateprop::stress::{Stress, StressPlan, StressResult, StressVerdict};
use stateprop::ConcurrentSystem;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Mutex;

#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Stack(Vec<u32>);

#[derive(Debug, Clone, StateMachine)]
#[state_machine(model = Stack)]
pub enum StackOp {
    // Few values: stacks pushed in different orders are often the same state, which keeps the
    // interleaving search (and so this debug-build test) cheap.
    Push {
        #[strategy(0..4u32)]
        value: u32,
    },
    #[rule(precondition = |m: &Stack| !m.0.is_empty())]
    Pop,
}

impl Model for Stack {
    type Op = StackOp;
    type Output = Option<u32>;
    fn step(&mut self, op: &StackOp) -> Option<u32> {
        match *op {
            StackOp::Push { value } => {
                self.0.push(value);
                None
            }
            // The precondition is what keeps this from panicking: a `Pop` run where some
            // interleaving leaves the stack empty would be a model panic, not a verdict.
            StackOp::Pop => Some(self.0.pop().expect("a `Pop` runs on a non-empty stack")),
        }
    }
}

/// A correct stack.
#[derive(Default)]
pub struct LockedStack(Mutex<Vec<u32>>);

impl ConcurrentSystem<Stack> for LockedStack {
    fn apply(&self, op: &StackOp) -> Option<u32> {
        let mut v = self.0.lock().unwrap();
        match *op {
            StackOp::Push { value } => {
                v.push(value);
                None
            }
            StackOp::Pop => v.pop(),
        }
    }
}

/// A stack whose `Pop` reads the top, lets go of the lock, then removes the top: two pops at
/// once return the same element (and one is lost).
#[derive(Default)]
pub struct RacyStack(Mutex<Vec<u32>>);

impl ConcurrentSystem<Stack> for RacyStack {
    fn apply(&self, op: &StackOp) -> Option<u32> {
        match *op {
            StackOp::Push { value } => {
                self.0.lock().unwrap().push(value);
                None
            }
            StackOp::Pop => {
                let top = self.0.lock().unwrap().last().copied();
                std::thread::yield_now();
                self.0.lock().unwrap().pop();
                top
            }
        }
    }
}

fn count(result: &StressResult, rule: &str) -> u64 {
    (result.latencies.iter())
        .find(|l| l.rule == rule)
        .map_or(0, |l| l.count)
}

/// The percentage in the note that says how much of the asked rounds was drawn.
fn drawn_percent(result: &StressResult) -> f64 {
    let note = (result.notes.iter())
        .find(|n| n.contains("drawn at the barrier as parallel programs"))
        .unwrap_or_else(|| panic!("no note on the drawn rounds: {:?}", result.notes));
    let inside = note.split('(').nth(2).and_then(|s| s.split('%').next());
    inside
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("{note}"))
}

#[test]
fn a_correct_stack_passes_with_pop_drawn_from_the_round_s_start_states() {
    // Every call timed, so the latency counts are the operations of each rule.
    let plan = StressPlan::operations(3_000)
        .threads(3)
        .round(16)
        .weight("Push", 1)
        .weight("Pop", 2)
        .seed(4)
        .latency_every(1);
    let result = Stress::<Stack, LockedStack>::new(plan)
        .ignore_env()
        .quiet()
        .run_concurrent(LockedStack::default)
        .unwrap();
    assert!(result.passed(), "{}", result.text());
    assert_eq!(result.operations, 3_000);
    let (pushes, pops) = (count(&result, "Push"), count(&result, "Pop"));
    assert!(pushes > 0 && pops > 0, "{}", result.text());
    assert_eq!(pushes + pops, 3_000);
    assert!(drawn_percent(&result) > 0.0, "{:?}", result.notes);
    assert!(
        result.max_history_ops.unwrap() <= 3 * 16,
        "a round holds at most its threads' quotas"
    );
}

#[test]
fn a_stack_whose_pop_races_is_found() {
    let plan = StressPlan::operations(200_000)
        .threads(3)
        .round(16)
        .weight("Push", 1)
        .weight("Pop", 2)
        .seed(4);
    let result = Stress::<Stack, RacyStack>::new(plan)
        .ignore_env()
        .quiet()
        .run_concurrent(RacyStack::default)
        .unwrap();
    assert_eq!(result.verdict, StressVerdict::Mismatch, "{}", result.text());
    let f = result.failure.as_ref().unwrap();
    assert!(f.round.is_some() && f.thread.is_some(), "{}", result.text());
    let text = result.text();
    assert!(
        text.contains("the round's history has no linearization"),
        "{text}"
    );
    // The round is tried on fresh systems only when it is valid from the initial state; a
    // shrunk program keeps every `Pop` behind pushes in every interleaving.
    if text.contains("shrunk by the concurrent runner") {
        let program = f.minimal.join(" ; ");
        assert!(program.contains("StackOp::Pop"), "{program}");
        assert!(!text.contains("panicked"), "{text}");
    } else {
        assert!(
            text.contains("the round failed only in the run, not on fresh systems"),
            "{text}"
        );
    }
}

/// A count that may go up to 4 and down to 0: both rules have a precondition.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Slots(u8);

#[derive(Debug, Clone, StateMachine)]
#[state_machine(model = Slots)]
pub enum SlotOp {
    #[rule(precondition = |m: &Slots| m.0 < 4)]
    Take,
    #[rule(precondition = |m: &Slots| m.0 > 0)]
    Give,
}

impl Model for Slots {
    type Op = SlotOp;
    type Output = u8;
    fn step(&mut self, op: &SlotOp) -> u8 {
        match op {
            SlotOp::Take => {
                assert!(self.0 < 4, "every slot is taken");
                self.0 += 1;
            }
            SlotOp::Give => {
                assert!(self.0 > 0, "no slot is taken");
                self.0 -= 1;
            }
        }
        self.0
    }
}

#[derive(Default)]
pub struct AtomicSlots(AtomicI64);

impl ConcurrentSystem<Slots> for AtomicSlots {
    fn apply(&self, op: &SlotOp) -> u8 {
        let by = match op {
            SlotOp::Take => 1,
            SlotOp::Give => -1,
        };
        (self.0.fetch_add(by, Ordering::SeqCst) + by) as u8
    }
}

#[test]
fn a_machine_whose_rules_all_have_preconditions_runs_concurrently() {
    let plan = StressPlan::operations(3_000)
        .threads(2)
        .round(8)
        .seed(2)
        .latency_every(1);
    let result = Stress::<Slots, AtomicSlots>::new(plan)
        .ignore_env()
        .quiet()
        .run_concurrent(AtomicSlots::default)
        .unwrap();
    assert!(result.passed(), "{}", result.text());
    assert_eq!(result.operations, 3_000);
    assert!(count(&result, "Take") > 0 && count(&result, "Give") > 0);
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Handle(pub u64);

impl FromOutput<HandleOut> for Handle {
    fn from_output(output: &HandleOut) -> Option<Handle> {
        match output {
            HandleOut::Opened(h) => Some(Handle(*h)),
            HandleOut::Used(_) => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum HandleOut {
    Opened(u64),
    /// The handle the use was made through, as the table saw it.
    Used(u64),
}

/// Handles opened, numbered from 1. The model holds no more than the count, so its states
/// stay few and small however long the run (the interleaving search hashes each).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Files {
    opened: u64,
}

#[derive(Debug, Clone, StateMachine)]
#[state_machine(model = Files)]
pub enum FileOp {
    Open,
    #[rule(weight = 3)]
    Use {
        h: Var<Handle>,
    },
}

impl Model for Files {
    type Op = FileOp;
    type Output = HandleOut;
    fn step(&mut self, op: &FileOp) -> HandleOut {
        match op {
            FileOp::Open => {
                self.opened += 1;
                HandleOut::Opened(self.opened)
            }
            FileOp::Use { h } => {
                assert!(h.get().0 <= self.opened, "a use of a handle not opened yet");
                HandleOut::Used(h.get().0)
            }
        }
    }
}

/// A file table handing out handles 1, 2, ...; with `MIXED_UP`, a use of every seventh handle
/// answers for the handle after it.
#[derive(Default)]
pub struct Table<const MIXED_UP: bool>(Mutex<u64>);

impl<const MIXED_UP: bool> ConcurrentSystem<Files> for Table<MIXED_UP> {
    fn apply(&self, op: &FileOp) -> HandleOut {
        let mut opened = self.0.lock().unwrap();
        match op {
            FileOp::Open => {
                *opened += 1;
                HandleOut::Opened(*opened)
            }
            FileOp::Use { h } => {
                let h = h.get().0;
                assert!(h <= *opened, "a use of a handle not opened yet");
                HandleOut::Used(if MIXED_UP && h % 7 == 0 { h + 1 } else { h })
            }
        }
    }
}

#[test]
fn handles_opened_and_used_through_vars_on_each_thread_pass_when_correct() {
    let plan = StressPlan::operations(4_000)
        .threads(3)
        .round(8)
        .seed(6)
        .latency_every(1);
    let result = Stress::<Files, Table<false>>::new(plan)
        .ignore_env()
        .quiet()
        .run_concurrent(Table::<false>::default)
        .unwrap();
    assert!(result.passed(), "{}", result.text());
    assert_eq!(result.operations, 4_000);
    assert!(count(&result, "Open") > 0 && count(&result, "Use") > 0);
}

#[test]
fn a_handle_use_counted_wrong_is_found_through_vars() {
    let plan = StressPlan::operations(20_000).threads(3).round(8).seed(6);
    let result = Stress::<Files, Table<true>>::new(plan)
        .ignore_env()
        .quiet()
        .run_concurrent(Table::<true>::default)
        .unwrap();
    assert_eq!(result.verdict, StressVerdict::Mismatch, "{}", result.text());
    let text = result.text();
    assert!(text.contains("FileOp::Use { h: Var::"), "{text}");
}
