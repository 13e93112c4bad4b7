//! The streaming sequential stress run: operations drawn one at a time from the plan's seed,
//! each judged by the sequential executor's step judge as it runs, nothing kept but a window of
//! the latest operations and the running measurements.

use super::bisect;
use super::measure::{resident_bytes, CallClock, GrowthFit, Latencies, Throttle};
use super::plan::{PlanError, StressPlan};
use super::progress::{Progress, ProgressMode};
use super::result::{bytes, GrowthSource, StressFailure, StressResult, StressVerdict};
use super::stream::{End, Phase, Stage, Stream};
use crate::config::Config;
use crate::exec::watchdog::{run_watched, Heartbeat};
use crate::failure::FailureKind;
use crate::spec::{Model, StateMachine, System};
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A user's measure of the memory a system holds, in bytes.
type Gauge<S> = Box<dyn Fn(&S) -> u64 + Send>;

/// A stress run: a plan, the model it starts from, an optional memory gauge and how it shows
/// its progress.
pub struct Stress<M: Model, S> {
    pub(super) plan: StressPlan,
    pub(super) initial: M,
    pub(super) gauge: Option<Gauge<S>>,
    pub(super) quiet: bool,
    /// Set by the builder; `None` leaves it to the plan.
    pub(super) progress: Option<ProgressMode>,
    /// Whether `STATEPROP_SEED`, `STATEPROP_STRESS_RESULT` and the shrinker's variables apply.
    pub(super) env: bool,
    /// Whether the model starts from `M::default()` ([`Stress::new`]): otherwise a pasted test
    /// cannot write the initial model as code, and must say so.
    pub(super) default_initial: bool,
}

// No bound on the system here: the same builder makes a sequential run (a `System`) and a
// concurrent one (a `ClientSystem`).
impl<M: Model + Default, S> Stress<M, S> {
    /// A run of `plan` whose model starts from `M::default()`.
    pub fn new(plan: StressPlan) -> Self {
        Stress {
            default_initial: true,
            ..Stress::with_initial(plan, M::default())
        }
    }
}

impl<M: Model, S> Stress<M, S> {
    /// A run of `plan` whose model starts from `initial`.
    pub fn with_initial(plan: StressPlan, initial: M) -> Self {
        Stress {
            plan,
            initial,
            gauge: None,
            quiet: false,
            progress: None,
            env: true,
            default_initial: false,
        }
    }

    /// Measures memory with `gauge` (bytes the system holds) instead of the process's RSS:
    /// deterministic, and blind to the harness and the allocator.
    pub fn gauge(mut self, gauge: impl Fn(&S) -> u64 + Send + 'static) -> Self {
        self.gauge = Some(Box::new(gauge));
        self
    }

    /// Prints nothing and shows no progress (the result's [`text`](StressResult::text) still
    /// tells everything).
    pub fn quiet(mut self) -> Self {
        self.quiet = true;
        self.progress = Some(ProgressMode::Quiet);
        self
    }

    /// Ignores the `STATEPROP_*` variables (the seed, the result's path, the shrinker's
    /// budget): a test that pins its plan asserts what that plan gives, whatever a user
    /// exported for the rest of the suite.
    pub fn ignore_env(mut self) -> Self {
        self.env = false;
        self
    }

    /// The configuration a failure is shrunk with: nothing saved (the stream's seed reproduces
    /// it, and a regression file next to the test would replay a stress failure in every
    /// ordinary run), and the environment only if the run takes it.
    pub(super) fn shrink_config(&self) -> Config {
        // Replays are bounded as the run's calls were: a system that hangs in one must not
        // leave the run stuck after it found a failure.
        let mut config = Config::default()
            .persist(false)
            .step_timeout(Duration::from_millis(self.plan.step_timeout_ms));
        // Quiet is the result's text only: no shrinking progress either.
        config.quiet = self.silent();
        if self.env {
            config
        } else {
            config.ignore_env()
        }
    }

    /// Shows the run's progress as `mode` says, whatever the plan's `progress` says
    /// ([`ProgressMode::Auto`] when neither does: a bar on a terminal, lines otherwise). Only
    /// the measured run shows it, not the replays of a failure.
    pub fn progress(mut self, mode: ProgressMode) -> Self {
        self.progress = Some(mode);
        self
    }

    /// The builder's mode, else the plan's, else [`ProgressMode::Auto`].
    pub(super) fn progress_mode(&self) -> ProgressMode {
        self.progress.or(self.plan.progress).unwrap_or_default()
    }

    /// How the pasted test calls `function` (`replay_with`, `replay_concurrent_with`), up to
    /// its operations, when the model did not start from `M::default()`: the run's initial
    /// model is a value, not code, so the paste shows it (its `Debug`, cut short) in a `todo!`
    /// to be written as the test builds it, rather than replay from the wrong state. `None`
    /// leaves the runner's default call.
    pub(super) fn replay_call(&self, function: &str) -> Option<String> {
        if self.default_initial {
            return None;
        }
        let m = crate::run::short_type_name(std::any::type_name::<M>());
        let s = crate::run::short_type_name(std::any::type_name::<S>());
        let mut shown = format!("{:?}", self.initial);
        if shown.chars().count() > 120 {
            shown = shown.chars().take(120).collect::<String>() + "...";
        }
        // A `todo!` message is a format string: its braces are doubled.
        let message = format!(
            "the initial model given to `Stress::with_initial`: {}",
            shown.replace('{', "{{").replace('}', "}}")
        );
        Some(format!(
            "stateprop::{function}::<{m}, {s}>(\n        todo!({message:?}),\n        \
             || -> {s} {{ todo!(\"build the system as the test does\") }},\n        "
        ))
    }

    /// Whether the run prints nothing but its result (and that only when not [`quiet`]):
    /// no progress, no early headline, no shrinking progress.
    ///
    /// [`quiet`]: Stress::quiet
    pub(super) fn silent(&self) -> bool {
        self.quiet || self.progress_mode() == ProgressMode::Quiet
    }

    /// The seed: `STATEPROP_SEED`, else the plan's, else a fresh one; a seed given on the
    /// command line wins over the variable.
    pub(super) fn seed(&self) -> u64 {
        let env = (self.env && !self.plan.pinned.seed)
            .then(|| Config::default().with_env().ok().and_then(|c| c.seed))
            .flatten();
        env.or(self.plan.seed)
            .unwrap_or_else(crate::generate::rng::fresh_seed)
    }

    /// Writes the result where `STATEPROP_STRESS_RESULT` or the plan says; one that cannot be
    /// written is kept in it and fails the run (its text says why).
    pub(super) fn record(&self, result: &mut StressResult) {
        result.unwritten = self.write_error(result);
    }

    /// Writes the result where `STATEPROP_STRESS_RESULT` or the plan says: the file and the
    /// problem, if it could not.
    fn write_error(&self, result: &StressResult) -> Option<String> {
        let env = (self.env && !self.plan.pinned.result)
            .then(|| std::env::var_os("STATEPROP_STRESS_RESULT").map(Into::into))
            .flatten();
        let path: std::path::PathBuf = env.or_else(|| self.plan.result_path.clone())?;
        result.write(&path).err().map(|e| e.to_string())
    }
}

impl<M: Model, S: System<M>> Stress<M, S> {
    /// Runs the plan with systems from `factory` (one for the run; more to replay a failure and
    /// shrink it). `Err` is a plan that cannot run on this machine (a mix naming no rule).
    #[track_caller]
    pub fn run<F>(mut self, factory: F) -> Result<StressResult, PlanError>
    where
        F: Fn() -> S + Clone + Send + 'static,
        S: 'static,
        M: Send,
        M::Op: Send,
    {
        let weights = self.plan.weights::<M::Op>()?;
        if self.plan.threads != 1 {
            return Err(self.plan.error(
                "threads",
                format!(
                    "`threads` is {}: a sequential `System` runs on one thread; run a \
                     `ClientSystem` (or `ConcurrentSystem`) with `Stress::run_concurrent`",
                    self.plan.threads
                ),
            ));
        }
        let seed = self.seed();
        let plan = &self.plan;
        let names: Vec<&'static str> = M::Op::rules().iter().map(|r| r.name).collect();
        let duration = plan.duration_secs.map(Duration::from_secs_f64);
        let rss = self.gauge.is_none() && resident_bytes().is_some();
        let source = match (&self.gauge, rss) {
            (Some(_), _) => GrowthSource::Gauge,
            (None, true) => GrowthSource::Rss,
            (None, false) => GrowthSource::Unavailable,
        };
        if !self.quiet {
            eprintln!(
                "stateprop: stress run: {}, seed {seed}",
                match (plan.op_budget(), duration) {
                    (Some(n), _) => format!("{} operations", super::progress::grouped(n)),
                    (None, Some(d)) => format!("{:.1} s", d.as_secs_f64()),
                    (None, None) => unreachable!("a plan without a budget has a default"),
                }
            );
        }
        // The ring of the latest operations is shared with this thread, so a call that never
        // returns can still be reported with the operations before it. It holds one more than
        // the window: the operation in flight.
        let window: Arc<Ring<M::Op>> =
            Arc::new(Mutex::new(VecDeque::with_capacity(plan.window + 2)));
        // What the worker measured so far, and which of the system's code it is in: a call
        // that never returns takes the worker's own figures with it, and may not be a step.
        let sofar = Arc::new(Mutex::new(Sofar {
            latencies: Some(Latencies::new(names.len())),
            ..Sofar::default()
        }));
        let phase = Arc::new(Phase::default());
        let timeout = Duration::from_millis(plan.step_timeout_ms);
        let began = Instant::now();
        let measured = {
            let (plan, initial, factory) = (plan.clone(), self.initial.clone(), factory.clone());
            let (weights, gauge, mode) = (weights.clone(), self.gauge.take(), self.progress_mode());
            let ring = Arc::clone(&window);
            let (published, stage) = (Arc::clone(&sofar), Arc::clone(&phase));
            let rules = names.len();
            // The caller's `tracing` subscriber (a test's, set for its thread only) must see the
            // worker's progress lines and step traces too.
            let dispatch = tracing::dispatcher::get_default(|d| d.clone());
            run_watched(timeout, move |hb| {
                tracing::dispatcher::with_default(&dispatch, || {
                    let watched = Watched {
                        hb,
                        ring: &ring,
                        sofar: &published,
                        phase: &stage,
                    };
                    measure(
                        &plan, &initial, &factory, seed, &weights, gauge, mode, rss, rules, watched,
                    )
                })
            })
        };
        let mut window = std::mem::take(&mut *window.lock().unwrap_or_else(|e| e.into_inner()));
        let (end, latencies, fit, elapsed, gauge_panic) = match measured {
            Ok(measured) => measured,
            Err(hung) => {
                let mut result = StressResult::new(self.plan.clone(), seed);
                let at = hung.step as u64;
                // The time is the caller's, the wait for the stuck call included.
                let elapsed = began.elapsed().as_secs_f64();
                result.operations = at;
                result.elapsed_secs = elapsed;
                result.throughput = at as f64 / elapsed.max(1e-9);
                // The figures the worker published before the stuck call; its own die with it.
                let sofar = std::mem::take(&mut *sofar.lock().unwrap_or_else(|e| e.into_inner()));
                if let Some(latencies) = &sofar.latencies {
                    (result.latencies, result.overall) = latencies.summary(&names);
                }
                if sofar.ops > 0 {
                    result.throughput = sofar.ops as f64 / sofar.elapsed.as_secs_f64().max(1e-9);
                }
                result.growth = sofar.fit.result(source);
                result.pace = sofar.fit.pace.result();
                result.verdict = StressVerdict::Mismatch;
                let timeout_ms = plan.step_timeout_ms;
                let abandoned = "its thread was abandoned";
                let (operation, cause, failed) = match phase.get() {
                    Stage::Steps if hung.invariant => {
                        // The operation ran and matched; it is the ring's last.
                        let op = match window.back() {
                            Some((i, _)) if *i == at => {
                                window.pop_back().map(|(_, op)| op.to_rust())
                            }
                            _ => None,
                        };
                        let cause = format!(
                            "hang: the invariant did not return within {timeout_ms} ms \
                             (`step_timeout_ms`), after operation {at}{}; {abandoned}",
                            op.as_ref().map(|op| format!(" ({op})")).unwrap_or_default(),
                        );
                        let what = "the invariant after it did not return";
                        (at, cause, op.map(|op| (at, op, what)))
                    }
                    Stage::Steps => {
                        let op = match window.back() {
                            Some((i, _)) if *i == at => {
                                window.pop_back().map(|(_, op)| op.to_rust())
                            }
                            _ => None,
                        };
                        let cause = format!(
                            "hang: the system's call for operation {at}{} did not return \
                             within {timeout_ms} ms (`step_timeout_ms`); {abandoned}",
                            op.as_ref().map(|op| format!(" ({op})")).unwrap_or_default(),
                        );
                        (at, cause, op.map(|op| (at, op, "did not return")))
                    }
                    Stage::Factory => (
                        0,
                        format!(
                            "hang: the factory did not return within {timeout_ms} ms \
                             (`step_timeout_ms`): no operation ran; {abandoned}"
                        ),
                        None,
                    ),
                    stage => {
                        let what = match stage {
                            Stage::Gauge => "the memory gauge",
                            _ => "the system's teardown",
                        };
                        let cause = format!(
                            "hang: {what} did not return within {timeout_ms} ms \
                             (`step_timeout_ms`), after operation {}; {abandoned}",
                            at.saturating_sub(1)
                        );
                        (at.saturating_sub(1), cause, None)
                    }
                };
                result.failure = Some(StressFailure {
                    operation,
                    cause,
                    window: window_lines(window, plan.window, failed),
                    prefix: None,
                    tail: None,
                    report: None,
                    minimal: Vec::new(),
                    round: None,
                    thread: None,
                });
                self.record(&mut result);
                if !self.quiet {
                    eprint!("{}", result.text());
                }
                return Ok(result);
            }
        };
        let stream = Stream {
            initial: &self.initial,
            factory: &factory,
            seed,
            weights: &weights,
            var_window: plan.var_window,
        };
        let operations = match &end {
            End::Completed(n) => *n,
            End::Failed { at, .. } | End::Gen { at, .. } => at + 1,
        };
        let (latencies, overall) = latencies.summary(&names);
        let mut result = StressResult::new(self.plan.clone(), seed);
        result.operations = operations;
        result.elapsed_secs = elapsed.as_secs_f64();
        result.throughput = operations as f64 / elapsed.as_secs_f64().max(1e-9);
        result.latencies = latencies;
        result.overall = overall;
        result.growth = fit.result(source);
        result.pace = fit.pace.result();
        match end {
            End::Completed(n) if gauge_panic.is_some() => {
                // Not a step's failure: nothing to bisect (a replay does not gauge).
                let last = n.saturating_sub(1);
                result.verdict = StressVerdict::Mismatch;
                result.failure = Some(StressFailure {
                    operation: last,
                    cause: format!(
                        "gauge: the memory gauge panicked after operation {last}: {}",
                        gauge_panic.unwrap_or_default()
                    ),
                    window: window_lines(window, plan.window, None),
                    prefix: None,
                    tail: None,
                    report: None,
                    minimal: Vec::new(),
                    round: None,
                    thread: None,
                });
            }
            End::Completed(_) => {
                result.broken_limits = broken_limits(&result);
                if !result.broken_limits.is_empty() {
                    result.verdict = StressVerdict::LimitBroken;
                }
            }
            End::Gen { at, error } => {
                return Err(PlanError {
                    path: None,
                    line: None,
                    message: format!(
                        "no operation could be generated at operation {at} of the stream: {}\n\
                         stateprop: (the plan's op mix leaves out the rules whose weight it does not \
                         give; a rule with a `Var` field runs only when one of the latest \
                         `var_window` steps returned a value for it, and never with \
                         `#[consumes]` fields in the machine)",
                        error.message()
                    ),
                })
            }
            End::Failed { at, failure, .. } => {
                result.verdict = StressVerdict::Mismatch;
                if window.back().is_some_and(|(i, _)| *i == at) {
                    window.pop_back();
                }
                let failed = failure.op.clone().map(|op| (at, op, "failed here"));
                let window = window_lines(window, plan.window, failed);
                let cause = match (&failure.step, &failure.kind) {
                    (None, FailureKind::Panic { message }) => {
                        format!("the factory panicked: {message}")
                    }
                    _ => failure.cause(at as usize + 1),
                };
                if failure.step.is_none() {
                    // The factory failed: no operation ran, and there is nothing to bisect.
                    result.operations = 0;
                }
                let mut found = StressFailure {
                    operation: at,
                    cause,
                    window,
                    prefix: None,
                    tail: None,
                    report: None,
                    minimal: Vec::new(),
                    round: None,
                    thread: None,
                };
                if failure.step.is_some() {
                    if !self.silent() {
                        // Said now, in case the replays that follow take long or go wrong.
                        eprintln!(
                            "stateprop: mismatch at operation {at} of the stream: {}; looking \
                             for the shortest failing prefix on fresh systems",
                            found.cause
                        );
                    }
                    bisect::investigate(
                        &stream,
                        factory.clone(),
                        self.replay_call("replay_with"),
                        plan.shrink_bound,
                        self.shrink_config(),
                        &mut found,
                    );
                }
                result.failure = Some(found);
            }
        }
        self.record(&mut result);
        if !self.quiet {
            eprint!("{}", result.text());
        }
        Ok(result)
    }
}

/// The latest operations with their indices, shared with the watchdog's caller.
type Ring<Op> = Mutex<VecDeque<(u64, Op)>>;

/// What the measured run leaves: how it ended, the latencies, the memory samples, how long, and
/// the message of a gauge that panicked (which ended it).
type Measured<M> = (End<M>, Latencies, GrowthFit, Duration, Option<String>);

/// The figures the measured run has published so far, for a report of a hang: the worker
/// moves its latencies here and copies its fit every [`PUBLISH_EVERY`] operations or
/// [`PUBLISH_AFTER`], whichever comes first (checked every 1,024 operations, off the per-call
/// path).
#[derive(Default)]
struct Sofar {
    /// `None` only once taken.
    latencies: Option<Latencies>,
    fit: GrowthFit,
    /// Operations done, and the time they took, when last published.
    ops: u64,
    elapsed: Duration,
}

const PUBLISH_EVERY: u64 = 1 << 16;
const PUBLISH_AFTER: Duration = Duration::from_millis(100);

/// What the measured run shares with the watchdog's caller.
struct Watched<'a, Op> {
    hb: &'a Heartbeat,
    /// The latest operations (and the one in flight).
    ring: &'a Ring<Op>,
    sofar: &'a Mutex<Sofar>,
    /// Whether the worker is in the system's calls, its factory, gauge or teardown.
    phase: &'a Phase,
}

/// The measured run, on the watchdog's worker thread: the stream driven once on a fresh system,
/// its progress shared in `watched`.
#[allow(clippy::too_many_arguments)]
fn measure<M: Model, S: System<M>>(
    plan: &StressPlan,
    initial: &M,
    factory: &dyn Fn() -> S,
    seed: u64,
    weights: &[u32],
    gauge: Option<Gauge<S>>,
    mode: ProgressMode,
    rss: bool,
    rules: usize,
    watched: Watched<'_, M::Op>,
) -> Measured<M> {
    let Watched {
        hb,
        ring,
        sofar,
        phase,
    } = watched;
    let stream = Stream {
        initial,
        factory,
        seed,
        weights,
        var_window: plan.var_window,
    };
    let mut latencies = Latencies::new(rules);
    let mut fit = GrowthFit::default();
    let throttle = plan.rate.map(Throttle::new);
    let duration = plan.duration_secs.map(Duration::from_secs_f64);
    let sample = |sys: &S| match &gauge {
        // The gauge is the user's code: its panic fails the run, quietly, like the system's.
        Some(g) => Some(phase.watch(hb, Stage::Gauge, || crate::catch::catch(|| g(sys)))),
        None if rss => resident_bytes().map(Ok),
        None => None,
    };
    let mut gauge_panic = None;
    let keep = plan.window + 1;
    let mut progress = Progress::new(plan.op_budget(), duration, mode);
    let mut clock = CallClock::new(plan.latency_every);
    let start = Instant::now();
    let mut published = start;
    let end = stream.drive_watched(
        hb,
        phase,
        plan.op_budget(),
        &mut clock,
        |i, op| {
            let mut ring = ring.lock().unwrap_or_else(|e| e.into_inner());
            if ring.len() == keep {
                ring.pop_front();
            }
            ring.push_back((i, op.clone()));
        },
        |i, op, clock, case| {
            if let Some(ns) = clock.ns {
                latencies.record(op.rule_index(), ns);
            }
            let done = i + 1;
            progress.tick(done);
            if done >= plan.warmup && (done - plan.warmup).is_multiple_of(plan.sample_every) {
                fit.pace.add(done, start.elapsed());
                match sample(case.system()) {
                    Some(Ok(b)) => fit.add(done, b),
                    Some(Err(message)) => {
                        gauge_panic = Some(message);
                        return false;
                    }
                    None => {}
                }
            }
            if let Some(t) = &throttle {
                t.pace(start, done);
            }
            // A call the watchdog gave up on may return after all: the run is over then.
            // Reading the clock every operation would cost more than some systems' calls.
            let mut out_of_time = false;
            if done.is_multiple_of(1024) {
                let now = Instant::now();
                if done.is_multiple_of(PUBLISH_EVERY) || now - published >= PUBLISH_AFTER {
                    publish(sofar, &mut latencies, &fit, done, now - start);
                    published = now;
                }
                out_of_time = duration.is_some_and(|d| now - start >= d);
            }
            !(hb.abandoned() || out_of_time)
        },
    );
    let elapsed = start.elapsed();
    // The failing operation ran too: the last line counts it, as the result does.
    if let End::Failed { at, .. } | End::Gen { at, .. } = &end {
        progress.tick(at + 1);
    }
    progress.finish();
    // The run's latencies are those published and those recorded since.
    let mut all = sofar.lock().unwrap_or_else(|e| e.into_inner());
    let mut total = all
        .latencies
        .take()
        .unwrap_or_else(|| Latencies::new(rules));
    total.merge(&latencies);
    (end, total, fit, elapsed, gauge_panic)
}

/// Moves the latencies recorded since the last time into `sofar`, with a copy of the fit and
/// the operations done in `elapsed`.
#[cold]
fn publish(
    sofar: &Mutex<Sofar>,
    latencies: &mut Latencies,
    fit: &GrowthFit,
    ops: u64,
    elapsed: Duration,
) {
    let mut sofar = sofar.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(published) = &mut sofar.latencies {
        latencies.move_into(published);
    }
    sofar.fit = fit.clone();
    sofar.ops = ops;
    sofar.elapsed = elapsed;
}

/// A failure's window as the report prints it: the latest `keep` operations of `ring`, then
/// the failing one (index, Rust text, what happened to it), marked.
fn window_lines<Op: StateMachine>(
    ring: VecDeque<(u64, Op)>,
    keep: usize,
    failed: Option<(u64, String, &str)>,
) -> Vec<String> {
    let skip = ring.len().saturating_sub(keep);
    ring.iter()
        .skip(skip)
        .map(|(i, op)| format!("{i}: {}", op.to_rust()))
        .chain(failed.map(|(at, op, what)| format!("{at}: {op}  <- {what}")))
        .collect()
}

/// The plan's limits that the finished run broke, as the sentences a user reads.
pub(super) fn broken_limits(r: &StressResult) -> Vec<String> {
    use super::result::{micros, per_second};
    let limits = &r.plan.limits;
    let mut broken = Vec::new();
    if let Some(min) = limits.min_throughput {
        if r.throughput < min {
            broken.push(format!(
                "stateprop: throughput was {} operations per second (limit: at least {})",
                per_second(r.throughput),
                per_second(min)
            ));
        }
    }
    if let (Some(max), Some(all)) = (limits.max_p99_us, &r.overall) {
        if all.p99_us > max {
            broken.push(format!(
                "stateprop: p99 latency was {} us over all operations (limit {} us)",
                micros(all.p99_us),
                micros(max)
            ));
        }
    }
    for (rule, max) in &limits.max_p99_us_by_rule {
        if let Some(l) = r.latencies.iter().find(|l| &l.rule == rule) {
            if l.p99_us > *max {
                broken.push(format!(
                    "stateprop: p99 latency of `{rule}` was {} us (limit {} us)",
                    micros(l.p99_us),
                    micros(*max)
                ));
            }
        }
    }
    if let Some(max) = limits.max_slowdown {
        match &r.pace {
            Some(p) if p.slowdown > max => broken.push(format!(
                "stateprop: operations slowed {:.1}x from warm-up to the end of the run ({} \
                 per operation, then {}; limit {max}x): a cost that grows with the run, such \
                 as work proportional to the state's size",
                p.slowdown,
                super::compare::nanos(p.early_ns_per_op),
                super::compare::nanos(p.late_ns_per_op),
            )),
            Some(_) => {}
            None => broken.push(format!(
                "stateprop: the slowdown could not be measured (fewer than {} intervals \
                 between samples after warm-up): the plan limits it, so run longer or sample \
                 more often (`sample_every`)",
                super::pace::MIN_INTERVALS
            )),
        }
    }
    if let Some(max) = limits.max_growth_per_million {
        match r.growth.bytes_per_million {
            Some(g) if g > max => broken.push(format!(
                "stateprop: memory grew {} per million operations after warm-up (limit {}): \
                 state accumulates across iterations",
                bytes(g),
                bytes(max)
            )),
            Some(_) => {}
            // A limit that could not be checked must not read as met.
            None => broken.push(format!(
                "stateprop: memory growth could not be measured ({}; {} samples after \
                 warm-up): the plan limits it, so run longer, sample more often \
                 (`sample_every`) or give a gauge",
                r.growth.source, r.growth.samples
            )),
        }
    }
    broken
}

/// Runs `plan` with systems from `factory`, the model starting from `M::default()`. `Err` is a
/// plan that cannot run here.
#[track_caller]
pub fn run<M, S, F>(plan: StressPlan, factory: F) -> Result<StressResult, PlanError>
where
    M: Model + Default + Send,
    M::Op: Send,
    S: System<M> + 'static,
    F: Fn() -> S + Clone + Send + 'static,
{
    Stress::<M, S>::new(plan).run(factory)
}

/// [`run`] for a test: panics with the result's text when the run fails (a mismatch or a broken
/// limit), and with the plan's error when it cannot run.
#[track_caller]
pub fn check<M, S, F>(plan: StressPlan, factory: F) -> StressResult
where
    M: Model + Default + Send,
    M::Op: Send,
    S: System<M> + 'static,
    F: Fn() -> S + Clone + Send + 'static,
{
    match run::<M, S, F>(plan, factory) {
        Ok(r) if r.passed() => r,
        Ok(r) => panic!("\n{}", r.text()),
        Err(e) => panic!("{e}"),
    }
}
