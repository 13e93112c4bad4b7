//! A key-value store of strings: get, put, append, delete. Missing keys read as "".

use crate::{Model, StateMachine};
use serde::{Deserialize, Serialize};
use std::hash::{Hash, Hasher};
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

/// The store: keys in order. The entries are shared and copied on write, and each carries the
/// hash of its key and value, so the checker's many copies and hashes of the state are cheap.
#[derive(Clone, Default)]
pub struct KvModel {
    entries: Arc<Vec<Entry>>,
}

#[derive(Debug, Clone)]
struct Entry {
    key: Arc<str>,
    value: Arc<str>,
    hash: u64,
}

impl Entry {
    fn new(key: Arc<str>, value: Arc<str>) -> Self {
        let mut h = crate::check::fxhash::FxHasher::default();
        key.hash(&mut h);
        value.hash(&mut h);
        Entry {
            key,
            value,
            hash: h.finish(),
        }
    }
}

/// Prints as the map it is: `KvModel {"x": "ab", "y": "2"}`.
impl std::fmt::Debug for KvModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("KvModel ")?;
        f.debug_map()
            .entries(self.entries.iter().map(|e| (&*e.key, &*e.value)))
            .finish()
    }
}

impl PartialEq for KvModel {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.entries, &other.entries)
            || (self.entries.len() == other.entries.len()
                && self.entries.iter().zip(other.entries.iter()).all(|(a, b)| {
                    // Copies share their strings: pointer equality settles most comparisons.
                    a.hash == b.hash
                        && (Arc::ptr_eq(&a.key, &b.key) || a.key == b.key)
                        && (Arc::ptr_eq(&a.value, &b.value) || a.value == b.value)
                }))
    }
}

impl Eq for KvModel {}

impl Hash for KvModel {
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_usize(self.entries.len());
        for e in self.entries.iter() {
            state.write_u64(e.hash);
        }
    }
}

impl KvModel {
    /// The value of `key` ("" when absent).
    pub fn get(&self, key: &str) -> &str {
        match self.find(key) {
            Ok(i) => &self.entries[i].value,
            Err(_) => "",
        }
    }

    fn find(&self, key: &str) -> Result<usize, usize> {
        self.entries.binary_search_by(|e| (*e.key).cmp(key))
    }

    fn set(&mut self, key: &str, value: Arc<str>) {
        let at = self.find(key);
        let entries = Arc::make_mut(&mut self.entries);
        match at {
            Ok(i) => {
                let key = entries[i].key.clone();
                entries[i] = Entry::new(key, value);
            }
            Err(i) => entries.insert(i, Entry::new(Arc::from(key), value)),
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
                    Arc::make_mut(&mut self.entries).remove(i);
                }
                KvOut::Done
            }
        }
    }

    fn is_observation(op: &KvOp, _output: &KvOut) -> bool {
        matches!(op, KvOp::Get { .. })
    }
}
