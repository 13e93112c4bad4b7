//! stateprop's shrinker: passes taken from the program's shape, repeated until nothing changes
//! (a fixpoint), so the result is 1-minimal: deleting any one step makes the failure go away.
//!
//! Each round: drop whole branches; delete chunks of steps (halves, then smaller, down to single
//! steps) within the prefix and within each branch; move a branch's steps to the end of the
//! prefix; swap neighbouring branches into the simpler order; point `Var`s at earlier results; shrink equal arguments together; shrink each
//! argument (`shape` and `args` hold the passes). A sequential program has no branches, so for
//! it the branch passes try nothing.
//!
//! 1-minimal is not minimal, so once a round changes nothing two more kinds of pass run, which
//! try more candidates and so run only then: `canon` makes arguments canonical (renumbered in
//! first-use order and swapped; integers also lowered jointly), followed by single deletions;
//! and `escape` tries changes in combination (merge a `Var`'s producer into an earlier one,
//! replace a step by a copy of an earlier one, delete a pair of steps). A step deleted after `canon`, or anything `escape` adopts, starts a new
//! round. Every change must make the program
//! simpler in the order `order` defines (shortlex over the program, then its arguments), which
//! is also what makes the rounds end.
//!
//! Every candidate is first replayed against the model alone (`repair`). Steps whose
//! precondition no longer holds, or whose `Var` names a deleted step, are dropped (and the vars
//! of the rest renamed), so the system under test only ever sees well-formed programs.
//!
//! Candidates are judged by a property that may run a program several times (a concurrent
//! executor repeats a race); the counts are memoized by content, and a candidate gets up to
//! `reruns` runs in all before it counts as passing: one failing run is enough to fail.

mod args;
mod canon;
mod compound;
mod escape;
mod judgement;
mod order;
mod repair;
mod shape;
#[cfg(test)]
mod tests;
mod values;

pub(crate) use judgement::Judgement;
pub(crate) use order::simpler_program;

use crate::failure::Failure;
use crate::generate::ProgramTrees;
use crate::program::{fingerprint_program, Program, StepId};
use crate::report::ShrinkStats;
use crate::spec::{Model, StateMachine};
use judgement::{add, Counts};
use order::simpler_by_values;
use repair::{repair, Plan, Repaired};
use std::collections::HashMap;
use std::time::{Duration, Instant};
use values::{climb, simplest_of, weight, Key, Simplest};

/// Judges a well-formed candidate program. The shrinker knows nothing of how programs run: the
/// runner decides, through its executor.
pub(crate) type Property<'a, Op> = &'a dyn Fn(&Program<Op>) -> Judgement;

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
    /// How each candidate tried so far fared, by content: runs and failing runs. A candidate
    /// that passed fewer than `reruns` runs (the budget cut it short) is asked again for the
    /// rest when it comes back; one that has all its runs is never run again.
    judged: HashMap<u64, Counts>,
    /// Runs of a candidate before it counts as passing (`Config::reruns`).
    reruns: u32,
    stats: ShrinkStats,
    start: Instant,
    last_progress: Instant,
    /// No progress lines (a quiet stress run prints only its result).
    quiet: bool,
    /// Each argument's simplest value, by the id of its step in the original program (empty
    /// without fresh trees to find them with): measure 3 of the order (see `order`).
    simplest: Program<Vec<Simplest>>,
}

/// The program being shrunk: its steps, the value trees of their arguments, and where each
/// came from, all in the program's shape.
struct Current<Op> {
    program: Program<Op>,
    trees: ProgramTrees,
    /// Each step's id in the program shrinking started from.
    origin: Program<StepId>,
    /// Each argument's current value, in step with `program` (empty for a step whose arguments
    /// the shrinker does not know).
    values: Program<Vec<Key>>,
    failure: Failure,
}

/// A candidate's replaced steps: the new operation, and its arguments' values when they changed
/// (`None`: the same as the step's current ones).
pub(super) type Replace<Op> = Vec<(StepId, Op, Option<Vec<Key>>)>;

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
    /// Of the runs of `program` itself, how many failed and how many there were: its
    /// reproduction rate. With more than one rerun the shrinker tops the final program's runs up
    /// to `reruns`; `None` when it never ran by itself (a program cut after its failing step,
    /// with one run per candidate).
    #[allow(dead_code)] // the run loop reports the rate of its own confirming reruns for now
    pub(crate) reproduced: Option<(u32, u32)>,
}

/// What became of a candidate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Try {
    /// It failed too and is now the current program.
    Adopted,
    /// It ran and passed.
    Passed,
    /// An identical candidate already had all its runs (and passed: a failing one would be the
    /// current program), so it was not run again.
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

/// Makes fresh value trees for the original program, in its shape (one list per original
/// step).
///
/// proptest's value trees remember the bounds of their binary search, and those bounds go stale
/// once other steps change (an amount that had to stay above a balance may drop after the
/// balance shrank). Each round after the first starts from fresh trees.
pub(crate) type RegenerateProgram<'a> = &'a dyn Fn() -> ProgramTrees;

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
            quiet: false,
            simplest: Program::sequential(Vec::new()),
        }
    }

    /// See [`Config::reruns`](crate::Config::reruns) (at least 1).
    pub(crate) fn reruns(mut self, runs: u32) -> Self {
        self.reruns = runs.max(1);
        self
    }

    /// Prints no progress lines, however long it takes.
    pub(crate) fn quiet(mut self, quiet: bool) -> Self {
        self.quiet = quiet;
        self
    }

    /// Calls `f` with every program adopted (see the field `on_adopt`).
    pub(crate) fn on_adopt(mut self, f: OnAdopt<'a, M::Op>) -> Self {
        self.on_adopt = Some(f);
        self
    }

    /// Shrinks a failing program of any shape. `trees` may be empty (no argument shrinking) or
    /// hold one entry per step, in the program's shape.
    pub(crate) fn shrink_program(
        mut self,
        program: Program<M::Op>,
        trees: ProgramTrees,
        regenerate: Option<RegenerateProgram<'_>>,
        failure: Failure,
    ) -> Shrunk<M::Op> {
        let trees = if trees.same_shape(&program) {
            trees
        } else {
            program.ids().map(|_| Vec::new())
        };
        self.stats.steps_before = program.len();
        self.stats.failures = 1;
        self.trail.push((program.clone(), failure.clone()));
        self.judged.insert(
            fingerprint_program(&program),
            Counts {
                runs: 1,
                failures: 1,
            },
        );
        if let Some(regenerate) = regenerate {
            self.simplest = regenerate().map(|trees| trees.into_iter().map(simplest_of).collect());
        }
        let values = trees.ids().map(|id| {
            trees
                .get(id)
                .map(|t| t.iter().map(|t| t.key()).collect())
                .unwrap_or_default()
        });
        let mut cur = Current {
            origin: program.ids(),
            program,
            trees,
            values,
            failure,
        };
        let mut round = 0;
        loop {
            if let (true, Some(regenerate)) = (round > 0, regenerate) {
                let mut fresh = regenerate().map(Some);
                for (id, &origin) in cur.origin.steps() {
                    if let Some(t) = fresh.get_mut(origin).and_then(Option::take) {
                        if let Some(slot) = cur.trees.get_mut(id) {
                            *slot = t;
                        }
                    }
                }
            }
            round += 1;
            let mut changed = self.drop_branches(&mut cur);
            changed |= self.delete_chunks(&mut cur);
            changed |= self.move_into_prefix(&mut cur);
            changed |= self.order_branches(&mut cur);
            changed |= self.shrink_vars(&mut cur);
            changed |= self.shrink_equal_args(&mut cur);
            changed |= self.shrink_args(&mut cur, regenerate);
            if self.out_of_budget() {
                break;
            }
            if changed {
                continue;
            }
            // The program is 1-minimal here. The passes that canonicalize arguments and escape
            // local minima try many candidates, so they run only once the cheap passes stop.
            // Canonical values change no step, but may let one go: single deletions run again
            // (what keeps the result 1-minimal); a full round follows only if one does.
            if self.canonicalize(&mut cur) && self.delete_singles(&mut cur) {
                continue;
            }
            if !self.escape(&mut cur) {
                break;
            }
        }
        let reproduced = self.rate(&cur.program);
        self.stats.steps_after = cur.program.len();
        self.stats.time = self.start.elapsed();
        Shrunk {
            program: cur.program,
            failure: cur.failure,
            stats: self.stats,
            trail: self.trail,
            reproduced,
        }
    }

    /// The final program's reproduction rate. With more than one rerun its runs are topped up
    /// to `reruns` (adoption stops at the first failing run), so the rate has a fixed base.
    fn rate(&mut self, program: &Program<M::Op>) -> Option<(u32, u32)> {
        let key = fingerprint_program(program);
        let mut counts = self.judged.get(&key).copied().unwrap_or_default();
        while self.reruns > 1 && counts.runs < self.reruns && !(self.stop)() {
            self.stats.runs += 1;
            let judgement = (self.property)(program);
            self.stats.runs += u64::from(judgement.runs.max(1) - 1);
            add(&mut counts, &judgement);
        }
        self.judged.insert(key, counts);
        (counts.runs > 0).then_some((counts.failures, counts.runs))
    }

    /// Whether argument `arg` of step `step` is drawn from a strategy that reads the model: the
    /// repair moves it along with the values it was picked from, so passes that lower values
    /// together set it to theirs rather than searching its own tree.
    fn follows(cur: &Current<M::Op>, step: StepId, arg: usize) -> bool {
        M::Op::follows_model()
            && cur
                .program
                .get(step)
                .is_some_and(|op| M::Op::arg_follows_model(op.rule_index(), arg))
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

    /// The candidate of the steps in `keep` of the current sequence `seq` (the prefix, or a
    /// branch), everything else unchanged.
    fn keep_in(cur: &Current<M::Op>, seq: Seq, keep: impl Fn(usize) -> bool) -> Plan {
        let mut plan = cur.program.ids();
        if let Some(steps) = seq.of_mut(&mut plan) {
            let mut i = 0;
            steps.retain(|_| {
                i += 1;
                keep(i - 1)
            });
        }
        plan
    }

    /// Builds the candidate `plan` (with some steps replaced, if given), repairs it against the
    /// model, and adopts it if it still fails.
    fn try_plan(&mut self, cur: &mut Current<M::Op>, plan: &Plan, replace: Replace<M::Op>) -> Try {
        let replacing = !replace.is_empty();
        let ops: Vec<(StepId, M::Op)> = replace
            .iter()
            .map(|(id, op, _)| (*id, op.clone()))
            .collect();
        let Repaired { program, kept } = repair(self.initial, &cur.program, plan, &ops);
        if program.is_empty() {
            return Try::Empty;
        }
        // Only ever move to a simpler program: fresh value trees start from the original values
        // and would otherwise wander back up.
        if replacing && !simpler_by_values(&program, &cur.program, self.away(cur, &replace)) {
            return Try::NotSimpler;
        }
        let key = fingerprint_program(&program);
        let mut counts = self.judged.get(&key).copied().unwrap_or_default();
        if counts.failures > 0 || counts.runs >= self.reruns {
            self.stats.skipped += 1;
            return Try::Duplicate;
        }
        // A failure that shows only sometimes gets `reruns` chances; the first failing run
        // decides. Every run counts against the budget.
        let before = counts.runs;
        let mut failed = None;
        while counts.runs < self.reruns && failed.is_none() {
            // Every phase stops on this, so no phase can overrun the budget by a run.
            if self.out_of_budget() {
                break;
            }
            self.stats.runs += 1;
            self.progress(cur.program.len());
            let judgement = (self.property)(&program);
            // A judgement of several runs (a concurrent executor's repeats) counts them all.
            self.stats.runs += u64::from(judgement.runs.max(1) - 1);
            add(&mut counts, &judgement);
            failed = judgement.failure;
        }
        if counts.runs == before {
            return Try::OutOfBudget;
        }
        self.judged.insert(key, counts);
        let Some(failure) = failed else {
            return Try::Passed;
        };
        for (id, _, values) in replace {
            if let (Some(values), Some(slot)) = (values, cur.values.get_mut(id)) {
                *slot = values;
            }
        }
        self.adopt(cur, program, kept, failure);
        Try::Adopted
    }

    /// How many more arguments the replaced steps hold away from their simplest values than
    /// the current ones do: measure 3 of the order; when as many, the sign of the rungs their
    /// ladders climbed (3b).
    fn away(&self, cur: &Current<M::Op>, replace: &Replace<M::Op>) -> i64 {
        let (mut away, mut climbed) = (0, 0);
        for (id, _, values) in replace {
            let (Some(values), Some(old), Some(&origin)) =
                (values, cur.values.get(*id), cur.origin.get(*id))
            else {
                continue;
            };
            let simplest = self.simplest.get(origin);
            let count = |vals: &[Key]| -> i64 {
                vals.iter()
                    .enumerate()
                    .map(|(a, v)| weight(v, simplest.and_then(|s| s.get(a))))
                    .sum()
            };
            away += count(values) - count(old);
            let rung =
                |(a, (o, n)): (usize, (&Key, &Key))| climb(o, n, simplest.and_then(|s| s.get(a)));
            climbed += old.iter().zip(values).enumerate().map(rung).sum::<i64>();
        }
        // Measure 3b of `order`: as many arguments away, fewer rungs up their ladders.
        if away == 0 {
            climbed.signum()
        } else {
            away
        }
    }

    /// Makes a failing candidate the current program, its trees and origins following its steps.
    fn adopt(
        &mut self,
        cur: &mut Current<M::Op>,
        mut program: Program<M::Op>,
        mut kept: Plan,
        failure: Failure,
    ) {
        // Steps after a failing prefix step are not needed: the branches run after the prefix.
        if let Some(s) = failure.step.and_then(StepId::prefix_index) {
            if s < program.prefix.len() {
                program.prefix.truncate(s + 1);
                kept.prefix.truncate(s + 1);
                program.branches.clear();
                kept.branches.clear();
            }
        }
        let mut old = std::mem::replace(&mut cur.trees, Program::sequential(Vec::new())).map(Some);
        cur.trees = kept
            .clone()
            .map(|id| old.get_mut(id).and_then(Option::take).unwrap_or_default());
        let mut old = std::mem::replace(&mut cur.values, Program::sequential(Vec::new())).map(Some);
        cur.values = kept
            .clone()
            .map(|id| old.get_mut(id).and_then(Option::take).unwrap_or_default());
        cur.origin = kept.map(|id| *cur.origin.get(id).expect("a kept step has an origin"));
        // The repair may have moved arguments picked from the model: read them back.
        if M::Op::follows_model() {
            let ids: Vec<StepId> = program.steps().map(|(id, _)| id).collect();
            for id in ids {
                let (Some(op), Some(values)) = (program.get(id), cur.values.get_mut(id)) else {
                    continue;
                };
                for (arg, value) in values.iter_mut().enumerate() {
                    if let Some(key) = op.arg_key(arg) {
                        *value = key;
                    }
                }
            }
        }
        cur.program = program;
        cur.failure = failure;
        if self.trail.len() > TRAIL {
            self.trail.remove(1);
        }
        self.trail.push((cur.program.clone(), cur.failure.clone()));
        if let (Some(on_adopt), Some((adopted, _))) = (self.on_adopt, self.trail.last()) {
            on_adopt(adopted, &cur.failure, &self.stats);
        }
    }

    fn progress(&mut self, len: usize) {
        if !self.quiet && self.last_progress.elapsed() >= Duration::from_secs(5) {
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

/// A sequence of a program: its prefix, or one of its branches.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Seq {
    Prefix,
    Branch(usize),
}

impl Seq {
    fn of_mut<T>(self, program: &mut Program<T>) -> Option<&mut Vec<T>> {
        match self {
            Seq::Prefix => Some(&mut program.prefix),
            Seq::Branch(b) => program.branches.get_mut(b),
        }
    }

    fn len<T>(self, program: &Program<T>) -> usize {
        match self {
            Seq::Prefix => program.prefix.len(),
            Seq::Branch(b) => program.branches.get(b).map_or(0, Vec::len),
        }
    }
}
