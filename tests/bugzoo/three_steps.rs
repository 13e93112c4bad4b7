//! A wrong answer that needs three steps: a stack whose pop misreads a stack of exactly two.

use crate::{assert_finds, assert_passes};
use stateprop::prelude::*;

#[derive(Debug, Clone, Default)]
pub struct StackModel(Vec<u32>);

#[derive(Debug, Clone, StateMachine)]
#[state_machine(model = StackModel)]
pub enum StackOp {
    #[rule(weight = 2)]
    Push {
        value: u32,
    },
    Pop,
}

impl Model for StackModel {
    type Op = StackOp;
    type Output = Option<u32>;
    fn step(&mut self, op: &StackOp) -> Option<u32> {
        match *op {
            StackOp::Push { value } => {
                self.0.push(value);
                None
            }
            StackOp::Pop => self.0.pop(),
        }
    }
}

#[derive(Default)]
pub struct Stack<const BUGGY: bool>(Vec<u32>);

impl<const BUGGY: bool> System<StackModel> for Stack<BUGGY> {
    fn apply(&mut self, op: &StackOp) -> Option<u32> {
        match *op {
            StackOp::Push { value } => {
                self.0.push(value);
                None
            }
            // The planted bug: a pair looks empty.
            StackOp::Pop if BUGGY && self.0.len() == 2 => None,
            StackOp::Pop => self.0.pop(),
        }
    }
}

/// The minimal program, as Rust source per step (the zoo test and the findpower bench compare
/// against it).
pub const EXPECTED: &[&str] = &[
    "StackOp::Push { value: 0 }",
    "StackOp::Push { value: 0 }",
    "StackOp::Pop",
];

#[test]
fn finds_a_wrong_answer_after_three_steps() {
    assert_finds::<StackModel, Stack<true>>(
        Config::default().ignore_env(),
        EXPECTED,
        "postcondition",
    );
}

#[test]
fn correct_stack_passes() {
    assert_passes::<StackModel, Stack<false>>(Config::default().ignore_env(), 3000);
}
