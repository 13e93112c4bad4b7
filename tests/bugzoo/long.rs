//! A bug that needs more than 40 steps: a log that silently caps itself at 40 entries.

use crate::{assert_finds, assert_passes};
use stateprop::prelude::*;

#[derive(Debug, Clone, Default)]
pub struct LogModel(Vec<u8>);

#[derive(Debug, Clone, StateMachine)]
#[state_machine(model = LogModel)]
pub enum LogOp {
    #[rule(weight = 20)]
    Append {
        byte: u8,
    },
    Len,
    Clear,
}

impl Model for LogModel {
    type Op = LogOp;
    type Output = Option<usize>;
    fn step(&mut self, op: &LogOp) -> Option<usize> {
        match *op {
            LogOp::Append { byte } => {
                self.0.push(byte);
                None
            }
            LogOp::Len => Some(self.0.len()),
            LogOp::Clear => {
                self.0.clear();
                None
            }
        }
    }
}

/// A ring of 40 slots standing in for an unbounded log.
pub struct Ring<const BUGGY: bool> {
    slots: Vec<u8>,
    head: usize,
    spill: Vec<u8>,
}

impl<const BUGGY: bool> Default for Ring<BUGGY> {
    fn default() -> Self {
        Ring {
            slots: Vec::with_capacity(40),
            head: 0,
            spill: Vec::new(),
        }
    }
}

impl<const BUGGY: bool> System<LogModel> for Ring<BUGGY> {
    fn apply(&mut self, op: &LogOp) -> Option<usize> {
        match *op {
            LogOp::Append { byte } => {
                if self.slots.len() < 40 {
                    self.slots.push(byte);
                } else if BUGGY {
                    // The planted bug: a full ring overwrites its oldest entry.
                    self.slots[self.head] = byte;
                    self.head = (self.head + 1) % 40;
                } else {
                    self.spill.push(byte);
                }
                None
            }
            LogOp::Len => Some(self.slots.len() + self.spill.len()),
            LogOp::Clear => {
                *self = Ring::default();
                None
            }
        }
    }
}

/// The minimal program, as Rust source per step (the zoo test and the findpower bench compare
/// against it).
pub fn expected() -> Vec<&'static str> {
    let mut expected = vec!["LogOp::Append { byte: 0 }"; 41];
    expected.push("LogOp::Len");
    expected
}

/// Program lengths the bug needs: 42 steps at least, past the default 32.
pub const STEPS: std::ops::RangeInclusive<usize> = 1..=120;

#[test]
fn finds_a_bug_that_needs_41_appends() {
    assert_finds::<LogModel, Ring<true>>(
        Config::default().ignore_env().steps(STEPS).cases(1000),
        &expected(),
        "postcondition",
    );
}

#[test]
fn correct_ring_passes() {
    assert_passes::<LogModel, Ring<false>>(Config::default().ignore_env().steps(STEPS), 2000);
}
