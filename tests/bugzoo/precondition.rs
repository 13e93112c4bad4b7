//! A bug behind a precondition: `Compact` may only run on three or more items, and it drops
//! the last one. Deleting any push disables `Compact`, so the minimal program keeps all three.

use crate::{assert_finds, assert_passes};
use stateprop::prelude::*;

#[derive(Debug, Clone, Default)]
pub struct Items(Vec<u8>);

#[derive(Debug, Clone, StateMachine)]
#[state_machine(model = Items)]
pub enum ItemOp {
    #[rule(weight = 4)]
    Push {
        value: u8,
    },
    Pop,
    #[rule(precondition = |m: &Items| m.0.len() >= 3)]
    Compact,
}

impl Model for Items {
    type Op = ItemOp;
    type Output = Option<usize>;
    fn step(&mut self, op: &ItemOp) -> Option<usize> {
        match *op {
            ItemOp::Push { value } => {
                self.0.push(value);
                None
            }
            ItemOp::Pop => self.0.pop().map(usize::from),
            ItemOp::Compact => Some(self.0.len()),
        }
    }
}

#[derive(Default)]
pub struct Compactor<const BUGGY: bool>(Vec<u8>);

impl<const BUGGY: bool> System<Items> for Compactor<BUGGY> {
    fn apply(&mut self, op: &ItemOp) -> Option<usize> {
        match *op {
            ItemOp::Push { value } => {
                self.0.push(value);
                None
            }
            ItemOp::Pop => self.0.pop().map(usize::from),
            ItemOp::Compact => {
                // The planted bug: an off-by-one in the copy loses the last item.
                let keep = if BUGGY {
                    self.0.len() - 1
                } else {
                    self.0.len()
                };
                self.0 = self.0[..keep].to_vec();
                Some(self.0.len())
            }
        }
    }
}

/// The minimal program, as Rust source per step (the zoo test and the findpower bench compare
/// against it).
pub const EXPECTED: &[&str] = &[
    "ItemOp::Push { value: 0 }",
    "ItemOp::Push { value: 0 }",
    "ItemOp::Push { value: 0 }",
    "ItemOp::Compact",
];

#[test]
fn finds_a_bug_behind_a_precondition() {
    assert_finds::<Items, Compactor<true>>(
        Config::default().ignore_env(),
        EXPECTED,
        "postcondition",
    );
}

#[test]
fn correct_compactor_passes() {
    assert_passes::<Items, Compactor<false>>(Config::default().ignore_env(), 3000);
}
