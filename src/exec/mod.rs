//! Executors: how a program runs. Each one runs a [`Program`] from a fresh system and records
//! what happened; the run loop, the shrinker and the report do not know which one ran it.
//!
//! - `sequential`: the prefix, one step at a time, on `&mut` system; it judges every step inline
//!   (postcondition and invariant) — the fast path the sequential runner generates into.
//! - `threads`: the prefix on the calling thread, then each branch on a thread of its own,
//!   recording a history with step ids for the caller's judges.
//! - `watchdog`: hang detection, shared by every executor, timing each branch thread apart.

// The interface lands before its users (issue 7, part 2); the lint goes when they do.
#![allow(dead_code)]

pub(crate) mod sequential;
pub(crate) mod threads;
pub(crate) mod watchdog;

use crate::failure::Failure;
use crate::history::History;
use crate::program::Program;
use crate::spec::Model;
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

/// What a run is asked to keep besides its verdict.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Recording {
    /// Record a [`History`] (history judges need one; so does a report that draws it).
    pub(crate) history: bool,
    /// Keep step-by-step trace lines.
    pub(crate) trace: bool,
}

/// Runs programs of one shape against fresh systems.
pub(crate) trait Executor<M: Model> {
    /// Runs `program` once from a fresh system, reporting progress to `hb`.
    fn execute(
        &self,
        program: &Program<M::Op>,
        recording: Recording,
        hb: &Heartbeat,
    ) -> Execution<M>;
}
