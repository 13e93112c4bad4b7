//! The run loop, on the worker thread: saved cases first, then generated ones until one fails
//! (or, with `Config::failures`, several); shrink it, confirm it by a rerun, and report it.
//! Everything it learns that a report needs is published in `outcome::Progress`, so a hang does
//! not lose it.

use super::outcome::{self, Found, Reporting, Shared};
use super::RunResult;
use crate::config::Config;
use crate::exec::watchdog::{Activity, Heartbeat};
use crate::exec::{Execution, Executor, Recording};
use crate::failure::Failure;
use crate::generate::rng::case_seed;
use crate::generate::{generate_program, ArgTree, CaseGenerator, GenError};
use crate::judge::{judge_history, Judge};
use crate::persist;
use crate::program::Program;
use crate::report::{Origin, Shape, ShrinkStats, Stats, Undecided};
use crate::shrink::{Judgement, Shrinker};
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
    /// Judges that gave no verdict, over every history judged (cases, candidates, reruns).
    pub(super) undecided: RefCell<Vec<Undecided>>,
}

/// A failing program before shrinking.
struct Candidate<Op> {
    ops: Vec<Op>,
    trees: Vec<Vec<Box<dyn ArgTree>>>,
    failure: Failure,
    origin: Origin,
}

impl<M: Model> Run<M> {
    /// What every run records: a history when a judge needs one.
    fn recording(&self, trace: bool) -> Recording {
        Recording {
            history: !self.judges.is_empty(),
            trace,
        }
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

    /// Runs a fixed program, announced to the watchdog, and judges it.
    pub(super) fn run_once<E: Executor<M> + ?Sized>(
        &self,
        executor: &E,
        program: &Program<M::Op>,
        recording: Recording,
        hb: &Heartbeat,
    ) -> Execution<M> {
        hb.begin(Activity::Program(
            program.prefix.iter().map(|o| o.to_rust()).collect(),
        ));
        let mut execution = executor.execute(program, recording, hb);
        self.judge(&mut execution);
        execution
    }

    /// Fresh argument trees for a generated case (see `shrink::Regenerate`).
    fn fresh_trees(&self, origin: &Origin, len: usize) -> Vec<Vec<Box<dyn ArgTree>>> {
        let Origin::Generated { case_seed, .. } = origin else {
            return Vec::new();
        };
        let mut trees = Vec::new();
        let mut plan = self.plan(*case_seed);
        match generate_program(&self.initial, &mut plan, len, Some(&mut trees)) {
            Ok(_) => trees,
            Err(_) => Vec::new(),
        }
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
            ops: candidate.ops.clone(),
            failure: candidate.failure.clone(),
            origin: origin.clone(),
            stats: stats.clone(),
            shrink: ShrinkStats {
                steps_before: candidate.ops.len(),
                failures: 1,
                ..ShrinkStats::default()
            },
            note: None,
            trace: Vec::new(),
            reproduced: None,
            history: None,
        });
        let publish = |program: &Program<M::Op>, failure: &Failure, shrink: &ShrinkStats| {
            if let Some(best) = &mut outcome::lock(&self.progress).best {
                best.ops = program.prefix.clone();
                best.failure = failure.clone();
                best.shrink.runs = shrink.runs;
                best.shrink.skipped = shrink.skipped;
            }
        };
        // A candidate runs like any fixed program: announced to the watchdog, then executed.
        let property = |program: &Program<M::Op>| {
            Judgement::once(
                self.run_once(executor, program, self.recording(false), hb)
                    .failure,
            )
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
        .reruns(self.config.reruns);
        let len = candidate.ops.len();
        let regenerate = || self.fresh_trees(&origin, len);
        let shrunk = shrinker.shrink(
            candidate.ops,
            candidate.trees,
            Some(&regenerate),
            candidate.failure,
        );
        let shrink = shrunk.stats.clone();
        let verbose = self.config.verbose > 0;
        let run = |program: &Program<M::Op>, first: bool| {
            // The first rerun records the history the report shows, judges or not.
            let recording = Recording {
                history: first || !self.judges.is_empty(),
                trace: verbose && first,
            };
            self.run_once(executor, program, recording, hb)
        };
        let confirmed = outcome::confirm(&run, shrunk, self.config.reruns);
        Found {
            ops: confirmed.ops,
            failure: confirmed.failure,
            origin,
            stats: stats.clone(),
            shrink,
            note: confirmed.note,
            trace: confirmed.trace,
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
                    .is_none_or(|b| crate::shrink::simpler(&candidate.ops, &b.ops))
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
            minimal_program: Program::sequential(found.ops.clone()),
            minimal: found.ops,
        })
    }

    /// Replays this test's saved programs; the first that still fails is the result.
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
            if entry.program.shape() != Shape::Sequential {
                eprintln!(
                    "stateprop: {location}: skipped a saved case: it holds a `{}` program, \
                     which this runner does not run",
                    entry.program.shape().as_str()
                );
                continue;
            }
            let ops: Result<Vec<M::Op>, String> =
                entry.program.prefix.iter().map(M::Op::from_json).collect();
            let ops = match ops {
                Ok(ops) => ops,
                Err(e) => {
                    eprintln!(
                        "stateprop: {location}: skipped a saved case for `{}`: {e}",
                        entry.test
                    );
                    continue;
                }
            };
            if let Err(invalid) = crate::program::validate(&self.initial, &ops) {
                eprintln!(
                    "stateprop: {location}: skipped a saved case, which the model no longer \
                     allows: {invalid}"
                );
                continue;
            }
            stats.replayed += 1;
            let origin = Origin::Saved { location };
            outcome::lock(&self.progress).program = Some((ops.clone(), origin.clone()));
            let program = Program::sequential(ops);
            let failure = self
                .run_once(executor, &program, self.recording(false), hb)
                .failure;
            let ops = program.prefix;
            outcome::lock(&self.progress).program = None;
            if let Some(failure) = failure {
                return Ok(Some(Candidate {
                    ops,
                    trees: Vec::new(),
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
        let recording = self.recording(false);
        loop {
            let case_index = *case;
            let more = match self.config.duration {
                Some(d) => start.elapsed() < d,
                None => case_index < self.config.cases,
            };
            if !more || hb.abandoned() {
                return Ok(None);
            }
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
            if let Some(failure) = run.execution.failure {
                // Regenerate the case as far as it ran, this time keeping the argument trees.
                let mut trees = Vec::new();
                let mut plan = self.plan(seed);
                let ops = generate_program(&self.initial, &mut plan, run.ran, Some(&mut trees))
                    .map_err(|e| self.gen_error(e, case_index, 0))?;
                return Ok(Some(Candidate {
                    ops,
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
