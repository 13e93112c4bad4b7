//! A key-value store of strings: get, put, append, delete. Missing keys read as "".

use crate::check::session::{Access, ReadsWrites};
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
    entries: Arc<Vec<Arc<Entry>>>,
}

#[derive(Debug)]
struct Entry {
    key: Arc<str>,
    value: String,
    /// A polynomial hash of the value, extended byte by byte: an append hashes only its suffix.
    rolling: u64,
    /// The entry's hash: key and value.
    hash: u64,
}

/// Extends a polynomial hash (mod 2^64) with `bytes`.
fn roll(mut h: u64, bytes: &[u8]) -> u64 {
    for &b in bytes {
        h = h
            .wrapping_mul(0x100_0000_01B3)
            .wrapping_add(u64::from(b) + 1);
    }
    h
}

impl Entry {
    fn new(key: Arc<str>, value: String, rolling: u64) -> Self {
        let mut h = crate::hash::FxHasher::default();
        key.hash(&mut h);
        h.write_u64(rolling);
        h.write_usize(value.len());
        Entry {
            key,
            value,
            rolling,
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
                        && (Arc::ptr_eq(a, b) || (a.key == b.key && a.value == b.value))
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

    /// Sets `key` to `old + suffix` (a put is an append to "").
    fn extend(&mut self, key: &str, suffix: &str, replace: bool) {
        let at = self.find(key);
        let (old, rolling) = match (at, replace) {
            (Ok(i), false) => (&*self.entries[i].value, self.entries[i].rolling),
            _ => ("", 0),
        };
        let mut joined = String::with_capacity(old.len() + suffix.len());
        joined.push_str(old);
        joined.push_str(suffix);
        let rolling = roll(rolling, suffix.as_bytes());
        let entries = Arc::make_mut(&mut self.entries);
        match at {
            Ok(i) => {
                let key = entries[i].key.clone();
                entries[i] = Arc::new(Entry::new(key, joined, rolling));
            }
            Err(i) => entries.insert(i, Arc::new(Entry::new(Arc::from(key), joined, rolling))),
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
                self.extend(key, value, true);
                KvOut::Done
            }
            KvOp::Append { key, value } => {
                self.extend(key, value, false);
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

    fn is_read_only(op: &KvOp) -> bool {
        matches!(op, KvOp::Get { .. })
    }

    fn is_observation(op: &KvOp, _output: &KvOut) -> bool {
        matches!(op, KvOp::Get { .. })
    }

    fn observes(&self, op: &KvOp, output: &KvOut) -> bool {
        match (op, output) {
            (KvOp::Get { key }, KvOut::Value(value)) => self.get(key) == value,
            _ => {
                let mut copy = self.clone();
                copy.step(op) == *output
            }
        }
    }
}

/// For the session-guarantee checkers.
impl ReadsWrites for KvModel {
    type Key = String;
    type Value = String;

    /// `Get` reads; `Put` writes its value; `Delete` writes `""` (a deleted key reads as
    /// `""`); `Append` writes its suffix, which a later read ends with (see
    /// [`read_may_follow`](ReadsWrites::read_may_follow)).
    fn access(op: &KvOp, output: Option<&KvOut>) -> Access<String, String> {
        match (op, output) {
            (KvOp::Get { key }, Some(KvOut::Value(v))) => Access::Read {
                key: key.clone(),
                value: v.clone(),
            },
            (KvOp::Get { .. }, _) => Access::Other,
            (KvOp::Put { key, value } | KvOp::Append { key, value }, _) => Access::Write {
                key: key.clone(),
                value: value.clone(),
            },
            (KvOp::Delete { key }, _) => Access::Write {
                key: key.clone(),
                value: String::new(),
            },
        }
    }

    fn initial_value(&self, key: &String) -> String {
        self.get(key).to_string()
    }

    /// A value left by an append ends with the appended suffix; by a put, it is the value.
    fn read_may_follow(write: &KvOp, written: &String, read: &String) -> bool {
        match write {
            KvOp::Append { .. } => read.ends_with(written.as_str()),
            _ => written == read,
        }
    }

    /// Where an append's suffix occurs in the read, when it occurs exactly once; appends of the
    /// empty string and puts never show.
    ///
    /// This assumes an appended string shows up in a read only where it was appended: true when
    /// appended values are distinct tokens that cannot straddle two others, as in Porcupine's and
    /// Jepsen's histories (`x <process> <n> y`).
    fn shown_at(write: &KvOp, written: &String, read: &String) -> Option<usize> {
        if !matches!(write, KvOp::Append { .. }) || written.is_empty() {
            return None;
        }
        let at = read.find(written.as_str())?;
        // Look for a second occurrence, overlapping ones included.
        let step = written.chars().next().map_or(1, char::len_utf8);
        read[at + step..]
            .find(written.as_str())
            .is_none()
            .then_some(at)
    }
}
