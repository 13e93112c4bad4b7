//! The concurrent stress run: N threads call one system, each drawing its own operations from
//! (the plan's seed, its index), in rounds. After each round every thread waits at a barrier, so
//! no operation is in flight; the round's history is judged for linearizability from the model
//! states the previous round could have ended in, and then dropped, so the harness holds one
//! round's operations however long the run.
//!
//! Which operations a thread runs: ones valid whatever the other threads did before them. When
//! every rule of the mix is valid in every state (no precondition, no `Var` field), each thread
//! draws its own, their arguments from the plan's initial model state (a strategy that reads
//! the state sees that one), with no work at the barrier. Otherwise the coordinator draws each
//! round at the barrier as a parallel program from the states the round may start in (see
//! `drawn`), and each thread runs its branch, binding its `Var`s to its own earlier outputs of
//! the round.

use super::coordinator::Coordinator;
use super::deadline::{hang_cause, within, Within};
use super::drawn::{self, Drawer};
use super::fresh::{investigate, Earlier};
use super::gate::Gate;
use super::measure::{resident_bytes, CallClock, GrowthFit, Latencies, Throttle};
use super::plan::PlanError;
use super::progress::Progress;
use super::result::{GrowthSource, StressFailure, StressResult, StressVerdict};
use super::round::{
    as_program, failure_at, invariant_somewhere, judge_round, violation, window, RoundVerdict,
};
use super::run::{broken_limits, Stress};
use crate::catch::catch_quietly;
use crate::check::CheckConfig;
use crate::exec::client::ClientSystem;
use crate::exec::sequential::SystemCall;
use crate::exec::watchdog::{Beat, Watch};
use crate::generate::{CaseGenerator, GenError};
use crate::hash::mix;
use crate::history::{History, Operation};
use crate::program::{BranchOutputs, Program, StepId};
use crate::spec::{Model, StateMachine};
use std::hash::Hash;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// One thread's part of the current round.
struct Slot<M: Model> {
    ops: Vec<Operation<M::Op, M::Output>>,
    /// The step each of `ops` ran, for a round drawn as a program (empty otherwise): the
    /// round's judge binds `Var`s through them.
    steps: Vec<StepId>,
    /// The branch to run in the next round, for a round drawn as a program.
    branch: Vec<M::Op>,
    latencies: Latencies,
    trouble: Option<Trouble>,
}

/// Why a thread stopped before its round's quota.
enum Trouble {
    /// Connecting or a call panicked (the call is in the history with an unknown outcome, and
    /// its invoke time is given).
    Panicked(String, Option<u64>),
    /// No operation could be drawn.
    Gen(GenError),
    /// A `Var` of a drawn step did not bind to the thread's earlier outputs (the step was not
    /// called).
    Unbound(String),
}

impl<M, S> Stress<M, S>
where
    M: Model + Hash + Eq + Send + Sync,
    M::Op: Send + Sync,
    M::Output: Send + Sync,
    S: ClientSystem<M>,
{
    /// [`run_concurrent`](Stress::run_concurrent)'s rounds, on the coordinator's thread
    /// (`caller`: the caller's file, for the pasted test).
    ///
    /// Runs the plan on one system from `factory`, called from `plan.threads` threads through
    /// clients of their own, in rounds of `plan.round` operations per thread; each round's
    /// history is judged for linearizability at the barrier that ends it and then dropped.
    /// `Err` is a plan that cannot run (a mix with no rule of positive weight), or rounds that
    /// could not be drawn (no rule enabled in a round's start state, or many rounds in a row
    /// with no step safe in every interleaving).
    ///
    /// A round with no linearization is tried again on fresh systems from `factory`: alone,
    /// from the plan's initial state, then (for a round after the first, while the earlier
    /// rounds number at most `shrink_bound` operations) after the earlier rounds run as a
    /// sequential prefix; the first that fails is shrunk as a parallel program by the
    /// concurrent runner's shrinker. The factory, a gauge and the teardown are watched as the
    /// system's calls are: one that does not return within `step_timeout_ms` ends the run as a
    /// hang naming it.
    pub(super) fn run_rounds<F>(
        mut self,
        factory: F,
        caller: &'static str,
        coordinator: &Coordinator,
    ) -> Result<StressResult, PlanError>
    where
        F: Fn() -> S + Send + 'static,
        S: 'static,
        M: 'static,
    {
        let plan = &self.plan;
        let mut weights = plan.weights::<M::Op>()?;
        let rules = M::Op::rules();
        if plan.var_window == 0 {
            // As in a sequential run: no rule with a `Var` field.
            for (w, r) in weights.iter_mut().zip(rules) {
                if !r.var_fields.is_empty() {
                    *w = 0;
                }
            }
        }
        if weights.iter().all(|&w| w == 0) {
            return Err(plan.error(
                "mix",
                "no rule of the mix can run (every weight is 0, or only rules with a `Var` \
                 field are left and `var_window` is 0)"
                    .to_string(),
            ));
        }
        let seed = self.seed();
        coordinator.seed(seed);
        let threads = plan.threads as usize;
        let mut drawer = drawn::needed::<M::Op>(&weights)
            .then(|| Drawer::new(weights.clone(), seed, threads, plan.round));
        let program_mode = drawer.is_some();
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
        let timeout = Duration::from_millis(plan.step_timeout_ms);
        // The factory comes back from its thread with the system: the shrinker needs it.
        let (factory, system) = match within(timeout, "factory", move || {
            let system = catch_quietly(&factory);
            (factory, system)
        }) {
            Within::Done((factory, Ok(system))) => (factory, system),
            Within::Done((_, Err(message))) | Within::Panicked(message) => {
                result.verdict = StressVerdict::Mismatch;
                result.failure = Some(failure_at(0, format!("the factory panicked: {message}")));
                return Ok(self.finish(result));
            }
            Within::Hung => {
                result.verdict = StressVerdict::Mismatch;
                let cause = hang_cause("factory", plan.step_timeout_ms);
                result.failure = Some(failure_at(0, cause));
                return Ok(self.finish(result));
            }
        };
        let rss = self.gauge.is_none() && resident_bytes().is_some();
        let source = match (&self.gauge, rss) {
            (Some(_), _) => GrowthSource::Gauge,
            (None, true) => GrowthSource::Rss,
            (None, false) => GrowthSource::Unavailable,
        };
        let system = Arc::new(system);
        let slots: Arc<[Mutex<Slot<M>>]> = (0..threads)
            .map(|_| {
                Mutex::new(Slot {
                    ops: Vec::with_capacity(plan.reserve(u64::from(plan.round))),
                    steps: Vec::new(),
                    branch: Vec::new(),
                    latencies: Latencies::new(names.len()),
                    trouble: None,
                })
            })
            .collect();
        let clock = Arc::new(AtomicU64::new(0));
        let gate = Arc::new(Gate::default());
        // One beat per thread, around each call (and connecting): the coordinator, waiting at
        // the end of a round, gives up on a thread inside one call for `step_timeout_ms`.
        let beats: Arc<[Beat]> = (0..threads).map(|_| Beat::default()).collect();
        let mut watches: Vec<Watch> = (0..threads).map(|_| Watch::new()).collect();
        let mut hung = None;
        let config = CheckConfig {
            timeout: Some(Duration::from_secs(60)),
            ..CheckConfig::default()
        };
        let mut progress = Progress::new(budget, duration, self.progress_mode());
        let mut fit = GrowthFit::default();
        let throttle = plan.rate.map(Throttle::new);
        let mut starts = vec![self.initial.clone()];
        let mut done = 0u64;
        let mut next_sample = plan.warmup;
        let mut max_history = 0u64;
        let mut gen_error = None;
        let mut failed_round: Option<(u64, Program<M::Op>)> = None;
        // The round being run, when drawn as a program.
        let mut drawn_round: Option<Program<M::Op>> = None;
        let mut earlier = Earlier::new(plan.shrink_bound);
        let mut gauge = self.gauge.take();
        let began = Instant::now();
        let mut handles = Vec::with_capacity(threads);
        let closing = Arc::clone(&gate);
        for t in 0..threads {
            let (slots, clock, gate) = (Arc::clone(&slots), Arc::clone(&clock), Arc::clone(&gate));
            let (beats, sys) = (Arc::clone(&beats), Arc::clone(&system));
            let (initial, weights) = (self.initial.clone(), weights.clone());
            let every = plan.latency_every;
            let uses_vars = M::Op::uses_vars();
            // Not scoped: a thread stuck in a call is abandoned, and a scope would wait for it.
            let spawned = std::thread::Builder::new()
                .name(format!("stateprop-stress-{t}"))
                .spawn(move || {
                    let beat = &beats[t];
                    beat.enter_step();
                    let mut client = catch_quietly(|| sys.connect(t as u64));
                    beat.leave_set_up();
                    let mut draws =
                        CaseGenerator::new::<M::Op>(mix(seed ^ mix(t as u64)), (0, 0), false);
                    let mut call_clock = CallClock::new(every);
                    let mut seen = 0;
                    loop {
                        let (round, per, left) = gate.next(seen);
                        seen = round;
                        if per == 0 {
                            break;
                        }
                        let mut slot = slots[t].lock().unwrap_or_else(|e| e.into_inner());
                        let branch = std::mem::take(&mut slot.branch);
                        // The last round may be short: the threads before this one take
                        // `per` each of what is left (a drawn branch already is that long).
                        let q = if program_mode {
                            branch.len() as u64
                        } else {
                            per.min(left.saturating_sub(t as u64 * per))
                        };
                        // This round's outputs, for the branch's `Var`s.
                        let mut own: Vec<M::Output> = Vec::new();
                        let client = match &mut client {
                            Ok(c) => c,
                            Err(message) => {
                                slot.trouble = Some(Trouble::Panicked(
                                    format!("connecting client {t} panicked: {message}"),
                                    None,
                                ));
                                drop(slot);
                                gate.done();
                                continue;
                            }
                        };
                        for i in 0..q as usize {
                            let op = if program_mode {
                                let mut op =
                                    branch.get(i).expect("q is the branch's length").clone();
                                let outputs = BranchOutputs {
                                    prefix: &[],
                                    branch: t as u16,
                                    own: &own,
                                };
                                if uses_vars && !op.bind_vars(&outputs) {
                                    slot.trouble = Some(Trouble::Unbound(format!(
                                        "a `Var` of {} (step {i} of thread {t}'s branch) did \
                                         not bind to the system's earlier outputs on that \
                                         thread; the step was not called",
                                        op.to_rust()
                                    )));
                                    break;
                                }
                                op
                            } else {
                                match draws.next_op_mixed(&initial, &[], &weights, |_| true) {
                                    Ok(op) => op,
                                    Err(e) => {
                                        slot.trouble = Some(Trouble::Gen(e));
                                        break;
                                    }
                                }
                            };
                            call_clock.before();
                            let call = clock.fetch_add(1, Ordering::SeqCst);
                            // The call is in the slot, pending, and the slot free while it
                            // runs: a call that never returns is reported from there.
                            slot.ops.push(Operation {
                                client: t as u64,
                                op,
                                call,
                                ret: None,
                                output: None,
                            });
                            if program_mode {
                                slot.steps.push(StepId::in_branch(t as u16, i));
                            }
                            let op = slot.ops.last().expect("just pushed").op.clone();
                            drop(slot);
                            beat.enter_step();
                            let out = catch_quietly(|| sys.call(client, &op));
                            beat.leave_step();
                            let ret = clock.fetch_add(1, Ordering::SeqCst);
                            call_clock.after();
                            slot = slots[t].lock().unwrap_or_else(|e| e.into_inner());
                            if let Some(ns) = call_clock.ns {
                                slot.latencies.record(op.rule_index(), ns);
                            }
                            let last = slot.ops.last_mut().expect("pushed before the call");
                            match out {
                                Ok(out) => {
                                    if program_mode && uses_vars {
                                        own.push(out.clone());
                                    }
                                    last.ret = Some(ret);
                                    last.output = Some(out);
                                }
                                Err(message) => {
                                    slot.trouble = Some(Trouble::Panicked(
                                        format!("a call on thread {t} panicked: {message}"),
                                        Some(call),
                                    ));
                                    break;
                                }
                            }
                        }
                        drop(slot);
                        gate.done();
                    }
                });
            match spawned {
                Ok(handle) => handles.push(handle),
                Err(e) => {
                    // The threads started so far end at the closed gate.
                    closing.open(0, 0);
                    return Err(self.plan.error(
                        "threads",
                        format!(
                            "could not start thread {t} of {threads}: {e} (try fewer `threads`)"
                        ),
                    ));
                }
            }
        }
        {
            let mut history = History {
                ops: Vec::with_capacity(plan.reserve(threads as u64 * u64::from(plan.round))),
                sources: Vec::new(),
                steps: Vec::new(),
            };
            let mut round = 0u64;
            loop {
                let remaining = budget.map(|b| b.saturating_sub(done));
                let out_of_time = duration.is_some_and(|d| began.elapsed() >= d);
                if remaining == Some(0) || out_of_time || result.verdict != StressVerdict::Pass {
                    gate.open(0, 0);
                    break;
                }
                let per = remaining.map_or(u64::from(plan.round), |r| {
                    r.div_ceil(threads as u64).min(u64::from(plan.round))
                });
                if let Some(drawer) = drawer.as_mut() {
                    let left = remaining.unwrap_or(u64::MAX);
                    let quotas: Vec<u64> = (0..threads as u64)
                        .map(|t| per.min(left.saturating_sub(t * per)))
                        .collect();
                    match drawer.draw(round, &starts, &quotas) {
                        Ok(program) => {
                            for (slot, branch) in slots.iter().zip(&program.branches) {
                                let mut slot = slot.lock().unwrap_or_else(|e| e.into_inner());
                                slot.branch.clone_from(branch);
                            }
                            drawn_round = Some(program);
                        }
                        Err(e) => {
                            gen_error = Some((done, e));
                            result.verdict = StressVerdict::Undecided;
                            continue;
                        }
                    }
                }
                gate.open(per, remaining.unwrap_or(u64::MAX));
                if let Err(t) = gate.wait_all(threads, &beats, &mut watches, timeout) {
                    // The others finish their round and end; thread `t` is abandoned.
                    gate.open(0, 0);
                    let f = self.hang(&slots, t, done, round, &mut history);
                    max_history = max_history.max(history.ops.len() as u64);
                    done += history.ops.len() as u64;
                    result.verdict = StressVerdict::Mismatch;
                    result.failure = Some(f);
                    hung = Some(t);
                    break;
                }
                let mut trouble = None;
                for slot in slots.iter() {
                    let mut slot = slot.lock().unwrap_or_else(|e| e.into_inner());
                    history.ops.append(&mut slot.ops);
                    history.steps.append(&mut slot.steps);
                    trouble = trouble.or(slot.trouble.take());
                }
                let before = done;
                done += history.ops.len() as u64;
                max_history = max_history.max(history.ops.len() as u64);
                progress.tick(done);
                if done >= next_sample {
                    fit.pace.add(done, began.elapsed());
                    let bytes = match gauge.take() {
                        Some(g) => {
                            let sys = Arc::clone(&system);
                            // The gauge comes back from its thread with its reading.
                            match within(timeout, "gauge", move || {
                                let bytes = catch_quietly(|| g(&sys));
                                (g, bytes)
                            }) {
                                Within::Done((g, Ok(bytes))) => {
                                    gauge = Some(g);
                                    Some(bytes)
                                }
                                Within::Done((_, Err(message))) | Within::Panicked(message) => {
                                    let cause = format!("the gauge panicked: {message}");
                                    self.end_round(&mut result, cause, done, round, &history);
                                    history.ops.clear();
                                    history.steps.clear();
                                    continue;
                                }
                                Within::Hung => {
                                    let cause = hang_cause("gauge", plan.step_timeout_ms);
                                    self.end_round(&mut result, cause, done, round, &history);
                                    history.ops.clear();
                                    history.steps.clear();
                                    continue;
                                }
                            }
                        }
                        None if rss => resident_bytes(),
                        None => None,
                    };
                    if let Some(b) = bytes {
                        fit.add(done, b);
                    }
                    next_sample = done + plan.sample_every;
                }
                let mut unbound = None;
                match trouble {
                    Some(Trouble::Unbound(message)) => unbound = Some(message),
                    Some(Trouble::Gen(e)) => {
                        gen_error = Some((done, e));
                        result.verdict = StressVerdict::Undecided;
                        continue;
                    }
                    Some(Trouble::Panicked(message, call)) => {
                        result.verdict = StressVerdict::Mismatch;
                        // The operation that panicked, numbered by its invocation.
                        let at = match call {
                            Some(c) => {
                                before + history.ops.iter().filter(|o| o.call < c).count() as u64
                            }
                            None => done.saturating_sub(1),
                        };
                        let mut f = failure_at(at, message);
                        f.round = Some(round);
                        f.thread = u32::try_from(
                            history
                                .ops
                                .iter()
                                .find(|o| Some(o.call) == call)
                                .map_or(0, |o| o.client),
                        )
                        .ok()
                        .filter(|_| call.is_some());
                        f.window = window(&history);
                        result.failure = Some(f);
                        continue;
                    }
                    None => {}
                }
                // The round as a program: the one drawn, or the threads' operations.
                let program = || drawn_round.clone().unwrap_or_else(|| as_program(&history));
                match judge_round(&history, &starts, plan.max_end_states, &config) {
                    // A step whose `Var` did not bind is a failure unless the history already
                    // is (then the violation says more).
                    RoundVerdict::Next(_) | RoundVerdict::Undecided(_) if unbound.is_some() => {
                        result.verdict = StressVerdict::Mismatch;
                        let mut f = failure_at(done, unbound.take().unwrap_or_default());
                        f.round = Some(round);
                        f.window = window(&history);
                        result.failure = Some(f);
                    }
                    RoundVerdict::Next(next) => {
                        earlier.push(&history);
                        let held = coordinator
                            .invariant(round, done, || invariant_somewhere(&*system, &next));
                        if let Err(why) = held {
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
                        failed_round = Some((round, program()));
                        result.failure = Some(violation(
                            &history,
                            &program(),
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
                history.steps.clear();
                round += 1;
                if let Some(t) = &throttle {
                    t.pace(began, done);
                }
            }
        }
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
        if hung.is_none() {
            for handle in handles {
                let _ = handle.join();
            }
            // A gauge that hung still holds the system: then there is no teardown.
            if let Ok(mut system) = Arc::try_unwrap(system) {
                // A teardown that panics is not the run's failure (as before the watchdog).
                let torn = within(timeout, "teardown", move || system.teardown());
                if let Within::Hung = torn {
                    let cause = hang_cause("teardown", plan.step_timeout_ms);
                    if result.failure.is_none() {
                        result.verdict = StressVerdict::Mismatch;
                        result.failure = Some(failure_at(done, cause));
                    } else {
                        result
                            .notes
                            .push(format!("stateprop: after the failure, {cause}"));
                    }
                }
            }
        }
        if let (Some((round, program)), Some(f)) = (failed_round, result.failure.as_mut()) {
            if !self.silent() {
                // Said now, in case the retries that follow take long or go wrong.
                eprintln!(
                    "stateprop: round {round} failed at operation {}: {}; trying it again on \
                     fresh systems",
                    f.operation, f.cause
                );
            }
            investigate(
                self.shrink_config(),
                &self.initial,
                self.replay_call("replay_concurrent_with"),
                factory,
                program,
                round,
                &earlier,
                program_mode,
                seed,
                caller,
                f,
            );
        }
        if let Some(drawer) = &drawer {
            result.notes.push(drawer.note());
        }
        let mut latencies = Latencies::new(names.len());
        for (t, slot) in slots.iter().enumerate() {
            if hung == Some(t) {
                // Its thread may still be inside the call: its latencies are not read.
                continue;
            }
            latencies.merge(&slot.lock().unwrap_or_else(|e| e.into_inner()).latencies);
        }
        let (by_rule, overall) = latencies.summary(&names);
        result.operations = done;
        result.elapsed_secs = elapsed.as_secs_f64();
        result.throughput = done as f64 / elapsed.as_secs_f64().max(1e-9);
        result.latencies = by_rule;
        result.overall = overall;
        result.growth = fit.result(source);
        result.pace = fit.pace.result();
        result.max_history_ops = Some(max_history);
        if result.verdict == StressVerdict::Pass {
            result.broken_limits = broken_limits(&result);
            if !result.broken_limits.is_empty() {
                result.verdict = StressVerdict::LimitBroken;
            }
        }
        Ok(self.finish(result))
    }

    /// The failure of a run whose thread `t` stayed inside one call past the step timeout, in
    /// the round after `done` operations: the call, numbered by its invocation among the
    /// round's, and the round's operations so far (copied: the other threads may still be
    /// finishing theirs) left in `history`.
    fn hang(
        &self,
        slots: &[Mutex<Slot<M>>],
        t: usize,
        done: u64,
        round: u64,
        history: &mut History<M::Op, M::Output>,
    ) -> StressFailure {
        for slot in slots {
            let slot = slot.lock().unwrap_or_else(|e| e.into_inner());
            history.ops.extend(slot.ops.iter().cloned());
        }
        let pending = history
            .ops
            .iter()
            .filter(|o| o.client == t as u64 && o.ret.is_none())
            .max_by_key(|o| o.call);
        let ms = self.plan.step_timeout_ms;
        let (at, cause) = match pending {
            Some(o) => {
                let at = done + history.ops.iter().filter(|p| p.call < o.call).count() as u64;
                let cause = format!(
                    "hang: the call {} on thread {t} (operation {at}) did not return within \
                     {ms} ms (`step_timeout_ms`); its thread was abandoned",
                    o.op.to_rust()
                );
                (at, cause)
            }
            None => (
                done,
                format!(
                    "hang: connecting client {t} did not return within {ms} ms \
                     (`step_timeout_ms`); its thread was abandoned"
                ),
            ),
        };
        let mut f = failure_at(at, cause);
        f.round = Some(round);
        f.thread = u32::try_from(t).ok();
        f.window = window(history);
        f
    }

    /// Ends the run at the barrier after round `round` (`done` operations) with `cause`, a
    /// failure of the harness's own calls (the gauge), the round's operations as its window.
    fn end_round(
        &self,
        result: &mut StressResult,
        cause: String,
        done: u64,
        round: u64,
        history: &History<M::Op, M::Output>,
    ) {
        result.verdict = StressVerdict::Mismatch;
        let mut f = failure_at(done, cause);
        f.round = Some(round);
        f.window = window(history);
        result.failure = Some(f);
    }

    /// Writes and prints the result.
    pub(super) fn finish(&self, mut result: StressResult) -> StressResult {
        self.record(&mut result);
        if !self.quiet {
            eprint!("{}", result.text());
        }
        result
    }
}
