//! Runners: generate cases, run them against the system, shrink and report the first failure.

pub(crate) mod exec;
pub(crate) mod panic;
pub(crate) mod watchdog;

use crate::config::Config;
use crate::failure::{Failure, FailureKind};
use crate::generate::{generate_program, CasePlan, GenError, ModelRun};
use crate::persist;
use crate::report::{Origin, Report, Stats, Verdict};
use crate::rng::{case_seed, fresh_seed};
use crate::shrink::{ShrinkStats, Shrinker};
use crate::spec::{ArgTree, Model, StateMachine, System};
use exec::{execute, Exec};
use std::panic::Location;
use std::path::PathBuf;
use std::time::Instant;
use watchdog::{run_watched, Activity, Heartbeat, Hung};

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
        let job = Job {
            config: config.clone(),
            initial: self.initial.clone(),
            test: test.clone(),
            seed,
            regression_file,
            replay_call: replay_call.clone(),
            rerun: rerun_command(source, &test),
            rerun_env,
        };
        let rerun = job.rerun.clone();
        let outcome = run_watched(config.step_timeout, move |hb| job.work(&factory, hb));
        let result = match outcome {
            Ok(Ok(result)) => result,
            Ok(Err(message)) => panic!("stateprop: {message}"),
            Err(hung) => {
                let mut r = hang_result(&config, &self.initial, &test, seed, &replay_call, hung);
                r.report.rerun = rerun;
                r
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

/// Panics with the report if the run failed (the timing line goes to stderr first).
#[track_caller]
fn conclude(report: &Report) {
    if report.verdict == Verdict::Fail {
        eprintln!("{}", report.timing_line());
        panic!("\n{}", report.text());
    }
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
    let mut model = ModelRun::new(initial.clone());
    for (i, op) in ops.iter().enumerate() {
        if !model.admits(op) {
            panic!(
                "stateprop: the replayed program is not valid: step {i}, {}, is not enabled in \
                 model state {:?} (its precondition fails or a `Var` names a missing result)",
                op.to_rust(),
                model.model
            );
        }
        if let Err(e) = model.apply(op) {
            panic!("stateprop: the model panicked at step {i} of the replayed program: {e}");
        }
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
        panic!("\n{}", report.text());
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
    let mut model = ModelRun::new(initial.clone());
    for (i, op) in ops.iter().enumerate() {
        if !model.admits(op) || model.apply(op).is_err() {
            return Err(format!("step {i}, {}, is not enabled here", op.to_rust()));
        }
    }
    Ok(execute(initial, factory, ops, &Heartbeat::default(), false).failure)
}

/// Everything the worker thread needs.
struct Job<M: Model> {
    config: Config,
    initial: M,
    test: String,
    seed: u64,
    regression_file: Option<PathBuf>,
    replay_call: String,
    rerun: String,
    /// ` STATEPROP_STEPS=...` etc. where the environment changed generation settings.
    rerun_env: String,
}

/// A failing program before shrinking.
struct Found<Op> {
    ops: Vec<Op>,
    trees: Vec<Vec<Box<dyn ArgTree>>>,
    failure: Failure,
    origin: Origin,
}

impl<M: Model> Job<M> {
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
}

impl<M: Model> Job<M> {
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
        let shrink_one = |found: Found<M::Op>| {
            let shrinker = Shrinker::new(
                &self.initial,
                factory,
                hb,
                self.config.max_shrink_time,
                self.config.max_shrink_runs,
            );
            let origin = found.origin.clone();
            let len = found.ops.len();
            let regenerate = || self.fresh_trees(&origin, len);
            let (ops, failure, shrink) =
                shrinker.shrink(found.ops, found.trees, Some(&regenerate), found.failure);
            (ops, failure, origin, shrink)
        };
        let mut best = self.replay_saved(factory, hb, &mut stats)?.map(shrink_one);
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
                let candidate = shrink_one(found);
                total.runs += candidate.3.runs;
                total.skipped += candidate.3.skipped;
                total.time += candidate.3.time;
                total.budget_exhausted |= candidate.3.budget_exhausted;
                total.failures += 1;
                if best
                    .as_ref()
                    .is_none_or(|b| crate::shrink::simpler(&candidate.0, &b.0))
                {
                    best = Some(candidate);
                }
            }
            if let Some(b) = &mut best {
                total.steps_before = b.3.steps_before;
                total.steps_after = b.3.steps_after;
                b.3 = total;
            }
        }
        stats.time = start
            .elapsed()
            .saturating_sub(best.as_ref().map_or(Default::default(), |b| b.3.time));
        let Some((ops, failure, origin, shrink)) = best else {
            return Ok(RunResult {
                report: self.report(Verdict::Pass, stats, None, &[], ShrinkStats::default()),
                minimal: Vec::new(),
            });
        };
        let mut report = self.report(Verdict::Fail, stats, Some((failure, origin)), &ops, shrink);
        if self.config.verbose > 0 {
            hb.begin(Activity::Program(report.minimal_rust.clone()));
            report.trace = execute(&self.initial, factory, &ops, hb, true).trace;
        }
        if let (Some(path), false) = (
            &self.regression_file,
            matches!(report.origin, Some(Origin::Saved { .. })),
        ) {
            match persist::save(path, &self.test, self.seed, &report.minimal_json) {
                Ok(_) => report.saved_to = Some(path.display().to_string()),
                Err(e) => eprintln!("stateprop: could not save the case: {e}"),
            }
        }
        Ok(RunResult {
            report,
            minimal: ops,
        })
    }

    /// Replays this test's saved programs; the first that still fails is the result.
    fn replay_saved<S: System<M>>(
        &self,
        factory: &dyn Fn() -> S,
        hb: &Heartbeat,
        stats: &mut Stats,
    ) -> Result<Option<Found<M::Op>>, String> {
        let Some(path) = &self.regression_file else {
            return Ok(None);
        };
        for entry in persist::load(path, &self.test)? {
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
            let mut model = ModelRun::new(self.initial.clone());
            if let Some(bad) = ops.iter().position(|op| {
                let ok = model.admits(op) && model.apply(op).is_ok();
                !ok
            }) {
                eprintln!(
                    "stateprop: {location}: skipped a saved case: step {bad} is no longer enabled \
                     (the preconditions changed)"
                );
                continue;
            }
            stats.replayed += 1;
            hb.begin(Activity::Program(ops.iter().map(|o| o.to_rust()).collect()));
            if let Some(failure) = execute(&self.initial, factory, &ops, hb, false).failure {
                return Ok(Some(Found {
                    ops,
                    trees: Vec::new(),
                    failure,
                    origin: Origin::Saved { location },
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
    ) -> Result<Option<Found<M::Op>>, String> {
        loop {
            let case_index = *case;
            let more = match self.config.duration {
                Some(d) => start.elapsed() < d,
                None => case_index < self.config.cases,
            };
            if !more {
                return Ok(None);
            }
            let seed = case_seed(self.seed, case_index);
            hb.begin(Activity::Case { seed });
            let mut plan = self.plan(seed);
            let mut failure = None;
            let mut ran = 0;
            match Exec::start(self.initial.clone(), factory, false) {
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
                return Ok(Some(Found {
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

    fn plan(&self, case_seed: u64) -> CasePlan {
        CasePlan::new::<M::Op>(case_seed, self.config.steps, self.config.swarm)
    }

    fn gen_error(&self, e: GenError, case: u64, step: usize) -> String {
        format!(
            "{}\n(test `{}`, case {case}, step {step}, seed {})",
            e.message(),
            self.test,
            self.seed
        )
    }

    fn report(
        &self,
        verdict: Verdict,
        stats: Stats,
        failure: Option<(Failure, Origin)>,
        ops: &[M::Op],
        shrink: ShrinkStats,
    ) -> Report {
        let (failure, origin) = match failure {
            Some((f, o)) => (Some(f), Some(o)),
            None => (None, None),
        };
        Report {
            test: self.test.clone(),
            verdict,
            seed: self.seed,
            failure,
            minimal_rust: ops.iter().map(|o| o.to_rust()).collect(),
            minimal_json: ops.iter().map(|o| o.to_json()).collect(),
            origin,
            stats,
            shrink,
            trace: Vec::new(),
            saved_to: None,
            replay_call: self.replay_call.clone(),
            note: None,
            rerun: self.rerun.clone(),
            rerun_env: self.rerun_env.clone(),
        }
    }
}

/// The report of a hang: the program up to the step that never returned, unshrunk.
fn hang_result<M: Model>(
    config: &Config,
    initial: &M,
    test: &str,
    seed: u64,
    replay_call: &str,
    hung: Hung,
) -> RunResult<M::Op> {
    let ops: Vec<M::Op> = match &hung.activity {
        Activity::Case { seed } => {
            let mut plan = CasePlan::new::<M::Op>(*seed, config.steps, config.swarm);
            generate_program(initial, &mut plan, hung.step + 1, None).unwrap_or_default()
        }
        _ => Vec::new(),
    };
    let rust: Vec<String> = match &hung.activity {
        Activity::Program(lines) => lines.iter().take(hung.step + 1).cloned().collect(),
        _ => ops.iter().map(|o| o.to_rust()).collect(),
    };
    let report = Report {
        test: test.to_string(),
        verdict: Verdict::Fail,
        seed,
        failure: Some(Failure {
            step: Some(hung.step),
            op: rust.get(hung.step).cloned(),
            kind: FailureKind::Hang {
                timeout_ms: config.step_timeout.as_millis() as u64,
            },
        }),
        minimal_json: ops.iter().map(|o| o.to_json()).collect(),
        minimal_rust: rust,
        origin: None,
        stats: Stats::default(),
        shrink: ShrinkStats::default(),
        trace: Vec::new(),
        saved_to: None,
        replay_call: replay_call.to_string(),
        note: Some(
            "a hung step cannot be interrupted, so this program was not shrunk; \
             its thread is left running"
                .to_string(),
        ),
        rerun: String::new(),
        rerun_env: String::new(),
    };
    RunResult {
        report,
        minimal: ops,
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

/// The command that reruns this test: `cargo run --example x` or `cargo test name`.
fn rerun_command(source: &str, test: &str) -> String {
    let path = std::path::Path::new(source);
    let in_examples = path.components().any(|c| c.as_os_str() == "examples");
    match (in_examples, path.file_stem()) {
        (true, Some(stem)) => format!("cargo run --example {}", stem.to_string_lossy()),
        _ => format!("cargo test {}", test.rsplit("::").next().unwrap_or(test)),
    }
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
