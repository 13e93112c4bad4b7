//! The threads executor: a program's prefix on the calling thread, then each branch on a real
//! thread of its own, all branches released together, every operation recorded in a
//! [`History`] for a history judge (linearizability) to hold against the model.
//!
//! # What a recorded history means
//!
//! - **Operations and steps.** Each operation that was invoked is one [`Operation`], and
//!   `History.steps` holds the [`StepId`] of the program step it ran, in the same order. The
//!   operation is recorded with its `Var` fields bound to the *system's* outputs of the steps
//!   they name (the values the system was actually called with). A step whose `Var` did not
//!   resolve was never invoked and is not in the history; the execution fails there instead.
//! - **Clients.** The prefix runs as client 0; branch `b` as client `b + 1`. Each client has at
//!   most one operation in flight, as the checkers require.
//! - **Times.** `call` and `ret` come from one logical clock shared by all threads, advanced by
//!   an atomic read-modify-write immediately before the system is called and immediately after
//!   it returns. So if one operation returned before another was invoked, its `ret` is smaller
//!   than the other's `call`: real-time order is kept, and operations whose intervals overlap
//!   really may have run at the same time. The numbers are only ordered, never durations.
//! - **Unknown outcomes.** An operation whose call panicked is recorded with `ret` and `output`
//!   `None`: it may have taken effect at any point after its call, or not at all, and a checker
//!   must allow both. Its branch runs no further step (the client's state is unknown), while the
//!   other branches run to their end.
//! - **Failures.** The execution's `failure` is set only for what the executor itself sees: the
//!   factory panicking (set-up), a call panicking, a `Var` that does not resolve, `teardown`
//!   panicking. Whether the history is correct is for the caller's judges; a hang is reported by
//!   the watchdog ([`super::watchdog::run_watched`]), which names the branch step that did not
//!   return, because the thread running it cannot be stopped.
//!
//! Vars in a branch bind through [`BranchOutputs`]: the prefix's outputs and the branch's own
//! earlier ones, never another branch's.

use super::client::ClientSystem;
use super::parallel::ParallelShape;
use super::watchdog::{Beat, Heartbeat};
use super::{Execution, Executor, Generated, Recording};
use crate::catch::catch;
use crate::failure::{Failure, FailureKind};
use crate::generate::{CaseGenerator, GenError};
use crate::hash::mix;
use crate::history::{History, Operation};
use crate::program::{BranchOutputs, Outputs, Program, StepId};
use crate::spec::{Model, StateMachine};
use pool::{Job, Pool};
use std::marker::PhantomData;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};

mod pool;

/// A system under test shared by several threads, each calling it through `&self`.
///
/// The concurrent counterpart of [`System`](crate::System): a lock-free structure, a store
/// behind a mutex, a client of a server. A fresh one is built for every run of a program, so
/// runs do not leak state into each other. A call that panics is recorded as an operation whose
/// outcome is unknown, and reported. A system that each thread must call through a handle of
/// its own (a connection, a session) implements [`ClientSystem`](crate::ClientSystem) instead.
///
/// ```
/// use stateprop::models::{Counter, CounterOp, CounterOut};
/// use stateprop::ConcurrentSystem;
/// use std::sync::atomic::{AtomicI64, Ordering};
///
/// #[derive(Default)]
/// struct AtomicCounter(AtomicI64);
///
/// impl ConcurrentSystem<Counter> for AtomicCounter {
///     fn apply(&self, op: &CounterOp) -> CounterOut {
///         match *op {
///             CounterOp::Add { by } => {
///                 self.0.fetch_add(by, Ordering::SeqCst);
///                 CounterOut::Done
///             }
///             CounterOp::Read => CounterOut::Value(self.0.load(Ordering::SeqCst)),
///         }
///     }
/// }
/// ```
pub trait ConcurrentSystem<M: Model>: Send + Sync {
    /// Applies `op` to the real system and returns its answer; called from several threads at
    /// once.
    fn apply(&self, op: &M::Op) -> M::Output;

    /// Checks the system's internal consistency against a model state it may be in; return
    /// `Err` with a message that says what is broken. The default accepts everything.
    ///
    /// Called after the prefix, against the model after it, and after every branch has joined
    /// (before [`teardown`](ConcurrentSystem::teardown)), against the end states of the
    /// linearizations of the recorded history: the system is in one of them and nothing tells
    /// which, so the invariant fails only if it fails in every one. A history with no
    /// linearization (the history judge reports it) or too many to walk is not judged.
    fn invariant(&self, model: &M) -> Result<(), String> {
        let _ = model;
        Ok(())
    }

    /// Runs after every run of a program, once every thread has finished (close files, stop
    /// threads).
    fn teardown(&mut self) {}
}

/// Runs the prefix on the calling thread, then every branch on a thread of its own.
pub(crate) struct Threads<M, S, F> {
    /// The model state programs start from (generation needs it; judging is the caller's).
    initial: M,
    factory: F,
    /// The shape of the programs it generates.
    shape: ParallelShape,
    /// The branch threads, started at the first run and kept for every later one.
    pool: Pool,
    /// The seed of the pauses before branch steps ([`Config::perturb`](crate::Config::perturb)),
    /// if they are on.
    perturb: Option<u64>,
    /// Runs so far: with the seed, it draws each run's pauses.
    runs: std::cell::Cell<u64>,
    system: PhantomData<fn() -> S>,
}

impl<M, S, F: Fn() -> S> Threads<M, S, F> {
    /// An executor of programs generated from `initial`, building a fresh system with
    /// `factory` for every run; it generates programs of the default configuration's shape.
    pub(crate) fn new(initial: M, factory: F) -> Self {
        Threads {
            initial,
            factory,
            shape: ParallelShape::of(&crate::Config::default()),
            pool: Pool::default(),
            perturb: None,
            runs: std::cell::Cell::new(0),
            system: PhantomData,
        }
    }

    /// Pauses before branch steps, drawn from `seed` (see `Config::perturb`), if `on`.
    pub(crate) fn perturb(mut self, on: bool, seed: u64) -> Self {
        self.perturb = on.then_some(seed);
        self
    }

    /// Generates programs of `shape`.
    pub(crate) fn shape(mut self, shape: ParallelShape) -> Self {
        self.shape = shape;
        self
    }
}

/// The runs of [`Threads::execute_repeated`].
#[cfg_attr(not(test), allow(dead_code))]
pub(crate) struct Repeated<M: Model, J> {
    /// The run that failed or was rejected, else the last one.
    pub(crate) execution: Execution<M>,
    /// How many runs there were, that one included.
    pub(crate) runs: u32,
    /// What the judge said about that run's history, if it rejected it.
    pub(crate) rejected: Option<J>,
}

// The run loop repeats programs itself (`run::engine`), through any executor; this form, with
// its judge over the raw history, serves the executor's own tests.
#[cfg_attr(not(test), allow(dead_code))]
impl<M: Model, S, F: Fn() -> S> Threads<M, S, F> {
    /// Runs `program` up to `repeats` times, each from a fresh system, and stops at the first
    /// run that fails or whose history `judge` rejects (`Some`). A race shows only in some
    /// interleavings, so one run proves little; the judge is the caller's, so any history
    /// check fits. Every run records a history, since the judge needs one.
    pub(crate) fn execute_repeated<J>(
        &self,
        program: &Program<M::Op>,
        recording: Recording,
        hb: &Heartbeat,
        repeats: u32,
        mut judge: impl FnMut(&History<M::Op, M::Output>) -> Option<J>,
    ) -> Repeated<M, J>
    where
        Self: Executor<M>,
    {
        let recording = Recording {
            history: true,
            ..recording
        };
        let mut runs = 0;
        loop {
            runs += 1;
            let execution = self.execute(program, recording, hb);
            let rejected = match (&execution.failure, &execution.history) {
                (None, Some(history)) => judge(history),
                _ => None,
            };
            let done = execution.failure.is_some() || rejected.is_some();
            // An abandoned worker (a step hung and was reported) must not go on running.
            if done || runs >= repeats.max(1) || hb.abandoned() {
                return Repeated {
                    execution,
                    runs,
                    rejected,
                };
            }
        }
    }
}

/// A branch thread's stack: as large as the worker's, so a system that recurses deeply fails
/// the same way on either.
const STACK_SIZE: usize = 16 << 20;

impl<M, S, F> Executor<M> for Threads<M, S, F>
where
    M: Model + std::hash::Hash + Eq,
    M::Op: Send + Sync,
    M::Output: Send + Sync,
    S: ClientSystem<M> + 'static,
    F: Fn() -> S,
{
    fn initial(&self) -> &M {
        &self.initial
    }

    fn execute(
        &self,
        program: &Program<M::Op>,
        recording: Recording,
        hb: &Heartbeat,
    ) -> Execution<M> {
        hb.restart_steps();
        let sut = match catch(&self.factory) {
            Ok(sut) => Arc::new(sut),
            Err(message) => return Execution::set_up_failed(message, recording),
        };
        let clock = Arc::new(AtomicU64::new(0));
        let mut prefix = Lane::<M>::new(0, recording);
        if !program.prefix.is_empty() {
            let ops = &program.prefix;
            run_with_client(&mut prefix, &*sut, ops, &[], &clock, hb.main(), || true);
        }
        let failure = prefix.failure.take().map(|(_, f)| f);
        let (failure, mut lanes) = super::joined::after_the_prefix(
            prefix,
            failure,
            |m| sut.invariant(m),
            &self.initial,
            program,
            recording,
            |outputs| self.run_branches(&sut, program, outputs, &clock, recording, hb),
        );
        let teardown = match Arc::try_unwrap(sut) {
            Ok(mut sut) => catch(|| sut.teardown())
                .map_err(|message| super::teardown_failure(program.steps().last(), message)),
            // Every branch hands its share back before reporting, so this cannot happen.
            Err(_) => panic!("stateprop: a branch thread kept the system past its run"),
        };
        Execution {
            failure: failure.or(teardown.err()),
            history: recording.history.then(|| merge(&mut lanes)),
            trace: lanes.iter_mut().flat_map(|l| l.trace.drain(..)).collect(),
        }
    }

    /// Generates a parallel program of the executor's shape, drawn from the case's plan, and
    /// runs it once (the run loop repeats it). A branch cannot stop early where the model
    /// would, so the whole program is generated first.
    fn execute_generated(
        &self,
        plan: &mut CaseGenerator,
        recording: Recording,
        hb: &Heartbeat,
        rules: &mut [(&'static str, u64)],
    ) -> Result<Generated<M>, (GenError, usize)> {
        super::parallel::generate_then_execute(self, &self.shape, plan, recording, hb, rules)
    }
}

/// An operation as recorded, with the step it ran.
pub(super) type Recorded<M> = (StepId, Operation<<M as Model>::Op, <M as Model>::Output>);

/// What one thread (the prefix, or a branch) recorded; the scheduled and tasks executors record
/// the same.
pub(super) struct Lane<M: Model> {
    client: u64,
    pub(super) branch: Option<u16>,
    recording: Recording,
    /// The system's outputs, by index, for `Var`s of later steps (kept only if the machine has
    /// vars).
    pub(super) outputs: Vec<M::Output>,
    pub(super) ops: Vec<Recorded<M>>,
    pub(super) trace: Vec<String>,
    /// The branch's failure, with the clock's reading when it happened.
    pub(super) failure: Option<(u64, Failure)>,
    /// The seed of this lane's pauses before each step, if they are on.
    perturb: Option<u64>,
}

impl<M: Model> Lane<M> {
    pub(super) fn new(client: u64, recording: Recording) -> Self {
        Lane {
            client,
            branch: client.checked_sub(1).map(|b| b as u16),
            recording,
            outputs: Vec::new(),
            ops: Vec::new(),
            trace: Vec::new(),
            failure: None,
            perturb: None,
        }
    }

    /// Records that making or dropping (`doing`) the lane's client panicked with `message`:
    /// the lane's failure, at its first step.
    fn client_failed(&mut self, ops: &[M::Op], clock: &AtomicU64, doing: &str, message: String) {
        let client = self.client;
        let failure = Failure {
            step: Some(self.id(0)),
            op: ops.first().map(StateMachine::to_rust),
            kind: FailureKind::Panic {
                message: format!("{doing} client {client}: {message}"),
            },
        };
        self.failure = Some((clock.load(Ordering::Acquire), failure));
    }

    pub(super) fn id(&self, index: usize) -> StepId {
        match self.branch {
            None => StepId::prefix(index),
            Some(b) => StepId::in_branch(b, index),
        }
    }

    pub(super) fn returned(
        &mut self,
        op: M::Op,
        index: usize,
        call: u64,
        ret: u64,
        output: M::Output,
    ) {
        let id = self.id(index);
        if self.recording.trace {
            let client = self.client;
            self.trace.push(format!(
                "{id} (client {client}, {call}..{ret}): {} -> {output:?}",
                op.to_rust()
            ));
        }
        if M::Op::uses_vars() {
            self.outputs.push(output.clone());
        }
        if self.recording.history {
            let operation = Operation {
                client: self.client,
                op,
                call,
                ret: Some(ret),
                output: Some(output),
            };
            self.ops.push((id, operation));
        }
    }

    pub(super) fn unknown(&mut self, op: M::Op, id: StepId, call: u64) {
        if self.recording.trace {
            let client = self.client;
            self.trace.push(format!(
                "{id} (client {client}, {call}..): {} -> panicked, outcome unknown",
                op.to_rust()
            ));
        }
        if self.recording.history {
            let operation = Operation {
                client: self.client,
                op,
                call,
                ret: None,
                output: None,
            };
            self.ops.push((id, operation));
        }
    }
}

/// How one call went.
pub(super) enum Called<Op, Out> {
    /// It returned `output`; with the bound operation and its call and return times.
    Returned(Op, u64, u64, Out),
    /// It panicked after being invoked at the given time: its outcome is unknown.
    Panicked(Op, u64, Failure),
    /// A `Var` did not resolve, so it was never invoked.
    Unbound(Failure),
}

/// Binds `op`'s vars in `outputs`, then calls the system through `client`, timing the call on `clock` and
/// beating on `beat` around it.
pub(super) fn call<M: Model, S: ClientSystem<M>>(
    sut: &S,
    client: &mut S::Client,
    op: &M::Op,
    id: StepId,
    outputs: &(impl Outputs<M::Output> + ?Sized),
    clock: &AtomicU64,
    beat: &Beat,
) -> Called<M::Op, M::Output> {
    let fail = |kind| Failure {
        step: Some(id),
        op: Some(op.to_rust()),
        kind,
    };
    let mut bound = op.clone();
    if M::Op::uses_vars() && !bound.bind_vars(outputs) {
        return Called::Unbound(fail(FailureKind::UnboundVar));
    }
    beat.enter_step();
    // AcqRel: a call that reads the clock after another's return also sees everything that
    // operation did to the system, so the recorded order is one the system could have shown.
    let call = clock.fetch_add(1, Ordering::AcqRel);
    let result = catch(|| sut.call(client, &bound));
    let ret = clock.fetch_add(1, Ordering::AcqRel);
    beat.leave_step();
    match result {
        Ok(output) => Called::Returned(bound, call, ret, output),
        Err(message) => Called::Panicked(bound, call, fail(FailureKind::Panic { message })),
    }
}

impl<M, S, F> Threads<M, S, F>
where
    M: Model,
    M::Op: Send + Sync,
    M::Output: Send + Sync,
    S: ClientSystem<M> + 'static,
{
    /// Runs every branch on its thread of the pool, released together, and waits for all of
    /// them.
    ///
    /// # Panics
    /// If a thread cannot be started (the worker reports it as stateprop's own error); none of
    /// the branches has run then. Also if a branch thread panicked outside the system's calls
    /// (stateprop's own error, passed on).
    fn run_branches(
        &self,
        sut: &Arc<S>,
        program: &Program<M::Op>,
        prefix: &[M::Output],
        clock: &Arc<AtomicU64>,
        recording: Recording,
        hb: &Heartbeat,
    ) -> Vec<Lane<M>> {
        let count = program.branches.len();
        let beats = hb.watch_branches(count);
        let start = Arc::new(StartLine::new(count));
        let run = self.runs.get();
        self.runs.set(run + 1);
        let perturb = self.perturb.map(|seed| mix(seed ^ mix(run)));
        let prefix: Arc<[M::Output]> = prefix.into();
        let (done, finished) = mpsc::channel();
        let jobs = program.branches.iter().enumerate().map(|(b, ops)| {
            let (sut, clock, beats, start, prefix) = (
                Arc::clone(sut),
                Arc::clone(clock),
                Arc::clone(&beats),
                Arc::clone(&start),
                Arc::clone(&prefix),
            );
            let ops = ops.clone();
            let mut report = Report {
                branch: b,
                done: Some(done.clone()),
                start: Arc::clone(&start),
            };
            Box::new(move || {
                let lane = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    // `Program::parallel` keeps the count within u16.
                    let mut lane = Lane::new(b as u64 + 1, recording);
                    lane.perturb = perturb.map(|seed| mix(seed ^ b as u64));
                    let ready = || start.wait();
                    run_with_client(&mut lane, &*sut, &ops, &prefix, &clock, &beats[b], ready);
                    lane
                }));
                // The system goes back to the caller, for its teardown, before the lane does.
                drop(sut);
                report.send(lane);
            }) as Job
        });
        if let Err(e) = self.pool.dispatch(jobs.collect()) {
            // Not the system's doing, so not reported as its failure; the branches already
            // handed out are released without running.
            start.abort();
            panic!("stateprop: {e}");
        }
        drop(done);
        let mut lanes: Vec<Option<Lane<M>>> = (0..count).map(|_| None).collect();
        for (b, lane) in finished.iter().take(count) {
            // A panic that escaped a branch is stateprop's own: the worker reports it as an
            // internal error.
            lanes[b] = Some(lane.unwrap_or_else(|p| std::panic::resume_unwind(p)));
        }
        hb.unwatch_branches();
        lanes
            .into_iter()
            .map(|lane| lane.expect("stateprop: a branch thread ended without reporting"))
            .collect()
    }
}

/// What a branch's job sends back: its lane, or the panic that escaped it.
type Sent<M> = (usize, std::thread::Result<Lane<M>>);

/// Sends a branch's lane back to the run; if the job is dropped without having run (its
/// worker ended first), it calls the run off and says so instead, so that neither the run nor
/// the other branches, waiting at the start line, wait for it forever.
struct Report<M: Model> {
    branch: usize,
    done: Option<mpsc::Sender<Sent<M>>>,
    start: Arc<StartLine>,
}

impl<M: Model> Report<M> {
    fn send(&mut self, lane: std::thread::Result<Lane<M>>) {
        if let Some(done) = self.done.take() {
            // The run is gone only if it was abandoned.
            let _ = done.send((self.branch, lane));
        }
    }
}

impl<M: Model> Drop for Report<M> {
    fn drop(&mut self) {
        if self.done.is_some() {
            self.start.abort();
            let b = self.branch;
            let message = format!("stateprop: the thread of branch {b} ended before running it");
            self.send(Err(Box::new(message)));
        }
    }
}

/// Runs a lane through a client of its own: makes the client, waits until `ready` (the
/// branches' start line; `false` calls the run off), runs the lane's steps `ops`, and drops the
/// client. `prefix` holds the prefix's outputs for a branch's `Var`s.
pub(super) fn run_with_client<M: Model, S: ClientSystem<M>>(
    lane: &mut Lane<M>,
    sut: &S,
    ops: &[M::Op],
    prefix: &[M::Output],
    clock: &AtomicU64,
    beat: &Beat,
    ready: impl FnOnce() -> bool,
) {
    let client = connect(sut, lane, ops, clock, beat);
    // Every lane reaches the start line, whether its client was made or not.
    let go = ready();
    if let Some(mut client) = client {
        if go {
            run_lane(lane, sut, &mut client, ops, prefix, clock, beat);
        }
        disconnect::<M, S>(lane, client, ops, clock);
    }
}

/// Makes `lane`'s client, on the thread that will use it, watched on `beat` (a connection
/// that never opens is a hang at the lane's first step); a panic is the lane's failure, at its
/// first step (which then never runs).
fn connect<M: Model, S: ClientSystem<M>>(
    sut: &S,
    lane: &mut Lane<M>,
    ops: &[M::Op],
    clock: &AtomicU64,
    beat: &Beat,
) -> Option<S::Client> {
    beat.enter_step();
    let made = catch(|| sut.connect(lane.client));
    beat.leave_set_up();
    made.map_err(|message| lane.client_failed(ops, clock, "making", message))
        .ok()
}

/// Drops `lane`'s client; a panic in its `Drop` is the lane's failure (unless it already
/// failed), at its first step.
fn disconnect<M: Model, S: ClientSystem<M>>(
    lane: &mut Lane<M>,
    client: S::Client,
    ops: &[M::Op],
    clock: &AtomicU64,
) {
    if let Err(message) = catch(move || drop(client)) {
        if lane.failure.is_none() {
            lane.client_failed(ops, clock, "dropping", message);
        }
    }
}

/// One lane (the prefix, or a branch after it), in order, through `client`, until its end or
/// its first failure. `prefix` holds the prefix's outputs for a branch's `Var`s; the prefix's
/// own are its lane's.
fn run_lane<M: Model, S: ClientSystem<M>>(
    lane: &mut Lane<M>,
    sut: &S,
    client: &mut S::Client,
    ops: &[M::Op],
    prefix: &[M::Output],
    clock: &AtomicU64,
    beat: &Beat,
) {
    for (i, op) in ops.iter().enumerate() {
        let id = lane.id(i);
        if let Some(seed) = lane.perturb {
            pause(mix(seed ^ mix(i as u64)));
        }
        let called = match lane.branch {
            None => call(sut, client, op, id, lane.outputs.as_slice(), clock, beat),
            Some(branch) => {
                let outputs = BranchOutputs {
                    prefix,
                    branch,
                    own: &lane.outputs,
                };
                call(sut, client, op, id, &outputs, clock, beat)
            }
        };
        match called {
            Called::Returned(bound, call, ret, out) => lane.returned(bound, i, call, ret, out),
            Called::Panicked(bound, call, f) => {
                lane.unknown(bound, id, call);
                lane.failure = Some((call, f));
                return;
            }
            Called::Unbound(f) => {
                lane.failure = Some((clock.load(Ordering::Acquire), f));
                return;
            }
        }
    }
}

/// A pause before a branch step, drawn from `draw`: none in five of eight steps, a spin of up
/// to 511 iterations in two, a `yield_now` in one.
fn pause(draw: u64) {
    match draw % 8 {
        0 => std::thread::yield_now(),
        1 | 2 => {
            for _ in 0..(draw >> 8) % 512 {
                std::hint::spin_loop();
            }
        }
        _ => {}
    }
}

/// The branches' failure that happened first on the shared clock: the cause.
pub(super) fn first_failure<M: Model>(branches: &[Lane<M>]) -> Option<Failure> {
    branches
        .iter()
        .filter_map(|lane| lane.failure.clone())
        .min_by_key(|(when, _)| *when)
        .map(|(_, f)| f)
}

/// Every lane's operations in one history, ordered by call time (the prefix first, as it ran
/// first).
pub(super) fn merge<M: Model>(lanes: &mut [Lane<M>]) -> History<M::Op, M::Output> {
    let mut all: Vec<_> = lanes.iter_mut().flat_map(|l| l.ops.drain(..)).collect();
    all.sort_by_key(|(_, op)| op.call);
    let mut history = History::new();
    for (id, op) in all {
        history.ops.push(op);
        history.steps.push(id);
    }
    history
}

/// Releases the branch threads together once all have started, so their first steps overlap
/// as much as the machine allows (a thread that starts late would otherwise run its branch
/// alone). Spins rather than sleeps: waking sleeping threads one by one would stagger them
/// again.
struct StartLine {
    arrived: AtomicUsize,
    count: usize,
    aborted: AtomicBool,
}

impl StartLine {
    fn new(count: usize) -> Self {
        StartLine {
            arrived: AtomicUsize::new(0),
            count,
            aborted: AtomicBool::new(false),
        }
    }

    /// Waits for every thread; `false` if the run was called off instead.
    fn wait(&self) -> bool {
        self.arrived.fetch_add(1, Ordering::AcqRel);
        loop {
            if self.aborted.load(Ordering::Acquire) {
                return false;
            }
            if self.arrived.load(Ordering::Acquire) >= self.count {
                return true;
            }
            // More threads than cores is the common case on small machines: let the late ones run.
            std::thread::yield_now();
        }
    }

    /// Calls the run off: threads waiting, and those yet to arrive, return without running.
    fn abort(&self) {
        self.aborted.store(true, Ordering::Release);
    }
}

#[cfg(test)]
mod tests;
