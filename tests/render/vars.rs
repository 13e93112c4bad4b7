//! A history whose operations hold `Var`s draws like any other: the states shown are the model's,
//! with each var bound to the model's output of the step it names.

use stateprop::check::{check_linearizable, CheckConfig, Verdict};
use stateprop::history::{History, Operation};
use stateprop::prelude::*;
use stateprop::render::render_html;
use stateprop::StepId;
use std::collections::BTreeMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct Id(u32);

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Out {
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

/// Cells behind handles the system names (the model numbers them from 0).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
struct Cells {
    next: u32,
    cells: BTreeMap<u32, u32>,
}

#[derive(Debug, Clone, PartialEq, StateMachine)]
#[state_machine(model = Cells)]
enum CellOp {
    Create,
    Write { h: Var<Id>, v: u32 },
    Read { h: Var<Id> },
}

impl Model for Cells {
    type Op = CellOp;
    type Output = Out;
    fn step(&mut self, op: &CellOp) -> Out {
        match op {
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

    fn outputs_match(&self, op: &CellOp, expected: &Out, actual: &Out) -> bool {
        match op {
            CellOp::Create => matches!(actual, Out::Made(_)),
            _ => expected == actual,
        }
    }
}

fn history(read_back: u32) -> History<CellOp, Out> {
    let rows = [
        (StepId::prefix(0), CellOp::Create, Out::Made(Id(907))),
        (StepId::prefix(1), CellOp::Create, Out::Made(Id(13))),
        (
            StepId::prefix(2),
            CellOp::Write {
                h: Var::at(1),
                v: 5,
            },
            Out::Done,
        ),
        (
            StepId::prefix(3),
            CellOp::Read { h: Var::at(1) },
            Out::Value(read_back),
        ),
    ];
    let mut h = History::new();
    for (i, (step, op, output)) in rows.into_iter().enumerate() {
        let t = 2 * i as u64;
        h.ops.push(Operation {
            client: 0,
            op,
            call: t,
            ret: Some(t + 1),
            output: Some(output),
        });
        h.steps.push(step);
    }
    h
}

#[test]
fn a_linearizable_var_history_draws_the_models_states() {
    let h = history(5);
    let report = check_linearizable(&h, &Cells::default(), &CheckConfig::default());
    assert!(report.verdict.holds(), "{:?}", report.verdict);
    let page = render_html(&h, &Cells::default(), &report, |_| (), "vars");
    // The write went to the model's cell 1 (the var bound to the model's id, not the system's 13).
    assert!(
        page.contains("1: 5"),
        "no state with cell 1 holding 5:\n{page}"
    );
}

#[test]
fn a_var_history_that_is_not_linearizable_draws_its_blocked_read() {
    let h = history(0);
    let report = check_linearizable(&h, &Cells::default(), &CheckConfig::default());
    let Verdict::Violated(v) = &report.verdict else {
        panic!("expected a violation: {:?}", report.verdict);
    };
    assert_eq!(v.blocked, 3);
    let page = render_html(&h, &Cells::default(), &report, |_| (), "vars");
    assert!(
        page.contains("Value(5)"),
        "the model's answer is not drawn:\n{page}"
    );
}
