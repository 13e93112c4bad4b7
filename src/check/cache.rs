//! The linearizability search's cache of (linearized set, model state) pairs already explored
//! (Lowe, "Testing for linearizability", 2017).
//!
//! Entries are exact (key and state compared on a hash match), so a cut branch really was
//! explored. Keys are variable-length word strings (see `Search::key` for the encoding, which
//! is proportional to the window of operations that can still be reordered, not to the
//! history), kept end to end in one arena. Every allocation is counted against the check's
//! [`Budget`] before it is made.

use super::budget::{reserve_in, Budget};
use crate::hash::FxHasher;
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

/// A cache key in four parts (see `Search::insert_key`): laid end to end they are the key.
/// The first word tells how many `vars` words there are, so two keys of one length split the
/// same way.
pub(crate) struct Key<'a> {
    pub(crate) frontier: u64,
    pub(crate) window: &'a [u64],
    pub(crate) never: &'a [u64],
    /// The outputs of named steps that are part of the state (empty without `Var`s).
    pub(crate) vars: &'a [u64],
}

impl Key<'_> {
    pub(crate) fn len(&self) -> usize {
        1 + self.window.len() + self.never.len() + self.vars.len()
    }

    /// Whether `stored` (a key as laid in the arena) is this key. Word loops: keys are a few
    /// words, and `==` on slices calls memcmp.
    #[inline(always)]
    fn is(&self, stored: &[u64]) -> bool {
        let (window, rest) = stored[1..].split_at(self.window.len());
        // `zip` stops at `never`'s end; the vars words, when there are any, end the key. Without
        // vars this is the comparison of a key without them, instruction for instruction.
        stored[0] == self.frontier
            && window.iter().zip(self.window).all(|(a, b)| a == b)
            && rest.iter().zip(self.never).all(|(a, b)| a == b)
            && (self.vars.is_empty()
                || stored[stored.len() - self.vars.len()..]
                    .iter()
                    .zip(self.vars)
                    .all(|(a, b)| a == b))
    }
}

/// Entries in the arena: the full hash, then the key's length and the entry's index (into
/// `states`) in one word, then the key: everything a probe needs is on one cache line.
const HEADER: usize = 2;

pub(crate) struct Cache<M> {
    /// Open addressing, linear probing: each slot is the high 32 bits of the entry's hash and
    /// its offset in the arena + 1 (0 = empty), 8 bytes, so a probe is one cache line. Empty
    /// until the first insert, so a partition that never caches (or a check of 86,000 tiny
    /// ones) costs nothing.
    slots: Vec<u64>,
    arena: Vec<u64>,
    states: Vec<M>,
    /// Bytes allocated (by capacity), all counted in the budget.
    pub(crate) bytes: u64,
}

impl<M: Hash + Eq + Clone> Cache<M> {
    pub(crate) fn new() -> Self {
        Cache {
            slots: Vec::new(),
            arena: Vec::new(),
            states: Vec::new(),
            bytes: 0,
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.states.len()
    }

    /// Adds the pair unless it is there.
    #[inline]
    pub(crate) fn insert(&mut self, key: &Key<'_>, state: &M, budget: &mut Budget) -> Insert {
        let mut h = FxHasher::default();
        h.write_u64(key.frontier);
        for &w in key.window.iter().chain(key.never) {
            h.write_u64(w);
        }
        for &w in key.vars {
            h.write_u64(w);
        }
        state.hash(&mut h);
        let hash = h.finish();
        let tag = hash >> 32;
        let len = key.len();
        if !self.slots.is_empty() {
            let mask = self.slots.len() - 1;
            let mut at = hash as usize & mask;
            loop {
                let slot = self.slots[at];
                if slot == 0 {
                    break;
                }
                if slot >> 32 == tag {
                    let off = (slot as u32 - 1) as usize;
                    let meta = self.arena[off + 1];
                    if self.arena[off] == hash && (meta >> 32) as usize == len {
                        let stored = &self.arena[off + HEADER..off + HEADER + len];
                        if key.is(stored) && self.states[meta as u32 as usize] == *state {
                            return Insert::Present;
                        }
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
        let off = self.arena.len();
        // Offsets and indices are 32 bits: a cache past 32 GiB of keys is refused.
        if off + HEADER + len >= u32::MAX as usize || n >= u32::MAX as usize {
            return Insert::OutOfMemory;
        }
        if self.states.len() == self.states.capacity() || self.arena.capacity() - off < HEADER + len
        {
            let bytes = &mut self.bytes;
            if !(reserve_in(&mut self.states, 1, budget, bytes)
                && reserve_in(&mut self.arena, HEADER + len, budget, bytes))
            {
                return Insert::OutOfMemory;
            }
        }
        let mask = self.slots.len() - 1;
        let mut at = hash as usize & mask;
        while self.slots[at] != 0 {
            at = (at + 1) & mask;
        }
        self.slots[at] = (tag << 32) | (off as u64 + 1);
        self.arena.push(hash);
        self.arena.push(((len as u64) << 32) | n as u64);
        self.arena.push(key.frontier);
        self.arena.extend_from_slice(key.window);
        self.arena.extend_from_slice(key.never);
        self.arena.extend_from_slice(key.vars);
        self.states.push(state.clone());
        Insert::New
    }

    /// Doubles the table (kept at most half full, so probes stay short). `Some` if it cannot.
    #[cold]
    fn grow(&mut self, budget: &mut Budget) -> Option<Insert> {
        let len = (self.slots.len() * 2).max(64);
        let new_bytes = len as u64 * 8;
        if !budget.reserve(new_bytes) {
            return Some(Insert::OutOfMemory);
        }
        let old_bytes = self.slots.len() as u64 * 8;
        // The entries are read in arena order (sequential memory), not slot order.
        self.slots = Vec::new();
        budget.release(old_bytes);
        self.slots = vec![0; len];
        self.bytes = self.bytes - old_bytes + new_bytes;
        let mask = len - 1;
        let mut off = 0;
        let mut k = 0u64;
        while off < self.arena.len() {
            // A large table takes a while to fill again: keep the deadline.
            k += 1;
            if k.is_multiple_of(1 << 16) {
                if let Some(reason) = budget.poll() {
                    return Some(Insert::OutOfTime(reason));
                }
            }
            let hash = self.arena[off];
            let mut at = hash as usize & mask;
            while self.slots[at] != 0 {
                at = (at + 1) & mask;
            }
            self.slots[at] = (hash >> 32 << 32) | (off as u64 + 1);
            off += HEADER + (self.arena[off + 1] >> 32) as usize;
        }
        None
    }
}
