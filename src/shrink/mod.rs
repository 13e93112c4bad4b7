//! stateprop's shrinker: delete chunks of steps, then single steps, then simplify arguments,
//! repeated until nothing changes (a fixpoint), so the result is 1-minimal: deleting any one step
//! makes the failure go away.
//!
//! Every candidate is first replayed against the model alone. Steps whose precondition no longer
//! holds, or whose `Var` names a deleted step, are dropped (and later vars renumbered), so the
//! system under test only ever sees well-formed programs. Candidates are memoized by content.

use crate::failure::Failure;
use crate::generate::{ArgTree, ModelRun};
use crate::program::{fingerprint, Program, StepId};
use crate::report::ShrinkStats;
use crate::spec::{Model, StateMachine};
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// Runs a well-formed candidate program and says how it failed, if it did. The shrinker knows
/// nothing of how programs run: the runner decides (a sequential executor today). The passes are
/// sequential for now, so every candidate is a prefix without branches.
pub(crate) type Property<'a, Op> = &'a dyn Fn(&Program<Op>) -> Option<Failure>;

pub(crate) struct Shrinker<'a, M: Model> {
    pub(crate) initial: &'a M,
    property: Property<'a, M::Op>,
    /// Asked before every run: `true` when whoever shrinks has given up (a hang was reported).
    stop: &'a dyn Fn() -> bool,
    pub(crate) max_time: Duration,
    pub(crate) max_runs: u64,
    /// Told of every program adopted, so the smallest failing one so far survives a candidate
    /// that hangs (the caller's thread reports it; this one is stuck).
    on_adopt: Option<OnAdopt<'a, M::Op>>,
    /// The programs adopted, oldest first (the original, then each smaller one), capped at
    /// `TRAIL`: if the result does not fail again when rerun, the caller walks back through them.
    trail: Vec<(Program<M::Op>, Failure)>,
    /// How each candidate tried so far fared, by content: runs and failing runs. A candidate is
    /// judged once, with up to `reruns` runs, and never run again.
    judged: HashMap<u64, Counts>,
    /// Runs of a candidate before it counts as passing (`Config::reruns`).
    reruns: u32,
    stats: ShrinkStats,
    start: Instant,
    last_progress: Instant,
}

/// The program being shrunk: each step's operation and the value trees of its arguments.
struct Current<Op> {
    ops: Vec<Op>,
    trees: Vec<Vec<Box<dyn ArgTree>>>,
    /// Each step's index in the program shrinking started from.
    origin: Vec<usize>,
    failure: Failure,
}

/// How a candidate fared: runs, and runs that failed.
#[derive(Clone, Copy, Debug, Default)]
struct Counts {
    runs: u32,
    failures: u32,
}

/// Told of each adopted program, with its failure and the shrink counts so far.
pub(crate) type OnAdopt<'a, Op> = &'a dyn Fn(&Program<Op>, &Failure, &ShrinkStats);

/// How many adopted programs the trail keeps (the original is always kept).
const TRAIL: usize = 64;

/// A shrunk program, its failure, and how shrinking went.
pub(crate) struct Shrunk<Op> {
    pub(crate) program: Program<Op>,
    pub(crate) failure: Failure,
    pub(crate) stats: ShrinkStats,
    /// Earlier failing programs, oldest first, ending with `program` itself.
    pub(crate) trail: Vec<(Program<Op>, Failure)>,
}

/// What became of a candidate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Try {
    /// It failed too and is now the current program.
    Adopted,
    /// It ran and passed.
    Passed,
    /// An identical candidate already ran (and passed: a failing one would be the current
    /// program), so it was not run again.
    Duplicate,
    /// Repaired against the model, nothing of it was left to run.
    Empty,
    /// The shrink budget ran out before it could run.
    OutOfBudget,
    /// It is not simpler than the current program, so it was not run.
    NotSimpler,
}

impl Try {
    /// Whether the candidate is known or taken not to fail: a binary search moves back up.
    fn kept_passing(self) -> bool {
        matches!(
            self,
            Try::Passed | Try::Duplicate | Try::Empty | Try::OutOfBudget
        )
    }
}

/// Makes fresh value trees for the original program, one list per original step.
///
/// proptest's value trees remember the bounds of their binary search, and those bounds go stale
/// once other steps change (an amount that had to stay above a balance may drop after the
/// balance shrank). Each round after the first starts from fresh trees.
pub(crate) type Regenerate<'a> = &'a dyn Fn() -> Vec<Vec<Box<dyn ArgTree>>>;

impl<'a, M: Model> Shrinker<'a, M> {
    /// A shrinker of programs that start from `initial` (candidates are repaired against it),
    /// judged by `property`.
    pub(crate) fn new(
        initial: &'a M,
        property: Property<'a, M::Op>,
        stop: &'a dyn Fn() -> bool,
        max_time: Duration,
        max_runs: u64,
    ) -> Self {
        let now = Instant::now();
        Shrinker {
            initial,
            property,
            stop,
            max_time,
            max_runs,
            on_adopt: None,
            trail: Vec::new(),
            judged: HashMap::new(),
            reruns: 1,
            stats: ShrinkStats::default(),
            start: now,
            last_progress: now,
        }
    }

    /// See [`Config::reruns`](crate::Config::reruns) (at least 1).
    pub(crate) fn reruns(mut self, runs: u32) -> Self {
        self.reruns = runs.max(1);
        self
    }

    /// Calls `f` with every program adopted (see the field `on_adopt`).
    pub(crate) fn on_adopt(mut self, f: OnAdopt<'a, M::Op>) -> Self {
        self.on_adopt = Some(f);
        self
    }

    /// Shrinks a failing program. `trees` may be empty (no argument shrinking) or hold one entry
    /// per step.
    pub(crate) fn shrink(
        mut self,
        ops: Vec<M::Op>,
        mut trees: Vec<Vec<Box<dyn ArgTree>>>,
        regenerate: Option<Regenerate<'_>>,
        failure: Failure,
    ) -> Shrunk<M::Op> {
        if trees.len() != ops.len() {
            trees = ops.iter().map(|_| Vec::new()).collect();
        }
        self.stats.steps_before = ops.len();
        self.stats.failures = 1;
        self.trail
            .push((Program::sequential(ops.clone()), failure.clone()));
        self.judged.insert(
            fingerprint(&ops),
            Counts {
                runs: 1,
                failures: 1,
            },
        );
        let mut cur = Current {
            origin: (0..ops.len()).collect(),
            ops,
            trees,
            failure,
        };
        let mut round = 0;
        loop {
            if let (true, Some(regenerate)) = (round > 0, regenerate) {
                let mut fresh: Vec<Option<Vec<Box<dyn ArgTree>>>> =
                    regenerate().into_iter().map(Some).collect();
                for (i, &o) in cur.origin.iter().enumerate() {
                    if let Some(t) = fresh.get_mut(o).and_then(Option::take) {
                        cur.trees[i] = t;
                    }
                }
            }
            round += 1;
            let mut changed = self.delete_chunks(&mut cur);
            changed |= self.shrink_vars(&mut cur);
            changed |= self.shrink_equal_args(&mut cur);
            changed |= self.shrink_args(&mut cur, regenerate);
            if !changed || self.out_of_budget() {
                break;
            }
        }
        self.stats.steps_after = cur.ops.len();
        self.stats.time = self.start.elapsed();
        Shrunk {
            program: Program::sequential(cur.ops),
            failure: cur.failure,
            stats: self.stats,
            trail: self.trail,
        }
    }

    fn out_of_budget(&mut self) -> bool {
        let over = self.stats.runs >= self.max_runs
            || self.start.elapsed() >= self.max_time
            || (self.stop)();
        if over {
            self.stats.budget_exhausted = true;
        }
        over
    }

    /// Deletes runs of steps, halving the run length down to single steps; a pass over single
    /// steps that deletes nothing is what makes the result 1-minimal.
    fn delete_chunks(&mut self, cur: &mut Current<M::Op>) -> bool {
        let mut changed = false;
        let mut size = (cur.ops.len() / 2).max(1);
        loop {
            let mut start = 0;
            while start + size <= cur.ops.len() {
                if self.out_of_budget() {
                    return changed;
                }
                let keep: Vec<usize> = (0..cur.ops.len())
                    .filter(|&i| i < start || i >= start + size)
                    .collect();
                if self.try_keep(cur, &keep, Vec::new()) == Try::Adopted {
                    changed = true;
                } else {
                    start += if size == 1 { 1 } else { size };
                }
            }
            if size == 1 {
                return changed;
            }
            size /= 2;
        }
    }

    /// Simplifies each argument with proptest's value-tree protocol (binary search toward the
    /// strategy's simplest value).
    ///
    /// Each argument is first tried at its simplest value in one run: most arguments do not
    /// matter to the failure, and for them this saves the whole binary search (about 30 runs for
    /// a `u32`).
    fn shrink_args(
        &mut self,
        cur: &mut Current<M::Op>,
        regenerate: Option<Regenerate<'_>>,
    ) -> bool {
        let mut changed = false;
        let mut step = 0;
        // Throwaway trees, driven to their simplest value for the probes.
        let mut spare: Vec<Option<Vec<Box<dyn ArgTree>>>> = match regenerate {
            Some(regenerate) => regenerate().into_iter().map(Some).collect(),
            None => Vec::new(),
        };
        while step < cur.ops.len() {
            let mut arg = 0;
            while step < cur.ops.len() && arg < cur.trees[step].len() {
                let origin = cur.origin[step];
                if let Some(probe) = spare
                    .get_mut(origin)
                    .and_then(Option::as_mut)
                    .and_then(|trees| trees.get_mut(arg))
                {
                    let mut moved = false;
                    while probe.simplify() {
                        moved = true;
                    }
                    if moved {
                        let mut op = cur.ops[step].clone();
                        op.set_arg(arg, &**probe);
                        let all: Vec<usize> = (0..cur.ops.len()).collect();
                        let len_before = cur.ops.len();
                        if self.try_keep(cur, &all, vec![(step, op)]) == Try::Adopted {
                            changed = true;
                            if cur.ops.len() != len_before {
                                break; // indices are stale; the next round starts over
                            }
                            // Already at the simplest value: nothing left to search.
                            arg += 1;
                            continue;
                        }
                    }
                }
                if !cur.trees[step][arg].simplify() {
                    arg += 1;
                    continue;
                }
                loop {
                    if self.out_of_budget() {
                        return changed;
                    }
                    let mut op = cur.ops[step].clone();
                    op.set_arg(arg, &*cur.trees[step][arg]);
                    let all: Vec<usize> = (0..cur.ops.len()).collect();
                    let len_before = cur.ops.len();
                    match self.try_keep(cur, &all, vec![(step, op)]) {
                        Try::Adopted => {
                            changed = true;
                            if cur.ops.len() != len_before || step >= cur.ops.len() {
                                // Steps were dropped; the indices we hold are stale. Move on.
                                break;
                            }
                            if !cur.trees[step][arg].simplify() {
                                break;
                            }
                        }
                        // Still above the current value: keep descending without running it.
                        Try::NotSimpler => {
                            if !cur.trees[step][arg].simplify() {
                                break;
                            }
                        }
                        passing => {
                            debug_assert!(passing.kept_passing());
                            if !cur.trees[step][arg].complicate() {
                                break;
                            }
                        }
                    }
                }
                arg += 1;
            }
            step += 1;
        }
        changed
    }

    /// Points each `Var` at an earlier result of the same type, so that the steps which made
    /// the later results can go (transfers between two accounts become transfers within one).
    fn shrink_vars(&mut self, cur: &mut Current<M::Op>) -> bool {
        if !M::Op::uses_vars() {
            return false;
        }
        let mut changed = false;
        let mut step = 0;
        while step < cur.ops.len() {
            let mut targets = Vec::new();
            cur.ops[step].clone().remap_vars(&mut |old| {
                // One entry per var, so that `slot` below counts the vars `remap_vars` visits.
                // A sequential program has no branch vars; one would get 0, nothing to try.
                targets.push(old.prefix_index().unwrap_or(0));
                Some(old)
            });
            'slots: for (slot, &old) in targets.iter().enumerate() {
                for new in 0..old {
                    if self.out_of_budget() {
                        return changed;
                    }
                    let mut op = cur.ops[step].clone();
                    let mut seen = 0;
                    op.remap_vars(&mut |v| {
                        seen += 1;
                        Some(if seen - 1 == slot {
                            StepId::prefix(new)
                        } else {
                            v
                        })
                    });
                    let all: Vec<usize> = (0..cur.ops.len()).collect();
                    let len_before = cur.ops.len();
                    if self.try_keep(cur, &all, vec![(step, op)]) == Try::Adopted {
                        changed = true;
                        if cur.ops.len() != len_before {
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
    fn shrink_equal_args(&mut self, cur: &mut Current<M::Op>) -> bool {
        // (value key, the (step, argument) positions holding that value)
        type Group = ((std::any::TypeId, String), Vec<(usize, usize)>);
        let mut groups: Vec<Group> = Vec::new();
        for (step, trees) in cur.trees.iter().enumerate() {
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
            let len_before = cur.ops.len();
            let mut all_moved = group.iter().all(|&(s, a)| cur.trees[s][a].simplify());
            while all_moved {
                if self.out_of_budget() {
                    return changed;
                }
                // One replacement per step, with every grouped argument of that step set.
                let mut merged: Vec<(usize, M::Op)> = Vec::new();
                for &(s, a) in &group {
                    match merged.iter_mut().find(|(m, _)| *m == s) {
                        Some((_, op)) => op.set_arg(a, &*cur.trees[s][a]),
                        None => {
                            let mut op = cur.ops[s].clone();
                            op.set_arg(a, &*cur.trees[s][a]);
                            merged.push((s, op));
                        }
                    }
                }
                let all: Vec<usize> = (0..cur.ops.len()).collect();
                match self.try_keep(cur, &all, merged) {
                    Try::Adopted => {
                        changed = true;
                        if cur.ops.len() != len_before {
                            return changed; // indices are stale; the next round regroups
                        }
                        all_moved = group.iter().all(|&(s, a)| cur.trees[s][a].simplify());
                    }
                    Try::NotSimpler => {
                        all_moved = group.iter().all(|&(s, a)| cur.trees[s][a].simplify());
                    }
                    passing => {
                        debug_assert!(passing.kept_passing());
                        all_moved = group.iter().all(|&(s, a)| cur.trees[s][a].complicate());
                    }
                }
            }
        }
        changed
    }

    /// Builds the candidate of the steps in `keep` (with one step replaced, if given), repairs
    /// it against the model, and adopts it if it still fails.
    fn try_keep(
        &mut self,
        cur: &mut Current<M::Op>,
        keep: &[usize],
        replace: Vec<(usize, M::Op)>,
    ) -> Try {
        let replacing = !replace.is_empty();
        let (ops, kept) = self.repair(&cur.ops, keep, replace);
        if ops.is_empty() {
            return Try::Empty;
        }
        // Only ever move to a simpler program: fresh value trees start from the original values
        // and would otherwise wander back up.
        if replacing && !simpler(&ops, &cur.ops) {
            return Try::NotSimpler;
        }
        let key = fingerprint(&ops);
        // Moved in and out of the program the property sees: no copy per candidate.
        let candidate = Program::sequential(ops);
        if self.judged.contains_key(&key) {
            self.stats.skipped += 1;
            return Try::Duplicate;
        }
        // A failure that shows only sometimes gets `reruns` chances; the first failing run
        // decides. Every run counts against the budget.
        let mut counts = Counts::default();
        let mut failed = None;
        while counts.runs < self.reruns && failed.is_none() {
            // Every phase stops on this, so no phase can overrun the budget by a run.
            if self.out_of_budget() {
                break;
            }
            self.stats.runs += 1;
            counts.runs += 1;
            self.progress(cur.ops.len());
            failed = (self.property)(&candidate);
        }
        if counts.runs == 0 {
            return Try::OutOfBudget;
        }
        counts.failures = u32::from(failed.is_some());
        self.judged.insert(key, counts);
        let Some(failure) = failed else {
            return Try::Passed;
        };
        let ops = candidate.prefix;
        // Steps after the failing one are not needed.
        let end = failure
            .step
            .and_then(StepId::prefix_index)
            .map_or(ops.len(), |s| s + 1)
            .min(ops.len());
        let mut trees: Vec<Vec<Box<dyn ArgTree>>> = Vec::with_capacity(end);
        let mut old: Vec<Option<Vec<Box<dyn ArgTree>>>> = std::mem::take(&mut cur.trees)
            .into_iter()
            .map(Some)
            .collect();
        for &k in kept.iter().take(end) {
            trees.push(old[k].take().unwrap_or_default());
        }
        cur.origin = kept.iter().take(end).map(|&k| cur.origin[k]).collect();
        let mut ops = ops;
        ops.truncate(end);
        cur.ops = ops;
        cur.trees = trees;
        cur.failure = failure;
        if self.trail.len() > TRAIL {
            self.trail.remove(1);
        }
        self.trail
            .push((Program::sequential(cur.ops.clone()), cur.failure.clone()));
        if let (Some(on_adopt), Some((adopted, _))) = (self.on_adopt, self.trail.last()) {
            on_adopt(adopted, &cur.failure, &self.stats);
        }
        Try::Adopted
    }

    /// Replays the chosen steps on the model, dropping those that are no longer admissible and
    /// renumbering the vars of the rest. Returns the program and the old index of each step.
    fn repair(
        &self,
        ops: &[M::Op],
        keep: &[usize],
        replace: Vec<(usize, M::Op)>,
    ) -> (Vec<M::Op>, Vec<usize>) {
        let mut run = ModelRun::new(self.initial.clone());
        let mut new_index: Vec<Option<usize>> = vec![None; ops.len()];
        let mut out = Vec::with_capacity(keep.len());
        let mut kept = Vec::with_capacity(keep.len());
        for &k in keep {
            let mut op = match replace.iter().find(|(i, _)| *i == k) {
                Some((_, op)) => op.clone(),
                None => ops[k].clone(),
            };
            if !op.remap_vars(&mut |old| {
                let new = new_index.get(old.prefix_index()?).copied().flatten()?;
                Some(StepId::prefix(new))
            }) {
                continue;
            }
            if !run.admits(&op) {
                continue;
            }
            let model_ok = run.apply(&op).is_ok();
            new_index[k] = Some(out.len());
            out.push(op);
            kept.push(k);
            if !model_ok {
                // The model panics here: that is the failure; nothing after it can run.
                break;
            }
        }
        (out, kept)
    }

    fn progress(&mut self, len: usize) {
        if self.last_progress.elapsed() >= Duration::from_secs(5) {
            self.last_progress = Instant::now();
            eprintln!(
                "stateprop: shrinking: {} runs so far, {} -> {} steps, {:.0} s of {:.0} s budget",
                self.stats.runs,
                self.stats.steps_before,
                len,
                self.start.elapsed().as_secs_f64(),
                self.max_time.as_secs_f64()
            );
        }
    }
}

/// Shortlex order on the programs' `Debug` text: fewer steps, then shorter text, then smaller
/// text. Numbers shrink toward 0 under it ("7" before "12"), as do strings and collections.
pub(crate) fn simpler<Op: std::fmt::Debug>(candidate: &[Op], current: &[Op]) -> bool {
    if candidate.len() != current.len() {
        return candidate.len() < current.len();
    }
    let a = format!("{candidate:?}");
    let b = format!("{current:?}");
    (a.len(), a) < (b.len(), b)
}
