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
use crate::exec::watchdog::{run_watched, Heartbeat};
use crate::failure::FailureKind;
use crate::program::StepId;
use crate::run::{RunResult, Runner};
use crate::spec::{Model, StateMachine, System};
use crate::{Config, Origin};

/// The length of the shortest failing prefix of `stream`, whose replay failed at operation
/// `failed_at`; `None` when replaying `failed_at + 1` operations on a fresh system passes (the
/// failure depends on something outside the stream: time, a shared resource, chance). Every
/// replay beats on `hb`, for a watchdog.
pub(crate) fn shortest_failing_prefix<M: Model, S: System<M>>(
    stream: &Stream<'_, M, S>,
    hb: &Heartbeat,
    failed_at: u64,
) -> Option<u64> {
    // `fails(n)`: the operation a replay of `n` operations failed at, if it did.
    let fails = |n: u64| match stream.drive(hb, Some(n), &mut (), |_, _, _, _| true) {
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

/// What the replays found: the shortest failing prefix, and the program to shrink (the
/// prefix, or its tail when `tail` is set), if any.
type Searched<Op> = (Option<u64>, Option<(Vec<Op>, Option<u64>)>);

/// What can be learned about the failure `found` (at `found.operation` of `stream`) on fresh
/// systems: the shortest failing prefix, then the shrinker's report on it when it is at most
/// `bound` operations; past the bound, on its last `bound` operations when those alone (from
/// the initial state, where the model allows them) still fail.
///
/// Every replay is bounded by `config.step_timeout` per call, as the run was: a system that
/// failed in the run and hangs in a replay ends the search there, the mismatch found kept and
/// the report saying which replay hung.
#[track_caller]
pub(crate) fn investigate<M, S, F>(
    stream: &Stream<'_, M, S>,
    factory: F,
    replay_call: Option<String>,
    bound: u64,
    config: Config,
    found: &mut StressFailure,
) where
    M: Model + Send,
    M::Op: Send,
    S: System<M> + 'static,
    F: Fn() -> S + Clone + Send + 'static,
{
    let at = found.operation;
    let timeout = config.step_timeout;
    let ms = u64::try_from(timeout.as_millis()).unwrap_or(u64::MAX);
    // The replays run on a watched worker, which owns what it replays.
    let (initial, replays) = (stream.initial.clone(), factory.clone());
    let (weights, seed, var_window) = (stream.weights.to_vec(), stream.seed, stream.var_window);
    let searched = run_watched(timeout, move |hb| -> Searched<M::Op> {
        let stream = Stream {
            initial: &initial,
            factory: &replays,
            seed,
            weights: &weights,
            var_window,
        };
        let Some(prefix) = shortest_failing_prefix(&stream, hb, at) else {
            return (None, None);
        };
        if prefix <= bound {
            return (Some(prefix), Some((stream.prefix(hb, prefix), None)));
        }
        // A bug first met late may not need what came long before it; a tail the model
        // cannot run from its initial state (a precondition, a panic) is not tried.
        let mut tail = stream.tail(hb, prefix, bound as usize);
        // The tail's `Var`s name steps of the stream; from a fresh start they are numbered
        // from the tail's first step, and one naming a step before it cannot run.
        let start = prefix - tail.len() as u64;
        let renumbered = tail.iter_mut().all(|op| {
            op.remap_vars(&mut |id| {
                let index = u64::from(id.index).checked_sub(start)?;
                Some(StepId::prefix(index as usize))
            })
        });
        if tail.is_empty() || !renumbered || crate::generate::validate(&initial, &tail).is_err() {
            return (Some(prefix), None);
        }
        let len = tail.len() as u64;
        (Some(prefix), Some((tail, Some(len))))
    });
    let (prefix, candidate) = match searched {
        Ok(searched) => searched,
        Err(hung) => {
            found.report = Some(format!(
                "stateprop: a replay of the stream on a fresh system hung: the system did not \
                 return within {ms} ms (`step_timeout_ms`) at or after the replay's operation \
                 {}, where the run had gone on; the search for a shorter failing program \
                 stopped there, and the mismatch above is the one the run found\n",
                hung.step
            ));
            return;
        }
    };
    found.prefix = prefix;
    let Some((ops, tail)) = candidate else {
        return;
    };
    found.tail = tail;
    let origin = Origin::Stress {
        seed: stream.seed,
        operation: at,
    };
    let shrunk = shrink(config, stream.initial, factory, replay_call, ops, origin);
    if !shrunk.failed() {
        // Only a tail can pass: the prefix was just seen failing.
        found.tail = None;
        return;
    }
    let replay_hung = shrunk
        .report
        .failure
        .as_ref()
        .is_some_and(|f| matches!(f.kind, FailureKind::Hang { .. }));
    if replay_hung {
        // The run's failure was not a hang: one of the shrinker's replays hung instead.
        found.tail = None;
        found.report = Some(format!(
            "stateprop: a replay of the shrinker on a fresh system hung (a call did not return \
             within {ms} ms, `step_timeout_ms`): not shrunk; the mismatch above is the one the \
             run found\n"
        ));
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
    replay_call: Option<String>,
    ops: Vec<M::Op>,
    origin: Origin,
) -> RunResult<M::Op>
where
    M: Model + Send,
    M::Op: Send,
    S: System<M> + 'static,
    F: Fn() -> S + Send + 'static,
{
    let mut runner = Runner::with_initial(config, initial.clone());
    if let Some(call) = replay_call {
        runner = runner.replay_call(call);
    }
    runner.shrink_failing(factory, ops, origin)
}
