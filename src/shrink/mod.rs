//! stateprop's shrinker: delete chunks of steps, then single steps, then simplify arguments,
//! repeated until nothing changes (a fixpoint), so the result is 1-minimal: deleting any one step
//! makes the failure go away.
//!
//! Every candidate is first replayed against the model alone. Steps whose precondition no longer
//! holds, or whose `Var` names a deleted step, are dropped (and later vars renumbered), so the
//! system under test only ever sees well-formed programs. Candidates are memoized by content.

use crate::failure::Failure;
use crate::generate::ModelRun;
use crate::run::exec::execute;
use crate::run::watchdog::{Activity, Heartbeat};
use crate::spec::{ArgTree, Model, StateMachine, System};
use std::collections::HashSet;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::time::{Duration, Instant};

/// What shrinking did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ShrinkStats {
    /// Candidate programs run against the system under test.
    pub runs: u64,
    /// Candidates skipped because an identical one had already run.
    pub skipped: u64,
    /// Length of the failing program before shrinking.
    pub steps_before: usize,
    /// Length after.
    pub steps_after: usize,
    /// Wall-clock time spent.
    pub time: Duration,
    /// Whether the time or run budget ended shrinking before the fixpoint.
    pub budget_exhausted: bool,
}

pub(crate) struct Shrinker<'a, M: Model, S> {
    pub(crate) initial: &'a M,
    pub(crate) factory: &'a dyn Fn() -> S,
    pub(crate) hb: &'a Heartbeat,
    pub(crate) max_time: Duration,
    pub(crate) max_runs: u64,
    seen: HashSet<u64>,
    stats: ShrinkStats,
    start: Instant,
    last_progress: Instant,
}

/// The program being shrunk: each step's operation and the value trees of its arguments.
struct Current<Op> {
    ops: Vec<Op>,
    trees: Vec<Vec<Box<dyn ArgTree>>>,
    failure: Failure,
}

impl<'a, M: Model, S: System<M>> Shrinker<'a, M, S> {
    pub(crate) fn new(
        initial: &'a M,
        factory: &'a dyn Fn() -> S,
        hb: &'a Heartbeat,
        max_time: Duration,
        max_runs: u64,
    ) -> Self {
        let now = Instant::now();
        Shrinker {
            initial,
            factory,
            hb,
            max_time,
            max_runs,
            seen: HashSet::new(),
            stats: ShrinkStats::default(),
            start: now,
            last_progress: now,
        }
    }

    /// Shrinks a failing program. `trees` may be empty (no argument shrinking) or hold one entry
    /// per step.
    pub(crate) fn shrink(
        mut self,
        ops: Vec<M::Op>,
        mut trees: Vec<Vec<Box<dyn ArgTree>>>,
        failure: Failure,
    ) -> (Vec<M::Op>, Failure, ShrinkStats) {
        if trees.len() != ops.len() {
            trees = ops.iter().map(|_| Vec::new()).collect();
        }
        self.stats.steps_before = ops.len();
        self.seen.insert(fingerprint(&ops));
        let mut cur = Current {
            ops,
            trees,
            failure,
        };
        loop {
            let mut changed = self.delete_chunks(&mut cur);
            changed |= self.shrink_args(&mut cur);
            if !changed || self.out_of_budget() {
                break;
            }
        }
        self.stats.steps_after = cur.ops.len();
        self.stats.time = self.start.elapsed();
        (cur.ops, cur.failure, self.stats)
    }

    fn out_of_budget(&mut self) -> bool {
        let over = self.stats.runs >= self.max_runs || self.start.elapsed() >= self.max_time;
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
                if self.try_keep(cur, &keep, None) {
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
    fn shrink_args(&mut self, cur: &mut Current<M::Op>) -> bool {
        let mut changed = false;
        let mut step = 0;
        while step < cur.ops.len() {
            let mut arg = 0;
            while step < cur.ops.len() && arg < cur.trees[step].len() {
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
                    if self.try_keep(cur, &all, Some((step, op))) {
                        changed = true;
                        if cur.ops.len() != len_before || step >= cur.ops.len() {
                            // Steps were dropped; the indices we hold are stale. Move on.
                            break;
                        }
                        if !cur.trees[step][arg].simplify() {
                            break;
                        }
                    } else if !cur.trees[step][arg].complicate() {
                        break;
                    }
                }
                arg += 1;
            }
            step += 1;
        }
        changed
    }

    /// Builds the candidate of the steps in `keep` (with one step replaced, if given), repairs
    /// it against the model, and adopts it if it still fails.
    fn try_keep(
        &mut self,
        cur: &mut Current<M::Op>,
        keep: &[usize],
        replace: Option<(usize, M::Op)>,
    ) -> bool {
        let (ops, kept) = self.repair(&cur.ops, keep, replace);
        if ops.is_empty() || !self.seen.insert(fingerprint(&ops)) {
            self.stats.skipped += 1;
            return false;
        }
        self.stats.runs += 1;
        self.progress(cur.ops.len());
        self.hb
            .begin(Activity::Program(ops.iter().map(|o| o.to_rust()).collect()));
        let outcome = execute(self.initial, self.factory, &ops, self.hb, false);
        let Some(failure) = outcome.failure else {
            return false;
        };
        // Steps after the failing one are not needed.
        let end = failure.step.map_or(ops.len(), |s| s + 1).min(ops.len());
        let mut trees: Vec<Vec<Box<dyn ArgTree>>> = Vec::with_capacity(end);
        let mut old: Vec<Option<Vec<Box<dyn ArgTree>>>> =
            std::mem::take(&mut cur.trees).into_iter().map(Some).collect();
        for &k in kept.iter().take(end) {
            trees.push(old[k].take().unwrap_or_default());
        }
        let mut ops = ops;
        ops.truncate(end);
        cur.ops = ops;
        cur.trees = trees;
        cur.failure = failure;
        true
    }

    /// Replays the chosen steps on the model, dropping those that are no longer admissible and
    /// renumbering the vars of the rest. Returns the program and the old index of each step.
    fn repair(
        &self,
        ops: &[M::Op],
        keep: &[usize],
        mut replace: Option<(usize, M::Op)>,
    ) -> (Vec<M::Op>, Vec<usize>) {
        let mut run = ModelRun::new(self.initial.clone());
        let mut new_index: Vec<Option<usize>> = vec![None; ops.len()];
        let mut out = Vec::with_capacity(keep.len());
        let mut kept = Vec::with_capacity(keep.len());
        for &k in keep {
            let mut op = match &mut replace {
                Some((i, op)) if *i == k => op.clone(),
                _ => ops[k].clone(),
            };
            if !op.remap_vars(&mut |old| new_index.get(old).copied().flatten()) {
                continue;
            }
            if !run.admits(&op) || run.apply(&op).is_err() {
                continue;
            }
            new_index[k] = Some(out.len());
            out.push(op);
            kept.push(k);
        }
        replace.take();
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

/// A content hash of a program (its `Debug` text, fed to the hasher without allocating).
pub(crate) fn fingerprint<Op: std::fmt::Debug>(ops: &[Op]) -> u64 {
    struct W<'h>(&'h mut DefaultHasher);
    impl std::fmt::Write for W<'_> {
        fn write_str(&mut self, s: &str) -> std::fmt::Result {
            s.hash(self.0);
            Ok(())
        }
    }
    let mut h = DefaultHasher::new();
    for op in ops {
        let _ = std::fmt::write(&mut W(&mut h), format_args!("{op:?};"));
    }
    h.finish()
}
