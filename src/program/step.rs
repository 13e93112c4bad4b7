//! Step ids, and looking up a step's output by id.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Where a step sits in a [`Program`](super::Program): the prefix, or one of the branches.
///
/// A [`Var`](crate::Var) names a step id. Ids are positional (deleting a step renumbers the later
/// ones of its sequence, which the shrinker does for every `Var`), so an id means nothing without
/// its program. A sequential program has only prefix ids.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct StepId {
    /// `None` for the prefix, `Some(b)` for branch `b` (0-based).
    pub branch: Option<u16>,
    /// The step's position within its prefix or branch (0-based).
    pub index: u32,
}

impl StepId {
    /// Step `index` of the prefix: in a sequential program, step `index`.
    ///
    /// # Panics
    /// If `index` does not fit in a `u32` (no program holds four billion steps).
    pub fn prefix(index: usize) -> Self {
        StepId {
            branch: None,
            index: to_u32(index),
        }
    }

    /// Step `index` of branch `branch`.
    ///
    /// # Panics
    /// If `index` does not fit in a `u32`.
    pub fn in_branch(branch: u16, index: usize) -> Self {
        StepId {
            branch: Some(branch),
            index: to_u32(index),
        }
    }

    /// The index, if this is a prefix step.
    pub fn prefix_index(self) -> Option<usize> {
        match self.branch {
            None => Some(self.index as usize),
            Some(_) => None,
        }
    }
}

fn to_u32(index: usize) -> u32 {
    u32::try_from(index).expect("stateprop: a step index past u32::MAX")
}

impl fmt::Display for StepId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.branch {
            None => write!(f, "step {}", self.index),
            Some(b) => write!(f, "branch {b} step {}", self.index),
        }
    }
}

/// The outputs a `Var` can be bound to, looked up by step id.
///
/// A slice (or `Vec`, or array) holds the outputs of a sequential program so far, by index; it
/// has no branch steps. [`BranchOutputs`] adds one branch's own outputs to its prefix's.
pub trait Outputs<O> {
    /// The output of step `id`, if it has run.
    fn output(&self, id: StepId) -> Option<&O>;
}

impl<O> Outputs<O> for [O] {
    #[inline]
    fn output(&self, id: StepId) -> Option<&O> {
        match id.branch {
            None => self.get(id.index as usize),
            Some(_) => None,
        }
    }
}

impl<O> Outputs<O> for Vec<O> {
    #[inline]
    fn output(&self, id: StepId) -> Option<&O> {
        self.as_slice().output(id)
    }
}

impl<O, const N: usize> Outputs<O> for [O; N] {
    #[inline]
    fn output(&self, id: StepId) -> Option<&O> {
        self.as_slice().output(id)
    }
}

/// What one branch sees: the prefix's outputs and its own so far, never another branch's
/// (whose steps may not have run yet when it reads them).
#[derive(Clone, Copy, Debug)]
pub struct BranchOutputs<'a, O> {
    /// The outputs of the prefix, by index.
    pub prefix: &'a [O],
    /// Which branch this is.
    pub branch: u16,
    /// The outputs of this branch's steps so far, by index.
    pub own: &'a [O],
}

impl<O> Outputs<O> for BranchOutputs<'_, O> {
    fn output(&self, id: StepId) -> Option<&O> {
        match id.branch {
            None => self.prefix.get(id.index as usize),
            Some(b) if b == self.branch => self.own.get(id.index as usize),
            Some(_) => None,
        }
    }
}
