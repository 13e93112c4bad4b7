//! Idempotency: a request sent more than once (a client's retry after a timeout, a message the
//! network duplicated) must have the effect of sending it once.
//!
//! The history records every attempt as an operation, and each operation carries a request id:
//! attempts of one request share it, and must ask for the same operation. The history is
//! *idempotent* when it is linearizable with each request taking effect **at most once**:
//!
//! - a request takes effect at a single point, after its first attempt was invoked and before
//!   any attempt with a known output returned;
//! - every attempt with a known output returns what the model returns at that point, so a retry
//!   of an applied request must answer with the original result, not run again;
//! - a request none of whose attempts has a known output may take effect once, or not at all.
//!
//! When that fails, the checker looks for the explanation: a request whose attempts taken as
//! separate operations (each applied at most once) make the history linearizable took effect
//! more than once ([`IdempotencyViolation::AppliedTwice`], naming the two attempts). If no such
//! request exists, the outputs are wrong regardless of retries
//! ([`IdempotencyViolation::Unexplained`]).
//!
//! The search is Wing and Gong's (as in [`check_linearizable`](super::check_linearizable)),
//! over requests instead of operations, with Lowe's cache of (applied set, state) pairs, under a
//! [`CheckConfig`]'s budget of steps, time and memory.

use super::budget::{CheckConfig, Meter};
use super::guard::{guarded, Whereabouts};
use super::result::{Order, Report, Verdict};
use crate::history::History;
use crate::spec::Model;
use std::collections::{BTreeMap, HashSet};
use std::hash::Hash;
use std::time::Instant;

/// Why a history is not idempotent. Operations are indices into the history's operations.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum IdempotencyViolation {
    /// Two operations share a request id but ask for different things: the request ids cannot
    /// be trusted (a client reusing ids, or ids that collide).
    ConflictingRequest {
        /// The request id.
        request: u64,
        /// Its first operation.
        first: usize,
        /// An operation with the same id and a different request.
        second: usize,
        /// What happened, in a sentence.
        explanation: String,
    },
    /// The outputs are explained if `original` and `retry`, attempts of one request, both took
    /// effect, and by no history in which every request takes effect at most once.
    AppliedTwice {
        /// The request id.
        request: u64,
        /// The attempt invoked first.
        original: usize,
        /// A later attempt that took effect again.
        retry: usize,
        /// What happened, in a sentence.
        explanation: String,
    },
    /// No request applied more than once explains the outputs either: the history is not
    /// linearizable whatever the request ids say. (Or the search for such a request ran out of
    /// budget after the history was shown not to be idempotent; the explanation says so.)
    Unexplained {
        /// The longest order of requests found (their first attempts) that matches the model.
        linearized: Vec<usize>,
        /// An attempt that cannot be placed after them.
        blocked: usize,
        /// What happened, in a sentence.
        explanation: String,
    },
}

impl IdempotencyViolation {
    /// The operations named.
    pub fn ops(&self) -> Vec<usize> {
        match self {
            IdempotencyViolation::ConflictingRequest { first, second, .. } => vec![*first, *second],
            IdempotencyViolation::AppliedTwice {
                original, retry, ..
            } => vec![*original, *retry],
            IdempotencyViolation::Unexplained {
                linearized,
                blocked,
                ..
            } => linearized.iter().chain([blocked]).copied().collect(),
        }
    }

    /// What happened, in a sentence.
    pub fn explanation(&self) -> &str {
        match self {
            IdempotencyViolation::ConflictingRequest { explanation, .. }
            | IdempotencyViolation::AppliedTwice { explanation, .. }
            | IdempotencyViolation::Unexplained { explanation, .. } => explanation,
        }
    }
}

/// Checks that `history`, in which `request_ids[i]` is the request id of `history.ops[i]`, is
/// explained by the model starting at `initial` applying each request at most once (the rules are
/// in the [module documentation](self)). An idempotent history's report holds one [`Order`]:
/// the order in which requests took effect, each named by its first attempt (requests that
/// need not have taken effect are left out).
///
/// ```
/// use stateprop::check::{check_idempotent, CheckConfig, IdempotencyViolation, Verdict};
/// use stateprop::history::History;
/// use stateprop::models::{Counter, CounterOp, CounterOut};
///
/// let add = CounterOp::Add { by: 5 };
/// let mut h = History::new();
/// h.push_unknown(0, add.clone(), 0); // timed out
/// h.push(0, add, 2, 3, CounterOut::Done); // the retry, same request id
/// h.push(1, CounterOp::Read, 4, 5, CounterOut::Value(10)); // both took effect
/// let report = check_idempotent(&h, &[1, 1, 2], &Counter::default(), &CheckConfig::default());
/// let Verdict::Violated(violation) = report.verdict else { panic!() };
/// assert!(matches!(
///     violation,
///     IdempotencyViolation::AppliedTwice { request: 1, original: 0, retry: 1, .. }
/// ));
/// ```
///
/// # Panics
///
/// If `request_ids` and the history differ in length.
pub fn check_idempotent<M>(
    history: &History<M::Op, M::Output>,
    request_ids: &[u64],
    initial: &M,
    config: &CheckConfig,
) -> Report<IdempotencyViolation>
where
    M: Model + Hash + Eq,
    M::Op: PartialEq,
{
    assert_eq!(
        request_ids.len(),
        history.ops.len(),
        "stateprop: check_idempotent needs one request id per operation"
    );
    let start = Instant::now();
    let mut meter = Meter::new(config, start);
    if let Some(reason) = refuse_vars::<M>(history) {
        return meter.stamp(Report::new(Verdict::Unknown(reason)));
    }
    let check =
        |at: &mut Whereabouts<M>| check_guarded(history, request_ids, initial, &mut meter, at);
    let report = guarded(history, initial, check).unwrap_or_else(Report::panicked);
    meter.stamp(report)
}

/// Why the history cannot be checked here: an operation holds a `Var`. Binding one means
/// following it to the request whose attempt it names and keeping that request's model output
/// in the search's state and in both of its searches (at most once, and attempts apart), which
/// this checker does not do yet; stepping the model on an unbound var would only panic.
fn refuse_vars<M: Model>(history: &History<M::Op, M::Output>) -> Option<String> {
    if !<M::Op as crate::spec::StateMachine>::uses_vars() {
        return None;
    }
    let (i, id) = history.ops.iter().enumerate().find_map(|(i, o)| {
        let first = super::vars::var_steps(&o.op).first().copied()?;
        Some((i, first))
    })?;
    Some(format!(
        "check_idempotent does not bind `Var`s: operation {i} ({:?}) holds one naming {id}; \
         check_linearizable and check_sequentially_consistent do",
        history.ops[i].op
    ))
}

/// The check, the live state of its searches and their current operation kept in `at`.
fn check_guarded<M>(
    history: &History<M::Op, M::Output>,
    request_ids: &[u64],
    initial: &M,
    meter: &mut Meter,
    at: &mut Whereabouts<M>,
) -> Report<IdempotencyViolation>
where
    M: Model + Hash + Eq,
    M::Op: PartialEq,
{
    let mut requests: BTreeMap<u64, Vec<usize>> = BTreeMap::new();
    for (i, &id) in request_ids.iter().enumerate() {
        requests.entry(id).or_default().push(i);
    }
    // Requests in the order of their first attempt.
    let mut requests: Vec<(u64, Vec<usize>)> = requests.into_iter().collect();
    requests.sort_by_key(|(_, attempts)| attempts[0]);
    let ops = &history.ops;
    let done = |verdict, order: Option<Vec<usize>>| {
        let mut report = Report::new(verdict);
        report.orders.extend(order.map(|ops| Order::new(None, ops)));
        report
    };
    for (id, attempts) in &requests {
        let first = attempts[0];
        if let Some(&second) = attempts[1..].iter().find(|&&a| ops[a].op != ops[first].op) {
            let explanation = format!(
                "request {id} names two different operations: op {first} ({:?}) and op \
                 {second} ({:?})",
                ops[first].op, ops[second].op
            );
            let violation = IdempotencyViolation::ConflictingRequest {
                request: *id,
                first,
                second,
                explanation,
            };
            return done(Verdict::Violated(violation), None);
        }
    }

    let units = |split: &dyn Fn(u64) -> bool| -> Vec<Unit> {
        let mut units = Vec::new();
        for (id, attempts) in &requests {
            // A read none of whose attempts has a known outcome changes nothing and checks
            // nothing: it could only be left out, after the search tried placing it everywhere.
            let silent = |&a: &usize| ops[a].is_unknown() && M::is_read_only(&ops[a].op);
            if attempts.iter().all(silent) {
                continue;
            }
            if split(*id) {
                units.extend(attempts.iter().map(|&a| Unit::new(history, *id, &[a])));
            } else {
                units.push(Unit::new(history, *id, attempts));
            }
        }
        units.sort_by_key(|u| (u.call, u.attempts[0]));
        units
    };

    let once = units(&|_| false);
    let failure = match search(history, &once, initial, meter, at) {
        Ok(Outcome::Found(order)) => {
            let order = order.iter().map(|&u| once[u].attempts[0]).collect();
            return done(Verdict::Holds, Some(order));
        }
        Ok(Outcome::Impossible(failure)) => failure,
        Err(reason) => return done(Verdict::Unknown(reason), None),
    };

    // Which request, applied again, explains the outputs? First one at a time, then all at once.
    let retried: Vec<u64> = requests
        .iter()
        .filter(|(_, a)| a.len() > 1)
        .map(|(id, _)| *id)
        .collect();
    let mut tries: Vec<Box<dyn Fn(u64) -> bool>> = Vec::new();
    for &id in &retried {
        tries.push(Box::new(move |r| r == id));
    }
    if retried.len() > 1 {
        tries.push(Box::new(|_| true));
    }
    // The history is already known not to be idempotent: running out of budget here only
    // leaves the violation less well explained.
    let mut gave_up = None;
    for split in &tries {
        let split_units = units(split.as_ref());
        match search(history, &split_units, initial, meter, at) {
            Ok(Outcome::Found(order)) => {
                if let Some(violation) = applied_twice(history, &split_units, &order) {
                    return done(Verdict::Violated(violation), None);
                }
            }
            Ok(Outcome::Impossible(_)) => {}
            Err(reason) => {
                gave_up = Some(reason);
                break;
            }
        }
    }
    let violation = unexplained(history, &once, failure, gave_up, at);
    done(Verdict::Violated(violation), None)
}

/// A request (or, when a request is split, one attempt): it takes effect at most once.
struct Unit {
    request: u64,
    attempts: Vec<usize>,
    /// When its first attempt was invoked.
    call: u64,
    /// It must take effect before this (the earliest return with a known output), or `None`:
    /// no attempt has a known output, so it may take effect any time after `call`, or never.
    deadline: Option<u64>,
}

impl Unit {
    fn new<Op, Out>(history: &History<Op, Out>, request: u64, attempts: &[usize]) -> Self {
        let ops = &history.ops;
        Unit {
            request,
            attempts: attempts.to_vec(),
            call: attempts.iter().map(|&a| ops[a].call).min().unwrap_or(0),
            deadline: attempts
                .iter()
                .filter(|&&a| !ops[a].is_unknown())
                .filter_map(|&a| ops[a].ret)
                .min(),
        }
    }
}

enum Outcome<M> {
    /// The units in the order they took effect.
    Found(Vec<usize>),
    /// The longest order found, and the state it reaches.
    Impossible((Vec<usize>, M)),
}

/// Wing and Gong's search: repeatedly apply a unit that was invoked before every pending
/// deadline, backtracking when none fits.
fn search<M: Model + Hash + Eq>(
    history: &History<M::Op, M::Output>,
    units: &[Unit],
    initial: &M,
    meter: &mut Meter,
    at: &mut Whereabouts<M>,
) -> Result<Outcome<M>, String> {
    // Everything this search counts is freed when it returns.
    let base = meter.bytes();
    let result = search_counted(history, units, initial, meter, at);
    meter.release_to(base);
    result
}

fn search_counted<M: Model + Hash + Eq>(
    history: &History<M::Op, M::Output>,
    units: &[Unit],
    initial: &M,
    meter: &mut Meter,
    at: &mut Whereabouts<M>,
) -> Result<Outcome<M>, String> {
    let ops = &history.ops;
    // The stack, `applied` and the copy of the best order grow to one entry per unit; each
    // explored node's key is an `applied` copy.
    let per_unit = size_of::<(usize, M)>() + 1 + 8;
    meter.grow((units.len() * per_unit) as u64)?;
    let key_bytes = units.len() as u64;
    let mut applied = vec![false; units.len()];
    let mut pending = units.iter().filter(|u| u.deadline.is_some()).count();
    at.state = initial.clone();
    let state = &mut at.state;
    let mut stack: Vec<(usize, M)> = Vec::new();
    let mut seen: HashSet<(Vec<bool>, M)> = HashSet::new();
    let mut best: (Vec<usize>, M) = (Vec::new(), initial.clone());
    let mut cursor = 0;
    loop {
        if pending == 0 {
            return Ok(Outcome::Found(stack.iter().map(|(u, _)| *u).collect()));
        }
        // The pending deadlines and the candidates are found by walking the units.
        meter.step(units.len() as u64)?;
        let limit = units
            .iter()
            .zip(&applied)
            .filter(|(_, &a)| !a)
            .filter_map(|(u, _)| u.deadline)
            .min()
            .unwrap_or(u64::MAX);
        // Units are sorted by `call`: the candidates are a prefix.
        let candidate = (cursor..units.len())
            .take_while(|&u| units[u].call <= limit)
            .find(|&u| !applied[u]);
        if let Some(u) = candidate {
            cursor = u + 1;
            let unit = &units[u];
            at.trying = Some(unit.attempts[0]);
            let mut next = state.clone();
            if apply_unit(&mut next, ops, &unit.attempts).is_err() {
                continue;
            }
            applied[u] = true;
            meter.room_in(&mut seen, key_bytes)?;
            if !seen.insert((applied.clone(), next.clone())) {
                meter.release(key_bytes);
                applied[u] = false;
                continue;
            }
            stack.push((u, std::mem::replace(state, next)));
            if unit.deadline.is_some() {
                pending -= 1;
            }
            if stack.len() > best.0.len() {
                best = (stack.iter().map(|(u, _)| *u).collect(), state.clone());
            }
            cursor = 0;
        } else {
            let Some((u, before)) = stack.pop() else {
                return Ok(Outcome::Impossible(best));
            };
            applied[u] = false;
            if units[u].deadline.is_some() {
                pending += 1;
            }
            *state = before;
            cursor = u + 1;
        }
    }
}

/// The first request applied more than once in `order`, as a violation.
/// Applies one request to `state` once and judges every attempt's known output: the first
/// through [`Model::accept`] (the model follows the system's choice where its specification
/// allows one), the retries against the output the model then stands by, since a retry of an
/// idempotent request answers as the request did. `Err` names the attempt that does not fit.
fn apply_unit<M: Model>(
    state: &mut M,
    ops: &[crate::history::Operation<M::Op, M::Output>],
    attempts: &[usize],
) -> Result<(), usize> {
    let mut kept = state.step(&ops[attempts[0]].op);
    let mut followed = false;
    for &a in attempts {
        let Some(actual) = ops[a].output.as_ref().filter(|_| ops[a].ret.is_some()) else {
            continue;
        };
        if followed {
            if !state.outputs_match(&ops[a].op, &kept, actual) {
                return Err(a);
            }
        } else {
            kept = state.accept(&ops[a].op, kept, actual).map_err(|_| a)?;
            followed = true;
        }
    }
    Ok(())
}

fn applied_twice<Op: std::fmt::Debug, Out: std::fmt::Debug>(
    history: &History<Op, Out>,
    units: &[Unit],
    order: &[usize],
) -> Option<IdempotencyViolation> {
    // Each applied unit is one application; a split request's units are single attempts.
    let mut applied: BTreeMap<u64, Vec<usize>> = BTreeMap::new();
    for &u in order {
        applied
            .entry(units[u].request)
            .or_default()
            .push(units[u].attempts[0]);
    }
    let mut twice: Vec<(u64, Vec<usize>)> = applied
        .into_iter()
        .filter(|(_, attempts)| attempts.len() > 1)
        .collect();
    for (_, attempts) in &mut twice {
        attempts.sort_by_key(|&a| (history.ops[a].call, a));
    }
    twice.sort_by_key(|(_, attempts)| attempts[0]);
    let (request, attempts) = twice.first()?;
    let (original, retry) = (attempts[0], attempts[1]);
    let outcome = |a: usize| match (&history.ops[a].ret, &history.ops[a].output) {
        (Some(_), Some(out)) => format!("returned {out:?}"),
        _ => "has an unknown outcome".to_string(),
    };
    let mut explanation = format!(
        "request {request} took effect twice: the outputs are explained if op {original} \
         ({:?}, {}) and its retry op {retry} ({}) both took effect, and by no order in which \
         each request takes effect at most once",
        history.ops[original].op,
        outcome(original),
        outcome(retry),
    );
    if twice.len() > 1 {
        let others: Vec<String> = twice[1..].iter().map(|(r, _)| r.to_string()).collect();
        let (noun, verb) = if others.len() == 1 {
            ("request", "was")
        } else {
            ("requests", "were")
        };
        explanation.push_str(&format!(
            "; {noun} {} {verb} applied again as well",
            others.join(", ")
        ));
    }
    Some(IdempotencyViolation::AppliedTwice {
        request: *request,
        original,
        retry,
        explanation,
    })
}

fn unexplained<M: Model>(
    history: &History<M::Op, M::Output>,
    units: &[Unit],
    (order, state): (Vec<usize>, M),
    gave_up: Option<String>,
    at: &mut Whereabouts<M>,
) -> IdempotencyViolation {
    let ops = &history.ops;
    let linearized: Vec<usize> = order.iter().map(|&u| units[u].attempts[0]).collect();
    // The pending request that must take effect first, and its first attempt with a known
    // output.
    let blocked_unit = (0..units.len())
        .filter(|u| !order.contains(u))
        .filter(|&u| units[u].deadline.is_some())
        .min_by_key(|&u| units[u].deadline);
    let Some(u) = blocked_unit else {
        unreachable!("a search fails only with a request that must take effect")
    };
    // Explaining steps the model from the best state: a panic there names it.
    at.state = state.clone();
    at.trying = Some(units[u].attempts[0]);
    let expected = state.clone().step(&ops[units[u].attempts[0]].op);
    // The attempt whose output the model contradicts (the unit failed, so one does).
    let blocked = match apply_unit(&mut state.clone(), ops, &units[u].attempts) {
        Err(a) => a,
        Ok(()) => {
            let attempts = &units[u].attempts;
            let known = attempts.iter().copied().find(|&a| !ops[a].is_unknown());
            known.unwrap_or(attempts[0])
        }
    };
    let actual = ops[blocked]
        .output
        .as_ref()
        .map_or("nothing".to_string(), |o| format!("{o:?}"));
    let premise = match gave_up {
        None => "no order of the requests explains the outputs, even with retries applied again"
            .to_string(),
        Some(reason) => format!(
            "no order in which each request takes effect at most once explains the outputs \
             (whether a retry applied again would was not settled: {reason})"
        ),
    };
    let explanation = format!(
        "{premise}; after ops {linearized:?} the model is in {state:?}, and op {blocked} ({:?}) \
         returned {actual} where the model says {expected:?}",
        ops[blocked].op
    );
    IdempotencyViolation::Unexplained {
        linearized,
        blocked,
        explanation,
    }
}
