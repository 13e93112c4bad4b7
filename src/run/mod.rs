//! Runners: generate cases, run them against the system, shrink and report the first failure.

pub(crate) mod exec;
mod outcome;
mod rerun;
pub(crate) mod watchdog;

use crate::config::{Config, MAX_STEPS};
use crate::failure::{Failure, FailureKind};
use crate::generate::rng::{case_seed, fresh_seed};
use crate::generate::ArgTree;
use crate::generate::{generate_program, CaseGenerator, GenError};
use crate::persist;
use crate::report::{Origin, Report, ShrinkStats, Stats, Verdict};
use crate::shrink::Shrinker;
use crate::spec::{Model, StateMachine, System};
use exec::{execute, Case};
use outcome::{Found, Reporting, Shared};
use std::panic::Location;
use std::path::PathBuf;
use std::time::Instant;
use watchdog::{run_watched, Activity, Heartbeat};

/// A finished run: the report, and the minimal failing program as typed operations.
#[derive(Debug)]
pub struct RunResult<Op> {
    /// The report (text with [`Report::text`], JSON with [`Report::json`]).
    pub report: Report,
    /// The minimal failing program; empty when the run passed.
    pub minimal: Vec<Op>,
}

impl<Op> RunResult<Op> {
    /// Whether the run found a failure.
    pub fn failed(&self) -> bool {
        self.report.verdict == Verdict::Fail
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
        }
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
        let config = match self.config.clone().with_env() {
            Ok(c) => c,
            Err(e) => panic!("stateprop: bad environment: {e}"),
        };
        let test = test_name(&config, source);
        let seed = config.seed.unwrap_or_else(fresh_seed);
        let replay_call = self.replay_call.unwrap_or_else(|| {
            let m = short_type_name(std::any::type_name::<M>());
            let s = short_type_name(std::any::type_name::<S>());
            format!(
                "stateprop::replay_with::<{m}, {s}>(\n        {m}::default(),\n        \
                 || -> {s} {{ todo!(\"build the system as the test does\") }},\n        "
            )
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
        };
        let progress = outcome::shared();
        let job = Run {
            config: config.clone(),
            initial: self.initial.clone(),
            reporting: reporting.clone(),
            progress: progress.clone(),
        };
        let outcome = run_watched(config.step_timeout, move |hb| job.work(&factory, hb));
        let result = match outcome {
            Ok(Ok(result)) => result,
            Ok(Err(message)) => panic!("stateprop: {message}"),
            Err(hung) => {
                let (report, minimal) =
                    outcome::hang_report(&reporting, &self.initial, &progress, hung);
                RunResult { report, minimal }
            }
        };
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
    if report.verdict == Verdict::Fail {
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
    if let Err(invalid) = crate::program::validate(&initial, ops) {
        panic!("stateprop: the replayed program is not valid: {invalid}");
    }
    let owned: Vec<M::Op> = ops.to_vec();
    let start = initial.clone();
    let verbose = config.verbose > 0;
    let outcome = run_watched(config.step_timeout, move |hb| {
        hb.begin(Activity::Program(
            owned.iter().map(|o| o.to_rust()).collect(),
        ));
        let out = execute(&start, &factory, &owned, hb, verbose);
        (out.failure, out.trace)
    });
    let (failure, trace) = match outcome {
        Ok(r) => r,
        Err(hung) => (
            Some(Failure {
                step: Some(hung.step),
                op: ops.get(hung.step).map(|o| o.to_rust()),
                kind: FailureKind::Hang {
                    timeout_ms: config.step_timeout.as_millis() as u64,
                },
            }),
            Vec::new(),
        ),
    };
    if let Some(failure) = failure {
        let report = Report {
            test: std::thread::current()
                .name()
                .unwrap_or("replay")
                .to_string(),
            verdict: Verdict::Fail,
            seed: 0,
            failure: Some(failure),
            minimal_rust: ops.iter().map(|o| o.to_rust()).collect(),
            minimal_json: ops.iter().map(|o| o.to_json()).collect(),
            origin: Some(Origin::Replay),
            stats: Stats::default(),
            shrink: ShrinkStats::default(),
            trace,
            saved_to: None,
            replay_call: String::new(),
            note: None,
            rerun: String::new(),
            rerun_env: String::new(),
        };
        fail_with(report.text());
    }
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
    crate::program::validate(initial, ops).map_err(|invalid| invalid.to_string())?;
    Ok(execute(initial, factory, ops, &Heartbeat::default(), false).failure)
}

/// Everything the worker thread needs.
struct Run<M: Model> {
    config: Config,
    initial: M,
    reporting: Reporting,
    progress: Shared<M::Op>,
}

/// A failing program before shrinking.
struct Candidate<Op> {
    ops: Vec<Op>,
    trees: Vec<Vec<Box<dyn ArgTree>>>,
    failure: Failure,
    origin: Origin,
}

impl<M: Model> Run<M> {
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
    fn shrink<S: System<M>>(
        &self,
        factory: &dyn Fn() -> S,
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
        });
        let publish = |ops: &[M::Op], failure: &Failure, shrink: &ShrinkStats| {
            if let Some(best) = &mut outcome::lock(&self.progress).best {
                best.ops = ops.to_vec();
                best.failure = failure.clone();
                best.shrink.runs = shrink.runs;
                best.shrink.skipped = shrink.skipped;
            }
        };
        // A candidate runs like any fixed program: announced to the watchdog, then executed.
        let property = |ops: &[M::Op]| {
            hb.begin(Activity::Program(ops.iter().map(|o| o.to_rust()).collect()));
            execute(&self.initial, factory, ops, hb, false).failure
        };
        let stop = || hb.abandoned();
        let shrinker = Shrinker::new(
            &self.initial,
            &property,
            &stop,
            self.config.max_shrink_time,
            self.config.max_shrink_runs,
        )
        .on_adopt(&publish);
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
        let (ops, failure, note, trace) =
            outcome::confirm(&self.initial, factory, hb, shrunk, verbose);
        Found {
            ops,
            failure,
            origin,
            stats: stats.clone(),
            shrink,
            note,
            trace,
        }
    }

    fn work<S: System<M>>(
        &self,
        factory: &dyn Fn() -> S,
        hb: &Heartbeat,
    ) -> Result<RunResult<M::Op>, String> {
        let mut stats = Stats {
            rules: M::Op::rules().iter().map(|r| (r.name, 0)).collect(),
            ..Stats::default()
        };
        let start = Instant::now();
        let mut best = match self.replay_saved(factory, hb, &mut stats)? {
            Some(candidate) => Some(self.shrink(factory, hb, candidate, &stats)),
            None => None,
        };
        if best.is_none() {
            // Search for up to `failures` failing cases; keep the shortest once shrunk.
            let mut case = 0;
            let mut total = ShrinkStats::default();
            for _ in 0..self.config.failures {
                let found = self.generate_cases(factory, hb, &mut stats, &mut case, start)?;
                let Some(found) = found else {
                    break;
                };
                case += 1;
                let candidate = self.shrink(factory, hb, found, &stats);
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
        let Some(mut found) = best else {
            return Ok(RunResult {
                report: self.reporting.report::<M::Op>(stats, None),
                minimal: Vec::new(),
            });
        };
        // The statistics cover the whole run, also the cases after the first failure.
        found.stats = stats;
        let mut report = self.reporting.report(Stats::default(), Some(&found));
        if !hb.abandoned() {
            self.reporting.save(&mut report);
        }
        Ok(RunResult {
            report,
            minimal: found.ops,
        })
    }

    /// Replays this test's saved programs; the first that still fails is the result.
    fn replay_saved<S: System<M>>(
        &self,
        factory: &dyn Fn() -> S,
        hb: &Heartbeat,
        stats: &mut Stats,
    ) -> Result<Option<Candidate<M::Op>>, String> {
        let Some(path) = &self.reporting.regression_file else {
            return Ok(None);
        };
        for entry in persist::load(path, &self.reporting.test)? {
            let location = format!("{}:{}", path.display(), entry.line);
            let ops: Result<Vec<M::Op>, String> =
                entry.steps.iter().map(M::Op::from_json).collect();
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
            hb.begin(Activity::Program(ops.iter().map(|o| o.to_rust()).collect()));
            let failure = execute(&self.initial, factory, &ops, hb, false).failure;
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
    fn generate_cases<S: System<M>>(
        &self,
        factory: &dyn Fn() -> S,
        hb: &Heartbeat,
        stats: &mut Stats,
        case: &mut u64,
        start: Instant,
    ) -> Result<Option<Candidate<M::Op>>, String> {
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
            let mut failure = None;
            let mut ran = 0;
            match Case::start(self.initial.clone(), factory, false) {
                Err(f) => failure = Some(f),
                Ok(mut exec) => {
                    let mut last = None;
                    for i in 0..plan.len {
                        let op = plan
                            .next_op(&exec.model, &exec.model_outputs, None)
                            .map_err(|e| self.gen_error(e, case_index, i))?;
                        stats.rules[op.rule_index()].1 += 1;
                        ran = i + 1;
                        let step = exec.step(i, &op, hb);
                        last = Some((i, op));
                        if let Err(f) = step {
                            failure = Some(f);
                            break;
                        }
                    }
                    let teardown = exec.finish(last.as_ref().map(|(i, op)| (*i, op)));
                    if failure.is_none() {
                        failure = teardown.err();
                    }
                }
            }
            stats.cases += 1;
            stats.steps += ran as u64;
            if let Some(failure) = failure {
                // Regenerate the failing case, this time keeping the argument value trees.
                let len = failure.step.map_or(0, |s| s + 1);
                let mut trees = Vec::new();
                let mut plan = self.plan(seed);
                let ops = generate_program(&self.initial, &mut plan, len, Some(&mut trees))
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
