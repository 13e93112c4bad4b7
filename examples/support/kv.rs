// The quickstart's key-value model and a store with a planted bug. Shared by
// `examples/quickstart.rs`, the fuzz target in `fuzz/` and the tests.

use stateprop::prelude::*;
use std::collections::BTreeMap;

/// The reference model: obviously correct, because it is just a map.
#[derive(Debug, Clone, Default)]
pub struct Kv {
    pub map: BTreeMap<u8, u32>,
}

#[derive(Debug, Clone, StateMachine)]
#[state_machine(model = Kv)]
pub enum KvOp {
    #[rule(weight = 3)]
    Put {
        #[strategy(0..8u8)]
        key: u8,
        value: u32,
    },
    Get {
        #[strategy(0..8u8)]
        key: u8,
    },
    #[rule(precondition = |m: &Kv| !m.map.is_empty())]
    Delete {
        #[strategy(|m: &Kv| pick(m.map.keys().copied()))]
        key: u8,
    },
}

impl Model for Kv {
    type Op = KvOp;
    type Output = Option<u32>;

    fn step(&mut self, op: &KvOp) -> Option<u32> {
        match *op {
            KvOp::Put { key, value } => self.map.insert(key, value),
            KvOp::Get { key } => self.map.get(&key).copied(),
            KvOp::Delete { key } => self.map.remove(&key),
        }
    }
}

/// The system under test: a store with a read cache in front of its table.
#[derive(Debug, Default)]
pub struct BuggyStore {
    table: Vec<(u8, u32)>,
    cache: Option<(u8, u32)>,
}

impl BuggyStore {
    pub fn put(&mut self, key: u8, value: u32) -> Option<u32> {
        self.cache = Some((key, value));
        match self.table.iter_mut().find(|(k, _)| *k == key) {
            Some(slot) => Some(std::mem::replace(&mut slot.1, value)),
            None => {
                self.table.push((key, value));
                None
            }
        }
    }

    pub fn get(&mut self, key: u8) -> Option<u32> {
        if let Some((k, v)) = self.cache {
            if k == key {
                return Some(v);
            }
        }
        self.table.iter().find(|(k, _)| *k == key).map(|&(_, v)| v)
    }

    pub fn delete(&mut self, key: u8) -> Option<u32> {
        // BUG: the cached entry survives the delete. The fix:
        // if self.cache.is_some_and(|(k, _)| k == key) { self.cache = None; }
        let at = self.table.iter().position(|(k, _)| *k == key)?;
        Some(self.table.swap_remove(at).1)
    }

    pub fn len(&self) -> usize {
        self.table.len()
    }
}

impl System<Kv> for BuggyStore {
    fn apply(&mut self, op: &KvOp) -> Option<u32> {
        match *op {
            KvOp::Put { key, value } => self.put(key, value),
            KvOp::Get { key } => self.get(key),
            KvOp::Delete { key } => self.delete(key),
        }
    }

    fn invariant(&self, model: &Kv) -> Result<(), String> {
        if self.len() == model.map.len() {
            Ok(())
        } else {
            Err(format!(
                "store holds {} keys, model {}",
                self.len(),
                model.map.len()
            ))
        }
    }
}
