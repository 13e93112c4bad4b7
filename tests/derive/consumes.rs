//! `#[consumes]` on a `Var` field (Hypothesis's `consumes`): once a step used a result up, no
//! later step names it, while a handle with the same number handed out later is a new result
//! and free to use. The model keeps no record of closed handles: the derive does.

use proptest::prelude::*;
use proptest::test_runner::Config as PtConfig;
use stateprop::generate::validate_program;
use stateprop::prelude::*;
use stateprop::{program_from_unstructured, Program, StepId};
use std::collections::BTreeSet;

pub use crate::fd::{Fd, Out};

/// Open descriptors only: numbers are reused lowest first, as POSIX does.
#[derive(Debug, Clone, Default)]
pub struct Open {
    fds: BTreeSet<Fd>,
}

#[derive(Debug, Clone, StateMachine)]
#[state_machine(model = Open)]
pub enum FileOp {
    Open,
    #[rule(weight = 3)]
    Use {
        fd: Var<Fd>,
    },
    #[rule(weight = 2)]
    Close {
        #[consumes]
        fd: Var<Fd>,
    },
}

impl Model for Open {
    type Op = FileOp;
    type Output = Out;
    fn step(&mut self, op: &FileOp) -> Out {
        match op {
            FileOp::Open => {
                let fd = (0..).map(Fd).find(|fd| !self.fds.contains(fd)).unwrap();
                self.fds.insert(fd);
                Out::Opened(fd)
            }
            // No check here that `fd` is open: a step naming a closed one must run, for the
            // tests to see it.
            FileOp::Use { .. } => Out::Done,
            FileOp::Close { fd } => {
                self.fds.remove(fd);
                Out::Done
            }
        }
    }
}

/// The step the var of `op` names, if it has one.
fn vars_of(op: &FileOp) -> Option<StepId> {
    match op {
        FileOp::Use { fd } | FileOp::Close { fd } => Some(fd.id()),
        FileOp::Open => None,
    }
}

#[test]
fn the_derive_reports_which_fields_consume() {
    assert!(FileOp::consumes_vars());
    let mut seen = Vec::new();
    FileOp::Close { fd: Var::at(4) }.consumed_vars(&mut |id| seen.push(id));
    FileOp::Use { fd: Var::at(5) }.consumed_vars(&mut |id| seen.push(id));
    assert_eq!(seen, [StepId::prefix(4)]);
}

#[test]
fn validation_refuses_a_step_naming_a_consumed_result() {
    let closed_then = |op: FileOp| {
        Program::sequential(vec![
            FileOp::Open,
            FileOp::Close { fd: Var::at(0) },
            FileOp::Open,
            op,
        ])
    };
    let err = validate_program(
        &Open::default(),
        &closed_then(FileOp::Use { fd: Var::at(0) }),
    )
    .unwrap_err();
    assert!(
        err.contains("step 3") && err.contains("#[consumes]"),
        "{err}"
    );
    let err = validate_program(
        &Open::default(),
        &closed_then(FileOp::Close { fd: Var::at(0) }),
    )
    .unwrap_err();
    assert!(err.contains("#[consumes]"), "{err}");
    // The descriptor opened again has the same number but is a new result.
    validate_program(
        &Open::default(),
        &closed_then(FileOp::Use { fd: Var::at(2) }),
    )
    .unwrap();
}

#[test]
fn a_close_in_one_branch_holds_for_every_other_branch() {
    let prefix = vec![FileOp::Open];
    let close = FileOp::Close { fd: Var::at(0) };
    let use_it = FileOp::Use { fd: Var::at(0) };
    // The close may run before the other branch's use: a prefix result one branch uses up is
    // unavailable to every other branch.
    let apart = Program::parallel(
        prefix.clone(),
        vec![vec![close.clone()], vec![use_it.clone()]],
    );
    let err = validate_program(&Open::default(), &apart).unwrap_err();
    assert!(
        err.starts_with(
            "branch 1 step 0, FileOp::Use { fd: Var::at(0) }, has a `Var` naming step 0"
        ),
        "{err}"
    );
    assert!(err.contains("branch 0 step 0"), "{err}");
    // Each branch alone is fine.
    for branch in [close.clone(), use_it.clone()] {
        validate_program(
            &Open::default(),
            &Program::parallel(prefix.clone(), vec![vec![branch]]),
        )
        .unwrap();
    }
    // Within one branch the close holds.
    let same = Program::parallel(prefix.clone(), vec![vec![close.clone(), use_it.clone()]]);
    let err = validate_program(&Open::default(), &same).unwrap_err();
    assert!(err.contains("#[consumes]"), "{err}");
    // A close in the prefix holds in every branch.
    let before = Program::parallel(vec![FileOp::Open, close], vec![vec![use_it]]);
    let err = validate_program(&Open::default(), &before).unwrap_err();
    assert!(err.contains("#[consumes]"), "{err}");
}

proptest! {
    #![proptest_config(PtConfig::with_cases(300))]

    /// No generated step names a result an earlier step consumed.
    #[test]
    fn a_consumed_result_is_never_chosen_again(
        bytes in proptest::collection::vec(any::<u8>(), 0..2048),
    ) {
        let mut u = arbitrary::Unstructured::new(&bytes);
        let ops = program_from_unstructured(&Open::default(), &mut u, 60).unwrap();
        let mut consumed = BTreeSet::new();
        for op in &ops {
            if let Some(id) = vars_of(op) {
                prop_assert!(!consumed.contains(&id), "{:?}", ops);
            }
            if let FileOp::Close { fd } = op {
                consumed.insert(fd.id());
            }
        }
        validate_program(&Open::default(), &Program::sequential(ops)).unwrap();
    }
}
