//! How a node serves a read: the correct ways and the planted bug, as marker types so both
//! run in one build and the pasted regression test names the variant it ran
//! (`RaftKv<FollowerReads>`).

use raft::ReadOnlyOption;

/// The ways a read can be served.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reads {
    /// The read is proposed as a log entry and answered when applied, like a write.
    Log,
    /// The leader confirms with a quorum that it still leads (raft's ReadIndex), then answers
    /// once its map has applied the commit index it had when the read arrived.
    ReadIndex,
    /// Any node answers at once from its own map: the planted bug, since a follower's map (or a
    /// deposed leader's) may lag the last acknowledged write.
    Local,
}

/// A read path, chosen by the node's type parameter.
pub trait ReadPath: 'static {
    /// How reads are served.
    const PATH: Reads;
    /// The raft option behind ReadIndex.
    const OPTION: ReadOnlyOption = ReadOnlyOption::Safe;
    /// Whether to let raft-rs draw election timeouts from `thread_rng()` (the leak the node
    /// normally closes): only for the test that shows the leak is caught.
    #[doc(hidden)]
    const RAFT_OWN_TIMEOUTS: bool = false;
}

/// Reads go through the log (correct).
pub struct LogReads;
/// Reads use raft's ReadIndex with a quorum check (correct).
pub struct ReadIndexReads;
/// Any node answers reads from its own map (the bug).
pub struct FollowerReads;
/// The leader answers reads from its map without asking a quorum, trusting its lease (raft's
/// `ReadOnlyOption::LeaseBased`): a bug when a leader that lost its majority still believes it
/// leads, as its lease is only as good as its clock and its check-quorum timing.
pub struct LeaseReads;
/// [`ReadIndexReads`], but raft-rs draws election timeouts from thread-local randomness: the
/// determinism leak the node closes, opened again so a test can see it caught.
#[doc(hidden)]
pub struct LeakyTimeouts;

impl ReadPath for LogReads {
    const PATH: Reads = Reads::Log;
}

impl ReadPath for ReadIndexReads {
    const PATH: Reads = Reads::ReadIndex;
}

impl ReadPath for FollowerReads {
    const PATH: Reads = Reads::Local;
}

impl ReadPath for LeaseReads {
    const PATH: Reads = Reads::ReadIndex;
    const OPTION: ReadOnlyOption = ReadOnlyOption::LeaseBased;
}

impl ReadPath for LeakyTimeouts {
    const PATH: Reads = Reads::ReadIndex;
    const RAFT_OWN_TIMEOUTS: bool = true;
}
