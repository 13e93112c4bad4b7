//! Sequential consistency: some total order of all operations keeps each client's own order and
//! matches the model (Lamport, "How to make a multiprocessor computer that correctly executes
//! multiprocess programs", 1979).
//!
//! Unlike linearizability, real time between clients does not count: a read that returns a
//! value overwritten long before, by another client, is sequentially consistent as long as the
//! reader's own operations can be ordered before the overwrite. Each client's operations are
//! ordered by invocation time.
//!
//! The check is a depth-first search over interleavings of the clients' programs, remembering
//! every (progress of each client, model state) pair already explored so that no pair is
//! explored twice. That is exponential in the number of clients at worst; a [`CheckConfig`]
//! (steps, time, memory) makes it answer [`Verdict::Unknown`] instead of running on. An operation whose outcome is
//! unknown may take effect at its place in its client's order, or not at all; its output is not
//! checked.
//!
//! `Var`s are bound as in [`check_linearizable`](super::check_linearizable): to the model's
//! output of the step named, which is placed before the operation naming it even when another
//! client ran it; the outputs still named are part of each explored node.

use super::budget::{Budget, CheckConfig, Meter};
use super::guard::{guarded, Whereabouts};
use super::result::{Order, Report, Verdict};
use super::vars::{self, Replay, Vars};
use crate::history::History;
use crate::spec::{step_on, Model};
use std::collections::{BTreeMap, HashSet};
use std::hash::Hash;
use std::time::Instant;

/// Why a history is not sequentially consistent.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ScViolation {
    /// The longest order found that keeps each client's order and matches the model (indices
    /// into the history's operations; operations with unknown outcomes left out are not listed).
    pub ordered: Vec<usize>,
    /// After it, each client's next operation: none of them fits.
    pub blocked: Vec<usize>,
    /// The model state after `ordered` (`Debug`).
    pub state: String,
    /// What happened, in a sentence.
    pub explanation: String,
}

impl ScViolation {
    /// Every operation named: the order found, then the blocked operations.
    pub fn ops(&self) -> Vec<usize> {
        self.ordered.iter().chain(&self.blocked).copied().collect()
    }
}

/// Checks that `history` is sequentially consistent with respect to the model starting at
/// `initial`: that one order of all its operations keeps every client's program order (by
/// invocation time) and gives the outputs the history records. A consistent history's report
/// holds one [`Order`] that shows it (operations with unknown outcomes that need not take
/// effect are left out of it).
///
/// ```
/// use stateprop::check::{check_sequentially_consistent, CheckConfig, Verdict};
/// use stateprop::history::History;
/// use stateprop::models::{CasRegister, RegisterOp, RegisterOut};
///
/// let mut h = History::new();
/// h.push(0, RegisterOp::Write { value: 1 }, 0, 1, RegisterOut::Written);
/// // A stale read by another client: not linearizable, but sequentially consistent.
/// h.push(1, RegisterOp::Read, 2, 3, RegisterOut::Value(None));
/// let config = CheckConfig::default();
/// let report = check_sequentially_consistent(&h, &CasRegister::default(), &config);
/// assert_eq!(report.verdict, Verdict::Holds);
/// assert_eq!(report.orders[0].ops, [1, 0]);
/// ```
pub fn check_sequentially_consistent<M>(
    history: &History<M::Op, M::Output>,
    initial: &M,
    config: &CheckConfig,
) -> Report<ScViolation>
where
    M: Model + Hash + Eq,
{
    let start = Instant::now();
    let mut meter = Meter::new(config, start);
    if let Some(reason) = vars::unbindable::<M>(history) {
        return meter.stamp(Report::new(Verdict::Unknown(reason)));
    }
    let searched = guarded(history, initial, |at| {
        search(history, initial, &mut meter, at)
    });
    meter.stamp(searched.unwrap_or_else(Report::panicked))
}

/// The search, its live state and current operation kept in `at`.
fn search<M>(
    history: &History<M::Op, M::Output>,
    initial: &M,
    meter: &mut Meter,
    at: &mut Whereabouts<M>,
) -> Report<ScViolation>
where
    M: Model + Hash + Eq,
{
    let ops = &history.ops;
    let unknown = |reason: String| Report::new(Verdict::Unknown(reason));
    // With `Var`s: what binds them (see `super::vars`), its memory metered here. A step a var
    // names is placed before the operation naming it, as in the linearizability search (client
    // order alone does not order a prefix step before another client's operation).
    let mut scratch = Budget::new(None, None, Instant::now());
    let mut vars = None;
    let mut named = Vec::new();
    if vars::in_use::<M>(history) {
        let all: Vec<usize> = (0..ops.len()).collect();
        let made = Vars::<M>::new(history, &all, &mut scratch)
            .and_then(|v| Ok((v, vars::named_steps::<M>(history, &mut scratch)?)));
        match made {
            Ok((v, n)) => (vars, named) = (v, n),
            Err(reason) => return unknown(reason),
        }
        if let Err(reason) = meter.grow(scratch.peak_bytes) {
            return unknown(reason);
        }
    }
    let mut by_client: BTreeMap<u64, Vec<usize>> = BTreeMap::new();
    for (i, o) in ops.iter().enumerate() {
        // A read whose outcome is unknown changes nothing and checks nothing: it could only be
        // skipped, after the search tried placing it everywhere. (Unless a var names it.)
        if o.is_unknown()
            && M::is_read_only(&o.op)
            && !(vars.is_some() && named.binary_search(&history.steps[i]).is_ok())
        {
            if let Some(v) = vars.as_mut() {
                v.drop_op(i);
            }
            continue;
        }
        by_client.entry(o.client).or_default().push(i);
    }
    let programs: Vec<Vec<usize>> = by_client
        .into_values()
        .map(|mut p| {
            p.sort_by_key(|&i| (ops[i].call, i));
            p
        })
        .collect();
    let total: usize = programs.iter().map(Vec::len).sum();
    // The path and the copy of the best one grow to one entry per operation.
    let per_op = size_of::<(usize, Option<usize>, M, usize)>() + size_of::<Option<usize>>();
    if let Err(reason) = meter.grow((total * per_op + 3 * programs.len() * 8) as u64) {
        return unknown(reason);
    }
    // Each explored node's key: a cursor per client.
    let key_bytes = (programs.len() * 8) as u64;

    // The current node: how far each client has got, and the model state there.
    let mut cursors = vec![0usize; programs.len()];
    let state = &mut at.state;
    // The moves taken to reach it: (client, op applied or `None` if skipped, state before, the
    // next move to try after undoing this one).
    let mut path: Vec<(usize, Option<usize>, M, usize)> = Vec::new();
    let mut visited: HashSet<(Vec<usize>, M)> = HashSet::new();
    visited.insert((cursors.clone(), state.clone()));
    let mut best: (Vec<Option<usize>>, Vec<usize>, M) =
        (Vec::new(), cursors.clone(), state.clone());
    // Moves are numbered 2 * client + (0: apply, 1: skip an unknown operation).
    let mut next_move = 0usize;
    loop {
        if path.len() == total {
            let order = path.iter().filter_map(|m| m.1).collect();
            let mut report = Report::new(Verdict::Holds);
            report.orders.push(Order::new(None, order));
            report.cache_entries = visited.len() as u64;
            return report;
        }
        // A step tries up to two moves per client, each copying the cursors.
        if let Err(reason) = meter.step(2 * programs.len() as u64 * programs.len() as u64) {
            return unknown(reason);
        }
        let mut moved = false;
        while next_move < 2 * programs.len() {
            let (client, skip) = (next_move / 2, next_move % 2 == 1);
            next_move += 1;
            let Some(&i) = programs[client].get(cursors[client]) else {
                continue;
            };
            let op = &ops[i];
            if skip && !op.is_unknown() {
                continue;
            }
            at.trying = Some(i);
            let (mut bound, mut blind) = (None, false);
            if let (Some(v), false) = (vars.as_mut(), skip) {
                if v.holds(i) {
                    match v.bind(i, op) {
                        Some(b) => bound = Some(b),
                        None => continue,
                    }
                }
                blind = v.blind(i);
            }
            let this = bound.as_ref().unwrap_or(&op.op);
            let mut next = state.clone();
            let mut expected = None;
            if !skip {
                // The model follows a known output where its specification allows a choice.
                let actual = op.output.as_ref().filter(|_| op.ret.is_some() && !blind);
                match step_on(&mut next, this, actual) {
                    Ok(e) => expected = Some(e),
                    Err(_) => continue,
                }
            }
            cursors[client] += 1;
            // The visited key: the cursors, then (with vars) the named outputs in the state.
            let mut key = cursors.clone();
            if let Some(v) = vars.as_mut() {
                if skip {
                    v.drop_op(i);
                } else {
                    let before = v.bytes;
                    // Metered below instead: the scratch budget has no cap.
                    let entered = v.enter(i, expected.as_ref(), &mut scratch);
                    debug_assert!(entered, "an uncapped budget refuses nothing");
                    if let Err(reason) = meter.grow(v.bytes - before) {
                        return unknown(reason);
                    }
                }
                key.extend(
                    v.key_words()
                        .iter()
                        .flat_map(|&w| [(w >> 32) as usize, (w & 0xffff_ffff) as usize]),
                );
            }
            let key_bytes = key_bytes + (key.len() - cursors.len()) as u64 * 8;
            let undo = |vars: &mut Option<Vars<M>>| {
                if let Some(v) = vars.as_mut() {
                    if skip {
                        v.undrop_op(i);
                    } else {
                        v.leave(i);
                    }
                }
            };
            if let Err(reason) = meter.room_in(&mut visited, key_bytes) {
                return unknown(reason);
            }
            if !visited.insert((key, next.clone())) {
                meter.release(key_bytes);
                cursors[client] -= 1;
                undo(&mut vars);
                continue;
            }
            let before = std::mem::replace(state, next);
            path.push((client, (!skip).then_some(i), before, next_move));
            if path.len() > best.0.len() {
                best = (
                    path.iter().map(|m| m.1).collect(),
                    cursors.clone(),
                    state.clone(),
                );
            }
            next_move = 0;
            moved = true;
            break;
        }
        if moved {
            continue;
        }
        let Some((client, applied, before, resume)) = path.pop() else {
            if let Some(doubt) = vars.as_ref().and_then(|v| v.doubt()) {
                let mut report = unknown(doubt.to_string());
                report.cache_entries = visited.len() as u64;
                return report;
            }
            // Explaining steps the model from the best state: a panic there names it.
            *state = best.2.clone();
            let violation = explain(history, initial, &programs, best, &mut at.trying);
            let mut report = Report::new(Verdict::Violated(violation));
            report.cache_entries = visited.len() as u64;
            return report;
        };
        cursors[client] -= 1;
        if let Some(v) = vars.as_mut() {
            match applied {
                Some(i) => v.leave(i),
                None => v.undrop_op(programs[client][cursors[client]]),
            }
        }
        *state = before;
        next_move = resume;
    }
}

fn explain<M: Model>(
    history: &History<M::Op, M::Output>,
    initial: &M,
    programs: &[Vec<usize>],
    (path, cursors, state): (Vec<Option<usize>>, Vec<usize>, M),
    trying: &mut Option<usize>,
) -> ScViolation {
    let ordered: Vec<usize> = path.into_iter().flatten().collect();
    // Vars of the blocked operations name steps of `ordered` (or nothing): replay it to bind.
    let mut replay = Replay::new();
    if vars::in_use::<M>(history) {
        let mut s = initial.clone();
        for &i in &ordered {
            *trying = Some(i);
            replay.step(history, i, &mut s);
        }
    }
    let mut blocked = Vec::new();
    let mut reasons = Vec::new();
    for (client, program) in programs.iter().enumerate() {
        let Some(&i) = program.get(cursors[client]) else {
            continue;
        };
        blocked.push(i);
        let op = &history.ops[i];
        *trying = Some(i);
        let expected = match replay.op(history, i) {
            Some(op) => format!("{:?}", state.clone().step(&op)),
            None => "nothing (a `Var` of it names no step placed before it)".to_string(),
        };
        let actual = match &op.output {
            Some(out) => format!("{out:?}"),
            None => "nothing".to_string(),
        };
        reasons.push(format!(
            "op {i} ({:?}, client {}) returned {actual} where the model says {expected}",
            op.op, op.client
        ));
    }
    let explanation = format!(
        "no order of the operations that keeps each client's own order matches the model; \
         the longest one found runs ops {ordered:?} and reaches {state:?}, where no client's \
         next operation fits: {}",
        reasons.join("; ")
    );
    ScViolation {
        ordered,
        blocked,
        state: format!("{state:?}"),
        explanation,
    }
}
