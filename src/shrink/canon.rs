//! Canonical arguments: passes that change several arguments at once, which lowering one
//! argument at a time cannot do when the failure needs a relation between them (two keys that
//! differ, an amount above another by exactly one).
//!
//! - renumber: the distinct values of one type, in first-use order, become the simplest value
//!   and the next ones (keys 5, 2, 5 become 0, 1, 0);
//! - lower jointly: subtract the same delta from every argument of a type above its simplest
//!   value (the largest possible delta, then halves of it), then the largest delta from pairs of
//!   steps of different rules;
//! - swap: exchange the values of two arguments of a type, so the smaller comes first.
//!
//! Integers get all three. Other types (enums, `bool`, `char`, strings, the user's own) get
//! renumbering and swapping among the strategy's simplest value and the values already in the
//! program, ordered the way `order` orders them: the simplest value first, then up the ladder
//! its value tree walked (see `values`), then by text. A value is set by reading it from a
//! value tree that holds it (the derived `set_arg` reads any tree of the field's type), so no
//! value is invented;
//! there is no joint lowering for them, as "lower by the same delta" has no meaning without
//! numbers.
//!
//! Each candidate still has to be simpler in the order of `order`, so the passes cannot undo one
//! another. New values stay between the argument's simplest value and the largest value already
//! in the program, inside any range strategy that made them.

use super::values::{int_of, int_tree, Key, Simplest};
use super::{Current, Replace, Shrinker, Try};
use crate::generate::ArgTree;
use crate::program::{Program, StepId};
use crate::spec::{Model, StateMachine};
use std::any::TypeId;

/// Groups of integers up to this size also try lowering pairs.
const PAIRS_UP_TO: usize = 4;

/// An integer argument: where it is, its type, its value and its strategy's simplest value.
#[derive(Clone, Copy, Debug)]
struct Int {
    step: StepId,
    arg: usize,
    ty: TypeId,
    value: i128,
    simplest: i128,
}

impl<M: Model> Shrinker<'_, M> {
    /// Runs the canonicalization passes until none adopts anything; `true` if one did.
    pub(super) fn canonicalize(&mut self, cur: &mut Current<M::Op>) -> bool {
        let mut changed = false;
        while !self.out_of_budget()
            && (self.renumber(cur)
                || self.renumber_others(cur)
                || self.lower_jointly(cur)
                || self.swap_values(cur)
                || self.swap_others(cur))
        {
            changed = true;
        }
        changed
    }

    /// The integer arguments of the current program whose value and simplest value are known,
    /// in program order.
    fn ints(&self, cur: &Current<M::Op>) -> Vec<Int> {
        let mut ints = Vec::new();
        for (step, values) in cur.values.steps() {
            let Some(&origin) = cur.origin.get(step) else {
                continue;
            };
            let simplest = self.simplest.get(origin);
            for (arg, key) in values.iter().enumerate() {
                let s = simplest
                    .and_then(|s| s.get(arg))
                    .and_then(|s| int_of(&s.key));
                if let (Some(value), Some(simplest)) = (int_of(key), s) {
                    ints.push(Int {
                        step,
                        arg,
                        ty: key.0,
                        value,
                        simplest,
                    });
                }
            }
        }
        ints
    }

    /// Tries the current program with each `(argument, new value)` set; `None` if a value
    /// cannot be set.
    fn try_values(&mut self, cur: &mut Current<M::Op>, set: &[(Int, i128)]) -> Option<Try> {
        let mut replace: Replace<M::Op> = Vec::new();
        for &(int, value) in set {
            let (tree, key) = int_tree(int.ty, value)?;
            if !replace.iter().any(|(s, _, _)| *s == int.step) {
                let op = cur.program.get(int.step)?.clone();
                replace.push((int.step, op, cur.values.get(int.step).cloned()));
            }
            let (_, op, values) = replace.iter_mut().find(|(s, _, _)| *s == int.step)?;
            op.set_arg(int.arg, &*tree);
            *values.as_mut()?.get_mut(int.arg)? = key;
        }
        let all = cur.program.ids();
        Some(self.try_plan(cur, &all, replace))
    }

    /// Renumbers each type's values to first-use order; `true` on the first adoption.
    pub(super) fn renumber(&mut self, cur: &mut Current<M::Op>) -> bool {
        let ints = self.ints(cur);
        for group in by_type(&ints) {
            let simplest = group[0].simplest;
            if group
                .iter()
                .any(|i| i.simplest != simplest || i.value < simplest)
            {
                continue;
            }
            let mut seen: Vec<i128> = Vec::new();
            let mut set = Vec::new();
            for int in &group {
                let rank = match seen.iter().position(|&v| v == int.value) {
                    Some(rank) => rank,
                    None => {
                        seen.push(int.value);
                        seen.len() - 1
                    }
                };
                let to = simplest + rank as i128;
                if to != int.value {
                    set.push((*int, to));
                }
            }
            if !set.is_empty() && self.try_values(cur, &set) == Some(Try::Adopted) {
                return true;
            }
        }
        false
    }

    /// Subtracts one delta from every argument of a type above its simplest value, then the
    /// largest delta from pairs of them; `true` on the first adoption.
    pub(super) fn lower_jointly(&mut self, cur: &mut Current<M::Op>) -> bool {
        let ints = self.ints(cur);
        for group in by_type(&ints) {
            let above: Vec<Int> = group.into_iter().filter(|i| i.value > i.simplest).collect();
            // Equal values are `shrink_equal_args`'s to lower, in lockstep.
            if above.len() < 2 || above.iter().all(|i| i.value == above[0].value) {
                continue;
            }
            if self.lower_by_delta(cur, &above, true) {
                return true;
            }
            // Pairs of steps of different rules (a deposit and a withdrawal), in small groups
            // only: every program with several keys would pay for them otherwise.
            if above.len() > PAIRS_UP_TO {
                continue;
            }
            for a in 0..above.len() {
                for b in a + 1..above.len() {
                    let (x, y) = (above[a], above[b]);
                    if x.value == y.value || self.rule(cur, x.step) == self.rule(cur, y.step) {
                        continue;
                    }
                    if self.out_of_budget() {
                        return false;
                    }
                    if self.lower_by_delta(cur, &[x, y], false) {
                        return true;
                    }
                }
            }
        }
        false
    }

    fn rule(&self, cur: &Current<M::Op>, step: StepId) -> Option<usize> {
        cur.program.get(step).map(StateMachine::rule_index)
    }

    /// Subtracts a delta from every argument of `subset`: the largest possible first (most
    /// often the answer), then, if `halve`, halves of it; `true` on the first adoption. Bisecting toward the
    /// largest failing delta is left to the next call, which starts from the adopted values.
    fn lower_by_delta(&mut self, cur: &mut Current<M::Op>, subset: &[Int], halve: bool) -> bool {
        let Some(mut delta) = subset.iter().map(|i| i.value - i.simplest).min() else {
            return false;
        };
        while delta > 0 && !self.out_of_budget() {
            let set: Vec<(Int, i128)> = subset.iter().map(|&i| (i, i.value - delta)).collect();
            match self.try_values(cur, &set) {
                Some(Try::Adopted) => return true,
                Some(t) if halve && (t.kept_passing() || t == Try::NotSimpler) => delta /= 2,
                _ => return false,
            }
        }
        false
    }

    /// Swaps the values of two arguments of a type where the later one is smaller; `true` on
    /// the first adoption.
    pub(super) fn swap_values(&mut self, cur: &mut Current<M::Op>) -> bool {
        let ints = self.ints(cur);
        for group in by_type(&ints) {
            for a in 0..group.len() {
                for b in a + 1..group.len() {
                    let (x, y) = (group[a], group[b]);
                    if x.step == y.step || x.value <= y.value {
                        continue;
                    }
                    if y.value < x.simplest || x.value < y.simplest {
                        continue;
                    }
                    if self.out_of_budget() {
                        return false;
                    }
                    if self.try_values(cur, &[(x, y.value), (y, x.value)]) == Some(Try::Adopted) {
                        return true;
                    }
                }
            }
        }
        false
    }
}

/// An argument of a type that is not an integer: where it is, its value, and how it ranks in
/// the order of simplicity among the values of its type (see [`Shrinker::others`]).
#[derive(Clone, Debug)]
struct Other {
    step: StepId,
    arg: usize,
    key: Key,
    simplest: Key,
}

impl<M: Model> Shrinker<'_, M> {
    /// The arguments of the current program that are not integers and whose simplest value is
    /// known, in program order.
    fn others(&self, cur: &Current<M::Op>) -> Vec<Other> {
        let mut others = Vec::new();
        for (step, values) in cur.values.steps() {
            let Some(&origin) = cur.origin.get(step) else {
                continue;
            };
            let simplest = self.simplest.get(origin);
            for (arg, key) in values.iter().enumerate() {
                let Some(s) = simplest.and_then(|s| s.get(arg)) else {
                    continue;
                };
                if int_of(key).is_none() && s.key.0 == key.0 {
                    others.push(Other {
                        step,
                        arg,
                        key: key.clone(),
                        simplest: s.key.clone(),
                    });
                }
            }
        }
        others
    }

    /// Where `value` stands among the values of `group`'s type: the simplest value first, then
    /// the lowest rung any of the group's ladders puts it on (values on none after), then
    /// shorter text, then smaller text.
    fn rank(
        &self,
        cur: &Current<M::Op>,
        group: &[Other],
        value: &Key,
    ) -> (bool, usize, usize, String) {
        let rung = group
            .iter()
            .filter_map(|o| {
                let origin = cur.origin.get(o.step)?;
                self.simplest.get(*origin)?.get(o.arg)?.rank(value)
            })
            .min()
            .unwrap_or(usize::MAX);
        let away = group.iter().all(|o| o.simplest != *value);
        (away, rung, value.1.len(), value.1.clone())
    }

    /// Tries the current program with each `(argument, new value)` set, each value read from a
    /// value tree that holds it (one of the program's, or one at an argument's simplest value);
    /// `None` if none does.
    fn try_keys(&mut self, cur: &mut Current<M::Op>, set: &[(&Other, Key)]) -> Option<Try> {
        let mut replace: Replace<M::Op> = Vec::new();
        for (other, to) in set {
            let tree = donor(cur, &self.simplest, to)?;
            if !replace.iter().any(|(s, _, _)| *s == other.step) {
                let op = cur.program.get(other.step)?.clone();
                replace.push((other.step, op, cur.values.get(other.step).cloned()));
            }
            let (_, op, values) = replace.iter_mut().find(|(s, _, _)| *s == other.step)?;
            op.set_arg(other.arg, tree);
            *values.as_mut()?.get_mut(other.arg)? = to.clone();
        }
        let all = cur.program.ids();
        Some(self.try_plan(cur, &all, replace))
    }

    /// Renumbers each non-integer type's values to first-use order among the values present;
    /// `true` on the first adoption.
    pub(super) fn renumber_others(&mut self, cur: &mut Current<M::Op>) -> bool {
        let others = self.others(cur);
        for group in others_by_type(&others) {
            if group.iter().any(|o| o.simplest != group[0].simplest) {
                continue;
            }
            let mut seen: Vec<Key> = Vec::new();
            for o in &group {
                if !seen.contains(&o.key) {
                    seen.push(o.key.clone());
                }
            }
            // The values to number with: the simplest one, then those already present.
            let mut sorted = seen.clone();
            if !sorted.contains(&group[0].simplest) {
                sorted.push(group[0].simplest.clone());
            }
            sorted.sort_by_cached_key(|v| self.rank(cur, &group, v));
            let set: Vec<(&Other, Key)> = group
                .iter()
                .filter_map(|o| {
                    let to = &sorted[seen.iter().position(|v| *v == o.key)?];
                    (*to != o.key).then(|| (o, to.clone()))
                })
                .collect();
            if !set.is_empty() && self.try_keys(cur, &set) == Some(Try::Adopted) {
                return true;
            }
        }
        false
    }

    /// Swaps the values of two non-integer arguments of a type where the later one ranks lower;
    /// `true` on the first adoption.
    pub(super) fn swap_others(&mut self, cur: &mut Current<M::Op>) -> bool {
        let others = self.others(cur);
        for group in others_by_type(&others) {
            for a in 0..group.len() {
                for b in a + 1..group.len() {
                    let (x, y) = (&group[a], &group[b]);
                    if x.step == y.step || x.key == y.key {
                        continue;
                    }
                    if self.rank(cur, &group, &y.key) >= self.rank(cur, &group, &x.key) {
                        continue;
                    }
                    if self.out_of_budget() {
                        return false;
                    }
                    let set = [(x, y.key.clone()), (y, x.key.clone())];
                    if self.try_keys(cur, &set) == Some(Try::Adopted) {
                        return true;
                    }
                }
            }
        }
        false
    }
}

/// A value tree whose value is `key`, to read it from: one of the current program's, or one
/// at an argument's simplest value.
fn donor<'c, Op>(
    cur: &'c Current<Op>,
    simplest: &'c Program<Vec<Simplest>>,
    key: &Key,
) -> Option<&'c dyn ArgTree> {
    let at_simplest = simplest
        .steps()
        .flat_map(|(_, s)| s.iter())
        .find(|s| s.key == *key)
        .map(|s| &*s.tree);
    at_simplest.or_else(|| {
        cur.trees
            .steps()
            .flat_map(|(_, trees)| trees.iter())
            .find(|t| t.key() == *key)
            .map(|t| &**t)
    })
}

/// [`by_type`] for non-integer arguments.
fn others_by_type(others: &[Other]) -> Vec<Vec<Other>> {
    let mut groups: Vec<Vec<Other>> = Vec::new();
    for o in others {
        match groups.iter_mut().find(|g| g[0].key.0 == o.key.0) {
            Some(g) => g.push(o.clone()),
            None => groups.push(vec![o.clone()]),
        }
    }
    groups
}

/// The arguments grouped by type, each group in program order, groups in order of first use.
fn by_type(ints: &[Int]) -> Vec<Vec<Int>> {
    let mut groups: Vec<Vec<Int>> = Vec::new();
    for &int in ints {
        match groups.iter_mut().find(|g| g[0].ty == int.ty) {
            Some(g) => g.push(int),
            None => groups.push(vec![int]),
        }
    }
    groups
}
