//! An invariant break: a set that counts a duplicate insert as a new element.

use crate::{assert_finds, assert_passes};
use stateprop::prelude::*;
use std::collections::BTreeSet;

#[derive(Debug, Clone, Default)]
pub struct SetModel(BTreeSet<u16>);

#[derive(Debug, Clone, StateMachine)]
#[state_machine(model = SetModel)]
pub enum SetOp {
    Insert {
        #[strategy(0..1000u16)]
        x: u16,
    },
    Remove {
        #[strategy(0..1000u16)]
        x: u16,
    },
    Contains {
        #[strategy(0..1000u16)]
        x: u16,
    },
}

impl Model for SetModel {
    type Op = SetOp;
    type Output = bool;
    fn step(&mut self, op: &SetOp) -> bool {
        match *op {
            SetOp::Insert { x } => self.0.insert(x),
            SetOp::Remove { x } => self.0.remove(&x),
            SetOp::Contains { x } => self.0.contains(&x),
        }
    }
}

#[derive(Default)]
pub struct CountedSet<const BUGGY: bool> {
    items: Vec<u16>,
    count: usize,
}

impl<const BUGGY: bool> System<SetModel> for CountedSet<BUGGY> {
    fn apply(&mut self, op: &SetOp) -> bool {
        match *op {
            SetOp::Insert { x } => {
                let new = !self.items.contains(&x);
                if new {
                    self.items.push(x);
                }
                // The planted bug: the count goes up even for a duplicate.
                if new || BUGGY {
                    self.count += 1;
                }
                new
            }
            SetOp::Remove { x } => match self.items.iter().position(|&i| i == x) {
                Some(at) => {
                    self.items.swap_remove(at);
                    self.count -= 1;
                    true
                }
                None => false,
            },
            SetOp::Contains { x } => self.items.contains(&x),
        }
    }

    fn invariant(&self, model: &SetModel) -> Result<(), String> {
        if self.count == model.0.len() {
            Ok(())
        } else {
            Err(format!(
                "count is {}, the set holds {}",
                self.count,
                model.0.len()
            ))
        }
    }
}

/// The minimal program, as Rust source per step (the zoo test and the findpower bench compare
/// against it).
pub const EXPECTED: &[&str] = &["SetOp::Insert { x: 0 }", "SetOp::Insert { x: 0 }"];

#[test]
fn finds_an_invariant_break() {
    // Inserting the same value twice: the two values shrink together to 0.
    assert_finds::<SetModel, CountedSet<true>>(
        Config::default().ignore_env().steps(1..60),
        EXPECTED,
        "invariant",
    );
}

#[test]
fn correct_set_passes() {
    assert_passes::<SetModel, CountedSet<false>>(Config::default().ignore_env(), 3000);
}
