//! The service the cluster offers, as stateprop's reference model: a map of a few small keys to
//! small values, with put, get and compare-and-set.
//!
//! Keys and values are a handful of bytes on purpose: a stale read needs a read and a write of
//! the same key, which a small key space makes frequent, and small values keep the entries the
//! nodes replicate short.

use stateprop::{Model, StateMachine};
use std::collections::BTreeMap;

/// How many keys the generated programs use.
pub const KEYS: u8 = 2;

/// The store's state: what a client should read.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Kv {
    /// The keys written so far; an absent key reads as `None`.
    pub map: BTreeMap<u8, u8>,
}

/// A client's operation on the store.
#[derive(Clone, Debug, PartialEq, Eq, Hash, StateMachine)]
#[state_machine(model = Kv)]
pub enum KvOp {
    /// Sets `key` to `value`.
    #[rule(weight = 2)]
    Put {
        /// The key.
        #[strategy(0..KEYS)]
        key: u8,
        /// The value.
        #[strategy(0..8u8)]
        value: u8,
    },
    /// Reads `key`.
    #[rule(weight = 2)]
    Get {
        /// The key.
        #[strategy(0..KEYS)]
        key: u8,
    },
    /// Sets `key` to `to` if it holds `from`.
    Cas {
        /// The key.
        #[strategy(0..KEYS)]
        key: u8,
        /// The value it must hold.
        #[strategy(0..8u8)]
        from: u8,
        /// The value it gets.
        #[strategy(0..8u8)]
        to: u8,
    },
}

/// What an operation answers.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum KvOut {
    /// A put took effect.
    Done,
    /// A get's value.
    Value(Option<u8>),
    /// Whether a compare-and-set matched (and so wrote).
    Cas(bool),
}

impl Kv {
    /// Applies `op` to the map: the one state machine both the model and every replica run, so
    /// the replicas cannot disagree with the model by construction of the apply function, only
    /// by what they apply and when.
    pub fn apply(&mut self, op: &KvOp) -> KvOut {
        match *op {
            KvOp::Put { key, value } => {
                self.map.insert(key, value);
                KvOut::Done
            }
            KvOp::Get { key } => KvOut::Value(self.map.get(&key).copied()),
            KvOp::Cas { key, from, to } => {
                let hit = self.map.get(&key) == Some(&from);
                if hit {
                    self.map.insert(key, to);
                }
                KvOut::Cas(hit)
            }
        }
    }
}

impl Model for Kv {
    type Op = KvOp;
    type Output = KvOut;

    fn step(&mut self, op: &KvOp) -> KvOut {
        self.apply(op)
    }

    fn is_read_only(op: &KvOp) -> bool {
        matches!(op, KvOp::Get { .. })
    }
}
