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

use super::budget::{CheckConfig, Meter};
use super::guard::{guarded, Whereabouts};
use super::result::{Order, Report, Verdict};
use crate::history::History;
use crate::spec::Model;
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
    let searched = guarded(history, initial, |at| search(history, &mut meter, at));
    meter.stamp(searched.unwrap_or_else(Report::panicked))
}

/// The search, its live state and current operation kept in `at`.
fn search<M>(
    history: &History<M::Op, M::Output>,
    meter: &mut Meter,
    at: &mut Whereabouts<M>,
) -> Report<ScViolation>
where
    M: Model + Hash + Eq,
{
    let ops = &history.ops;
    let mut by_client: BTreeMap<u64, Vec<usize>> = BTreeMap::new();
    for (i, o) in ops.iter().enumerate() {
        // A read whose outcome is unknown changes nothing and checks nothing: it could only be
        // skipped, after the search tried placing it everywhere.
        if o.is_unknown() && M::is_read_only(&o.op) {
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
    let unknown = |reason: String| Report::new(Verdict::Unknown(reason));
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
            let mut next = state.clone();
            if !skip {
                let expected = next.step(&op.op);
                if let Some(actual) = op.output.as_ref().filter(|_| op.ret.is_some()) {
                    if !next.outputs_match(&op.op, &expected, actual) {
                        continue;
                    }
                }
            }
            cursors[client] += 1;
            if let Err(reason) = meter.room_in(&mut visited, key_bytes) {
                return unknown(reason);
            }
            if !visited.insert((cursors.clone(), next.clone())) {
                meter.release(key_bytes);
                cursors[client] -= 1;
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
        let Some((client, _, before, resume)) = path.pop() else {
            // Explaining steps the model from the best state: a panic there names it.
            *state = best.2.clone();
            let violation = explain(history, &programs, best, &mut at.trying);
            let mut report = Report::new(Verdict::Violated(violation));
            report.cache_entries = visited.len() as u64;
            return report;
        };
        cursors[client] -= 1;
        *state = before;
        next_move = resume;
    }
}

fn explain<M: Model>(
    history: &History<M::Op, M::Output>,
    programs: &[Vec<usize>],
    (path, cursors, state): (Vec<Option<usize>>, Vec<usize>, M),
    trying: &mut Option<usize>,
) -> ScViolation {
    let ordered: Vec<usize> = path.into_iter().flatten().collect();
    let mut blocked = Vec::new();
    let mut reasons = Vec::new();
    for (client, program) in programs.iter().enumerate() {
        let Some(&i) = program.get(cursors[client]) else {
            continue;
        };
        blocked.push(i);
        let op = &history.ops[i];
        *trying = Some(i);
        let expected = state.clone().step(&op.op);
        let actual = match &op.output {
            Some(out) => format!("{out:?}"),
            None => "nothing".to_string(),
        };
        reasons.push(format!(
            "op {i} ({:?}, client {}) returned {actual} where the model says {expected:?}",
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
