//! The tasks executor (cargo feature `tokio`): a program's prefix awaited in order, then each
//! branch as a task of its own on a multi-threaded tokio runtime, all branches released
//! together, every operation recorded in a [`History`] exactly as the threads executor records
//! it (see `threads` for what the history means). For systems whose operations are `async`: a
//! client of a server, a store behind async locks.
//!
//! The runtime is built once per executor, with a worker thread per branch (at least two), so
//! the branches' tasks can run on different threads at once. Invoke and return are stamped on
//! one atomic clock immediately before the operation's future is first polled and immediately
//! after it completes, so real-time order is never invented. A task that panics is an unknown
//! outcome, as in `threads`; a future that never completes is a hang the watchdog reports with
//! its branch step (the branch's beat is entered before the future is polled).

use super::parallel::ParallelShape;
use super::threads::{merge, Lane};
use super::watchdog::{Beat, Heartbeat};
use super::{Execution, Executor, Generated, Recording};
use crate::catch::catch;
use crate::failure::{Failure, FailureKind};
use crate::generate::{CaseGenerator, GenError};
use crate::program::{BranchOutputs, Outputs, Program, StepId};
use crate::spec::{Model, StateMachine};
use std::future::Future;
use std::marker::PhantomData;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// A system under test whose operations are `async`, shared by several tasks, each calling it
/// through `&self`: the async counterpart of [`ConcurrentSystem`](crate::ConcurrentSystem).
///
/// A fresh one is built for every run of a program. The future must be `Send`, since branches
/// run as tasks on a multi-threaded runtime.
///
/// ```
/// use stateprop::models::{Counter, CounterOp, CounterOut};
/// use stateprop::AsyncSystem;
/// use std::sync::atomic::{AtomicI64, Ordering};
///
/// #[derive(Default)]
/// struct AtomicCounter(AtomicI64);
///
/// impl AsyncSystem<Counter> for AtomicCounter {
///     // An `async fn` implements the trait's method; its future must be `Send`.
///     async fn apply(&self, op: &CounterOp) -> CounterOut {
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
pub trait AsyncSystem<M: Model>: Send + Sync {
    /// Applies `op` to the real system; its future resolves to the system's answer. Called from
    /// several tasks at once.
    fn apply(&self, op: &M::Op) -> impl Future<Output = M::Output> + Send;

    /// Checks the system's internal consistency against a model state it may be in, outside
    /// the runtime; the default accepts everything. Asked when
    /// [`ConcurrentSystem::invariant`](crate::ConcurrentSystem::invariant) is: after the prefix,
    /// and after the branches join against every end state of the history's linearizations,
    /// failing only if it fails in all of them.
    fn invariant(&self, model: &M) -> Result<(), String> {
        let _ = model;
        Ok(())
    }

    /// Runs after every run of a program, once every task has finished.
    fn teardown(&mut self) {}
}

/// Runs the prefix, then every branch as a task, on a tokio runtime of its own.
pub(crate) struct Tasks<M, S, F> {
    initial: M,
    factory: F,
    shape: ParallelShape,
    runtime: tokio::runtime::Runtime,
    system: PhantomData<fn() -> S>,
}

impl<M, S, F: Fn() -> S> Tasks<M, S, F> {
    /// An executor of programs of `shape` generated from `initial`, building a fresh system with
    /// `factory` for every run.
    ///
    /// # Panics
    /// If the runtime cannot be built (the worker reports it as stateprop's own error).
    pub(crate) fn new(initial: M, factory: F, shape: ParallelShape) -> Self {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(shape.branches.max(2))
            // Timers (and sockets, where the user's tokio has them) work in the system's code.
            .enable_all()
            .thread_name("stateprop-task")
            // The system's panics are reported, not printed over the report.
            .on_thread_start(crate::catch::capture_on_this_thread)
            .build()
            .unwrap_or_else(|e| panic!("stateprop: could not start a tokio runtime: {e}"));
        Tasks {
            initial,
            factory,
            shape,
            runtime,
            system: PhantomData,
        }
    }
}

impl<M, S, F> Executor<M> for Tasks<M, S, F>
where
    M: Model + std::hash::Hash + Eq,
    M::Op: Send + Sync,
    M::Output: Send + Sync,
    S: AsyncSystem<M> + 'static,
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
        let mut failure = None;
        self.runtime.block_on(async {
            for (i, op) in program.prefix.iter().enumerate() {
                let id = StepId::prefix(i);
                let outputs = prefix.outputs.clone();
                match call(&*sut, op, id, outputs.as_slice(), &clock, hb.main()).await {
                    Called::Returned(bound, call, ret, out) => {
                        prefix.returned(bound, i, call, ret, out)
                    }
                    Called::Panicked(bound, call, f) => {
                        prefix.unknown(bound, id, call);
                        failure = Some(f);
                        break;
                    }
                    Called::Unbound(f) => {
                        failure = Some(f);
                        break;
                    }
                }
            }
        });
        let (failure, mut lanes) = super::joined::after_the_prefix(
            prefix,
            failure,
            |m| sut.invariant(m),
            &self.initial,
            program,
            recording,
            |outputs| self.run_branches(&sut, program, outputs, &clock, recording, hb),
        );
        // Every task has finished, so this is the only handle left.
        let teardown = match Arc::try_unwrap(sut) {
            Ok(mut sut) => catch(|| sut.teardown()),
            Err(_) => Ok(()),
        }
        .map_err(|message| super::teardown_failure(program.steps().last(), message));
        Execution {
            failure: failure.or(teardown.err()),
            history: recording.history.then(|| merge(&mut lanes)),
            trace: lanes.iter_mut().flat_map(|l| l.trace.drain(..)).collect(),
        }
    }

    /// Generates a parallel program of the executor's shape and runs it once.
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

impl<M, S, F> Tasks<M, S, F>
where
    M: Model,
    M::Op: Send + Sync,
    M::Output: Send + Sync,
    S: AsyncSystem<M> + 'static,
{
    /// Spawns every branch as a task, releases them together and waits for all of them.
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
        let start = Arc::new(tokio::sync::Barrier::new(count));
        let prefix: Arc<[M::Output]> = prefix.to_vec().into();
        let handles: Vec<_> = program
            .branches
            .iter()
            .enumerate()
            .map(|(b, ops)| {
                let (sut, clock, beats, start, prefix) = (
                    Arc::clone(sut),
                    Arc::clone(clock),
                    Arc::clone(&beats),
                    Arc::clone(&start),
                    Arc::clone(&prefix),
                );
                let ops = ops.clone();
                // `Program::parallel` keeps the count within u16.
                let branch = b as u16;
                self.runtime.spawn(async move {
                    let mut lane = Lane::<M>::new(u64::from(branch) + 1, recording);
                    start.wait().await;
                    run_branch(&mut lane, &*sut, &ops, &prefix, &clock, &beats[b]).await;
                    lane
                })
            })
            .collect();
        let lanes = self.runtime.block_on(async {
            let mut lanes = Vec::with_capacity(count);
            for handle in handles {
                // A branch task catches the system's panics; one that escapes is stateprop's
                // own and goes on to the worker, which reports it as an internal error.
                match handle.await {
                    Ok(lane) => lanes.push(lane),
                    Err(e) => match e.try_into_panic() {
                        Ok(panic) => std::panic::resume_unwind(panic),
                        Err(e) => panic!("stateprop: a branch task was cancelled: {e}"),
                    },
                }
            }
            lanes
        });
        hb.unwatch_branches();
        lanes
    }
}

/// How one call went.
enum Called<Op, Out> {
    Returned(Op, u64, u64, Out),
    Panicked(Op, u64, Failure),
    Unbound(Failure),
}

/// One branch, in order, until its end or its first failure.
async fn run_branch<M: Model, S: AsyncSystem<M>>(
    lane: &mut Lane<M>,
    sut: &S,
    ops: &[M::Op],
    prefix: &[M::Output],
    clock: &AtomicU64,
    beat: &Beat,
) {
    let branch = lane.branch.unwrap_or_default();
    for (i, op) in ops.iter().enumerate() {
        let id = StepId::in_branch(branch, i);
        let own = lane.outputs.clone();
        let outputs = BranchOutputs {
            prefix,
            branch,
            own: &own,
        };
        match call(sut, op, id, &outputs, clock, beat).await {
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

/// Binds `op`'s vars in `outputs`, then awaits the system's answer, timing it on `clock` and
/// beating on `beat` around it. A panic while making or polling the future is caught.
async fn call<M: Model, S: AsyncSystem<M>>(
    sut: &S,
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
    // The future is made and polled inside `CatchPanic`, so a panic in either is this call's.
    let call = clock.fetch_add(1, Ordering::AcqRel);
    let result = CatchPanic(Box::pin(async { sut.apply(&bound).await })).await;
    let ret = clock.fetch_add(1, Ordering::AcqRel);
    beat.leave_step();
    match result {
        Ok(output) => Called::Returned(bound, call, ret, output),
        Err(message) => Called::Panicked(bound, call, fail(FailureKind::Panic { message })),
    }
}

/// A future whose panics, on any poll, become `Err` with the panic's message.
struct CatchPanic<F>(std::pin::Pin<Box<F>>);

impl<F: Future> Future for CatchPanic<F> {
    type Output = Result<F::Output, String>;

    fn poll(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Self::Output> {
        let inner = self.0.as_mut();
        match catch(|| inner.poll(cx)) {
            Ok(std::task::Poll::Ready(out)) => std::task::Poll::Ready(Ok(out)),
            Ok(std::task::Poll::Pending) => std::task::Poll::Pending,
            Err(message) => std::task::Poll::Ready(Err(message)),
        }
    }
}
