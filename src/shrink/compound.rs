//! Passes that delete a step and change another so that what the deleted step did is not lost.
//! A 1-minimal program can hold a step that only matters through the state it leaves (a
//! withdrawal of 3 before a withdrawal of 6) or through which result a later `Var` names (a
//! second delete through a stale handle, before a read through the other one). Deleting it
//! alone loses the failure; deleting it and changing one other step keeps it:
//!
//! - fold: the deleted step's integer arguments are added to the same arguments of another step
//!   (withdrawals of 3 and 6 become one of 9; a deposit of 9 after opening an account with 0
//!   becomes an opening balance of 9). Only in programs of more than one rule: where every step
//!   is of one rule (six puts) the steps are the failure, and folding them would cost runs for
//!   nothing. Across rules a sum stays at most the largest value of its type in the program;
//!   within a rule it may grow (two clock advances become one as long as both). The repair
//!   re-picks any sum its strategy does not make (an amount past its range).
//! - redirect: the failing step's `Var`s are pointed at another earlier result of their type.
//!
//! One more pass changes only the failing step: it becomes an operation of another rule, drawn
//! where the step stands with its arguments at their simplest and its `Var`s naming what the
//! failing step's named. A withdrawal that fails to
//! see a wrong balance becomes a read of the balance.
//!
//! Like the other passes past 1-minimal they run only once the cheap passes have stopped.

use super::args::earlier;
use super::values::{int_of, int_tree, simplest_of};
use super::{Current, Replace, Shrinker, Try};
use crate::catch::catch_quietly;
use crate::generate::{Gen, ModelRun};
use crate::program::StepId;
use crate::spec::{Model, StateMachine};
use proptest::test_runner::TestRunner;

impl<M: Model> Shrinker<'_, M> {
    /// Deletes a step and adds its integer arguments to the same arguments of another step
    /// (by position, of any rule: a deposit's amount to an account's opening balance); `true`
    /// on the first adoption.
    pub(super) fn fold_steps(&mut self, cur: &mut Current<M::Op>) -> bool {
        let steps: Vec<StepId> = cur.program.steps().map(|(id, _)| id).collect();
        let rule = |cur: &Current<M::Op>, id| cur.program.get(id).map(StateMachine::rule_index);
        let first = steps.first().and_then(|&id| rule(cur, id));
        if steps.iter().all(|&id| rule(cur, id) == first) {
            return false;
        }
        for &gone in &steps {
            for &into in &steps {
                if gone == into || gone.branch != into.branch {
                    continue;
                }
                let follows = |step, arg| Self::follows(cur, step, arg);
                let Some(replace) = folded(cur, gone, into, &follows) else {
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

impl<M: Model> Shrinker<'_, M> {
    /// Replaces the failing step (of the prefix) by an operation of each other rule enabled
    /// there in turn, drawn where it stands and simplified as far as its strategies go; `true`
    /// on the first adoption. The order of simplicity decides: fewer arguments away from their
    /// simplest values, then shorter text.
    pub(super) fn replace_failing(&mut self, cur: &mut Current<M::Op>) -> bool {
        let Some(failing) = cur.failure.step else {
            return false;
        };
        let (Some(index), Some(op)) = (failing.prefix_index(), cur.program.get(failing)) else {
            return false;
        };
        let mut named = Vec::new();
        op.clone().remap_vars(&mut |v| {
            named.push(v);
            Some(v)
        });
        let own_rule = op.rule_index();
        let mut run = ModelRun::new(self.initial.clone());
        for op in &cur.program.prefix[..index] {
            if run.apply(op).is_err() {
                return false;
            }
        }
        let mut runner = TestRunner::deterministic();
        let mut replacements = Vec::new();
        for rule in (0..M::Op::rules().len()).filter(|&r| r != own_rule) {
            let drawn = catch_quietly(|| {
                if !M::Op::enabled(rule, &run.model, &run.outputs) {
                    return None;
                }
                let mut trees = Vec::new();
                let mut gen = Gen::new(&mut runner, &run.outputs, Some(&mut trees));
                let mut op = M::Op::generate(rule, &run.model, &mut gen).ok()?;
                for (arg, tree) in trees.into_iter().enumerate() {
                    op.set_arg(arg, &*simplest_of(tree).tree);
                }
                Some(op)
            });
            let Ok(Some(mut op)) = drawn else {
                continue;
            };
            // Each of its `Var`s names what the failing step's `Var` in the same place names (the
            // last one's, past their count): the same handle, observed another way. A failing
            // step without `Var`s leaves the results generation chose.
            if !named.is_empty() {
                let mut slot = 0;
                op.remap_vars(&mut |_| {
                    slot += 1;
                    named.get(slot - 1).or(named.last()).copied()
                });
            }
            replacements.push(op);
        }
        for op in replacements {
            if self.out_of_budget() {
                return false;
            }
            let all = cur.program.ids();
            // Its arguments are at their simplest: none counts as away from it.
            if self.try_plan(cur, &all, vec![(failing, op, Some(Vec::new()))]) == Try::Adopted {
                return true;
            }
        }
        false
    }
}

/// The replacement of `into` with `gone`'s integer arguments added to its own, or `None` if
/// no argument changes (then the candidate is a plain deletion, tried already). Arguments picked
/// from the model (`follows`) neither give nor take: a sum of keys names no key. A sum stays at
/// most the largest value of its type already in the program, as the canonical passes' values
/// do: folding merges quantities the program holds, it does not make bigger ones.
fn folded<Op: StateMachine>(
    cur: &Current<Op>,
    gone: StepId,
    into: StepId,
    follows: &dyn Fn(StepId, usize) -> bool,
) -> Option<Replace<Op>> {
    let from = cur.values.get(gone)?;
    let mut values = cur.values.get(into)?.clone();
    let mut op = cur.program.get(into)?.clone();
    let same_rule = cur.program.get(gone)?.rule_index() == op.rule_index();
    let mut changed = false;
    for (arg, value) in values.iter_mut().enumerate() {
        let (Some(add), Some(own)) = (from.get(arg).and_then(int_of), int_of(value)) else {
            continue;
        };
        if add == 0 || follows(gone, arg) || follows(into, arg) {
            continue;
        }
        let sum = own.checked_add(add)?;
        // Within one rule a sum is what a single step of it could do (two `Advance`s of 7 and
        // 141 ms become one of 148); across rules it is capped, so a fold does not make a
        // value larger than any the program already holds.
        if !same_rule {
            let largest = cur
                .values
                .steps()
                .flat_map(|(_, values)| values.iter())
                .filter(|v| v.0 == value.0)
                .filter_map(int_of)
                .max()?;
            if sum > largest {
                continue;
            }
        }
        let (tree, key) = int_tree(value.0, sum)?;
        op.set_arg(arg, &*tree);
        *value = key;
        changed = true;
    }
    changed.then(|| vec![(into, op, Some(values))])
}
