//! What went wrong in a case.
//!
//! A failure holds facts (which steps, which values as their `Debug` text), never a sentence:
//! the report builds the sentences, so a tool reading a failure does not parse prose, and a
//! history judge's violation keeps the steps it involves as step ids.

use crate::check::Guarantee;
use crate::program::{Program, StepId};
use std::fmt::{self, Write};
use std::time::Duration;

/// A failed check, with everything the report needs.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Failure {
    /// The step that failed; `None` when setting the system up failed, and for a history
    /// judge's violation, which the whole history is at fault for (its kind names the steps).
    pub step: Option<StepId>,
    /// The operation of that step, as Rust source.
    pub op: Option<String>,
    /// Which check failed.
    pub kind: FailureKind,
}

/// Which check failed.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum FailureKind {
    /// The system's output differs from the model's.
    Postcondition {
        /// The model's output (`Debug`).
        expected: String,
        /// The system's output (`Debug`).
        actual: String,
    },
    /// `System::invariant` returned an error.
    Invariant {
        /// Its message.
        message: String,
    },
    /// The system under test panicked.
    Panic {
        /// The panic message and location.
        message: String,
    },
    /// The model itself panicked: a bug in the specification, not in the system.
    ModelPanic {
        /// The panic message and location.
        message: String,
    },
    /// A `Var` did not resolve in the system's outputs (the step it names returned no such value).
    UnboundVar,
    /// A step did not return within the step timeout.
    Hang {
        /// The timeout, in milliseconds.
        timeout_ms: u64,
    },
    /// A history judge found the recorded history at fault (boxed: the step checks, on the
    /// hot path, keep a small failure).
    History(Box<HistoryViolation>),
}

/// What a history judge found: the steps involved by id, values as their `Debug` text.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum HistoryViolation {
    /// The recorded history is not linearizable
    /// ([`judge::linearizable`](crate::judge::linearizable)).
    NotLinearizable {
        /// The partition (its key, `Debug`), when the judge partitions the history.
        partition: Option<String>,
        /// The longest partial linearization found, in order.
        linearized: Vec<StepId>,
        /// The step that cannot be placed after them.
        blocked: StepId,
        /// The model state after `linearized` (`Debug`).
        state: String,
        /// What the model says `blocked` returns in that state (`Debug`), if it can run there.
        expected: Option<String>,
        /// What `blocked` returned (`Debug`); `None` when its outcome is unknown.
        actual: Option<String>,
    },
    /// The recorded history is not sequentially consistent
    /// ([`judge::sequentially_consistent`](crate::judge::sequentially_consistent)).
    NotSequentiallyConsistent {
        /// The longest order found that keeps each client's order and matches the model.
        ordered: Vec<StepId>,
        /// After it, each client's next step: none of them fits.
        blocked: Vec<StepId>,
        /// The model state after `ordered` (`Debug`).
        state: String,
    },
    /// A session guarantee is broken
    /// ([`judge::session_guarantees`](crate::judge::session_guarantees)); the first violation
    /// found.
    SessionGuarantee {
        /// Which guarantee.
        guarantee: Guarantee,
        /// The session (client) it was owed to.
        session: u64,
        /// The session's earlier step the later one must respect.
        earlier: StepId,
        /// The later step: the stale read, or the write that took effect too early.
        later: StepId,
        /// Every step the violation involves, in history order.
        involved: Vec<StepId>,
        /// Violations found besides this one.
        others: usize,
    },
    /// The history is not idempotent ([`judge::idempotent`](crate::judge::idempotent)).
    NotIdempotent {
        /// What is wrong.
        problem: IdempotencyProblem,
        /// The request id, for a problem with one request.
        request: Option<u64>,
        /// The steps involved: the two attempts, or the order found and the blocked step.
        involved: Vec<StepId>,
    },
}

/// What an idempotency judge found wrong.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum IdempotencyProblem {
    /// Two attempts share a request id but ask for different things.
    ConflictingRequest,
    /// Two attempts of one request both took effect.
    AppliedTwice,
    /// No history applying each request at most once explains the outputs.
    Unexplained,
}

impl FailureKind {
    /// A short name: `postcondition`, `invariant`, `panic`, `model-panic`, `unbound-var`, `hang`.
    pub fn name(&self) -> &'static str {
        match self {
            FailureKind::Postcondition { .. } => "postcondition",
            FailureKind::Invariant { .. } => "invariant",
            FailureKind::Panic { .. } => "panic",
            FailureKind::ModelPanic { .. } => "model-panic",
            FailureKind::UnboundVar => "unbound-var",
            FailureKind::Hang { .. } => "hang",
            FailureKind::History(v) => v.name(),
        }
    }

    /// The steps a history judge's violation involves, in the order the report lists them;
    /// `None` for the checks of one step.
    pub fn involved(&self) -> Option<Vec<StepId>> {
        match self {
            FailureKind::History(v) => Some(v.involved()),
            _ => None,
        }
    }
}

impl HistoryViolation {
    /// A short name: `not-linearizable`, `not-sequentially-consistent`, `session-guarantee`,
    /// `not-idempotent`.
    pub fn name(&self) -> &'static str {
        match self {
            HistoryViolation::NotLinearizable { .. } => "not-linearizable",
            HistoryViolation::NotSequentiallyConsistent { .. } => "not-sequentially-consistent",
            HistoryViolation::SessionGuarantee { .. } => "session-guarantee",
            HistoryViolation::NotIdempotent { .. } => "not-idempotent",
        }
    }

    /// The steps involved, in the order the report lists them.
    pub fn involved(&self) -> Vec<StepId> {
        match self {
            HistoryViolation::NotLinearizable {
                linearized,
                blocked,
                ..
            } => linearized.iter().chain([blocked]).copied().collect(),
            HistoryViolation::NotSequentiallyConsistent {
                ordered, blocked, ..
            } => ordered.iter().chain(blocked).copied().collect(),
            HistoryViolation::SessionGuarantee { involved, .. }
            | HistoryViolation::NotIdempotent { involved, .. } => involved.clone(),
        }
    }
}

impl Failure {
    /// A failure of `step` (`None`: while setting the system up), for executors and judges
    /// outside this crate and for tests; the report names the step's operation from the program.
    pub fn new(step: Option<StepId>, kind: FailureKind) -> Self {
        Failure {
            step,
            op: None,
            kind,
        }
    }

    /// The cause in one line: `postcondition failed at step 2 of 3: ...`; `steps` is the length
    /// of the prefix (a branch step is named `at branch 1 step 2`).
    pub fn cause(&self, steps: usize) -> String {
        if let Some(cause) = self.history_cause(None) {
            return cause;
        }
        let at = match self.step {
            Some(StepId {
                branch: None,
                index,
            }) => format!("at step {index} of {steps}"),
            Some(id) => format!("at {id}"),
            None => "while setting up the system".to_string(),
        };
        let op = self.op.as_deref().unwrap_or("");
        match &self.kind {
            FailureKind::Postcondition { expected, actual } => {
                format!("postcondition failed {at}: {op} returned {actual}, model says {expected}")
            }
            // No step: a concurrent system's invariant after the branches joined, whose
            // message says so.
            FailureKind::Invariant { message } => match self.step {
                Some(_) => format!("invariant broken {at}, after {op}: {message}"),
                None => format!("invariant broken {message}"),
            },
            FailureKind::Panic { message } => match self.step {
                Some(_) => format!("the system panicked {at}, in {op}: {message}"),
                None => format!("the system panicked {at}: {message}"),
            },
            FailureKind::ModelPanic { message } => {
                format!("the model panicked {at}, in {op} (a bug in the model): {message}")
            }
            FailureKind::UnboundVar => format!(
                "{op} {at} refers to a step whose system output holds no such value \
                 (the system returned something the model did not)"
            ),
            FailureKind::Hang { timeout_ms } => format!(
                "{op} {at} did not return within {} (a hang or a deadlock; \
                 STATEPROP_STEP_TIMEOUT sets the limit)",
                seconds(std::time::Duration::from_millis(*timeout_ms))
            ),
            _ => self.history_cause(None).unwrap_or_default(),
        }
    }

    /// [`cause`](Failure::cause), naming the steps of a history judge's violation with their
    /// operations from `program` (`step 2 (Get { key: 1 })`).
    pub fn cause_in(&self, program: &Program<String>) -> String {
        self.history_cause(Some(program))
            .unwrap_or_else(|| self.cause(program.len()))
    }

    /// The sentence for a history judge's violation; `None` for the checks of one step.
    fn history_cause(&self, program: Option<&Program<String>>) -> Option<String> {
        let name = |id: &StepId| match program.and_then(|p| p.get(*id)) {
            Some(op) => format!("{id} ({op})"),
            None => id.to_string(),
        };
        let list = |ids: &[StepId]| -> String {
            let named: Vec<String> = ids.iter().map(name).collect();
            match named.len() {
                0 => "none".to_string(),
                _ => named.join(", "),
            }
        };
        let FailureKind::History(violation) = &self.kind else {
            return None;
        };
        Some(match &**violation {
            HistoryViolation::NotLinearizable {
                partition,
                linearized,
                blocked,
                state,
                expected,
                actual,
            } => {
                let mut t = String::from("the history is not linearizable");
                if let Some(key) = partition {
                    let _ = write!(t, " (partition {key})");
                }
                let after = match linearized.len() {
                    0 => "first".to_string(),
                    _ => format!("after {} in that order", list(linearized)),
                };
                let _ = write!(
                    t,
                    ": {} cannot take effect {after} (model state {state})",
                    name(blocked)
                );
                match (expected, actual) {
                    (Some(e), Some(a)) => {
                        let _ = write!(t, ": it returned {a}, model says {e}");
                    }
                    (None, Some(a)) => {
                        let _ = write!(t, ": it returned {a}, which the model cannot run there");
                    }
                    _ => {}
                }
                t
            }
            HistoryViolation::NotSequentiallyConsistent {
                ordered,
                blocked,
                state,
            } => format!(
                "the history is not sequentially consistent: after {} in that order (model \
                 state {state}), no client's next step fits: {}",
                list(ordered),
                list(blocked)
            ),
            HistoryViolation::SessionGuarantee {
                guarantee,
                session,
                earlier,
                later,
                involved,
                others,
            } => {
                let mut t = format!(
                    "{guarantee} violated for client {session}: {} does not respect its earlier \
                     {} (steps involved: {})",
                    name(later),
                    name(earlier),
                    list(involved)
                );
                if *others > 0 {
                    let _ = write!(t, "; {others} more violations");
                }
                t
            }
            HistoryViolation::NotIdempotent {
                problem,
                request,
                involved,
            } => {
                let request = request.map(|r| format!(" {r}")).unwrap_or_default();
                match problem {
                    IdempotencyProblem::ConflictingRequest => format!(
                        "the history is not idempotent: request{request} is used by steps that \
                         ask for different things: {}",
                        list(involved)
                    ),
                    IdempotencyProblem::AppliedTwice => format!(
                        "the history is not idempotent: request{request} took effect twice, \
                         by {}",
                        list(involved)
                    ),
                    IdempotencyProblem::Unexplained => format!(
                        "the history is not idempotent: no order applying each request at most \
                         once explains the outputs (steps involved: {})",
                        list(involved)
                    ),
                }
            }
        })
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let steps = self
            .step
            .and_then(StepId::prefix_index)
            .map_or(0, |s| s + 1);
        f.write_str(&self.cause(steps))
    }
}

/// `0.21 s`, `3.4 ms`.
pub(crate) fn seconds(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s >= 1.0 {
        format!("{s:.2} s")
    } else {
        format!("{:.1} ms", s * 1000.0)
    }
}
