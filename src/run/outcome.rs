//! How a run ends: the report of a failure, its confirmation by a rerun, the report that survives
//! a hang, and saving the case.
//!
//! The worker thread finds, shrinks and confirms; the caller's thread watches it. Whatever the
//! worker learns that a report needs is kept in [`Progress`], which the caller can still read if
//! the worker hangs in a system that never returns: a hang while shrinking must not hide the bug
//! that was being shrunk.

use crate::config::Shard;
use crate::exec::parallel::ParallelShape;
use crate::exec::watchdog::{Activity, Hung};
use crate::exec::Execution;
use crate::failure::{Failure, FailureKind};
use crate::generate::{generate_program, CaseGenerator};
use crate::history::History;
use crate::persist;
use crate::program::Program;
use crate::report::{Origin, RecordedOp, Report, RunVerdict, ShrinkStats, Stats};
use crate::shrink::Shrunk;
use crate::spec::{Model, StateMachine};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The parts of a report that do not depend on what was found.
#[derive(Clone)]
pub(crate) struct Reporting {
    pub(crate) test: String,
    pub(crate) seed: u64,
    pub(crate) replay_call: String,
    pub(crate) rerun: String,
    /// ` STATEPROP_STEPS=...` etc. where the environment changed generation settings.
    pub(crate) rerun_env: String,
    pub(crate) regression_file: Option<PathBuf>,
    pub(crate) step_timeout: Duration,
    pub(crate) steps: (usize, usize),
    pub(crate) swarm: bool,
    /// The shape of generated cases, for a concurrent run; `None` for a sequential one.
    pub(crate) parallel: Option<ParallelShape>,
    /// The campaign shard the run is, whose case indices step by the shard count.
    pub(crate) shard: Option<Shard>,
    /// The schedule seed, for runs whose outcome depends on it (simulated, controlled): saved
    /// with a case, so a case saved under another one is not replayed without a word.
    pub(crate) schedule_seed: Option<u64>,
}

/// A failing program and everything its report says.
pub(crate) struct Found<Op> {
    pub(crate) program: Program<Op>,
    pub(crate) failure: Failure,
    pub(crate) origin: Origin,
    pub(crate) stats: Stats,
    pub(crate) shrink: ShrinkStats,
    pub(crate) note: Option<String>,
    pub(crate) trace: Vec<String>,
    /// A simulated run's per-node timeline (empty for other runs).
    pub(crate) timeline: crate::report::timeline::Timeline,
    /// Runs of the program that failed as reported, and runs, when it was run more than once.
    pub(crate) reproduced: Option<(u32, u32)>,
    /// The history of one run of `ops`, when recorded.
    pub(crate) history: Option<Vec<RecordedOp>>,
}

impl Reporting {
    /// The report of a run in which every case passed.
    pub(crate) fn passed(&self, stats: Stats) -> Report {
        Report {
            test: self.test.clone(),
            verdict: RunVerdict::Pass,
            seed: self.seed,
            failure: None,
            minimal_rust: Program::sequential(Vec::new()),
            minimal_json: Program::sequential(Vec::new()),
            origin: None,
            stats,
            shrink: ShrinkStats::default(),
            trace: Vec::new(),
            timeline: Vec::new(),
            sim: None,
            saved_to: None,
            replay_call: self.replay_call.clone(),
            note: None,
            reproduction: None,
            rerun: self.rerun.clone(),
            rerun_env: self.rerun_env.clone(),
            history: None,
        }
    }

    /// The report of a failure.
    pub(crate) fn failed<Op: StateMachine>(&self, found: &Found<Op>) -> Report {
        Report {
            verdict: RunVerdict::Fail,
            failure: Some(found.failure.clone()),
            minimal_rust: found.program.clone().map(|o| o.to_rust()),
            minimal_json: found.program.clone().map(|o| o.to_json()),
            origin: Some(found.origin.clone()),
            shrink: found.shrink.clone(),
            note: found.note.clone(),
            reproduction: found.reproduced,
            trace: found.trace.clone(),
            timeline: found.timeline.lines.clone(),
            sim: found.timeline.run.clone(),
            history: found.history.clone(),
            ..self.passed(found.stats.clone())
        }
    }

    /// Saves the report's program in the regression file (unless it came from there).
    pub(crate) fn save(&self, report: &mut Report) {
        let (Some(path), false) = (
            &self.regression_file,
            matches!(report.origin, Some(Origin::Saved { .. })),
        ) else {
            return;
        };
        match persist::save(
            path,
            &self.test,
            self.seed,
            self.schedule_seed,
            &report.minimal_json,
        ) {
            Ok(_) => report.saved_to = Some(path.display().to_string()),
            Err(e) => eprintln!("stateprop: could not save the case: {e}"),
        }
    }
}

/// What the worker has found so far, readable by the caller's thread if the worker hangs.
pub(crate) struct Progress<Op> {
    /// The failure being shrunk, at its smallest so far.
    pub(crate) best: Option<Found<Op>>,
    /// A fixed program being run (a saved case) and where it was saved.
    pub(crate) program: Option<(Program<Op>, Origin)>,
}

pub(crate) type Shared<Op> = Arc<Mutex<Progress<Op>>>;

pub(crate) fn shared<Op>() -> Shared<Op> {
    Arc::new(Mutex::new(Progress {
        best: None,
        program: None,
    }))
}

pub(crate) fn lock<Op>(progress: &Shared<Op>) -> std::sync::MutexGuard<'_, Progress<Op>> {
    progress.lock().unwrap_or_else(|e| e.into_inner())
}

/// The program a report shows, after `confirm`.
pub(crate) struct Confirmed<Op> {
    pub(crate) program: Program<Op>,
    pub(crate) failure: Failure,
    pub(crate) note: Option<String>,
    pub(crate) trace: Vec<String>,
    /// Runs that failed as it did (at the same step, by the same check), and runs.
    pub(crate) reproduced: (u32, u32),
    /// The history of its first rerun.
    pub(crate) history: Option<Vec<RecordedOp>>,
}

/// Runs and judges a program; the flag says it is the program's first rerun.
pub(crate) type RunOnce<'a, M> = &'a dyn Fn(&Program<<M as Model>::Op>, bool) -> Execution<M>;

/// A recorded history as the report shows it, each operation's text looked up by its step in
/// `program` (the program as generated, where a `Var` prints as the step it names).
pub(crate) fn recorded<M: Model>(
    program: &Program<M::Op>,
    history: &History<M::Op, M::Output>,
) -> Vec<RecordedOp> {
    history
        .ops
        .iter()
        .enumerate()
        .map(|(i, op)| {
            let step = history.step(i).unwrap_or(crate::program::StepId::prefix(i));
            RecordedOp {
                step,
                client: op.client,
                op: program
                    .get(step)
                    .map_or_else(|| op.op.to_rust(), |o| o.to_rust()),
                output: op.output.as_ref().map(|o| format!("{o:?}")),
                call: op.call,
                ret: op.ret,
            }
        })
        .collect()
}

/// Reruns the shrunk program to confirm it fails the same way before it is reported.
///
/// A model or system that is not deterministic (it reads the clock, draws random numbers, keeps
/// global state between cases) can make a candidate fail once and pass on the next run; the
/// shrinker then ends on a "minimal" program that passes. When the result does not fail again,
/// the programs adopted before it are rerun, newest first, and the first that fails again is
/// reported, with a note saying plainly what happened. Each program gets `reruns` runs, and the
/// reported one's count of failing runs is its reproduction rate.
///
/// `run` runs and judges a program; its flag is `true` for a run whose trace and history the
/// report may show: a program's first rerun, or with `racy` every run until one fails.
///
/// `racy` is for programs whose branches race: a run failing by the same check with other
/// values (another interleaving) is the expected way of such a program, not a sign of a model
/// that is not deterministic, and the report shows a failing run's failure and history (the
/// first rerun may well have passed).
pub(crate) fn confirm<M: Model>(
    run: RunOnce<'_, M>,
    shrunk: Shrunk<M::Op>,
    reruns: u32,
    racy: bool,
) -> Confirmed<M::Op> {
    let reruns = reruns.max(1);
    if matches!(shrunk.failure.kind, FailureKind::Hang { .. }) {
        // Rerunning a hang would leave one more thread stuck: it is reported as found.
        return Confirmed {
            program: shrunk.program,
            failure: shrunk.failure,
            note: None,
            trace: Vec::new(),
            reproduced: (1, 1),
            history: None,
        };
    }
    let last = shrunk.trail.len().saturating_sub(1);
    let mut first_miss: Option<String> = None;
    for (i, (program, failure)) in shrunk.trail.into_iter().enumerate().rev() {
        let steps = program.len();
        let (mut alike, mut exact) = (0, false);
        let (mut differently, mut elsewhere): (Option<String>, Option<String>) = (None, None);
        let mut first_trace = Vec::new();
        let mut first_history = None;
        // With `racy`, the first run that failed alike: its failure, trace and history.
        let mut shown: Option<(Failure, Vec<String>, Option<Vec<RecordedOp>>)> = None;
        for attempt in 0..reruns {
            let wanted = attempt == 0 || (racy && shown.is_none());
            let rerun = run(&program, wanted);
            let history = match (&rerun.history, wanted) {
                (Some(h), true) => Some(recorded::<M>(&program, h)),
                _ => None,
            };
            if attempt == 0 {
                first_trace = rerun.trace.clone();
                first_history = history.clone();
            }
            let same = match rerun.failure {
                Some(f) if f == failure => {
                    exact = true;
                    Some(f)
                }
                // Where it did and by the same check, with other values.
                Some(f) if f.step == failure.step && f.kind.name() == failure.kind.name() => {
                    differently.get_or_insert_with(|| f.cause(steps));
                    Some(f)
                }
                Some(f) => {
                    elsewhere
                        .get_or_insert_with(|| format!("failed differently: {}", f.cause(steps)));
                    None
                }
                None => None,
            };
            if let Some(f) = same {
                alike += 1;
                if racy && shown.is_none() {
                    shown = Some((f, rerun.trace, history));
                }
            }
        }
        if alike > 0 {
            let note = match (first_miss, exact || racy, differently) {
                (Some(miss), _, _) => Some(nondeterministic(&miss, steps)),
                (None, false, Some(cause)) => Some(format!(
                    "rerun to confirm it, this program failed again at the same step but \
                     differently ({cause}); the model or the system is not deterministic (the \
                     time, randomness or global state?)"
                )),
                _ => None,
            };
            let (failure, trace, history) = match shown {
                Some(shown) => shown,
                None => (failure, first_trace, first_history),
            };
            return Confirmed {
                program,
                failure,
                note,
                trace,
                reproduced: (alike, reruns),
                history,
            };
        }
        if i == last {
            let again = elsewhere.unwrap_or_else(|| match reruns {
                1 => "passed".to_string(),
                n => format!("passed all {n} runs"),
            });
            first_miss = Some(format!(
                "the shrunk program of {steps} steps {again} when rerun"
            ));
        }
    }
    // Nothing failed twice: report what shrinking ended on, and say it did not reproduce.
    let miss = first_miss.unwrap_or_default();
    let note = format!(
        "{miss}, and no earlier failing program failed again either: the model or the system \
         is not deterministic (the time, randomness or global state?); this program failed once"
    );
    Confirmed {
        program: shrunk.program,
        failure: shrunk.failure,
        note: Some(note),
        trace: Vec::new(),
        reproduced: (0, reruns),
        history: None,
    }
}

fn nondeterministic(miss: &str, steps: usize) -> String {
    format!(
        "the model or the system is not deterministic (the time, randomness or global state?): \
         {miss}; shown instead is the last program that failed again when rerun ({steps} steps)"
    )
}

/// The report of a run whose worker hung.
///
/// If the hang came while shrinking a failure, the report is that failure, at the smallest
/// program found before the hang, with a note naming the candidate that hung. Otherwise the hang
/// is the failure: the program up to the step that never returned, unshrunk.
pub(crate) fn hang_report<M: Model>(
    reporting: &Reporting,
    initial: &M,
    progress: &Shared<M::Op>,
    hung: Hung,
) -> (Report, Program<M::Op>) {
    let mut progress = lock(progress);
    let timeout = crate::failure::seconds(reporting.step_timeout);
    if let Some(mut found) = progress.best.take() {
        let candidate = match &hung.activity {
            Activity::Program(lines) => lines.join("; "),
            _ => String::new(),
        };
        // The lines are the candidate's steps in order; a branch step is named by its id.
        let at = match (&hung.activity, hung.branch) {
            (Activity::Program(lines), None) => format!(
                "step {} ({})",
                hung.step,
                lines.get(hung.step).cloned().unwrap_or_default()
            ),
            _ => format!("step {}", hung.at()),
        };
        found.shrink.steps_after = found.program.len();
        found.shrink.budget_exhausted = true;
        found.note = Some(format!(
            "shrinking stopped: a candidate program hung at {at}, which did not return \
             within {timeout} and cannot be interrupted (its thread is left running); shown is \
             the smallest failing program found before that. The candidate that hung: [{candidate}]"
        ));
        let mut report = reporting.failed(&found);
        reporting.save(&mut report);
        return (report, found.program);
    }
    let (program, origin, cases): (Program<M::Op>, Option<Origin>, u64) = match &hung.activity {
        Activity::Case { index, seed } => {
            let mut plan = CaseGenerator::new::<M::Op>(*seed, reporting.steps, reporting.swarm);
            let program = match &reporting.parallel {
                // The whole case: its branches ran at once, so each may matter.
                Some(shape) => shape
                    .generate(initial, &mut plan, None)
                    .unwrap_or_else(|_| Program::sequential(Vec::new())),
                None => Program::sequential(
                    generate_program(initial, &mut plan, hung.step + 1, None).unwrap_or_default(),
                ),
            };
            let origin = Origin::Generated {
                case: *index,
                case_seed: *seed,
            };
            // The rerun line's case count is the run's own: a shard's case 19 of 4 is its 5th.
            let cases = reporting.shard.map_or(*index, |s| s.ordinal(*index)) + 1;
            (program, Some(origin), cases)
        }
        _ => match progress.program.take() {
            Some((program, origin)) => (program, Some(origin), 0),
            None => (Program::sequential(Vec::new()), None, 0),
        },
    };
    // Steps after the one that hung never ran: a prefix step hung before any branch started.
    let mut program = program;
    if hung.branch.is_none() {
        program.prefix.truncate(hung.step + 1);
        program.branches.clear();
    }
    let found = Found {
        failure: hung.failure(&program, reporting.step_timeout),
        origin: origin.unwrap_or(Origin::Replay),
        stats: Stats {
            cases,
            ..Stats::default()
        },
        shrink: ShrinkStats::default(),
        note: Some(
            "a hung step cannot be interrupted, so this program was not shrunk; its thread is \
             left running"
                .to_string(),
        ),
        trace: Vec::new(),
        timeline: Default::default(),
        reproduced: None,
        history: None,
        program,
    };
    let mut report = reporting.failed(&found);
    reporting.save(&mut report);
    (report, found.program)
}
