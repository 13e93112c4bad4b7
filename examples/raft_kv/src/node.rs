//! One node of the store: a `sim::Node` around raft-rs's `RawNode` on a `MemStorage`.
//!
//! The simulator is raft's transport, clock and disk. Raft ticks every [`TICK_MS`] of the node's
//! own time (without a timer per tick: see the ticking functions below); its outgoing messages
//! become simulated sends; what it asks to persist is written to the `MemStorage` before
//! anything else happens (a crash can only come between handlers), and the storage's hard state
//! and log are the node's [`Disk`]. A write is proposed
//! at the leader and answered when its entry is applied; how a read is served is the node's
//! [`ReadPath`], one of them the planted bug.

use crate::model::{Kv, KvOp, KvOut};
use crate::path::{ReadPath, Reads};
use crate::wire::{Disk, Msg, Proposal};
use raft::eraftpb::{ConfState, Entry, EntryType, HardState};
use raft::storage::MemStorage;
use raft::{Config, GetEntriesContext, RawNode, StateRole, Storage};
use stateprop::sim::{Context, Node, NodeId, RequestId, TimerId};
use std::collections::{BTreeMap, BTreeSet};
use std::marker::PhantomData;

/// How often a node ticks raft, in milliseconds of its own clock.
pub const TICK_MS: u64 = 10;
/// A leader heartbeats every this many ticks (20 ms).
pub const HEARTBEAT_TICKS: usize = 2;
/// A follower that hears no leader for this many ticks (100 ms) and up to twice as many (the
/// randomized timeout) starts an election.
pub const ELECTION_TICKS: usize = 10;

/// One node of the replicated store, serving reads as `P` says.
pub struct RaftKv<P: ReadPath> {
    raw: RawNode<MemStorage>,
    /// The store's map: the log's committed entries applied in order.
    kv: Kv,
    /// The node time of raft's last tick: ticks fall on multiples of [`TICK_MS`] from boot.
    last_tick: u64,
    /// The wake-up timer, and the node time it fires at.
    wake: Option<(TimerId, u64)>,
    /// The (term, role) the election timeout was last drawn for.
    role: Option<(u64, StateRole)>,
    /// `hashes[i]` sums up the applied log up to index `i + 1` (term, index and data of each
    /// entry), so two nodes' applied prefixes compare in one step.
    hashes: Vec<u64>,
    /// Requests proposed here whose entry has not been applied yet: applying it answers them.
    pending: BTreeSet<u64>,
    /// Reads sent through raft's ReadIndex, waiting for the leader to confirm it still leads:
    /// request id → key.
    confirming: BTreeMap<u64, u8>,
    /// Confirmed reads waiting for the log to be applied up to their read index:
    /// (index, request, key).
    ready_reads: Vec<(u64, RequestId, u8)>,
    _path: PhantomData<P>,
}

/// raft-rs draws each randomized election timeout from `rand::thread_rng()`, which is the
/// outside world: two runs of one seed would elect at different times. The node redraws the
/// timeout from its context, where the seed decides it, after every call into raft that reset
/// it. Raft resets it only when it becomes follower, candidate or leader, and each of those
/// changes the node's term or role, so a change of (term, role) across a call is the sign. Raft's
/// own draw is made but never used: it cannot tick in between, as no single call both resets
/// the timeout and checks it.
///
/// Redrawing on every input instead would be deterministic too, but would let any request that
/// reaches a node move its next election, so deleting an unrelated step while shrinking would
/// change who leads.
fn redraw_timeout<P: ReadPath>(node: &mut RaftKv<P>, ctx: &mut Context<'_, RaftKv<P>>) {
    let raft = &mut node.raw.raft;
    let role = (raft.term, raft.state);
    if P::RAFT_OWN_TIMEOUTS || node.role == Some(role) {
        return;
    }
    node.role = Some(role);
    let spread = ctx.random() % ELECTION_TICKS as u64;
    raft.set_randomized_election_timeout(ELECTION_TICKS + spread as usize);
}

/// A fixed-key mix of a running hash with one entry.
fn extend_hash(prev: u64, e: &Entry) -> u64 {
    let mut h = prev ^ 0x9E37_79B9_7F4A_7C15;
    for word in [e.term, e.index, e.data.len() as u64] {
        h = (h ^ word).wrapping_mul(0x100_0000_01B3).rotate_left(29);
    }
    for &b in e.data.iter() {
        h = (h ^ u64::from(b)).wrapping_mul(0x100_0000_01B3);
    }
    h
}

impl<P: ReadPath> RaftKv<P> {
    /// Whether raft thinks this node leads its term.
    pub fn is_leader(&self) -> bool {
        self.raw.raft.state == StateRole::Leader
    }

    /// The node's current term.
    pub fn term(&self) -> u64 {
        self.raw.raft.term
    }

    /// The highest log index applied to the map.
    pub fn applied(&self) -> u64 {
        self.hashes.len() as u64
    }

    /// The map as this node has applied it.
    pub fn store(&self) -> &Kv {
        &self.kv
    }

    /// The hash of the applied log up to `index` (1-based; 0 for the empty prefix).
    fn prefix_hash(&self, index: u64) -> u64 {
        index.checked_sub(1).map_or(0, |i| self.hashes[i as usize])
    }

    fn propose(&mut self, ctx: &mut Context<'_, Self>, request: RequestId, op: KvOp) {
        if !self.is_leader() {
            ctx.reject(request);
            return;
        }
        let data = Proposal {
            op,
            node: ctx.id(),
            request: request.0,
        }
        .encode();
        match self.raw.propose(Vec::new(), data) {
            Ok(()) => {
                self.pending.insert(request.0);
            }
            // Dropped before it reached the log (a leader transfer): it will never apply.
            Err(_) => ctx.reject(request),
        }
    }

    fn read_index(&mut self, ctx: &mut Context<'_, Self>, request: RequestId, key: u8) {
        // A leader that has not committed an entry of its own term does not know the commit
        // index yet; raft would drop the read silently, so refuse it now.
        if !self.is_leader() || !self.raw.raft.commit_to_current_term() {
            ctx.reject(request);
            return;
        }
        self.raw.read_index(request.0.to_le_bytes().to_vec());
        self.confirming.insert(request.0, key);
    }

    /// Applies committed entries to the map, answering the requests proposed here.
    fn apply(&mut self, ctx: &mut Context<'_, Self>, entries: Vec<Entry>) {
        for e in entries {
            debug_assert_eq!(e.index, self.applied() + 1, "entries apply in order");
            let prev = self.prefix_hash(self.applied());
            self.hashes.push(extend_hash(prev, &e));
            if e.get_entry_type() != EntryType::EntryNormal {
                continue;
            }
            let Some(p) = Proposal::decode(&e.data) else {
                continue;
            };
            let out = self.kv.apply(&p.op);
            if p.node == ctx.id() && self.pending.remove(&p.request) {
                ctx.reply(RequestId(p.request), out);
            }
        }
    }

    /// Answers the confirmed reads whose index the map has reached.
    fn serve_reads(&mut self, ctx: &mut Context<'_, Self>) {
        let applied = self.applied();
        let kv = &self.kv;
        self.ready_reads.retain(|&(index, request, key)| {
            if index > applied {
                return true;
            }
            ctx.reply(request, KvOut::Value(kv.map.get(&key).copied()));
            false
        });
    }

    fn send_all(ctx: &mut Context<'_, Self>, messages: Vec<raft::eraftpb::Message>) {
        for m in messages {
            ctx.send((m.to - 1) as NodeId, Msg(m));
        }
    }

    /// Carries out what raft asks for after an input, in the order raft-rs documents: send what
    /// may go before persisting, apply what is committed, persist new entries and the hard
    /// state, send what had to wait for them, then acknowledge.
    fn drive(&mut self, ctx: &mut Context<'_, Self>) {
        redraw_timeout(self, ctx);
        while self.raw.has_ready() {
            let mut rd = self.raw.ready();
            Self::send_all(ctx, rd.take_messages());
            if !rd.snapshot().is_empty() {
                let snapshot = rd.snapshot().clone();
                self.raw
                    .mut_store()
                    .wl()
                    .apply_snapshot(snapshot)
                    .expect("the log is never compacted, so snapshots apply");
            }
            self.apply(ctx, rd.take_committed_entries());
            if !rd.entries().is_empty() {
                self.raw
                    .mut_store()
                    .wl()
                    .append(rd.entries())
                    .expect("raft appends after what it has");
            }
            if let Some(hs) = rd.hs() {
                self.raw.mut_store().wl().set_hardstate(hs.clone());
            }
            Self::send_all(ctx, rd.take_persisted_messages());
            for rs in rd.take_read_states() {
                let id = u64::from_le_bytes(rs.request_ctx[..8].try_into().expect("8 bytes"));
                if let Some(key) = self.confirming.remove(&id) {
                    self.ready_reads.push((rs.index, RequestId(id), key));
                }
            }
            let mut light = self.raw.advance(rd);
            if let Some(commit) = light.commit_index() {
                self.raw
                    .mut_store()
                    .wl()
                    .mut_hard_state()
                    .set_commit(commit);
            }
            Self::send_all(ctx, light.take_messages());
            self.apply(ctx, light.take_committed_entries());
            self.raw.advance_apply();
            redraw_timeout(self, ctx);
        }
        self.serve_reads(ctx);
    }
}

impl<P: ReadPath> Node for RaftKv<P> {
    type Message = Msg;
    type Request = KvOp;
    type Response = KvOut;
    type Durable = Disk;

    fn start(ctx: &mut Context<'_, Self>, disk: Disk) -> Self {
        let voters: Vec<u64> = (1..=ctx.nodes() as u64).collect();
        let store = MemStorage::new_with_conf_state(ConfState::from((voters, vec![])));
        if disk.hard_state != HardState::default() || !disk.entries.is_empty() {
            let mut core = store.wl();
            core.append(&disk.entries)
                .expect("the kept log starts at index 1");
            core.set_hardstate(disk.hard_state);
        }
        let config = Config {
            id: u64::from(ctx.id()) + 1,
            election_tick: ELECTION_TICKS,
            heartbeat_tick: HEARTBEAT_TICKS,
            min_election_tick: ELECTION_TICKS,
            max_election_tick: 2 * ELECTION_TICKS,
            // A partitioned node does not disrupt the cluster when it comes back, and a
            // leader cut off from a majority steps down.
            pre_vote: true,
            check_quorum: true,
            read_only_option: P::OPTION,
            ..Config::default()
        };
        let logger = slog::Logger::root(slog::Discard, slog::o!());
        let raw = RawNode::new(&config, store, &logger).expect("a valid raft config");
        let mut node = RaftKv {
            raw,
            kv: Kv::default(),
            last_tick: ctx.now(),
            wake: None,
            role: None,
            hashes: Vec::new(),
            pending: BTreeSet::new(),
            confirming: BTreeMap::new(),
            ready_reads: Vec::new(),
            _path: PhantomData,
        };
        // Applies what the kept log has committed, so the map is back before any request.
        node.drive(ctx);
        node.schedule(ctx);
        node
    }

    fn on_request(&mut self, ctx: &mut Context<'_, Self>, request: RequestId, op: KvOp) {
        self.catch_up(ctx);
        match (op, P::PATH) {
            // The planted bug: any node answers from its own map, which may lag the leader's.
            (KvOp::Get { key }, Reads::Local) => {
                ctx.reply(request, KvOut::Value(self.kv.map.get(&key).copied()));
            }
            (KvOp::Get { key }, Reads::ReadIndex) => self.read_index(ctx, request, key),
            (op, _) => self.propose(ctx, request, op),
        }
        self.drive(ctx);
        self.schedule(ctx);
    }

    fn on_message(&mut self, ctx: &mut Context<'_, Self>, _from: NodeId, message: Msg) {
        self.catch_up(ctx);
        // Errors are messages raft ignores (from a peer it does not know): nothing to do.
        let _ = self.raw.step(message.0);
        self.drive(ctx);
        self.schedule(ctx);
    }

    fn on_timer(&mut self, ctx: &mut Context<'_, Self>, timer: TimerId) {
        if self.wake.is_some_and(|(t, _)| t == timer) {
            self.wake = None;
            self.catch_up(ctx);
            self.schedule(ctx);
        }
    }

    fn durable(&self) -> Disk {
        let store = self.raw.store();
        let last = store.last_index().expect("memory storage");
        // MemStorage indexes its first entry even for an empty range, so ask only when there
        // is one.
        let entries = if last == 0 {
            Vec::new()
        } else {
            store
                .entries(1, last + 1, None, GetEntriesContext::empty(false))
                .expect("the log is never compacted")
        };
        Disk {
            hard_state: store.rl().hard_state().clone(),
            entries,
        }
    }

    fn cluster_invariant(nodes: &[Option<&Self>]) -> Result<(), String> {
        crate::checks::invariant(nodes)
    }

    fn converged(nodes: &[&Self]) -> Result<(), String> {
        crate::checks::converged(nodes)
    }
}

/// Ticking: raft sees a tick every [`TICK_MS`] of node time, as under a periodic timer, but the
/// node wakes only when a tick may do something. Before any input (a message, a request, its
/// wake-up timer) it first gives raft every tick whose time has come; then it sets its timer for
/// the first tick that may act if no input comes: a leader's next heartbeat, or a follower's or
/// candidate's election timeout. A timer set too late is moved earlier; one set too early (a
/// heartbeat reset the follower's election clock since) fires, ticks, and sets the next. Raft
/// therefore gets the same ticks at the same node times, relative to every message, as with a
/// timer every 10 ms, while a follower wakes about once per election timeout instead of ten
/// times: timers were a third of the simulator's events.
impl<P: ReadPath> RaftKv<P> {
    /// Gives raft every tick whose node time has come. A clock stepped back waits for the time it
    /// had reached; one stepped forward ticks all the time it skipped at once.
    fn catch_up(&mut self, ctx: &mut Context<'_, Self>) {
        let now = ctx.now();
        while now >= self.last_tick + TICK_MS {
            self.last_tick += TICK_MS;
            self.raw.tick();
            self.drive(ctx);
        }
    }

    /// Sets the wake-up timer for the first tick that may act.
    fn schedule(&mut self, ctx: &mut Context<'_, Self>) {
        let raft = &self.raw.raft;
        let ticks = if self.is_leader() {
            raft.heartbeat_timeout()
                .saturating_sub(raft.heartbeat_elapsed())
        } else {
            raft.randomized_election_timeout()
                .saturating_sub(raft.election_elapsed)
        }
        .max(1) as u64;
        let due = self.last_tick + ticks * TICK_MS;
        if self.wake.is_some_and(|(_, at)| at <= due) {
            return;
        }
        if let Some((old, _)) = self.wake.take() {
            ctx.cancel_timer(old);
        }
        let after = due.saturating_sub(ctx.now()).max(1);
        self.wake = Some((ctx.set_timer(after), ctx.now() + after));
    }
}

impl<P: ReadPath> RaftKv<P> {
    /// Whether this node's applied log and `other`'s agree up to the shorter of the two.
    pub fn agrees_with(&self, other: &Self) -> bool {
        let upto = self.applied().min(other.applied());
        self.prefix_hash(upto) == other.prefix_hash(upto)
    }
}
