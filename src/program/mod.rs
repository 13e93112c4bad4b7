//! Programs: a sequential prefix and zero or more branches of steps, named by [`StepId`].
//!
//! A sequential program is a prefix with no branches. A parallel one runs its prefix, then its
//! branches side by side; a `Var` in a branch may name a prefix step or an earlier step of its
//! own branch, never a step of another branch (which may not have run yet).
//!
//! A program is only data here; whether the model admits it is
//! [`validate_program`](crate::generate::validate_program)'s to say (it replays the program on
//! the model, as generation does).

mod step;

pub use step::{BranchOutputs, Outputs, StepId};

use std::hash::{DefaultHasher, Hash, Hasher};

/// A program: steps run in order (the prefix), then branches run side by side.
///
/// Room for the step kinds of a simulation (deliveries, time, faults) is left in `Op`: a
/// simulated program is a `Program` whose operations say which kind of step they are.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct Program<Op> {
    /// The steps run first, in order, on one thread.
    pub prefix: Vec<Op>,
    /// The steps run after the prefix, each branch in order, the branches concurrently.
    pub branches: Vec<Vec<Op>>,
}

impl<Op> Program<Op> {
    /// A sequential program: `ops` in order, no branches.
    pub fn sequential(ops: Vec<Op>) -> Self {
        Program {
            prefix: ops,
            branches: Vec::new(),
        }
    }

    /// A prefix followed by `branches`.
    ///
    /// # Panics
    /// If there are more than `u16::MAX` branches.
    pub fn parallel(prefix: Vec<Op>, branches: Vec<Vec<Op>>) -> Self {
        assert!(
            branches.len() <= usize::from(u16::MAX),
            "stateprop: a program with more than {} branches",
            u16::MAX
        );
        Program { prefix, branches }
    }

    /// How the steps are arranged.
    pub fn shape(&self) -> Shape {
        if self.branches.is_empty() {
            Shape::Sequential
        } else {
            Shape::Parallel
        }
    }

    /// The number of steps, prefix and branches together.
    pub fn len(&self) -> usize {
        self.prefix.len() + self.branches.iter().map(Vec::len).sum::<usize>()
    }

    /// Whether the program has no steps at all.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The step with id `id`, if there is one.
    pub fn get(&self, id: StepId) -> Option<&Op> {
        let steps = match id.branch {
            None => &self.prefix,
            Some(b) => self.branches.get(usize::from(b))?,
        };
        steps.get(id.index as usize)
    }

    /// The step with id `id`, mutably, if there is one.
    pub fn get_mut(&mut self, id: StepId) -> Option<&mut Op> {
        let steps = match id.branch {
            None => &mut self.prefix,
            Some(b) => self.branches.get_mut(usize::from(b))?,
        };
        steps.get_mut(id.index as usize)
    }

    /// The id of the `k`-th step counted as [`steps`](Self::steps) does (the prefix, then each
    /// branch), if there are more than `k` steps.
    pub(crate) fn id_at(&self, k: usize) -> Option<StepId> {
        if k < self.prefix.len() {
            return Some(StepId::prefix(k));
        }
        let mut k = k - self.prefix.len();
        for (b, ops) in self.branches.iter().enumerate() {
            if k < ops.len() {
                return Some(StepId::in_branch(branch_id(b), k));
            }
            k -= ops.len();
        }
        None
    }

    /// The same arrangement with every step replaced by `f` of it.
    pub(crate) fn map<U>(self, mut f: impl FnMut(Op) -> U) -> Program<U> {
        Program {
            prefix: self.prefix.into_iter().map(&mut f).collect(),
            branches: self
                .branches
                .into_iter()
                .map(|ops| ops.into_iter().map(&mut f).collect())
                .collect(),
        }
    }

    /// Each step's id, in the program's arrangement.
    pub(crate) fn ids(&self) -> Program<StepId> {
        Program {
            prefix: (0..self.prefix.len()).map(StepId::prefix).collect(),
            branches: self
                .branches
                .iter()
                .enumerate()
                .map(|(b, ops)| {
                    (0..ops.len())
                        .map(|i| StepId::in_branch(branch_id(b), i))
                        .collect()
                })
                .collect(),
        }
    }

    /// Whether `other` has the same prefix length and branch lengths.
    pub(crate) fn same_shape<U>(&self, other: &Program<U>) -> bool {
        self.prefix.len() == other.prefix.len()
            && self.branches.len() == other.branches.len()
            && self
                .branches
                .iter()
                .zip(&other.branches)
                .all(|(a, b)| a.len() == b.len())
    }

    /// Every step with its id: the prefix in order, then each branch in order.
    pub fn steps(&self) -> impl Iterator<Item = (StepId, &Op)> + '_ {
        let prefix = self
            .prefix
            .iter()
            .enumerate()
            .map(|(i, op)| (StepId::prefix(i), op));
        let branches = self.branches.iter().enumerate().flat_map(|(b, ops)| {
            let b = branch_id(b);
            ops.iter()
                .enumerate()
                .map(move |(i, op)| (StepId::in_branch(b, i), op))
        });
        prefix.chain(branches)
    }
}

/// A branch's position as the `u16` of its step ids.
fn branch_id(b: usize) -> u16 {
    // `parallel` and the struct's users keep the count within u16.
    u16::try_from(b).expect("stateprop: a program with more than u16::MAX branches")
}

/// A content hash of a program (its `Debug` text, fed to the hasher without allocating).
pub(crate) fn fingerprint<Op: std::fmt::Debug>(ops: &[Op]) -> u64 {
    struct W<'h>(&'h mut DefaultHasher);
    impl std::fmt::Write for W<'_> {
        fn write_str(&mut self, s: &str) -> std::fmt::Result {
            s.hash(self.0);
            Ok(())
        }
    }
    let mut h = DefaultHasher::new();
    for op in ops {
        let _ = std::fmt::write(&mut W(&mut h), format_args!("{op:?};"));
    }
    h.finish()
}

/// A content hash of a whole program: [`fingerprint`] of a sequential one, and of a parallel one
/// its prefix and each branch apart (so moving a step across a boundary changes it).
pub(crate) fn fingerprint_program<Op: std::fmt::Debug>(program: &Program<Op>) -> u64 {
    if program.branches.is_empty() {
        return fingerprint(&program.prefix);
    }
    let mut h = DefaultHasher::new();
    fingerprint(&program.prefix).hash(&mut h);
    for ops in &program.branches {
        fingerprint(ops).hash(&mut h);
    }
    h.finish()
}

/// The shape of a program: how its steps are arranged.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Shape {
    /// One list of steps, run in order on one system.
    Sequential,
    /// A prefix, then branches run side by side.
    Parallel,
}

impl Shape {
    /// `"sequential"`: the name in the JSON report and in regression lines.
    pub fn as_str(self) -> &'static str {
        match self {
            Shape::Sequential => "sequential",
            Shape::Parallel => "parallel",
        }
    }
}
