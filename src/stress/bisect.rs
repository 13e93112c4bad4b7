//! From a failure at operation k of a stream to something a person can read: the shortest
//! prefix of the stream that fails on a fresh system, then, when that is short, the engine's
//! shrinker on it.
//!
//! A prefix is never stored: it is the stream of the same seed, regenerated on a fresh system.
//! Failing is monotone in the prefix's length for a deterministic system (the first n operations
//! of a longer replay are the n-operation replay), so the search is a bisection between a length
//! known to pass and one known to fail. A replay that fails earlier than asked tightens the
//! failing end at once, which is what makes a nondeterministic failure converge too.

use super::result::StressFailure;
use super::stream::{End, Stream};
use crate::program::StepId;
use crate::run::{RunResult, Runner};
use crate::spec::{Model, StateMachine, System};
use crate::{Config, Origin};

/// The length of the shortest failing prefix of `stream`, whose replay failed at operation
/// `failed_at`; `None` when replaying `failed_at + 1` operations on a fresh system passes (the
/// failure depends on something outside the stream: time, a shared resource, chance).
pub(crate) fn shortest_failing_prefix<M: Model, S: System<M>>(
    stream: &Stream<'_, M, S>,
    failed_at: u64,
) -> Option<u64> {
    // `fails(n)`: the operation a replay of `n` operations failed at, if it did.
    let fails = |n: u64| match stream.drive(Some(n), &mut (), |_, _, _, _| true) {
        End::Failed { at, .. } => Some(at),
        _ => None,
    };
    let mut bad = fails(failed_at + 1)? + 1;
    let mut good = 0;
    // For a deterministic system this first probe settles it: `bad - 1` operations pass.
    if bad > 1 {
        match fails(bad - 1) {
            Some(at) => bad = at + 1,
            None => good = bad - 1,
        }
    }
    while bad - good > 1 {
        let mid = good + (bad - good) / 2;
        match fails(mid) {
            Some(at) => bad = at + 1,
            None => good = mid,
        }
    }
    Some(bad)
}

/// What can be learned about the failure `found` (at `found.operation` of `stream`) on fresh
/// systems: the shortest failing prefix, then the shrinker's report on it when it is at most
/// `bound` operations; past the bound, on its last `bound` operations when those alone (from
/// the initial state, where the model allows them) still fail.
#[track_caller]
pub(crate) fn investigate<M, S, F>(
    stream: &Stream<'_, M, S>,
    factory: F,
    bound: u64,
    config: Config,
    found: &mut StressFailure,
) where
    M: Model + Send,
    M::Op: Send,
    S: System<M> + 'static,
    F: Fn() -> S + Send + 'static,
{
    let at = found.operation;
    found.prefix = shortest_failing_prefix(stream, at);
    let Some(prefix) = found.prefix else {
        return;
    };
    let origin = Origin::Stress {
        seed: stream.seed,
        operation: at,
    };
    let ops = if prefix <= bound {
        stream.prefix(prefix)
    } else {
        // A bug first met late may not need what came long before it; a tail the model
        // cannot run from its initial state (a precondition, a panic) is not tried.
        let mut tail = stream.tail(prefix, bound as usize);
        // The tail's `Var`s name steps of the stream; from a fresh start they are numbered
        // from the tail's first step, and one naming a step before it cannot run.
        let start = prefix - tail.len() as u64;
        let renumbered = tail.iter_mut().all(|op| {
            op.remap_vars(&mut |id| {
                let index = u64::from(id.index).checked_sub(start)?;
                Some(StepId::prefix(index as usize))
            })
        });
        if tail.is_empty()
            || !renumbered
            || crate::generate::validate(stream.initial, &tail).is_err()
        {
            return;
        }
        found.tail = Some(tail.len() as u64);
        tail
    };
    let shrunk = shrink(config, stream.initial, factory, ops, origin);
    if !shrunk.failed() {
        // Only a tail can pass: the prefix was just seen failing.
        found.tail = None;
        return;
    }
    found.minimal = shrunk.minimal.iter().map(|op| op.to_rust()).collect();
    found.report = Some(shrunk.report.text());
}

/// Shrinks `ops`, a failing prefix, with the engine's shrinker, as a runner shrinks a failing
/// case: the report has the minimal program and the test to paste.
#[track_caller]
pub(crate) fn shrink<M, S, F>(
    config: Config,
    initial: &M,
    factory: F,
    ops: Vec<M::Op>,
    origin: Origin,
) -> RunResult<M::Op>
where
    M: Model + Send,
    M::Op: Send,
    S: System<M> + 'static,
    F: Fn() -> S + Send + 'static,
{
    Runner::with_initial(config, initial.clone()).shrink_failing(factory, ops, origin)
}
