//! The trace of a simulated run: one line per event (a step, a message sent, delivered or lost,
//! a timer fired, a request answered, a crash), and a hash of every line.
//!
//! The same program and seed must give the same trace; comparing hashes of two runs is how a
//! leak of outside nondeterminism (a wall clock, `HashMap` order, thread-local randomness) into
//! node code is caught, since any of them changes some message, its recipient or its timing.
//! Messages enter the trace through their `Debug` form, so a leak into a message's contents
//! shows too. The hash is built from the lines' bytes with a fixed-key hash, so it is the same
//! in every process and on every run.

use crate::hash::FxHasher;
use std::fmt::{self, Write};
use std::hash::Hasher;

pub(crate) struct Trace {
    keep: bool,
    lines: Vec<String>,
    hasher: FxHasher,
    events: u64,
    buf: String,
}

impl Trace {
    pub(crate) fn new(keep: bool) -> Self {
        Trace {
            keep,
            lines: Vec::new(),
            hasher: FxHasher::default(),
            events: 0,
            buf: String::new(),
        }
    }

    /// Records one event at simulation time `now`.
    pub(crate) fn event(&mut self, now: u64, args: fmt::Arguments<'_>) {
        self.buf.clear();
        let _ = write!(self.buf, "{now:>6}ms {args}");
        self.hasher.write(self.buf.as_bytes());
        self.hasher.write_u8(b'\n');
        self.events += 1;
        if self.keep {
            self.lines.push(self.buf.clone());
        }
    }

    pub(crate) fn lines(&self) -> &[String] {
        &self.lines
    }

    pub(crate) fn hash(&self) -> u64 {
        // The line count too, so a trace is not equal to one with an empty line added.
        let mut h = self.hasher;
        h.write_u64(self.events);
        h.finish()
    }
}
