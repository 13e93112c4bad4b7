//! A descriptor table that reuses the numbers of closed descriptors, with a planted bug: closing
//! forgets to clear the slot's buffer, so the next descriptor given that slot reads stale data.
//!
//! Run it with `cargo run --example resource_table`. It shows three derive features:
//! - `#[consumes]` on the close's `Var` field, so every generated and every shrunk program names
//!   only open descriptors, and the model needs no record of the closed ones (for retiring that
//!   depends on the state, a precondition over the var does the same: docs/attributes.md);
//! - a field of the user's own type (`Mode`, with `proptest_derive::Arbitrary`), generated,
//!   shrunk and printed as Rust like any other;
//! - a strategy that reads a field drawn before it (`len` no larger than `cap`).

use proptest_derive::Arbitrary;
use stateprop::prelude::*;
use stateprop::{Runner, ToRust};
use std::collections::BTreeMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Fd(pub u32);

/// How a descriptor is opened: the user's own enum as an argument.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Arbitrary, serde::Serialize, serde::Deserialize)]
pub enum Mode {
    Read,
    Append,
}

// `Debug` prints `Append`; a pasted test needs `Mode::Append`.
impl ToRust for Mode {
    fn to_rust(&self) -> String {
        format!("Mode::{self:?}")
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Out {
    Opened(Fd),
    Data(Vec<u8>),
    Done,
}

impl FromOutput<Out> for Fd {
    fn from_output(output: &Out) -> Option<Fd> {
        match output {
            Out::Opened(fd) => Some(*fd),
            _ => None,
        }
    }
}

/// The model: each open descriptor's mode and contents. A closed handle stays spent when its
/// number is handed out again, by `#[consumes]` on `Close`, so the model need not record it.
#[derive(Debug, Clone, Default)]
pub struct Table {
    files: BTreeMap<Fd, (Mode, Vec<u8>)>,
}

impl Table {
    fn is_open(&self, fd: &Fd) -> bool {
        self.files.contains_key(fd)
    }
}

#[derive(Debug, Clone, StateMachine)]
#[state_machine(model = Table)]
pub enum FdOp {
    Open {
        mode: Mode,
    },
    #[rule(weight = 2)]
    Write {
        fd: Var<Fd>,
        #[strategy(1..8usize)]
        cap: usize,
        #[strategy(|_m: &Table, cap: &usize| 0..=*cap)]
        len: usize,
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
    type Output = Out;
    fn step(&mut self, op: &FdOp) -> Out {
        match op {
            FdOp::Open { mode } => {
                let fd = (0..)
                    .map(Fd)
                    .find(|fd| !self.is_open(fd))
                    .expect("a free slot");
                self.files.insert(fd, (*mode, Vec::new()));
                Out::Opened(fd)
            }
            FdOp::Write { fd, len, .. } => {
                let (mode, data) = self.files.get_mut(&**fd).expect("open");
                if *mode == Mode::Append {
                    data.extend(std::iter::repeat_n(7, *len));
                }
                Out::Done
            }
            FdOp::Read { fd } => Out::Data(self.files[&**fd].1.clone()),
            FdOp::Close { fd } => {
                self.files.remove(&**fd);
                Out::Done
            }
        }
    }
}

/// The system: slots reused lowest first, as POSIX hands out descriptors.
#[derive(Default)]
pub struct Descriptors {
    slots: Vec<Option<Mode>>,
    buffers: Vec<Vec<u8>>,
}

impl System<Table> for Descriptors {
    fn apply(&mut self, op: &FdOp) -> Out {
        match op {
            FdOp::Open { mode } => {
                let slot = match self.slots.iter().position(Option::is_none) {
                    Some(slot) => slot,
                    None => {
                        self.slots.push(None);
                        self.buffers.push(Vec::new());
                        self.slots.len() - 1
                    }
                };
                self.slots[slot] = Some(*mode);
                Out::Opened(Fd(slot as u32))
            }
            FdOp::Write { fd, len, .. } => {
                let slot = fd.0 as usize;
                if self.slots[slot] == Some(Mode::Append) {
                    self.buffers[slot].extend(std::iter::repeat_n(7, *len));
                }
                Out::Done
            }
            FdOp::Read { fd } => Out::Data(self.buffers[fd.0 as usize].clone()),
            FdOp::Close { fd } => {
                self.slots[fd.0 as usize] = None;
                // The planted bug; the fix: self.buffers[fd.0 as usize].clear();
                Out::Done
            }
        }
    }
}

fn main() {
    let config = Config::default().steps(1..40).persist(false);
    let result = Runner::<Table>::new(config).run_default::<Descriptors>();
    println!("{}", result.report.text());
    if !result.failed() {
        eprintln!("stateprop: the planted bug was not found; this example expects to find it");
        std::process::exit(1);
    }
}
