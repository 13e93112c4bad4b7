//! The passes that change what steps hold, not where they are: arguments, alone and in equal
//! groups, and `Var`s. Steps are visited in [`Program::steps`](crate::Program::steps) order (the
//! prefix, then each branch), each step's value trees found by its id.

use super::values::Key;
use super::{Current, RegenerateProgram, Replace, Shrinker, Try};
use crate::generate::ArgTree;
use crate::program::{Program, StepId};
use crate::spec::{Model, StateMachine};

impl<M: Model> Shrinker<'_, M> {
    /// Simplifies each argument with proptest's value-tree protocol (binary search toward the
    /// strategy's simplest value).
    ///
    /// Each argument is first tried at its simplest value in one run: most arguments do not
    /// matter to the failure, and for them this saves the whole binary search (about 30 runs for
    /// a `u32`).
    pub(super) fn shrink_args(
        &mut self,
        cur: &mut Current<M::Op>,
        regenerate: Option<RegenerateProgram<'_>>,
    ) -> bool {
        let mut changed = false;
        // Throwaway trees, driven to their simplest value for the probes.
        let mut spare: Program<Option<Vec<Box<dyn ArgTree>>>> = match regenerate {
            Some(regenerate) => regenerate().map(Some),
            None => Program::sequential(Vec::new()),
        };
        let trees_at = |cur: &Current<M::Op>, id: StepId| cur.trees.get(id).map_or(0, Vec::len);
        // Every argument's probe comes before any search: a search run with other arguments
        // still at their generated values would run again, with new content, in the next round.
        for probing in [true, false] {
            let mut step = 0;
            while let Some(id) = cur.program.id_at(step) {
                let mut arg = 0;
                while step < cur.program.len() && arg < trees_at(cur, id) {
                    let origin = *cur.origin.get(id).expect("every step has an origin");
                    if !probing {
                        // Probed in the first sweep.
                    } else if let Some(probe) = spare
                        .get_mut(origin)
                        .and_then(Option::as_mut)
                        .and_then(|trees| trees.get_mut(arg))
                    {
                        let mut moved = false;
                        while probe.simplify() {
                            moved = true;
                        }
                        if moved {
                            let (tried, shrank) = self.try_arg(cur, id, arg, Some(&**probe));
                            if tried == Try::Adopted {
                                changed = true;
                                if shrank {
                                    break; // ids are stale; the next round starts over
                                }
                                // Already at the simplest value: nothing left to search.
                                arg += 1;
                                continue;
                            }
                        }
                    }
                    if probing {
                        arg += 1;
                        continue;
                    }
                    // A tree searched in an earlier round can sit below the argument's value, which
                    // another pass (canonical values, a joint lowering) has since moved: its bounds
                    // are spent, but its current value may still be the simpler one to try.
                    let stale = {
                        let key = tree(cur, id, arg).key();
                        cur.values
                            .get(id)
                            .and_then(|values| values.get(arg))
                            .is_some_and(|held| *held != key)
                    };
                    if stale {
                        let (tried, shrank) = self.try_arg(cur, id, arg, None);
                        if tried == Try::Adopted {
                            changed = true;
                            if shrank {
                                break; // ids are stale; the next round starts over
                            }
                        }
                    }
                    if !tree(cur, id, arg).simplify() {
                        arg += 1;
                        continue;
                    }
                    loop {
                        if self.out_of_budget() {
                            return changed;
                        }
                        let (tried, shrank) = self.try_arg(cur, id, arg, None);
                        match tried {
                            Try::Adopted => {
                                changed = true;
                                if shrank || step >= cur.program.len() {
                                    // Steps were dropped; the ids we hold are stale. Move on.
                                    break;
                                }
                                if !tree(cur, id, arg).simplify() {
                                    break;
                                }
                            }
                            // Still above the current value: keep descending without running it.
                            Try::NotSimpler => {
                                if !tree(cur, id, arg).simplify() {
                                    break;
                                }
                            }
                            passing => {
                                debug_assert!(passing.kept_passing());
                                if !tree(cur, id, arg).complicate() {
                                    break;
                                }
                            }
                        }
                    }
                    arg += 1;
                }
                step += 1;
            }
        }
        changed
    }

    /// Tries the current program with argument `arg` of step `id` set from `probe`, or from
    /// the argument's own value tree, the arguments picked from it dragged along; the outcome,
    /// and whether the program lost steps (the ids held are then stale).
    fn try_arg(
        &mut self,
        cur: &mut Current<M::Op>,
        id: StepId,
        arg: usize,
        probe: Option<&dyn ArgTree>,
    ) -> (Try, bool) {
        let tree = probe.unwrap_or_else(|| tree_of(cur, id, arg));
        let mut op = cur.program.get(id).expect("step exists").clone();
        op.set_arg(arg, tree);
        let values = with_value(cur, id, arg, tree.key());
        let replace = dragging::<M>(cur, id, arg, tree, vec![(id, op, values)]);
        let all = cur.program.ids();
        let len_before = cur.program.len();
        let tried = self.try_plan(cur, &all, replace);
        (tried, cur.program.len() != len_before)
    }

    /// Points each `Var` at an earlier result it may name, so that the steps which made the
    /// later results can go (transfers between two accounts become transfers within one). A
    /// prefix step's var tries the earlier prefix steps; a branch step's var tries every prefix
    /// step, then the earlier steps of its own branch.
    pub(super) fn shrink_vars(&mut self, cur: &mut Current<M::Op>) -> bool {
        if !M::Op::uses_vars() {
            return false;
        }
        let mut changed = false;
        let mut step = 0;
        while let Some(id) = cur.program.id_at(step) {
            let mut targets: Vec<Vec<StepId>> = Vec::new();
            let prefix_len = cur.program.prefix.len();
            cur.program
                .get(id)
                .expect("step exists")
                .clone()
                .remap_vars(&mut |old| {
                    // One entry per var, so that `slot` below counts the vars `remap_vars`
                    // visits.
                    targets.push(earlier(id, old, prefix_len));
                    Some(old)
                });
            'slots: for (slot, candidates) in targets.iter().enumerate() {
                for &new in candidates {
                    if self.out_of_budget() {
                        return changed;
                    }
                    let mut op = cur.program.get(id).expect("step exists").clone();
                    let mut seen = 0;
                    op.remap_vars(&mut |v| {
                        seen += 1;
                        Some(if seen - 1 == slot { new } else { v })
                    });
                    let all = cur.program.ids();
                    let len_before = cur.program.len();
                    if self.try_plan(cur, &all, vec![(id, op, None)]) == Try::Adopted {
                        changed = true;
                        if cur.program.len() != len_before {
                            return changed;
                        }
                        continue 'slots;
                    }
                }
            }
            step += 1;
        }
        changed
    }

    /// Shrinks arguments that hold equal values together (the same key in a put and a later
    /// get), which one-at-a-time shrinking cannot do: changing either alone loses the failure.
    pub(super) fn shrink_equal_args(&mut self, cur: &mut Current<M::Op>) -> bool {
        // (value key, the (step, argument) positions holding that value)
        type Group = ((std::any::TypeId, String), Vec<(StepId, usize)>);
        let mut groups: Vec<Group> = Vec::new();
        for (step, trees) in cur.trees.steps() {
            for (arg, tree) in trees.iter().enumerate() {
                let key = tree.key();
                match groups.iter_mut().find(|(k, _)| *k == key) {
                    Some((_, members)) => members.push((step, arg)),
                    None => groups.push((key, vec![(step, arg)])),
                }
            }
        }
        let mut changed = false;
        for (_, group) in groups.into_iter().filter(|(_, g)| g.len() > 1) {
            // Arguments picked from the model take the value the others move to (their own
            // trees pick from a collection of the past); the others search.
            let (followers, group): (Vec<_>, Vec<_>) = group
                .into_iter()
                .partition(|&(s, a)| Self::follows(cur, s, a));
            let Some(&(lead_step, lead_arg)) = group.first() else {
                continue;
            };
            // One argument with followers is `shrink_args`'s, which drags them along.
            if group.len() < 2 {
                continue;
            }
            let len_before = cur.program.len();
            let mut all_moved = group.iter().all(|&(s, a)| tree(cur, s, a).simplify());
            while all_moved {
                if self.out_of_budget() {
                    return changed;
                }
                // One replacement per step, with every grouped argument of that step set.
                let mut merged: Replace<M::Op> = Vec::new();
                for &(s, a) in group.iter().chain(&followers) {
                    let (from_step, from_arg) = if Self::follows(cur, s, a) {
                        (lead_step, lead_arg)
                    } else {
                        (s, a)
                    };
                    let key = tree(cur, from_step, from_arg).key();
                    if !merged.iter().any(|(m, _, _)| *m == s) {
                        let op = cur.program.get(s).expect("step exists").clone();
                        let values = cur.values.get(s).cloned();
                        merged.push((s, op, values));
                    }
                    let (_, op, values) = merged
                        .iter_mut()
                        .find(|(m, _, _)| *m == s)
                        .expect("pushed above");
                    op.set_arg(a, &**tree(cur, from_step, from_arg));
                    if let Some(slot) = values.as_mut().and_then(|v| v.get_mut(a)) {
                        *slot = key;
                    }
                }
                let all = cur.program.ids();
                match self.try_plan(cur, &all, merged) {
                    Try::Adopted => {
                        changed = true;
                        if cur.program.len() != len_before {
                            return changed; // ids are stale; the next round regroups
                        }
                        all_moved = group.iter().all(|&(s, a)| tree(cur, s, a).simplify());
                    }
                    Try::NotSimpler => {
                        all_moved = group.iter().all(|&(s, a)| tree(cur, s, a).simplify());
                    }
                    passing => {
                        debug_assert!(passing.kept_passing());
                        all_moved = group.iter().all(|&(s, a)| tree(cur, s, a).complicate());
                    }
                }
            }
        }
        changed
    }
}

/// The values of step `id`'s arguments with argument `arg` set to `key` (`None` if the shrinker
/// does not know them).
pub(super) fn with_value<Op>(
    cur: &Current<Op>,
    id: StepId,
    arg: usize,
    key: Key,
) -> Option<Vec<Key>> {
    let mut values = cur.values.get(id)?.clone();
    *values.get_mut(arg)? = key;
    Some(values)
}

/// `replace` (which sets argument `arg` of step `id` from `tree`) with every argument picked
/// from the model that holds the same value as that argument now also set from `tree`: a
/// deleted key moves with the key it was picked from, rather than the repair picking another.
fn dragging<M: Model>(
    cur: &Current<M::Op>,
    id: StepId,
    arg: usize,
    tree: &dyn ArgTree,
    mut replace: Replace<M::Op>,
) -> Replace<M::Op> {
    if !M::Op::follows_model() {
        return replace;
    }
    let Some(old) = cur.values.get(id).and_then(|v| v.get(arg)) else {
        return replace;
    };
    let key = tree.key();
    for (step, values) in cur.values.steps() {
        for (a, value) in values.iter().enumerate() {
            if (step, a) == (id, arg) || value != old || !Shrinker::<M>::follows(cur, step, a) {
                continue;
            }
            if !replace.iter().any(|(s, _, _)| *s == step) {
                let op = cur.program.get(step).expect("step exists").clone();
                replace.push((step, op, Some(values.clone())));
            }
            let (_, op, vals) = replace
                .iter_mut()
                .find(|(s, _, _)| *s == step)
                .expect("pushed above");
            op.set_arg(a, tree);
            if let Some(slot) = vals.as_mut().and_then(|v| v.get_mut(a)) {
                *slot = key.clone();
            }
        }
    }
    replace
}

/// The value tree of argument `arg` of step `id`, to read.
fn tree_of<Op>(cur: &Current<Op>, id: StepId, arg: usize) -> &dyn ArgTree {
    &*cur.trees.get(id).expect("every step has its trees")[arg]
}

/// The value tree of argument `arg` of step `id`.
fn tree<Op>(cur: &mut Current<Op>, id: StepId, arg: usize) -> &mut Box<dyn ArgTree> {
    &mut cur.trees.get_mut(id).expect("every step has its trees")[arg]
}

/// The results a var of step `at` naming `old` may name instead, simplest first: earlier prefix
/// steps, and for a branch step also earlier steps of its own branch.
pub(super) fn earlier(at: StepId, old: StepId, prefix_len: usize) -> Vec<StepId> {
    match (at.branch, old.branch) {
        (_, None) => (0..old.index as usize).map(StepId::prefix).collect(),
        (Some(b), Some(ob)) if b == ob => (0..prefix_len)
            .map(StepId::prefix)
            .chain((0..old.index as usize).map(|i| StepId::in_branch(b, i)))
            .collect(),
        // Out of scope: the repair drops the step; nothing to redirect.
        _ => Vec::new(),
    }
}
