//! The run loop, on the worker thread: saved cases first, then generated ones until one fails
//! (or, with `Config::failures`, several); shrink it, confirm it by a rerun, and report it.
//! Everything it learns that a report needs is published in `outcome::Progress`, so a hang does
//! not lose it.
//!
//! It is written once for every shape of program: a sequential run and a concurrent one differ
//! in the executor, in the shape generated cases are regenerated in (`Run::shape`), and in how
//! many runs judge a program (`Run::repeats`, since a race shows only in some interleavings).

use super::coverage::{Coverage, Label};
use super::outcome::{self, Found, Reporting, Shared};
use super::RunResult;
use crate::config::Config;
use crate::exec::parallel::ParallelShape;
use crate::exec::watchdog::{Activity, Heartbeat};
use crate::exec::{Execution, Executor, Recording};
use crate::failure::Failure;
use crate::generate::rng::case_seed;
use crate::generate::{generate_program, CaseGenerator, GenError, ProgramTrees};
use crate::judge::{judge_history, Judge};
use crate::persist;
use crate::program::Program;
use crate::program::Shape;
use crate::report::{Origin, ShrinkStats, Stats, Undecided};
use crate::shrink::{simpler_program, Judgement, RegenerateProgram, Shrinker};
use crate::spec::{Model, StateMachine};
use std::cell::RefCell;
use std::time::Instant;

/// Everything the worker thread needs.
pub(super) struct Run<M: Model> {
    pub(super) config: Config,
    pub(super) initial: M,
    pub(super) reporting: Reporting,
    pub(super) progress: Shared<M::Op>,
    /// History judges, run on every program's history after the step judge passed it.
    pub(super) judges: Vec<Judge<M>>,
    /// The user's labels, counted over the generated cases.
    pub(super) labels: Vec<Label<M>>,
    /// Judges that gave no verdict, over every history judged (cases, candidates, reruns).
    pub(super) undecided: RefCell<Vec<Undecided>>,
    /// The shape of generated cases when they are parallel (the executor generates them; the
    /// loop regenerates them for their argument trees); `None` for sequential ones.
    pub(super) shape: Option<ParallelShape>,
    /// Runs that judge a case or a shrink candidate: the first failing one decides. 1 for a
    /// sequential executor, `Config::repeats` for one whose branches race.
    pub(super) repeats: u32,
}

/// A failing program before shrinking.
struct Candidate<Op> {
    program: Program<Op>,
    trees: ProgramTrees,
    failure: Failure,
    origin: Origin,
}

/// Runs of the minimal racing program, per `Config::repeats`, for its reproduction rate.
const CONFIRM_REPEATS: u32 = 5;

impl<M: Model> Run<M> {
    /// What every run records: a history when a judge needs one.
    fn recording(&self, trace: bool) -> Recording {
        Recording {
            history: !self.judges.is_empty(),
            trace,
            linearized: self.linearized(),
        }
    }

    /// Whether linearizability is among the judges.
    fn linearized(&self) -> bool {
        self.judges.iter().any(|j| j.name() == "linearizable")
    }

    /// The history judges' verdict on an execution the step judge passed.
    fn judge(&self, execution: &mut Execution<M>) {
        if execution.failure.is_some() || self.judges.is_empty() {
            return;
        }
        if let Some(history) = &execution.history {
            let mut undecided = self.undecided.borrow_mut();
            execution.failure = judge_history(&self.judges, &self.initial, history, &mut undecided);
        }
    }

    /// Runs a fixed program, announced to the watchdog (its steps in order, prefix first), and
    /// judges it.
    pub(super) fn run_once<E: Executor<M> + ?Sized>(
        &self,
        executor: &E,
        program: &Program<M::Op>,
        recording: Recording,
        hb: &Heartbeat,
    ) -> Execution<M> {
        hb.begin(Activity::Program(
            program.steps().map(|(_, o)| o.to_rust()).collect(),
        ));
        self.run_judged(executor, program, recording, hb)
    }

    /// Runs a program and judges it, under whatever activity the watchdog was last told of.
    fn run_judged<E: Executor<M> + ?Sized>(
        &self,
        executor: &E,
        program: &Program<M::Op>,
        recording: Recording,
        hb: &Heartbeat,
    ) -> Execution<M> {
        let mut execution = executor.execute(program, recording, hb);
        self.judge(&mut execution);
        execution
    }

    /// Runs a fixed program up to `repeats` times, stopping at the first failing run, whose
    /// execution comes back (else the last one's), with the shrinker's judgement of them all.
    fn run_repeated<E: Executor<M> + ?Sized>(
        &self,
        executor: &E,
        program: &Program<M::Op>,
        recording: Recording,
        hb: &Heartbeat,
    ) -> (Execution<M>, Judgement) {
        let mut runs = 0;
        loop {
            runs += 1;
            let execution = self.run_once(executor, program, recording, hb);
            if execution.failure.is_some() || runs >= self.repeats || hb.abandoned() {
                let judgement = Judgement {
                    runs,
                    ..Judgement::once(execution.failure.clone())
                };
                return (execution, judgement);
            }
        }
    }

    /// Generated case `case_seed` again, in the run's shape: `len` steps of a sequential one
    /// (as far as it ran), or the whole parallel one; with its argument trees if asked for.
    fn case_program(
        &self,
        case_seed: u64,
        len: usize,
        trees: Option<&mut ProgramTrees>,
    ) -> Result<Program<M::Op>, GenError> {
        let mut plan = self.plan(case_seed);
        match &self.shape {
            Some(shape) => shape.generate(&self.initial, &mut plan, trees),
            None => {
                let mut steps = Vec::new();
                let keep = trees.is_some().then_some(&mut steps);
                let ops = generate_program(&self.initial, &mut plan, len, keep)?;
                if let Some(t) = trees {
                    *t = Program::sequential(steps);
                }
                Ok(Program::sequential(ops))
            }
        }
    }

    /// Fresh argument trees for a generated case, in its shape (see `shrink::Regenerate`).
    fn fresh_trees(&self, origin: &Origin, len: usize) -> ProgramTrees {
        let mut trees = Program::sequential(Vec::new());
        if let Origin::Generated { case_seed, .. } = origin {
            if self
                .case_program(*case_seed, len, Some(&mut trees))
                .is_err()
            {
                trees = Program::sequential(Vec::new());
            }
        }
        trees
    }

    /// Shrinks a failing case and confirms the result by a rerun. Every program adopted on the
    /// way is published in `progress`, so a candidate that hangs cannot take the bug with it.
    fn shrink<E: Executor<M> + ?Sized>(
        &self,
        executor: &E,
        hb: &Heartbeat,
        candidate: Candidate<M::Op>,
        stats: &Stats,
    ) -> Found<M::Op> {
        let origin = candidate.origin.clone();
        outcome::lock(&self.progress).best = Some(Found {
            program: candidate.program.clone(),
            failure: candidate.failure.clone(),
            origin: origin.clone(),
            stats: stats.clone(),
            shrink: ShrinkStats {
                steps_before: candidate.program.len(),
                failures: 1,
                ..ShrinkStats::default()
            },
            note: None,
            trace: Vec::new(),
            timeline: Default::default(),
            reproduced: None,
            history: None,
        });
        let publish = |program: &Program<M::Op>, failure: &Failure, shrink: &ShrinkStats| {
            if let Some(best) = &mut outcome::lock(&self.progress).best {
                best.program = program.clone();
                best.failure = failure.clone();
                best.shrink.runs = shrink.runs;
                best.shrink.skipped = shrink.skipped;
            }
        };
        // A candidate runs like any fixed program: announced to the watchdog, then executed.
        let property = |program: &Program<M::Op>| {
            self.run_repeated(executor, program, self.recording(false), hb)
                .1
        };
        let stop = || hb.abandoned();
        let shrinker = Shrinker::new(
            &self.initial,
            &property,
            &stop,
            self.config.max_shrink_time,
            self.config.max_shrink_runs,
        )
        .on_adopt(&publish)
        .reruns(self.config.reruns)
        .quiet(self.config.quiet);
        let len = candidate.program.len();
        let regenerate = || self.fresh_trees(&origin, len);
        let shrunk = shrinker.shrink_program(
            candidate.program,
            candidate.trees,
            Some(&regenerate as RegenerateProgram<'_>),
            candidate.failure,
        );
        let shrink = shrunk.stats.clone();
        let verbose = self.config.verbose > 0;
        let run = |program: &Program<M::Op>, first: bool| {
            // The first rerun records the history the report shows, judges or not.
            let recording = Recording {
                history: first || !self.judges.is_empty(),
                // A simulated run's report draws its timeline from the first rerun's trace, so
                // a sequential program keeps it always; a racing one only when asked, as
                // keeping it slows the threads and so moves the races the rerun confirms.
                trace: first && (verbose || self.shape.is_none()),
                linearized: self.linearized(),
            };
            self.run_once(executor, program, recording, hb)
        };
        // A racing program is rerun more, so that its reproduction rate means something.
        let racy = self.shape.is_some();
        let reruns = match racy {
            true => self.config.reruns.max(self.repeats * CONFIRM_REPEATS),
            false => self.config.reruns,
        };
        let confirmed = outcome::confirm(&run, shrunk, reruns, racy);
        Found {
            program: confirmed.program,
            failure: confirmed.failure,
            origin,
            stats: stats.clone(),
            shrink,
            note: confirmed.note,
            timeline: crate::report::timeline::build(&confirmed.trace),
            trace: if verbose { confirmed.trace } else { Vec::new() },
            // A rate says something only when there was more than one run to count.
            reproduced: (confirmed.reproduced.1 > 1).then_some(confirmed.reproduced),
            history: confirmed.history,
        }
    }

    pub(super) fn work<E: Executor<M> + ?Sized>(
        &self,
        executor: &E,
        hb: &Heartbeat,
    ) -> Result<RunResult<M::Op>, String> {
        let mut stats = Stats {
            rules: M::Op::rules().iter().map(|r| (r.name, 0)).collect(),
            ..Stats::default()
        };
        let start = Instant::now();
        let mut best = match self.replay_saved(executor, hb, &mut stats)? {
            Some(candidate) => Some(self.shrink(executor, hb, candidate, &stats)),
            None => None,
        };
        if best.is_none() {
            // Search for up to `failures` failing cases; keep the shortest once shrunk.
            let mut case = 0;
            let mut total = ShrinkStats::default();
            for _ in 0..self.config.failures {
                let found = self.generate_cases(executor, hb, &mut stats, &mut case, start)?;
                let Some(found) = found else {
                    break;
                };
                case += 1;
                let candidate = self.shrink(executor, hb, found, &stats);
                total.runs += candidate.shrink.runs;
                total.skipped += candidate.shrink.skipped;
                total.time += candidate.shrink.time;
                total.budget_exhausted |= candidate.shrink.budget_exhausted;
                total.failures += 1;
                if best
                    .as_ref()
                    .is_none_or(|b| simpler_program(&candidate.program, &b.program))
                {
                    best = Some(candidate);
                }
            }
            if let Some(b) = &mut best {
                total.steps_before = b.shrink.steps_before;
                total.steps_after = b.shrink.steps_after;
                b.shrink = total;
            }
        }
        stats.time = start
            .elapsed()
            .saturating_sub(best.as_ref().map_or(Default::default(), |b| b.shrink.time));
        stats.undecided = self.undecided.take();
        let Some(mut found) = best else {
            return Ok(RunResult {
                report: self.reporting.passed(stats),
                minimal: Vec::new(),
                minimal_program: Program::sequential(Vec::new()),
            });
        };
        // The statistics cover the whole run, also the cases after the first failure.
        found.stats = stats;
        let mut report = self.reporting.failed(&found);
        if !hb.abandoned() {
            self.reporting.save(&mut report);
        }
        Ok(RunResult {
            report,
            minimal: found.program.prefix.clone(),
            minimal_program: found.program,
        })
    }

    /// Shrinks `program`, which failed outside the run loop (a stress run's failing prefix),
    /// and reports it; a program that passes here passes the run.
    pub(super) fn shrink_given<E: Executor<M> + ?Sized>(
        &self,
        executor: &E,
        hb: &Heartbeat,
        program: Program<M::Op>,
        origin: Origin,
    ) -> Result<RunResult<M::Op>, String> {
        let stats = Stats {
            rules: M::Op::rules().iter().map(|r| (r.name, 0)).collect(),
            ..Stats::default()
        };
        let (execution, _) = self.run_repeated(executor, &program, self.recording(false), hb);
        let Some(failure) = execution.failure else {
            return Ok(RunResult {
                report: self.reporting.passed(stats),
                minimal: Vec::new(),
                minimal_program: Program::sequential(Vec::new()),
            });
        };
        let candidate = Candidate {
            program,
            trees: Program::sequential(Vec::new()),
            failure,
            origin,
        };
        let found = self.shrink(executor, hb, candidate, &stats);
        Ok(RunResult {
            report: self.reporting.failed(&found),
            minimal: found.program.prefix.clone(),
            minimal_program: found.program,
        })
    }

    /// Replays this test's saved programs; the first that still fails is the result. A
    /// sequential run skips parallel programs; a concurrent one runs both shapes (a sequential
    /// program is a prefix without branches).
    fn replay_saved<E: Executor<M> + ?Sized>(
        &self,
        executor: &E,
        hb: &Heartbeat,
        stats: &mut Stats,
    ) -> Result<Option<Candidate<M::Op>>, String> {
        let Some(path) = &self.reporting.regression_file else {
            return Ok(None);
        };
        for entry in persist::load(path, &self.reporting.test)? {
            let location = format!("{}:{}", path.display(), entry.line);
            let shape = entry.program.shape();
            if shape != Shape::Sequential && (self.shape.is_none() || shape != Shape::Parallel) {
                eprintln!(
                    "stateprop: {location}: skipped a saved case: it holds a `{}` program, \
                     which this runner does not run",
                    shape.as_str()
                );
                continue;
            }
            let parse = |steps: &[serde_json::Value]| -> Result<Vec<M::Op>, String> {
                steps.iter().map(M::Op::from_json).collect()
            };
            let program = parse(&entry.program.prefix).and_then(|prefix| {
                let branches: Result<Vec<_>, String> =
                    entry.program.branches.iter().map(|b| parse(b)).collect();
                Ok(Program {
                    prefix,
                    branches: branches?,
                })
            });
            let program = match program {
                Ok(program) => program,
                Err(e) => {
                    eprintln!(
                        "stateprop: {location}: skipped a saved case for `{}`: {e}",
                        entry.test
                    );
                    continue;
                }
            };
            let valid = match shape {
                Shape::Sequential => crate::generate::validate(&self.initial, &program.prefix)
                    .map_err(|invalid| invalid.to_string()),
                _ => crate::generate::validate_program(&self.initial, &program),
            };
            if let Err(invalid) = valid {
                eprintln!(
                    "stateprop: {location}: skipped a saved case, which the model no longer \
                     allows: {invalid}"
                );
                continue;
            }
            if let (Some(saved), Some(now)) = (entry.schedule_seed, self.reporting.schedule_seed) {
                if saved != now {
                    // Its outcome depends on that seed: it may pass under this one.
                    eprintln!(
                        "stateprop: {location}: this case failed under \
                         STATEPROP_SCHEDULE_SEED={saved:#x} and is replayed under {now:#x}, \
                         where it may pass; replay it with STATEPROP_SCHEDULE_SEED={saved:#x}"
                    );
                }
            }
            stats.replayed += 1;
            let origin = Origin::Saved { location };
            outcome::lock(&self.progress).program = Some((program.clone(), origin.clone()));
            let (execution, _) = self.run_repeated(executor, &program, self.recording(false), hb);
            outcome::lock(&self.progress).program = None;
            if let Some(failure) = execution.failure {
                return Ok(Some(Candidate {
                    program,
                    trees: Program::sequential(Vec::new()),
                    failure,
                    origin,
                }));
            }
        }
        Ok(None)
    }

    /// Generates and runs cases until one fails or the budget (cases or duration) is spent.
    fn generate_cases<E: Executor<M> + ?Sized>(
        &self,
        executor: &E,
        hb: &Heartbeat,
        stats: &mut Stats,
        case: &mut u64,
        start: Instant,
    ) -> Result<Option<Candidate<M::Op>>, String> {
        let mut coverage = Coverage::new::<M>(stats, self.config.swarm, self.labels.len());
        let before = stats.cases;
        let found = self.generate_covered(executor, hb, stats, case, start, &mut coverage);
        let names: Vec<String> = self.labels.iter().map(|(name, _)| name.clone()).collect();
        let cases = stats.cases - before;
        coverage.finish(stats, &names, cases);
        found
    }

    /// [`generate_cases`](Self::generate_cases), counting what the cases covered.
    fn generate_covered<E: Executor<M> + ?Sized>(
        &self,
        executor: &E,
        hb: &Heartbeat,
        stats: &mut Stats,
        case: &mut u64,
        start: Instant,
        coverage: &mut Coverage,
    ) -> Result<Option<Candidate<M::Op>>, String> {
        let recording = self.recording(false);
        loop {
            // `case` counts this run's cases; a shard's are every `n`-th of the seed's.
            let ordinal = *case;
            let more = match self.config.duration {
                Some(d) => start.elapsed() < d,
                None => ordinal < self.config.cases,
            };
            let case_index = match self.config.shard {
                Some(shard) => shard.case_index(ordinal),
                None => Some(ordinal),
            };
            let Some(case_index) = case_index.filter(|_| more && !hb.abandoned()) else {
                return Ok(None);
            };
            let seed = case_seed(self.reporting.seed, case_index);
            hb.begin(Activity::Case {
                index: case_index,
                seed,
            });
            let mut plan = self.plan(seed);
            let mut run = executor
                .execute_generated(&mut plan, recording, hb, &mut stats.rules)
                .map_err(|(e, step)| self.gen_error(e, case_index, step))?;
            self.judge(&mut run.execution);
            stats.cases += 1;
            stats.steps += run.ran as u64;
            coverage.case(&plan, run.ran, stats);
            if !self.labels.is_empty() {
                // The case again against the model alone: its steps were not kept.
                if let Ok(program) = self.case_program(seed, run.ran, None) {
                    coverage.label(&self.labels, &self.initial, &program);
                }
            }
            let mut failure = run.execution.failure;
            if failure.is_none() && self.repeats > 1 {
                // The same case again, still announced as the case, so a hang reports it.
                let program = self
                    .case_program(seed, run.ran, None)
                    .map_err(|e| self.gen_error(e, case_index, 0))?;
                for _ in 1..self.repeats {
                    if hb.abandoned() {
                        break;
                    }
                    failure = self.run_judged(executor, &program, recording, hb).failure;
                    if failure.is_some() {
                        break;
                    }
                }
            }
            if let Some(failure) = failure {
                // Regenerate the case as far as it ran, this time keeping the argument trees.
                let mut trees = Program::sequential(Vec::new());
                let program = self
                    .case_program(seed, run.ran, Some(&mut trees))
                    .map_err(|e| self.gen_error(e, case_index, 0))?;
                return Ok(Some(Candidate {
                    program,
                    trees,
                    failure,
                    origin: Origin::Generated {
                        case: case_index,
                        case_seed: seed,
                    },
                }));
            }
            *case += 1;
        }
    }

    fn plan(&self, case_seed: u64) -> CaseGenerator {
        CaseGenerator::new::<M::Op>(case_seed, self.config.steps, self.config.swarm)
    }

    fn gen_error(&self, e: GenError, case: u64, step: usize) -> String {
        format!(
            "{}\n(test `{}`, case {case}, step {step}, seed {})",
            e.message(),
            self.reporting.test,
            self.reporting.seed
        )
    }
}
