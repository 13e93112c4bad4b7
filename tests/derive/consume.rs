//! Retiring a `Var` by its step (Hypothesis's `consumes`): the model records the step ids of
//! closed handles, and the precondition refuses them, so a closed handle is never chosen again
//! even when its number is reused.

use proptest::prelude::*;
use proptest::test_runner::Config as PtConfig;
use stateprop::generate::validate_program;
use stateprop::prelude::*;
use stateprop::{program_from_unstructured, Program, StepId};
use std::collections::BTreeSet;

pub use crate::fd::{Fd, Out};

#[derive(Debug, Clone, Default)]
pub struct Handles {
    open: BTreeSet<Fd>,
    /// The steps whose handles were closed: a var naming one is spent, whatever its number.
    retired: BTreeSet<StepId>,
}

impl Handles {
    fn live(&self, fd: &Var<Fd>) -> bool {
        self.open.contains(fd) && !self.retired.contains(&fd.id())
    }
}

#[derive(Debug, Clone, StateMachine)]
#[state_machine(model = Handles)]
pub enum HandleOp {
    Open,
    #[rule(weight = 3, precondition = |m: &Handles, fd: &Var<Fd>| m.live(fd))]
    Use {
        fd: Var<Fd>,
    },
    #[rule(weight = 2, precondition = |m: &Handles, fd: &Var<Fd>| m.live(fd))]
    Close {
        fd: Var<Fd>,
    },
}

impl Model for Handles {
    type Op = HandleOp;
    type Output = Out;
    fn step(&mut self, op: &HandleOp) -> Out {
        match op {
            HandleOp::Open => {
                let fd = (0..).map(Fd).find(|fd| !self.open.contains(fd)).unwrap();
                self.open.insert(fd);
                Out::Opened(fd)
            }
            HandleOp::Use { .. } => Out::Done,
            HandleOp::Close { fd } => {
                self.open.remove(&**fd);
                self.retired.insert(fd.id());
                Out::Done
            }
        }
    }
}

#[test]
fn validation_refuses_a_closed_handle_whose_number_was_reused() {
    let program = |later: usize| {
        Program::sequential(vec![
            HandleOp::Open,
            HandleOp::Close { fd: Var::at(0) },
            HandleOp::Open,
            HandleOp::Use { fd: Var::at(later) },
        ])
    };
    let err = validate_program(&Handles::default(), &program(0)).unwrap_err();
    assert!(err.contains("step 3"), "{err}");
    validate_program(&Handles::default(), &program(2)).unwrap();
}

proptest! {
    #![proptest_config(PtConfig::with_cases(300))]

    /// No generated step names a handle that an earlier step closed.
    #[test]
    fn a_closed_handle_is_never_chosen_again(
        bytes in proptest::collection::vec(any::<u8>(), 0..2048),
    ) {
        let mut u = arbitrary::Unstructured::new(&bytes);
        let ops = program_from_unstructured(&Handles::default(), &mut u, 60).unwrap();
        let mut closed = BTreeSet::new();
        for op in &ops {
            match op {
                HandleOp::Use { fd } => prop_assert!(!closed.contains(&fd.id()), "{:?}", ops),
                HandleOp::Close { fd } => {
                    prop_assert!(closed.insert(fd.id()), "closed twice: {:?}", ops)
                }
                HandleOp::Open => {}
            }
        }
        validate_program(&Handles::default(), &Program::sequential(ops)).unwrap();
    }
}
