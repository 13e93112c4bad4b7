//! The simulator: a cluster of nodes, the network between them, their clocks and the clients,
//! carried through a program of [`SimStep`]s one step at a time, deterministically.
//!
//! Everything random (a message's delay, a node's [`Context::random`]) is drawn from the case
//! seed, the index of the step being carried out and a counter of draws within that step, never
//! from one stream for the whole run: how many draws an earlier step made cannot change a later
//! step's. Handlers run one at a time; a handler's effects are carried out in the order it asked
//! for them, and requests it frees a client to send go out after it returns.
//!
//! Clients reach nodes directly: a request is handed to its node in the step that sends it, and
//! an answer reaches the client at once. The network's faults act between nodes; a client's
//! request is lost only with its node (a crash) or by timing out.

pub use super::clients::HistoryChange;
use super::clients::{Clients, Ending, Queued};
use super::clock::Clocks;
use super::network::{Flight, Network, Slot};
use super::node::{Context, Effect, Node, NodeId, RequestId, TimerId};
pub use super::settings::{InvariantBroken, Settings, Settled, SimStats};
use super::step::SimStep;
use super::trace::Trace;
use crate::hash::mix;
use crate::history::History;
use std::collections::VecDeque;

enum Next {
    Message(Slot),
    Timer(NodeId, TimerId),
    Timeout(RequestId),
}

/// The step index of the boot, which comes before every step.
const BOOT: u64 = u64::MAX;

/// A simulated cluster of `N` nodes.
pub struct Cluster<N: Node> {
    nodes: Vec<Option<N>>,
    /// What each crashed node kept; `Durable::default()` for a node that is up.
    durable: Vec<N::Durable>,
    settings: Settings,
    seed: u64,
    now: u64,
    net: Network<N::Message>,
    clocks: Clocks,
    clients: Clients<N::Request, N::Response>,
    /// Sessions that may have become free to send their next request.
    ready: VecDeque<u8>,
    next_timer: u64,
    step: u64,
    draws: u64,
    effects: Vec<Effect<N>>,
    trace: Trace,
    stats: SimStats,
    broken: Option<InvariantBroken>,
    /// Set when events kept coming at one instant without end (see [`MAX_EVENTS_AT_ONCE`]).
    livelock: Option<String>,
}

/// Events handled at one simulated instant before the run is called a livelock: nodes answering
/// each other through messages of no delay, or timers of 0 ms that set themselves again, never
/// let time move on, and the simulation would spin where a real system would hang.
const MAX_EVENTS_AT_ONCE: u64 = 100_000;

/// The `counter`-th random number of step `step` of the case with seed `seed`.
fn draw(seed: u64, step: u64, counter: u64) -> u64 {
    mix(mix(seed ^ mix(step)) ^ counter)
}

impl<N: Node> Cluster<N> {
    /// Boots `nodes` nodes, each from `Durable::default()`.
    ///
    /// # Panics
    /// If `nodes` is 0 or more than 256 (node ids are `u8`).
    pub fn new(nodes: usize, seed: u64, settings: Settings) -> Self {
        assert!(
            (1..=256).contains(&nodes),
            "stateprop: a simulated cluster has 1 to 256 nodes, not {nodes}"
        );
        let mut cluster = Cluster {
            nodes: (0..nodes).map(|_| None).collect(),
            durable: (0..nodes).map(|_| N::Durable::default()).collect(),
            trace: Trace::new(settings.keep_trace),
            settings,
            seed,
            now: 0,
            net: Network::new(nodes),
            clocks: Clocks::new(nodes),
            clients: Clients::new(),
            ready: VecDeque::new(),
            next_timer: 0,
            step: BOOT,
            draws: 0,
            effects: Vec::new(),
            stats: SimStats::default(),
            broken: None,
            livelock: None,
        };
        for id in 0..nodes {
            cluster.boot(id as NodeId);
        }
        cluster.drain_ready();
        cluster
    }

    /// Carries out step `step_index` of the program, then checks the cluster invariant.
    pub fn apply(
        &mut self,
        step_index: u64,
        step: &SimStep<N::Request>,
    ) -> Result<(), InvariantBroken> {
        self.step = step_index;
        self.draws = 0;
        self.stats.steps += 1;
        self.trace
            .event(self.now, format_args!("step {step_index}: {step:?}"));
        let n = self.nodes.len();
        match *step {
            SimStep::Request {
                client,
                node,
                ref op,
            } => {
                let queued = Queued {
                    step: step_index,
                    node,
                    op: op.clone(),
                };
                if self.clients.submit(client, queued) {
                    self.ready.push_back(client);
                } else {
                    self.trace.event(
                        self.now,
                        format_args!("  queued: client {client} waits for its earlier request"),
                    );
                }
            }
            SimStep::Deliver { pick } => match self.net.nth(pick) {
                Some(slot) => self.deliver(slot),
                None => self.noop("nothing in flight"),
            },
            SimStep::Advance { ms } => {
                let target = self.now + u64::from(ms);
                let _ = self.run_until(target, false);
                self.now = target;
            }
            SimStep::Partition { side, one_way } => {
                if !self.net.partition(side, one_way) {
                    self.noop("no link newly cut");
                }
            }
            SimStep::Heal => {
                if !self.net.heal() {
                    self.noop("no link is cut");
                }
            }
            SimStep::Drop { pick } => match self.net.nth(pick) {
                Some(slot) => {
                    self.net.take(slot);
                    self.stats.lost += 1;
                    self.trace
                        .event(self.now, format_args!("  #{} dropped", slot.1));
                }
                None => self.noop("nothing in flight"),
            },
            SimStep::Duplicate { pick } => match self.net.nth(pick) {
                Some(slot) => {
                    let copy = self.net.get(slot).expect("picked").clone();
                    let at = self.now + self.draw_delay();
                    let new = self.net.send(at, copy);
                    self.trace.event(
                        self.now,
                        format_args!("  #{} duplicated as #{}, arrives at {at}ms", slot.1, new.1),
                    );
                }
                None => self.noop("nothing in flight"),
            },
            SimStep::Delay { pick, ms } => match self.net.nth(pick) {
                Some(slot) => {
                    let flight = self.net.take(slot).expect("picked");
                    let at = slot.0 + u64::from(ms);
                    let new = self.net.send(at, flight);
                    self.trace.event(
                        self.now,
                        format_args!("  #{} delayed as #{}, arrives at {at}ms", slot.1, new.1),
                    );
                }
                None => self.noop("nothing in flight"),
            },
            SimStep::Crash { node } => {
                if usize::from(node) < n && self.nodes[usize::from(node)].is_some() {
                    self.crash(node);
                } else {
                    self.noop("the node is not up");
                }
            }
            SimStep::Restart { node } => {
                if usize::from(node) < n && self.nodes[usize::from(node)].is_none() {
                    self.boot(node);
                } else {
                    self.noop("the node is not down");
                }
            }
            SimStep::ClockSkew { node, ms } => {
                if usize::from(node) >= n || !self.clocks.set_skew(node, i64::from(ms), self.now) {
                    self.noop("no such node, or its skew is already that");
                }
            }
            SimStep::ClockDrift { node, rate } => {
                if usize::from(node) >= n || !self.clocks.set_drift(node, i64::from(rate), self.now)
                {
                    self.noop("no such node, or its clock already runs at that rate");
                }
            }
        }
        self.drain_ready();
        self.check_invariant(step_index)
    }

    /// The liveness tail, run as step `step_index` after the program: heals every link,
    /// restarts every crashed node, and runs time on until the cluster is quiet (nothing in
    /// flight and no request waiting for [`Settings::quiet_ms`]), or for at most `bound_ms`.
    /// Timers that fire without sending (an idle heartbeat check) do not keep it running; a
    /// heartbeat that sends a message does, up to the bound. Clock skews stay as they are: they
    /// stop no progress, and undoing them would step clocks. With [`Settings::never_quiet`]
    /// the tail does not wait for quiet: it runs the whole `bound_ms` (the returned `quiet` is
    /// then `false`).
    pub fn settle(&mut self, step_index: u64, bound_ms: u64) -> Result<Settled, InvariantBroken> {
        self.step = step_index;
        self.draws = 0;
        let wait_quiet = self.settings.tail_quiet;
        if wait_quiet {
            self.trace.event(
                self.now,
                format_args!("step {step_index}: liveness tail (heal, restart, run until quiet, at most {bound_ms}ms)"),
            );
        } else {
            self.trace.event(
                self.now,
                format_args!("step {step_index}: liveness tail (heal, restart, run {bound_ms}ms)"),
            );
        }
        if self.net.heal() {
            self.trace.event(self.now, format_args!("  healed"));
        }
        for id in 0..self.nodes.len() {
            if self.nodes[id].is_none() {
                self.boot(id as NodeId);
            }
        }
        self.drain_ready();
        let start = self.now;
        let target = start.saturating_add(bound_ms);
        let quiet = self.run_until(target, wait_quiet);
        if !quiet {
            self.now = target;
        }
        self.check_invariant(step_index)?;
        Ok(Settled {
            quiet,
            ran_ms: self.now - start,
        })
    }

    /// Keeps the changes to the client history from now on, for
    /// [`take_history_changes`](Self::take_history_changes): a judge following the history as it
    /// grows reads only what changed after each step.
    pub fn watch_history(&mut self) {
        self.clients.watch();
    }

    /// The changes to the client history since the last call (none unless
    /// [`watch_history`](Self::watch_history)), appended to `into` in the order they happened.
    pub fn take_history_changes(&mut self, into: &mut Vec<HistoryChange>) {
        self.clients.take_changes(into);
    }

    /// Request `i` of the history changes: its operation so far, the key of the step that sent
    /// it, and whether it was rejected (rejected requests are no operations of
    /// [`history`](Self::history)).
    pub fn request(
        &self,
        i: usize,
    ) -> (
        &crate::history::Operation<N::Request, N::Response>,
        u64,
        bool,
    ) {
        self.clients.record(i)
    }

    /// The client history so far; requests still in flight are operations of unknown outcome.
    pub fn history(&self) -> History<N::Request, N::Response> {
        self.clients.history()
    }

    /// Node `id`, or `None` while it is crashed (or if there is no such node).
    pub fn node(&self, id: NodeId) -> Option<&N> {
        self.nodes.get(usize::from(id))?.as_ref()
    }

    /// Every node in id order, `None` for a crashed one.
    pub fn nodes(&self) -> Vec<Option<&N>> {
        self.nodes.iter().map(Option::as_ref).collect()
    }

    /// The trace's lines (empty unless [`Settings::keep_trace`]).
    pub fn trace(&self) -> &[String] {
        self.trace.lines()
    }

    /// The trace's hash: equal for equal traces, in any process.
    pub fn trace_hash(&self) -> u64 {
        self.trace.hash()
    }

    /// Simulation time, in milliseconds.
    pub fn now_ms(&self) -> u64 {
        self.now
    }

    /// Node `id`'s clock (simulation time through its skew and drift).
    pub fn node_time(&self, id: NodeId) -> u64 {
        self.clocks.node_time(id, self.now)
    }

    /// What the run did so far.
    pub fn stats(&self) -> SimStats {
        self.stats
    }

    /// The first invariant breach, if any.
    pub fn broken(&self) -> Option<&InvariantBroken> {
        self.broken.as_ref()
    }

    /// The messages in flight, in arrival order: (arrival time, from, to, message).
    pub fn in_flight(&self) -> impl Iterator<Item = (u64, NodeId, NodeId, &N::Message)> {
        self.net
            .iter()
            .map(|(at, f)| (at, f.from, f.to, &f.message))
    }

    /// Whether nothing is in flight and no request is waiting.
    pub fn quiet(&self) -> bool {
        self.net.is_empty() && self.clients.idle()
    }

    fn noop(&mut self, why: &str) {
        self.trace.event(self.now, format_args!("  no-op: {why}"));
    }

    fn draw(&mut self) -> u64 {
        self.draws += 1;
        draw(self.seed, self.step, self.draws)
    }

    fn draw_delay(&mut self) -> u64 {
        let span = self.settings.max_delay_ms - self.settings.min_delay_ms;
        let extra = if span == 0 {
            0
        } else {
            self.draw() % (span + 1)
        };
        self.settings.min_delay_ms + extra
    }

    /// Starts node `id` from what it kept (the default before its first crash).
    fn boot(&mut self, id: NodeId) {
        let durable = std::mem::take(&mut self.durable[usize::from(id)]);
        self.trace
            .event(self.now, format_args!("n{id} starts from {durable:?}"));
        let mut effects = std::mem::take(&mut self.effects);
        let node = {
            let (seed, step, draws) = (self.seed, self.step, &mut self.draws);
            let mut rng = || {
                *draws += 1;
                draw(seed, step, *draws)
            };
            let mut ctx = Context {
                id,
                nodes: self.nodes.len(),
                now_ms: self.clocks.node_time(id, self.now),
                rng: &mut rng,
                next_timer: &mut self.next_timer,
                effects: &mut effects,
            };
            N::start(&mut ctx, durable)
        };
        self.nodes[usize::from(id)] = Some(node);
        self.stats.handlers += 1;
        self.carry_out(id, &mut effects);
        self.effects = effects;
    }

    /// Runs one handler of node `id` (which is up) and carries out its effects.
    fn handle(&mut self, id: NodeId, f: impl FnOnce(&mut N, &mut Context<'_, N>)) {
        let mut effects = std::mem::take(&mut self.effects);
        let count = self.nodes.len();
        {
            let Some(node) = self.nodes[usize::from(id)].as_mut() else {
                self.effects = effects;
                return;
            };
            let (seed, step, draws) = (self.seed, self.step, &mut self.draws);
            let mut rng = || {
                *draws += 1;
                draw(seed, step, *draws)
            };
            let mut ctx = Context {
                id,
                nodes: count,
                now_ms: self.clocks.node_time(id, self.now),
                rng: &mut rng,
                next_timer: &mut self.next_timer,
                effects: &mut effects,
            };
            f(node, &mut ctx);
        }
        self.stats.handlers += 1;
        self.carry_out(id, &mut effects);
        self.effects = effects;
    }

    fn carry_out(&mut self, from: NodeId, effects: &mut Vec<Effect<N>>) {
        for effect in effects.drain(..) {
            match effect {
                Effect::Send { to, message } => self.send(from, to, message),
                Effect::Reply { request, response } => {
                    if let Some((client, _)) = self.clients.describe(request) {
                        self.trace.event(
                            self.now,
                            format_args!(
                                "n{from} answers r{} (client {client}): {response:?}",
                                request.0
                            ),
                        );
                        let session = self.clients.end(request, Ending::Answered, Some(response));
                        self.ready.extend(session);
                    } else {
                        self.trace.event(
                            self.now,
                            format_args!(
                                "n{from} answers r{}, which has ended: ignored",
                                request.0
                            ),
                        );
                    }
                }
                Effect::Reject { request } => {
                    if let Some(session) = self.clients.end(request, Ending::Rejected, None) {
                        self.trace
                            .event(self.now, format_args!("n{from} rejects r{}", request.0));
                        self.ready.push_back(session);
                    }
                }
                Effect::SetTimer { timer, after_ms } => {
                    self.clocks.set(from, self.now, timer, after_ms);
                    self.trace.event(
                        self.now,
                        format_args!("n{from} sets t{} for {after_ms}ms", timer.0),
                    );
                }
                Effect::CancelTimer { timer } => {
                    if self.clocks.cancel(from, timer) {
                        self.trace
                            .event(self.now, format_args!("n{from} cancels t{}", timer.0));
                    }
                }
            }
        }
    }

    fn send(&mut self, from: NodeId, to: NodeId, message: N::Message) {
        self.stats.sent += 1;
        if usize::from(to) >= self.nodes.len() || self.nodes[usize::from(to)].is_none() {
            self.stats.lost += 1;
            self.trace.event(
                self.now,
                format_args!("n{from} -> n{to} {message:?}: lost, n{to} is not up"),
            );
            return;
        }
        let at = self.now + self.draw_delay();
        let slot = self.net.send(at, Flight { from, to, message });
        let message = &self.net.get(slot).expect("just sent").message;
        self.trace.event(
            self.now,
            format_args!(
                "n{from} -> n{to} #{} {message:?}, arrives at {at}ms",
                slot.1
            ),
        );
    }

    /// Delivers a message now: lost if its link is cut (partitions act at arrival).
    fn deliver(&mut self, slot: Slot) {
        let Some(Flight { from, to, message }) = self.net.take(slot) else {
            return;
        };
        let cut = self.net.is_cut(from, to);
        if cut || self.nodes[usize::from(to)].is_none() {
            self.stats.lost += 1;
            let why = if cut {
                "the link is cut"
            } else {
                "its node is down"
            };
            self.trace.event(
                self.now,
                format_args!("n{from} -> n{to} #{}: lost, {why}", slot.1),
            );
            return;
        }
        self.stats.delivered += 1;
        self.trace
            .event(self.now, format_args!("n{to} <- n{from} #{}", slot.1));
        self.handle(to, |node, ctx| node.on_message(ctx, from, message));
    }

    fn crash(&mut self, id: NodeId) {
        let node = self.nodes[usize::from(id)]
            .take()
            .expect("crashing a node that is up");
        let durable = node.durable();
        drop(node);
        self.clocks.clear(id);
        let lost = self.net.drop_to(id);
        self.stats.lost += lost as u64;
        self.trace.event(
            self.now,
            format_args!("n{id} crashes, keeping {durable:?}; {lost} messages to it lost"),
        );
        self.durable[usize::from(id)] = durable;
        for request in self.clients.pending_at(id) {
            self.trace.event(
                self.now,
                format_args!("  r{}: outcome unknown, its node crashed", request.0),
            );
            let session = self.clients.end(request, Ending::Unknown, None);
            self.ready.extend(session);
        }
    }

    /// Sends the requests of free sessions, running their nodes' `on_request`; a request to a
    /// node that is down (or does not exist) is refused, like a refused connection: no operation.
    fn drain_ready(&mut self) {
        while let Some(session) = self.ready.pop_front() {
            while let Some(queued) = self.clients.next_queued(session) {
                let node = queued.node;
                if usize::from(node) >= self.nodes.len() || self.nodes[usize::from(node)].is_none()
                {
                    self.trace.event(
                        self.now,
                        format_args!(
                            "client {session} -> n{node} {:?}: refused, n{node} is not up",
                            queued.op
                        ),
                    );
                    continue;
                }
                let deadline = self.now + self.settings.request_timeout_ms;
                let request = self.clients.invoke(session, &queued, deadline);
                self.trace.event(
                    self.now,
                    format_args!(
                        "client {session} -> n{node} r{}: {:?}",
                        request.0, queued.op
                    ),
                );
                let op = queued.op;
                self.handle(node, |n, ctx| n.on_request(ctx, request, op));
            }
        }
    }

    /// The next thing to happen in time: at equal times a message first, then a timer, then a
    /// timeout (so an answer arriving at the deadline still counts).
    fn next_event(&self) -> Option<(u64, Next)> {
        let mut best = self.net.first().map(|slot| (slot.0, Next::Message(slot)));
        if let Some((at, node, timer)) = self.clocks.next(self.now) {
            if best.as_ref().is_none_or(|(b, _)| at < *b) {
                best = Some((at, Next::Timer(node, timer)));
            }
        }
        if let Some((at, request)) = self.clients.first_deadline() {
            if best.as_ref().is_none_or(|(b, _)| at < *b) {
                best = Some((at, Next::Timeout(request)));
            }
        }
        best
    }

    /// Handles events in time order up to `target`; if `until_quiet`, stops once the cluster
    /// has been quiet for `quiet_ms`, and returns whether it did.
    fn run_until(&mut self, target: u64, until_quiet: bool) -> bool {
        let window = self.settings.quiet_ms;
        let mut busy_at = self.now;
        let mut at_once = 0u64;
        loop {
            if self.livelock.is_some() {
                return false;
            }
            // Only the liveness tail asks; `quiet` walks the sessions, so `Advance` skips it.
            if until_quiet && !self.quiet() {
                busy_at = self.now;
            }
            let next = self.next_event();
            let quiet_until = busy_at.saturating_add(window);
            if until_quiet && self.quiet() && next.as_ref().is_none_or(|(at, _)| *at > quiet_until)
            {
                if quiet_until <= target {
                    self.now = self.now.max(quiet_until);
                    return true;
                }
                return false;
            }
            let Some((at, next)) = next else {
                return false;
            };
            if at > target {
                return false;
            }
            at_once = if at <= self.now { at_once + 1 } else { 0 };
            if at_once > MAX_EVENTS_AT_ONCE {
                let message = format!(
                    "livelock: more than {MAX_EVENTS_AT_ONCE} events at {}ms without simulated \
                     time moving on (messages of no delay, or timers of 0 ms, answering each \
                     other without end)",
                    self.now
                );
                self.trace.event(self.now, format_args!("  {message}"));
                self.livelock = Some(message);
                return false;
            }
            self.now = self.now.max(at);
            // Busy up to this event (a message was still in flight until now).
            if until_quiet && !self.quiet() {
                busy_at = self.now;
            }
            match next {
                Next::Message(slot) => self.deliver(slot),
                Next::Timer(node, timer) => {
                    self.clocks.fire(node, timer);
                    self.trace.event(
                        self.now,
                        format_args!(
                            "n{node} t{} fires at its {}ms",
                            timer.0,
                            self.clocks.node_time(node, self.now)
                        ),
                    );
                    self.handle(node, |n, ctx| n.on_timer(ctx, timer));
                }
                Next::Timeout(request) => {
                    self.trace.event(
                        self.now,
                        format_args!("  r{}: outcome unknown, timed out", request.0),
                    );
                    let session = self.clients.end(request, Ending::Unknown, None);
                    self.ready.extend(session);
                }
            }
            self.drain_ready();
        }
    }

    fn check_invariant(&mut self, step: u64) -> Result<(), InvariantBroken> {
        if let Some(message) = &self.livelock {
            let broken = InvariantBroken {
                step,
                message: message.clone(),
            };
            self.broken.get_or_insert_with(|| broken.clone());
            return Err(broken);
        }
        let view: Vec<Option<&N>> = self.nodes.iter().map(Option::as_ref).collect();
        let Err(message) = N::cluster_invariant(&view) else {
            return Ok(());
        };
        self.trace.event(
            self.now,
            format_args!("  cluster invariant broken: {message}"),
        );
        let broken = InvariantBroken { step, message };
        self.broken.get_or_insert_with(|| broken.clone());
        Err(broken)
    }
}
