//! Checkers over histories: linearizability, sequential consistency, session guarantees and
//! idempotency, with tools to explain and minimize a linearizability violation.
//!
//! # One result family
//!
//! Every checker answers with a [`Report<V>`](Report): a [`Verdict<V>`](Verdict) that is
//! [`Holds`](Verdict::Holds), [`Violated(V)`](Verdict::Violated) or
//! [`Unknown(reason)`](Verdict::Unknown), plus the statistics all checkers keep (steps, cache
//! entries, peak bytes, elapsed time, partitions, and the model's panic if one ended the
//! check). Only `V`, what a violation says, differs:
//!
//! | checker | `V` | [`Report::orders`] when it holds |
//! |---|---|---|
//! | [`check_linearizable`], [`check_linearizable_by`] | [`Violation`] (the default) | one linearization per partition, with its key |
//! | [`check_sequentially_consistent`] | [`ScViolation`] | one order of the whole history |
//! | [`check_idempotent`] | [`IdempotencyViolation`] | the order requests took effect |
//! | [`check_session_guarantees`] | `Vec<`[`SessionViolation`]`>` | none (nothing is searched) |
//!
//! The searching checkers share one budget, [`CheckConfig`]: a timeout and a memory cap for
//! all of them, a step cap for the sequential-consistency and idempotency searches, and the
//! slice that interleaves linearizability's partitions. Running out of it is
//! [`Verdict::Unknown`], never a hang; a model that panics is [`Verdict::Unknown`] with
//! [`Report::model_panic`] saying where.

mod cache;
pub(crate) mod end_states;
mod guard;
pub mod linearizability;
mod search;
mod vars;
pub(crate) use vars::Replay;

pub use linearizability::{check_linearizable, check_linearizable_by, Violation};

mod result;
pub use result::{ModelPanic, Order, Report, Verdict};

mod budget;
pub use budget::CheckConfig;

pub mod explain;
pub use explain::{explain, explain_by, ExplainOptions, Explanation};

pub mod minimize;
pub use minimize::{minimal_violation, minimal_violation_by, Minimal, MinimizeOptions};

pub mod violations;
pub use violations::{violations, Found, Violations};

pub mod idempotency;
pub use idempotency::{check_idempotent, IdempotencyViolation};

pub mod sequential_consistency;
pub use sequential_consistency::{check_sequentially_consistent, ScViolation};

pub mod session;
pub use session::{check_session_guarantees, Access, Guarantee, ReadsWrites, SessionViolation};
