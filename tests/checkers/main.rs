//! History checkers beyond linearizability: session guarantees, sequential consistency and
//! idempotency, each on hand-made histories whose verdicts are known, asserting the exact
//! operations every violation names.

mod bounds;
mod idempotency;
mod sequential_consistency;
mod session;
mod ties;
mod var_history;
mod var_oracle;

use stateprop::models::{KvOp, KvOut};

/// `Get { key }`.
pub fn get(key: &str) -> KvOp {
    KvOp::Get {
        key: key.to_string(),
    }
}

/// `Append { key, value }`.
pub fn append(key: &str, value: &str) -> KvOp {
    KvOp::Append {
        key: key.to_string(),
        value: value.to_string(),
    }
}

/// `Put { key, value }`.
pub fn put(key: &str, value: &str) -> KvOp {
    KvOp::Put {
        key: key.to_string(),
        value: value.to_string(),
    }
}

/// A get's output.
pub fn value(v: &str) -> KvOut {
    KvOut::Value(v.to_string())
}
