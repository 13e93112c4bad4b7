//! The generation context handed to derived `generate` functions.

use super::draw::{Bits, Draw, RunnerRef};
use super::rng::CaseRunner;
use crate::spec::{FromOutput, Model, Var};
use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::TestRunner;
use std::any::Any;
use std::fmt::Debug;

/// One generated argument's proptest value tree, kept so the shrinker can simplify it.
pub trait ArgTree {
    /// See [`ValueTree::simplify`].
    fn simplify(&mut self) -> bool;
    /// See [`ValueTree::complicate`].
    fn complicate(&mut self) -> bool;
    /// The tree itself, for the derived `set_arg` to read its current value.
    fn as_any(&self) -> &dyn Any;
    /// The current value's type and `Debug` text: arguments equal in both shrink in lockstep.
    fn key(&self) -> (std::any::TypeId, String);
}

/// A type-erased value tree producing `T`.
#[doc(hidden)]
pub struct TreeBox<T>(pub Box<dyn ValueTree<Value = T>>);

impl<T: Debug + 'static> ArgTree for TreeBox<T> {
    fn simplify(&mut self) -> bool {
        self.0.simplify()
    }
    fn complicate(&mut self) -> bool {
        self.0.complicate()
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
    fn key(&self) -> (std::any::TypeId, String) {
        (
            std::any::TypeId::of::<T>(),
            format!("{:?}", self.0.current()),
        )
    }
}

impl<T: Debug + 'static> TreeBox<T> {
    /// The current value of `tree` if it produces `T`.
    pub fn current_of(tree: &dyn ArgTree) -> Option<T> {
        tree.as_any()
            .downcast_ref::<TreeBox<T>>()
            .map(|t| t.0.current())
    }
}

#[cold]
fn gave_up(field: &str, reason: &dyn std::fmt::Display) -> String {
    format!("the strategy of field `{field}` gave up: {reason}")
}

/// What a derived `generate` draws its arguments from: proptest's runner (for strategies) and
/// the outputs of earlier steps (for `Var` fields).
pub struct Gen<'a, M: Model> {
    runner: RunnerRef<'a>,
    outputs: &'a [M::Output],
    trees: Option<&'a mut Vec<Box<dyn ArgTree>>>,
    /// The case's inline generator for fast draws; `None` draws from the runner.
    choices: Option<&'a mut u64>,
}

impl<'a, M: Model> Gen<'a, M> {
    /// The context for one `generate` call: `outputs` are the model's outputs so far, `trees`
    /// (when given) receives each generated argument's value tree. Runners call this; tests of a
    /// derived machine may too.
    #[doc(hidden)]
    pub fn new(
        runner: &'a mut TestRunner,
        outputs: &'a [M::Output],
        trees: Option<&'a mut Vec<Box<dyn ArgTree>>>,
    ) -> Self {
        Gen {
            runner: RunnerRef::Ready(runner),
            outputs,
            trees,
            choices: None,
        }
    }

    /// A context whose runner is made only if a strategy needs proptest's runner.
    pub(crate) fn lazy(
        runner: &'a mut CaseRunner,
        outputs: &'a [M::Output],
        trees: Option<&'a mut Vec<Box<dyn ArgTree>>>,
        choices: Option<&'a mut u64>,
    ) -> Self {
        Gen {
            runner: RunnerRef::Lazy(runner),
            outputs,
            trees,
            choices,
        }
    }

    /// Random bits: the inline generator, or the runner when there is none.
    #[inline]
    fn bits(&mut self) -> Bits<'_> {
        Bits::with(self.choices.as_deref_mut(), self.runner.reborrow())
    }

    /// Draws a value from a [`Draw`] strategy, keeping its value tree when asked for.
    #[inline]
    pub fn fast_arg<S>(&mut self, field: &str, strategy: &S) -> Result<S::Value, String>
    where
        S: Draw,
        S::Value: Debug + 'static,
    {
        let tree = match strategy.draw(&mut self.bits()) {
            Ok(tree) => tree,
            Err(reason) => return Err(gave_up(field, &reason)),
        };
        let value = tree.current();
        if let Some(trees) = self.trees.as_deref_mut() {
            trees.push(Box::new(TreeBox::<S::Value>(Box::new(tree))));
        }
        Ok(value)
    }

    /// Draws a value from `strategy`, keeping its value tree when the shrinker asked for it.
    #[inline]
    pub fn arg<S>(&mut self, field: &str, strategy: &S) -> Result<S::Value, String>
    where
        S: Strategy,
        S::Tree: 'static,
        S::Value: 'static,
    {
        let tree = match strategy.new_tree(self.runner.get()) {
            Ok(tree) => tree,
            Err(reason) => return Err(gave_up(field, &reason)),
        };
        let value = tree.current();
        if let Some(trees) = self.trees.as_deref_mut() {
            trees.push(Box::new(TreeBox::<S::Value>(Box::new(tree))));
        }
        Ok(value)
    }

    /// Picks one of the earlier steps whose output holds a `T`.
    pub fn var<T: FromOutput<M::Output>>(&mut self, field: &str) -> Result<Var<T>, String> {
        let candidates = self
            .outputs
            .iter()
            .filter(|o| T::from_output(o).is_some())
            .count();
        if candidates == 0 {
            return Err(format!(
                "no earlier step returned a value for `Var` field `{field}`"
            ));
        }
        let mut pick = crate::generate::rng::below(self.bits().u64(), candidates as u64) as usize;
        for (step, output) in self.outputs.iter().enumerate() {
            if T::from_output(output).is_some() {
                if pick == 0 {
                    return Ok(Var::at(step));
                }
                pick -= 1;
            }
        }
        unreachable!("counted candidates above")
    }

    /// Whether some earlier step returned a `T` (the implicit precondition of a `Var<T>` field).
    pub fn has_var<T: FromOutput<M::Output>>(outputs: &[M::Output]) -> bool {
        outputs.iter().any(|o| T::from_output(o).is_some())
    }
}
