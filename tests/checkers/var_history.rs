//! A history of operations that hold `Var`s. What a `Var` means in a recorded history is not
//! decided yet (see issue 7): until it is, checking one must be reported, not crash the caller.

use stateprop::check::{check_linearizable, CheckConfig, Verdict};
use stateprop::history::History;
use stateprop::prelude::*;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Id(u32);

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Out {
    Made(Id),
    Seen(bool),
}

impl FromOutput<Out> for Id {
    fn from_output(output: &Out) -> Option<Self> {
        match output {
            Out::Made(id) => Some(*id),
            Out::Seen(_) => None,
        }
    }
}

/// Handles made so far.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Handles {
    made: u32,
}

#[derive(Debug, Clone, StateMachine)]
#[state_machine(model = Handles)]
pub enum HandleOp {
    Make,
    Look { handle: Var<Id> },
}

impl Model for Handles {
    type Op = HandleOp;
    type Output = Out;
    fn step(&mut self, op: &HandleOp) -> Out {
        match op {
            HandleOp::Make => {
                self.made += 1;
                Out::Made(Id(self.made - 1))
            }
            HandleOp::Look { handle } => Out::Seen(handle.get().0 < self.made),
        }
    }
}

#[test]
fn a_history_whose_operations_hold_vars_is_reported_not_a_crash() {
    let mut h: History<HandleOp, Out> = History::new();
    h.push(0, HandleOp::Make, 0, 1, Out::Made(Id(0)));
    h.push(
        0,
        HandleOp::Look { handle: Var::at(0) },
        2,
        3,
        Out::Seen(true),
    );
    let report = check_linearizable(&h, &Handles::default(), &CheckConfig::default());
    let Verdict::Unknown(reason) = &report.verdict else {
        panic!("expected an unknown verdict, got {:?}", report.verdict);
    };
    let panic = report
        .model_panic
        .as_ref()
        .expect("the model's panic, reported");
    assert!(reason.contains("panicked"), "{reason}");
    assert!(panic.op_text.contains("Look"), "{panic:?}");
}
