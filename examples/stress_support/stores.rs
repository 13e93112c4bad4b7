//! Models and systems the stress examples and tests share: a key-value store over a key space
//! the plan chooses, a correct store, one that keeps a tombstone per delete, and a sequence
//! counter that wraps at `u16`.

use stateprop::prelude::*;
use std::collections::{BTreeMap, HashMap};

/// The model: a map over keys `0..keys`, the key space a stress plan's `params` sets.
#[derive(Debug, Clone)]
pub struct Store {
    pub keys: u32,
    map: BTreeMap<u32, u64>,
}

impl Store {
    pub fn with_keys(keys: u32) -> Self {
        Store {
            keys: keys.max(1),
            map: BTreeMap::new(),
        }
    }
}

impl Default for Store {
    fn default() -> Self {
        Store::with_keys(64)
    }
}

#[derive(Debug, Clone, StateMachine)]
#[state_machine(model = Store)]
pub enum StoreOp {
    #[rule(weight = 5)]
    Put {
        #[strategy(|m: &Store| 0..m.keys)]
        key: u32,
        value: u64,
    },
    #[rule(weight = 3)]
    Get {
        #[strategy(|m: &Store| 0..m.keys)]
        key: u32,
    },
    #[rule(weight = 2)]
    Delete {
        #[strategy(|m: &Store| 0..m.keys)]
        key: u32,
    },
}

impl Model for Store {
    type Op = StoreOp;
    type Output = Option<u64>;
    fn step(&mut self, op: &StoreOp) -> Option<u64> {
        match *op {
            StoreOp::Put { key, value } => self.map.insert(key, value),
            StoreOp::Get { key } => self.map.get(&key).copied(),
            StoreOp::Delete { key } => self.map.remove(&key),
        }
    }
}

/// A correct store: memory bounded by the key space.
#[derive(Default)]
pub struct CleanStore {
    map: HashMap<u32, u64>,
}

impl CleanStore {
    /// Bytes the entries take (a deterministic gauge for tests).
    pub fn gauge(&self) -> u64 {
        (self.map.len() * 16) as u64
    }
}

impl System<Store> for CleanStore {
    fn apply(&mut self, op: &StoreOp) -> Option<u64> {
        match *op {
            StoreOp::Put { key, value } => self.map.insert(key, value),
            StoreOp::Get { key } => self.map.get(&key).copied(),
            StoreOp::Delete { key } => self.map.remove(&key),
        }
    }
}

/// What a delete leaves behind in [`TombstoneStore`].
#[allow(dead_code)]
pub struct Tombstone {
    key: u32,
    sequence: u64,
    deleted_at: std::time::Instant,
}

/// A store that answers correctly but keeps a tombstone per delete and never compacts them:
/// every 50-step case passes, and memory grows with every delete for as long as it runs.
#[derive(Default)]
pub struct TombstoneStore {
    map: HashMap<u32, u64>,
    tombstones: Vec<Tombstone>,
    sequence: u64,
}

impl TombstoneStore {
    /// Bytes the entries and tombstones take (a deterministic gauge for tests).
    pub fn gauge(&self) -> u64 {
        (self.map.len() * 16 + self.tombstones.len() * std::mem::size_of::<Tombstone>()) as u64
    }
}

impl System<Store> for TombstoneStore {
    fn apply(&mut self, op: &StoreOp) -> Option<u64> {
        self.sequence += 1;
        match *op {
            StoreOp::Put { key, value } => self.map.insert(key, value),
            StoreOp::Get { key } => self.map.get(&key).copied(),
            StoreOp::Delete { key } => {
                // The bug: nothing ever drops a tombstone (the fix compacts them, or keeps
                // one per key instead of one per delete).
                self.tombstones.push(Tombstone {
                    key,
                    sequence: self.sequence,
                    deleted_at: std::time::Instant::now(),
                });
                self.map.remove(&key)
            }
        }
    }
}

/// The model of a sequence counter: ids 0, 1, 2, ... for as long as it runs.
#[derive(Debug, Clone, Default)]
pub struct Sequence {
    next: u64,
}

#[derive(Debug, Clone, StateMachine)]
#[state_machine(model = Sequence)]
pub enum SeqOp {
    /// Hands out the next id.
    #[rule(weight = 9)]
    Next,
    /// Reads the id the next `Next` will hand out.
    Peek,
}

impl Model for Sequence {
    type Op = SeqOp;
    type Output = u64;
    fn step(&mut self, op: &SeqOp) -> u64 {
        match op {
            SeqOp::Next => {
                self.next += 1;
                self.next - 1
            }
            SeqOp::Peek => self.next,
        }
    }
}

/// A sequence counter stored in 16 bits: right for the first 65,536 ids, then it wraps to 0.
#[derive(Default)]
pub struct U16Sequence {
    next: u16, // the fix: a u64
}

impl System<Sequence> for U16Sequence {
    fn apply(&mut self, op: &SeqOp) -> u64 {
        match op {
            SeqOp::Next => {
                let id = self.next;
                self.next = self.next.wrapping_add(1);
                u64::from(id)
            }
            SeqOp::Peek => u64::from(self.next),
        }
    }
}
