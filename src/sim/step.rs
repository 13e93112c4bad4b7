//! The steps of a simulated program: client requests, the network and the clock moving on,
//! and faults. Faults are steps like any other, so the shrinker removes those that do not
//! matter; a step that no longer applies after shrinking (a heal with no partition, a restart
//! of a node that is up) does nothing rather than being refused.

use super::node::NodeId;
use serde::{Deserialize, Serialize};

/// One step of a simulated program over the service operations `Op`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum SimStep<Op> {
    /// Client `client` (a session) sends `op` to node `node`. A client has one request in
    /// flight at a time: a request from a client still waiting is sent once the earlier one is
    /// answered, rejected or timed out.
    Request {
        /// The client session.
        client: u8,
        /// The node it sends to.
        node: NodeId,
        /// The service operation.
        op: Op,
    },
    /// Delivers one message in flight now, ahead of its time: the `pick`-th of those in flight
    /// (modulo their count), so messages arrive out of order. Nothing if none is in flight.
    Deliver {
        /// Which message.
        pick: u8,
    },
    /// Moves the simulation's time on by `ms`: messages arrive and timers fire as their times
    /// come, in time order.
    Advance {
        /// How far, in milliseconds.
        ms: u16,
    },
    /// Cuts the links between the nodes in `side` (a bit per node) and the others; with
    /// `one_way`, only those from `side` to the others. Adds to any earlier cut.
    Partition {
        /// The nodes on one side, a bit per node id.
        side: u16,
        /// Whether only messages leaving `side` are cut.
        one_way: bool,
    },
    /// Restores every link.
    Heal,
    /// Loses one message in flight (the `pick`-th, modulo their count).
    Drop {
        /// Which message.
        pick: u8,
    },
    /// Sends one message in flight (the `pick`-th) a second time.
    Duplicate {
        /// Which message.
        pick: u8,
    },
    /// Holds one message in flight (the `pick`-th) back by `ms` more.
    Delay {
        /// Which message.
        pick: u8,
        /// How much later, in milliseconds.
        ms: u16,
    },
    /// Stops node `node`: everything but its durable state is lost, and messages to it are
    /// dropped until it restarts.
    Crash {
        /// The node.
        node: NodeId,
    },
    /// Boots a crashed node again from its durable state.
    Restart {
        /// The node.
        node: NodeId,
    },
    /// Sets node `node`'s clock `ms` ahead of the simulation's (behind if negative).
    ClockSkew {
        /// The node.
        node: NodeId,
        /// The skew, in milliseconds.
        ms: i16,
    },
    /// Makes node `node`'s clock run fast (slow if negative) from now on: `1000 + rate` ms of
    /// its time per 1,000 ms of the simulation's, without stepping it. Rates are bounded to
    /// `-900..=1000` (a clock never stops, and runs at most twice as fast); 0 runs true.
    ClockDrift {
        /// The node.
        node: NodeId,
        /// The rate, in parts per thousand.
        rate: i16,
    },
}
