//! Passes that delete a step and change another so that what the deleted step did is not lost.
//! A 1-minimal program can hold a step that only matters through the state it leaves (a
//! withdrawal of 3 before a withdrawal of 6) or through which result a later `Var` names (a
//! second delete through a stale handle, before a read through the other one). Deleting it
//! alone loses the failure; deleting it and changing one other step keeps it:
//!
//! - fold: the deleted step's integer arguments are added to the same arguments of another step
//!   of its rule (withdrawals of 3 and 6 become one of 9). Only in programs of more than one
//!   rule: where every step is of one rule (six puts) the steps are the failure, and folding
//!   them would cost runs for nothing. The repair drops any sum its strategy does not make (an
//!   amount past its range).
//! - redirect: the failing step's `Var`s are pointed at another earlier result of their type.
//!
//! Like the other passes past 1-minimal they run only once the cheap passes have stopped.

use super::args::earlier;
use super::values::{int_of, int_tree};
use super::{Current, Replace, Shrinker, Try};
use crate::program::StepId;
use crate::spec::{Model, StateMachine};

impl<M: Model> Shrinker<'_, M> {
    /// Deletes a step and adds its integer arguments to another step of its rule; `true` on
    /// the first adoption.
    pub(super) fn fold_steps(&mut self, cur: &mut Current<M::Op>) -> bool {
        let steps: Vec<StepId> = cur.program.steps().map(|(id, _)| id).collect();
        let rule = |cur: &Current<M::Op>, id| cur.program.get(id).map(StateMachine::rule_index);
        let first = steps.first().and_then(|&id| rule(cur, id));
        if steps.iter().all(|&id| rule(cur, id) == first) {
            return false;
        }
        for &gone in &steps {
            for &into in &steps {
                if gone == into || rule(cur, gone) != rule(cur, into) || gone.branch != into.branch
                {
                    continue;
                }
                let Some(replace) = folded(cur, gone, into) else {
                    continue;
                };
                if self.out_of_budget() {
                    return false;
                }
                let mut plan = cur.program.ids();
                plan.prefix.retain(|&s| s != gone);
                for branch in &mut plan.branches {
                    branch.retain(|&s| s != gone);
                }
                if self.try_plan(cur, &plan, replace) == Try::Adopted {
                    return true;
                }
            }
        }
        false
    }

    /// Deletes a step and points a `Var` of the failing step at another earlier result; `true`
    /// on the first adoption.
    pub(super) fn delete_and_redirect(&mut self, cur: &mut Current<M::Op>) -> bool {
        if !M::Op::uses_vars() {
            return false;
        }
        let Some(failing) = cur.failure.step else {
            return false;
        };
        let Some(op) = cur.program.get(failing).cloned() else {
            return false;
        };
        let mut named = Vec::new();
        op.clone().remap_vars(&mut |v| {
            named.push(v);
            Some(v)
        });
        let prefix_len = cur.program.prefix.len();
        let steps: Vec<StepId> = cur.program.steps().map(|(id, _)| id).collect();
        for &gone in &steps {
            if gone == failing || named.contains(&gone) {
                continue;
            }
            for (slot, &old) in named.iter().enumerate() {
                let rule_of = |id| cur.program.get(id).map(StateMachine::rule_index);
                // Results of the rule that made the one named: the same type, as a rule makes.
                let targets: Vec<StepId> = earlier(failing, failing, prefix_len)
                    .into_iter()
                    .filter(|&t| t != old && t != gone && rule_of(t) == rule_of(old))
                    .collect();
                for target in targets {
                    if self.out_of_budget() {
                        return false;
                    }
                    let mut redirected = op.clone();
                    let mut k = 0;
                    redirected.remap_vars(&mut |v| {
                        k += 1;
                        Some(if k - 1 == slot { target } else { v })
                    });
                    let mut plan = cur.program.ids();
                    plan.prefix.retain(|&s| s != gone);
                    for branch in &mut plan.branches {
                        branch.retain(|&s| s != gone);
                    }
                    // The repair drops the failing step if the target is of another type.
                    let replace: Replace<M::Op> = vec![(failing, redirected, None)];
                    if self.try_plan(cur, &plan, replace) == Try::Adopted {
                        return true;
                    }
                }
            }
        }
        false
    }
}

/// The replacement of `into` with `gone`'s integer arguments added to its own, or `None` if
/// no argument changes (then the candidate is a plain deletion, tried already) or a sum does
/// not fit its type.
fn folded<Op: StateMachine>(cur: &Current<Op>, gone: StepId, into: StepId) -> Option<Replace<Op>> {
    let from = cur.values.get(gone)?;
    let mut values = cur.values.get(into)?.clone();
    let mut op = cur.program.get(into)?.clone();
    let mut changed = false;
    for (arg, value) in values.iter_mut().enumerate() {
        let (Some(add), Some(own)) = (from.get(arg).and_then(int_of), int_of(value)) else {
            continue;
        };
        if add == 0 {
            continue;
        }
        let (tree, key) = int_tree(value.0, own.checked_add(add)?)?;
        op.set_arg(arg, &*tree);
        *value = key;
        changed = true;
    }
    changed.then(|| vec![(into, op, Some(values))])
}
