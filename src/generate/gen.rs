//! The generation context handed to derived `generate` functions: its methods. The types
//! themselves ([`Gen`], [`ArgTree`]) are declared in `spec`, beside the trait whose signature
//! names them, so the specification does not depend on generation.

use super::draw::{Bits, Draw};
use super::rng::CaseRunner;
use crate::program::StepId;
pub(crate) use crate::spec::Scope;
pub use crate::spec::{ArgTree, Gen};
use crate::spec::{Consumed, FromOutput, Model, Var};
use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::TestRunner;
use std::any::Any;
use std::fmt::Debug;

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
            runner,
            outputs,
            scope: Scope::SEQUENTIAL,
            consumed: Consumed::NONE,
            trees,
            choices: None,
        }
    }

    /// A context whose runner is made only if a strategy needs proptest's runner; `outputs`
    /// belong to the steps `scope` says, and those at positions in `consumed` are used up.
    pub(crate) fn lazy(
        runner: &'a mut CaseRunner,
        outputs: &'a [M::Output],
        scope: Scope,
        consumed: &'a Consumed,
        trees: Option<&'a mut Vec<Box<dyn ArgTree>>>,
        choices: Option<&'a mut u64>,
    ) -> Self {
        Gen {
            runner,
            outputs,
            scope,
            consumed,
            trees,
            choices,
        }
    }

    /// Random bits: the inline generator, or the runner when there is none.
    #[inline]
    fn bits(&mut self) -> Bits<'_> {
        Bits::with(self.choices.as_deref_mut(), &mut *self.runner)
    }

    /// Draws a value from a [`Draw`] strategy, keeping its value tree when asked for.
    // Always inlined into the derived `generate`: there the strategy is a constant (`0..8u8`)
    // and the range arithmetic folds away; as a call it cost ~50 instructions per argument
    // (callgrind on `cargo bench --bench throughput`).
    #[inline(always)]
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
        let tree = match strategy.new_tree(self.runner.runner()) {
            Ok(tree) => tree,
            Err(reason) => return Err(gave_up(field, &reason)),
        };
        let value = tree.current();
        if let Some(trees) = self.trees.as_deref_mut() {
            trees.push(Box::new(TreeBox::<S::Value>(Box::new(tree))));
        }
        Ok(value)
    }

    /// Picks one of the earlier steps whose output holds a `T` (in a branch: a prefix step or an
    /// earlier step of the same branch), among those no `#[consumes]` field used up.
    pub fn var<T: FromOutput<M::Output>>(&mut self, field: &str) -> Result<Var<T>, String> {
        let consumed = self.consumed;
        let candidates = self
            .outputs
            .iter()
            .enumerate()
            .filter(|&(i, o)| !consumed.contains(i) && T::from_output(o).is_some())
            .count();
        if candidates == 0 {
            return Err(format!(
                "no earlier step returned a value for `Var` field `{field}`"
            ));
        }
        let mut pick = crate::generate::rng::below(self.bits().u64(), candidates as u64) as usize;
        for (step, output) in self.outputs.iter().enumerate() {
            if !consumed.contains(step) && T::from_output(output).is_some() {
                if pick == 0 {
                    return Ok(Var::to(self.scope.id(step)));
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

    /// Whether some earlier step returned a `T` that no `#[consumes]` field used up.
    pub fn has_live_var<T: FromOutput<M::Output>>(
        outputs: &[M::Output],
        consumed: &Consumed,
    ) -> bool {
        (outputs.iter().enumerate())
            .any(|(i, o)| !consumed.contains(i) && T::from_output(o).is_some())
    }

    /// Picks one of the earlier steps whose output holds a `T` for which `eligible` (a
    /// precondition over this field, given the candidate bound) holds, among those no
    /// `#[consumes]` field used up: choosing among the eligible results rather than drawing and
    /// rejecting.
    pub fn var_where<T: FromOutput<M::Output>>(
        &mut self,
        field: &str,
        mut eligible: impl FnMut(&Var<T>) -> bool,
    ) -> Result<Var<T>, String> {
        let scope = self.scope;
        let mut candidates: Vec<StepId> = Vec::new();
        for (step, output) in self.outputs.iter().enumerate() {
            if self.consumed.contains(step) {
                continue;
            }
            if let Some(value) = T::from_output(output) {
                let var = Var::bound(scope.id(step), value);
                if eligible(&var) {
                    candidates.push(var.id());
                }
            }
        }
        if candidates.is_empty() {
            return Err(format!(
                "no earlier result satisfies the precondition of `Var` field `{field}`"
            ));
        }
        let pick = crate::generate::rng::below(self.bits().u64(), candidates.len() as u64);
        Ok(Var::to(candidates[pick as usize]))
    }

    /// Whether some earlier step returned a `T` for which `eligible` holds (the precondition of
    /// a rule whose precondition reads one `Var` field).
    pub fn has_var_where<T: FromOutput<M::Output>>(
        outputs: &[M::Output],
        eligible: impl FnMut(&Var<T>) -> bool,
    ) -> bool {
        Self::has_live_var_where(outputs, Consumed::NONE, eligible)
    }

    /// [`has_var_where`](Self::has_var_where) among the results no `#[consumes]` field used up.
    pub fn has_live_var_where<T: FromOutput<M::Output>>(
        outputs: &[M::Output],
        consumed: &Consumed,
        mut eligible: impl FnMut(&Var<T>) -> bool,
    ) -> bool {
        outputs.iter().enumerate().any(|(step, o)| {
            !consumed.contains(step)
                && T::from_output(o)
                    .is_some_and(|value| eligible(&Var::bound(StepId::prefix(step), value)))
        })
    }

    /// Binds `var` to the output of the step it names, among those this generator sees; `false`
    /// if it names none. Generation binds vars this way to check a precondition over arguments.
    pub fn bind<T: FromOutput<M::Output>>(&self, var: &mut Var<T>) -> bool {
        let id = var.id();
        let index = match (self.scope.branch, id.branch) {
            (_, None) => Some(id.index as usize).filter(|&i| i < self.scope.prefix),
            (Some(own), Some(b)) if own == b => {
                Some(self.scope.prefix.saturating_add(id.index as usize))
            }
            _ => None,
        };
        match index
            .and_then(|i| self.outputs.get(i))
            .and_then(T::from_output)
        {
            Some(value) => {
                *var = Var::bound(id, value);
                true
            }
            None => false,
        }
    }

    /// How many argument trees have been kept so far; [`rewind`](Self::rewind) drops those kept
    /// after, when a rule's arguments are drawn again because its precondition failed.
    pub fn mark(&self) -> usize {
        self.trees.as_deref().map_or(0, Vec::len)
    }

    /// Drops the argument trees kept since `mark`.
    pub fn rewind(&mut self, mark: usize) {
        if let Some(trees) = self.trees.as_deref_mut() {
            trees.truncate(mark);
        }
    }
}
