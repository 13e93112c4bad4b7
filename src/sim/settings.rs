//! How the simulated world behaves ([`Settings`]) and what a run reports beside its history:
//! a broken cluster invariant, counts of what it did, how its liveness tail ended.

/// How the simulated world behaves: message delays, how long clients wait, and how the liveness
/// tail after the program ends.
///
/// A run takes them from its [`Sim`](super::Sim) ([`Sim::settings`](super::Sim::settings)), so
/// the pasted replay test, which rebuilds the `Sim`, replays the same world.
///
/// ```
/// use stateprop::models::CasRegister;
/// use stateprop::sim::{Settings, Sim};
///
/// // A cluster whose leader heartbeats never goes quiet: the tail runs 5 s, then the nodes
/// // must agree.
/// let settings = Settings::default().delay(2, 20).tail(5_000).never_quiet();
/// let initial = Sim::new(CasRegister::default(), 3, 2).settings(settings.clone());
/// assert_eq!(initial.sim_settings(), &settings);
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
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
    /// How long the liveness tail may run, in simulated milliseconds: if the cluster must go
    /// quiet, it fails when it has not by then; if not, the tail runs exactly this long.
    pub tail_bound_ms: u64,
    /// Whether the liveness tail must end quiet. A system with heartbeats (a Raft leader)
    /// never does: it says so with [`Settings::never_quiet`], and the tail then runs to its
    /// bound and checks only convergence.
    pub tail_quiet: bool,
    /// Whether to keep the trace's lines (its hash is always kept).
    pub keep_trace: bool,
    /// The largest clock skew generated (`ClockSkew`), either way, in milliseconds; 0 generates
    /// none.
    pub max_skew_ms: u16,
    /// The largest clock drift generated (`ClockDrift`), either way, in parts per thousand; 0
    /// generates none.
    pub max_drift_ppt: u16,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            min_delay_ms: 1,
            max_delay_ms: 10,
            request_timeout_ms: 1_000,
            quiet_ms: 1_000,
            // Many request timeouts and retry rounds, yet cheap to simulate.
            tail_bound_ms: 60_000,
            tail_quiet: true,
            keep_trace: true,
            max_skew_ms: 500,
            // Far beyond a real clock's drift, so that a lease or timeout that trusts another
            // node's clock fails within a few steps rather than after hours of simulated time.
            max_drift_ppt: 500,
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

    /// The liveness tail runs at most `bound_ms` of simulated time.
    pub fn tail(mut self, bound_ms: u64) -> Self {
        self.tail_bound_ms = bound_ms;
        self
    }

    /// The cluster never goes quiet (its nodes heartbeat): the liveness tail runs to its bound
    /// instead of waiting for quiet, then checks [`Node::converged`](super::Node::converged).
    pub fn never_quiet(mut self) -> Self {
        self.tail_quiet = false;
        self
    }

    /// Generated clock faults stay within these bounds: skews of at most `max_skew_ms` either
    /// way, drifts of at most `max_drift_ppt` parts per thousand either way (0 turns the kind
    /// off). A system that is correct only while clocks stay within some bound (leases under
    /// bounded drift) is tested within that bound.
    pub fn clock_faults(mut self, max_skew_ms: u16, max_drift_ppt: u16) -> Self {
        self.max_skew_ms = max_skew_ms;
        self.max_drift_ppt = max_drift_ppt;
        self
    }

    /// Whether to keep the trace's lines.
    pub fn keep_trace(mut self, keep: bool) -> Self {
        self.keep_trace = keep;
        self
    }

    /// These settings as a Rust expression, for the pasted test: `None` when they are the
    /// default ones (the trace is the executor's business, so `keep_trace` is left out).
    pub(crate) fn to_rust(&self) -> Option<String> {
        let d = Settings::default();
        let mut text = String::from("stateprop::sim::Settings::default()");
        let start = text.len();
        if (self.min_delay_ms, self.max_delay_ms) != (d.min_delay_ms, d.max_delay_ms) {
            text += &format!(".delay({}, {})", self.min_delay_ms, self.max_delay_ms);
        }
        if self.request_timeout_ms != d.request_timeout_ms {
            text += &format!(".request_timeout({})", self.request_timeout_ms);
        }
        if self.quiet_ms != d.quiet_ms {
            text += &format!(".quiet({})", self.quiet_ms);
        }
        if self.tail_bound_ms != d.tail_bound_ms {
            text += &format!(".tail({})", self.tail_bound_ms);
        }
        if !self.tail_quiet {
            text += ".never_quiet()";
        }
        if (self.max_skew_ms, self.max_drift_ppt) != (d.max_skew_ms, d.max_drift_ppt) {
            text += &format!(
                ".clock_faults({}, {})",
                self.max_skew_ms, self.max_drift_ppt
            );
        }
        (text.len() > start).then_some(text)
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

#[cfg(test)]
mod tests {
    use super::Settings;

    #[test]
    fn settings_print_as_the_calls_that_build_them() {
        assert_eq!(Settings::default().keep_trace(false).to_rust(), None);
        let all = Settings::default()
            .delay(3, 9)
            .request_timeout(250)
            .quiet(40)
            .tail(700)
            .never_quiet()
            .clock_faults(0, 20);
        let text = all.to_rust().expect("not the default");
        assert_eq!(
            text,
            "stateprop::sim::Settings::default().delay(3, 9).request_timeout(250).quiet(40)\
             .tail(700).never_quiet().clock_faults(0, 20)"
        );
        // Each call alone is printed alone.
        assert_eq!(
            Settings::default().quiet(5).to_rust().as_deref(),
            Some("stateprop::sim::Settings::default().quiet(5)")
        );
    }
}
