//! A key-value store of strings: get, put, append, delete. Missing keys read as "".

use crate::{Model, StateMachine};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// An operation on the store.
#[derive(Debug, Clone, PartialEq, Eq, Hash, StateMachine, Serialize, Deserialize)]
#[state_machine(model = KvModel)]
pub enum KvOp {
    /// Read a key.
    Get {
        /// The key.
        key: String,
    },
    /// Replace a key's value.
    Put {
        /// The key.
        key: String,
        /// The value.
        value: String,
    },
    /// Append to a key's value.
    Append {
        /// The key.
        key: String,
        /// The suffix.
        value: String,
    },
    /// Remove a key (it reads as "" afterwards).
    Delete {
        /// The key.
        key: String,
    },
}

impl KvOp {
    /// The key the operation touches: histories of different keys are independent, so the
    /// checker splits by it.
    pub fn key(&self) -> &str {
        match self {
            KvOp::Get { key } | KvOp::Put { key, .. } | KvOp::Append { key, .. } => key,
            KvOp::Delete { key } => key,
        }
    }
}

/// What a store operation returns.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum KvOut {
    /// A get's value.
    Value(String),
    /// A put, append or delete took effect.
    Done,
}

/// The store: keys in order, values shared so that the checker's many state copies are cheap.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct KvModel {
    entries: Vec<(Arc<str>, Arc<str>)>,
}

impl KvModel {
    /// The value of `key` ("" when absent).
    pub fn get(&self, key: &str) -> &str {
        match self.find(key) {
            Ok(i) => &self.entries[i].1,
            Err(_) => "",
        }
    }

    fn find(&self, key: &str) -> Result<usize, usize> {
        self.entries.binary_search_by(|(k, _)| (**k).cmp(key))
    }

    fn set(&mut self, key: &str, value: Arc<str>) {
        match self.find(key) {
            Ok(i) => self.entries[i].1 = value,
            Err(i) => self.entries.insert(i, (Arc::from(key), value)),
        }
    }
}

impl Model for KvModel {
    type Op = KvOp;
    type Output = KvOut;

    fn step(&mut self, op: &KvOp) -> KvOut {
        match op {
            KvOp::Get { key } => KvOut::Value(self.get(key).to_string()),
            KvOp::Put { key, value } => {
                self.set(key, Arc::from(value.as_str()));
                KvOut::Done
            }
            KvOp::Append { key, value } => {
                let joined = format!("{}{}", self.get(key), value);
                self.set(key, Arc::from(joined));
                KvOut::Done
            }
            KvOp::Delete { key } => {
                if let Ok(i) = self.find(key) {
                    self.entries.remove(i);
                }
                KvOut::Done
            }
        }
    }

    fn is_observation(op: &KvOp, _output: &KvOut) -> bool {
        matches!(op, KvOp::Get { .. })
    }
}
