//! The budget of a check, [`CheckConfig`], and how the searches keep to it: a [`Meter`] for the
//! single search of sequential consistency and idempotency, and the [`Budget`] shared by the
//! partitions of a linearizability check.
//!
//! Both meter *work* (entries visited, words hashed), not search steps, because one step can
//! cost anything from a few nanoseconds to a walk over every pending operation: a clock polled
//! every few thousand steps could be polled seconds late. Memory is counted by the capacity of
//! what the searches allocate, before they allocate it, so a cap is never overshot by the
//! caches, tables and vectors the searches own.

use std::collections::HashSet;
use std::hash::Hash;
use std::time::{Duration, Instant};

/// Units of work between two looks at the clock, at most: a unit is about a nanosecond, and
/// reading the clock costs tens of them.
const POLL_EVERY: u64 = 1 << 12;
/// Looks at the clock should be about this far apart. A unit of work does not count what the
/// model costs (a step of a model with a large state may take microseconds), so the interval
/// adapts: it shrinks when looks come later than this, and grows back when they come sooner.
const POLL_GAP: Duration = Duration::from_micros(200);
/// Time between two looks at the process's resident memory (a file read).
const RSS_GAP: Duration = Duration::from_millis(5);

/// Decides when to look at the clock: after `every` units of work, `every` adapting so that
/// looks are about [`POLL_GAP`] apart whatever a unit costs.
struct Poller {
    every: u64,
    work: u64,
    last: Instant,
}

impl Poller {
    fn new(now: Instant) -> Self {
        Poller {
            every: POLL_EVERY,
            work: 0,
            last: now,
        }
    }

    /// Counts `units`; `Some(now)` when it is time to look.
    #[inline]
    fn tick(&mut self, units: u64) -> Option<Instant> {
        self.work = self.work.saturating_add(units);
        if self.work < self.every {
            return None;
        }
        Some(self.look())
    }

    /// Reads the clock and adapts the interval to how long the last one took.
    fn look(&mut self) -> Instant {
        let now = Instant::now();
        let gap = now.saturating_duration_since(self.last);
        if gap > POLL_GAP {
            self.every = (self.every / 2).max(1);
        } else if gap < POLL_GAP / 4 {
            self.every = (self.every * 2).min(POLL_EVERY);
        }
        self.work = 0;
        self.last = now;
        now
    }
}

/// The deadline `timeout` after `start`, or none when there is no timeout or it lies beyond
/// what the clock can represent (which no check will reach anyway).
pub(crate) fn deadline(start: Instant, timeout: Option<Duration>) -> Option<Instant> {
    timeout.and_then(|t| start.checked_add(t))
}

/// The process's resident memory, where the system tells it.
pub(crate) fn resident_bytes() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages.saturating_mul(4096))
}

/// Physical memory, where the system tells it (`MemTotal` in `/proc/meminfo`).
pub(crate) fn physical_bytes() -> Option<u64> {
    let info = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = info.lines().find(|l| l.starts_with("MemTotal:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib.saturating_mul(1024))
}

/// The budget of a check, shared by every checker: how long and how large a search may grow
/// before it answers [`Verdict::Unknown`](super::Verdict::Unknown) rather than hang or run the
/// machine out of memory.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct CheckConfig {
    /// Give up after this long. Default: none. A timeout too long for the clock
    /// (`Duration::MAX`) means none.
    pub timeout: Option<Duration>,
    /// Give up when the check's own memory would pass this many bytes: its caches, tables of
    /// explored states and search vectors, counted by capacity before they are allocated (the
    /// heap inside model states and the history itself are not counted). Linearizability also
    /// gives up when the process's resident memory has grown by that much since the check
    /// began (where the system reports it). Default: none; the `stateprop` command uses
    /// [`CheckConfig::default_max_memory`].
    pub max_memory: Option<u64>,
    /// Most search steps (operations tried) of the sequential-consistency and idempotency
    /// searches, which are exponential in the number of clients at worst. Default 1,000,000.
    /// Linearizability is bounded by time and memory only: its partitioned search has no step
    /// cap to keep results independent of how partitions interleave.
    pub max_steps: u64,
    /// Linearizability: steps a partition's search runs before the next partition gets its
    /// turn. Default 20,000.
    pub slice: u64,
}

impl Default for CheckConfig {
    fn default() -> Self {
        CheckConfig {
            timeout: None,
            max_memory: None,
            max_steps: 1_000_000,
            slice: 20_000,
        }
    }
}

impl CheckConfig {
    /// See [`CheckConfig::timeout`].
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// See [`CheckConfig::max_memory`].
    pub fn max_memory(mut self, bytes: u64) -> Self {
        self.max_memory = Some(bytes);
        self
    }

    /// See [`CheckConfig::max_steps`].
    pub fn max_steps(mut self, steps: u64) -> Self {
        self.max_steps = steps;
        self
    }

    /// A memory cap for checks nobody gave one: half of physical memory, at most 4 GiB (4 GiB
    /// where the system does not say), so an unbounded search answers "unknown" before the
    /// machine starts swapping or the process is killed.
    pub fn default_max_memory() -> u64 {
        const LIMIT: u64 = 4 << 30;
        physical_bytes().map_or(LIMIT, |total| (total / 2).min(LIMIT))
    }
}

/// Counts a search's steps, work and memory against a [`CheckConfig`].
pub(crate) struct Meter {
    max_steps: u64,
    deadline: Option<Instant>,
    max_memory: Option<u64>,
    bytes: u64,
    /// The most bytes ever counted.
    pub(crate) peak_bytes: u64,
    poller: Poller,
    pub(crate) steps: u64,
    /// When the check began.
    start: Instant,
}

impl Meter {
    /// Writes what the meter counted (steps, peak memory, time since the check began) into the
    /// check's report.
    pub(crate) fn stamp<V>(&self, mut report: super::Report<V>) -> super::Report<V> {
        report.steps = self.steps;
        report.peak_bytes = self.peak_bytes;
        report.elapsed = self.start.elapsed();
        report
    }

    pub(crate) fn new(budget: &CheckConfig, now: Instant) -> Self {
        Meter {
            max_steps: budget.max_steps,
            deadline: deadline(now, budget.timeout),
            max_memory: budget.max_memory,
            bytes: 0,
            peak_bytes: 0,
            poller: Poller::new(now),
            steps: 0,
            start: now,
        }
    }

    /// Counts one step that did `work` units of work; `Err` says why the search must stop.
    pub(crate) fn step(&mut self, work: u64) -> Result<(), String> {
        self.steps += 1;
        if self.steps > self.max_steps {
            return Err(format!(
                "the step budget ran out after {} steps",
                self.max_steps
            ));
        }
        if let Some(deadline) = self.deadline {
            if self
                .poller
                .tick(work.max(1))
                .is_some_and(|now| now >= deadline)
            {
                return Err("the time budget ran out".to_string());
            }
        }
        Ok(())
    }

    /// Counts `bytes` more; `Err` when that would pass the cap (they are then not counted).
    pub(crate) fn grow(&mut self, bytes: u64) -> Result<(), String> {
        let total = self.bytes.saturating_add(bytes);
        if let Some(max) = self.max_memory.filter(|&max| total > max) {
            return Err(format!(
                "the memory budget ran out: the search would need more than its cap of {max} \
                 bytes"
            ));
        }
        self.bytes = total;
        self.peak_bytes = self.peak_bytes.max(total);
        Ok(())
    }

    /// Makes room in `set` for one more entry whose own heap takes `heap` bytes, counting the
    /// table's growth (both tables live while it is copied) and the entry first.
    pub(crate) fn room_in<T: Hash + Eq>(
        &mut self,
        set: &mut HashSet<T>,
        heap: u64,
    ) -> Result<(), String> {
        // A table of capacity c has about c * 8 / 7 buckets of one entry and one control byte.
        let table = |capacity: usize| (capacity as u64 * 8 / 7) * (size_of::<T>() as u64 + 1);
        if set.len() == set.capacity() {
            let old = set.capacity();
            let new = (old * 2).max(16);
            self.grow(table(new))?;
            set.reserve(new - set.len());
            self.bytes = self.bytes - table(new) + table(set.capacity());
            self.peak_bytes = self.peak_bytes.max(self.bytes);
            self.release(table(old));
        }
        self.grow(heap)
    }

    /// Uncounts `bytes` that were freed (or never allocated after all).
    pub(crate) fn release(&mut self, bytes: u64) {
        self.bytes = self.bytes.saturating_sub(bytes);
    }

    /// Bytes counted now: a search that frees everything it made returns to this with
    /// [`Meter::release_to`].
    pub(crate) fn bytes(&self) -> u64 {
        self.bytes
    }

    pub(crate) fn release_to(&mut self, bytes: u64) {
        self.bytes = self.bytes.min(bytes);
    }
}

/// The time and memory shared by all partitions' searches of one linearizability check.
pub(crate) struct Budget {
    deadline: Option<Instant>,
    max_memory: Option<u64>,
    /// Bytes counted now, and the most ever counted.
    pub(crate) bytes: u64,
    pub(crate) peak_bytes: u64,
    /// Steps of searches that have finished (their own counters are gone).
    pub(crate) finished_steps: u64,
    poller: Poller,
    last_rss: Instant,
    /// Resident memory when the check began: the cap applies to what the check adds.
    rss_at_start: u64,
}

impl Budget {
    pub(crate) fn new(timeout: Option<Duration>, max_memory: Option<u64>, start: Instant) -> Self {
        Budget {
            deadline: deadline(start, timeout),
            max_memory,
            bytes: 0,
            peak_bytes: 0,
            finished_steps: 0,
            poller: Poller::new(start),
            last_rss: start,
            rss_at_start: max_memory.and_then(|_| resident_bytes()).unwrap_or(0),
        }
    }

    /// Counts `bytes` about to be allocated; `false` (and nothing counted) if they would take
    /// the check past its memory cap.
    #[inline]
    pub(crate) fn reserve(&mut self, bytes: u64) -> bool {
        let total = self.bytes.saturating_add(bytes);
        if self.max_memory.is_some_and(|max| total > max) {
            return false;
        }
        self.bytes = total;
        self.peak_bytes = self.peak_bytes.max(total);
        true
    }

    /// Uncounts `bytes` that were freed.
    #[inline]
    pub(crate) fn release(&mut self, bytes: u64) {
        self.bytes = self.bytes.saturating_sub(bytes);
    }

    /// Counts `units` of work; now and then (see [`POLL_GAP`]), looks at the clock and at the
    /// process's memory. `Some` says why the check must stop.
    #[inline]
    pub(crate) fn work(&mut self, units: u64) -> Option<String> {
        let now = self.poller.tick(units)?;
        self.check(now)
    }

    /// Looks at the clock and, now and then, at the process's resident memory, whatever the
    /// work done.
    pub(crate) fn poll(&mut self) -> Option<String> {
        let now = self.poller.look();
        self.check(now)
    }

    fn check(&mut self, now: Instant) -> Option<String> {
        if self.deadline.is_some_and(|d| now >= d) {
            return Some("the time budget ran out".to_string());
        }
        if let Some(max) = self.max_memory {
            if now.saturating_duration_since(self.last_rss) >= RSS_GAP {
                self.last_rss = now;
                if let Some(rss) = resident_bytes() {
                    let grown = rss.saturating_sub(self.rss_at_start);
                    if grown >= max {
                        return Some(format!(
                            "the memory budget ran out: the process grew by {grown} bytes"
                        ));
                    }
                }
            }
        }
        None
    }

    /// Why a refused [`reserve`](Budget::reserve) stops the check.
    pub(crate) fn exhausted(&self) -> String {
        format!(
            "the memory budget ran out: the search would need more than its cap of {} bytes",
            self.max_memory.unwrap_or(0)
        )
    }
}

/// Makes room for `extra` more elements in `v`, counting the new allocation against `budget`
/// before making it (old and new buffers both live while the contents move) and adding what
/// it keeps to `owned`. `false`: the cap does not allow it, and nothing changed.
pub(crate) fn reserve_in<T>(
    v: &mut Vec<T>,
    extra: usize,
    budget: &mut Budget,
    owned: &mut u64,
) -> bool {
    if v.capacity() - v.len() >= extra {
        return true;
    }
    let size = size_of::<T>().max(1) as u64;
    let old = v.capacity();
    let need = v.len() + extra;
    // Doubling keeps appends amortized O(1); near the cap, a smaller step may still fit.
    let mut new = need.max(old * 2).max(8);
    if !budget.reserve(new as u64 * size) {
        new = need.max(old + old / 8);
        if !budget.reserve(new as u64 * size) {
            return false;
        }
    }
    v.reserve_exact(new - v.len());
    let extra_given = (v.capacity() - new) as u64 * size;
    budget.bytes += extra_given;
    budget.peak_bytes = budget.peak_bytes.max(budget.bytes);
    budget.release(old as u64 * size);
    *owned += (v.capacity() - old) as u64 * size;
    true
}
