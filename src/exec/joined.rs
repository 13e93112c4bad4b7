//! [`ConcurrentSystem::invariant`](crate::ConcurrentSystem::invariant) (and the async
//! system's) for the executors of parallel programs (threads, the controlled scheduler,
//! tasks): after the prefix, and after every branch has joined.
//!
//! After the prefix the model state is exact: the prefix ran alone, so its history has one
//! order. After the branches it is not: the system is in the end state of *some* linearization
//! of the recorded history, and nothing tells which (two overlapping puts to one key may have
//! landed in either order). So the invariant is asked against the distinct end states of the
//! history's linearizations, one at a time ([`end_states`]), and fails only if it fails in
//! every one: a correct system is never reported for the order it happened to choose. The first
//! state it accepts ends the walk, so a system without an invariant (the default accepts
//! everything) pays for one search that stops at its first linearization.
//!
//! Not judged, rather than guessed: when the history has no linearization (the history judge
//! reports that), when the walk's budget runs out ([`TIMEOUT`], the default
//! [`CheckConfig::max_steps`], [`MAX_STATES`]), when a `Var` cannot be bound or the model
//! panics; and when the run recorded no history (every run of the concurrent runner records
//! one, since it always has a history judge).
//!
//! Cost: on the atomic counter of `examples/ticket_dispenser.rs` (256 cases, 20 repeats, release
//! build) both checks together take about 1.5 us a run (0.9 us a check, 1.8 checks a run), of
//! the 60 to 180 us a run takes on the shared two-core machine: the walk stops at its first
//! end state there, as it does for every system without an invariant.

use super::threads::Lane;
use super::Recording;
use crate::catch::catch;
use crate::check::end_states::{end_states, EndStates};
use crate::check::CheckConfig;
use crate::failure::{Failure, FailureKind};
use crate::history::History;
use crate::program::{Program, StepId};
use crate::spec::{Model, StateMachine};
use std::hash::Hash;
use std::time::Duration;

/// The end-state walk's time budget. A generated program's history (a few dozen operations)
/// takes microseconds; this only stops a pathological one from stalling the run.
pub(crate) const TIMEOUT: Duration = Duration::from_secs(2);
/// The most distinct end states the invariant is asked about.
pub(crate) const MAX_STATES: usize = 1_000;

/// The invariant after the prefix, against the model after it; a failure is the last prefix
/// step's. Nothing to do without a prefix (the branches' check covers a fresh system).
fn after_prefix<M>(
    invariant: impl Fn(&M) -> Result<(), String>,
    initial: &M,
    program: &Program<M::Op>,
    prefix: &Lane<M>,
    recording: Recording,
) -> Option<Failure>
where
    M: Model + Hash + Eq,
{
    let last = program.prefix.last()?;
    if !recording.history {
        return None;
    }
    let history = history_of(std::slice::from_ref(prefix));
    match judge(&invariant, initial, &history) {
        EndStates::Refused { why, .. } => Some(Failure {
            step: Some(StepId::prefix(program.prefix.len() - 1)),
            op: Some(last.to_rust()),
            kind: FailureKind::Invariant { message: why },
        }),
        EndStates::Accepted | EndStates::Undecided(_) => None,
    }
}

/// The rest of a run once its prefix has run (failing with `failure`, or not): the invariant
/// after the prefix, then, if nothing failed, the branches (`run_branches`, given the prefix's
/// outputs), the first of their failures on the shared clock, and the invariant after the join.
/// Every executor of parallel programs ends its run here, so they all judge the same things in
/// the same order; the lanes come back for the history.
pub(super) fn after_the_prefix<M>(
    prefix: Lane<M>,
    mut failure: Option<Failure>,
    invariant: impl Fn(&M) -> Result<(), String>,
    initial: &M,
    program: &Program<M::Op>,
    recording: Recording,
    run_branches: impl FnOnce(&[M::Output]) -> Vec<Lane<M>>,
) -> (Option<Failure>, Vec<Lane<M>>)
where
    M: Model + Hash + Eq,
{
    if failure.is_none() {
        failure = after_prefix(&invariant, initial, program, &prefix, recording);
    }
    let mut lanes = vec![prefix];
    if failure.is_none() && !program.branches.is_empty() {
        let branches = run_branches(&lanes[0].outputs);
        failure = super::threads::first_failure(&branches);
        lanes.extend(branches);
        if failure.is_none() {
            failure = after_join(&invariant, initial, program, &lanes, recording);
        }
    }
    (failure, lanes)
}

/// The invariant after every branch has joined, against every end state of the history's
/// linearizations (see the module documentation). The failure names no step: the whole run
/// led there.
fn after_join<M>(
    invariant: impl Fn(&M) -> Result<(), String>,
    initial: &M,
    program: &Program<M::Op>,
    lanes: &[Lane<M>],
    recording: Recording,
) -> Option<Failure>
where
    M: Model + Hash + Eq,
{
    if program.branches.is_empty() || !recording.history || !recording.linearized {
        return None;
    }
    let history = history_of(lanes);
    match judge(&invariant, initial, &history) {
        EndStates::Refused { tried, state, why } => {
            let states = match tried {
                1 => "in the one end state its linearizations reach".to_string(),
                n => format!("in every one of the {n} end states its linearizations reach"),
            };
            Some(Failure {
                step: None,
                op: None,
                kind: FailureKind::Invariant {
                    message: format!(
                        "after the branches joined, {states}; in model state {state:?}: {why}"
                    ),
                },
            })
        }
        EndStates::Accepted | EndStates::Undecided(_) => None,
    }
}

/// Walks the end states of `history` from `initial` until the invariant holds in one. A
/// panicking invariant refuses the state (the system's fault, like a panicking call).
fn judge<M>(
    invariant: &impl Fn(&M) -> Result<(), String>,
    initial: &M,
    history: &History<M::Op, M::Output>,
) -> EndStates<M, String>
where
    M: Model + Hash + Eq,
{
    // No memory cap: with one, the budget reads the process's resident memory (a file read,
    // measured at 10 to 30 us a run, more than the whole walk of a typical history); the step
    // cap bounds the cache instead (at most one entry a step).
    let config = CheckConfig::default().timeout(TIMEOUT);
    end_states(history, initial, &config, MAX_STATES, |state| {
        catch(|| invariant(state))
            .unwrap_or_else(|message| Err(format!("the invariant panicked: {message}")))
    })
}

/// The lanes' operations as one history (in lane order: the search orders them by time), copied
/// so that the executor still hands its own history on.
fn history_of<M: Model>(lanes: &[Lane<M>]) -> History<M::Op, M::Output> {
    let mut history = History::new();
    for (id, op) in lanes.iter().flat_map(|l| l.ops.iter()) {
        history.ops.push(op.clone());
        history.steps.push(*id);
    }
    history
}
