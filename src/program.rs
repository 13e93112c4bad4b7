//! Programs checked against the model before any system sees them.
//!
//! A program that did not come from the generator (a pasted regression test, a saved case, a
//! fuzzer's bytes, a hand-written list) is replayed on the model alone first: every step's rule
//! must be enabled where it runs and its `Var`s must name results that exist, exactly as
//! generation guarantees by construction. One function says so for every caller, with one
//! message.

use crate::generate::ModelRun;
use crate::spec::{Model, StateMachine};
use std::fmt;
use std::hash::{DefaultHasher, Hash, Hasher};

/// Why a program is not one the generator could have made.
#[derive(Clone, Debug)]
pub(crate) struct Invalid {
    /// The first step that cannot run (0-based).
    pub(crate) step: usize,
    /// That step, as Rust.
    pub(crate) op: String,
    pub(crate) reason: Reason,
}

#[derive(Clone, Debug)]
pub(crate) enum Reason {
    /// Its precondition fails, or a `Var` names a missing result, in this model state (`Debug`).
    NotEnabled { state: String },
    /// The model panicked stepping it (a bug in the model): the message.
    ModelPanicked(String),
}

impl fmt::Display for Invalid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (step, op) = (self.step, &self.op);
        match &self.reason {
            Reason::NotEnabled { state } => write!(
                f,
                "step {step}, {op}, is not enabled in model state {state} (its precondition \
                 fails or a `Var` names a missing result)"
            ),
            Reason::ModelPanicked(message) => {
                write!(f, "the model panicked at step {step}, {op}: {message}")
            }
        }
    }
}

/// Replays `ops` on the model from `initial`; `Err` names the first step that cannot run.
pub(crate) fn validate<M: Model>(initial: &M, ops: &[M::Op]) -> Result<(), Invalid> {
    let mut model = ModelRun::new(initial.clone());
    for (step, op) in ops.iter().enumerate() {
        let invalid = |reason| Invalid {
            step,
            op: op.to_rust(),
            reason,
        };
        if !model.admits(op) {
            let state = format!("{:?}", model.model);
            return Err(invalid(Reason::NotEnabled { state }));
        }
        model
            .apply(op)
            .map_err(|m| invalid(Reason::ModelPanicked(m)))?;
    }
    Ok(())
}

/// A content hash of a program (its `Debug` text, fed to the hasher without allocating).
pub(crate) fn fingerprint<Op: std::fmt::Debug>(ops: &[Op]) -> u64 {
    struct W<'h>(&'h mut DefaultHasher);
    impl std::fmt::Write for W<'_> {
        fn write_str(&mut self, s: &str) -> std::fmt::Result {
            s.hash(self.0);
            Ok(())
        }
    }
    let mut h = DefaultHasher::new();
    for op in ops {
        let _ = std::fmt::write(&mut W(&mut h), format_args!("{op:?};"));
    }
    h.finish()
}
