//! Hang detection: the case runs on a worker thread while the caller's thread watches it.
//!
//! A hung thread cannot be killed, so on a hang the caller reports and moves on, leaving the
//! worker blocked; the test fails with a report instead of never finishing.

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

/// Progress shared between the worker and the watchdog.
#[derive(Default)]
pub(crate) struct Heartbeat {
    beats: AtomicU64,
    in_step: AtomicBool,
    step: AtomicU64,
    activity: Mutex<Activity>,
    /// Set when the watchdog has given up on the worker: a "hung" step that returns after all
    /// must not let the worker go on running cases or saving a second report.
    abandoned: AtomicBool,
}

impl Heartbeat {
    #[inline]
    pub(crate) fn enter_step(&self) {
        // One writer (the worker): a load and a store, not a locked read-modify-write.
        let beats = self.beats.load(Ordering::Relaxed).wrapping_add(1);
        self.beats.store(beats, Ordering::Relaxed);
        self.in_step.store(true, Ordering::Relaxed);
    }

    #[inline]
    pub(crate) fn leave_step(&self) {
        self.in_step.store(false, Ordering::Relaxed);
        let step = self.step.load(Ordering::Relaxed) + 1;
        self.step.store(step, Ordering::Relaxed);
    }

    /// Whether the caller has reported a hang and stopped waiting for this worker.
    pub(crate) fn abandoned(&self) -> bool {
        self.abandoned.load(Ordering::Relaxed)
    }

    /// Announces a new case or program; steps count from zero again.
    pub(crate) fn begin(&self, activity: Activity) {
        self.step.store(0, Ordering::Relaxed);
        *self.activity.lock().unwrap_or_else(|e| e.into_inner()) = activity;
    }
}

/// Where a hang happened.
pub(crate) struct Hung {
    pub(crate) step: usize,
    pub(crate) activity: Activity,
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
    let mut last_beats = u64::MAX;
    let mut since = Instant::now();
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
                let beats = hb.beats.load(Ordering::Relaxed);
                if beats != last_beats || !hb.in_step.load(Ordering::Relaxed) {
                    last_beats = beats;
                    since = Instant::now();
                } else if since.elapsed() >= timeout {
                    hb.abandoned.store(true, Ordering::Relaxed);
                    return Err(Hung {
                        step: hb.step.load(Ordering::Relaxed) as usize,
                        activity: hb
                            .activity
                            .lock()
                            .unwrap_or_else(|e| e.into_inner())
                            .clone(),
                    });
                }
            }
        }
    }
}
