//! A descriptor table that reuses the slots of closed descriptors, with a bug when one is
//! reused: closing forgets to clear the slot's buffer, so a reopened descriptor reads what the
//! closed one wrote. Every operation on a descriptor has a precondition over its `Var` (the
//! descriptor must be open, and not one a close retired), so generation and shrinking only ever
//! name live descriptors.

use crate::{assert_finds, assert_passes, run, SEEDS};
use stateprop::prelude::*;
use stateprop::StepId;
use std::collections::{BTreeMap, BTreeSet};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Fd(pub u32);

#[derive(Debug, Clone, PartialEq)]
pub enum FdOut {
    Opened(Fd),
    Data(Vec<u8>),
    Done,
}

impl FromOutput<FdOut> for Fd {
    fn from_output(output: &FdOut) -> Option<Fd> {
        match output {
            FdOut::Opened(fd) => Some(*fd),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct Table {
    files: BTreeMap<Fd, Vec<u8>>,
    /// The steps whose descriptors were closed: their vars are spent even once the number is
    /// handed out again (Hypothesis's `consumes`).
    retired: BTreeSet<StepId>,
}

impl Table {
    fn is_open(&self, fd: &Fd) -> bool {
        self.files.contains_key(fd)
    }

    fn live(&self, fd: &Var<Fd>) -> bool {
        self.is_open(fd) && !self.retired.contains(&fd.id())
    }
}

#[derive(Debug, Clone, StateMachine)]
#[state_machine(model = Table)]
pub enum FdOp {
    Open,
    #[rule(weight = 2, precondition = |m: &Table, fd: &Var<Fd>| m.live(fd))]
    Write {
        fd: Var<Fd>,
        byte: u8,
    },
    #[rule(weight = 2, precondition = |m: &Table, fd: &Var<Fd>| m.live(fd))]
    Read {
        fd: Var<Fd>,
    },
    #[rule(precondition = |m: &Table, fd: &Var<Fd>| m.live(fd))]
    Close {
        fd: Var<Fd>,
    },
}

impl Model for Table {
    type Op = FdOp;
    type Output = FdOut;
    fn step(&mut self, op: &FdOp) -> FdOut {
        match op {
            FdOp::Open => {
                let fd = (0..)
                    .map(Fd)
                    .find(|fd| !self.is_open(fd))
                    .expect("a free slot");
                self.files.insert(fd, Vec::new());
                FdOut::Opened(fd)
            }
            FdOp::Write { fd, byte } => {
                self.files.get_mut(&**fd).expect("open").push(*byte);
                FdOut::Done
            }
            FdOp::Read { fd } => FdOut::Data(self.files[&**fd].clone()),
            FdOp::Close { fd } => {
                self.files.remove(&**fd);
                self.retired.insert(fd.id());
                FdOut::Done
            }
        }
    }
}

/// Slots reused lowest first, as POSIX hands out descriptors. The system of this file and of
/// `consumed` (the same table, under another machine).
#[derive(Default)]
pub struct Slots<const BUGGY: bool> {
    slots: Vec<(bool, Vec<u8>)>,
}

impl<const BUGGY: bool> Slots<BUGGY> {
    pub fn open(&mut self) -> FdOut {
        let slot = match self.slots.iter().position(|(open, _)| !open) {
            Some(slot) => slot,
            None => {
                self.slots.push((false, Vec::new()));
                self.slots.len() - 1
            }
        };
        self.slots[slot].0 = true;
        FdOut::Opened(Fd(slot as u32))
    }

    pub fn write(&mut self, fd: Fd, byte: u8) -> FdOut {
        self.slots[fd.0 as usize].1.push(byte);
        FdOut::Done
    }

    pub fn read(&self, fd: Fd) -> FdOut {
        FdOut::Data(self.slots[fd.0 as usize].1.clone())
    }

    pub fn close(&mut self, fd: Fd) -> FdOut {
        let slot = &mut self.slots[fd.0 as usize];
        slot.0 = false;
        // The planted bug: the buffer outlives the descriptor; the fix is this line.
        if !BUGGY {
            slot.1.clear();
        }
        FdOut::Done
    }
}

/// This machine's system: the slot table.
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

/// The minimal program, as Rust source per step (the zoo test and the findpower bench compare
/// against it).
pub const EXPECTED: &[&str] = &[
    "FdOp::Open",
    "FdOp::Write { fd: Var::at(0), byte: 0 }",
    "FdOp::Close { fd: Var::at(0) }",
    "FdOp::Open",
    // The new handle: the old one, with the same number, was retired by the close.
    "FdOp::Read { fd: Var::at(3) }",
];

#[test]
fn finds_a_reused_descriptor_reading_stale_data() {
    assert_finds::<Table, Descriptors<true>>(
        Config::default().ignore_env(),
        EXPECTED,
        "postcondition",
    );
}

#[test]
fn shrunk_programs_name_only_open_descriptors() {
    for seed in SEEDS {
        let result = run::<Table, Descriptors<true>>(Config::default().ignore_env(), seed);
        let mut model = Table::default();
        let mut outputs = Vec::new();
        for op in &result.minimal {
            let mut bound = op.clone();
            assert!(bound.bind_vars(&outputs), "seed {seed}: {op:?}");
            if let FdOp::Write { fd, .. } | FdOp::Read { fd } | FdOp::Close { fd } = &bound {
                assert!(
                    model.is_open(fd),
                    "seed {seed}: {op:?} names a closed descriptor"
                );
            }
            outputs.push(model.step(&bound));
        }
    }
}

#[test]
fn the_correct_table_passes() {
    assert_passes::<Table, Descriptors<false>>(Config::default().ignore_env(), 2000);
}
