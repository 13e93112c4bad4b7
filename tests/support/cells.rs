//! A machine of cells behind handles the system names (`Create` returns an id the model cannot
//! predict; `Write` and `Read` go through a `Var`), and histories of it recorded by hand: shared by
//! the checker and render tests of `Var` histories.

#![allow(dead_code)] // each test target uses part of it

use stateprop::history::{History, Operation};
use stateprop::prelude::*;
use stateprop::StepId;
use std::collections::BTreeMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Id(pub u32);

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Out {
    Made(Id),
    Done,
    Value(u32),
}

impl FromOutput<Out> for Id {
    fn from_output(output: &Out) -> Option<Self> {
        match output {
            Out::Made(id) => Some(*id),
            _ => None,
        }
    }
}

/// Cells behind handles: `Create` makes a cell holding 0 and hands out its handle, or answers
/// `Done` when [`CAPACITY`] cells exist (then no var can be bound to its output).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Cells {
    next: u32,
    cells: BTreeMap<u32, u32>,
}

pub const CAPACITY: u32 = 3;

#[derive(Debug, Clone, PartialEq, StateMachine)]
#[state_machine(model = Cells)]
pub enum CellOp {
    Create,
    Write { h: Var<Id>, v: u32 },
    Read { h: Var<Id> },
}

impl Model for Cells {
    type Op = CellOp;
    type Output = Out;
    fn step(&mut self, op: &CellOp) -> Out {
        match op {
            CellOp::Create if self.next == CAPACITY => Out::Done,
            CellOp::Create => {
                self.cells.insert(self.next, 0);
                self.next += 1;
                Out::Made(Id(self.next - 1))
            }
            CellOp::Write { h, v } => {
                self.cells.insert(h.get().0, *v);
                Out::Done
            }
            CellOp::Read { h } => Out::Value(self.cells.get(&h.get().0).copied().unwrap_or(0)),
        }
    }

    // The system picks its own ids: any id is a right answer to `Create` (and, leniently, a
    // full model accepts one too).
    fn outputs_match(&self, op: &CellOp, expected: &Out, actual: &Out) -> bool {
        match op {
            CellOp::Create => matches!(actual, Out::Made(_)),
            _ => expected == actual,
        }
    }
}

pub fn p(i: usize) -> StepId {
    StepId::prefix(i)
}

pub fn b(branch: u16, i: usize) -> StepId {
    StepId::in_branch(branch, i)
}

pub fn write(h: StepId, v: u32) -> CellOp {
    CellOp::Write { h: Var::to(h), v }
}

pub fn read(h: StepId) -> CellOp {
    CellOp::Read { h: Var::to(h) }
}

/// A recorded history: (client, step, op, call, ret, output), `ret` `None` when it never
/// returned.
pub type Row = (u64, StepId, CellOp, u64, Option<u64>, Option<Out>);

pub fn recorded(rows: Vec<Row>) -> History<CellOp, Out> {
    let mut h = History::new();
    for (client, step, op, call, ret, output) in rows {
        h.ops.push(Operation {
            client,
            op,
            call,
            ret,
            output,
        });
        h.steps.push(step);
    }
    h
}
