//! Session guarantees: read-your-writes, monotonic reads, monotonic writes and
//! writes-follow-reads, checked per session (Terry et al., "Session guarantees for weakly
//! consistent replicated data", 1994).
//!
//! A session is a client id: its operations, ordered by invocation, are the session's program.
//! The checkers work on any model that says which operations read and write which key
//! ([`ReadsWrites`], implemented by the ready models [`CasRegister`] and [`KvModel`]).
//!
//! [`CasRegister`]: crate::models::CasRegister
//! [`KvModel`]: crate::models::KvModel
//!
//! # What is flagged, precisely
//!
//! A testing tool must not lie, so a violation is reported only when the history proves it.
//! The proofs rest on three facts about the store, which every store meant to offer these
//! guarantees has:
//!
//! 1. A read returns the value left by some write to its key (or the key's initial value), so
//!    the read's *possible sources* are the writes whose value it may show
//!    ([`ReadsWrites::read_may_follow`]), and that were invoked before the read returned.
//! 2. Writes to a key take effect in an order consistent with real time: a write that returned
//!    before another was invoked is *older* than it. Writes whose intervals overlap are never
//!    ordered, so concurrent writes cannot cause a report. The initial value is older than
//!    every write.
//! 3. For stores whose reads show several writes in order (an append log), the order a read
//!    shows is the order they took effect ([`ReadsWrites::shown_at`]).
//!
//! Over these, for each session (reads and writes counted only when their outcome is known):
//!
//! - **Read your writes**: a read of key `k` after the session's own write `W` to `k` completed
//!   is flagged when every possible source of the read is older than `W`: it returned the
//!   initial value, or a value whose writes all returned before `W` was invoked.
//! - **Monotonic reads**: a read of `k` after an earlier read of `k` in the session is flagged
//!   when every possible source of the later read is older than every possible source of the
//!   earlier one.
//! - **Monotonic writes**: the session wrote `W1` then `W2` to `k`; flagged when some read (by
//!   any client) shows `W2` applied before `W1`. With overwriting values (registers, puts) a
//!   read shows only the last write, so this needs a store whose reads show order, such as
//!   [`KvModel`]'s appends; for registers fact 2 already orders a session's writes, and the
//!   check never fails.
//! - **Writes follow reads**: the session read `k` and saw write `X` in the value, then wrote
//!   `W` to `k`; flagged when some read (by any client) shows `W` applied before `X`. Like
//!   monotonic writes, this needs reads that show order.
//!
//! A read whose value no write could have produced (and that is not the initial value) has no
//! possible source; it is left to [`check_linearizable`](super::check_linearizable) or
//! [`check_sequentially_consistent`](super::check_sequentially_consistent), which report it,
//! rather than reported here as a stale read. Monotonic writes and writes-follow-reads only
//! look at writes whose value no other write to the key shares, since a shared value cannot
//! say which write a read shows. Writes to different keys are not related to each other.

mod incremental;
pub use incremental::SessionMonitor;
pub(crate) use incremental::{monitor_factory, Monitor, MonitorFactory};

use super::result::{Report, Verdict};
use crate::history::{History, Operation};
use crate::spec::Model;
use std::collections::{BTreeMap, HashMap};
use std::fmt::{self, Debug};
use std::hash::Hash;
use std::time::Instant;

/// How one operation touches the store.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Access<K, V> {
    /// It read `key` and saw `value`.
    Read {
        /// The key.
        key: K,
        /// The value seen.
        value: V,
    },
    /// It wrote `value` to `key` (if it took effect: operations with unknown outcomes are
    /// possible sources of reads but never count as a session's own writes).
    Write {
        /// The key.
        key: K,
        /// The value written (for an append, the suffix: see [`ReadsWrites::read_may_follow`]).
        value: V,
    },
    /// Anything the checkers cannot use as a plain read or write.
    Other,
}

/// A model whose operations read and write keys: what the session checkers need to know.
pub trait ReadsWrites: Model {
    /// The key type (`()` for a single register).
    type Key: Clone + Eq + Hash + Debug;
    /// The value type.
    type Value: Clone + Eq + Hash + Debug;

    /// How `op` touches the store, given its output (`None` when the outcome is unknown).
    fn access(op: &Self::Op, output: Option<&Self::Output>) -> Access<Self::Key, Self::Value>;

    /// The value `key` holds in this state; the checkers ask the initial state.
    fn initial_value(&self, key: &Self::Key) -> Self::Value;

    /// Whether a read that returned `read` may have the write `write`, which wrote `written`, as
    /// the last write applied before it. The default, equality, fits stores that overwrite;
    /// an append store answers whether `read` ends with `written`.
    fn read_may_follow(write: &Self::Op, written: &Self::Value, read: &Self::Value) -> bool {
        let _ = write;
        written == read
    }

    /// For stores whose reads show several writes in the order they took effect (an append
    /// log): where the write `write` (which wrote `written`) shows in a read that returned
    /// `read`, as a position that grows with the order of application. `None` when it does not
    /// show or cannot be told apart; the default, for stores whose reads show only the last
    /// write.
    fn shown_at(write: &Self::Op, written: &Self::Value, read: &Self::Value) -> Option<usize> {
        let _ = (write, written, read);
        None
    }
}

/// One session guarantee.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Guarantee {
    /// A session's reads reflect its own earlier writes.
    ReadYourWrites,
    /// A session's reads never go back to older values.
    MonotonicReads,
    /// A session's writes take effect in the order it made them.
    MonotonicWrites,
    /// A session's writes take effect after the writes it had read.
    WritesFollowReads,
}

impl Guarantee {
    /// All four, in the order they are checked.
    pub const ALL: [Guarantee; 4] = [
        Guarantee::ReadYourWrites,
        Guarantee::MonotonicReads,
        Guarantee::MonotonicWrites,
        Guarantee::WritesFollowReads,
    ];
}

impl fmt::Display for Guarantee {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Guarantee::ReadYourWrites => "read your writes",
            Guarantee::MonotonicReads => "monotonic reads",
            Guarantee::MonotonicWrites => "monotonic writes",
            Guarantee::WritesFollowReads => "writes follow reads",
        })
    }
}

/// A broken session guarantee, with the operations that prove it (indices into the history's
/// operations).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct SessionViolation {
    /// Which guarantee.
    pub guarantee: Guarantee,
    /// The session (client id) it was owed to.
    pub session: u64,
    /// The session's earlier operation that the later one must respect: its own write (read
    /// your writes), its earlier read (monotonic reads), its first write (monotonic writes), its
    /// read (writes follow reads).
    pub earlier: usize,
    /// The session's later operation: the stale read (read your writes, monotonic reads) or
    /// the write that took effect too early (monotonic writes, writes follow reads).
    pub later: usize,
    /// Read your writes and monotonic reads: the writes the stale read may have read from,
    /// every one older than what the session had written or read. Empty when it can only have
    /// read the initial value.
    pub stale: Vec<usize>,
    /// Read your writes and monotonic reads: whether the stale read's value is the initial one.
    pub initial: bool,
    /// Monotonic reads: the writes the earlier read may have read from. Writes follow reads:
    /// the write the earlier read showed. Otherwise empty.
    pub seen: Vec<usize>,
    /// Monotonic writes and writes follow reads: the read that shows the writes applied in the
    /// wrong order.
    pub witness: Option<usize>,
    /// What happened, in a sentence.
    pub explanation: String,
}

impl SessionViolation {
    /// Every operation involved, in history order.
    pub fn ops(&self) -> Vec<usize> {
        let mut ops = vec![self.earlier, self.later];
        ops.extend(&self.stale);
        ops.extend(&self.seen);
        ops.extend(self.witness);
        ops.sort_unstable();
        ops.dedup();
        ops
    }
}

impl fmt::Display for SessionViolation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} violated: {}", self.guarantee, self.explanation)
    }
}

/// Checks `guarantees` for every session of `history`, whose keys start out as in `initial`.
/// The verdict is [`Verdict::Holds`] when no violation is proven, and otherwise
/// [`Verdict::Violated`] with every violation found, ordered by guarantee (in
/// [`Guarantee::ALL`] order), then by the later operation; the check searches nothing, so it
/// has no budget and never answers [`Verdict::Unknown`]. Read your
/// writes and monotonic reads report each stale read once, against the session's latest
/// operation it fails; monotonic writes and writes follow reads report each pair of writes
/// once, with the first read that shows them in the wrong order.
///
/// The rules are in the [module documentation](self).
///
/// ```
/// use stateprop::check::{check_session_guarantees, Guarantee};
/// use stateprop::history::History;
/// use stateprop::models::{CasRegister, RegisterOp, RegisterOut};
///
/// let mut h = History::new();
/// h.push(0, RegisterOp::Write { value: 1 }, 0, 1, RegisterOut::Written);
/// h.push(1, RegisterOp::Write { value: 2 }, 2, 3, RegisterOut::Written);
/// // Client 1 reads the value its own write replaced.
/// h.push(1, RegisterOp::Read, 4, 5, RegisterOut::Value(Some(1)));
/// let report = check_session_guarantees(&h, &CasRegister::default(), &Guarantee::ALL);
/// let found = report.verdict.violation().expect("a stale read");
/// assert_eq!(found.len(), 1);
/// assert_eq!(found[0].guarantee, Guarantee::ReadYourWrites);
/// assert_eq!(found[0].ops(), [0, 1, 2]);
/// ```
pub fn check_session_guarantees<M: ReadsWrites>(
    history: &History<M::Op, M::Output>,
    initial: &M,
    guarantees: &[Guarantee],
) -> Report<Vec<SessionViolation>> {
    let start = Instant::now();
    let facts = Facts::new(history, initial);
    let mut found = BTreeMap::new();
    for &g in guarantees {
        match g {
            Guarantee::ReadYourWrites => facts.read_your_writes(&mut found),
            Guarantee::MonotonicReads => facts.monotonic_reads(&mut found),
            Guarantee::MonotonicWrites => facts.monotonic_writes(&mut found),
            Guarantee::WritesFollowReads => facts.writes_follow_reads(&mut found),
        }
    }
    let found: Vec<SessionViolation> = found.into_values().collect();
    let mut report = Report::new(if found.is_empty() {
        Verdict::Holds
    } else {
        Verdict::Violated(found)
    });
    report.elapsed = start.elapsed();
    report
}

type Found = BTreeMap<(Guarantee, usize, usize), SessionViolation>;

/// The writes a known read may have read from.
struct Sources {
    writes: Vec<usize>,
    initial: bool,
}

impl Sources {
    fn is_empty(&self) -> bool {
        self.writes.is_empty() && !self.initial
    }

    /// When the newest source returned: `None` when there is none (the read can only show the
    /// initial value, older than everything), `u64::MAX` for one that never returned.
    fn newest<Op, Out>(&self, ops: &[Operation<Op, Out>]) -> Option<u64> {
        self.writes
            .iter()
            .map(|&w| ops[w].ret.unwrap_or(u64::MAX))
            .max()
    }

    /// Whether a later read may be checked against this one for monotonic reads: it saw some
    /// write for certain (the initial value is older than nothing, and a read with no possible
    /// source orders nothing). Then the later read is stale when every one of its sources
    /// returned before the oldest of these was invoked ([`older`] with [`Sources::oldest_call`]).
    fn orders_later_reads(&self) -> bool {
        !self.initial && !self.writes.is_empty()
    }

    /// When the oldest source was invoked.
    fn oldest_call<Op, Out>(&self, ops: &[Operation<Op, Out>]) -> u64 {
        self.writes.iter().map(|&w| ops[w].call).min().unwrap_or(0)
    }
}

/// Whether sources whose newest returned at `newest` ([`Sources::newest`]) are all older than
/// an operation invoked at `call`: fact 2 of the module documentation. Both the whole-history
/// checker and the incremental one ([`SessionMonitor`]) decide staleness through this.
fn older(newest: Option<u64>, call: u64) -> bool {
    newest.is_none_or(|n| n < call)
}

/// The read-your-writes violation of read `r` against its session's own write `w`.
fn ryw_violation<M: ReadsWrites>(
    names: &Names<'_, M>,
    client: u64,
    r: usize,
    w: usize,
    src: &Sources,
) -> SessionViolation {
    let explanation = format!(
        "client {client} wrote {} and then read {}, which can only be {}: \
         the read does not reflect the client's own write",
        names.describe(w),
        names.describe(r),
        names.describe_stale(src, &[w]),
    );
    SessionViolation {
        guarantee: Guarantee::ReadYourWrites,
        session: client,
        earlier: w,
        later: r,
        stale: src.writes.clone(),
        initial: src.initial,
        seen: Vec::new(),
        witness: None,
        explanation,
    }
}

/// The monotonic-reads violation of read `r2` (sources `src2`) against the session's earlier
/// read `r1` (sources `src1`).
fn mr_violation<M: ReadsWrites>(
    names: &Names<'_, M>,
    client: u64,
    (r1, src1): (usize, &Sources),
    (r2, src2): (usize, &Sources),
) -> SessionViolation {
    let explanation = format!(
        "client {client} read {}, which can only come from {}, and later read \
         {}, which can only be {}: the client saw an older value after a newer one",
        names.describe(r1),
        names.list(&src1.writes),
        names.describe(r2),
        names.describe_stale(src2, &src1.writes),
    );
    SessionViolation {
        guarantee: Guarantee::MonotonicReads,
        session: client,
        earlier: r1,
        later: r2,
        stale: src2.writes.clone(),
        initial: src2.initial,
        seen: src1.writes.clone(),
        witness: None,
        explanation,
    }
}

/// What the checkers derive from the history once.
struct Facts<'h, M: ReadsWrites> {
    ops: &'h [Operation<M::Op, M::Output>],
    access: Vec<Access<M::Key, M::Value>>,
    /// Each session's operations in program order.
    sessions: Vec<(u64, Vec<usize>)>,
    /// Position of each operation in its session.
    position: Vec<usize>,
    /// Possible sources of each known read.
    sources: Vec<Option<Sources>>,
    /// For each known read, the writes it shows in order: (position in the value, write).
    shown: Vec<Vec<(usize, usize)>>,
}

impl<'h, M: ReadsWrites> Facts<'h, M> {
    fn new(history: &'h History<M::Op, M::Output>, initial: &M) -> Self {
        let ops = &history.ops[..];
        let access: Vec<_> = ops
            .iter()
            .map(|o| {
                let output = if o.is_unknown() {
                    None
                } else {
                    o.output.as_ref()
                };
                M::access(&o.op, output)
            })
            .collect();
        let mut by_client: BTreeMap<u64, Vec<usize>> = BTreeMap::new();
        for (i, o) in ops.iter().enumerate() {
            by_client.entry(o.client).or_default().push(i);
        }
        let mut position = vec![0; ops.len()];
        let sessions: Vec<(u64, Vec<usize>)> = by_client
            .into_iter()
            .map(|(client, mut list)| {
                list.sort_by_key(|&i| (ops[i].call, i));
                for (p, &i) in list.iter().enumerate() {
                    position[i] = p;
                }
                (client, list)
            })
            .collect();
        let mut writes: HashMap<&M::Key, Vec<usize>> = HashMap::new();
        let mut values: HashMap<(&M::Key, &M::Value), usize> = HashMap::new();
        for (i, a) in access.iter().enumerate() {
            if let Access::Write { key, value } = a {
                writes.entry(key).or_default().push(i);
                *values.entry((key, value)).or_default() += 1;
            }
        }
        let mut sources = Vec::with_capacity(ops.len());
        let mut shown = Vec::with_capacity(ops.len());
        for (i, a) in access.iter().enumerate() {
            let Access::Read { key, value } = a else {
                sources.push(None);
                shown.push(Vec::new());
                continue;
            };
            let ret = ops[i].ret.unwrap_or(u64::MAX);
            // Writes invoked after the read returned cannot have reached it.
            let candidates = writes
                .get(key)
                .into_iter()
                .flatten()
                .copied()
                .filter(|&w| w != i && ops[w].call <= ret);
            let mut src = Sources {
                writes: Vec::new(),
                initial: initial.initial_value(key) == *value,
            };
            let mut show = Vec::new();
            for w in candidates {
                let Access::Write { value: written, .. } = &access[w] else {
                    unreachable!("only writes are indexed")
                };
                if M::read_may_follow(&ops[w].op, written, value) {
                    src.writes.push(w);
                }
                if values[&(key, written)] == 1 {
                    if let Some(p) = M::shown_at(&ops[w].op, written, value) {
                        show.push((p, w));
                    }
                }
            }
            show.sort_unstable();
            sources.push(Some(src));
            shown.push(show);
        }
        Facts {
            ops,
            access,
            sessions,
            position,
            sources,
            shown,
        }
    }

    fn key(&self, i: usize) -> Option<&M::Key> {
        match &self.access[i] {
            Access::Read { key, .. } | Access::Write { key, .. } => Some(key),
            Access::Other => None,
        }
    }

    fn names(&self) -> Names<'_, M> {
        Names {
            ops: self.ops,
            access: &self.access,
        }
    }

    fn read_your_writes(&self, found: &mut Found) {
        for (client, list) in &self.sessions {
            for (p, &r) in list.iter().enumerate() {
                let Some(src) = &self.sources[r] else {
                    continue;
                };
                if src.is_empty() {
                    continue;
                }
                let key = self.key(r);
                // The session's latest own write: its writes are invoked one after another,
                // so if the sources are not all older than it, they are older than none.
                let own = list[..p].iter().rev().copied().find(|&w| {
                    matches!(self.access[w], Access::Write { .. })
                        && self.key(w) == key
                        && !self.ops[w].is_unknown()
                });
                if let Some(w) = own.filter(|&w| older(src.newest(self.ops), self.ops[w].call)) {
                    let v = ryw_violation(&self.names(), *client, r, w, src);
                    found.insert((Guarantee::ReadYourWrites, r, w), v);
                }
            }
        }
    }

    fn monotonic_reads(&self, found: &mut Found) {
        for (client, list) in &self.sessions {
            for (p, &r2) in list.iter().enumerate() {
                let Some(src2) = &self.sources[r2] else {
                    continue;
                };
                if src2.is_empty() {
                    continue;
                }
                let key = self.key(r2);
                let newest = src2.newest(self.ops);
                let earlier = list[..p].iter().rev().copied().find(|&r1| {
                    let Some(src1) = &self.sources[r1] else {
                        return false;
                    };
                    self.key(r1) == key
                        && src1.orders_later_reads()
                        && older(newest, src1.oldest_call(self.ops))
                });
                if let Some(r1) = earlier {
                    let src1 = self.sources[r1].as_ref().expect("a read");
                    let v = mr_violation(&self.names(), *client, (r1, src1), (r2, src2));
                    found.insert((Guarantee::MonotonicReads, r2, r1), v);
                }
            }
        }
    }

    fn monotonic_writes(&self, found: &mut Found) {
        for (x, show) in self.shown.iter().enumerate() {
            for (a, &(_, first)) in show.iter().enumerate() {
                for &(_, second) in &show[a + 1..] {
                    // `x` shows `first` applied before `second`; flag it if `second`'s client
                    // had made `second` before `first`.
                    let client = self.ops[second].client;
                    if self.ops[first].client != client
                        || self.position[second] >= self.position[first]
                        || self.ops[second].is_unknown()
                    {
                        continue;
                    }
                    let entry = (Guarantee::MonotonicWrites, first, second);
                    if found.contains_key(&entry) {
                        continue;
                    }
                    let explanation = format!(
                        "client {client} wrote {} and then {}, but {} shows them applied in \
                         the opposite order",
                        self.names().describe(second),
                        self.names().describe(first),
                        self.names().describe(x),
                    );
                    found.insert(
                        entry,
                        SessionViolation {
                            guarantee: Guarantee::MonotonicWrites,
                            session: client,
                            earlier: second,
                            later: first,
                            stale: Vec::new(),
                            initial: false,
                            seen: Vec::new(),
                            witness: Some(x),
                            explanation,
                        },
                    );
                }
            }
        }
    }

    fn writes_follow_reads(&self, found: &mut Found) {
        // For each (client, write shown to it): the client's first read showing it.
        let mut seen_by: HashMap<(u64, usize), usize> = HashMap::new();
        for (_, list) in &self.sessions {
            for &r in list {
                for &(_, w) in &self.shown[r] {
                    seen_by.entry((self.ops[r].client, w)).or_insert(r);
                }
            }
        }
        for (x, show) in self.shown.iter().enumerate() {
            for (a, &(_, early)) in show.iter().enumerate() {
                for &(_, late) in &show[a + 1..] {
                    // `x` shows `early` applied before `late`; flag it if `early`'s client had
                    // read `late` before making `early`.
                    let client = self.ops[early].client;
                    let Some(&r) = seen_by.get(&(client, late)) else {
                        continue;
                    };
                    if self.position[r] >= self.position[early] {
                        continue;
                    }
                    let entry = (Guarantee::WritesFollowReads, early, late);
                    if found.contains_key(&entry) {
                        continue;
                    }
                    let explanation = format!(
                        "client {client} read {}, which shows {}, and then wrote {}, but {} \
                         shows the client's write applied before the one it had read",
                        self.names().describe(r),
                        self.names().name(late),
                        self.names().describe(early),
                        self.names().describe(x),
                    );
                    found.insert(
                        entry,
                        SessionViolation {
                            guarantee: Guarantee::WritesFollowReads,
                            session: client,
                            earlier: r,
                            later: early,
                            stale: Vec::new(),
                            initial: false,
                            seen: vec![late],
                            witness: Some(x),
                            explanation,
                        },
                    );
                }
            }
        }
    }
}

/// Names operations in explanations.
struct Names<'a, M: ReadsWrites> {
    ops: &'a [Operation<M::Op, M::Output>],
    access: &'a [Access<M::Key, M::Value>],
}

impl<M: ReadsWrites> Names<'_, M> {
    /// `op 3 (Write { value: 1 })`.
    fn name(&self, i: usize) -> String {
        format!("op {i} ({:?})", self.ops[i].op)
    }

    /// `op 3 (Read) = Some(1)` for reads, like [`name`](Self::name) otherwise.
    fn describe(&self, i: usize) -> String {
        match &self.access[i] {
            Access::Read { value, .. } => format!("{} = {value:?}", self.name(i)),
            _ => self.name(i),
        }
    }

    /// `op 1 (…) or op 2 (…)`.
    fn list(&self, writes: &[usize]) -> String {
        let names: Vec<String> = writes.iter().map(|&w| self.name(w)).collect();
        names.join(" or ")
    }

    /// The stale read's sources and why each is older than every write in `newer`.
    fn describe_stale(&self, src: &Sources, newer: &[usize]) -> String {
        let mut parts = Vec::new();
        if src.initial {
            parts.push("the initial value".to_string());
        }
        if !src.writes.is_empty() {
            parts.push(self.list(&src.writes));
        }
        let mut text = parts.join(" or ");
        if !src.writes.is_empty() {
            let older: Vec<String> = src.writes.iter().map(|w| format!("op {w}")).collect();
            let newer: Vec<String> = newer.iter().map(|w| format!("op {w}")).collect();
            let (verb, subject) = if older.len() == 1 {
                ("returned", older[0].clone())
            } else {
                ("all returned", older.join(", "))
            };
            text.push_str(&format!(
                ", and {subject} {verb} before {} was invoked",
                newer.join(" and ")
            ));
        }
        text
    }
}
