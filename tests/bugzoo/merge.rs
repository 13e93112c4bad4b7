//! Two handles where one suffices: a store that drops the third write of a session when it
//! overwrites an object already written. The generator often spreads the writes over two
//! objects (one write to the first, two to the second); that program is 1-minimal, since
//! deleting either creation drops its writes and moving one write alone loses the failure. Only
//! merging the second object into the first (every use moved, its creation deleted) gets to the
//! minimal program.

use crate::{assert_finds, assert_passes};
use stateprop::prelude::*;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Obj(pub usize);

#[derive(Debug, Clone, PartialEq)]
pub enum LogOut {
    Created(Obj),
    Value(u32),
    Done,
}

impl FromOutput<LogOut> for Obj {
    fn from_output(output: &LogOut) -> Option<Obj> {
        match output {
            LogOut::Created(o) => Some(*o),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct LogModel(Vec<u32>);

#[derive(Debug, Clone, StateMachine)]
#[state_machine(model = LogModel)]
pub enum LogOp {
    #[rule(weight = 3)]
    Create,
    #[rule(weight = 3)]
    Write {
        obj: Var<Obj>,
        #[strategy(0..4u32)]
        value: u32,
    },
    #[rule(weight = 2)]
    Read { obj: Var<Obj> },
}

impl Model for LogModel {
    type Op = LogOp;
    type Output = LogOut;
    fn step(&mut self, op: &LogOp) -> LogOut {
        match op {
            LogOp::Create => {
                self.0.push(0);
                LogOut::Created(Obj(self.0.len() - 1))
            }
            LogOp::Write { obj, value } => {
                self.0[obj.0] = *value;
                LogOut::Done
            }
            LogOp::Read { obj } => LogOut::Value(self.0[obj.0]),
        }
    }
}

/// Objects and a write count; after two writes the store has compacted its log, and the
/// compacted path for overwriting an object writes nowhere when buggy.
#[derive(Default)]
pub struct LogStore<const BUGGY: bool> {
    values: Vec<u32>,
    written: Vec<bool>,
    writes: u32,
}

impl<const BUGGY: bool> System<LogModel> for LogStore<BUGGY> {
    fn apply(&mut self, op: &LogOp) -> LogOut {
        match op {
            LogOp::Create => {
                self.values.push(0);
                self.written.push(false);
                LogOut::Created(Obj(self.values.len() - 1))
            }
            LogOp::Write { obj, value } => {
                let i = obj.0;
                // The planted bug: the overwrite after compaction is lost.
                let lost = BUGGY && self.writes >= 2 && self.written[i];
                if !lost {
                    self.values[i] = *value;
                }
                self.written[i] = true;
                self.writes += 1;
                LogOut::Done
            }
            LogOp::Read { obj } => LogOut::Value(self.values[obj.0]),
        }
    }
}

/// The minimal program, as Rust source per step (the zoo test and the findpower bench compare
/// against it).
pub const EXPECTED: &[&str] = &[
    "LogOp::Create",
    "LogOp::Write { obj: Var::at(0), value: 0 }",
    "LogOp::Write { obj: Var::at(0), value: 0 }",
    "LogOp::Write { obj: Var::at(0), value: 1 }",
    "LogOp::Read { obj: Var::at(0) }",
];

#[test]
fn merges_two_handles_into_one() {
    assert_finds::<LogModel, LogStore<true>>(
        Config::default().ignore_env(),
        EXPECTED,
        "postcondition",
    );
}

#[test]
fn correct_log_store_passes() {
    assert_passes::<LogModel, LogStore<false>>(Config::default().ignore_env(), 3000);
}
