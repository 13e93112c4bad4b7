//! The nodes' clocks and their timers.
//!
//! The simulation keeps one time, in milliseconds. Each node sees it through its own clock,
//! which has a skew (`ClockSkew`) and a rate (`ClockDrift`). A skew is set, not added to: the
//! clock then reads the simulation's time plus the skew, and may have stepped back, as an NTP
//! correction does. A rate, in parts per thousand, makes the clock run fast or slow from then
//! on: at rate `r` it advances `1000 + r` ms per 1,000 ms of simulation time (rounded down to
//! whole milliseconds), without a step. A clock never reads below zero.
//!
//! Timers are in node time: a timer set for `after_ms` fires when the node's own clock reaches
//! the time it was set at plus `after_ms`. With a constant skew and no drift that is `after_ms`
//! of simulation time later; a fast clock fires it early, a slow one late, and a skew change in
//! between moves it (a clock stepped forward fires its timers early, at once if their time has
//! passed; one stepped back holds them). This is how a timer on a real machine behaves, and what
//! lease bugs under clock skew and drift need.

use super::node::{NodeId, TimerId};
use std::collections::{BTreeMap, BTreeSet};

/// The slowest and fastest rates a clock runs at, in parts per thousand: a clock never stops
/// or runs backwards, and runs at most twice as fast as the simulation. `ClockDrift` rates
/// outside are taken as the nearest bound.
pub(crate) const DRIFT_BOUNDS: (i64, i64) = (-900, 1000);

/// One node's clock, as a line through its last change: at simulation time `since` it read
/// `at` (possibly below zero before clamping), and it runs at `1000 + rate` per 1,000.
#[derive(Clone, Copy)]
struct Clock {
    since: u64,
    at: i128,
    rate: i64,
}

impl Clock {
    fn raw(&self, now: u64) -> i128 {
        let elapsed = i128::from(now.saturating_sub(self.since));
        if self.rate == 0 {
            return self.at + elapsed;
        }
        self.at + (elapsed * i128::from(1000 + self.rate)).div_euclid(1000)
    }

    /// The first simulation time from `now` on at which the clock reads at least `deadline`.
    fn reaches(&self, deadline: u64, now: u64) -> u64 {
        let ahead = i128::from(deadline) - self.at;
        let at = if ahead <= 0 {
            i128::from(self.since)
        } else if self.rate == 0 {
            // The common case, on the simulator's hot path: no division.
            i128::from(self.since) + ahead
        } else {
            // The least elapsed `e` with floor(e * k / 1000) >= ahead.
            let k = i128::from(1000 + self.rate);
            i128::from(self.since) + (ahead * 1000 + k - 1).div_euclid(k)
        };
        at.clamp(i128::from(now), i128::from(u64::MAX)) as u64
    }
}

pub(crate) struct Clocks {
    clocks: Vec<Clock>,
    /// Per node, its timers by (deadline in node time, id).
    timers: Vec<BTreeSet<(u64, TimerId)>>,
    /// Each live timer's node and deadline, to cancel it by id.
    by_id: BTreeMap<TimerId, (NodeId, u64)>,
}

impl Clocks {
    pub(crate) fn new(nodes: usize) -> Self {
        let clock = Clock {
            since: 0,
            at: 0,
            rate: 0,
        };
        Clocks {
            clocks: vec![clock; nodes],
            timers: vec![BTreeSet::new(); nodes],
            by_id: BTreeMap::new(),
        }
    }

    /// Node `node`'s clock when the simulation's reads `now`.
    pub(crate) fn node_time(&self, node: NodeId, now: u64) -> u64 {
        let t = self.clocks[usize::from(node)].raw(now);
        t.clamp(0, i128::from(u64::MAX)) as u64
    }

    /// Sets a node's skew at simulation time `now`: its clock reads `now + ms` (its rate stays);
    /// returns whether that changed it.
    pub(crate) fn set_skew(&mut self, node: NodeId, ms: i64, now: u64) -> bool {
        let clock = &mut self.clocks[usize::from(node)];
        let to = i128::from(now) + i128::from(ms);
        if clock.raw(now) == to {
            return false;
        }
        clock.since = now;
        clock.at = to;
        true
    }

    /// Sets a node's rate (parts per thousand, within [`DRIFT_BOUNDS`]) from simulation time
    /// `now` on, without stepping its clock; returns whether that changed it.
    pub(crate) fn set_drift(&mut self, node: NodeId, rate: i64, now: u64) -> bool {
        let rate = rate.clamp(DRIFT_BOUNDS.0, DRIFT_BOUNDS.1);
        let clock = &mut self.clocks[usize::from(node)];
        if clock.rate == rate {
            return false;
        }
        clock.at = clock.raw(now);
        clock.since = now;
        clock.rate = rate;
        true
    }

    pub(crate) fn set(&mut self, node: NodeId, now: u64, timer: TimerId, after_ms: u64) {
        let deadline = self.node_time(node, now).saturating_add(after_ms);
        self.timers[usize::from(node)].insert((deadline, timer));
        self.by_id.insert(timer, (node, deadline));
    }

    /// Cancels a timer; returns whether it was set (it may have fired, or belong to another
    /// incarnation of the node).
    pub(crate) fn cancel(&mut self, node: NodeId, timer: TimerId) -> bool {
        match self.by_id.get(&timer) {
            // A node may only cancel its own timers.
            Some(&(owner, deadline)) if owner == node => {
                self.by_id.remove(&timer);
                self.timers[usize::from(node)].remove(&(deadline, timer));
                true
            }
            _ => false,
        }
    }

    /// Drops every timer of a node (it crashed).
    pub(crate) fn clear(&mut self, node: NodeId) {
        for (_, timer) in std::mem::take(&mut self.timers[usize::from(node)]) {
            self.by_id.remove(&timer);
        }
    }

    /// The timer to fire first, as (simulation time, node, timer); ties go to the lower node
    /// id, then the earlier timer. A timer whose node time has already passed fires at `now`.
    pub(crate) fn next(&self, now: u64) -> Option<(u64, NodeId, TimerId)> {
        let mut best: Option<(u64, NodeId, TimerId)> = None;
        for (node, set) in self.timers.iter().enumerate() {
            let Some(&(deadline, timer)) = set.first() else {
                continue;
            };
            let at = self.clocks[node].reaches(deadline, now);
            if best.is_none_or(|(b, _, _)| at < b) {
                best = Some((at, node as NodeId, timer));
            }
        }
        best
    }

    /// Removes a timer that fires now.
    pub(crate) fn fire(&mut self, node: NodeId, timer: TimerId) {
        self.cancel(node, timer);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fast_clock_runs_ahead_and_a_slow_one_behind() {
        let mut c = Clocks::new(3);
        assert!(c.set_drift(1, 100, 1_000));
        assert!(c.set_drift(2, -250, 1_000));
        // No step when the rate changes: both still read the simulation's time.
        assert_eq!(
            (c.node_time(1, 1_000), c.node_time(2, 1_000)),
            (1_000, 1_000)
        );
        assert_eq!(c.node_time(0, 3_000), 3_000);
        assert_eq!(c.node_time(1, 3_000), 3_200);
        assert_eq!(c.node_time(2, 3_000), 2_500);
        // Whole milliseconds, rounded down.
        assert_eq!(c.node_time(1, 1_009), 1_009);
        assert_eq!(c.node_time(1, 1_010), 1_011);
        // The same rate again changes nothing; out of bounds is the bound.
        assert!(!c.set_drift(1, 100, 3_000));
        assert!(c.set_drift(1, 5_000, 3_000));
        assert_eq!(c.node_time(1, 4_000), 3_200 + 2_000);
        assert!(!c.set_drift(1, DRIFT_BOUNDS.1, 4_000));
    }

    #[test]
    fn a_skew_steps_a_drifting_clock_which_keeps_its_rate() {
        let mut c = Clocks::new(1);
        c.set_drift(0, 500, 0);
        assert_eq!(c.node_time(0, 100), 150);
        // Set to the simulation's time minus 40 now, then fast again.
        assert!(c.set_skew(0, -40, 100));
        assert_eq!(c.node_time(0, 100), 60);
        assert_eq!(c.node_time(0, 300), 360);
        assert!(!c.set_skew(0, 60, 300), "already 60 ahead");
        // Never below zero.
        c.set_skew(0, -500, 300);
        assert_eq!(c.node_time(0, 300), 0);
    }

    #[test]
    fn timers_fire_when_the_node_clock_reaches_them() {
        let mut c = Clocks::new(3);
        c.set_drift(1, 250, 0);
        c.set_drift(2, -500, 0);
        for node in 0..3 {
            c.set(node, 0, TimerId(u64::from(node)), 1_000);
        }
        // 1,000 ms of node time: 1,000 ms of simulation time at rate 0, 800 fast, 2,000 slow.
        assert_eq!(c.next(0), Some((800, 1, TimerId(1))));
        c.fire(1, TimerId(1));
        assert_eq!(c.next(0), Some((1_000, 0, TimerId(0))));
        c.fire(0, TimerId(0));
        assert_eq!(c.next(0), Some((2_000, 2, TimerId(2))));
        // A rate that gives no whole millisecond: the first time the clock reads the deadline.
        let mut c = Clocks::new(1);
        c.set_drift(0, 333, 0);
        c.set(0, 0, TimerId(7), 100);
        let (at, _, _) = c.next(0).expect("a timer");
        assert!(
            c.node_time(0, at) >= 100 && c.node_time(0, at - 1) < 100,
            "{at}"
        );
        // A timer already due fires now.
        c.set_skew(0, 1_000, 10);
        assert_eq!(c.next(50), Some((50, 0, TimerId(7))));
    }
}
