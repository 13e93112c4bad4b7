//! Histories: what clients asked for, what they were told, and when.
//!
//! A history is a list of [`Operation`]s, each with the client that issued it, the time it was
//! invoked and the time it returned (`None` when it never did: a crash or a timeout, which may have
//! taken effect at any time after the invocation). Times are only compared, never subtracted: an
//! event index works as well as a clock. Histories are built from the user's own operation and
//! output types, so the [`Model`](crate::Model) that drives generation is the specification the
//! checkers hold the history to.

mod events;
pub mod import;

pub use events::{Event, EventKind};

use serde::{Deserialize, Serialize};

/// One operation of a history.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Operation<Op, Out> {
    /// The client (process, session) that issued it. A client has one operation in flight at a
    /// time.
    pub client: u64,
    /// What was asked.
    pub op: Op,
    /// When it was invoked.
    pub call: u64,
    /// When it returned; `None` if it never did (it may have taken effect at any time after
    /// `call`, or not at all).
    pub ret: Option<u64>,
    /// What it returned; `None` when unknown (a timeout): any output is accepted.
    pub output: Option<Out>,
}

impl<Op, Out> Operation<Op, Out> {
    /// Whether the outcome is unknown: it never returned, or returned without a usable output.
    pub fn is_unknown(&self) -> bool {
        self.ret.is_none() || self.output.is_none()
    }
}

/// A history: operations in any order (their `call` and `ret` times order them).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(bound(
    serialize = "Op: Serialize, Out: Serialize",
    deserialize = "Op: Deserialize<'de>, Out: Deserialize<'de>"
))]
pub struct History<Op, Out> {
    /// The operations.
    pub ops: Vec<Operation<Op, Out>>,
}

impl<Op, Out> Default for History<Op, Out> {
    fn default() -> Self {
        History { ops: Vec::new() }
    }
}

impl<Op, Out> History<Op, Out> {
    /// An empty history.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds an operation that returned `output` at `ret`.
    pub fn push(&mut self, client: u64, op: Op, call: u64, ret: u64, output: Out) {
        self.ops.push(Operation {
            client,
            op,
            call,
            ret: Some(ret),
            output: Some(output),
        });
    }

    /// Adds an operation whose outcome is unknown (it never returned).
    pub fn push_unknown(&mut self, client: u64, op: Op, call: u64) {
        self.ops.push(Operation {
            client,
            op,
            call,
            ret: None,
            output: None,
        });
    }

    /// Number of operations.
    pub fn len(&self) -> usize {
        self.ops.len()
    }

    /// Whether there are no operations.
    pub fn is_empty(&self) -> bool {
        self.ops.is_empty()
    }
}
