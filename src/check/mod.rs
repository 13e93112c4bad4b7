//! Checkers over histories: linearizability (and, in sibling modules, other consistency
//! properties).

mod cache;
pub(crate) mod fxhash;
mod guard;
pub mod linearizability;
mod search;

pub use linearizability::{
    check_linearizable, check_linearizable_by, CheckConfig, ModelPanic, Report, Verdict, Violation,
};

pub mod explain;
pub use explain::{explain, explain_by, ExplainOptions, Explanation};

pub mod minimize;
pub use minimize::{minimal_violation, minimal_violation_by, Minimal, MinimizeOptions};

pub mod violations;
pub use violations::{violations, Found, Violations};

mod budget;
pub use budget::SearchBudget;

pub mod idempotency;
pub use idempotency::{
    check_idempotent, IdempotencyReport, IdempotencyVerdict, IdempotencyViolation,
};

pub mod sequential_consistency;
pub use sequential_consistency::{check_sequentially_consistent, ScReport, ScVerdict, ScViolation};

pub mod session;
pub use session::{check_session_guarantees, Access, Guarantee, ReadsWrites, SessionViolation};
