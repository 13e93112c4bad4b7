//! A panic in the system under test: a stack whose clear forgets its length, so the next pop
//! indexes past the end. The panic is a reported failure at that step, not a crashed harness.

use crate::{assert_finds, assert_passes, run, SEEDS};
use stateprop::prelude::*;

#[derive(Debug, Clone, Default)]
pub struct Model2(Vec<u8>);

#[derive(Debug, Clone, StateMachine)]
#[state_machine(model = Model2)]
pub enum Op {
    #[rule(weight = 3)]
    Push {
        value: u8,
    },
    Pop,
    Clear,
}

impl Model for Model2 {
    type Op = Op;
    type Output = Option<u8>;
    fn step(&mut self, op: &Op) -> Option<u8> {
        match *op {
            Op::Push { value } => {
                self.0.push(value);
                None
            }
            Op::Pop => self.0.pop(),
            Op::Clear => {
                self.0.clear();
                None
            }
        }
    }
}

#[derive(Default)]
pub struct LenStack<const BUGGY: bool> {
    items: Vec<u8>,
    len: usize,
}

impl<const BUGGY: bool> System<Model2> for LenStack<BUGGY> {
    fn apply(&mut self, op: &Op) -> Option<u8> {
        match *op {
            Op::Push { value } => {
                self.items.push(value);
                self.len += 1;
                None
            }
            Op::Pop => {
                if self.len == 0 {
                    return None;
                }
                self.len -= 1;
                Some(self.items.remove(self.len))
            }
            Op::Clear => {
                self.items.clear();
                // The planted bug: the length survives the clear.
                if !BUGGY {
                    self.len = 0;
                }
                None
            }
        }
    }
}

/// The minimal program, as Rust source per step (the zoo test and the findpower bench compare
/// against it).
pub const EXPECTED: &[&str] = &["Op::Push { value: 0 }", "Op::Clear", "Op::Pop"];

#[test]
fn a_panic_is_a_reported_failure() {
    assert_finds::<Model2, LenStack<true>>(Config::default().ignore_env(), EXPECTED, "panic");
    let result = run::<Model2, LenStack<true>>(Config::default().ignore_env(), SEEDS[0]);
    let text = result.report.text();
    assert!(
        text.contains("the system panicked at step 2 of 3, in Op::Pop: removal index (is 0) should be < len (is 0)"),
        "{text}"
    );
}

#[test]
fn correct_stack_passes() {
    assert_passes::<Model2, LenStack<false>>(Config::default().ignore_env(), 3000);
}
