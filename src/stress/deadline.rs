//! The stress watchdog for the calls around the run: the factory, a gauge, the teardown. Each
//! runs on a thread of its own while the caller waits at most the plan's `step_timeout_ms`; a
//! call that never returns is abandoned on its thread (a thread cannot be killed) and the run
//! ends with a hang naming it, instead of the test never finishing.
//!
//! The system's calls are watched by beats (`crate::exec::watchdog`), which cost nothing per
//! call; these calls are few (one factory, a gauge every `sample_every` operations, one
//! teardown), so a thread each is cheap next to what they do.

use crate::catch::catch_quietly;
use std::sync::mpsc;
use std::time::Duration;

/// How a watched call ended.
pub(crate) enum Within<T> {
    /// It returned this.
    Done(T),
    /// It panicked with this message.
    Panicked(String),
    /// It did not return within the timeout; its thread was abandoned.
    Hung,
}

/// Runs `f` on a thread named after `what` and waits at most `timeout` for it.
pub(crate) fn within<T, F>(timeout: Duration, what: &str, f: F) -> Within<T>
where
    T: Send + 'static,
    F: FnOnce() -> T + Send + 'static,
{
    let (tx, rx) = mpsc::sync_channel(1);
    let spawned = std::thread::Builder::new()
        .name(format!("stateprop-stress-{what}"))
        .spawn(move || {
            // The receiver is gone only when the caller gave up on this call.
            let _ = tx.send(catch_quietly(f));
        });
    if let Err(e) = spawned {
        return Within::Panicked(format!("stateprop could not start a thread for it: {e}"));
    }
    match rx.recv_timeout(timeout) {
        Ok(Ok(value)) => Within::Done(value),
        Ok(Err(message)) => Within::Panicked(message),
        Err(mpsc::RecvTimeoutError::Timeout) => Within::Hung,
        // The thread sends before it ends, and `catch_quietly` holds any panic.
        Err(mpsc::RecvTimeoutError::Disconnected) => {
            Within::Panicked(format!("the {what}'s thread ended without an answer"))
        }
    }
}

/// A thread kept for calls made once a round (the system's invariant at each barrier), where
/// a thread spawned per call would cost more than the round's own operations: each call is
/// handed to it and waited for at most the timeout. After a call that did not return the
/// thread is abandoned, and the next call gets a new one.
pub(crate) struct Helper {
    what: &'static str,
    jobs: Option<mpsc::Sender<Box<dyn FnOnce() + Send>>>,
}

impl Helper {
    /// A helper for calls to `what`; its thread starts with the first call.
    pub(crate) fn new(what: &'static str) -> Self {
        Helper { what, jobs: None }
    }

    /// Runs `f` on the helper's thread and waits at most `timeout` for it. `Err` is a thread
    /// that could not be started.
    pub(crate) fn call<T, F>(&mut self, timeout: Duration, f: F) -> Result<Within<T>, String>
    where
        T: Send + 'static,
        F: FnOnce() -> T + Send + 'static,
    {
        let jobs = match &self.jobs {
            Some(jobs) => jobs,
            None => {
                let (tx, rx) = mpsc::channel::<Box<dyn FnOnce() + Send>>();
                std::thread::Builder::new()
                    .name(format!("stateprop-stress-{}", self.what))
                    .spawn(move || {
                        while let Ok(job) = rx.recv() {
                            job();
                        }
                    })
                    .map_err(|e| format!("could not start a thread for the {}: {e}", self.what))?;
                self.jobs.insert(tx)
            }
        };
        let (tx, rx) = mpsc::sync_channel(1);
        let job = Box::new(move || {
            // The receiver is gone only when the caller gave up on this call.
            let _ = tx.send(catch_quietly(f));
        });
        if jobs.send(job).is_err() {
            self.jobs = None;
            return Ok(Within::Panicked(format!(
                "the {}'s thread ended",
                self.what
            )));
        }
        Ok(match rx.recv_timeout(timeout) {
            Ok(Ok(value)) => Within::Done(value),
            Ok(Err(message)) => Within::Panicked(message),
            Err(mpsc::RecvTimeoutError::Timeout) => {
                self.jobs = None;
                Within::Hung
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                self.jobs = None;
                Within::Panicked(format!(
                    "the {}'s thread ended without an answer",
                    self.what
                ))
            }
        })
    }
}

/// The cause of a run ended by `what` not returning within `ms` milliseconds.
pub(crate) fn hang_cause(what: &str, ms: u64) -> String {
    format!(
        "hang: the {what} did not return within {ms} ms (`step_timeout_ms`); its thread was \
         abandoned"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_call_that_returns_panics_or_blocks_is_told_apart() {
        let ms = Duration::from_millis(100);
        assert!(matches!(within(ms, "test", || 7), Within::Done(7)));
        match within(ms, "test", || -> u8 { panic!("boom") }) {
            Within::Panicked(m) => assert!(m.contains("boom"), "{m}"),
            _ => panic!("a panic is reported as one"),
        }
        let blocked = within(ms, "test", || loop {
            std::thread::park();
        });
        assert!(matches!(blocked, Within::Hung));
        assert_eq!(
            hang_cause("factory", 200),
            "hang: the factory did not return within 200 ms (`step_timeout_ms`); its thread \
             was abandoned"
        );
    }
}
