//! The descriptor table of `descriptors`, its closed handles retired by `#[consumes]` instead of
//! a set of retired steps in the model: the model holds only the open descriptors, and no rule
//! needs a precondition. The bug is the same: closing forgets to clear the slot's buffer, so a
//! reopened descriptor (the same number) reads what the closed one wrote.

use crate::{assert_finds, assert_passes, run, SEEDS};
use stateprop::prelude::*;
use std::collections::{BTreeMap, BTreeSet};

pub use crate::descriptors::{Fd, FdOut, Slots};

#[derive(Debug, Clone, Default)]
pub struct Table {
    files: BTreeMap<Fd, Vec<u8>>,
}

#[derive(Debug, Clone, StateMachine)]
#[state_machine(model = Table)]
pub enum FdOp {
    Open,
    #[rule(weight = 2)]
    Write {
        fd: Var<Fd>,
        byte: u8,
    },
    #[rule(weight = 2)]
    Read {
        fd: Var<Fd>,
    },
    Close {
        #[consumes]
        fd: Var<Fd>,
    },
}

impl Model for Table {
    type Op = FdOp;
    type Output = FdOut;
    fn step(&mut self, op: &FdOp) -> FdOut {
        // `expect`s, not checks: `#[consumes]` is what keeps a closed descriptor out.
        match op {
            FdOp::Open => {
                let fd = (0..).map(Fd).find(|fd| !self.files.contains_key(fd));
                self.files.insert(fd.expect("a free slot"), Vec::new());
                FdOut::Opened(fd.expect("a free slot"))
            }
            FdOp::Write { fd, byte } => {
                self.files.get_mut(&**fd).expect("open").push(*byte);
                FdOut::Done
            }
            FdOp::Read { fd } => FdOut::Data(self.files.get(&**fd).expect("open").clone()),
            FdOp::Close { fd } => {
                self.files.remove(&**fd).expect("open");
                FdOut::Done
            }
        }
    }
}

/// The slot table of `descriptors`, driven by this machine's operations.
pub type Descriptors<const BUGGY: bool> = Slots<BUGGY>;

impl<const BUGGY: bool> System<Table> for Slots<BUGGY> {
    fn apply(&mut self, op: &FdOp) -> FdOut {
        match op {
            FdOp::Open => self.open(),
            FdOp::Write { fd, byte } => self.write(**fd, *byte),
            FdOp::Read { fd } => self.read(**fd),
            FdOp::Close { fd } => self.close(**fd),
        }
    }
}

/// The expected minimal program.
pub const EXPECTED: &[&str] = &[
    "FdOp::Open",
    "FdOp::Write { fd: Var::at(0), byte: 0 }",
    "FdOp::Close { fd: Var::at(0) }",
    "FdOp::Open",
    // The new handle: the old one, with the same number, was consumed by the close.
    "FdOp::Read { fd: Var::at(3) }",
];

#[test]
fn finds_a_reused_descriptor_reading_stale_data_with_consumes() {
    assert_finds::<Table, Descriptors<true>>(
        Config::default().ignore_env(),
        EXPECTED,
        "postcondition",
    );
}

#[test]
fn no_step_of_a_shrunk_program_names_a_closed_descriptor() {
    for seed in SEEDS {
        let result = run::<Table, Descriptors<true>>(Config::default().ignore_env(), seed);
        let mut closed = BTreeSet::new();
        for op in &result.minimal {
            if let FdOp::Write { fd, .. } | FdOp::Read { fd } | FdOp::Close { fd } = op {
                assert!(
                    !closed.contains(&fd.id()),
                    "seed {seed}: {op:?} names a closed one"
                );
            }
            if let FdOp::Close { fd } = op {
                closed.insert(fd.id());
            }
        }
    }
}

#[test]
fn the_correct_table_passes_with_consumes() {
    assert_passes::<Table, Descriptors<false>>(Config::default().ignore_env(), 2000);
}
