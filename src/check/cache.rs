//! The linearizability search's cache of (linearized set, model state) pairs already explored
//! (Lowe, "Testing for linearizability", 2017).
//!
//! Entries are exact (key and state compared on a hash match), so a cut branch really was
//! explored. Keys are variable-length word strings (see `Search::key` for the encoding, which
//! is proportional to the window of operations that can still be reordered, not to the
//! history), kept end to end in one arena. Every allocation is counted against the check's
//! [`Budget`] before it is made.

use super::budget::{reserve_in, Budget};
use super::fxhash::FxHasher;
use std::hash::{Hash, Hasher};

/// What [`Cache::insert`] did.
pub(crate) enum Insert {
    /// The pair is new and now cached.
    New,
    /// It was already there: its branch was explored.
    Present,
    /// Caching it would pass the memory cap.
    OutOfMemory,
    /// The table's growth ran past the deadline (the cache is unusable afterwards).
    OutOfTime(String),
}

pub(crate) struct Cache<M> {
    /// Open addressing, linear probing: each slot is the high 32 bits of the entry's hash and
    /// its index + 1 (0 = empty), 8 bytes, so a probe is one cache line. Empty until the first
    /// insert, so a partition that never caches (or a check of 86,000 tiny ones) costs nothing.
    slots: Vec<u64>,
    /// The low 32 bits of each entry's hash: the table grows without rehashing keys and states.
    low: Vec<u32>,
    /// Where each entry's key starts in `arena` (it ends where the next one starts).
    starts: Vec<u64>,
    arena: Vec<u64>,
    states: Vec<M>,
    /// Bytes allocated (by capacity), all counted in the budget.
    pub(crate) bytes: u64,
}

impl<M: Hash + Eq + Clone> Cache<M> {
    pub(crate) fn new() -> Self {
        Cache {
            slots: Vec::new(),
            low: Vec::new(),
            starts: Vec::new(),
            arena: Vec::new(),
            states: Vec::new(),
            bytes: 0,
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.states.len()
    }

    fn key(&self, i: usize) -> &[u64] {
        let from = self.starts[i] as usize;
        let to = self
            .starts
            .get(i + 1)
            .map_or(self.arena.len(), |&s| s as usize);
        &self.arena[from..to]
    }

    /// Adds the pair unless it is there.
    #[inline]
    pub(crate) fn insert(&mut self, key: &[u64], state: &M, budget: &mut Budget) -> Insert {
        let mut h = FxHasher::default();
        for &w in key {
            h.write_u64(w);
        }
        state.hash(&mut h);
        let hash = h.finish();
        let tag = hash >> 32;
        if !self.slots.is_empty() {
            let mask = self.slots.len() - 1;
            let mut at = hash as usize & mask;
            loop {
                let slot = self.slots[at];
                if slot == 0 {
                    break;
                }
                if slot >> 32 == tag {
                    let i = (slot as u32 - 1) as usize;
                    let k = self.key(i);
                    // A word loop: keys are a few words, and `==` on slices calls memcmp.
                    if k.len() == key.len()
                        && k.iter().zip(key).all(|(a, b)| a == b)
                        && self.states[i] == *state
                    {
                        return Insert::Present;
                    }
                }
                at = (at + 1) & mask;
            }
        }
        // Room first (nothing is changed when the cap refuses), then the entry.
        let n = self.states.len();
        if (n + 1) * 2 > self.slots.len() {
            if let Some(stop) = self.grow(budget) {
                return stop;
            }
        }
        let bytes = &mut self.bytes;
        if !(reserve_in(&mut self.states, 1, budget, bytes)
            && reserve_in(&mut self.low, 1, budget, bytes)
            && reserve_in(&mut self.starts, 1, budget, bytes)
            && reserve_in(&mut self.arena, key.len(), budget, bytes))
        {
            return Insert::OutOfMemory;
        }
        if n >= u32::MAX as usize - 1 {
            return Insert::OutOfMemory;
        }
        let mask = self.slots.len() - 1;
        let mut at = hash as usize & mask;
        while self.slots[at] != 0 {
            at = (at + 1) & mask;
        }
        self.slots[at] = (tag << 32) | (n as u64 + 1);
        self.low.push(hash as u32);
        self.starts.push(self.arena.len() as u64);
        self.arena.extend_from_slice(key);
        self.states.push(state.clone());
        Insert::New
    }

    /// Doubles the table (kept at most half full, so probes stay short). `Some` if it cannot.
    #[cold]
    fn grow(&mut self, budget: &mut Budget) -> Option<Insert> {
        let len = (self.slots.len() * 2).max(1024);
        let new_bytes = len as u64 * 8;
        if !budget.reserve(new_bytes) {
            return Some(Insert::OutOfMemory);
        }
        let old = std::mem::replace(&mut self.slots, vec![0; len]);
        let old_bytes = old.len() as u64 * 8;
        self.bytes += new_bytes;
        let mask = len - 1;
        for (k, slot) in old.into_iter().enumerate() {
            // A large table takes a while to fill again: keep the deadline.
            if k % (1 << 16) == (1 << 16) - 1 {
                if let Some(reason) = budget.poll() {
                    return Some(Insert::OutOfTime(reason));
                }
            }
            if slot == 0 {
                continue;
            }
            let i = (slot as u32 - 1) as usize;
            let hash = (slot >> 32 << 32) | u64::from(self.low[i]);
            let mut at = hash as usize & mask;
            while self.slots[at] != 0 {
                at = (at + 1) & mask;
            }
            self.slots[at] = slot;
        }
        self.bytes -= old_bytes;
        budget.release(old_bytes);
        None
    }
}
