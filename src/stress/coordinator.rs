//! A concurrent stress run's coordinator on a thread of its own, watched from the caller's.
//!
//! The coordinator judges each round at its barrier and then calls the system's invariant.
//! The threads' calls are watched by the coordinator; the invariant, called by the coordinator
//! itself, needs someone else to watch it, or one that never returns would leave the caller
//! stuck. The caller's thread does: it waits for the run's result and looks at the
//! coordinator's beat every quarter of the step timeout, as a sequential run's caller watches
//! its worker. A beat costs two relaxed stores a round; handing each invariant to another
//! thread instead cost two thread wake-ups a round, which halved the throughput of a fast
//! system (`cargo run --release --example stress_concurrent -- 1 2 4`).

use super::plan::PlanError;
use super::result::{StressResult, StressVerdict};
use super::round::failure_at;
use super::run::Stress;
use crate::exec::client::ClientSystem;
use crate::exec::watchdog::{Beat, Watch};
use crate::spec::Model;
use std::hash::Hash;
use std::panic::{AssertUnwindSafe, Location};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

/// What the coordinator shares with the caller watching it.
#[derive(Default)]
pub(super) struct Coordinator {
    beat: Beat,
    /// The round whose invariant is being called, and the operations done by its end.
    round: AtomicU64,
    done: AtomicU64,
    seed: AtomicU64,
}

impl Coordinator {
    /// Publishes the run's seed, for a report made without the coordinator.
    pub(super) fn seed(&self, seed: u64) {
        self.seed.store(seed, Ordering::Relaxed);
    }

    /// Calls `invariant` at the barrier after round `round` (`done` operations), watched.
    pub(super) fn invariant<R>(&self, round: u64, done: u64, invariant: impl FnOnce() -> R) -> R {
        self.round.store(round, Ordering::Relaxed);
        self.done.store(done, Ordering::Relaxed);
        self.beat.enter_invariant();
        let r = invariant();
        self.beat.leave_invariant();
        r
    }
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
    /// `Err` is a plan that cannot run: a mix naming no rule or leaving none that can run (only
    /// rules with `Var` fields and `var_window` 0), rounds drawn at the barrier that come out
    /// empty 64 times in a row, or more threads than the process can start.
    ///
    /// A round with no linearization is tried again on fresh systems from `factory`: alone,
    /// from the plan's initial state, then (for a round after the first, while the earlier
    /// rounds number at most `shrink_bound` operations) after the earlier rounds run as a
    /// sequential prefix; the first that fails is shrunk as a parallel program by the
    /// concurrent runner's shrinker. The factory, a gauge, the teardown and the system's
    /// invariant are watched as the system's calls are: one that does not return within
    /// `step_timeout_ms` ends the run as a hang naming it.
    #[track_caller]
    pub fn run_concurrent<F>(self, factory: F) -> Result<StressResult, PlanError>
    where
        F: Fn() -> S + Send + 'static,
        S: 'static,
        M: 'static,
    {
        let source = Location::caller().file();
        let timeout = Duration::from_millis(self.plan.step_timeout_ms);
        // Enough of the run to report a hang without it.
        let reporter: Stress<M, S> = Stress {
            plan: self.plan.clone(),
            initial: self.initial.clone(),
            gauge: None,
            quiet: self.quiet,
            progress: self.progress,
            env: self.env,
            default_initial: self.default_initial,
        };
        let coordinator = Arc::new(Coordinator::default());
        let watched = Arc::clone(&coordinator);
        let (tx, rx) = mpsc::channel();
        // The caller's `tracing` subscriber (a test's, set for its thread only) must see the
        // run's progress lines too.
        let dispatch = tracing::dispatcher::get_default(|d| d.clone());
        let name = std::thread::current()
            .name()
            .unwrap_or("stateprop")
            .to_string();
        let began = Instant::now();
        let spawned = std::thread::Builder::new().name(name).spawn(move || {
            let ran = std::panic::catch_unwind(AssertUnwindSafe(|| {
                tracing::dispatcher::with_default(&dispatch, || {
                    self.run_rounds(factory, source, &watched)
                })
            }));
            let _ = tx.send(ran);
        });
        if let Err(e) = spawned {
            let message = format!("could not start the run's coordinator thread: {e}");
            return Err(reporter.plan.error("threads", message));
        }
        let poll = (timeout / 4).clamp(Duration::from_millis(10), Duration::from_millis(500));
        let mut watch = Watch::new();
        loop {
            match rx.recv_timeout(poll) {
                Ok(Ok(ran)) => return ran,
                // stateprop's own panic: raised on the caller's thread, as before.
                Ok(Err(panic)) => std::panic::resume_unwind(panic),
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    panic!("stateprop: internal error: the stress run's coordinator ended without a result")
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    if watch.stuck(&coordinator.beat, timeout) {
                        return Ok(reporter.invariant_hung(&coordinator, began));
                    }
                }
            }
        }
    }

    /// The result of a run whose coordinator is stuck in the system's invariant: its figures
    /// stay with it, only the operations done and the round are known.
    fn invariant_hung(&self, coordinator: &Coordinator, began: Instant) -> StressResult {
        let seed = coordinator.seed.load(Ordering::Relaxed);
        let round = coordinator.round.load(Ordering::Relaxed);
        let done = coordinator.done.load(Ordering::Relaxed);
        let mut result = StressResult::new(self.plan.clone(), seed);
        let elapsed = began.elapsed().as_secs_f64();
        result.operations = done;
        result.elapsed_secs = elapsed;
        result.throughput = done as f64 / elapsed.max(1e-9);
        result.verdict = StressVerdict::Mismatch;
        // Not a round's failure (its history is not known here): reported as the harness's
        // other hangs are, the round named in the cause.
        let ms = self.plan.step_timeout_ms;
        result.failure = Some(failure_at(
            done.saturating_sub(1),
            format!(
                "hang: the invariant did not return within {ms} ms (`step_timeout_ms`) at the \
                 barrier after round {round} ({done} operations done); the run's coordinator \
                 was abandoned"
            ),
        ));
        result.notes.push(format!(
            "stateprop: the run's latencies, memory samples and round history stayed with its \
             coordinator, stuck in the invariant after round {round}: not reported"
        ));
        self.finish(result)
    }
}
