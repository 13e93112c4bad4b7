//! The concurrent runner: the same run loop as the sequential one, driving the threads
//! executor. Each case is a parallel program (a prefix, then branches on threads released
//! together), run `Config::repeats` times since a race shows only in some interleavings, its
//! history judged for linearizability unless other judges were chosen; failures shrink as
//! programs of that shape, and the report's pasted test calls [`replay_concurrent`].
//!
//! Under a controlled scheduler ([`Config::scheduler`], feature `shuttle`) the same loop drives
//! the scheduled executor instead: each run's interleaving comes from a seed, so shrinking is
//! deterministic and the pasted test ([`replay_concurrent_scheduled`]) replays the schedules.

use super::outcome;
use super::{conclude, fail_replay, RunResult, Runner};
use crate::config::{Config, Scheduler};
use crate::exec::client::ClientSystem;
#[cfg(feature = "shuttle")]
use crate::exec::scheduled::Scheduled;
use crate::exec::threads::Threads;
use crate::exec::watchdog::{run_watched, Activity, Heartbeat};
use crate::exec::{Executor, Recording};
use crate::failure::Failure;
use crate::judge::{self, judge_history, Judge};
use crate::program::Program;
use crate::spec::{Model, StateMachine};
use std::hash::Hash;
use std::panic::Location;

impl<M: Model> Runner<M> {
    /// Runs parallel programs against concurrent systems from `factory`: each case's prefix on
    /// one thread, then [`Config::branches`] branches at once on threads of their own, each
    /// case [`Config::repeats`] times. With no judge chosen ([`Runner::judge`]), histories are
    /// judged for linearizability against the model. Saved cases, of either shape, run first.
    ///
    /// ```no_run
    /// # use stateprop::{Config, Runner};
    /// # use stateprop::models::Counter;
    /// # fn demo<S: stateprop::ConcurrentSystem<Counter> + Default + 'static>() {
    /// let result = Runner::<Counter>::new(Config::default().branches(3)).run_concurrent(S::default);
    /// assert!(!result.failed(), "{}", result.report.text());
    /// # }
    /// ```
    #[track_caller]
    pub fn run_concurrent<S, F>(mut self, factory: F) -> RunResult<M::Op>
    where
        M: Hash + Eq + Send,
        M::Op: Send + Sync,
        M::Output: Send + Sync,
        S: ClientSystem<M> + 'static,
        F: Fn() -> S + Send + 'static,
    {
        let source = Location::caller().file();
        if self.judges.is_empty() {
            self.judges.push(judge::linearizable());
        }
        // The environment may choose the scheduler; a bad one is reported by `start`.
        let settings = self.config.clone().with_env().ok();
        let controlled = settings.filter(|c| c.scheduler.is_controlled());
        if let (Some(c), Some(call)) = (&controlled, &mut self.replay_call) {
            // `run_concurrent_default`'s call: the scheduled form, with the schedule.
            if let Some(types) = call.strip_prefix("stateprop::replay_concurrent::") {
                *call = format!(
                    "stateprop::replay_concurrent_scheduled::{types}\n        {},\n        ",
                    schedule_config(c)
                );
            }
        }
        let replay_call = move |m: &str, s: &str| match &controlled {
            Some(c) => format!(
                "stateprop::replay_concurrent_scheduled_with::<{m}, {s}>(\n        {},\n        \
                 {m}::default(),\n        \
                 || -> {s} {{ todo!(\"build the system as the test does\") }},\n        ",
                schedule_config(c)
            ),
            None => super::factory_replay_call("replay_concurrent_with", m, s),
        };
        self.start::<S>(source, true, replay_call, move |job, hb| {
            let shape = job.shape.expect("a concurrent run has a shape");
            match job.config.scheduler {
                Scheduler::Threads => {
                    let executor = Threads::new(job.initial.clone(), factory)
                        .shape(shape)
                        .perturb(job.config.perturb, job.config.schedule_seed);
                    let result = job.work(&executor, hb)?;
                    #[cfg(feature = "shuttle")]
                    if let Some(message) = result.report.failure.as_ref().and_then(outside) {
                        return Err(message);
                    }
                    Ok(result)
                }
                #[cfg(feature = "shuttle")]
                _ => {
                    let executor = Scheduled::new(job.initial.clone(), factory, &job.config);
                    job.work(&executor, hb)
                }
                #[cfg(not(feature = "shuttle"))]
                other => Err(needs_feature(other)),
            }
        })
    }

    /// [`run_concurrent`](Runner::run_concurrent) with `S::default()` as the factory; the
    /// pasteable test calls [`replay_concurrent`].
    #[track_caller]
    pub fn run_concurrent_default<S>(mut self) -> RunResult<M::Op>
    where
        M: Hash + Eq + Send,
        M::Op: Send + Sync,
        M::Output: Send + Sync,
        S: ClientSystem<M> + Default + 'static,
    {
        if self.replay_call.is_none() {
            self.replay_call = Some(format!(
                "stateprop::replay_concurrent::<{}, {}>(",
                super::short_type_name(std::any::type_name::<M>()),
                super::short_type_name(std::any::type_name::<S>())
            ));
        }
        self.run_concurrent(S::default)
    }
}

impl<M: Model> Runner<M> {
    /// Shrinks `program`, a parallel program that failed outside the run loop (a concurrent
    /// stress run's round), on the threads executor with its histories judged for
    /// linearizability, and reports it as [`run_concurrent`](Runner::run_concurrent) reports a
    /// failing case. `source` is the file that started the run (a stress run's coordinator
    /// runs on a thread of its own, where `#[track_caller]` does not reach).
    pub(crate) fn shrink_failing_concurrent<S, F>(
        mut self,
        factory: F,
        program: Program<M::Op>,
        origin: crate::report::Origin,
        source: &'static str,
    ) -> RunResult<M::Op>
    where
        M: Hash + Eq + Send,
        M::Op: Send + Sync,
        M::Output: Send + Sync,
        S: ClientSystem<M> + 'static,
        F: Fn() -> S + Send + 'static,
    {
        if self.judges.is_empty() {
            self.judges.push(judge::linearizable());
        }
        let replay_call =
            |m: &str, s: &str| super::factory_replay_call("replay_concurrent_with", m, s);
        self.start::<S>(source, true, replay_call, move |job, hb| {
            let executor = Threads::new(job.initial.clone(), factory);
            job.shrink_given(&executor, hb, program, origin)
        })
    }
}

/// Checks a concurrent system against its model: parallel programs run on real threads, many
/// times each, their histories judged for linearizability; on failure, panics with the report
/// (cause, minimal program by branch, the history, its reproduction rate, a test to paste).
///
/// `S::default()` builds a fresh system for each run; see [`check_concurrent_with`] for a
/// factory. The environment (`STATEPROP_SEED`, `STATEPROP_REPEATS`, ...) overrides `config`.
#[track_caller]
pub fn check_concurrent<M, S>(config: Config)
where
    M: Model + Default + Hash + Eq + Send,
    M::Op: Send + Sync,
    M::Output: Send + Sync,
    S: ClientSystem<M> + Default + 'static,
{
    let result = Runner::<M>::new(config).run_concurrent_default::<S>();
    conclude(&result.report);
}

/// [`check_concurrent`] with a factory that builds each run's system.
#[track_caller]
pub fn check_concurrent_with<M, S, F>(config: Config, factory: F)
where
    M: Model + Default + Hash + Eq + Send,
    M::Op: Send + Sync,
    M::Output: Send + Sync,
    S: ClientSystem<M> + 'static,
    F: Fn() -> S + Send + 'static,
{
    let result = Runner::<M>::new(config).run_concurrent(factory);
    conclude(&result.report);
}

/// Replays a parallel program (a pasted regression test): runs it [`Config::repeats`] times
/// (`STATEPROP_REPEATS`) from `M::default()` on fresh `S::default()` systems, each history
/// judged for linearizability, and panics with a report if any run fails.
#[track_caller]
pub fn replay_concurrent<M, S>(program: &Program<M::Op>)
where
    M: Model + Default + Hash + Eq + Send,
    M::Op: Send + Sync,
    M::Output: Send + Sync,
    S: ClientSystem<M> + Default + 'static,
{
    replay_concurrent_with::<M, S>(M::default(), S::default, program)
}

/// [`replay_concurrent`] from an initial model and a factory for the system.
#[track_caller]
pub fn replay_concurrent_with<M, S>(
    initial: M,
    factory: impl Fn() -> S + Send + 'static,
    program: &Program<M::Op>,
) where
    M: Model + Hash + Eq + Send,
    M::Op: Send + Sync,
    M::Output: Send + Sync,
    S: ClientSystem<M> + 'static,
{
    replay_concurrent_scheduled_with(Config::default(), initial, factory, program)
}

/// Replays a parallel program under the scheduler `config` names: the pasted test of a run under
/// a controlled scheduler, whose [`Config::scheduler`], [`Config::schedule_seed`] and
/// [`Config::repeats`] it carries, so its runs get the very schedules the run tried (the
/// environment still overrides them, unless [`Config::ignore_env`]). Panics with a report if
/// any run fails.
#[track_caller]
pub fn replay_concurrent_scheduled<M, S>(config: Config, program: &Program<M::Op>)
where
    M: Model + Default + Hash + Eq + Send,
    M::Op: Send + Sync,
    M::Output: Send + Sync,
    S: ClientSystem<M> + Default + 'static,
{
    replay_concurrent_scheduled_with::<M, S>(config, M::default(), S::default, program)
}

/// [`replay_concurrent_scheduled`] from an initial model and a factory for the system.
#[track_caller]
pub fn replay_concurrent_scheduled_with<M, S>(
    config: Config,
    initial: M,
    factory: impl Fn() -> S + Send + 'static,
    program: &Program<M::Op>,
) where
    M: Model + Hash + Eq + Send,
    M::Op: Send + Sync,
    M::Output: Send + Sync,
    S: ClientSystem<M> + 'static,
{
    replay_parallel(
        config,
        initial,
        program,
        move |start, settings, owned, hb| {
            let (repeats, verbose) = (settings.repeats, settings.verbose > 0);
            match settings.scheduler {
                #[cfg(feature = "shuttle")]
                Scheduler::Random | Scheduler::Pct | Scheduler::Dfs => {
                    let executor = Scheduled::new(start, factory, settings);
                    replay_runs(&executor, owned, repeats, verbose, hb)
                }
                _ => {
                    let executor = Threads::new(start, factory)
                        .perturb(settings.perturb, settings.schedule_seed);
                    replay_runs(&executor, owned, repeats, verbose, hb)
                }
            }
        },
    );
}

/// Replays a parallel program (a pasted regression test) with `config` and the environment:
/// checks the program, runs `runs` (an executor's runs, through [`replay_runs`]) on the worker
/// under the watchdog, and panics with a report if any run failed. Every replay form of a
/// concurrent runner is this one with its own executor.
#[track_caller]
pub(super) fn replay_parallel<M>(
    config: Config,
    initial: M,
    program: &Program<M::Op>,
    runs: impl FnOnce(M, &Config, &Program<M::Op>, &Heartbeat) -> Option<Shown> + Send + 'static,
) where
    M: Model + Hash + Eq + Send,
    M::Op: Send + Sync,
    M::Output: Send + Sync,
{
    let config = match config.with_env() {
        Ok(c) => c,
        Err(e) => panic!("stateprop: bad environment: {e}"),
    };
    #[cfg(not(feature = "shuttle"))]
    if config.scheduler.is_controlled() {
        panic!("stateprop: {}", needs_feature(config.scheduler));
    }
    // Check the program is one the generator could have made before running the system.
    if let Err(invalid) = crate::generate::validate_program(&initial, program) {
        panic!("stateprop: the replayed program is not valid: {invalid}");
    }
    let owned = program.clone();
    let settings = config.clone();
    let outcome = run_watched(config.step_timeout, move |hb| {
        hb.begin(Activity::Program(
            owned.steps().map(|(_, o)| o.to_rust()).collect(),
        ));
        runs(initial, &settings, &owned, hb)
    });
    let shown = match outcome {
        Ok(shown) => shown,
        Err(hung) => Some((
            (hung.failure(program, config.step_timeout), Vec::new(), None),
            1,
        )),
    };
    let Some(((failure, trace, history), failed)) = shown else {
        return;
    };
    #[cfg(feature = "shuttle")]
    if let Some(message) = outside(&failure) {
        panic!("stateprop: {message}");
    }
    let repeats = config.repeats;
    let reproduced = (repeats > 1).then_some((failed, repeats));
    fail_replay(
        &config,
        program.clone(),
        failure,
        trace,
        history,
        reproduced,
    );
}

/// What a failing replay shows: the first failure, its trace and history; and how many runs
/// failed.
pub(super) type Shown = (
    (Failure, Vec<String>, Option<Vec<crate::report::RecordedOp>>),
    u32,
);

/// Runs `program` `repeats` times on `executor`, every history judged for linearizability.
pub(super) fn replay_runs<M: Model + Hash + Eq, E: Executor<M>>(
    executor: &E,
    program: &Program<M::Op>,
    repeats: u32,
    verbose: bool,
    hb: &Heartbeat,
) -> Option<Shown> {
    let judges: Vec<Judge<M>> = vec![judge::linearizable()];
    let recording = Recording {
        history: true,
        trace: verbose,
        linearized: true,
    };
    // Every run, so the report can give the rate; the first failing one is shown.
    let mut shown = None;
    let mut failed = 0;
    for _ in 0..repeats {
        let mut run = executor.execute(program, recording, hb);
        if run.failure.is_none() {
            if let Some(history) = &run.history {
                run.failure = judge_history(&judges, executor.initial(), history, &mut Vec::new());
            }
        }
        if let Some(failure) = run.failure {
            failed += 1;
            if shown.is_none() {
                let history = run.history.map(|h| outcome::recorded::<M>(program, &h));
                shown = Some((failure, run.trace, history));
            }
        }
        if hb.abandoned() {
            break;
        }
    }
    shown.map(|s| (s, failed))
}

/// The `Config` expression a pasted test replays a controlled run's schedules with.
fn schedule_config(c: &Config) -> String {
    let scheduler = match c.scheduler {
        Scheduler::Pct => "Pct",
        Scheduler::Random => "Random",
        // The walk is the same for every seed: the scheduler and the run count say it all.
        Scheduler::Dfs => {
            return format!(
                "stateprop::Config::default()\n            .scheduler(stateprop::Scheduler::Dfs)\n            \
                 .repeats({})",
                c.repeats
            )
        }
        _ => "Threads",
    };
    format!(
        "stateprop::Config::default()\n            .scheduler(stateprop::Scheduler::{scheduler})\n            \
         .schedule_seed({:#x})\n            .repeats({})",
        c.schedule_seed, c.repeats
    )
}

/// Under the `shuttle` feature, a system built on `stateprop::sync` run on real threads fails
/// at its first call, in shuttle: that is a misuse to explain, not the system's failure.
#[cfg(feature = "shuttle")]
fn outside(failure: &Failure) -> Option<String> {
    let crate::failure::FailureKind::Panic { message } = &failure.kind else {
        return None;
    };
    message.contains("from outside a Shuttle test").then(|| {
        "the system uses `stateprop::sync`, whose types are shuttle's in a build with the \
         `shuttle` feature and work only under its scheduler: choose one with \
         Config::scheduler or STATEPROP_SCHEDULER=pct (or random, or dfs), or build without the \
         feature to run on real threads"
            .to_string()
    })
}

/// The error for a controlled scheduler asked of a build without it.
#[cfg(not(feature = "shuttle"))]
fn needs_feature(scheduler: Scheduler) -> String {
    format!(
        "the {} scheduler (Config::scheduler or STATEPROP_SCHEDULER) needs stateprop's `shuttle` \
         feature, which this build does not have: enable it (`cargo test --features \
         stateprop/shuttle`), or use STATEPROP_SCHEDULER=threads",
        scheduler.name()
    )
}

/// ` STATEPROP_BRANCHES=...` etc. for the shape settings the environment changed.
pub(super) fn rerun_env(config: &Config, code: &Config) -> String {
    let mut env = String::new();
    if config.branches != code.branches {
        env += &format!(" STATEPROP_BRANCHES={}", config.branches);
    }
    if config.branch_steps != code.branch_steps {
        let (lo, hi) = config.branch_steps;
        env += &format!(" STATEPROP_BRANCH_STEPS={lo}..={hi}");
    }
    if config.prefix_steps != code.prefix_steps {
        let (lo, hi) = config.prefix_steps;
        env += &format!(" STATEPROP_PREFIX_STEPS={lo}..={hi}");
    }
    // A controlled run's rerun line names its scheduler even when the code chose it: the report
    // says which scheduler and which schedules failed.
    if config.scheduler != code.scheduler || config.scheduler.is_controlled() {
        env += &format!(" STATEPROP_SCHEDULER={}", config.scheduler.name());
    }
    if config.perturb != code.perturb {
        env += &format!(" STATEPROP_PERTURB={}", u8::from(config.perturb));
    }
    // The dfs walk is the same for every seed; pauses on threads are drawn from it.
    let seeded = (config.scheduler.is_controlled() && config.scheduler != Scheduler::Dfs)
        || (config.perturb && !config.scheduler.is_controlled());
    if config.schedule_seed != code.schedule_seed || seeded {
        env += &format!(" STATEPROP_SCHEDULE_SEED={:#x}", config.schedule_seed);
    }
    env
}
