//! The node a simulated cluster is made of: sans-IO, so the simulator owns every input (a
//! client's request, a message, a timer) and every output (a message sent, a reply, a timer
//! set), and decides their order from the seed.

use std::fmt::Debug;

/// A node's number in its cluster: `0..nodes`.
pub type NodeId = u8;

/// A client request's identity in a run; the reply names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RequestId(pub u64);

/// A timer a node set; [`Node::on_timer`] names it when it fires.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TimerId(pub u64);

/// One node of a simulated distributed system.
///
/// The simulator calls the handlers one at a time, in an order decided by the program and its
/// seed; a handler acts only through its [`Context`]: it sends messages, answers or rejects
/// client requests, sets timers, reads its own clock and draws randomness. Nothing else may reach
/// the outside world (no wall clock, no thread-local randomness, no `HashMap` iteration order that
/// changes between runs), or the same seed stops giving the same run.
///
/// A crash loses everything but [`Durable`](Node::Durable): the simulator keeps what
/// [`durable`](Node::durable) returned after the node's last handler, and a restart calls
/// [`start`](Node::start) with it.
pub trait Node: Sized + 'static {
    /// A message between nodes.
    type Message: Clone + Debug + 'static;
    /// A client's request: the service model's operation.
    type Request: Clone + Debug + 'static;
    /// A node's answer to a request: the service model's output.
    type Response: Clone + Debug + 'static;
    /// What survives a crash (what the node keeps on disk).
    type Durable: Clone + Debug + Default + 'static;

    /// Boots the node `ctx.id()`: first with `Durable::default()`, after a crash with what it
    /// kept.
    fn start(ctx: &mut Context<'_, Self>, durable: Self::Durable) -> Self;

    /// A client's request arrived. The node answers it now or later with [`Context::reply`], or
    /// refuses it with [`Context::reject`] (it did not and will not take effect); a request
    /// never answered becomes an operation whose outcome is unknown.
    fn on_request(&mut self, ctx: &mut Context<'_, Self>, request: RequestId, op: Self::Request);

    /// A message from `from` arrived.
    fn on_message(&mut self, ctx: &mut Context<'_, Self>, from: NodeId, message: Self::Message);

    /// A timer the node set has fired.
    fn on_timer(&mut self, ctx: &mut Context<'_, Self>, timer: TimerId);

    /// What a crash now would keep.
    fn durable(&self) -> Self::Durable;

    /// A property of the whole cluster (at most one leader per term, no replica ahead of the
    /// log it copies), checked after every step; `nodes[i]` is node `i`, `None` while it is
    /// crashed. An `Err` names what broke; the run reports it with the step it broke at.
    fn cluster_invariant(nodes: &[Option<&Self>]) -> Result<(), String> {
        let _ = nodes;
        Ok(())
    }

    /// Whether the cluster agrees after the liveness tail (every fault healed, every node
    /// restarted, the cluster quiet or run to the tail's bound): every replica holding the same
    /// log, the same value, the same commit index. `nodes[i]` is node `i`, all of them up. An
    /// `Err` says where they differ; the run fails with "did not converge after the liveness
    /// tail", blamed on the program's last step.
    fn converged(nodes: &[&Self]) -> Result<(), String> {
        let _ = nodes;
        Ok(())
    }
}

/// What a handler did, in order, for the simulator to carry out.
#[derive(Debug)]
pub(crate) enum Effect<N: Node> {
    Send {
        to: NodeId,
        message: N::Message,
    },
    Reply {
        request: RequestId,
        response: N::Response,
    },
    Reject {
        request: RequestId,
    },
    SetTimer {
        timer: TimerId,
        after_ms: u64,
    },
    CancelTimer {
        timer: TimerId,
    },
}

/// A handler's view of the simulation: its node, its clock, its randomness, and the effects it
/// asks for.
pub struct Context<'a, N: Node> {
    pub(crate) id: NodeId,
    pub(crate) nodes: usize,
    /// The node's own clock, in milliseconds (skewed from the simulation's).
    pub(crate) now_ms: u64,
    /// The node's randomness for this handler: a generator seeded from the case seed, the step
    /// and the node, so deleting a step changes no other step's draws.
    pub(crate) rng: &'a mut dyn FnMut() -> u64,
    /// The next timer id to hand out (shared by the cluster).
    pub(crate) next_timer: &'a mut u64,
    pub(crate) effects: &'a mut Vec<Effect<N>>,
}

impl<N: Node> Context<'_, N> {
    /// This node's number.
    pub fn id(&self) -> NodeId {
        self.id
    }

    /// How many nodes the cluster has (their ids are `0..nodes`).
    pub fn nodes(&self) -> usize {
        self.nodes
    }

    /// The ids of every other node.
    pub fn peers(&self) -> impl Iterator<Item = NodeId> + use<N> {
        let me = self.id;
        (0..self.nodes as NodeId).filter(move |&n| n != me)
    }

    /// This node's clock, in milliseconds: the simulation's time plus the node's skew.
    pub fn now(&self) -> u64 {
        self.now_ms
    }

    /// A random number from the run's seed (the only randomness a node may use).
    pub fn random(&mut self) -> u64 {
        (self.rng)()
    }

    /// Sends `message` to node `to` over the simulated network (which may delay, drop,
    /// duplicate or reorder it, or cut the link).
    pub fn send(&mut self, to: NodeId, message: N::Message) {
        self.effects.push(Effect::Send { to, message });
    }

    /// Answers a client's request.
    pub fn reply(&mut self, request: RequestId, response: N::Response) {
        self.effects.push(Effect::Reply { request, response });
    }

    /// Refuses a client's request: it did not take effect and never will (not the leader,
    /// overloaded). The client's history records no operation for it.
    pub fn reject(&mut self, request: RequestId) {
        self.effects.push(Effect::Reject { request });
    }

    /// Sets a timer that fires after `after_ms` of this node's time.
    pub fn set_timer(&mut self, after_ms: u64) -> TimerId {
        let timer = TimerId(*self.next_timer);
        *self.next_timer += 1;
        self.effects.push(Effect::SetTimer { timer, after_ms });
        timer
    }

    /// Cancels a timer that has not fired.
    pub fn cancel_timer(&mut self, timer: TimerId) {
        self.effects.push(Effect::CancelTimer { timer });
    }
}
