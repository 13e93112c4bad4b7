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

use super::fxhash::FxHasher;
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
    /// has grown by that much since the check began (where the system reports it). Default: none.
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
    /// Resident memory when the check began: the cap applies to what the check adds.
    rss_at_start: u64,
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
            rss_at_start: config
                .max_memory
                .and_then(|_| resident_bytes())
                .unwrap_or(0),
        }
    }

    /// Counts a new cache entry; `false` if it would take the caches past the memory cap (the
    /// entry is then not counted, and the search must stop).
    fn grow(&mut self, bytes: u64) -> bool {
        if self.max_memory.is_some_and(|max| self.bytes + bytes > max) {
            return false;
        }
        self.bytes += bytes;
        self.peak_bytes = self.peak_bytes.max(self.bytes);
        true
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
                    let grown = rss.saturating_sub(self.rss_at_start);
                    if grown >= max {
                        return Some(format!(
                            "the memory budget ran out: the process grew by {grown} bytes"
                        ));
                    }
                }
            }
        }
        None
    }
}

fn memory_exhausted(budget: &Budget) -> String {
    format!(
        "the memory budget ran out: the search cache reached its cap of {} bytes",
        budget.max_memory.unwrap_or(0)
    )
}

/// The process's resident memory, where the system tells it.
fn resident_bytes() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4096)
}

enum Observation {
    /// One was linearized: a new level begins.
    Taken,
    /// One fits but its successor state was already refuted: so is this level.
    Refuted,
    /// None fits.
    None,
    /// The memory budget ran out.
    OutOfMemory,
}

enum Step {
    Done(Result<Vec<usize>, Violation>),
    Paused,
    OutOfBudget(String),
}

/// The (linearized set, model state) pairs already explored.
///
/// Entries are exact (set and state compared on a hash match), so a cut branch really was
/// explored. The sets live in one flat arena and the table maps a hash to the newest entry with
/// it, entries with equal hashes chained: one allocation-free append per new entry.
struct Cache<M> {
    /// Open addressing, linear probing: each slot is the high 32 bits of the entry's hash and
    /// its index + 1 (0 = empty), 8 bytes, so a probe is one cache line.
    slots: Vec<u64>,
    states: Vec<M>,
    /// `words` words per entry, entry `i` at `i * words`.
    sets: Vec<u64>,
    words: usize,
    bytes: u64,
}

impl<M: Hash + Eq + Clone> Cache<M> {
    fn new(words: usize) -> Self {
        Cache {
            slots: vec![0; 1024],
            states: Vec::new(),
            sets: Vec::new(),
            words,
            bytes: 0,
        }
    }

    fn len(&self) -> usize {
        self.states.len()
    }

    fn clear(&mut self) {
        *self = Cache::new(self.words);
    }

    /// Adds the pair and returns the bytes it took, or `None` if it was already there.
    #[inline]
    fn insert(&mut self, linearized: &[u64], state: &M) -> Option<u64> {
        let mut h = FxHasher::default();
        for &w in linearized {
            h.write_u64(w);
        }
        state.hash(&mut h);
        let hash = h.finish();
        let tag = hash >> 32;
        let mask = self.slots.len() - 1;
        let mut at = hash as usize & mask;
        loop {
            let slot = self.slots[at];
            if slot == 0 {
                break;
            }
            if slot >> 32 == tag {
                let i = (slot as u32 - 1) as usize;
                let set = &self.sets[i * self.words..(i + 1) * self.words];
                // A word loop: the sets are a few words, and `==` on slices calls memcmp.
                if set.iter().zip(linearized).all(|(a, b)| a == b) && self.states[i] == *state {
                    return None;
                }
            }
            at = (at + 1) & mask;
        }
        let index = self.states.len() as u64;
        self.slots[at] = (tag << 32) | (index + 1);
        self.states.push(state.clone());
        self.sets.extend_from_slice(linearized);
        let mut bytes = (self.words * 8 + std::mem::size_of::<M>() + 16) as u64;
        if self.states.len() * 2 > self.slots.len() {
            bytes += self.grow();
        }
        self.bytes += bytes;
        Some(bytes)
    }

    /// Doubles the table (kept at most half full, so probes stay short).
    fn grow(&mut self) -> u64 {
        let doubled = vec![0; self.slots.len() * 2];
        let old = std::mem::replace(&mut self.slots, doubled);
        let mask = self.slots.len() - 1;
        for slot in old.into_iter().filter(|&s| s != 0) {
            let i = (slot as u32 - 1) as usize;
            let mut h = FxHasher::default();
            for &w in &self.sets[i * self.words..(i + 1) * self.words] {
                h.write_u64(w);
            }
            self.states[i].hash(&mut h);
            let mut at = h.finish() as usize & mask;
            while self.slots[at] != 0 {
                at = (at + 1) & mask;
            }
            self.slots[at] = slot;
        }
        (self.slots.len() * 4) as u64
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
    /// Linearized operations: local id, the state before it, and whether it left the state as
    /// it was (see `backtrack`).
    stack: Vec<(u32, M, bool)>,
    cache: Cache<M>,
    /// Operations with known outcomes not yet linearized: the search succeeds at zero.
    remaining: usize,
    steps: u64,
    best: Vec<u32>,
    blocked: Option<(u32, String)>,
    /// Set when a level is entered, before any candidate of it is tried.
    fresh_level: bool,
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
        let words = n.div_ceil(64).max(1);
        Search {
            history,
            ops,
            next,
            prev,
            first,
            cursor: first,
            linearized: vec![0; words],
            state: initial,
            stack: Vec::new(),
            cache: Cache::new(words),
            remaining,
            steps: 0,
            best: Vec::new(),
            blocked: None,
            fresh_level: true,
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
                    .map(|(i, _, _)| self.ops[*i as usize])
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
            if self.fresh_level {
                // A new level: an observation that fits goes first, and alone (see `backtrack`).
                self.fresh_level = false;
                match self.take_observation(budget) {
                    Observation::Taken => continue,
                    Observation::Refuted => {
                        if let Some(step) = self.backtrack(None) {
                            return step;
                        }
                        continue;
                    }
                    Observation::None => {}
                    Observation::OutOfMemory => return Step::OutOfBudget(memory_exhausted(budget)),
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
                        if !budget.grow(bytes) {
                            return Step::OutOfBudget(memory_exhausted(budget));
                        }
                        let neutral = match (&op.ret, &op.output) {
                            (Some(_), Some(out)) => M::is_observation(&op.op, out),
                            _ => false,
                        };
                        let previous = std::mem::replace(&mut self.state, next_state);
                        self.stack.push((local as u32, previous, neutral));
                        if !op.is_unknown() {
                            self.remaining -= 1;
                        }
                        self.lift(e);
                        self.cursor = self.first;
                        self.fresh_level = true;
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

    /// Looks among the candidates of a new level for an observation that fits, and takes it.
    fn take_observation(&mut self, budget: &mut Budget) -> Observation {
        let mut e = self.first;
        while e != HEAD && e.is_multiple_of(2) {
            let local = e / 2;
            let op = self.op(local);
            if let (Some(_), Some(out)) = (&op.ret, &op.output) {
                if M::is_observation(&op.op, out) {
                    // An observation leaves the state as it is: ask, without stepping a copy.
                    if self.state.observes(&op.op, out) {
                        self.steps += 1;
                        self.linearized[local / 64] |= 1 << (local % 64);
                        let Some(bytes) = self.cache.insert(&self.linearized, &self.state) else {
                            // Already refuted with it first, so this level is refuted.
                            self.linearized[local / 64] &= !(1 << (local % 64));
                            return Observation::Refuted;
                        };
                        if !budget.grow(bytes) {
                            return Observation::OutOfMemory;
                        }
                        self.stack.push((local as u32, self.state.clone(), true));
                        self.remaining -= 1;
                        self.lift(e);
                        self.cursor = self.first;
                        self.fresh_level = true;
                        return Observation::Taken;
                    }
                }
            }
            e = self.next[e];
        }
        Observation::None
    }

    /// No pending call fits before the return of `blocked` (or before the end): undo the last
    /// linearized operation and try the next candidate after it.
    ///
    /// An observation ([`Model::is_observation`]: a read, a failed compare-and-set) that fit was
    /// as good a first choice as any: if some completion exists from the state before it, one
    /// exists that linearizes it first, since it changes no state wherever its output holds, and
    /// everything that must precede it in real time already does. So when such an operation is
    /// undone, the other candidates at its level need no trying, and the search backtracks one
    /// level further.
    fn backtrack(&mut self, blocked: Option<usize>) -> Option<Step> {
        // The deepest partial linearization is copied when the search is about to leave it,
        // never on the way down: a search that succeeds copies nothing.
        if self.stack.len() > self.best.len() {
            self.best = self.stack.iter().map(|(i, _, _)| *i).collect();
            self.blocked = None;
        }
        if self.stack.len() == self.best.len() && self.blocked.is_none() {
            if let Some(b) = blocked {
                self.blocked = Some((b as u32, format!("{:?}", self.state)));
            }
        }
        loop {
            let Some((local, state, neutral)) = self.stack.pop() else {
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
            if !neutral {
                return None;
            }
        }
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
            .map(|(_, s, _)| s.clone())
            .unwrap_or_else(|| self.state.clone())
    }
}
