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
//! invocation, or never; their output is not checked.

use super::fxhash::{FxHasher, IdentityBuild};
use crate::history::{History, Operation};
use crate::spec::Model;
use std::collections::HashMap;
use std::fmt::Debug;
use std::hash::{Hash, Hasher};
use std::time::{Duration, Instant};

/// Limits of a check.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct CheckConfig {
    /// Give up (verdict `Unknown`) after this long. Default: none.
    pub timeout: Option<Duration>,
    /// Give up when the search's caches reach this many bytes, or the process's resident memory
    /// does (where the system reports it). Default: none.
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
}

/// The answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Some order of the operations, respecting real time, matches the model.
    Linearizable,
    /// No such order exists.
    NotLinearizable(Violation),
    /// The budget ran out first; the reason says which.
    Unknown(String),
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
    /// Estimated peak bytes of the caches.
    pub peak_bytes: u64,
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
    let mut keys: Vec<K> = Vec::new();
    let mut index: HashMap<K, usize> = HashMap::new();
    let mut groups: Vec<Vec<usize>> = Vec::new();
    for (i, op) in history.ops.iter().enumerate() {
        let key = partition(&op.op);
        let g = match index.get(&key) {
            Some(&g) => g,
            None => {
                index.insert(key, groups.len());
                keys.push(partition(&op.op));
                groups.push(Vec::new());
                groups.len() - 1
            }
        };
        groups[g].push(i);
    }
    let partitioned = groups.len() > 1;
    let mut searches: Vec<Search<'_, M>> = groups
        .iter()
        .map(|g| Search::new(history, g.clone(), initial.clone()))
        .collect();
    let mut budget = Budget::new(config, start);
    let mut linearizations: Vec<Option<Vec<usize>>> = vec![None; searches.len()];
    let mut report = Report {
        verdict: Verdict::Linearizable,
        linearizations: Vec::new(),
        partitions: searches.len(),
        steps: 0,
        cache_entries: 0,
        peak_bytes: 0,
        elapsed: Duration::ZERO,
    };
    let finish = |mut report: Report, searches: &[Search<'_, M>], budget: &Budget| {
        report.steps = searches.iter().map(|s| s.steps).sum::<u64>() + budget.finished_steps;
        report.cache_entries = searches.iter().map(|s| s.cache.len() as u64).sum();
        report.peak_bytes = budget.peak_bytes;
        report.elapsed = start.elapsed();
        report
    };
    loop {
        let mut pending = false;
        for (i, search) in searches.iter_mut().enumerate() {
            if linearizations[i].is_some() {
                continue;
            }
            match search.run(config.slice.max(1), &mut budget) {
                Step::Done(Ok(order)) => {
                    budget.release(search.cache.bytes, search.steps);
                    search.cache.clear();
                    search.steps = 0;
                    linearizations[i] = Some(order);
                }
                Step::Done(Err(mut violation)) => {
                    if partitioned {
                        violation.partition = Some(format!("{:?}", keys[i]));
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

/// Time and memory shared by all partitions' searches.
struct Budget {
    deadline: Option<Instant>,
    max_memory: Option<u64>,
    bytes: u64,
    peak_bytes: u64,
    finished_steps: u64,
    since_rss_check: u64,
}

impl Budget {
    fn new(config: &CheckConfig, start: Instant) -> Self {
        Budget {
            deadline: config.timeout.map(|t| start + t),
            max_memory: config.max_memory,
            bytes: 0,
            peak_bytes: 0,
            finished_steps: 0,
            since_rss_check: 0,
        }
    }

    fn grow(&mut self, bytes: u64) {
        self.bytes += bytes;
        self.peak_bytes = self.peak_bytes.max(self.bytes);
    }

    fn release(&mut self, bytes: u64, steps: u64) {
        self.bytes -= bytes;
        self.finished_steps += steps;
    }

    /// Called every few thousand steps.
    fn exceeded(&mut self, steps: u64) -> Option<String> {
        if let Some(deadline) = self.deadline {
            if Instant::now() >= deadline {
                return Some("the time budget ran out".to_string());
            }
        }
        if let Some(max) = self.max_memory {
            if self.bytes >= max {
                return Some(format!(
                    "the memory budget ran out: the search cache reached {} bytes",
                    self.bytes
                ));
            }
            self.since_rss_check += steps;
            if self.since_rss_check >= 1 << 16 {
                self.since_rss_check = 0;
                if let Some(rss) = resident_bytes() {
                    if rss >= max {
                        return Some(format!(
                            "the memory budget ran out: the process holds {rss} bytes"
                        ));
                    }
                }
            }
        }
        None
    }
}

/// The process's resident memory, where the system tells it.
fn resident_bytes() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4096)
}

enum Step {
    Done(Result<Vec<usize>, Violation>),
    Paused,
    OutOfBudget(String),
}

/// The (linearized set, state) pairs already explored.
struct Cache<M> {
    heads: HashMap<u64, u32, IdentityBuild>,
    entries: Vec<CacheEntry<M>>,
    bytes: u64,
}

struct CacheEntry<M> {
    linearized: Box<[u64]>,
    state: M,
    next: u32,
}

impl<M: Hash + Eq + Clone> Cache<M> {
    fn new() -> Self {
        Cache {
            heads: HashMap::default(),
            entries: Vec::new(),
            bytes: 0,
        }
    }

    fn len(&self) -> usize {
        self.entries.len()
    }

    fn clear(&mut self) {
        self.heads = HashMap::default();
        self.entries = Vec::new();
        self.bytes = 0;
    }

    /// Adds the pair; `false` if it was already there. Returns the bytes added.
    #[inline]
    fn insert(&mut self, linearized: &[u64], state: &M) -> Option<u64> {
        let mut h = FxHasher::default();
        for &w in linearized {
            h.write_u64(w);
        }
        state.hash(&mut h);
        let hash = h.finish();
        let head = self.heads.get(&hash).copied().unwrap_or(u32::MAX);
        let mut at = head;
        while at != u32::MAX {
            let e = &self.entries[at as usize];
            if *e.linearized == *linearized && e.state == *state {
                return None;
            }
            at = e.next;
        }
        let index = self.entries.len() as u32;
        self.entries.push(CacheEntry {
            linearized: linearized.into(),
            state: state.clone(),
            next: head,
        });
        self.heads.insert(hash, index);
        let bytes = (linearized.len() * 8
            + std::mem::size_of::<CacheEntry<M>>()
            + std::mem::size_of::<(u64, u32)>() * 2) as u64;
        self.bytes += bytes;
        Some(bytes)
    }
}

const HEAD: usize = usize::MAX;

/// One partition's search, resumable in slices.
struct Search<'h, M: Model> {
    history: &'h History<M::Op, M::Output>,
    /// History indices of this partition's operations; local id `i` is `ops[i]`.
    ops: Vec<usize>,
    /// Entry `2i` is the call of local op `i`, `2i + 1` its return. The list runs in time order
    /// from `first`; `next`/`prev` link the entries still in it.
    next: Vec<usize>,
    prev: Vec<usize>,
    first: usize,
    cursor: usize,
    linearized: Vec<u64>,
    state: M,
    stack: Vec<(u32, M)>,
    cache: Cache<M>,
    /// Operations with known outcomes not yet linearized: the search succeeds at zero.
    remaining: usize,
    steps: u64,
    best: Vec<u32>,
    blocked: Option<(u32, String)>,
}

impl<'h, M: Model + Hash + Eq> Search<'h, M> {
    fn new(history: &'h History<M::Op, M::Output>, ops: Vec<usize>, initial: M) -> Self {
        let n = ops.len();
        // Calls before returns at equal times: touching intervals count as concurrent, the
        // lenient reading (a checker must not report a violation that may not be one).
        let mut order: Vec<(u64, u8, usize)> = Vec::with_capacity(2 * n);
        for (i, &h) in ops.iter().enumerate() {
            let o = &history.ops[h];
            order.push((o.call, 0, 2 * i));
            order.push((o.ret.unwrap_or(u64::MAX), 1, 2 * i + 1));
        }
        order.sort_unstable();
        let mut next = vec![HEAD; 2 * n];
        let mut prev = vec![HEAD; 2 * n];
        for w in order.windows(2) {
            next[w[0].2] = w[1].2;
            prev[w[1].2] = w[0].2;
        }
        let first = order.first().map_or(HEAD, |e| e.2);
        let remaining = ops
            .iter()
            .filter(|&&h| !history.ops[h].is_unknown())
            .count();
        Search {
            history,
            ops,
            next,
            prev,
            first,
            cursor: first,
            linearized: vec![0; n.div_ceil(64).max(1)],
            state: initial,
            stack: Vec::new(),
            cache: Cache::new(),
            remaining,
            steps: 0,
            best: Vec::new(),
            blocked: None,
        }
    }

    fn op(&self, local: usize) -> &'h Operation<M::Op, M::Output> {
        &self.history.ops[self.ops[local]]
    }

    /// Takes the call entry `e` and its return out of the list.
    #[inline]
    fn lift(&mut self, e: usize) {
        for x in [e, e + 1] {
            let (p, n) = (self.prev[x], self.next[x]);
            if p == HEAD {
                self.first = n;
            } else {
                self.next[p] = n;
            }
            if n != HEAD {
                self.prev[n] = p;
            }
        }
    }

    /// Puts them back (the reverse of `lift`).
    #[inline]
    fn unlift(&mut self, e: usize) {
        for x in [e + 1, e] {
            let (p, n) = (self.prev[x], self.next[x]);
            if p == HEAD {
                self.first = x;
            } else {
                self.next[p] = x;
            }
            if n != HEAD {
                self.prev[n] = x;
            }
        }
    }

    fn run(&mut self, slice: u64, budget: &mut Budget) -> Step {
        let mut left = slice;
        loop {
            if self.remaining == 0 {
                let order = self
                    .stack
                    .iter()
                    .map(|(i, _)| self.ops[*i as usize])
                    .collect();
                return Step::Done(Ok(order));
            }
            if left == 0 {
                return Step::Paused;
            }
            left -= 1;
            self.steps += 1;
            if self.steps & 0xFFF == 0 {
                if let Some(reason) = budget.exceeded(0x1000) {
                    return Step::OutOfBudget(reason);
                }
            }
            let e = self.cursor;
            if e == HEAD {
                // Only unknown operations' calls were left and none fits: backtrack.
                if let Some(step) = self.backtrack(None) {
                    return step;
                }
                continue;
            }
            if e.is_multiple_of(2) {
                let local = e / 2;
                let op = self.op(local);
                let mut next_state = self.state.clone();
                let expected = next_state.step(&op.op);
                let fits = match (&op.ret, &op.output) {
                    (Some(_), Some(actual)) => next_state.outputs_match(&op.op, &expected, actual),
                    _ => true,
                };
                if fits {
                    self.linearized[local / 64] |= 1 << (local % 64);
                    if let Some(bytes) = self.cache.insert(&self.linearized, &next_state) {
                        budget.grow(bytes);
                        let previous = std::mem::replace(&mut self.state, next_state);
                        self.stack.push((local as u32, previous));
                        if !op.is_unknown() {
                            self.remaining -= 1;
                        }
                        self.lift(e);
                        self.cursor = self.first;
                        if self.stack.len() > self.best.len() {
                            self.best = self.stack.iter().map(|(i, _)| *i).collect();
                            self.blocked = None;
                        }
                        continue;
                    }
                    self.linearized[local / 64] &= !(1 << (local % 64));
                }
                self.cursor = self.next[e];
            } else if let Some(step) = self.backtrack(Some(e / 2)) {
                return step;
            }
        }
    }

    /// No pending call fits before the return of `blocked` (or before the end): undo the last
    /// linearized operation and try the next candidate after it.
    fn backtrack(&mut self, blocked: Option<usize>) -> Option<Step> {
        if self.stack.len() == self.best.len() && self.blocked.is_none() {
            if let Some(b) = blocked {
                self.blocked = Some((b as u32, format!("{:?}", self.state)));
            }
        }
        let Some((local, state)) = self.stack.pop() else {
            return Some(Step::Done(Err(self.violation())));
        };
        let local = local as usize;
        self.state = state;
        self.linearized[local / 64] &= !(1 << (local % 64));
        if !self.op(local).is_unknown() {
            self.remaining += 1;
        }
        self.unlift(2 * local);
        self.cursor = self.next[2 * local];
        None
    }

    fn violation(&self) -> Violation {
        let linearized: Vec<usize> = self.best.iter().map(|&i| self.ops[i as usize]).collect();
        // Replay the best partial linearization to report the state it reaches.
        let (blocked_local, state_text) = match &self.blocked {
            Some((b, s)) => (*b as usize, s.clone()),
            None => (0, String::new()),
        };
        let mut state = None;
        if !self.best.is_empty() || self.blocked.is_some() {
            let mut s = self.stack_base_state();
            for &i in &self.best {
                s.step(&self.op(i as usize).op);
            }
            state = Some(s);
        }
        let blocked_op = self.op(blocked_local);
        let (expected, actual) = match (&state, &blocked_op.output) {
            (Some(s), Some(actual)) => {
                let mut s = s.clone();
                let e = s.step(&blocked_op.op);
                (Some(format!("{e:?}")), Some(format!("{actual:?}")))
            }
            _ => (None, blocked_op.output.as_ref().map(|a| format!("{a:?}"))),
        };
        Violation {
            partition: None,
            linearized,
            blocked: self.ops[blocked_local],
            state: state.map(|s| format!("{s:?}")).unwrap_or(state_text),
            expected,
            actual,
        }
    }

    /// The initial state (the bottom of the stack, or the current state when it is empty).
    fn stack_base_state(&self) -> M {
        self.stack
            .first()
            .map(|(_, s)| s.clone())
            .unwrap_or_else(|| self.state.clone())
    }
}
