//! Linearizability checking: the Wing–Gong search with Lowe's cache.
//!
//! The search linearizes operations one at a time, trying each operation whose invocation comes
//! before the earliest pending return, and backtracks when none fits (Wing & Gong, "Testing and
//! verifying concurrent objects", 1993). Lowe's improvement ("Testing for linearizability",
//! 2017) caches every (set of linearized operations, model state) pair reached: reaching one
//! again cannot lead anywhere new, so the branch is cut. States are hashed, not only compared, so
//! the cache stays fast on large states. Operations are kept in a doubly linked list of call and
//! return entries that are unlinked and relinked in O(1) as the search moves ("dancing links").
//!
//! P-compositionality (Horn & Kroening, 2015): when the model is a product of independent parts
//! (a key-value store is one register per key), the history is linearizable exactly when each
//! part's sub-history is. Each partition gets its own search; the searches run interleaved in
//! slices, so one hard partition cannot starve the others, and the first violation anywhere
//! ends the check. A time and a memory budget ([`CheckConfig`]) end it with
//! [`Verdict::Unknown`] rather than a hang or an out-of-memory kill. A linearizable history's
//! [`Report::orders`] hold one linearization per partition, each with its partition's key.
//!
//! Operations with unknown outcomes (never returned) may take effect at any point after their
//! invocation, or never; their output is not checked. Those that are read-only
//! ([`Model::is_read_only`]) can neither change the state nor fail a check, so they are left out
//! before the search.
//!
//! Bounds: a cache key takes about `1 + w / 64 + u / 64` words, where `w` is the number of
//! operations invoked while the earliest unlinearized operation was pending (the concurrency)
//! and `u` the number of operations in the partition that never returned (they may stay
//! unlinearized to the end, so they cannot be compacted away: a history with many of them is
//! the worst case, back to one bit per such operation per entry). A purely sequential history
//! therefore takes memory linear in its length. Time is metered by work done (entries visited,
//! words hashed), so a timeout is honoured promptly however expensive single steps are; memory
//! is counted by capacity before each allocation of the caches and the searches' vectors, so the
//! cap is not exceeded by them. Not counted: heap memory inside model states (a key-value
//! store's strings) and the history itself. `docs/checker-bounds.md` has the details.
//!
//! A model that panics ends the check with [`Verdict::Unknown`] and [`Report::model_panic`]
//! naming the operation, the state and the message, instead of unwinding into the caller.
//!
//! `Var`s: in a history recorded from a program ([`History::steps`]), an operation's `Var`
//! stands for the model's output of the step it names along the order being tried; that step is
//! placed first, its output is part of the cached state while an operation still to be placed
//! names it, partitions that `Var`s connect are searched as one, and a `Var` that cannot be bound
//! makes a failed search [`Verdict::Unknown`], never a violation. An operation naming a step with
//! an unknown outcome is placed but its output is not compared. The cache still needs only
//! `M: Hash + Eq`: outputs are told apart with `PartialEq` and numbered. Details in
//! `docs/history-format.md`.

use super::budget::{reserve_in, Budget, CheckConfig};
use super::result::{ModelPanic, Order, Report, Verdict};
use super::search::{Search, Step};
use super::vars;
use crate::history::History;
use crate::spec::Model;
use std::fmt::{Debug, Write};
use std::hash::{Hash, Hasher};
use std::time::Instant;

/// Why a history is not linearizable.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Violation {
    /// The partition (its key, `Debug`), when the check was partitioned.
    pub partition: Option<String>,
    /// The longest partial linearization found: indices into the history's operations, in
    /// linearization order.
    pub linearized: Vec<usize>,
    /// The operation that cannot be placed after them (index into the history's operations).
    pub blocked: usize,
    /// The model state after the partial linearization (`Debug`).
    pub state: String,
    /// What the model says the blocked operation returns in that state, if it can run there.
    pub expected: Option<String>,
    /// What it returned.
    pub actual: Option<String>,
}

/// Checks that `history` is linearizable with respect to the model starting at `initial`.
pub fn check_linearizable<M>(
    history: &History<M::Op, M::Output>,
    initial: &M,
    config: &CheckConfig,
) -> Report
where
    M: Model + Hash + Eq,
{
    check_linearizable_by(history, initial, config, |_| ())
}

/// [`check_linearizable`] with the history split by `partition` (for example by key): each part
/// is checked against its own copy of `initial`. Only sound when operations of different parts
/// never affect each other in the model.
pub fn check_linearizable_by<M, K, P>(
    history: &History<M::Op, M::Output>,
    initial: &M,
    config: &CheckConfig,
    partition: P,
) -> Report
where
    M: Model + Hash + Eq,
    K: Hash + Eq + Debug,
    P: Fn(&M::Op) -> K,
{
    let start = Instant::now();
    let mut budget = Budget::new(config.timeout, config.max_memory, start);
    let mut report = Report::new(Verdict::Holds);
    report.partitions = 0;
    let finish = |mut report: Report, active: &[(usize, Search<'_, M>)], budget: &Budget| {
        let live = active.iter().map(|(_, s)| s);
        report.steps = live.clone().map(|s| s.steps).sum::<u64>() + budget.finished_steps;
        report.cache_entries = live.map(|s| s.cache.len() as u64).sum();
        report.peak_bytes = budget.peak_bytes;
        report.elapsed = start.elapsed();
        report
    };
    if let Some(reason) = vars::unbindable::<M>(history) {
        report.verdict = Verdict::Unknown(reason);
        return finish(report, &[], &budget);
    }
    let parts = match Partitions::new::<M, K, P>(history, &partition, &mut budget) {
        Ok(parts) => parts,
        Err(reason) => {
            report.verdict = Verdict::Unknown(reason);
            return finish(report, &[], &budget);
        }
    };
    report.partitions = parts.len();
    let partitioned = parts.len() > 1;
    // The key of a partition, for reports: recomputed from one of its operations, so the keys
    // need not be kept.
    let key_of = |op: usize| {
        // Most keys are short: one allocation instead of format!'s growth from nothing.
        let mut key = String::with_capacity(24);
        let _ = write!(key, "{:?}", partition(&history.ops[op].op));
        key
    };
    // Filled in as partitions finish (an empty order, which allocates nothing, until then), and
    // handed to the report as it is: one vector of one entry per partition, never copied.
    let mut linearizations: Vec<Order> = Vec::new();
    let mut active: Vec<(usize, Search<'_, M>)> = Vec::new();
    let mut lin_bytes = 0;
    let mut active_bytes = 0;
    if !reserve_in(
        &mut linearizations,
        parts.len(),
        &mut budget,
        &mut lin_bytes,
    ) {
        report.verdict = Verdict::Unknown(budget.exhausted());
        return finish(report, &[], &budget);
    }
    linearizations.resize(parts.len(), Order::new(None, Vec::new()));
    // Every partition gets a slice in turn, in order; a search is made on its partition's first
    // turn and dropped when done, so only the partitions still searching hold memory.
    let mut started = 0;
    let mut turn = 0;
    loop {
        if turn == active.len() {
            if started == parts.len() {
                if active.is_empty() {
                    report.orders = linearizations;
                    return finish(report, &[], &budget);
                }
                turn = 0;
            } else {
                if !budget.reserve(Search::<M>::fixed_bytes_for(parts.size(started)))
                    || !reserve_in(&mut active, 1, &mut budget, &mut active_bytes)
                {
                    report.verdict = Verdict::Unknown(budget.exhausted());
                    return finish(report, &active, &budget);
                }
                let mut search = Search::new(history, parts.ops(started), initial.clone());
                if vars::in_use::<M>(history) {
                    if let Err(reason) = search.bind_vars(&mut budget) {
                        report.verdict = Verdict::Unknown(reason);
                        return finish(report, &active, &budget);
                    }
                }
                active.push((started, search));
                started += 1;
            }
        }
        let (part, search) = &mut active[turn];
        let part = *part;
        let ran = crate::catch::catch_quietly(|| search.run(config.slice.max(1), &mut budget));
        let step = match ran {
            Ok(step) => step,
            Err(message) => {
                let mut panic = model_panic(search, message);
                if partitioned {
                    panic.partition = Some(key_of(panic.op));
                }
                let mut panicked = Report::panicked(Box::new(panic));
                panicked.partitions = report.partitions;
                return finish(panicked, &active, &budget);
            }
        };
        match step {
            Step::Done(Ok(order)) => {
                let (_, s) = active.remove(turn);
                budget.release(s.grown_bytes() + s.fixed_bytes);
                budget.finished_steps += s.steps;
                let key = key_of(parts.first_op(part));
                if !budget.reserve(key.capacity() as u64) {
                    report.verdict = Verdict::Unknown(budget.exhausted());
                    return finish(report, &active, &budget);
                }
                linearizations[part] = Order::new(Some(key), order);
            }
            Step::Done(Err(_)) if search.doubt().is_some() => {
                let doubt = search.doubt().unwrap_or_default().to_string();
                report.verdict = Verdict::Unknown(doubt);
                return finish(report, &active, &budget);
            }
            Step::Done(Err(mut violation)) => {
                if partitioned {
                    violation.partition = Some(key_of(violation.blocked));
                }
                report.verdict = Verdict::Violated(violation);
                return finish(report, &active, &budget);
            }
            Step::OutOfBudget(reason) => {
                report.verdict = Verdict::Unknown(reason);
                return finish(report, &active, &budget);
            }
            Step::Paused => turn += 1,
            // Only a search told to enumerate end states stops at one or runs out of them.
            Step::EndState | Step::Exhausted => {
                report.verdict = Verdict::Unknown("internal: the search enumerated".to_string());
                return finish(report, &active, &budget);
            }
        }
    }
}

/// The operations of each partition (history indices, in history order), without the
/// read-only operations whose outcome is unknown: they change no state and have no output to
/// check, and could only multiply the orders the search tries.
///
/// Partitions are told apart by a 64-bit hash of their key, so no key is kept: two keys whose
/// hashes collide are checked together, as one partition, which is still sound (checking
/// independent parts together is what an unpartitioned check does). Everything here is
/// counted in the budget, exactly: one pair per operation and one range per partition.
pub(super) struct Partitions {
    /// (key hash, history index), grouped by partition.
    pairs: Vec<(u64, usize)>,
    /// Each partition's range in `pairs`, in the order of their first operations.
    ranges: Vec<(usize, usize)>,
}

impl Partitions {
    pub(super) fn new<M, K, P>(
        history: &History<M::Op, M::Output>,
        partition: &P,
        budget: &mut Budget,
    ) -> Result<Self, String>
    where
        M: Model,
        K: Hash,
        P: Fn(&M::Op) -> K,
    {
        let n = history.ops.len();
        let mut owned = 0;
        let mut pairs = Vec::new();
        if !reserve_in(&mut pairs, n, budget, &mut owned) {
            return Err(budget.exhausted());
        }
        let vars = vars::in_use::<M>(history);
        // An unknown read that a var names is kept: without it, the var could not be bound.
        let named = if vars {
            vars::named_steps::<M>(history, budget)?
        } else {
            Vec::new()
        };
        for (i, op) in history.ops.iter().enumerate() {
            if op.is_unknown()
                && M::is_read_only(&op.op)
                && !(vars && named.binary_search(&history.steps[i]).is_ok())
            {
                continue;
            }
            let mut h = std::collections::hash_map::DefaultHasher::new();
            partition(&op.op).hash(&mut h);
            pairs.push((h.finish(), i));
            if i % 4096 == 4095 {
                if let Some(reason) = budget.poll() {
                    return Err(reason);
                }
            }
        }
        if vars {
            vars::merge_partitions::<M>(history, &mut pairs, budget)?;
        }
        pairs.sort_unstable();
        if let Some(reason) = budget.poll() {
            return Err(reason);
        }
        let count = pairs.windows(2).filter(|w| w[0].0 != w[1].0).count() + 1;
        let mut ranges = Vec::new();
        if !reserve_in(&mut ranges, count, budget, &mut owned) {
            return Err(budget.exhausted());
        }
        let mut start = 0;
        for k in 1..=pairs.len() {
            if k == pairs.len() || pairs[k].0 != pairs[start].0 {
                ranges.push((start, k));
                start = k;
            }
        }
        // Within a range the indices are sorted: its first is its earliest operation.
        ranges.sort_unstable_by_key(|&(from, _)| pairs[from].1);
        Ok(Partitions { pairs, ranges })
    }

    pub(super) fn len(&self) -> usize {
        self.ranges.len()
    }

    /// The number of operations of partition `p`.
    pub(super) fn size(&self, p: usize) -> usize {
        self.ranges[p].1 - self.ranges[p].0
    }

    /// The history index of partition `p`'s first operation.
    fn first_op(&self, p: usize) -> usize {
        self.pairs[self.ranges[p].0].1
    }

    /// The history indices of partition `p` (counted as part of its search).
    pub(super) fn ops(&self, p: usize) -> Vec<usize> {
        let (from, to) = self.ranges[p];
        self.pairs[from..to].iter().map(|&(_, i)| i).collect()
    }
}

/// Where the model panicked, from the search it panicked in.
fn model_panic<M: Model + Hash + Eq>(search: &Search<'_, M>, message: String) -> ModelPanic {
    let op = search.op(search.trying);
    // The state is the one the operation was applied to (the search steps copies); its `Debug`
    // is the model's code too, so it may panic as well.
    let state = crate::catch::catch_quietly(|| format!("{:?}", search.state()))
        .unwrap_or_else(|m| format!("(its Debug panicked too: {m})"));
    let op_text = crate::catch::catch_quietly(|| format!("{:?}", op.op))
        .unwrap_or_else(|m| format!("(its Debug panicked: {m})"));
    ModelPanic {
        partition: None,
        op: search.history_index(search.trying),
        op_text,
        state,
        message,
    }
}
