//! The branch threads, started once and kept for every run of the executor: a case runs its
//! program many times, and starting a thread per branch per run cost more than most systems'
//! operations (thread start-up was most of a run's time on a correct counter).
//!
//! Worker `i` runs branch `i` of every program; a program with more branches than any before
//! starts the missing workers. Between runs a worker sleeps on its channel: polling for the
//! next job instead found no more races and, with many tests running at once on two cores, took
//! the cores from the threads that prepare the runs. Dropping the pool closes the channels and the workers end after their current job. A worker
//! stuck in a hung step is never waited for: the watchdog reports the hang and abandons the run
//! loop, and the worker is left behind like the step it runs.
//!
//! # Where the branches run
//!
//! Where the branch threads sit decides which races a run can show, so runs alternate between
//! two placements ([`Placement`]):
//! - **apart**: branch `i` pinned to core `i` (round robin over the cores the process may use),
//!   so the branches really run at the same time: races whose window is a few instructions (a
//!   load, then a store) need that;
//! - **together**: every branch pinned to one core (a different one each time), so they take
//!   turns and a branch is preempted mid-operation: races that a preemption or a `yield_now`
//!   opens need that, and apart they rarely show.
//!
//! Measured on 2 loaded cores (`cargo run --release --example ticket_dispenser -- measure`, 20
//! seeds): left where the scheduler put them, kept threads ran in turns on one core most of the
//! time, and the load-then-store dispenser was found in 2 of 20 seeds; pinned apart, in 20 of
//! 20, but then a dispenser with a `yield_now` between its load and store failed in 13 of 100
//! runs instead of nearly all. docs/concurrent.md has the table.

use super::STACK_SIZE;
use std::cell::{Cell, RefCell};
use std::sync::mpsc::{channel, Sender};

/// A branch's work for one run; it reports back on a channel of the caller's.
pub(super) type Job = Box<dyn FnOnce() + Send>;

/// How a run's branch threads sit on the cores.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Placement {
    /// Each branch on a core of its own, as far as there are cores.
    Apart,
    /// All branches on one core, the `n`-th (modulo the cores there are).
    Together(usize),
}

impl Placement {
    /// The placement of the executor's `run`-th run: apart and together alternate, and
    /// together moves to the next core each time, so no one busy core holds every such run.
    pub(super) fn of_run(run: u64) -> Self {
        if run.is_multiple_of(2) {
            Placement::Apart
        } else {
            Placement::Together((run / 2) as usize)
        }
    }

    /// The core of branch `i`, among `cores`.
    fn core(self, i: usize, cores: &[core_affinity::CoreId]) -> core_affinity::CoreId {
        match self {
            Placement::Apart => cores[i % cores.len()],
            Placement::Together(n) => cores[n % cores.len()],
        }
    }
}

/// A job and the core to run it on (`None`: wherever the worker is).
type Queued = (Job, Option<core_affinity::CoreId>);

/// Threads that run branches, kept between runs.
#[derive(Default)]
pub(super) struct Pool {
    /// The job queue of each worker, by branch.
    workers: RefCell<Vec<Sender<Queued>>>,
    /// The cores the process may use, read at the first run; empty if there is only one or
    /// they cannot be read (then nothing is pinned).
    cores: RefCell<Option<Vec<core_affinity::CoreId>>>,
    /// Runs dispatched so far, which choose each run's [`Placement`].
    runs: Cell<u64>,
}

impl Pool {
    /// Hands job `i` to worker `i`, starting workers as needed, placed as this run's turn of
    /// [`Placement::of_run`] says.
    ///
    /// # Errors
    /// If a thread cannot be started, with the branch and the system's reason; jobs handed out
    /// before it have been queued and will run.
    pub(super) fn dispatch(&self, jobs: Vec<Job>) -> Result<(), String> {
        let placement = Placement::of_run(self.runs.get());
        self.runs.set(self.runs.get() + 1);
        let mut cores = self.cores.borrow_mut();
        let cores = cores.get_or_insert_with(|| {
            core_affinity::get_core_ids()
                .filter(|c| c.len() > 1)
                .unwrap_or_default()
        });
        let mut workers = self.workers.borrow_mut();
        for (i, job) in jobs.into_iter().enumerate() {
            let core = (!cores.is_empty()).then(|| placement.core(i, cores));
            // A worker whose channel is closed has ended (its job panicked past the catch,
            // which the caller reports): a fresh one takes its place.
            let queued = match workers.get(i) {
                Some(worker) => match worker.send((job, core)) {
                    Ok(()) => continue,
                    Err(returned) => returned.0,
                },
                None => (job, core),
            };
            let worker =
                start(i).map_err(|e| format!("could not start a thread for branch {i}: {e}"))?;
            worker
                .send(queued)
                .map_err(|_| format!("the thread for branch {i} ended at once"))?;
            if i < workers.len() {
                workers[i] = worker;
            } else {
                workers.push(worker);
            }
        }
        Ok(())
    }
}

/// Starts worker `i`: it runs the jobs sent to it, in order, each on the core it came with,
/// until its channel closes.
fn start(i: usize) -> std::io::Result<Sender<Queued>> {
    let (send, receive) = channel::<Queued>();
    std::thread::Builder::new()
        .name(format!("stateprop-branch-{i}"))
        .stack_size(STACK_SIZE)
        .spawn(move || {
            crate::catch::capture_on_this_thread();
            let mut on = None;
            while let Ok((job, core)) = receive.recv() {
                if core.is_some() && core != on {
                    // A system that refuses leaves the worker where it is: it still runs.
                    if core.is_some_and(core_affinity::set_for_current) {
                        on = core;
                    }
                }
                job();
            }
        })?;
    Ok(send)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_alternate_apart_and_together_on_each_core_in_turn() {
        let runs: Vec<_> = (0..6).map(Placement::of_run).collect();
        use Placement::*;
        assert_eq!(
            runs,
            [Apart, Together(0), Apart, Together(1), Apart, Together(2)]
        );
        let cores: Vec<_> = (0..2).map(|id| core_affinity::CoreId { id }).collect();
        let on = |p: Placement| (0..3).map(|i| p.core(i, &cores).id).collect::<Vec<_>>();
        assert_eq!(on(Apart), [0, 1, 0]);
        assert_eq!(on(Together(3)), [1, 1, 1]);
    }
}
