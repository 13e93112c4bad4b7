//! The context the derive's `generate` receives, declared beside the [`StateMachine`] trait whose
//! signature names it, so that the specification does not depend on generation: [`Gen`] and
//! [`ArgTree`] are only declared here; generation (`crate::generate`) gives them their methods.
//!
//! [`StateMachine`]: super::StateMachine

use super::Model;
use crate::program::StepId;
use proptest::test_runner::TestRunner;
use std::any::Any;

/// One generated argument's proptest value tree, kept so the shrinker can simplify it.
pub trait ArgTree {
    /// See [`ValueTree::simplify`](proptest::strategy::ValueTree::simplify).
    fn simplify(&mut self) -> bool;
    /// See [`ValueTree::complicate`](proptest::strategy::ValueTree::complicate).
    fn complicate(&mut self) -> bool;
    /// The tree itself, for the derived `set_arg` to read its current value.
    fn as_any(&self) -> &dyn Any;
    /// The current value's type and `Debug` text: arguments equal in both shrink in lockstep.
    fn key(&self) -> (std::any::TypeId, String);
}

/// Where proptest's runner comes from: a ready one, or the case's, made on first use. Behind
/// a trait object so that [`Gen`] names no type of generation's; only strategies without a fast
/// draw reach it, never the fast path.
pub(crate) trait RunnerSource {
    /// The runner.
    fn runner(&mut self) -> &mut TestRunner;
}

impl RunnerSource for TestRunner {
    #[inline]
    fn runner(&mut self) -> &mut TestRunner {
        self
    }
}

/// Which step ids the outputs a [`Gen`] sees belong to: the first `prefix` are the prefix's
/// steps, the rest (in a branch) that branch's own steps so far.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Scope {
    pub(crate) prefix: usize,
    pub(crate) branch: Option<u16>,
}

impl Scope {
    /// A sequential program (or the prefix of a parallel one): every output is a prefix step's.
    pub(crate) const SEQUENTIAL: Scope = Scope {
        prefix: usize::MAX,
        branch: None,
    };

    /// The id of the `i`-th visible output.
    #[inline]
    pub(crate) fn id(self, i: usize) -> StepId {
        match self.branch {
            Some(b) if i >= self.prefix => StepId::in_branch(b, i - self.prefix),
            _ => StepId::prefix(i),
        }
    }
}

/// What a derived `generate` draws its arguments from: proptest's runner (for strategies) and
/// the outputs of earlier steps (for `Var` fields).
///
/// In a branch of a parallel program the outputs are the prefix's, then the branch's own so far
/// (never another branch's, which may not have run yet), so a `Var` can name only those.
pub struct Gen<'a, M: Model> {
    pub(crate) runner: &'a mut dyn RunnerSource,
    pub(crate) outputs: &'a [M::Output],
    pub(crate) scope: Scope,
    /// The outputs a `#[consumes]` field of an earlier step used up: never chosen for a `Var`.
    pub(crate) consumed: &'a super::Consumed,
    pub(crate) trees: Option<&'a mut Vec<Box<dyn ArgTree>>>,
    /// The case's inline generator for fast draws; `None` draws from the runner.
    pub(crate) choices: Option<&'a mut u64>,
}
