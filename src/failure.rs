//! What went wrong in a case.

use crate::program::StepId;
use std::fmt;
use std::time::Duration;

/// A failed check, with everything the report needs, already rendered as text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    /// The step that failed; `None` when setting the system up failed.
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
        }
    }
}

impl Failure {
    /// The cause in one line: `postcondition failed at step 2 of 3: ...`; `steps` is the length
    /// of the prefix (a branch step is named `at branch 1 step 2`).
    pub fn cause(&self, steps: usize) -> String {
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
            FailureKind::Invariant { message } => {
                format!("invariant broken {at}, after {op}: {message}")
            }
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
        }
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
