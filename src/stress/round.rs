//! One round of a concurrent stress run, judged at the barrier that ends it: its history
//! against the states the previous round may have ended in, the end states the next round
//! starts from, and, when it has no linearization, the report: the thread, the window, the
//! round as a parallel program (tried again and shrunk in `fresh`).

use super::result::StressFailure;
use crate::catch::catch_quietly;
use crate::check::end_states::{end_states, EndStates};
use crate::check::CheckConfig;
use crate::exec::client::ClientSystem;
use crate::history::{History, Operation};
use crate::program::Program;
use crate::spec::{Model, StateMachine};
use std::collections::HashSet;
use std::hash::Hash;

/// What `end_states` says when no linearization exists (as opposed to a search that gave up).
const NO_LINEARIZATION: &str = "the history has no linearization";

/// What a round's history says about the states the next round starts from.
pub(super) enum RoundVerdict<M> {
    /// Linearizable: the distinct states its linearizations end in.
    Next(Vec<M>),
    /// No linearization from any start state.
    Violation,
    /// Not settled (too many end states, the search's budget, a model panic).
    Undecided(String),
}

/// A failure at operation `at` of the run with `cause`, nothing else known yet.
pub(super) fn failure_at(at: u64, cause: String) -> StressFailure {
    StressFailure {
        operation: at,
        cause,
        window: Vec::new(),
        prefix: None,
        tail: None,
        report: None,
        minimal: Vec::new(),
        round: None,
        thread: None,
    }
}

/// Judges one round's history from each state the round may have started in: linearizable if
/// it is from at least one of them, ending in the union of their linearizations' end states.
pub(super) fn judge_round<M: Model + Hash + Eq>(
    history: &History<M::Op, M::Output>,
    starts: &[M],
    max_states: usize,
    config: &CheckConfig,
) -> RoundVerdict<M> {
    let mut seen: HashSet<M> = HashSet::new();
    let mut next = Vec::new();
    for start in starts {
        let walked = end_states(history, start, config, max_states, |state: &M| {
            if seen.insert(state.clone()) {
                next.push(state.clone());
            }
            // Refuse each state, so the walk visits them all.
            Err::<(), ()>(())
        });
        match walked {
            EndStates::Refused { .. } => {}
            EndStates::Undecided(why) if why == NO_LINEARIZATION => {}
            EndStates::Undecided(why) => return RoundVerdict::Undecided(why),
            EndStates::Accepted => {
                return RoundVerdict::Undecided("internal: an end state was accepted".into())
            }
        }
        if next.len() > max_states {
            return RoundVerdict::Undecided(format!("more than {max_states} distinct end states"));
        }
    }
    if next.is_empty() {
        RoundVerdict::Violation
    } else {
        RoundVerdict::Next(next)
    }
}

/// The system's invariant at a barrier: it is in one of `states`, so it fails only if it fails
/// in every one.
pub(super) fn invariant_somewhere<M: Model, S: ClientSystem<M>>(
    sys: &S,
    states: &[M],
) -> Result<(), String> {
    let mut first = None;
    for state in states {
        match catch_quietly(|| sys.invariant(state)) {
            Ok(Ok(())) => return Ok(()),
            Ok(Err(why)) => first = first.or(Some(format!("the invariant failed: {why}"))),
            Err(message) => first = first.or(Some(format!("the invariant panicked: {message}"))),
        }
    }
    first.map_or(Ok(()), Err)
}

/// A round's operations in invocation order, as `tN [call, ret] op -> output` lines.
pub(super) fn window<Op: StateMachine, Out: std::fmt::Debug>(
    history: &History<Op, Out>,
) -> Vec<String> {
    let mut ops: Vec<&Operation<Op, Out>> = history.ops.iter().collect();
    ops.sort_by_key(|o| o.call);
    ops.iter()
        .map(|o| {
            let ret = o.ret.map_or("-".to_string(), |r| r.to_string());
            let out = o.output.as_ref().map_or("?".into(), |v| format!("{v:?}"));
            format!(
                "t{} [{}, {ret}] {} -> {out}",
                o.client,
                o.call,
                o.op.to_rust()
            )
        })
        .collect()
}

/// The report of a round with no linearization: the earliest return after which the round's
/// history has none names the thread, and the round is printed as a parallel program.
pub(super) fn violation<M: Model + Hash + Eq>(
    history: &History<M::Op, M::Output>,
    program: &Program<M::Op>,
    starts: &[M],
    before: u64,
    round: u64,
    max_states: usize,
    config: &CheckConfig,
) -> StressFailure {
    let mut rets: Vec<u64> = history.ops.iter().filter_map(|o| o.ret).collect();
    rets.sort_unstable();
    // The history cut at time `t`: what was invoked by then, what had not returned pending.
    // A cut of a linearizable history is linearizable, so the first failing cut is searched
    // by bisection.
    let cut = |t: u64| History {
        ops: (history.ops.iter())
            .filter(|o| o.call < t)
            .map(|o| match o.ret {
                Some(r) if r <= t => o.clone(),
                _ => Operation {
                    ret: None,
                    output: None,
                    ..o.clone()
                },
            })
            .collect(),
        sources: Vec::new(),
        // Every operation invoked by `t` is kept, so the step ids stay aligned.
        steps: (history.steps.iter().zip(&history.ops))
            .filter(|(_, o)| o.call < t)
            .map(|(&id, _)| id)
            .collect(),
    };
    let fails = |t: u64| {
        matches!(
            judge_round(&cut(t), starts, max_states, config),
            RoundVerdict::Violation
        )
    };
    let (mut lo, mut hi) = (0usize, rets.len().saturating_sub(1));
    while lo < hi {
        let mid = (lo + hi) / 2;
        if fails(rets[mid]) {
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    let culprit = rets
        .get(lo)
        .and_then(|&t| history.ops.iter().find(|o| o.ret == Some(t)));
    let mut f = failure_at(
        before + lo as u64,
        match culprit {
            Some(o) => format!(
                "the round's history has no linearization from the {} state(s) it may have \
                 started in; the earliest return after which it has none is `{}` -> {} on \
                 thread {}",
                starts.len(),
                o.op.to_rust(),
                o.output.as_ref().map_or("?".into(), |v| format!("{v:?}")),
                o.client
            ),
            None => "the round's history has no linearization".to_string(),
        },
    );
    f.round = Some(round);
    f.thread = culprit.map(|o| o.client as u32);
    f.window = window(history);
    f.report = Some(reproduction(program, starts, round));
    f
}

/// The round's operations as a parallel program: no prefix, one branch per thread, each in the
/// order its thread ran them.
pub(super) fn as_program<Op: Clone, Out>(history: &History<Op, Out>) -> Program<Op> {
    let threads = history.ops.iter().map(|o| o.client + 1).max().unwrap_or(0);
    let mut branches: Vec<Vec<&Operation<Op, Out>>> = vec![Vec::new(); threads as usize];
    for o in &history.ops {
        branches[o.client as usize].push(o);
    }
    let branches = (branches.into_iter())
        .map(|mut b| {
            b.sort_by_key(|o| o.call);
            b.into_iter().map(|o| o.op.clone()).collect()
        })
        .collect();
    Program::parallel(Vec::new(), branches)
}

/// The round as a parallel program, one branch per thread, and what it starts from.
fn reproduction<M: Model>(program: &Program<M::Op>, starts: &[M], round: u64) -> String {
    let mut t = String::from(
        "stateprop: the round as a parallel program, one branch per thread (no prefix):\n",
    );
    t.push_str("    let program = stateprop::Program::parallel(vec![], vec![\n");
    for branch in &program.branches {
        let ops: Vec<String> = branch.iter().map(|op| op.to_rust()).collect();
        t.push_str(&format!("        vec![{}],\n", ops.join(", ")));
    }
    t.push_str("    ]);\n");
    if round == 0 {
        t.push_str(
            "stateprop: round 0 starts from the plan's initial model state: replay it with \
             `stateprop::replay_concurrent_with(initial, factory, &program)`; an interleaving \
             that fails may take many runs\n",
        );
    } else {
        t.push_str(&format!(
            "stateprop: round {round} starts from one of these model states: {:?}, which \
             the earlier rounds' interleavings decided; the program replays from there only \
             on a system brought to that state by hand, so it is tried on fresh systems from \
             the initial state instead: alone, then after the earlier rounds if need be\n",
            starts
        ));
    }
    t
}
