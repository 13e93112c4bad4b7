//! The meeting point of a concurrent stress run's coordinator and threads between rounds, with
//! the watchdog on the coordinator's side: it stops waiting for a thread stuck in one call.

use crate::exec::watchdog::{Beat, Watch};
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::Duration;

/// Where the coordinator and the threads meet between rounds. Not a `Barrier`: the coordinator
/// must stop waiting when a thread hangs in a call, and let the others go.
#[derive(Default)]
pub(super) struct Gate {
    state: Mutex<GateState>,
    changed: Condvar,
}

#[derive(Default)]
struct GateState {
    /// Rounds opened so far; a thread runs one when this moves past the last it ran.
    round: u64,
    /// Operations per thread in the open round; 0 ends the threads.
    quota: u64,
    /// Operations the plan has left for the open round, shared out in thread order.
    left: u64,
    /// Threads done with the open round.
    finished: usize,
}

impl Gate {
    fn lock(&self) -> MutexGuard<'_, GateState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Opens a round of `quota` operations per thread (0: the threads end).
    pub(super) fn open(&self, quota: u64, left: u64) {
        let mut g = self.lock();
        g.round += 1;
        g.quota = quota;
        g.left = left;
        g.finished = 0;
        drop(g);
        self.changed.notify_all();
    }

    /// A thread waits for a round after `seen`: its number, quota and what the plan has left.
    pub(super) fn next(&self, seen: u64) -> (u64, u64, u64) {
        let mut g = self.lock();
        while g.round == seen {
            g = self.changed.wait(g).unwrap_or_else(|e| e.into_inner());
        }
        (g.round, g.quota, g.left)
    }

    pub(super) fn done(&self) {
        self.lock().finished += 1;
        self.changed.notify_all();
    }

    /// The coordinator waits for all `threads` to finish the round; `Err(t)` when thread `t`
    /// has been inside one call for `timeout`.
    pub(super) fn wait_all(
        &self,
        threads: usize,
        beats: &[Beat],
        watches: &mut [Watch],
        timeout: Duration,
    ) -> Result<(), usize> {
        let poll = (timeout / 4).clamp(Duration::from_millis(10), Duration::from_millis(500));
        let mut g = self.lock();
        while g.finished < threads {
            let (next, waited) = self
                .changed
                .wait_timeout(g, poll)
                .unwrap_or_else(|e| e.into_inner());
            g = next;
            if waited.timed_out() && g.finished < threads {
                for (t, (beat, watch)) in beats.iter().zip(watches.iter_mut()).enumerate() {
                    if watch.stuck(beat, timeout) {
                        return Err(t);
                    }
                }
            }
        }
        Ok(())
    }
}
