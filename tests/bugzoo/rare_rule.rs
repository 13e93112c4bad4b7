//! A bug found only through a rare rule: `Reset` has weight 1 against 100 for the others.
//! Swarm testing (cases that leave common rules out) makes it come up.

use crate::{assert_finds, assert_passes};
use stateprop::prelude::*;

#[derive(Debug, Clone, Default)]
pub struct Count(u64);

#[derive(Debug, Clone, StateMachine)]
#[state_machine(model = Count)]
pub enum CountOp {
    #[rule(weight = 100)]
    Inc,
    #[rule(weight = 100)]
    Get,
    #[rule(weight = 1)]
    Reset,
}

impl Model for Count {
    type Op = CountOp;
    type Output = Option<u64>;
    fn step(&mut self, op: &CountOp) -> Option<u64> {
        match op {
            CountOp::Inc => self.0 += 1,
            CountOp::Get => return Some(self.0),
            CountOp::Reset => self.0 = 0,
        }
        None
    }
}

#[derive(Default)]
pub struct Counter<const BUGGY: bool>(u64);

impl<const BUGGY: bool> System<Count> for Counter<BUGGY> {
    fn apply(&mut self, op: &CountOp) -> Option<u64> {
        match op {
            CountOp::Inc => self.0 += 1,
            CountOp::Get => return Some(self.0),
            // The planted bug: reset lands on 1, not 0.
            CountOp::Reset => self.0 = u64::from(BUGGY),
        }
        None
    }
}

/// The minimal program, as Rust source per step (the zoo test and the findpower bench compare
/// against it).
pub const EXPECTED: &[&str] = &["CountOp::Reset", "CountOp::Get"];

#[test]
fn finds_a_bug_behind_a_rare_rule() {
    assert_finds::<Count, Counter<true>>(Config::default().ignore_env(), EXPECTED, "postcondition");
}

#[test]
fn correct_counter_passes() {
    assert_passes::<Count, Counter<false>>(Config::default().ignore_env(), 3000);
}
