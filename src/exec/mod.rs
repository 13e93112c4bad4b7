//! Executors: how a program runs. Each one runs a [`Program`] from a fresh system and records
//! what happened; the run loop, the shrinker and the report do not know which one ran it.
//!
//! - `sequential`: the prefix, one step at a time, on `&mut` system; it judges every step inline
//!   (postcondition and invariant) — the fast path the sequential runner generates into.
//! - `threads`: the prefix on the calling thread, then each branch on a thread of its own,
//!   recording a history with step ids for the caller's judges; it generates parallel programs
//!   of the shape `parallel` draws per case.
//! - `scheduled` (feature `shuttle`): the threads executor's programs, each run inside one
//!   execution of shuttle's controlled scheduler, its interleaving drawn from a seed that the
//!   program and the run's index decide, so it replays exactly.
//! - `tasks` (feature `tokio`): the same for `async` systems, each branch a task on a
//!   multi-threaded tokio runtime.
//! - `simulated`: a program of simulated steps on a fresh deterministic cluster of nodes, then
//!   the liveness tail; the client history recorded for the caller's judges.
//! - `watchdog`: hang detection, shared by every executor, timing each branch thread apart.
//!
//! The run loop (`run::engine`) takes any `E: Executor + ?Sized`, a `&dyn Executor` as well
//! (the runner passes the concrete one, so the sequential hot loop inlines). Saved cases, the
//! shrinker's candidates, the confirming reruns and the walk back over earlier candidates all
//! run through [`Executor::execute`], and generated cases through
//! [`Executor::execute_generated`]. History judges run on what an execution recorded, outside
//! the executor, so any executor gets them.

pub(crate) mod client;
#[cfg(feature = "shuttle")]
pub(crate) mod dfs;
pub(crate) mod joined;
pub(crate) mod parallel;
#[cfg(feature = "shuttle")]
pub(crate) mod scheduled;
pub(crate) mod sequential;
pub(crate) mod simulated;
#[cfg(feature = "tokio")]
pub(crate) mod tasks;
pub(crate) mod threads;
pub(crate) mod watchdog;

use crate::failure::Failure;
use crate::generate::{generate_program, CaseGenerator, GenError};
use crate::history::History;
use crate::program::{Program, StepId};
use crate::spec::{Model, StateMachine};
use watchdog::Heartbeat;

/// What one run of a program left behind.
pub(crate) struct Execution<M: Model> {
    /// The first failure a judge found (or setting up, a panic, a hang); `None` if it passed.
    pub(crate) failure: Option<Failure>,
    /// The operations as they ran, with their step ids, when recording was asked for.
    pub(crate) history: Option<History<M::Op, M::Output>>,
    /// Step-by-step lines for verbose reports, when asked for.
    pub(crate) trace: Vec<String>,
}

impl<M: Model> Execution<M> {
    /// A run that ended before anything ran (the system could not be built).
    pub(crate) fn failed(failure: Failure) -> Self {
        Execution {
            failure: Some(failure),
            history: None,
            trace: Vec::new(),
        }
    }
}

impl<M: Model> Execution<M> {
    /// A run whose system could not be built: the factory panicked with `message`. Its history,
    /// if one was asked for, is empty.
    pub(crate) fn set_up_failed(message: String, recording: Recording) -> Self {
        Execution {
            failure: Some(Failure {
                step: None,
                op: None,
                kind: crate::failure::FailureKind::Panic { message },
            }),
            history: recording.history.then(History::new),
            trace: Vec::new(),
        }
    }
}

/// The failure of a teardown that panicked with `message`: the case fails at its last step.
pub(crate) fn teardown_failure<Op: StateMachine>(
    last: Option<(StepId, &Op)>,
    message: String,
) -> Failure {
    Failure {
        step: last.map(|(id, _)| id),
        op: last.map(|(_, op)| op.to_rust()),
        kind: crate::failure::FailureKind::Panic {
            message: format!("in teardown: {message}"),
        },
    }
}

/// A generated case, run.
pub(crate) struct Generated<M: Model> {
    pub(crate) execution: Execution<M>,
    /// Steps generated and run (the failing one included): regenerating that many from the
    /// case's seed gives the program that ran.
    pub(crate) ran: usize,
}

/// What a run is asked to keep besides its verdict.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Recording {
    /// Record a [`History`] (history judges need one; so does a report that draws it).
    pub(crate) history: bool,
    /// Keep step-by-step trace lines.
    pub(crate) trace: bool,
    /// A linearizability judge is among the run's judges: only then is the system taken to be
    /// in the end state of some linearization after its branches join, which is what the
    /// invariant there is judged against (a store that promises only session guarantees is in
    /// none of them).
    pub(crate) linearized: bool,
}

/// Runs programs of one shape against fresh systems.
pub(crate) trait Executor<M: Model> {
    /// The model state every program starts from.
    fn initial(&self) -> &M;

    /// Runs `program` once from a fresh system, reporting progress to `hb`. Judges each step
    /// with the step judge; history judges are the caller's, on `Execution::history`.
    fn execute(
        &self,
        program: &Program<M::Op>,
        recording: Recording,
        hb: &Heartbeat,
    ) -> Execution<M>;

    /// Generates a case from `plan` and runs it, counting each operation drawn in `rules` (by
    /// rule index; a slice, not a callback, as this is the runner's hot loop).
    /// `Err` is a generation error and the step it happened at. The default generates the whole
    /// program against the model, then executes it; an executor that can draw each step as it
    /// runs (the sequential one) overrides it to stop at the first failure, and one that runs
    /// another shape of program (the threads one) to generate that shape.
    fn execute_generated(
        &self,
        plan: &mut CaseGenerator,
        recording: Recording,
        hb: &Heartbeat,
        rules: &mut [(&'static str, u64)],
    ) -> Result<Generated<M>, (GenError, usize)> {
        let len = plan.len;
        let ops = generate_program(self.initial(), plan, len, None).map_err(|e| (e, 0))?;
        for op in &ops {
            rules[op.rule_index()].1 += 1;
        }
        let execution = self.execute(&Program::sequential(ops), recording, hb);
        Ok(Generated {
            execution,
            ran: len,
        })
    }
}

/// Other executors plug into the run loop as trait objects: this stops compiling if the trait
/// stops being object safe.
#[cfg(test)]
#[allow(dead_code)]
fn object_safe<M: Model>(executor: &dyn Executor<M>) -> &M {
    executor.initial()
}
