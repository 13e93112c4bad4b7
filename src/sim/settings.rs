//! How the simulated world behaves ([`Settings`]) and what a run reports beside its history:
//! a broken cluster invariant, counts of what it did, how its liveness tail ended.

/// How the simulated world behaves.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Settings {
    /// The shortest time a message takes between nodes, in milliseconds.
    pub min_delay_ms: u64,
    /// The longest (each message draws its delay uniformly in between).
    pub max_delay_ms: u64,
    /// How long a client waits for an answer before the outcome is unknown.
    pub request_timeout_ms: u64,
    /// How long the liveness tail must see nothing in flight and no request waiting to call
    /// the cluster quiet: long enough for retries and election timeouts to fire, since quiet
    /// for a moment is not quiet.
    pub quiet_ms: u64,
    /// Whether to keep the trace's lines (its hash is always kept).
    pub keep_trace: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            min_delay_ms: 1,
            max_delay_ms: 10,
            request_timeout_ms: 1_000,
            quiet_ms: 1_000,
            keep_trace: true,
        }
    }
}

impl Settings {
    /// Messages take between `min_ms` and `max_ms`.
    pub fn delay(mut self, min_ms: u64, max_ms: u64) -> Self {
        self.min_delay_ms = min_ms;
        self.max_delay_ms = max_ms.max(min_ms);
        self
    }

    /// Clients give up on a request after `ms`.
    pub fn request_timeout(mut self, ms: u64) -> Self {
        self.request_timeout_ms = ms;
        self
    }

    /// The liveness tail calls the cluster quiet after `ms` with nothing in flight.
    pub fn quiet(mut self, ms: u64) -> Self {
        self.quiet_ms = ms;
        self
    }

    /// Whether to keep the trace's lines.
    pub fn keep_trace(mut self, keep: bool) -> Self {
        self.keep_trace = keep;
        self
    }
}

/// A cluster invariant broke.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct InvariantBroken {
    /// The index of the step after which it was found.
    pub step: u64,
    /// What [`Node::cluster_invariant`](super::Node::cluster_invariant) said.
    pub message: String,
}

/// Counts of what a run did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct SimStats {
    /// Steps carried out.
    pub steps: u64,
    /// Handlers run (start, request, message, timer).
    pub handlers: u64,
    /// Messages sent.
    pub sent: u64,
    /// Messages delivered.
    pub delivered: u64,
    /// Messages lost (dropped, cut off, or to a crashed node).
    pub lost: u64,
}

/// How a liveness tail ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Settled {
    /// Whether the cluster went quiet (nothing in flight, no request waiting) within the bound.
    pub quiet: bool,
    /// Simulation time the tail took, in milliseconds.
    pub ran_ms: u64,
}
