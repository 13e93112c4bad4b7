//! Passes past 1-minimal. A 1-minimal program loses its failure when any one step goes, yet a
//! shorter failing program may still be two changes away: a second creation whose uses could
//! use the first, or an operation and its inverse (a push and its pop) that only go together.
//! These passes try such pairs of changes; they cost more runs than single deletions, so the
//! shrinker runs them only once the cheap passes have stopped.
//!
//! A third kind changes every argument of a step at once: the step becomes a copy of an earlier
//! step of its rule (`[A(5), B, A(7)]` to `[A(5), B, A(5)]`), for failures that need a step to
//! repeat an earlier one where one argument at a time cannot get there (lowering either argument
//! of `Put { key, colour }` alone loses the failure). Only copies simpler than the step they
//! replace, in the order of `order`, are tried; the rest are refused before they run. A copy
//! that changes a single integer argument is not tried either: it moves one value, which the
//! argument and canonical passes already search (and trying it costs a run on every program
//! whose steps differ in one key, as most do).

use super::args::earlier;
use super::values::{int_of, Key};
use super::{Current, Replace, Seq, Shrinker, Try};
use crate::program::StepId;
use crate::spec::{Model, StateMachine};

/// Sequences up to this long try every pair of steps; longer ones only pairs this close.
const ALL_PAIRS: usize = 16;

impl<M: Model> Shrinker<'_, M> {
    /// Runs the passes past 1-minimal; `true` on the first adoption (the cheap passes run again
    /// on the smaller program before these do).
    pub(super) fn escape(&mut self, cur: &mut Current<M::Op>) -> bool {
        self.merge_producers(cur)
            || self.copy_earlier(cur)
            || self.delete_pairs(cur)
            || self.fold_steps(cur)
            || self.delete_and_redirect(cur)
            || self.replace_failing(cur)
    }

    /// Replaces a step by a copy of another step of the same rule: an earlier one it can see (in
    /// a branch: a prefix step or an earlier step of its own branch), then a later one of its
    /// own sequence (two charges that must collide become the simpler of the two, twice; the
    /// repair drops a copy whose `Var`s name results not made yet), arguments, `Var`s and all;
    /// `true` on the first adoption. A copy that is not simpler than the step is refused
    /// without a run (`try_plan`), and a copy equal to the step is not a candidate.
    pub(super) fn copy_earlier(&mut self, cur: &mut Current<M::Op>) -> bool {
        let mut k = 0;
        while let Some(step) = cur.program.id_at(k) {
            k += 1;
            let Some(op) = cur.program.get(step) else {
                continue;
            };
            let (rule, text) = (op.rule_index(), format!("{op:?}"));
            let later = (step.index as usize + 1..)
                .map(|i| StepId {
                    index: i as u32,
                    ..step
                })
                .take_while(|id| cur.program.get(*id).is_some());
            let sources: Vec<StepId> = earlier(step, step, cur.program.prefix.len())
                .into_iter()
                .chain(later)
                .collect();
            for source in sources {
                let Some(copy) = cur.program.get(source) else {
                    continue;
                };
                // The cheap tests first: the text is formatted only for the few that pass them.
                if copy.rule_index() != rule
                    || !joint(cur.values.get(source), cur.values.get(step))
                    || format!("{copy:?}") == text
                {
                    continue;
                }
                if self.out_of_budget() {
                    return false;
                }
                let copy = copy.clone();
                // The copy's values are the source's, judged against this step's simplest.
                let values = cur
                    .values
                    .get(source)
                    .filter(|v| Some(v.len()) == cur.values.get(step).map(Vec::len))
                    .cloned();
                let all = cur.program.ids();
                if self.try_plan(cur, &all, vec![(step, copy, values)]) == Try::Adopted {
                    return true;
                }
            }
        }
        false
    }

    /// For each step whose result a `Var` names, points every such `Var` at one earlier result
    /// and deletes the step: two handles become one. The repair drops the candidate's steps if
    /// the earlier result is of another type.
    pub(super) fn merge_producers(&mut self, cur: &mut Current<M::Op>) -> bool {
        if !M::Op::uses_vars() {
            return false;
        }
        let mut k = 0;
        while let Some(producer) = cur.program.id_at(k) {
            k += 1;
            let users = users_of(cur, producer);
            if users.is_empty() {
                continue;
            }
            for target in earlier(producer, producer, cur.program.prefix.len()) {
                if self.out_of_budget() {
                    return false;
                }
                let replace: Replace<M::Op> = users
                    .iter()
                    .map(|&user| {
                        let mut op = cur.program.get(user).expect("step exists").clone();
                        op.remap_vars(&mut |v| Some(if v == producer { target } else { v }));
                        (user, op, None)
                    })
                    .collect();
                let mut plan = cur.program.ids();
                plan.prefix.retain(|&s| s != producer);
                for branch in &mut plan.branches {
                    branch.retain(|&s| s != producer);
                }
                if self.try_plan(cur, &plan, replace) == Try::Adopted {
                    return true;
                }
            }
        }
        false
    }

    /// Deletes two steps of one sequence at once; `true` on the first adoption. Only steps of
    /// different rules pair up: an operation and its inverse (push and pop, create and delete)
    /// are of different rules, and two steps of one rule would cost runs on every planted bug
    /// that needs several (five puts) for nothing. The step that failed never pairs: the pair
    /// to take out is one that leaves the state as it was before the failing step, and with the
    /// failing step gone only some other step could fail, which single deletions already cover
    /// as well as pairs would.
    pub(super) fn delete_pairs(&mut self, cur: &mut Current<M::Op>) -> bool {
        let seqs: Vec<Seq> = std::iter::once(Seq::Prefix)
            .chain((0..cur.program.branches.len()).map(Seq::Branch))
            .collect();
        let failing = cur.failure.step;
        for seq in seqs {
            let len = seq.len(&cur.program);
            for i in 0..len {
                for j in i + 1..len {
                    if len > ALL_PAIRS && j - i > ALL_PAIRS / 2 {
                        break;
                    }
                    if rule(cur, seq, i) == rule(cur, seq, j)
                        || failing.is_some_and(|f| [i, j].iter().any(|&k| id_in(seq, k) == Some(f)))
                    {
                        continue;
                    }
                    if self.out_of_budget() {
                        return false;
                    }
                    let plan = Self::keep_in(cur, seq, |k| k != i && k != j);
                    if self.try_plan(cur, &plan, Vec::new()) == Try::Adopted {
                        return true;
                    }
                }
            }
        }
        false
    }
}

/// The id of the `i`-th step of `seq`.
fn id_in(seq: Seq, i: usize) -> Option<StepId> {
    match seq {
        Seq::Prefix => Some(StepId::prefix(i)),
        Seq::Branch(b) => Some(StepId::in_branch(u16::try_from(b).ok()?, i)),
    }
}

/// Whether changing arguments `from` into `to` is more than the other passes try: two or more
/// arguments change, or one that is not an integer. Equal arguments (only `Var`s differ) are
/// the `Var` passes' to point elsewhere; unknown arguments count as a joint change.
fn joint(to: Option<&Vec<Key>>, from: Option<&Vec<Key>>) -> bool {
    let (Some(to), Some(from)) = (to, from) else {
        return true;
    };
    if to.len() != from.len() {
        return true;
    }
    let mut changed = to.iter().zip(from).filter(|(a, b)| a != b);
    match (changed.next(), changed.next()) {
        (None, _) => false,
        (Some((one, _)), None) => int_of(one).is_none(),
        (Some(_), Some(_)) => true,
    }
}

/// The rule of the `i`-th step of `seq`.
fn rule<Op: StateMachine>(cur: &Current<Op>, seq: Seq, i: usize) -> Option<usize> {
    cur.program
        .get(id_in(seq, i)?)
        .map(StateMachine::rule_index)
}

/// The steps with a `Var` naming `producer`.
fn users_of<Op: StateMachine>(cur: &Current<Op>, producer: StepId) -> Vec<StepId> {
    cur.program
        .steps()
        .filter(|(_, op)| {
            let mut names = false;
            Op::clone(op).remap_vars(&mut |v| {
                names |= v == producer;
                Some(v)
            });
            names
        })
        .map(|(id, _)| id)
        .collect()
}
