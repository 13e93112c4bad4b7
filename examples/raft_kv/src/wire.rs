//! What travels and what is kept: raft's messages between nodes, the client operations inside
//! log entries, and the disk a crash leaves behind.
//!
//! The simulator writes every message it sends into the run's trace (and its hash) through the
//! message's `Debug` form, and every disk it keeps at a crash. Protobuf's own `Debug` prints every
//! field of a raft message, most of them empty, and costs more than delivering the message, so
//! both types print a short form of their own: what a person reading a timeline needs, and every
//! field that changes what the receiver does, so a leak of outside nondeterminism into a message
//! still changes the trace.

use crate::model::KvOp;
use raft::eraftpb::{Entry, HardState, Message, MessageType};
use std::fmt;

/// A raft message between two nodes.
#[derive(Clone)]
pub struct Msg(pub Message);

/// The short name of a message type (`MsgAppend` → `App`).
fn kind(t: MessageType) -> &'static str {
    use MessageType::*;
    match t {
        MsgAppend => "App",
        MsgAppendResponse => "AppResp",
        MsgRequestVote => "Vote",
        MsgRequestVoteResponse => "VoteResp",
        MsgRequestPreVote => "PreVote",
        MsgRequestPreVoteResponse => "PreVoteResp",
        MsgHeartbeat => "Beat",
        MsgHeartbeatResponse => "BeatResp",
        MsgSnapshot => "Snap",
        MsgReadIndex => "ReadIndex",
        MsgReadIndexResp => "ReadIndexResp",
        MsgTimeoutNow => "TimeoutNow",
        MsgTransferLeader => "Transfer",
        MsgPropose => "Propose",
        _ => "Other",
    }
}

impl fmt::Debug for Msg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Zero fields are left out: a heartbeat has no index, most messages no commit, and
        // each number printed costs as much as a good part of raft's work on the message.
        let m = &self.0;
        write!(f, "{} t{}", kind(m.get_msg_type()), m.term)?;
        if m.index != 0 || m.log_term != 0 {
            write!(f, " i{}/t{}", m.index, m.log_term)?;
        }
        if m.commit != 0 {
            write!(f, " c{}", m.commit)?;
        }
        if m.reject {
            write!(f, " reject(hint {})", m.reject_hint)?;
        }
        if !m.entries.is_empty() {
            f.write_str(" [")?;
            for (i, e) in m.entries.iter().enumerate() {
                if i > 0 {
                    f.write_str(" ")?;
                }
                write!(f, "{}", ShortEntry(e))?;
            }
            f.write_str("]")?;
        }
        if !m.context.is_empty() {
            write!(f, " ctx{:?}", &m.context[..])?;
        }
        Ok(())
    }
}

/// An entry as `index/term:operation`.
struct ShortEntry<'a>(&'a Entry);

impl fmt::Display for ShortEntry<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let e = self.0;
        write!(f, "{}/{}", e.index, e.term)?;
        match Proposal::decode(&e.data) {
            Some(p) => write!(f, ":{:?}@n{}r{}", p.op, p.node, p.request),
            None if e.data.is_empty() => Ok(()),
            None => f.write_str(":?"),
        }
    }
}

/// A client operation as a log entry's data: the operation, and which node proposed it for
/// which request, so that node answers the client when the entry is applied.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Proposal {
    /// The client's operation.
    pub op: KvOp,
    /// The node that proposed it.
    pub node: u8,
    /// The request it answers there.
    pub request: u64,
}

impl Proposal {
    /// The entry data: a tag byte, the operation's three bytes, the node, the request id.
    pub fn encode(&self) -> Vec<u8> {
        let (tag, a, b, c) = match self.op {
            KvOp::Put { key, value } => (0, key, value, 0),
            KvOp::Get { key } => (1, key, 0, 0),
            KvOp::Cas { key, from, to } => (2, key, from, to),
        };
        let mut data = vec![tag, a, b, c, self.node];
        data.extend_from_slice(&self.request.to_le_bytes());
        data
    }

    /// The proposal in an entry's data; `None` for an entry raft wrote itself (a new leader's
    /// empty entry).
    pub fn decode(data: &[u8]) -> Option<Proposal> {
        let [tag, a, b, c, node, rest @ ..] = data else {
            return None;
        };
        let op = match tag {
            0 => KvOp::Put { key: *a, value: *b },
            1 => KvOp::Get { key: *a },
            2 => KvOp::Cas {
                key: *a,
                from: *b,
                to: *c,
            },
            _ => return None,
        };
        let request = u64::from_le_bytes(rest.try_into().ok()?);
        Some(Proposal {
            op,
            node: *node,
            request,
        })
    }
}

/// What a node keeps on disk, so what survives its crash: raft's hard state (term, vote,
/// commit) and its log. The store's map is not kept: a restarted node applies its committed
/// entries again from the log. The membership never changes, so it is rebuilt at start, and
/// the log is never compacted, so there is no snapshot to keep.
#[derive(Clone, Default)]
pub struct Disk {
    /// Term, vote and commit index.
    pub hard_state: HardState,
    /// Every entry the node persisted, from index 1.
    pub entries: Vec<Entry>,
}

impl fmt::Debug for Disk {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let hs = &self.hard_state;
        write!(
            f,
            "Disk {{ term {} vote {} commit {}, log [",
            hs.term, hs.vote, hs.commit
        )?;
        for (i, e) in self.entries.iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            write!(f, "{}", ShortEntry(e))?;
        }
        f.write_str("] }")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proposals_round_trip_through_entry_data() {
        for op in [
            KvOp::Put { key: 1, value: 7 },
            KvOp::Get { key: 0 },
            KvOp::Cas {
                key: 1,
                from: 2,
                to: 3,
            },
        ] {
            let p = Proposal {
                op,
                node: 4,
                request: 0x0102_0304_0506_0708,
            };
            assert_eq!(Proposal::decode(&p.encode()), Some(p));
        }
        assert_eq!(Proposal::decode(&[]), None);
        assert_eq!(
            Proposal::decode(&[9, 0, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8]),
            None
        );
    }
}
