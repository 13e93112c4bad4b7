//! Runners: generate cases, run them against the system, shrink and report the first failure.

mod concurrent;
mod coverage;
mod engine;
mod outcome;
mod rerun;
mod simulated;
#[cfg(feature = "tokio")]
mod tasks;

pub use concurrent::{
    check_concurrent, check_concurrent_with, replay_concurrent, replay_concurrent_scheduled,
    replay_concurrent_scheduled_with, replay_concurrent_with,
};
pub use simulated::{check_simulated, replay_simulated};
#[cfg(feature = "tokio")]
pub use tasks::{check_async, check_async_with, replay_async, replay_async_with};

use crate::config::{Config, MAX_STEPS};
use crate::exec::parallel::ParallelShape;
use crate::exec::sequential::Sequential;
use crate::exec::watchdog::{run_watched, Activity, Heartbeat};
use crate::exec::{Executor, Recording};
use crate::failure::Failure;
use crate::generate::rng::fresh_seed;
use crate::judge::Judge;
use crate::persist;
use crate::program::Program;
use crate::report::{Origin, Report, RunVerdict, ShrinkStats, Stats};
use crate::spec::{Model, StateMachine, System};
use engine::Run;
use outcome::{Found, Reporting};
use std::panic::Location;
use std::path::PathBuf;

/// A finished run: the report, and the minimal failing program as typed operations.
#[derive(Debug)]
#[non_exhaustive]
pub struct RunResult<Op> {
    /// The report (text with [`Report::text`], JSON with [`Report::json`]).
    pub report: Report,
    /// The minimal failing program's steps, for a sequential program (its prefix otherwise);
    /// empty when the run passed.
    pub minimal: Vec<Op>,
    /// The minimal failing program, whatever its shape; empty when the run passed.
    pub minimal_program: Program<Op>,
}

impl<Op> RunResult<Op> {
    /// Whether the run found a failure.
    pub fn failed(&self) -> bool {
        self.report.verdict == RunVerdict::Fail
    }
}

/// Runs a state machine against a system under test. [`check_sequential`] is the short form.
///
/// ```no_run
/// # use stateprop::{Config, Runner};
/// # fn demo<M: stateprop::Model + Default + Send, S: stateprop::System<M> + Default + 'static>()
/// # where M::Op: Send {
/// let result = Runner::<M>::new(Config::default().cases(500)).run(S::default);
/// if result.failed() {
///     println!("{}", result.report.text());
/// }
/// # }
/// ```
pub struct Runner<M: Model> {
    config: Config,
    initial: M,
    replay_call: Option<String>,
    judges: Vec<Judge<M>>,
    labels: Vec<coverage::Label<M>>,
    /// Whether the executor draws from the schedule seed (a simulated world does).
    world_seeded: bool,
}

impl<M: Model + Default> Runner<M> {
    /// A runner whose cases start from `M::default()`.
    pub fn new(config: Config) -> Self {
        Runner::with_initial(config, M::default())
    }
}

impl<M: Model> Runner<M> {
    /// A runner whose cases start from `initial`.
    pub fn with_initial(config: Config, initial: M) -> Self {
        Runner {
            config,
            initial,
            replay_call: None,
            judges: Vec::new(),
            labels: Vec::new(),
            world_seeded: false,
        }
    }

    /// Adds a history judge ([`judge::linearizable`](crate::judge::linearizable), ...), run on
    /// the history of every program after its steps passed the step judge; call it again for
    /// more (they run in the order given, and the first violation is the failure). With a
    /// judge, every run records its history.
    ///
    /// ```no_run
    /// # use stateprop::{judge, Config, Runner};
    /// # use stateprop::models::{CasRegister, RegisterOp, RegisterOut};
    /// # fn demo<S: stateprop::System<CasRegister> + Default + 'static>() {
    /// let result = Runner::<CasRegister>::new(Config::default())
    ///     .judge(judge::linearizable())
    ///     .run(S::default);
    /// # }
    /// ```
    pub fn judge(mut self, judge: Judge<M>) -> Self {
        self.judges.push(judge);
        self
    }

    /// Labels the generated cases in which `holds(model, op)` is true at some step (the
    /// model as it is before the step), like QuickCheck's `classify`: a passing run's report
    /// ([`Report::text`], printed with `STATEPROP_VERBOSE=1`, and the JSON) gives how many cases
    /// each label held in, so a test can show it reached the states it means to test. Call it
    /// again for more labels.
    ///
    /// Counting needs the model at every step, so each case is generated a second time against
    /// the model alone; runs without labels pay nothing. A concurrent run labels only its
    /// programs' prefixes.
    ///
    /// ```no_run
    /// # use stateprop::{Config, Runner};
    /// # use stateprop::models::{Counter, CounterOp};
    /// # fn demo<S: stateprop::System<Counter> + Default + 'static>() {
    /// let result = Runner::<Counter>::new(Config::default().verbose(1))
    ///     .label("goes negative", |m: &Counter, op: &CounterOp| {
    ///         matches!(op, CounterOp::Add { by } if m.value + by < 0)
    ///     })
    ///     .run_default::<S>();
    /// println!("{}", result.report.text());
    /// # }
    /// ```
    pub fn label(
        mut self,
        name: impl Into<String>,
        holds: impl Fn(&M, &M::Op) -> bool + Send + Sync + 'static,
    ) -> Self {
        self.labels.push((name.into(), Box::new(holds)));
        self
    }

    /// How the pasteable test starts its call, up to the list of operations: by default
    /// `stateprop::replay::<Kv, Store>(` from [`run_default`](Runner::run_default).
    pub fn replay_call(mut self, call: impl Into<String>) -> Self {
        self.replay_call = Some(call.into());
        self
    }

    /// [`run`](Runner::run) with `S::default()` as the factory; the pasteable test calls
    /// [`replay`].
    #[track_caller]
    pub fn run_default<S>(mut self) -> RunResult<M::Op>
    where
        S: System<M> + Default + 'static,
        M: Send,
        M::Op: Send,
    {
        if self.replay_call.is_none() {
            self.replay_call = Some(format!(
                "stateprop::replay::<{}, {}>(",
                short_type_name(std::any::type_name::<M>()),
                short_type_name(std::any::type_name::<S>())
            ));
        }
        self.run(S::default)
    }

    /// Runs the cases (saved regressions first) with systems from `factory`, on a worker thread
    /// watched for hangs. Panics only on misuse (bad environment, no rule enabled).
    #[track_caller]
    pub fn run<S, F>(self, factory: F) -> RunResult<M::Op>
    where
        S: System<M> + 'static,
        F: Fn() -> S + Send + 'static,
        M: Send,
        M::Op: Send,
    {
        let source = Location::caller().file();
        self.start::<S>(source, false, replay_with_call, move |job, hb| {
            let executor = Sequential {
                initial: &job.initial,
                factory: &factory,
            };
            job.work(&executor, hb)
        })
    }

    /// Shrinks `ops`, a sequential program that failed outside the run loop (a stress run's
    /// failing prefix), and reports it as [`run`](Runner::run) reports a failing case.
    #[track_caller]
    pub(crate) fn shrink_failing<S, F>(
        self,
        factory: F,
        ops: Vec<M::Op>,
        origin: Origin,
    ) -> RunResult<M::Op>
    where
        S: System<M> + 'static,
        F: Fn() -> S + Send + 'static,
        M: Send,
        M::Op: Send,
    {
        let source = Location::caller().file();
        self.start::<S>(source, false, replay_with_call, move |job, hb| {
            let executor = Sequential {
                initial: &job.initial,
                factory: &factory,
            };
            job.shrink_given(&executor, hb, Program::sequential(ops), origin)
        })
    }

    /// What [`run`](Runner::run) and the concurrent runner share: the configuration, the
    /// report's settings, the worker watched for hangs, the JSON report. `concurrent` runs
    /// generate parallel programs of the configuration's shape; `replay_call` makes the pasted
    /// call's default from the short names of the model and the system; `work` runs on the
    /// worker.
    fn start<S>(
        self,
        source: &str,
        concurrent: bool,
        replay_call: impl FnOnce(&str, &str) -> String,
        work: impl FnOnce(&Run<M>, &Heartbeat) -> Result<RunResult<M::Op>, String> + Send + 'static,
    ) -> RunResult<M::Op>
    where
        M: Send,
        M::Op: Send,
    {
        let config = match self.config.clone().with_env() {
            Ok(c) if concurrent => c.for_concurrent(),
            Ok(c) => c,
            Err(e) => panic!("stateprop: bad environment: {e}"),
        };
        let test = test_name(&config, source);
        let seed = config.seed.unwrap_or_else(fresh_seed);
        let replay_call = self.replay_call.unwrap_or_else(|| {
            let m = short_type_name(std::any::type_name::<M>());
            let s = short_type_name(std::any::type_name::<S>());
            replay_call(&m, &s)
        });
        // Settings that change which programs are generated, where the environment changed them.
        let mut rerun_env = String::new();
        if config.steps != self.config.steps {
            rerun_env += &format!(" STATEPROP_STEPS={}..={}", config.steps.0, config.steps.1);
        }
        if config.swarm != self.config.swarm {
            rerun_env += &format!(" STATEPROP_SWARM={}", u8::from(config.swarm));
        }
        if config.failures != self.config.failures {
            rerun_env += &format!(" STATEPROP_FAILURES={}", config.failures);
        }
        if let Some(shard) = config.shard {
            // Named even when the code chose it: the case count beside it is the shard's own.
            rerun_env += &format!(" STATEPROP_SHARD={shard}");
        }
        let parallel = concurrent.then(|| ParallelShape::of(&config));
        if concurrent {
            rerun_env += &concurrent::rerun_env(&config, &self.config);
        }
        if self.world_seeded && config.schedule_seed != self.config.schedule_seed {
            rerun_env += &format!(" STATEPROP_SCHEDULE_SEED={:#x}", config.schedule_seed);
        }
        // Runs whose outcome depends on the schedule seed save it with a failing case.
        let seeded_schedule = concurrent
            && config.scheduler.is_controlled()
            && config.scheduler != crate::config::Scheduler::Dfs;
        let schedule_seed = (self.world_seeded || seeded_schedule).then_some(config.schedule_seed);
        let regression_file = match (&config.regression_file, config.persist) {
            (_, false) => None,
            (Some(path), true) => Some(path.clone()),
            (None, true) => persist::file_for(source),
        };
        if config.steps.1 > MAX_STEPS {
            panic!(
                "stateprop: programs of up to {} steps were asked for; one case may have at \
                 most {MAX_STEPS} (long runs belong to a duration or a stress run)",
                config.steps.1
            );
        }
        if config.duration.is_none() && (config.cases == 0 || config.steps.1 == 0) {
            eprintln!(
                "stateprop: warning: `{test}` tests nothing: {} cases of at most {} steps \
                 (check STATEPROP_CASES, STATEPROP_STEPS or the test's Config)",
                config.cases, config.steps.1
            );
        }
        let reporting = Reporting {
            test: test.clone(),
            seed,
            replay_call,
            rerun: rerun::command_here(source),
            rerun_env,
            regression_file,
            step_timeout: config.step_timeout,
            steps: config.steps,
            swarm: config.swarm,
            parallel,
            shard: config.shard,
            schedule_seed,
        };
        let progress = outcome::shared();
        let job = Run {
            config: config.clone(),
            initial: self.initial.clone(),
            reporting: reporting.clone(),
            progress: progress.clone(),
            judges: self.judges,
            labels: self.labels,
            undecided: Default::default(),
            shape: parallel,
            repeats: if parallel.is_some() {
                config.repeats
            } else {
                1
            },
        };
        let outcome = run_watched(config.step_timeout, move |hb| work(&job, hb));
        let result = match outcome {
            Ok(Ok(result)) => result,
            Ok(Err(message)) => panic!("stateprop: {message}"),
            Err(hung) => {
                let (report, minimal) =
                    outcome::hang_report(&reporting, &self.initial, &progress, hung);
                RunResult {
                    report,
                    minimal: minimal.prefix.clone(),
                    minimal_program: minimal,
                }
            }
        };
        if !result.failed() {
            // A failure's report is printed by whoever ends the test; a pass says what it
            // covered when asked to, and what it missed always.
            if config.verbose > 0 {
                eprint!("{}", result.report.text());
            } else {
                for warning in result.report.warnings() {
                    eprintln!("stateprop: warning: `{test}`: {warning}");
                }
            }
        }
        if let Some(path) = &config.report_path {
            let path = report_file(path, &test);
            let text = serde_json::to_string_pretty(&result.report.json()).expect("json");
            if let Err(e) = persist::write_atomically(&path, text.as_bytes()) {
                eprintln!("stateprop: could not write the JSON report: {e}");
            }
        }
        result
    }
}

/// The pasted call of a run with a factory: `replay_with`, the factory left to the user.
fn replay_with_call(m: &str, s: &str) -> String {
    factory_replay_call("replay_with", m, s)
}

/// The pasted call of a replay function that takes an initial model and a factory
/// (`replay_with`, `replay_concurrent_with`, ...), up to its list of operations.
pub(super) fn factory_replay_call(function: &str, m: &str, s: &str) -> String {
    format!(
        "stateprop::{function}::<{m}, {s}>(\n        {m}::default(),\n        \
         || -> {s} {{ todo!(\"build the system as the test does\") }},\n        "
    )
}

/// Checks a system against its model over many generated programs; on failure, panics with the
/// report (cause, minimal program, seed, statistics and a test to paste).
///
/// `S::default()` builds a fresh system for each case; see [`check_sequential_with`] for a
/// factory. The environment (`STATEPROP_SEED`, `STATEPROP_CASES`, ...) overrides `config`.
#[track_caller]
pub fn check_sequential<M, S>(config: Config)
where
    M: Model + Default + Send,
    M::Op: Send,
    S: System<M> + Default + 'static,
{
    let result = Runner::<M>::new(config).run_default::<S>();
    conclude(&result.report);
}

/// [`check_sequential`] with a factory that builds each case's system.
#[track_caller]
pub fn check_sequential_with<M, S, F>(config: Config, factory: F)
where
    M: Model + Default + Send,
    M::Op: Send,
    S: System<M> + 'static,
    F: Fn() -> S + Send + 'static,
{
    let result = Runner::<M>::new(config).run(factory);
    conclude(&result.report);
}

/// Fails the test with the report if the run failed (the timing line goes first).
fn conclude(report: &Report) {
    if report.verdict == RunVerdict::Fail {
        eprintln!("{}", report.timing_line());
        fail_with(report.text());
    }
}

/// Ends the test with the report as the last thing it prints.
///
/// The report goes to stderr (which the test harness captures and shows for a failed test), and
/// the test unwinds without calling the panic hook: no "thread panicked at" line after the
/// report, and no backtrace through stateprop's own functions with `RUST_BACKTRACE=1`. The
/// panic's payload is still the report, for `#[should_panic(expected = ...)]` and `catch_unwind`.
fn fail_with(text: String) -> ! {
    let text = format!("\n{text}");
    eprintln!("{text}");
    std::panic::resume_unwind(Box::new(text))
}

/// Replays a program (a pasted regression test): panics with a report if it fails.
#[track_caller]
pub fn replay<M, S>(ops: &[M::Op])
where
    M: Model + Default + Send,
    M::Op: Send,
    S: System<M> + Default + 'static,
{
    replay_with::<M, S>(M::default(), S::default, ops)
}

/// [`replay`] from an initial model and a factory for the system.
#[track_caller]
pub fn replay_with<M, S>(initial: M, factory: impl Fn() -> S + Send + 'static, ops: &[M::Op])
where
    M: Model + Send,
    M::Op: Send,
    S: System<M> + 'static,
{
    let config = match Config::default().with_env() {
        Ok(c) => c,
        Err(e) => panic!("stateprop: bad environment: {e}"),
    };
    // Check the program is one the generator could have made before running the system.
    if let Err(invalid) = crate::generate::validate(&initial, ops) {
        panic!("stateprop: the replayed program is not valid: {invalid}");
    }
    let owned: Vec<M::Op> = ops.to_vec();
    let start = initial.clone();
    let verbose = config.verbose > 0;
    let outcome = run_watched(config.step_timeout, move |hb| {
        hb.begin(Activity::Program(
            owned.iter().map(|o| o.to_rust()).collect(),
        ));
        let executor = Sequential {
            initial: &start,
            factory: &factory,
        };
        let recording = Recording {
            history: false,
            trace: verbose,
            linearized: false,
        };
        let out = executor.execute(&Program::sequential(owned), recording, hb);
        (out.failure, out.trace)
    });
    let (failure, trace) = match outcome {
        Ok(r) => r,
        Err(hung) => (
            Some(hung.failure(&Program::sequential(ops.to_vec()), config.step_timeout)),
            Vec::new(),
        ),
    };
    if let Some(failure) = failure {
        fail_replay(
            &config,
            Program::sequential(ops.to_vec()),
            failure,
            trace,
            None,
            None,
        );
    }
}

/// Ends a replay (`replay`, `replay_concurrent`) that failed: the report, as a panic. A replay
/// has no seed, no statistics and nothing to save; `reproduced` is (failing runs, runs) when the
/// program ran more than once.
fn fail_replay<Op: StateMachine>(
    config: &Config,
    program: Program<Op>,
    failure: Failure,
    trace: Vec<String>,
    history: Option<Vec<crate::report::RecordedOp>>,
    reproduced: Option<(u32, u32)>,
) -> ! {
    let timeline = crate::report::timeline::build(&trace);
    fail_replay_drawn(
        config, program, failure, trace, timeline, history, reproduced,
    )
}

/// [`fail_replay`] with the failing run's timeline drawn by the caller (a simulated replay
/// draws it from a trace it does not print unless verbose).
fn fail_replay_drawn<Op: StateMachine>(
    config: &Config,
    program: Program<Op>,
    failure: Failure,
    trace: Vec<String>,
    timeline: crate::report::timeline::Timeline,
    history: Option<Vec<crate::report::RecordedOp>>,
    reproduced: Option<(u32, u32)>,
) -> ! {
    let reporting = Reporting {
        test: std::thread::current()
            .name()
            .unwrap_or("replay")
            .to_string(),
        seed: 0,
        replay_call: String::new(),
        rerun: String::new(),
        rerun_env: String::new(),
        regression_file: None,
        step_timeout: config.step_timeout,
        steps: config.steps,
        swarm: config.swarm,
        parallel: None,
        shard: None,
        schedule_seed: None,
    };
    let found = Found {
        program,
        failure,
        origin: Origin::Replay,
        stats: Stats::default(),
        shrink: ShrinkStats::default(),
        note: None,
        timeline,
        trace,
        reproduced,
        history,
    };
    fail_with(reporting.failed(&found).text())
}

/// Runs one program on the calling thread and says how it ended: `Ok(None)` passed,
/// `Ok(Some(failure))` failed, `Err` the program is not valid for the model (a step's
/// precondition fails or a `Var` names a missing result). No hang protection: for tools and
/// tests that drive programs themselves (fuzz targets, shrinker checks).
pub fn run_program<M, S>(
    initial: &M,
    factory: &dyn Fn() -> S,
    ops: &[M::Op],
) -> Result<Option<Failure>, String>
where
    M: Model,
    S: System<M>,
{
    crate::generate::validate(initial, ops).map_err(|invalid| invalid.to_string())?;
    let executor = Sequential { initial, factory };
    let program = Program::sequential(ops.to_vec());
    Ok(executor
        .execute(&program, Recording::default(), &Heartbeat::default())
        .failure)
}

/// The test's name: `Config::name`, else the test thread's name, else the source file's stem.
fn test_name(config: &Config, source: &str) -> String {
    if let Some(name) = &config.name {
        return name.clone();
    }
    match std::thread::current().name() {
        Some(name) if name != "main" => name.to_string(),
        _ => std::path::Path::new(source)
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "stateprop".to_string()),
    }
}

/// Where the JSON report goes: the path itself, or `<test>.json` inside it when it names a
/// directory.
fn report_file(path: &std::path::Path, test: &str) -> PathBuf {
    let is_dir = path.is_dir() || path.to_string_lossy().ends_with('/');
    if !is_dir {
        return path.to_path_buf();
    }
    let _ = std::fs::create_dir_all(path);
    let name: String = test
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    path.join(format!("{name}.json"))
}

/// `alloc::vec::Vec<my_crate::Foo>` → `Vec<Foo>`: the names as the user's code writes them.
pub(crate) fn short_type_name(full: &str) -> String {
    let mut out = String::with_capacity(full.len());
    let mut path_start = 0;
    let mut chars = full.chars().peekable();
    while let Some(c) = chars.next() {
        if c == ':' && chars.peek() == Some(&':') {
            chars.next();
            out.truncate(path_start);
        } else {
            out.push(c);
            if !(c.is_alphanumeric() || c == '_') {
                path_start = out.len();
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::short_type_name;

    #[test]
    fn type_names_lose_their_paths() {
        assert_eq!(short_type_name("quickstart::Kv"), "Kv");
        assert_eq!(short_type_name("alloc::vec::Vec<my::Foo>"), "Vec<Foo>");
        assert_eq!(short_type_name("a::B<c::D, (e::F, u8)>"), "B<D, (F, u8)>");
        assert_eq!(short_type_name("Plain"), "Plain");
    }
}
