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
//! ends the check. A time and a memory budget end it with [`Verdict::Unknown`] rather than a
//! hang or an out-of-memory kill.
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
//! store's strings), the history itself, and the partitioning's per-key bookkeeping (estimated).

use super::budget::{physical_bytes, Budget};
use super::search::{Search, Step};
use crate::history::History;
use crate::spec::Model;
use std::collections::HashMap;
use std::fmt::Debug;
use std::hash::Hash;
use std::time::{Duration, Instant};

/// Limits of a check.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct CheckConfig {
    /// Give up (verdict `Unknown`) after this long. Default: none.
    pub timeout: Option<Duration>,
    /// Give up when the check's caches and search vectors would pass this many bytes (counted
    /// before they are allocated), or the process's resident memory has grown by that much
    /// since the check began (where the system reports it). Default: none; the `stateprop`
    /// command uses [`CheckConfig::default_max_memory`].
    pub max_memory: Option<u64>,
    /// Steps a partition's search runs before the next partition gets its turn. Default 20,000.
    pub slice: u64,
}

impl Default for CheckConfig {
    fn default() -> Self {
        CheckConfig {
            timeout: None,
            max_memory: None,
            slice: 20_000,
        }
    }
}

impl CheckConfig {
    /// See [`CheckConfig::timeout`].
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }
    /// See [`CheckConfig::max_memory`].
    pub fn max_memory(mut self, bytes: u64) -> Self {
        self.max_memory = Some(bytes);
        self
    }

    /// A memory cap for checks nobody gave one: half of physical memory, at most 4 GiB (4 GiB
    /// where the system does not say), so an unbounded search answers "unknown" before the
    /// machine starts swapping or the process is killed.
    pub fn default_max_memory() -> u64 {
        const LIMIT: u64 = 4 << 30;
        physical_bytes().map_or(LIMIT, |total| (total / 2).min(LIMIT))
    }
}

/// The answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Some order of the operations, respecting real time, matches the model.
    Linearizable,
    /// No such order exists.
    NotLinearizable(Violation),
    /// No verdict: the budget ran out first, or the model panicked (then
    /// [`Report::model_panic`] says where). The reason says which.
    Unknown(String),
}

/// A model that panicked during a check: the check cannot go on, and this says where.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ModelPanic {
    /// The partition (its key, `Debug`), when the check was partitioned.
    pub partition: Option<String>,
    /// The operation the model was stepping or comparing (index into the history's
    /// operations).
    pub op: usize,
    /// That operation (`Debug`).
    pub op_text: String,
    /// The model state it was applied to (`Debug`).
    pub state: String,
    /// The panic's message, with its location where known.
    pub message: String,
}

/// Why a history is not linearizable.
#[derive(Clone, Debug, PartialEq, Eq)]
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

/// What a check found, with its statistics.
#[derive(Clone, Debug)]
pub struct Report {
    /// The answer.
    pub verdict: Verdict,
    /// For a linearizable history, one linearization per partition (indices into the history's
    /// operations); empty otherwise.
    pub linearizations: Vec<Vec<usize>>,
    /// Partitions checked.
    pub partitions: usize,
    /// Search steps (operations tried) over all partitions.
    pub steps: u64,
    /// Cache entries held at the end, over all partitions still searching.
    pub cache_entries: u64,
    /// Peak bytes counted against the memory budget: caches, search vectors and partitioning
    /// (see [`CheckConfig::max_memory`] for what is not counted).
    pub peak_bytes: u64,
    /// Set when the model panicked (the verdict is then [`Verdict::Unknown`]).
    pub model_panic: Option<ModelPanic>,
    /// Time spent.
    pub elapsed: Duration,
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
    let mut report = Report {
        verdict: Verdict::Linearizable,
        linearizations: Vec::new(),
        partitions: 0,
        steps: 0,
        cache_entries: 0,
        peak_bytes: 0,
        model_panic: None,
        elapsed: Duration::ZERO,
    };
    let finish = |mut report: Report, searches: &[Option<Search<'_, M>>], budget: &Budget| {
        let live = searches.iter().flatten();
        report.steps = live.clone().map(|s| s.steps).sum::<u64>() + budget.finished_steps;
        report.cache_entries = live.map(|s| s.cache.len() as u64).sum();
        report.peak_bytes = budget.peak_bytes;
        report.elapsed = start.elapsed();
        report
    };
    let groups = match partitions::<M, K, P>(history, &partition, &mut budget) {
        Ok(groups) => groups,
        Err(reason) => {
            report.verdict = Verdict::Unknown(reason);
            return finish(report, &[], &budget);
        }
    };
    report.partitions = groups.len();
    let partitioned = groups.len() > 1;
    // The key of a partition, for reports: recomputed from its first operation, so the keys
    // need not be kept.
    let key_of = |g: &[usize]| format!("{:?}", partition(&history.ops[g[0]].op));
    let key_of_search = |s: &Search<'_, M>| key_of(&[s.history_index(0)]);
    // Searches are made on their first turn and dropped when done, so only the partitions
    // still searching hold memory.
    let mut groups: Vec<Option<Vec<usize>>> = groups.into_iter().map(Some).collect();
    let mut searches: Vec<Option<Search<'_, M>>> = (0..groups.len()).map(|_| None).collect();
    let mut linearizations: Vec<Option<Vec<usize>>> = vec![None; searches.len()];
    loop {
        let mut pending = false;
        for i in 0..searches.len() {
            if linearizations[i].is_some() {
                continue;
            }
            if searches[i].is_none() {
                let ops = groups[i].take().expect("a partition is searched once");
                match Search::new(history, ops, initial.clone(), &mut budget) {
                    Some(s) => searches[i] = Some(s),
                    None => {
                        report.verdict = Verdict::Unknown(budget.exhausted());
                        return finish(report, &searches, &budget);
                    }
                }
            }
            let search = searches[i].as_mut().expect("made above");
            let ran =
                crate::run::panic::catch_quietly(|| search.run(config.slice.max(1), &mut budget));
            let step = match ran {
                Ok(step) => step,
                Err(message) => {
                    let mut panic = model_panic(search, message);
                    if partitioned {
                        panic.partition = Some(key_of_search(search));
                    }
                    report.verdict = Verdict::Unknown(format!(
                        "the model panicked on op {} ({}) in state {}: {}",
                        panic.op, panic.op_text, panic.state, panic.message
                    ));
                    report.model_panic = Some(panic);
                    return finish(report, &searches, &budget);
                }
            };
            match step {
                Step::Done(Ok(order)) => {
                    let s = searches[i].take().expect("running");
                    budget.release(s.cache.bytes + s.fixed_bytes);
                    budget.finished_steps += s.steps;
                    linearizations[i] = Some(order);
                }
                Step::Done(Err(mut violation)) => {
                    if partitioned {
                        violation.partition = Some(key_of(&[violation.blocked]));
                    }
                    report.verdict = Verdict::NotLinearizable(violation);
                    return finish(report, &searches, &budget);
                }
                Step::OutOfBudget(reason) => {
                    report.verdict = Verdict::Unknown(reason);
                    return finish(report, &searches, &budget);
                }
                Step::Paused => pending = true,
            }
        }
        if !pending {
            report.linearizations = linearizations.into_iter().flatten().collect();
            return finish(report, &searches, &budget);
        }
    }
}

/// The operations of each partition (history indices, in history order), without the
/// read-only operations whose outcome is unknown: they change no state and have no output to
/// check, and could only multiply the orders the search tries. Their bookkeeping is counted in
/// the budget (estimated: the keys' own heap is not seen).
fn partitions<M, K, P>(
    history: &History<M::Op, M::Output>,
    partition: &P,
    budget: &mut Budget,
) -> Result<Vec<Vec<usize>>, String>
where
    M: Model,
    K: Hash + Eq,
    P: Fn(&M::Op) -> K,
{
    let mut index: HashMap<K, usize> = HashMap::new();
    let mut groups: Vec<Vec<usize>> = Vec::new();
    for (i, op) in history.ops.iter().enumerate() {
        if op.is_unknown() && M::is_read_only(&op.op) {
            continue;
        }
        let key = partition(&op.op);
        let g = match index.get(&key) {
            Some(&g) => g,
            None => {
                let g = groups.len();
                index.insert(key, g);
                groups.push(Vec::new());
                // A new partition's map entry and vector header (the keys' heap is not seen).
                if !budget.reserve((size_of::<K>() + 8 + 1 + size_of::<Vec<usize>>() + 32) as u64) {
                    return Err(budget.exhausted());
                }
                g
            }
        };
        let group = &mut groups[g];
        if group.len() == group.capacity() && !budget.reserve((group.capacity().max(4) * 8) as u64)
        {
            return Err(budget.exhausted());
        }
        group.push(i);
        if i % 4096 == 4095 {
            if let Some(reason) = budget.poll() {
                return Err(reason);
            }
        }
    }
    budget.poll().map_or(Ok(groups), Err)
}

/// Where the model panicked, from the search it panicked in.
fn model_panic<M: Model + Hash + Eq>(search: &Search<'_, M>, message: String) -> ModelPanic {
    let op = search.op(search.trying);
    // The state is the one the operation was applied to (the search steps copies); its `Debug`
    // is the model's code too, so it may panic as well.
    let state = crate::run::panic::catch_quietly(|| format!("{:?}", search.state()))
        .unwrap_or_else(|m| format!("(its Debug panicked too: {m})"));
    let op_text = crate::run::panic::catch_quietly(|| format!("{:?}", op.op))
        .unwrap_or_else(|m| format!("(its Debug panicked: {m})"));
    ModelPanic {
        partition: None,
        op: search.history_index(search.trying),
        op_text,
        state,
        message,
    }
}
