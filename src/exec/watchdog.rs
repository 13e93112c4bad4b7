//! Hang detection: the case runs on a worker thread while the caller's thread watches it.
//!
//! A hung thread cannot be killed, so on a hang the caller reports and moves on, leaving the
//! worker blocked; the test fails with a report instead of never finishing.
//!
//! The worker's own steps (a sequential program, a prefix) beat on the [`Heartbeat`] itself. An
//! executor that runs branches on threads of their own gives each branch a [`Beat`] of its own
//! ([`Heartbeat::watch_branches`]), so the watchdog times every thread separately: a branch
//! stuck in one step is found even while another branch keeps making progress, and the report
//! names the branch step that did not return.

use crate::failure::{Failure, FailureKind};
use crate::program::{Program, StepId};
use crate::spec::StateMachine;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// What the worker is doing, for the hang report.
#[derive(Clone, Debug, Default)]
pub(crate) enum Activity {
    #[default]
    Idle,
    /// Running generated case `index` from `seed`.
    Case { index: u64, seed: u64 },
    /// Running a fixed program (replay, shrink candidate), as Rust source lines.
    Program(Vec<String>),
}

/// One thread's progress: written by that thread only, read by the watchdog.
#[derive(Default)]
pub(crate) struct Beat {
    beats: AtomicU64,
    in_step: AtomicBool,
    step: AtomicU64,
    /// Inside the system's invariant after the step last counted, not inside a call: a hang
    /// there is that step's, and must not be blamed on the call.
    in_invariant: AtomicBool,
}

impl Beat {
    #[inline]
    pub(crate) fn enter_step(&self) {
        // One writer: a load and a store, not a locked read-modify-write.
        let beats = self.beats.load(Ordering::Relaxed).wrapping_add(1);
        self.beats.store(beats, Ordering::Relaxed);
        self.in_step.store(true, Ordering::Relaxed);
    }

    #[inline]
    pub(crate) fn leave_step(&self) {
        self.leave_set_up();
        let step = self.step.load(Ordering::Relaxed) + 1;
        self.step.store(step, Ordering::Relaxed);
    }

    /// Enters the system's invariant after the step just left: watched for a hang like a
    /// call, with a timeout of its own.
    #[inline]
    pub(crate) fn enter_invariant(&self) {
        self.in_invariant.store(true, Ordering::Relaxed);
        self.enter_step();
    }

    /// Leaves the invariant entered with [`enter_invariant`](Beat::enter_invariant).
    #[inline]
    pub(crate) fn leave_invariant(&self) {
        self.leave_set_up();
        self.in_invariant.store(false, Ordering::Relaxed);
    }

    /// Leaves the system's code entered with [`enter_step`](Beat::enter_step) before the
    /// thread's next step (making a client): watched for a hang, blamed on that next step, and
    /// not counted as one.
    #[inline]
    pub(crate) fn leave_set_up(&self) {
        self.in_step.store(false, Ordering::Relaxed);
    }
}

/// Progress shared between the worker and the watchdog.
#[derive(Default)]
pub(crate) struct Heartbeat {
    /// The worker thread's own steps.
    main: Beat,
    /// One beat per branch while an executor runs branches on threads; `None` otherwise. Swapped
    /// whole, so the watchdog sees a new set of branches as new and starts their clocks afresh.
    branches: Mutex<Option<Arc<[Beat]>>>,
    activity: Mutex<Activity>,
    /// Set when the watchdog has given up on the worker: a "hung" step that returns after all
    /// must not let the worker go on running cases or saving a second report.
    abandoned: AtomicBool,
}

impl Heartbeat {
    #[inline]
    pub(crate) fn enter_step(&self) {
        self.main.enter_step();
    }

    #[inline]
    pub(crate) fn leave_step(&self) {
        self.main.leave_step();
    }

    /// The worker thread's own beat, for code that takes any [`Beat`].
    pub(crate) fn main(&self) -> &Beat {
        &self.main
    }

    /// Whether the caller has reported a hang and stopped waiting for this worker.
    pub(crate) fn abandoned(&self) -> bool {
        self.abandoned.load(Ordering::Relaxed)
    }

    /// Announces a new case or program; steps count from zero again.
    pub(crate) fn begin(&self, activity: Activity) {
        self.restart_steps();
        *self.activity.lock().unwrap_or_else(|e| e.into_inner()) = activity;
    }

    /// Counts the worker's steps from zero again (a program run once more).
    pub(crate) fn restart_steps(&self) {
        self.main.step.store(0, Ordering::Relaxed);
    }

    /// Starts watching `count` branch threads, each beating on its own [`Beat`] (branch `b` on
    /// element `b`), in place of any earlier set.
    pub(crate) fn watch_branches(&self, count: usize) -> Arc<[Beat]> {
        let beats: Arc<[Beat]> = (0..count).map(|_| Beat::default()).collect();
        *self.branches.lock().unwrap_or_else(|e| e.into_inner()) = Some(Arc::clone(&beats));
        beats
    }

    /// Stops watching branch threads (they have all been joined).
    pub(crate) fn unwatch_branches(&self) {
        *self.branches.lock().unwrap_or_else(|e| e.into_inner()) = None;
    }

    fn branch_beats(&self) -> Option<Arc<[Beat]>> {
        self.branches
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    fn activity(&self) -> Activity {
        self.activity
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

/// Where a hang happened.
pub(crate) struct Hung {
    /// The index of the step that did not return, within its branch when `branch` is set.
    pub(crate) step: usize,
    /// The branch whose thread hung; `None` for the worker's own steps (a sequential program, a
    /// prefix).
    pub(crate) branch: Option<u16>,
    pub(crate) activity: Activity,
    /// The system's invariant after step `step` did not return, not its call.
    pub(crate) invariant: bool,
}

impl Hung {
    /// The step that did not return.
    pub(crate) fn at(&self) -> StepId {
        match self.branch {
            None => StepId::prefix(self.step),
            Some(b) => StepId::in_branch(b, self.step),
        }
    }

    /// The hang as a failure of `program`, the program the worker was running, whose steps
    /// were given `timeout` each.
    pub(crate) fn failure<Op: StateMachine>(
        &self,
        program: &Program<Op>,
        timeout: Duration,
    ) -> Failure {
        let at = self.at();
        Failure {
            step: Some(at),
            op: program.get(at).map(Op::to_rust),
            kind: FailureKind::Hang {
                timeout_ms: u64::try_from(timeout.as_millis()).unwrap_or(u64::MAX),
            },
        }
    }
}

/// The watchdog's view of one [`Beat`]: the count it last saw and since when. (A stress run's
/// coordinator watches its threads' beats with it while it waits for a round.)
pub(crate) struct Watch {
    last_beats: u64,
    since: Instant,
}

impl Watch {
    pub(crate) fn new() -> Self {
        Watch {
            last_beats: u64::MAX,
            since: Instant::now(),
        }
    }

    /// Whether `beat` has stayed inside one step for `timeout` or longer.
    pub(crate) fn stuck(&mut self, beat: &Beat, timeout: Duration) -> bool {
        let beats = beat.beats.load(Ordering::Relaxed);
        if beats != self.last_beats || !beat.in_step.load(Ordering::Relaxed) {
            self.last_beats = beats;
            self.since = Instant::now();
            false
        } else {
            self.since.elapsed() >= timeout
        }
    }
}

/// Runs `work` on a fresh thread; returns its result, or `Err` if one step stayed inside the
/// system under test for longer than `timeout`.
pub(crate) fn run_watched<R: Send + 'static>(
    timeout: Duration,
    work: impl FnOnce(&Heartbeat) -> R + Send + 'static,
) -> Result<R, Hung> {
    let hb = Arc::new(Heartbeat::default());
    let (tx, rx) = mpsc::channel();
    let worker_hb = Arc::clone(&hb);
    let name = std::thread::current()
        .name()
        .unwrap_or("stateprop")
        .to_string();
    std::thread::Builder::new()
        .name(name)
        .stack_size(16 << 20)
        .spawn(move || {
            crate::catch::capture_on_this_thread();
            // User code's panics are caught where it is called; one caught here is stateprop's
            // own, and its message must reach the user rather than die with the thread.
            let result = crate::catch::catch(|| work(&worker_hb));
            let _ = tx.send(result);
        })
        .expect("stateprop: could not start the worker thread");
    let poll = (timeout / 4).clamp(Duration::from_millis(10), Duration::from_millis(500));
    let mut main = Watch::new();
    let mut branches: Option<(Arc<[Beat]>, Vec<Watch>)> = None;
    loop {
        match rx.recv_timeout(poll) {
            Ok(Ok(result)) => return Ok(result),
            Ok(Err(message)) => {
                panic!("stateprop: internal error (a stateprop bug, please report it): {message}")
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                panic!("stateprop: internal error: the worker thread ended without a result")
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {
                let mut hung = None;
                let mut invariant = false;
                if main.stuck(&hb.main, timeout) {
                    // The invariant runs after its step was counted.
                    invariant = hb.main.in_invariant.load(Ordering::Relaxed);
                    let step = hb.main.step.load(Ordering::Relaxed);
                    hung = Some((None, step - u64::from(invariant && step > 0)));
                }
                let current = hb.branch_beats();
                let same = match (&branches, &current) {
                    (Some((seen, _)), Some(now)) => Arc::ptr_eq(seen, now),
                    (None, None) => true,
                    _ => false,
                };
                if !same {
                    branches = current.map(|beats| {
                        let watches = beats.iter().map(|_| Watch::new()).collect();
                        (beats, watches)
                    });
                }
                if let Some((beats, watches)) = &mut branches {
                    for (b, (beat, watch)) in beats.iter().zip(watches.iter_mut()).enumerate() {
                        if watch.stuck(beat, timeout) && hung.is_none() {
                            // `watch_branches` callers hold at most u16::MAX branches.
                            let b = u16::try_from(b).unwrap_or(u16::MAX);
                            hung = Some((Some(b), beat.step.load(Ordering::Relaxed)));
                        }
                    }
                }
                if let Some((branch, step)) = hung {
                    hb.abandoned.store(true, Ordering::Relaxed);
                    return Err(Hung {
                        step: step as usize,
                        branch,
                        activity: hb.activity(),
                        invariant,
                    });
                }
            }
        }
    }
}
