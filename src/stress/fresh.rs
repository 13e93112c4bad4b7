//! A failing round of a concurrent stress run, tried again on fresh systems and shrunk when it
//! fails there.
//!
//! Round k > 0 started from states the earlier rounds' interleavings decided, which no fresh
//! system is in. Two programs can stand for it: the round alone, from the initial state (many
//! races need no history), and, while the run is short enough to keep them, the earlier rounds
//! as a sequential prefix in invocation order followed by the round as the parallel part (a bug
//! that needs the state those rounds built). The first that fails on fresh systems goes to the
//! concurrent runner's shrinker; when neither does, the report says what was tried.
//!
//! A round drawn as a parallel program (a mix with preconditions or `Var` fields) is safe in
//! every interleaving from the states it started in, not necessarily from the initial state: a
//! `Pop` drawn because the earlier rounds left an element fails on an empty fresh stack, a
//! false failure. So such a candidate is first validated from the initial state (every
//! interleaving, as the generator checks), and one that is not valid is not run; the
//! shrinker's repair keeps whatever it makes of a valid program valid. The earlier rounds as a
//! prefix are rarely valid for such a mix (invocation order is not an order that keeps every
//! precondition, and their `Var`s name steps of their own rounds), so then mostly the round
//! alone is tried.
//!
//! Keeping the earlier rounds costs memory that grows with the run, so they are kept only while
//! they number at most the plan's `shrink_bound` operations, and dropped for good past it.

use super::result::StressFailure;
use crate::config::Config;
use crate::exec::client::ClientSystem;
use crate::history::History;
use crate::program::Program;
use crate::report::Origin;
use crate::run::{RunResult, Runner};
use crate::spec::{Model, StateMachine};
use std::hash::Hash;
use std::sync::{Arc, Mutex};

/// The operations of the rounds judged so far, in invocation order, while they number at most
/// `bound`; past it, none.
pub(super) struct Earlier<Op> {
    ops: Vec<Op>,
    bound: u64,
    /// Operations of all the rounds pushed, kept or not.
    count: u64,
}

impl<Op: Clone> Earlier<Op> {
    pub(super) fn new(bound: u64) -> Self {
        Earlier {
            ops: Vec::new(),
            bound,
            count: 0,
        }
    }

    /// Adds a round that passed, its operations in the order they were invoked.
    pub(super) fn push<Out>(&mut self, history: &History<Op, Out>) {
        let kept = self.kept();
        self.count += history.ops.len() as u64;
        if !kept {
            return;
        }
        if self.count > self.bound {
            // Never to be used again: give the memory back.
            self.ops = Vec::new();
            return;
        }
        let mut round: Vec<_> = history.ops.iter().collect();
        round.sort_by_key(|o| o.call);
        self.ops.extend(round.into_iter().map(|o| o.op.clone()));
    }

    fn kept(&self) -> bool {
        self.count <= self.bound
    }
}

/// Tries round `round` (as `program`: no prefix, a branch per thread) on fresh systems from
/// `factory`, alone and then after `earlier` when it was kept, and shrinks the first that
/// fails; `found.report` gets the shrinker's report, or what was tried and that the round
/// failed only in the run.
#[allow(clippy::too_many_arguments)]
pub(super) fn investigate<M, S, F>(
    config: Config,
    initial: &M,
    replay_call: Option<String>,
    factory: F,
    program: Program<M::Op>,
    round: u64,
    earlier: &Earlier<M::Op>,
    drawn: bool,
    seed: u64,
    source: &'static str,
    found: &mut StressFailure,
) where
    M: Model + Hash + Eq + Send,
    M::Op: Send + Sync,
    M::Output: Send + Sync,
    S: ClientSystem<M> + 'static,
    F: Fn() -> S + Send + 'static,
{
    let origin = Origin::StressConcurrent {
        seed,
        operation: found.operation,
        threads: program.branches.len() as u32,
    };
    // Each candidate's shrinker takes a factory of its own; they share this one.
    let factory = Arc::new(Mutex::new(factory));
    let report = found.report.get_or_insert_with(String::new);
    let call = replay_call.as_deref();
    let ms = config.step_timeout.as_millis();
    let hung = |what: &str| {
        format!(
            "stateprop: {what}, retried on fresh systems, hung: a call did not return within \
             {ms} ms (`step_timeout_ms`) there, though it had in the run; not shrunk\n"
        )
    };
    // A drawn round, or a prefix of earlier ones, is run on fresh systems only when it is valid
    // from the initial state (see the module's comment).
    let invalid = |candidate: &Program<M::Op>| {
        if drawn {
            crate::generate::validate_program(initial, candidate).err()
        } else {
            None
        }
    };
    let mut tried = Vec::new();
    let alone = match invalid(&program) {
        None => Some(shrink(
            &config,
            initial,
            call,
            &factory,
            program.clone(),
            &origin,
            source,
        )),
        Some(why) => {
            tried.push(format!(
                "round {round} alone was not run from the initial state: it is not valid \
                 there ({why})"
            ));
            None
        }
    };
    if alone.as_ref().is_some_and(hung_in) {
        report.push_str(&hung(&format!(
            "round {round} alone, from the initial state"
        )));
        return;
    }
    if let Some(alone) = alone.filter(|a| a.failed()) {
        report.push_str(&if round == 0 {
            "stateprop: round 0 shrunk by the concurrent runner (it starts from the initial \
             state, as a fresh system does):\n"
                .to_string()
        } else {
            format!(
                "stateprop: round {round} alone, from the initial state, failed again on fresh \
                 systems: shrunk by the concurrent runner:\n"
            )
        });
        found.minimal = minimal(&alone);
        report.push_str(&alone.report.text());
        return;
    }
    if tried.is_empty() {
        tried.push(format!(
            "round {round} alone, from the initial state, passed every rerun"
        ));
    }
    if round > 0 {
        if earlier.kept() {
            let n = earlier.ops.len();
            let after = Program::parallel(earlier.ops.clone(), program.branches);
            let invalid_after = invalid(&after);
            let shrunk = match &invalid_after {
                None => Some(shrink(
                    &config, initial, call, &factory, after, &origin, source,
                )),
                Some(_) => None,
            };
            if shrunk.as_ref().is_some_and(hung_in) {
                report.push_str(&hung(&format!(
                    "round {round}, after rounds 0..{round} as a sequential prefix"
                )));
                return;
            }
            if let Some(shrunk) = shrunk.filter(|s| s.failed()) {
                report.push_str(&format!(
                    "stateprop: {}; after rounds 0..{round} as a sequential prefix ({n} \
                     operations, in invocation order) it failed again on fresh systems: shrunk \
                     by the concurrent runner:\n",
                    tried[0]
                ));
                found.minimal = minimal(&shrunk);
                report.push_str(&shrunk.report.text());
                return;
            }
            tried.push(match invalid_after {
                None => format!(
                    "after rounds 0..{round} as a sequential prefix ({n} operations, in \
                     invocation order) it passed every rerun"
                ),
                Some(why) => format!(
                    "after rounds 0..{round} as a sequential prefix ({n} operations, in \
                     invocation order) it was not run: that program is not valid ({why})"
                ),
            });
        } else {
            tried.push(format!(
                "rounds 0..{round} hold {} operations, past the shrink bound of {} \
                 (`shrink_bound`), so they were not kept to run as its prefix",
                earlier.count, earlier.bound
            ));
        }
    }
    report.push_str(&format!(
        "stateprop: the round failed only in the run, not on fresh systems: {}; not shrunk\n",
        tried.join("; ")
    ));
}

/// Shrinks `program`, a candidate, on systems from the shared `factory`; the pasted test is
/// named after `source`, the file that started the run.
fn shrink<M, S, F>(
    config: &Config,
    initial: &M,
    replay_call: Option<&str>,
    factory: &Arc<Mutex<F>>,
    program: Program<M::Op>,
    origin: &Origin,
    source: &'static str,
) -> RunResult<M::Op>
where
    M: Model + Hash + Eq + Send,
    M::Op: Send + Sync,
    M::Output: Send + Sync,
    S: ClientSystem<M> + 'static,
    F: Fn() -> S + Send + 'static,
{
    let factory = Arc::clone(factory);
    let fresh = move || (factory.lock().unwrap_or_else(|e| e.into_inner()))();
    let mut runner = Runner::with_initial(config.clone(), initial.clone());
    if let Some(call) = replay_call {
        runner = runner.replay_call(call);
    }
    runner.shrink_failing_concurrent(fresh, program, origin.clone(), source)
}

/// Whether a retry failed by hanging: the round's own failure was not a hang (those are not
/// retried), so the system hung where it had returned in the run.
fn hung_in<Op>(shrunk: &RunResult<Op>) -> bool {
    let failure = shrunk.report.failure.as_ref();
    failure.is_some_and(|f| matches!(f.kind, crate::failure::FailureKind::Hang { .. }))
}

/// The shrunk program, a line for the prefix (when it has one) and one per branch.
fn minimal<Op: StateMachine>(shrunk: &RunResult<Op>) -> Vec<String> {
    let p = &shrunk.minimal_program;
    let line = |ops: &[Op]| {
        let ops: Vec<String> = ops.iter().map(|op| op.to_rust()).collect();
        ops.join(", ")
    };
    let prefix = (!p.prefix.is_empty()).then(|| format!("prefix: {}", line(&p.prefix)));
    prefix
        .into_iter()
        .chain((p.branches.iter().enumerate()).map(|(b, ops)| format!("branch {b}: {}", line(ops))))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::Operation;

    /// A round of `n` operations numbered from `first`, invoked in reverse thread order.
    fn round(first: u32, n: u32) -> History<u32, ()> {
        History {
            ops: (0..n)
                .rev()
                .map(|i| Operation {
                    client: u64::from(i % 2),
                    op: first + i,
                    call: u64::from(first + i) * 2,
                    ret: Some(u64::from(first + i) * 2 + 1),
                    output: Some(()),
                })
                .collect(),
            sources: Vec::new(),
            steps: Vec::new(),
        }
    }

    #[test]
    fn earlier_rounds_are_kept_in_invocation_order_up_to_the_bound_and_then_dropped_for_good() {
        let mut earlier = Earlier::new(10);
        earlier.push(&round(0, 4));
        earlier.push(&round(4, 6));
        assert!(earlier.kept());
        assert_eq!(earlier.ops, (0..10).collect::<Vec<u32>>());
        earlier.push(&round(10, 1));
        assert!(!earlier.kept());
        assert_eq!(earlier.count, 11);
        assert_eq!(earlier.ops.capacity(), 0, "the memory is given back");
        earlier.push(&round(11, 1));
        assert!(!earlier.kept() && earlier.ops.is_empty());
    }
}
