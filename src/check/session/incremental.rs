//! Read your writes and monotonic reads checked as the history grows: each operation is fed
//! to a [`SessionMonitor`] when it is invoked and when it ends, and a violation comes out as
//! soon as the history proves it, so a simulated run can stop at the step that broke the
//! guarantee instead of judging the history after the program.
//!
//! The definitions are the whole-history checker's ([`check_session_guarantees`]), through the
//! same functions; what changes is only *when* a read is decided. A read's verdict depends on
//! its possible sources (writes invoked before it returned, whose value it may show) and on
//! its session's earlier operations. When the read returns, every possible source has been
//! invoked, but some may still be in flight, and how one ends decides whether it is a source
//! at all: a compare-and-set that fails writes nothing, a rejected request is no operation.
//! So a read is decided once none of its possible sources is in flight (it is *settled*), and
//! a session's operations are taken in order, each after the ones before it; a read that must
//! wait holds up only its own session. In a simulation a request ends within the request
//! timeout, which bounds the wait. Then each read costs a scan of the writes to its key (for
//! its sources) and `O(log n)` for its checks: the session keeps its latest own write per key
//! and a stack of its earlier reads (see [`KeyState`]).
//!
//! [`check_session_guarantees`]: super::check_session_guarantees

use super::{mr_violation, older, ryw_violation, Names, Sources};
use super::{Access, Guarantee, ReadsWrites, SessionViolation};
use crate::history::Operation;
use crate::spec::Model;
use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum State {
    InFlight,
    Returned,
    Unknown,
    Withdrawn,
}

/// A returned read: its sources so far, and how many possible ones are still in flight.
struct ReadState {
    src: Sources,
    waiting: usize,
}

/// What a session's checks need about one key.
struct KeyState {
    /// The session's latest write to the key that returned: read your writes needs only it,
    /// since the session's writes are invoked one after another (see `read_your_writes` in the
    /// whole-history checker).
    own_write: Option<usize>,
    /// The session's earlier reads that order later ones ([`Sources::orders_later_reads`]),
    /// each with the call of its oldest source, thinned to those no later read beats: from the
    /// bottom, positions grow and calls strictly fall. The latest earlier read whose oldest
    /// source was invoked after every source of a new read returned is then found by binary
    /// search, and a read dropped from the stack could never have been that latest one.
    reads: Vec<(usize, u64)>,
}

struct Session<K> {
    /// The session's operations in invocation order, not yet taken into account.
    queue: VecDeque<usize>,
    keys: HashMap<K, KeyState>,
}

/// Checks read your writes and monotonic reads per session while the history is recorded.
///
/// Feed it every operation in the order the history's times say: [`invoke`](Self::invoke)
/// when one starts, then [`returned`](Self::returned), [`unknown`](Self::unknown) (it will never
/// return: timed out, its node crashed) or [`withdraw`](Self::withdraw) (it is no operation
/// of the history, such as a request the system rejected). A client's operations must not
/// overlap, except that one of unknown outcome may be followed by more. [`finish`](Self::finish)
/// declares every operation still in flight unknown, as the end of a history does.
///
/// After all that, the violations it produced ([`take_violations`](Self::take_violations)) are
/// exactly the read-your-writes and monotonic-reads violations [`check_session_guarantees`]
/// finds in the whole history (with operations named by the ids `invoke` gave, which are
/// history positions when nothing was withdrawn), each produced as soon as it is proven.
/// Monotonic writes and writes follow reads are not checked here: they need to know whether a
/// value is written only once in the whole history, which a prefix cannot tell.
///
/// ```
/// use stateprop::check::session::SessionMonitor;
/// use stateprop::check::Guarantee;
/// use stateprop::models::{CasRegister, RegisterOp, RegisterOut};
///
/// let mut m = SessionMonitor::new(&CasRegister::default(), &Guarantee::ALL);
/// let w = m.invoke(0, RegisterOp::Write { value: 1 }, 1);
/// m.returned(w, 2, RegisterOut::Written);
/// let r = m.invoke(0, RegisterOp::Read, 3);
/// m.returned(r, 4, RegisterOut::Value(None));
/// let found = m.take_violations();
/// assert_eq!(found[0].guarantee, Guarantee::ReadYourWrites);
/// assert_eq!((found[0].earlier, found[0].later), (w, r));
/// ```
///
/// [`check_session_guarantees`]: super::check_session_guarantees
pub struct SessionMonitor<M: ReadsWrites> {
    initial: M,
    read_your_writes: bool,
    monotonic_reads: bool,
    ops: Vec<Operation<M::Op, M::Output>>,
    access: Vec<Access<M::Key, M::Value>>,
    state: Vec<State>,
    /// Per key, the operations that may write it, whatever their outcome.
    writers: HashMap<M::Key, Vec<usize>>,
    reads: HashMap<usize, ReadState>,
    /// Per operation in flight, the returned reads it may be a source of.
    waiters: Vec<Vec<usize>>,
    sessions: HashMap<u64, Session<M::Key>>,
    found: Vec<SessionViolation>,
}

impl<M: ReadsWrites> SessionMonitor<M> {
    /// A monitor of `guarantees` (read your writes and monotonic reads; others are ignored) for
    /// a history whose keys start out as in `initial`.
    pub fn new(initial: &M, guarantees: &[Guarantee]) -> Self {
        SessionMonitor {
            initial: initial.clone(),
            read_your_writes: guarantees.contains(&Guarantee::ReadYourWrites),
            monotonic_reads: guarantees.contains(&Guarantee::MonotonicReads),
            ops: Vec::new(),
            access: Vec::new(),
            state: Vec::new(),
            writers: HashMap::new(),
            reads: HashMap::new(),
            waiters: Vec::new(),
            sessions: HashMap::new(),
            found: Vec::new(),
        }
    }

    /// Whether it checks anything (at least one of the guarantees it knows was asked for).
    pub fn is_active(&self) -> bool {
        self.read_your_writes || self.monotonic_reads
    }

    /// Client `client` invokes `op` at time `call`; returns the operation's id.
    pub fn invoke(&mut self, client: u64, op: M::Op, call: u64) -> usize {
        let id = self.ops.len();
        // Before its outcome is known, an operation may write what `access` says for an unknown
        // outcome; every model's known outcome writes no more than that.
        let access = M::access(&op, None);
        if let Access::Write { key, .. } = &access {
            self.writers.entry(key.clone()).or_default().push(id);
        }
        self.ops.push(Operation {
            client,
            op,
            call,
            ret: None,
            output: None,
        });
        self.access.push(access);
        self.state.push(State::InFlight);
        self.waiters.push(Vec::new());
        self.session(client).queue.push_back(id);
        id
    }

    /// Operation `id` returned `output` at time `ret`.
    pub fn returned(&mut self, id: usize, ret: u64, output: M::Output) {
        if self.state[id] != State::InFlight {
            return;
        }
        let access = M::access(&self.ops[id].op, Some(&output));
        if let Access::Write { key, .. } = &access {
            let list = self.writers.entry(key.clone()).or_default();
            if !list.contains(&id) {
                list.push(id);
            }
        }
        self.ops[id].ret = Some(ret);
        self.ops[id].output = Some(output);
        self.access[id] = access;
        self.state[id] = State::Returned;
        if let Access::Read { key, value } = &self.access[id] {
            let mut src = Sources {
                writes: Vec::new(),
                initial: self.initial.initial_value(key) == *value,
            };
            let mut waiting = 0;
            for &w in self.writers.get(key).into_iter().flatten() {
                // Writes invoked after the read returned cannot have reached it.
                if w == id || self.ops[w].call > ret || !self.may_source(w, key, value) {
                    continue;
                }
                if self.state[w] == State::InFlight {
                    waiting += 1;
                    self.waiters[w].push(id);
                } else {
                    src.writes.push(w);
                }
            }
            self.reads.insert(id, ReadState { src, waiting });
        }
        self.ended(id);
    }

    /// Operation `id` will never return: its outcome is unknown.
    pub fn unknown(&mut self, id: usize) {
        if self.state[id] == State::InFlight {
            self.state[id] = State::Unknown;
            self.ended(id);
        }
    }

    /// Operation `id` is no operation of the history after all (the system refused it before
    /// doing anything).
    pub fn withdraw(&mut self, id: usize) {
        if self.state[id] == State::InFlight {
            self.state[id] = State::Withdrawn;
            self.access[id] = Access::Other;
            self.ended(id);
        }
    }

    /// The end of the history: every operation still in flight is of unknown outcome.
    pub fn finish(&mut self) {
        for id in 0..self.ops.len() {
            self.unknown(id);
        }
    }

    /// The violations proven since the last call, in the order they were proven.
    pub fn take_violations(&mut self) -> Vec<SessionViolation> {
        std::mem::take(&mut self.found)
    }

    /// The operation `id`, as fed so far.
    pub fn operation(&self, id: usize) -> &Operation<M::Op, M::Output> {
        &self.ops[id]
    }

    fn session(&mut self, client: u64) -> &mut Session<M::Key> {
        self.sessions.entry(client).or_insert_with(|| Session {
            queue: VecDeque::new(),
            keys: HashMap::new(),
        })
    }

    /// Whether `w`, as far as is known, may be a source of a read of `value` from `key`.
    fn may_source(&self, w: usize, key: &M::Key, value: &M::Value) -> bool {
        match &self.access[w] {
            Access::Write {
                key: k,
                value: written,
            } => k == key && M::read_may_follow(&self.ops[w].op, written, value),
            _ => false,
        }
    }

    /// Operation `id` ended: the reads waiting for it learn whether it is their source, and
    /// the sessions that may move on do.
    fn ended(&mut self, id: usize) {
        let mut sessions = vec![self.ops[id].client];
        for r in std::mem::take(&mut self.waiters[id]) {
            let Access::Read { key, value } = &self.access[r] else {
                unreachable!("only returned reads wait")
            };
            let source = self.state[id] != State::Withdrawn && self.may_source(id, key, value);
            let read = self.reads.get_mut(&r).expect("a waiting read");
            if source {
                read.src.writes.push(id);
            }
            read.waiting -= 1;
            if read.waiting == 0 {
                sessions.push(self.ops[r].client);
            }
        }
        for client in sessions {
            self.advance(client);
        }
    }

    /// Takes the session's operations into account in order, up to the first still in flight
    /// or a read not yet settled.
    fn advance(&mut self, client: u64) {
        while let Some(&head) = self.sessions.get(&client).and_then(|s| s.queue.front()) {
            match self.state[head] {
                State::InFlight => return,
                // Unknown outcomes are neither a session's own writes nor reads it saw.
                State::Unknown | State::Withdrawn => {}
                State::Returned => match &self.access[head] {
                    Access::Write { key, .. } => {
                        let key = key.clone();
                        self.key_state(client, key).own_write = Some(head);
                    }
                    Access::Read { .. } => {
                        if self.reads[&head].waiting > 0 {
                            return;
                        }
                        self.decide(client, head);
                    }
                    Access::Other => {}
                },
            }
            self.session(client).queue.pop_front();
        }
    }

    fn key_state(&mut self, client: u64, key: M::Key) -> &mut KeyState {
        self.session(client)
            .keys
            .entry(key)
            .or_insert_with(|| KeyState {
                own_write: None,
                reads: Vec::new(),
            })
    }

    /// Checks the settled read `r` against its session's earlier operations.
    fn decide(&mut self, client: u64, r: usize) {
        let Access::Read { key, .. } = &self.access[r] else {
            unreachable!("a read")
        };
        let key = key.clone();
        let read = self.reads.get_mut(&r).expect("a returned read");
        // The whole-history checker lists sources in history order.
        read.src.writes.sort_unstable();
        let src = &self.reads[&r].src;
        if src.is_empty() {
            return;
        }
        let newest = src.newest(&self.ops);
        let orders = src.orders_later_reads().then(|| src.oldest_call(&self.ops));
        let (own, earlier) = {
            let state = self.sessions.get(&client).and_then(|s| s.keys.get(&key));
            let own = state
                .and_then(|k| k.own_write)
                .filter(|&w| older(newest, self.ops[w].call));
            let earlier = state.and_then(|k| {
                let n = k.reads.partition_point(|&(_, call)| older(newest, call));
                n.checked_sub(1).map(|i| k.reads[i].0)
            });
            (own, earlier)
        };
        let names = Names::<M> {
            ops: &self.ops,
            access: &self.access,
        };
        if self.read_your_writes {
            if let Some(w) = own {
                self.found
                    .push(ryw_violation(&names, client, r, w, &self.reads[&r].src));
            }
        }
        if self.monotonic_reads {
            if let Some(r1) = earlier {
                let v = mr_violation(
                    &names,
                    client,
                    (r1, &self.reads[&r1].src),
                    (r, &self.reads[&r].src),
                );
                self.found.push(v);
            }
        }
        if let Some(call) = orders {
            let stack = &mut self.key_state(client, key).reads;
            while stack.last().is_some_and(|&(_, c)| c <= call) {
                stack.pop();
            }
            stack.push((r, call));
        }
    }
}

/// An incremental judge as the simulated executor drives it, for any model (the executor does
/// not know that the model reads and writes keys; the judge that built it did).
pub(crate) trait Monitor<M: Model> {
    fn invoke(&mut self, client: u64, op: M::Op, call: u64) -> usize;
    fn returned(&mut self, id: usize, ret: u64, output: M::Output);
    fn unknown(&mut self, id: usize);
    fn withdraw(&mut self, id: usize);
    fn take_violations(&mut self) -> Vec<SessionViolation>;
}

impl<M: ReadsWrites> Monitor<M> for SessionMonitor<M> {
    fn invoke(&mut self, client: u64, op: M::Op, call: u64) -> usize {
        SessionMonitor::invoke(self, client, op, call)
    }
    fn returned(&mut self, id: usize, ret: u64, output: M::Output) {
        SessionMonitor::returned(self, id, ret, output);
    }
    fn unknown(&mut self, id: usize) {
        SessionMonitor::unknown(self, id);
    }
    fn withdraw(&mut self, id: usize) {
        SessionMonitor::withdraw(self, id);
    }
    fn take_violations(&mut self) -> Vec<SessionViolation> {
        SessionMonitor::take_violations(self)
    }
}

/// Builds a fresh monitor for each run, from the run's initial state.
pub(crate) type MonitorFactory<M> = Arc<dyn Fn(&M) -> Box<dyn Monitor<M>> + Send + Sync>;

/// The factory of the session judge's monitor, `None` when none of `guarantees` is checked
/// incrementally.
pub(crate) fn monitor_factory<M: ReadsWrites>(
    guarantees: &[Guarantee],
) -> Option<MonitorFactory<M>> {
    let guarantees = guarantees.to_vec();
    let probe = guarantees
        .iter()
        .any(|g| matches!(g, Guarantee::ReadYourWrites | Guarantee::MonotonicReads));
    probe.then(|| {
        Arc::new(move |initial: &M| {
            Box::new(SessionMonitor::new(initial, &guarantees)) as Box<dyn Monitor<M>>
        }) as MonitorFactory<M>
    })
}

#[cfg(test)]
mod tests;
