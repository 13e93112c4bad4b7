//! More than one violation: [`violations`].
//!
//! The checker stops at the first violation, so ordinary replication lag early in a recording
//! hides a fault that comes later. To go on, each violation is first cut down to a minimal
//! sub-history ([`minimal_violation_by`]); the operation the checker blames there is then given
//! the benefit of the doubt, and the history is checked again.
//!
//! *The benefit of the doubt* never invents a violation: an operation that changes state becomes
//! one of unknown outcome (it may have taken effect at any time after its call, or never, with
//! any output), an observation (a read) keeps its interval but any output is accepted. Either way
//! the history allows every behaviour it allowed before, and more, so each violation found after
//! it is a violation of the original history too. Deleting the operation instead would not be
//! safe: reads of a deleted write's value would then look wrong.
//!
//! Which operation is blamed matters: in a minimal violation `{write 1 ‖ write 2, read 1, read
//! 2}` either read may be the wrong one. The [`culprit`] is the operation of the minimal
//! violation whose benefit of the doubt, given in the *whole* history, lets the checker get
//! furthest: the history becomes linearizable, or its first violation comes latest. A stale read
//! among correct ones is the one whose doubt dissolves the violation; a correct read next to it
//! only hands the contradiction to the next correct read.
//!
//! *Independent* therefore means: violation `k + 1` remains even when the operations blamed for
//! violations `1..=k` are allowed any outcome. Its limits: one relaxed operation removes one
//! contradiction, so a single fault seen by many reads (a replica that stays behind) is reported
//! once per stale read until the budget or the count runs out; and which side of a contradiction
//! is blamed follows the checker (in `{write 1, write 2, read 1}` it is the read), not intent.

use super::minimize::{minimal_violation_by, Minimal, MinimizeOptions};
use super::{check_linearizable_by, CheckConfig, Report, Verdict, Violation};
use crate::history::History;
use crate::spec::Model;
use std::fmt::Debug;
use std::hash::Hash;

/// One violation among several.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Found<Op, Out> {
    /// What the checker reported (indices into the original history).
    pub violation: Violation,
    /// Its minimal sub-history, when one was found in time.
    pub minimal: Option<Minimal<Op, Out>>,
    /// The operation of `minimal` most likely at fault.
    pub culprit: Option<Culprit>,
    /// The operation given the benefit of the doubt after it (index into the original history);
    /// `None` when the search stopped here ([`End::Stuck`]).
    pub relaxed: Option<usize>,
    /// The operations relaxed before this violation was found (see [`relax`]): it is a violation
    /// of the history with those relaxed.
    pub relaxed_before: Vec<usize>,
}

/// Why the search for violations stopped.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum End {
    /// With the blamed operations relaxed, the history is linearizable: nothing more to find.
    Linearizable,
    /// The number of violations asked for was reached.
    Limit,
    /// The checker could not decide (its budget ran out); the reason.
    Unknown(String),
    /// Every operation of the last minimal violation was already relaxed.
    Stuck,
}

/// What [`violations`] found.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Violations<Op, Out> {
    /// The violations, in the order found.
    pub found: Vec<Found<Op, Out>>,
    /// Why it stopped.
    pub end: End,
}

/// `history` with the operations at `relaxed` given the benefit of the doubt (see the module
/// documentation); indices are unchanged.
pub fn relax<M: Model>(
    history: &History<M::Op, M::Output>,
    relaxed: &[usize],
) -> History<M::Op, M::Output> {
    let mut out = history.clone();
    for &i in relaxed {
        let o = &mut out.ops[i];
        let observation = o
            .output
            .as_ref()
            .is_some_and(|out| M::is_observation(&o.op, out));
        o.output = None;
        if !observation {
            o.ret = None;
        }
    }
    out
}

/// The operation of `minimal` most likely at fault, judged on the whole `history` (see the
/// module documentation).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Culprit {
    /// Index into the history.
    pub op: usize,
    /// With it given the benefit of the doubt, its partition of the history (all of it, when
    /// unpartitioned) is linearizable.
    pub resolves: bool,
    /// Otherwise, the operation the checker blames next (index into the history).
    pub next: Option<usize>,
}

/// The [`Culprit`] among the operations of `minimal`, each tried with `check`'s limits, all
/// within `minimize`'s time; `None` when no trial decided. `relaxed` are operations already
/// given the benefit of the doubt.
pub fn culprit<M, K, P>(
    history: &History<M::Op, M::Output>,
    initial: &M,
    partition: P,
    minimal: &Minimal<M::Op, M::Output>,
    relaxed: &[usize],
    check: &CheckConfig,
    minimize: &MinimizeOptions,
) -> Option<Culprit>
where
    M: Model + Hash + Eq,
    K: Hash + Eq + Debug,
    P: Fn(&M::Op) -> K,
{
    let start = std::time::Instant::now();
    // Only the violation's partition: another partition's violations say nothing about this one.
    let key = partition(&history.ops[*minimal.ops.first()?].op);
    let part: Vec<usize> = (0..history.ops.len())
        .filter(|&i| partition(&history.ops[i].op) == key)
        .collect();
    let local = |i: usize| part.binary_search(&i).ok();
    let sub = history.select(&part);
    let relaxed: Vec<usize> = relaxed.iter().filter_map(|&i| local(i)).collect();
    // Ties go to the first tried: outputs before effects (a read's doubt only deletes it, a
    // write's lets it move anywhere later), and the checker's own choice first among them.
    let mut order: Vec<usize> = minimal
        .blamed()
        .filter(|b| minimal.outcomes.contains(b))
        .into_iter()
        .collect();
    let first = order.first().copied();
    order.extend(minimal.outcomes.iter().filter(|&&i| Some(i) != first));
    order.extend(&minimal.effects);
    let mut best: Option<(u64, Culprit)> = None;
    for op in order {
        let Some(at) = local(op) else { continue };
        if relaxed.contains(&at) {
            continue;
        }
        let left = minimize.time.saturating_sub(start.elapsed());
        if left.is_zero() {
            break;
        }
        let mut config = check.clone();
        config.timeout = Some(config.timeout.map_or(left, |t| t.min(left)));
        let mut doubted = relaxed.clone();
        doubted.push(at);
        let trial = relax::<M>(&sub, &doubted);
        let report = check_linearizable_by(&trial, initial, &config, &partition);
        let (score, found) = match &report.verdict {
            Verdict::Holds => (
                u64::MAX,
                Culprit {
                    op,
                    resolves: true,
                    next: None,
                },
            ),
            Verdict::Violated(v) => (
                sub.ops[v.blocked].call,
                Culprit {
                    op,
                    resolves: false,
                    next: Some(part[v.blocked]),
                },
            ),
            _ => continue,
        };
        if best.as_ref().is_none_or(|(s, _)| score > *s) {
            best = Some((score, found));
        }
        if score == u64::MAX {
            break;
        }
    }
    best.map(|(_, c)| c)
}

/// Up to `max` independent violations of `history` (see the module documentation), each checked
/// with `check` and minimized with `minimize` (a zero [`MinimizeOptions::time`] skips it, and the
/// checker's own blame is relaxed). `first`, when given, is the checker's report on
/// `history` itself with this `partition` and `check`, so that it is not checked twice.
pub fn violations<M, K, P>(
    history: &History<M::Op, M::Output>,
    initial: &M,
    partition: P,
    max: usize,
    check: &CheckConfig,
    minimize: &MinimizeOptions,
    first: Option<&Report>,
) -> Violations<M::Op, M::Output>
where
    M: Model + Hash + Eq,
    K: Hash + Eq + Debug,
    P: Fn(&M::Op) -> K,
{
    let mut found: Vec<Found<M::Op, M::Output>> = Vec::new();
    let mut relaxed: Vec<usize> = Vec::new();
    // The history with `relaxed` relaxed; built only when there is a next round, since a
    // recorded history can be large.
    let mut relaxed_history: Option<History<M::Op, M::Output>> = None;
    let end = loop {
        if found.len() >= max {
            break End::Limit;
        }
        if !relaxed.is_empty() {
            relaxed_history = Some(relax::<M>(history, &relaxed));
        }
        let current = relaxed_history.as_ref().unwrap_or(history);
        let report = match first.filter(|_| relaxed.is_empty()) {
            Some(report) => report.clone(),
            None => check_linearizable_by(current, initial, check, &partition),
        };
        let violation = match &report.verdict {
            Verdict::Violated(v) => v.clone(),
            Verdict::Holds => break End::Linearizable,
            Verdict::Unknown(reason) => break End::Unknown(reason.clone()),
        };
        let minimal = minimal_violation_by(current, initial, &report, &partition, minimize);
        // The culprit first, then the blame in the minimal violation; any of its operations
        // not yet relaxed will do, and relaxing one of a 1-minimal violation's operations
        // always dissolves it. (The culprit is judged on the original history with the same
        // operations relaxed, which is `current`.)
        let suspect = minimal
            .as_ref()
            .and_then(|m| culprit(history, initial, &partition, m, &relaxed, check, minimize));
        let candidates: Vec<usize> = match &minimal {
            Some(m) => suspect
                .as_ref()
                .map(|c| c.op)
                .into_iter()
                .chain(m.blamed())
                .chain(m.ops.iter().copied())
                .collect(),
            None => vec![violation.blocked],
        };
        let Some(chosen) = candidates.into_iter().find(|i| !relaxed.contains(i)) else {
            found.push(Found {
                violation,
                minimal,
                culprit: suspect,
                relaxed: None,
                relaxed_before: relaxed.clone(),
            });
            break End::Stuck;
        };
        found.push(Found {
            violation,
            minimal,
            culprit: suspect,
            relaxed: Some(chosen),
            relaxed_before: relaxed.clone(),
        });
        relaxed.push(chosen);
    };
    Violations { found, end }
}
