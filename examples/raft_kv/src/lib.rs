//! A key-value store replicated with tikv's raft-rs, tested by stateprop's deterministic
//! simulation: every node in one process, raft's messages over a simulated network that delays,
//! drops, duplicates and partitions, nodes crashing and restarting from what they persisted, and
//! every client history checked for linearizability.
//!
//! [`RaftKv<P>`] is one node; `P` says how reads are served: [`ReadIndexReads`] and [`LogReads`]
//! are correct, [`FollowerReads`] is the planted bug (any node answers from its own, possibly
//! lagging, map), and [`LeaseReads`] a second one that clock skew exposes (a leader trusting its
//! lease). [`cluster`] and [`settings`] shape the simulated world the tests run.

mod checks;
mod model;
mod node;
mod path;
mod wire;

pub use model::{Kv, KvOp, KvOut, KEYS};
pub use node::{RaftKv, ELECTION_TICKS, HEARTBEAT_TICKS, TICK_MS};
pub use path::{
    FollowerReads, LeakyTimeouts, LeaseReads, LogReads, ReadIndexReads, ReadPath, Reads,
};
pub use wire::{Disk, Msg, Proposal};

use stateprop::sim::{Settings, Sim};

/// The simulated world: messages take 1 to 10 ms, a client waits 500 ms, and the liveness tail
/// runs 2 s (the nodes heartbeat, so it never goes quiet): time for a few elections after the
/// heal, and for every follower to learn the last commit.
pub fn settings() -> Settings {
    Settings::default()
        .request_timeout(500)
        .tail(2_000)
        .never_quiet()
}

/// A cluster of `nodes` nodes and `clients` client sessions over the store's model.
pub fn cluster(nodes: u8, clients: u8) -> Sim<Kv> {
    Sim::new(Kv::default(), nodes, clients).settings(settings())
}
