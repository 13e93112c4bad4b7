//! Histories: what clients asked for, what they were told, and when.
//!
//! A history is a list of [`Operation`]s, each with the client that issued it, the time it was
//! invoked and the time it returned (`None` when it never did: a crash or a timeout, which may have
//! taken effect at any time after the invocation). Times are only compared, never subtracted: an
//! event index works as well as a clock. Histories are built from the user's own operation and
//! output types, so the [`Model`](crate::Model) that drives generation is the specification the
//! checkers hold the history to.

mod events;

pub use events::{Event, EventKind};

use crate::program::StepId;
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
    /// Where each operation came from, in the same order as `ops`; empty when nobody recorded it
    /// (a history built in code). Kept beside the operations rather than in them so that code
    /// building [`Operation`]s literally keeps compiling, and so that checkers, which never read
    /// it, do not carry it through their search.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sources: Vec<Source>,
    /// The program step each operation ran, in the same order as `ops`; empty when the history
    /// was not recorded from a program (imported, or built in code). A checker binds the `Var`
    /// fields of an operation through these ids, and a report names steps by them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub steps: Vec<StepId>,
}

/// Where an operation came from in the input it was read from. Every field is optional: each
/// importer fills what its format has.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Source {
    /// The line (from 1) where its invocation is written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub call_line: Option<usize>,
    /// The line of its completion (`ok`, `fail`, `info`); `None` if it never completed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ret_line: Option<usize>,
    /// The invocation's time as the input wrote it (the JSON `time` field, Jepsen's `:time`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub call_time: Option<String>,
    /// The completion's time as the input wrote it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ret_time: Option<String>,
    /// Other fields of its events that the format does not interpret (`node`, `pid`), as
    /// `(name, value)`; a completion's field that differs from the invocation's is named
    /// `ret.name`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<(String, String)>,
}

impl Source {
    /// Whether nothing is known.
    pub fn is_empty(&self) -> bool {
        *self == Source::default()
    }

    /// `line 12`, `lines 12–15`, or `None` when no line is known.
    pub fn lines(&self) -> Option<String> {
        match (self.call_line, self.ret_line) {
            (Some(a), Some(b)) if a != b => Some(format!("lines {a}–{b}")),
            (Some(a), _) => Some(format!("line {a}")),
            (None, Some(b)) => Some(format!("line {b}")),
            (None, None) => None,
        }
    }
}

impl<Op, Out> Default for History<Op, Out> {
    fn default() -> Self {
        History {
            ops: Vec::new(),
            sources: Vec::new(),
            steps: Vec::new(),
        }
    }
}

impl<Op, Out> History<Op, Out> {
    /// An empty history.
    pub fn new() -> Self {
        Self::default()
    }

    /// A history of `ops`, with no sources.
    pub fn from_ops(ops: Vec<Operation<Op, Out>>) -> Self {
        History {
            ops,
            sources: Vec::new(),
            steps: Vec::new(),
        }
    }

    /// Where operation `index` came from, when known.
    pub fn source(&self, index: usize) -> Option<&Source> {
        self.sources.get(index).filter(|s| !s.is_empty())
    }

    /// The operations at `indices` (in that order), with their sources: a sub-history.
    pub fn select(&self, indices: &[usize]) -> Self
    where
        Op: Clone,
        Out: Clone,
    {
        History {
            ops: indices.iter().map(|&i| self.ops[i].clone()).collect(),
            sources: if self.sources.len() == self.ops.len() {
                indices.iter().map(|&i| self.sources[i].clone()).collect()
            } else {
                Vec::new()
            },
            steps: if self.steps.len() == self.ops.len() {
                indices.iter().map(|&i| self.steps[i]).collect()
            } else {
                Vec::new()
            },
        }
    }

    /// Keeps `sources` aligned with `ops` after a push.
    fn pushed(&mut self) {
        if !self.sources.is_empty() {
            self.sources.resize(self.ops.len(), Source::default());
        }
    }

    /// The program step operation `index` ran, when the history was recorded from a program.
    pub fn step(&self, index: usize) -> Option<StepId> {
        self.steps.get(index).copied()
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
        self.pushed();
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
        self.pushed();
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
