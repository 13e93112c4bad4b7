//! Client sessions and the history they record.
//!
//! A session (`SimStep::Request`'s `client`) has one request in flight at a time; later requests
//! wait in its queue and go out, in order, as the earlier one completes: answered, rejected,
//! timed out, or lost with the node it was sent to.
//!
//! Times in the history are a logical clock: a counter bumped at every invocation and every
//! return. The simulation handles events in time order, so this counter orders them exactly as
//! simulation time does, and also orders events of the same millisecond, which milliseconds
//! cannot.
//!
//! An operation whose outcome is unknown (timed out, or its node crashed first) never returns in
//! the history, so the session's next operation would overlap it, which a history forbids for
//! one client. As Jepsen does with its process ids, the session then goes on under a fresh
//! client id: incarnation `k` of session `c` is client `c + 256 * k`, so the ids depend only on
//! that session's own past.

use super::node::{NodeId, RequestId};
use crate::history::{History, Operation};
use crate::program::StepId;
use std::collections::{BTreeMap, BTreeSet, VecDeque};

/// A request waiting for its session to be free.
pub(crate) struct Queued<Op> {
    pub(crate) step: u64,
    pub(crate) node: NodeId,
    pub(crate) op: Op,
}

struct Session<Op> {
    incarnation: u64,
    busy: Option<RequestId>,
    queue: VecDeque<Queued<Op>>,
}

impl<Op> Default for Session<Op> {
    fn default() -> Self {
        Session {
            incarnation: 0,
            busy: None,
            queue: VecDeque::new(),
        }
    }
}

struct Pending {
    session: u8,
    node: NodeId,
    record: usize,
    deadline: u64,
}

struct Record<Op, Out> {
    op: Operation<Op, Out>,
    step: u64,
    rejected: bool,
}

/// How a request ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Ending {
    Answered,
    Rejected,
    Unknown,
}

/// A change to the client history, for a watcher that follows it as it grows; the number is
/// the operation's position among every request invoked so far (rejected ones included).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HistoryChange {
    /// The request went out: the operation's call is set.
    Invoked(usize),
    /// The request ended: answered, of unknown outcome, or rejected.
    Ended(usize),
}

pub(crate) struct Clients<Op, Out> {
    /// The changes not yet taken, when watched.
    changes: Option<Vec<HistoryChange>>,
    sessions: BTreeMap<u8, Session<Op>>,
    pending: BTreeMap<RequestId, Pending>,
    deadlines: BTreeSet<(u64, RequestId)>,
    records: Vec<Record<Op, Out>>,
    next_request: u64,
    tick: u64,
}

impl<Op: Clone, Out: Clone> Clients<Op, Out> {
    pub(crate) fn new() -> Self {
        Clients {
            changes: None,
            sessions: BTreeMap::new(),
            pending: BTreeMap::new(),
            deadlines: BTreeSet::new(),
            records: Vec::new(),
            next_request: 0,
            tick: 0,
        }
    }

    /// Queues a request; returns whether its session is free to send it now.
    pub(crate) fn submit(&mut self, session: u8, queued: Queued<Op>) -> bool {
        let s = self.sessions.entry(session).or_default();
        s.queue.push_back(queued);
        s.busy.is_none()
    }

    /// The session's next request, if the session is free and has one.
    pub(crate) fn next_queued(&mut self, session: u8) -> Option<Queued<Op>> {
        let s = self.sessions.get_mut(&session)?;
        if s.busy.is_some() {
            return None;
        }
        s.queue.pop_front()
    }

    /// Invokes a request: records its call and marks its session busy until it ends.
    pub(crate) fn invoke(&mut self, session: u8, queued: &Queued<Op>, deadline: u64) -> RequestId {
        let request = RequestId(self.next_request);
        self.next_request += 1;
        let s = self.sessions.entry(session).or_default();
        s.busy = Some(request);
        let client = u64::from(session) + 256 * s.incarnation;
        self.tick += 1;
        self.records.push(Record {
            op: Operation {
                client,
                op: queued.op.clone(),
                call: self.tick,
                ret: None,
                output: None,
            },
            step: queued.step,
            rejected: false,
        });
        self.pending.insert(
            request,
            Pending {
                session,
                node: queued.node,
                record: self.records.len() - 1,
                deadline,
            },
        );
        self.deadlines.insert((deadline, request));
        if let Some(changes) = &mut self.changes {
            changes.push(HistoryChange::Invoked(self.records.len() - 1));
        }
        request
    }

    /// Ends a request; returns its session, or `None` if it had already ended (a late or
    /// repeated answer, which changes nothing).
    pub(crate) fn end(
        &mut self,
        request: RequestId,
        ending: Ending,
        output: Option<Out>,
    ) -> Option<u8> {
        let p = self.pending.remove(&request)?;
        self.deadlines.remove(&(p.deadline, request));
        if let Some(changes) = &mut self.changes {
            changes.push(HistoryChange::Ended(p.record));
        }
        let record = &mut self.records[p.record];
        let session = self
            .sessions
            .get_mut(&p.session)
            .expect("a pending request's session");
        session.busy = None;
        match ending {
            Ending::Answered => {
                self.tick += 1;
                record.op.ret = Some(self.tick);
                record.op.output = output;
            }
            Ending::Rejected => record.rejected = true,
            Ending::Unknown => session.incarnation += 1,
        }
        Some(p.session)
    }

    /// Keeps the changes to the history from now on, for [`take_changes`](Self::take_changes).
    pub(crate) fn watch(&mut self) {
        self.changes.get_or_insert_with(Vec::new);
    }

    /// The changes since the last call, appended to `into` in the order they happened.
    pub(crate) fn take_changes(&mut self, into: &mut Vec<HistoryChange>) {
        if let Some(changes) = &mut self.changes {
            into.append(changes);
        }
    }

    /// Request `i` (in invocation order): its operation so far, the step that sent it, and
    /// whether it was rejected (and so is no operation of the history).
    pub(crate) fn record(&self, i: usize) -> (&Operation<Op, Out>, u64, bool) {
        let r = &self.records[i];
        (&r.op, r.step, r.rejected)
    }

    /// The request that times out first, and when.
    pub(crate) fn first_deadline(&self) -> Option<(u64, RequestId)> {
        self.deadlines.first().copied()
    }

    /// The requests in flight at `node`, in the order they were sent.
    pub(crate) fn pending_at(&self, node: NodeId) -> Vec<RequestId> {
        self.pending
            .iter()
            .filter(|(_, p)| p.node == node)
            .map(|(&r, _)| r)
            .collect()
    }

    /// The client id (in the history) and operation of a pending request.
    pub(crate) fn describe(&self, request: RequestId) -> Option<(u64, &Op)> {
        let p = self.pending.get(&request)?;
        let r = &self.records[p.record];
        Some((r.op.client, &r.op.op))
    }

    /// Whether no request is in flight or waiting.
    pub(crate) fn idle(&self) -> bool {
        self.pending.is_empty() && self.sessions.values().all(|s| s.queue.is_empty())
    }

    /// The history so far, in invocation order. A request still in flight is an operation whose
    /// outcome is unknown, as it is at this point; a rejected one is no operation.
    pub(crate) fn history(&self) -> History<Op, Out> {
        let mut history = History::new();
        for r in self.records.iter().filter(|r| !r.rejected) {
            history.ops.push(r.op.clone());
            history.steps.push(StepId::prefix(r.step as usize));
        }
        history
    }
}
