//! The streaming sequential stress run: operations drawn one at a time from the plan's seed,
//! each judged by the sequential executor's step judge as it runs, nothing kept but a window of
//! the latest operations and the running measurements.

use super::bisect;
use super::measure::{resident_bytes, CallClock, GrowthFit, Latencies, Throttle};
use super::plan::{PlanError, StressPlan};
use super::result::{bytes, StressFailure, StressResult, StressVerdict};
use crate::catch::catch;
use crate::config::Config;
use crate::exec::sequential::{Case, SystemCall, Windowed};
use crate::exec::watchdog::Heartbeat;
use crate::exec::Recording;
use crate::failure::Failure;
use crate::generate::{CaseGenerator, GenError};
use crate::program::StepId;
use crate::spec::{Model, StateMachine, System};
use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// How a stream of operations ended.
pub(crate) enum End<M: Model> {
    /// Every operation asked for (or that the duration allowed) ran and matched: how many.
    Completed(u64),
    /// Operation `at` (0-based), `op`, failed; or the system could not be built (`at` 0, no
    /// operation).
    Failed {
        at: u64,
        failure: Failure,
        op: Option<M::Op>,
    },
    /// No operation could be generated at operation `at`.
    Gen { at: u64, error: GenError },
}

/// The operation stream of `seed`: the same operations in the same order every time it is
/// driven from a fresh system (for a deterministic system), which is what lets a failure be
/// replayed and bisected without keeping the operations.
pub(crate) struct Stream<'a, M: Model, S> {
    pub(crate) initial: &'a M,
    pub(crate) factory: &'a dyn Fn() -> S,
    pub(crate) seed: u64,
    pub(crate) weights: &'a [u32],
    /// The latest outputs a `Var` may name; 0 generates no `Var`.
    pub(crate) var_window: usize,
}

impl<M: Model, S: System<M>> Stream<'_, M, S> {
    /// Runs up to `max` operations (all the stream has, if `None`) on a fresh system, timing
    /// each system call with `call`; `observe(index, op, call, case)` after each step that
    /// matched returns whether to go on.
    #[inline(always)]
    pub(crate) fn drive<C: SystemCall>(
        &self,
        max: Option<u64>,
        call: &mut C,
        mut observe: impl FnMut(u64, &M::Op, &C, &Case<M, S>) -> bool,
    ) -> End<M> {
        let hb = Heartbeat::default();
        let case = Case::start(self.initial.clone(), self.factory, Recording::default());
        let vars = self.var_window > 0 && M::Op::uses_vars() && !M::Op::consumes_vars();
        let mut case = match case {
            Ok(case) if vars => case.with_var_window(self.var_window),
            Ok(case) => case.without_vars(),
            Err(failure) => {
                return End::Failed {
                    at: 0,
                    failure,
                    op: None,
                }
            }
        };
        let mut plan = CaseGenerator::new::<M::Op>(self.seed, (0, 0), false);
        // Step ids are 32-bit: a run stops at u32::MAX operations.
        let max = max.unwrap_or(u64::MAX).min(u64::from(u32::MAX));
        let mut last: Option<M::Op> = None;
        let mut i = 0u64;
        let mut end = None;
        while i < max {
            let drawn = match vars {
                true => self.draw_in_window(&mut plan, &case),
                // No earlier outputs shown: a rule with a `Var` field is never enabled.
                false => plan.next_op_mixed(&case.model, &[], self.weights, |_| true),
            };
            let op = match drawn {
                Ok(op) => op,
                Err(error) => {
                    end = Some(End::Gen { at: i, error });
                    break;
                }
            };
            let op = &*last.insert(op);
            if let Err(failure) = case.step_timed(i as usize, op, &hb, call) {
                end = Some(End::Failed {
                    at: i,
                    failure,
                    op: Some(op.clone()),
                });
                break;
            }
            i += 1;
            if !observe(i - 1, op, call, &case) {
                break;
            }
        }
        let teardown = case.finish(last.as_ref().map(|op| (i.saturating_sub(1) as usize, op)));
        match (end, teardown) {
            (Some(end), _) => end,
            (None, Err(failure)) => End::Failed {
                at: i.saturating_sub(1),
                failure,
                op: None,
            },
            (None, Ok(())) => End::Completed(i),
        }
    }

    /// Draws an operation whose `Var`s name only the latest `var_window` steps.
    ///
    /// The generator numbers the outputs it is shown from 0; the drawn `Var`s are renamed to the
    /// steps those outputs belong to. A precondition over a `Var` was judged on the generator's
    /// numbering, so a rule that has one is judged again on the real step ids; if it fails
    /// there, the step is drawn again among the rules without `Var` fields (deterministically:
    /// the same stream every time).
    fn draw_in_window(
        &self,
        plan: &mut CaseGenerator,
        case: &Case<M, S>,
    ) -> Result<M::Op, GenError> {
        let (visible, base) = case.latest_outputs(self.var_window);
        let mut op = plan.next_op_mixed(&case.model, visible, self.weights, |_| true)?;
        let rules = M::Op::rules();
        if rules[op.rule_index()].var_fields.is_empty() {
            return Ok(op);
        }
        if base > 0 {
            op.remap_vars(&mut |id| Some(StepId::prefix(base + id.index as usize)));
        }
        if !M::Op::checks_args() {
            return Ok(op);
        }
        let admitted = catch(|| {
            let mut bound = op.clone();
            let window = Windowed {
                base,
                outputs: visible,
            };
            bound.bind_vars(&window) && bound.admits(&case.model)
        });
        if admitted == Ok(true) {
            return Ok(op);
        }
        let plain = |rule: usize| rules[rule].var_fields.is_empty();
        plan.next_op_mixed(&case.model, visible, self.weights, plain)
    }

    /// The last `keep` of the first `n` operations of the stream (the failing one included, if
    /// it is among them), regenerated on a fresh system in memory bounded by `keep`.
    pub(crate) fn tail(&self, n: u64, keep: usize) -> Vec<M::Op> {
        let mut ops = VecDeque::with_capacity(keep + 1);
        let mut push = |op: M::Op| {
            if ops.len() == keep {
                ops.pop_front();
            }
            ops.push_back(op);
        };
        let end = self.drive(Some(n), &mut (), |_, op, _, _| {
            push(op.clone());
            true
        });
        if let End::Failed { op: Some(op), .. } = end {
            push(op);
        }
        ops.into()
    }

    /// The first `n` operations of the stream, as a program (regenerated on a fresh system).
    pub(crate) fn prefix(&self, n: u64) -> Vec<M::Op> {
        let mut ops = Vec::with_capacity(n as usize);
        let end = self.drive(Some(n), &mut (), |_, op, _, _| {
            ops.push(op.clone());
            true
        });
        // The failing step is not observed; it ends the program.
        if let End::Failed { op: Some(op), .. } = end {
            ops.push(op);
        }
        ops
    }
}

/// A user's measure of the memory a system holds, in bytes.
type Gauge<S> = Box<dyn Fn(&S) -> u64>;

/// A stress run: a plan, the model it starts from, and an optional memory gauge.
pub struct Stress<M: Model, S> {
    plan: StressPlan,
    initial: M,
    gauge: Option<Gauge<S>>,
    quiet: bool,
}

impl<M: Model + Default, S: System<M>> Stress<M, S> {
    /// A run of `plan` whose model starts from `M::default()`.
    pub fn new(plan: StressPlan) -> Self {
        Stress::with_initial(plan, M::default())
    }
}

impl<M: Model, S: System<M>> Stress<M, S> {
    /// A run of `plan` whose model starts from `initial`.
    pub fn with_initial(plan: StressPlan, initial: M) -> Self {
        Stress {
            plan,
            initial,
            gauge: None,
            quiet: false,
        }
    }

    /// Measures memory with `gauge` (bytes the system holds) instead of the process's RSS:
    /// deterministic, and blind to the harness and the allocator.
    pub fn gauge(mut self, gauge: impl Fn(&S) -> u64 + 'static) -> Self {
        self.gauge = Some(Box::new(gauge));
        self
    }

    /// Prints nothing (the result's [`text`](StressResult::text) still tells everything).
    pub fn quiet(mut self) -> Self {
        self.quiet = true;
        self
    }

    /// Runs the plan with systems from `factory` (one for the run; more to replay a failure and
    /// shrink it). `Err` is a plan that cannot run on this machine (a mix naming no rule).
    #[track_caller]
    pub fn run<F>(self, factory: F) -> Result<StressResult, PlanError>
    where
        F: Fn() -> S + Clone + Send + 'static,
        S: 'static,
        M: Send,
        M::Op: Send,
    {
        let weights = self.plan.weights::<M::Op>()?;
        let seed = self.seed();
        let plan = &self.plan;
        let names: Vec<&'static str> = M::Op::rules().iter().map(|r| r.name).collect();
        let stream = Stream {
            initial: &self.initial,
            factory: &factory,
            seed,
            weights: &weights,
            var_window: plan.var_window,
        };
        let mut latencies = Latencies::new(names.len());
        let mut fit = GrowthFit::default();
        let mut window: VecDeque<(u64, M::Op)> = VecDeque::with_capacity(plan.window + 1);
        let throttle = plan.rate.map(Throttle::new);
        let duration = plan.duration_secs.map(Duration::from_secs_f64);
        let rss = self.gauge.is_none() && resident_bytes().is_some();
        let source = match (&self.gauge, rss) {
            (Some(_), _) => "gauge",
            (None, true) => "rss",
            (None, false) => "unavailable",
        };
        let gauge = self.gauge.as_deref();
        let sample = |sys: &S| match gauge {
            Some(g) => Some(g(sys)),
            None if rss => resident_bytes(),
            None => None,
        };
        if !self.quiet {
            eprintln!(
                "stateprop: stress run: {}, seed {seed}",
                match (plan.op_budget(), duration) {
                    (Some(n), _) => format!("{n} operations"),
                    (None, Some(d)) => format!("{:.1} s", d.as_secs_f64()),
                    (None, None) => unreachable!("a plan without a budget has a default"),
                }
            );
        }
        let mut clock = CallClock::new(plan.latency_every);
        let start = Instant::now();
        let end = stream.drive(plan.op_budget(), &mut clock, |i, op, clock, case| {
            if let Some(ns) = clock.ns {
                latencies.record(op.rule_index(), ns);
            }
            if plan.window > 0 {
                if window.len() == plan.window {
                    window.pop_front();
                }
                window.push_back((i, op.clone()));
            }
            let done = i + 1;
            if done >= plan.warmup && (done - plan.warmup).is_multiple_of(plan.sample_every) {
                if let Some(b) = sample(case.system()) {
                    fit.add(done, b);
                }
            }
            if let Some(t) = &throttle {
                t.pace(start, done);
            }
            // Reading the clock every operation would cost more than some systems' calls.
            !(done.is_multiple_of(1024) && duration.is_some_and(|d| start.elapsed() >= d))
        });
        let elapsed = start.elapsed();
        let operations = match &end {
            End::Completed(n) => *n,
            End::Failed { at, .. } | End::Gen { at, .. } => at + 1,
        };
        let (latencies, overall) = latencies.summary(&names);
        let mut result = StressResult {
            plan: self.plan.clone(),
            seed,
            operations,
            elapsed_secs: elapsed.as_secs_f64(),
            throughput: operations as f64 / elapsed.as_secs_f64().max(1e-9),
            latencies,
            overall,
            growth: fit.result(source),
            verdict: StressVerdict::Pass,
            broken_limits: Vec::new(),
            failure: None,
        };
        match end {
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
                         (the plan's op mix leaves out the rules whose weight it does not \
                         give; a rule with a `Var` field runs only when one of the latest \
                         `var_window` steps returned a value for it, and never with \
                         `#[consumes]` fields in the machine)",
                        error.message()
                    ),
                })
            }
            End::Failed { at, failure, .. } => {
                result.verdict = StressVerdict::Mismatch;
                let window = window
                    .iter()
                    .map(|(i, op)| format!("{i}: {}", op.to_rust()))
                    .chain(
                        failure
                            .op
                            .iter()
                            .map(|op| format!("{at}: {op}  <- failed here")),
                    )
                    .collect();
                if failure.step.is_none() {
                    // The factory failed: no operation ran, and there is nothing to bisect.
                    result.operations = 0;
                }
                let mut found = StressFailure {
                    operation: at,
                    cause: failure.cause(at as usize + 1),
                    window,
                    prefix: None,
                    tail: None,
                    report: None,
                    minimal: Vec::new(),
                };
                if failure.step.is_some() {
                    bisect::investigate(&stream, factory.clone(), plan.shrink_bound, &mut found);
                }
                result.failure = Some(found);
            }
        }
        self.write(&result);
        if !self.quiet {
            eprint!("{}", result.text());
        }
        Ok(result)
    }

    /// The seed: `STATEPROP_SEED`, else the plan's, else a fresh one.
    fn seed(&self) -> u64 {
        let env = Config::default().with_env().ok().and_then(|c| c.seed);
        env.or(self.plan.seed)
            .unwrap_or_else(crate::generate::rng::fresh_seed)
    }

    /// Writes the result where `STATEPROP_STRESS_RESULT` or the plan says.
    fn write(&self, result: &StressResult) {
        let env = std::env::var_os("STATEPROP_STRESS_RESULT").map(Into::into);
        if let Some(path) = env.or_else(|| self.plan.result_path.clone()) {
            if let Err(e) = result.write(&path) {
                eprintln!("stateprop: could not write the stress result: {e}");
            }
        }
    }
}

/// The plan's limits that the finished run broke, as the sentences a user reads.
fn broken_limits(r: &StressResult) -> Vec<String> {
    let limits = &r.plan.limits;
    let mut broken = Vec::new();
    if let Some(min) = limits.min_throughput {
        if r.throughput < min {
            broken.push(format!(
                "stateprop: throughput was {:.0} operations per second (limit: at least {min:.0})",
                r.throughput
            ));
        }
    }
    if let (Some(max), Some(all)) = (limits.max_p99_us, &r.overall) {
        if all.p99_us > max {
            broken.push(format!(
                "stateprop: p99 latency was {:.2} us over all operations (limit {max:.2} us)",
                all.p99_us
            ));
        }
    }
    for (rule, max) in &limits.max_p99_us_by_rule {
        if let Some(l) = r.latencies.iter().find(|l| &l.rule == rule) {
            if l.p99_us > *max {
                broken.push(format!(
                    "stateprop: p99 latency of `{rule}` was {:.2} us (limit {max:.2} us)",
                    l.p99_us
                ));
            }
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
