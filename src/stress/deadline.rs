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
