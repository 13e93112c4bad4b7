//! The concurrent stress run: N threads call one system, each drawing its own operations from
//! (the plan's seed, its index), in rounds. After each round every thread waits at a barrier, so
//! no operation is in flight; the round's history is judged for linearizability from the model
//! states the previous round could have ended in, and then dropped, so the harness holds one
//! round's operations however long the run.
//!
//! Which operations a thread may draw: one that is valid whatever the other threads did before
//! it. A thread cannot know the state its operation will meet, so it draws only rules without a
//! precondition and without `Var` fields, their arguments from the plan's initial model state
//! (a strategy that reads the state sees that one); the other rules are left out and the
//! result's notes say which.

use super::measure::{resident_bytes, CallClock, GrowthFit, Latencies, Throttle};
use super::plan::PlanError;
use super::progress::Progress;
use super::result::{GrowthSource, StressFailure, StressResult, StressVerdict};
use super::run::{broken_limits, Stress};
use crate::catch::catch_quietly;
use crate::check::end_states::{end_states, EndStates};
use crate::check::CheckConfig;
use crate::config::Config;
use crate::exec::client::ClientSystem;
use crate::exec::sequential::SystemCall;
use crate::generate::{CaseGenerator, GenError};
use crate::hash::mix;
use crate::history::{History, Operation};
use crate::program::Program;
use crate::report::Origin;
use crate::run::Runner;
use crate::spec::{Model, StateMachine};
use std::collections::HashSet;
use std::hash::Hash;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Barrier, Mutex};
use std::time::{Duration, Instant};

/// What `end_states` says when no linearization exists (as opposed to a search that gave up).
const NO_LINEARIZATION: &str = "the history has no linearization";

/// One thread's part of the current round.
struct Slot<M: Model> {
    ops: Vec<Operation<M::Op, M::Output>>,
    latencies: Latencies,
    trouble: Option<Trouble>,
}

/// Why a thread stopped before its round's quota.
enum Trouble {
    /// Connecting or a call panicked (the call is in the history with an unknown outcome).
    Panicked(String),
    /// No operation could be drawn.
    Gen(GenError),
}

/// What a round's history says about the states the next round starts from.
enum RoundVerdict<M> {
    /// Linearizable: the distinct states its linearizations end in.
    Next(Vec<M>),
    /// No linearization from any start state.
    Violation,
    /// Not settled (too many end states, the search's budget, a model panic).
    Undecided(String),
}

impl<M, S> Stress<M, S>
where
    M: Model + Hash + Eq + Send + Sync,
    M::Op: Send + Sync,
    M::Output: Send + Sync,
    S: ClientSystem<M>,
{
    /// Runs the plan on one system from `factory`, called from `plan.threads` threads through
    /// clients of their own, in rounds of `plan.round` operations per thread; each round's
    /// history is judged for linearizability at the barrier that ends it and then dropped.
    /// `Err` is a plan that cannot run (a mix naming no rule, or leaving only rules a thread
    /// cannot draw safely).
    ///
    /// A violation in round 0 (which starts from the plan's initial state, as a fresh system
    /// does) is shrunk as a parallel program by the concurrent runner's shrinker, with systems
    /// from `factory`.
    #[track_caller]
    pub fn run_concurrent<F>(self, factory: F) -> Result<StressResult, PlanError>
    where
        F: Fn() -> S + Send + 'static,
        S: 'static,
    {
        let plan = &self.plan;
        let mut weights = plan.weights::<M::Op>()?;
        let rules = M::Op::rules();
        let mut notes = Vec::new();
        let left_out: Vec<&str> = (rules.iter().zip(&weights))
            .filter(|(r, &w)| w > 0 && (r.precondition.is_some() || !r.var_fields.is_empty()))
            .map(|(r, _)| r.name)
            .collect();
        for (w, r) in weights.iter_mut().zip(rules) {
            if r.precondition.is_some() || !r.var_fields.is_empty() {
                *w = 0;
            }
        }
        if M::Op::checks_args() || weights.iter().all(|&w| w == 0) {
            return Err(plan.error(
                "threads",
                format!(
                    "a concurrent stress run draws only operations valid in every \
                     interleaving: rules without a precondition (over the state or the \
                     arguments) and without `Var` fields; {} has {}",
                    crate::run::short_type_name(std::any::type_name::<M::Op>()),
                    if M::Op::checks_args() {
                        "a precondition over arguments".to_string()
                    } else {
                        format!("none in the mix (left out: {})", left_out.join(", "))
                    }
                ),
            ));
        }
        if !left_out.is_empty() {
            notes.push(format!(
                "stateprop: left out of the concurrent run (a precondition or a `Var` field \
                 makes them unsafe in some interleaving): {}",
                left_out.join(", ")
            ));
        }
        let seed = self.seed();
        let threads = plan.threads as usize;
        let names: Vec<&'static str> = rules.iter().map(|r| r.name).collect();
        let duration = plan.duration_secs.map(Duration::from_secs_f64);
        let budget = plan.op_budget();
        if !self.quiet {
            eprintln!(
                "stateprop: concurrent stress run: {} on {threads} threads, rounds of {} \
                 operations per thread, seed {seed}",
                match (budget, duration) {
                    (Some(n), _) => format!("{n} operations"),
                    (None, Some(d)) => format!("{:.1} s", d.as_secs_f64()),
                    (None, None) => unreachable!("a plan without a budget has a default"),
                },
                plan.round
            );
        }
        let mut result = StressResult::new(plan.clone(), seed);
        result.notes = notes;
        let mut system = match catch_quietly(&factory) {
            Ok(system) => system,
            Err(message) => {
                result.verdict = StressVerdict::Mismatch;
                result.failure = Some(failure_at(0, format!("the factory panicked: {message}")));
                return Ok(self.finish(result));
            }
        };
        let rss = self.gauge.is_none() && resident_bytes().is_some();
        let source = match (&self.gauge, rss) {
            (Some(_), _) => GrowthSource::Gauge,
            (None, true) => GrowthSource::Rss,
            (None, false) => GrowthSource::Unavailable,
        };
        let slots: Vec<Mutex<Slot<M>>> = (0..threads)
            .map(|_| {
                Mutex::new(Slot {
                    ops: Vec::with_capacity(plan.round as usize),
                    latencies: Latencies::new(names.len()),
                    trouble: None,
                })
            })
            .collect();
        let quota = AtomicU64::new(0);
        let clock = AtomicU64::new(0);
        let start = Barrier::new(threads + 1);
        let end = Barrier::new(threads + 1);
        let config = CheckConfig {
            timeout: Some(Duration::from_secs(60)),
            ..CheckConfig::default()
        };
        let mut progress = Progress::new(budget, duration, self.progress);
        let mut fit = GrowthFit::default();
        let throttle = plan.rate.map(Throttle::new);
        let mut starts = vec![self.initial.clone()];
        let mut done = 0u64;
        let mut next_sample = plan.warmup;
        let mut max_history = 0u64;
        let mut gen_error = None;
        let mut first_round: Option<Program<M::Op>> = None;
        let began = Instant::now();
        let sys = &system;
        std::thread::scope(|scope| {
            for t in 0..threads {
                let (slots, quota, clock, start, end) = (&slots, &quota, &clock, &start, &end);
                let (initial, weights) = (&self.initial, &weights);
                let every = plan.latency_every;
                scope.spawn(move || {
                    let mut client = catch_quietly(|| sys.connect(t as u64));
                    let mut draws =
                        CaseGenerator::new::<M::Op>(mix(seed ^ mix(t as u64)), (0, 0), false);
                    let mut call_clock = CallClock::new(every);
                    loop {
                        start.wait();
                        let q = quota.load(Ordering::SeqCst);
                        if q == 0 {
                            break;
                        }
                        let mut slot = slots[t].lock().unwrap_or_else(|e| e.into_inner());
                        let client = match &mut client {
                            Ok(c) => c,
                            Err(message) => {
                                slot.trouble = Some(Trouble::Panicked(format!(
                                    "connecting client {t} panicked: {message}"
                                )));
                                drop(slot);
                                end.wait();
                                continue;
                            }
                        };
                        for _ in 0..q {
                            let op = match draws.next_op_mixed(initial, &[], weights, |_| true) {
                                Ok(op) => op,
                                Err(e) => {
                                    slot.trouble = Some(Trouble::Gen(e));
                                    break;
                                }
                            };
                            call_clock.before();
                            let call = clock.fetch_add(1, Ordering::SeqCst);
                            let out = catch_quietly(|| sys.call(client, &op));
                            let ret = clock.fetch_add(1, Ordering::SeqCst);
                            call_clock.after();
                            if let Some(ns) = call_clock.ns {
                                slot.latencies.record(op.rule_index(), ns);
                            }
                            let (ret, output, trouble) = match out {
                                Ok(out) => (Some(ret), Some(out), None),
                                Err(message) => (None, None, Some(message)),
                            };
                            slot.ops.push(Operation {
                                client: t as u64,
                                op,
                                call,
                                ret,
                                output,
                            });
                            if let Some(message) = trouble {
                                slot.trouble = Some(Trouble::Panicked(format!(
                                    "a call on thread {t} panicked: {message}"
                                )));
                                break;
                            }
                        }
                        drop(slot);
                        end.wait();
                    }
                });
            }
            let mut history = History {
                ops: Vec::with_capacity(threads * plan.round as usize),
                sources: Vec::new(),
                steps: Vec::new(),
            };
            let mut round = 0u64;
            loop {
                let remaining = budget.map(|b| b.saturating_sub(done));
                let out_of_time = duration.is_some_and(|d| began.elapsed() >= d);
                if remaining == Some(0) || out_of_time || result.verdict != StressVerdict::Pass {
                    quota.store(0, Ordering::SeqCst);
                    start.wait();
                    break;
                }
                let per = remaining.map_or(u64::from(plan.round), |r| {
                    r.div_ceil(threads as u64).min(u64::from(plan.round))
                });
                quota.store(per, Ordering::SeqCst);
                start.wait();
                end.wait();
                let mut trouble = None;
                for slot in &slots {
                    let mut slot = slot.lock().unwrap_or_else(|e| e.into_inner());
                    history.ops.append(&mut slot.ops);
                    trouble = trouble.or(slot.trouble.take());
                }
                let before = done;
                done += history.ops.len() as u64;
                max_history = max_history.max(history.ops.len() as u64);
                progress.tick(done);
                if done >= next_sample {
                    let bytes = match &self.gauge {
                        Some(g) => Some(g(sys)),
                        None if rss => resident_bytes(),
                        None => None,
                    };
                    if let Some(b) = bytes {
                        fit.add(done, b);
                    }
                    next_sample = done + plan.sample_every;
                }
                match trouble {
                    Some(Trouble::Gen(e)) => {
                        gen_error = Some((done, e));
                        result.verdict = StressVerdict::Undecided;
                        continue;
                    }
                    Some(Trouble::Panicked(message)) => {
                        result.verdict = StressVerdict::Mismatch;
                        let mut f = failure_at(done.saturating_sub(1), message);
                        f.round = Some(round);
                        f.window = window(&history);
                        result.failure = Some(f);
                        continue;
                    }
                    None => {}
                }
                match judge_round(&history, &starts, plan.max_end_states, &config) {
                    RoundVerdict::Next(next) => {
                        if let Err(why) = invariant_somewhere(sys, &next) {
                            result.verdict = StressVerdict::Mismatch;
                            let mut f = failure_at(done - 1, why);
                            f.round = Some(round);
                            f.window = window(&history);
                            result.failure = Some(f);
                        }
                        starts = next;
                    }
                    RoundVerdict::Violation => {
                        result.verdict = StressVerdict::Mismatch;
                        if round == 0 {
                            first_round = Some(as_program(&history));
                        }
                        result.failure = Some(violation(
                            &history,
                            &starts,
                            before,
                            round,
                            plan.max_end_states,
                            &config,
                        ));
                    }
                    RoundVerdict::Undecided(why) => {
                        result.verdict = StressVerdict::Undecided;
                        result.notes.push(format!(
                            "stateprop: round {round} (operations {before}..{done}) could not be \
                             judged: {why}; the run stopped there rather than pick a state to \
                             go on from (raise `max_end_states`, or shorten `round`)"
                        ));
                    }
                }
                // The round's history is judged: drop it, keeping only its allocation.
                history.ops.clear();
                round += 1;
                if let Some(t) = &throttle {
                    t.pace(began, done);
                }
            }
        });
        let elapsed = began.elapsed();
        progress.finish();
        if let Some((at, error)) = gen_error {
            return Err(PlanError {
                path: None,
                line: None,
                message: format!(
                    "no operation could be generated near operation {at} of the concurrent \
                     run: {}",
                    error.message()
                ),
            });
        }
        let _ = catch_quietly(|| system.teardown());
        if let (Some(program), Some(f)) = (first_round, result.failure.as_mut()) {
            shrink_round(&self.initial, factory, program, seed, f);
        }
        let mut latencies = Latencies::new(names.len());
        for slot in &slots {
            latencies.merge(&slot.lock().unwrap_or_else(|e| e.into_inner()).latencies);
        }
        let (by_rule, overall) = latencies.summary(&names);
        result.operations = done;
        result.elapsed_secs = elapsed.as_secs_f64();
        result.throughput = done as f64 / elapsed.as_secs_f64().max(1e-9);
        result.latencies = by_rule;
        result.overall = overall;
        result.growth = fit.result(source);
        result.max_history_ops = Some(max_history);
        if result.verdict == StressVerdict::Pass {
            result.broken_limits = broken_limits(&result);
            if !result.broken_limits.is_empty() {
                result.verdict = StressVerdict::LimitBroken;
            }
        }
        Ok(self.finish(result))
    }

    /// Writes and prints the result.
    fn finish(&self, result: StressResult) -> StressResult {
        self.write(&result);
        if !self.quiet {
            eprint!("{}", result.text());
        }
        result
    }
}

/// A failure at operation `at` of the run with `cause`, nothing else known yet.
fn failure_at(at: u64, cause: String) -> StressFailure {
    StressFailure {
        operation: at,
        cause,
        window: Vec::new(),
        prefix: None,
        tail: None,
        report: None,
        minimal: Vec::new(),
        round: None,
        thread: None,
    }
}

/// Judges one round's history from each state the round may have started in: linearizable if
/// it is from at least one of them, ending in the union of their linearizations' end states.
fn judge_round<M: Model + Hash + Eq>(
    history: &History<M::Op, M::Output>,
    starts: &[M],
    max_states: usize,
    config: &CheckConfig,
) -> RoundVerdict<M> {
    let mut seen: HashSet<M> = HashSet::new();
    let mut next = Vec::new();
    for start in starts {
        let walked = end_states(history, start, config, max_states, |state: &M| {
            if seen.insert(state.clone()) {
                next.push(state.clone());
            }
            // Refuse each state, so the walk visits them all.
            Err::<(), ()>(())
        });
        match walked {
            EndStates::Refused { .. } => {}
            EndStates::Undecided(why) if why == NO_LINEARIZATION => {}
            EndStates::Undecided(why) => return RoundVerdict::Undecided(why),
            EndStates::Accepted => {
                return RoundVerdict::Undecided("internal: an end state was accepted".into())
            }
        }
        if next.len() > max_states {
            return RoundVerdict::Undecided(format!("more than {max_states} distinct end states"));
        }
    }
    if next.is_empty() {
        RoundVerdict::Violation
    } else {
        RoundVerdict::Next(next)
    }
}

/// The system's invariant at a barrier: it is in one of `states`, so it fails only if it fails
/// in every one.
fn invariant_somewhere<M: Model, S: ClientSystem<M>>(sys: &S, states: &[M]) -> Result<(), String> {
    let mut first = None;
    for state in states {
        match catch_quietly(|| sys.invariant(state)) {
            Ok(Ok(())) => return Ok(()),
            Ok(Err(why)) => first = first.or(Some(format!("the invariant failed: {why}"))),
            Err(message) => first = first.or(Some(format!("the invariant panicked: {message}"))),
        }
    }
    first.map_or(Ok(()), Err)
}

/// A round's operations in invocation order, as `tN [call, ret] op -> output` lines.
fn window<Op: StateMachine, Out: std::fmt::Debug>(history: &History<Op, Out>) -> Vec<String> {
    let mut ops: Vec<&Operation<Op, Out>> = history.ops.iter().collect();
    ops.sort_by_key(|o| o.call);
    ops.iter()
        .map(|o| {
            let ret = o.ret.map_or("-".to_string(), |r| r.to_string());
            let out = o.output.as_ref().map_or("?".into(), |v| format!("{v:?}"));
            format!(
                "t{} [{}, {ret}] {} -> {out}",
                o.client,
                o.call,
                o.op.to_rust()
            )
        })
        .collect()
}

/// The report of a round with no linearization: the earliest return after which the round's
/// history has none names the thread, and the round is printed as a parallel program.
fn violation<M: Model + Hash + Eq>(
    history: &History<M::Op, M::Output>,
    starts: &[M],
    before: u64,
    round: u64,
    max_states: usize,
    config: &CheckConfig,
) -> StressFailure {
    let mut rets: Vec<u64> = history.ops.iter().filter_map(|o| o.ret).collect();
    rets.sort_unstable();
    // The history cut at time `t`: what was invoked by then, what had not returned pending.
    // A cut of a linearizable history is linearizable, so the first failing cut is searched
    // by bisection.
    let cut = |t: u64| History {
        ops: (history.ops.iter())
            .filter(|o| o.call < t)
            .map(|o| match o.ret {
                Some(r) if r <= t => o.clone(),
                _ => Operation {
                    ret: None,
                    output: None,
                    ..o.clone()
                },
            })
            .collect(),
        sources: Vec::new(),
        steps: Vec::new(),
    };
    let fails = |t: u64| {
        matches!(
            judge_round(&cut(t), starts, max_states, config),
            RoundVerdict::Violation
        )
    };
    let (mut lo, mut hi) = (0usize, rets.len().saturating_sub(1));
    while lo < hi {
        let mid = (lo + hi) / 2;
        if fails(rets[mid]) {
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    let culprit = rets
        .get(lo)
        .and_then(|&t| history.ops.iter().find(|o| o.ret == Some(t)));
    let mut f = failure_at(
        before + lo as u64,
        match culprit {
            Some(o) => format!(
                "the round's history has no linearization from the {} state(s) it may have \
                 started in; the earliest return after which it has none is `{}` -> {} on \
                 thread {}",
                starts.len(),
                o.op.to_rust(),
                o.output.as_ref().map_or("?".into(), |v| format!("{v:?}")),
                o.client
            ),
            None => "the round's history has no linearization".to_string(),
        },
    );
    f.round = Some(round);
    f.thread = culprit.map(|o| o.client as u32);
    f.window = window(history);
    f.report = Some(reproduction(history, starts, round));
    f
}

/// The round's operations as a parallel program: no prefix, one branch per thread, each in the
/// order its thread ran them.
fn as_program<Op: Clone, Out>(history: &History<Op, Out>) -> Program<Op> {
    let threads = history.ops.iter().map(|o| o.client + 1).max().unwrap_or(0);
    let mut branches: Vec<Vec<&Operation<Op, Out>>> = vec![Vec::new(); threads as usize];
    for o in &history.ops {
        branches[o.client as usize].push(o);
    }
    let branches = (branches.into_iter())
        .map(|mut b| {
            b.sort_by_key(|o| o.call);
            b.into_iter().map(|o| o.op.clone()).collect()
        })
        .collect();
    Program::parallel(Vec::new(), branches)
}

/// Shrinks round 0's program with the concurrent runner's shrinker (a fresh system starts where
/// round 0 did); a round that passes its reruns is left as it is, and the failure says so.
#[track_caller]
fn shrink_round<M, S, F>(
    initial: &M,
    factory: F,
    program: Program<M::Op>,
    seed: u64,
    found: &mut StressFailure,
) where
    M: Model + Hash + Eq + Send,
    M::Op: Send + Sync,
    M::Output: Send + Sync,
    S: ClientSystem<M> + 'static,
    F: Fn() -> S + Send + 'static,
{
    let origin = Origin::Stress {
        seed,
        operation: found.operation,
    };
    // Nothing is saved: a regression file would replay a stress failure in every ordinary run.
    let config = Config::default().persist(false);
    let shrunk = (Runner::with_initial(config, initial.clone()))
        .shrink_failing_concurrent(factory, program, origin);
    let report = found.report.get_or_insert_with(String::new);
    if shrunk.failed() {
        let p = &shrunk.minimal_program;
        found.minimal = (p.branches.iter().enumerate())
            .map(|(b, ops)| {
                let ops: Vec<String> = ops.iter().map(|op| op.to_rust()).collect();
                format!("branch {b}: {}", ops.join(", "))
            })
            .collect();
        report.push_str("stateprop: round 0 shrunk by the concurrent runner:\n");
        report.push_str(&shrunk.report.text());
    } else {
        report.push_str(
            "stateprop: round 0 passed every rerun from a fresh system (the interleaving that \
             failed did not come again): not shrunk\n",
        );
    }
}

/// The round as a parallel program, one branch per thread, and what it starts from.
fn reproduction<M: Model>(history: &History<M::Op, M::Output>, starts: &[M], round: u64) -> String {
    let mut t = String::from(
        "stateprop: the round as a parallel program, one branch per thread (no prefix):\n",
    );
    t.push_str("    let program = stateprop::Program::parallel(vec![], vec![\n");
    for branch in &as_program(history).branches {
        let ops: Vec<String> = branch.iter().map(|op| op.to_rust()).collect();
        t.push_str(&format!("        vec![{}],\n", ops.join(", ")));
    }
    t.push_str("    ]);\n");
    if round == 0 {
        t.push_str(
            "stateprop: round 0 starts from the plan's initial model state: replay it with \
             `stateprop::replay_concurrent_with(initial, factory, &program)`; an interleaving \
             that fails may take many runs\n",
        );
    } else {
        t.push_str(&format!(
            "stateprop: round {round} starts from one of these model states: {:?}; no \
             sequential program reaching it is kept (the earlier rounds' interleavings decided \
             it), so the program replays only from a system brought to that state by hand\n",
            starts
        ));
    }
    t
}
