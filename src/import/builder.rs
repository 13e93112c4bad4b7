//! Pairs invocations with completions, process by process, as every importer must.

use super::ImportError;
use crate::history::{History, Operation, Source};
use std::collections::HashMap;

/// A history under construction.
pub(crate) struct Builder<Op, Out> {
    ops: Vec<Operation<Op, Out>>,
    /// Indices of the operations that failed (they did not happen), removed at the end: kept
    /// apart rather than as `Option`s so that finishing compacts the operations in place
    /// instead of collecting a second vector as large as the first.
    dropped: Vec<usize>,
    /// Each process's open operation.
    open: HashMap<u64, Open>,
    /// Where each operation of `ops` was read, for explanations.
    sources: Vec<Source>,
    /// The operation the last invocation or completion was about.
    last: Option<usize>,
}

/// An invoked operation that has not completed.
pub(crate) struct Open {
    /// Its index in `ops`.
    pub index: usize,
    /// The line of its invocation.
    pub line: usize,
    /// How the invocation reads, in the input's syntax (`:write 3`).
    pub what: String,
}

impl<Op, Out> Builder<Op, Out> {
    /// A builder expecting about `operations` operations: an importer that can count them
    /// cheaply says so, and the history is then built without the slack and the copies of
    /// vectors that double as they grow (up to twice the memory, held at the peak).
    pub(crate) fn with_capacity(operations: usize) -> Self {
        Builder {
            ops: Vec::with_capacity(operations),
            dropped: Vec::new(),
            open: HashMap::new(),
            sources: Vec::with_capacity(operations),
            last: None,
        }
    }

    /// Opens `op` for `process` at `time`; `what` describes it for later messages.
    pub(crate) fn invoke(
        &mut self,
        process: u64,
        op: Op,
        what: String,
        time: u64,
        line: usize,
    ) -> Result<(), ImportError> {
        if let Some(open) = self.open.get(&process) {
            return Err(ImportError::new(
                line,
                format!(
                    "process {process} invokes `{what}` while its `{}` from line {} is still open \
                     (a process has one operation in flight: complete it with :ok, :fail or :info first)",
                    open.what, open.line
                ),
            ));
        }
        self.open.insert(
            process,
            Open {
                index: self.ops.len(),
                line,
                what,
            },
        );
        self.ops.push(Operation {
            client: process,
            op,
            call: time,
            ret: None,
            output: None,
        });
        self.sources.push(Source {
            call_line: Some(line),
            ..Source::default()
        });
        self.last = Some(self.ops.len() - 1);
        Ok(())
    }

    /// Closes `process`'s open operation; `what` describes the completion for the message when
    /// there is none. The caller then records how it ended ([`Builder::returned`],
    /// [`Builder::drop_op`], or nothing for an unknown outcome).
    pub(crate) fn complete(
        &mut self,
        process: u64,
        what: &str,
        line: usize,
    ) -> Result<Open, ImportError> {
        let open = self.open.remove(&process).ok_or_else(|| {
            ImportError::new(
                line,
                format!(
                    "`{what}` completes an operation process {process} never invoked \
                     (no open :invoke of process {process} before this line)"
                ),
            )
        })?;
        self.sources[open.index].ret_line = Some(line);
        self.last = Some(open.index);
        Ok(open)
    }

    /// Records the time the input wrote on the last invocation (`call`) or completion.
    pub(crate) fn written_time(&mut self, call: bool, time: String) {
        if let Some(source) = self.last.and_then(|i| self.sources.get_mut(i)) {
            if call {
                source.call_time = Some(time);
            } else {
                source.ret_time = Some(time);
            }
        }
    }

    /// The operation at `index`.
    pub(crate) fn op(&self, index: usize) -> &Op {
        &self.ops[index].op
    }

    /// The operation at `index` returned at `time`, with `output` (`None`: unknown).
    pub(crate) fn returned(&mut self, index: usize, time: u64, output: Option<Out>) {
        let op = &mut self.ops[index];
        op.ret = Some(time);
        op.output = output;
    }

    /// The operation at `index` did not take effect: leave it out of the history. (It was
    /// closed, so nothing refers to it again.)
    pub(crate) fn drop_op(&mut self, index: usize) {
        self.dropped.push(index);
    }

    /// The history; operations still open never returned (unknown outcome).
    pub(crate) fn finish(mut self) -> History<Op, Out> {
        self.dropped.sort_unstable();
        let keep: Vec<bool> = {
            let mut dropped = self.dropped.iter().peekable();
            (0..self.ops.len())
                .map(|index| dropped.next_if_eq(&&index).is_none())
                .collect()
        };
        let mut at = 0;
        self.ops.retain(|_| {
            at += 1;
            keep[at - 1]
        });
        let mut at = 0;
        self.sources.retain(|_| {
            at += 1;
            keep[at - 1]
        });
        self.ops.shrink_to_fit();
        self.sources.shrink_to_fit();
        History {
            ops: self.ops,
            sources: self.sources,
            steps: Vec::new(),
        }
    }
}
