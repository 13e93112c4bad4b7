//! The simulated network: messages in flight with the simulation time they arrive at, and the
//! links a partition has cut.
//!
//! Messages are kept in arrival order (time, then the order they were sent in), which is both the
//! order `Advance` delivers them in and the order `Deliver`, `Drop`, `Duplicate` and `Delay`
//! count them in for their `pick`. Nothing is promised per link: two messages on one link arrive
//! in the order of their drawn delays, so they reorder.
//!
//! A partition is decided at *arrival*: a message whose link is cut when it would arrive is lost,
//! whenever it was sent. So a partition also catches the messages already on the wire, as a
//! real cut does, and a message sent before a heal arrives only if the link is whole by then.

use super::node::NodeId;
use std::collections::BTreeMap;

/// Where a message sits in the network's order: its arrival time, then its sequence number.
pub(crate) type Slot = (u64, u64);

/// A message on the wire.
#[derive(Clone, Debug)]
pub(crate) struct Flight<M> {
    pub(crate) from: NodeId,
    pub(crate) to: NodeId,
    pub(crate) message: M,
}

pub(crate) struct Network<M> {
    nodes: usize,
    queue: BTreeMap<Slot, Flight<M>>,
    next_seq: u64,
    /// `cut[from * nodes + to]`: messages from `from` to `to` are lost.
    cut: Vec<bool>,
}

impl<M: Clone> Network<M> {
    pub(crate) fn new(nodes: usize) -> Self {
        Network {
            nodes,
            queue: BTreeMap::new(),
            next_seq: 0,
            cut: vec![false; nodes * nodes],
        }
    }

    /// Puts a message on the wire, to arrive at simulation time `at`.
    pub(crate) fn send(&mut self, at: u64, flight: Flight<M>) -> Slot {
        let slot = (at, self.next_seq);
        self.next_seq += 1;
        self.queue.insert(slot, flight);
        slot
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }

    /// The message that arrives first.
    pub(crate) fn first(&self) -> Option<Slot> {
        self.queue.keys().next().copied()
    }

    /// The `pick`-th message in arrival order, modulo how many are in flight.
    pub(crate) fn nth(&self, pick: u8) -> Option<Slot> {
        if self.queue.is_empty() {
            return None;
        }
        let index = usize::from(pick) % self.queue.len();
        self.queue.keys().nth(index).copied()
    }

    pub(crate) fn take(&mut self, slot: Slot) -> Option<Flight<M>> {
        self.queue.remove(&slot)
    }

    pub(crate) fn get(&self, slot: Slot) -> Option<&Flight<M>> {
        self.queue.get(&slot)
    }

    /// Loses every message on its way to `node` (it crashed); returns how many.
    pub(crate) fn drop_to(&mut self, node: NodeId) -> usize {
        let before = self.queue.len();
        self.queue.retain(|_, f| f.to != node);
        before - self.queue.len()
    }

    /// The messages in flight in arrival order: (arrival time, from, to, message).
    pub(crate) fn iter(&self) -> impl Iterator<Item = (u64, &Flight<M>)> {
        self.queue.iter().map(|(&(at, _), f)| (at, f))
    }

    pub(crate) fn is_cut(&self, from: NodeId, to: NodeId) -> bool {
        self.cut[usize::from(from) * self.nodes + usize::from(to)]
    }

    /// Cuts the links from the nodes in `side` to the others, and back unless `one_way`. Returns
    /// whether any link was newly cut (a side holding no node or every node cuts nothing).
    pub(crate) fn partition(&mut self, side: u16, one_way: bool) -> bool {
        let inside = |n: usize| n < 16 && side & (1 << n) != 0;
        let mut changed = false;
        for a in 0..self.nodes {
            for b in 0..self.nodes {
                let cut = (inside(a) && !inside(b)) || (!one_way && !inside(a) && inside(b));
                if cut && !self.cut[a * self.nodes + b] {
                    self.cut[a * self.nodes + b] = true;
                    changed = true;
                }
            }
        }
        changed
    }

    /// Restores every link; returns whether any was cut.
    pub(crate) fn heal(&mut self) -> bool {
        let any = self.cut.iter().any(|&c| c);
        self.cut.iter_mut().for_each(|c| *c = false);
        any
    }
}
