//! The nodes' clocks and their timers.
//!
//! The simulation keeps one time, in milliseconds. Each node sees it through its skew
//! (`ClockSkew`): its clock reads the simulation's time plus the skew, never below zero. A skew
//! is set, not added to, and may step a clock back, as an NTP correction does.
//!
//! Timers are in node time: a timer set for `after_ms` fires when the node's own clock reaches
//! the time it was set at plus `after_ms`. With a constant skew that is `after_ms` of simulation
//! time later; a skew change in between moves it (a clock stepped forward fires its timers early,
//! at once if their time has passed; one stepped back holds them). This is how a timer on a real
//! machine behaves, and what lease bugs under clock skew need.

use super::node::{NodeId, TimerId};
use std::collections::{BTreeMap, BTreeSet};

pub(crate) struct Clocks {
    skew: Vec<i64>,
    /// Per node, its timers by (deadline in node time, id).
    timers: Vec<BTreeSet<(u64, TimerId)>>,
    /// Each live timer's node and deadline, to cancel it by id.
    by_id: BTreeMap<TimerId, (NodeId, u64)>,
}

impl Clocks {
    pub(crate) fn new(nodes: usize) -> Self {
        Clocks {
            skew: vec![0; nodes],
            timers: vec![BTreeSet::new(); nodes],
            by_id: BTreeMap::new(),
        }
    }

    /// Node `node`'s clock when the simulation's reads `now`.
    pub(crate) fn node_time(&self, node: NodeId, now: u64) -> u64 {
        let t = i128::from(now) + i128::from(self.skew[usize::from(node)]);
        t.clamp(0, i128::from(u64::MAX)) as u64
    }

    /// Sets a node's skew; returns whether it changed.
    pub(crate) fn set_skew(&mut self, node: NodeId, ms: i64) -> bool {
        let old = std::mem::replace(&mut self.skew[usize::from(node)], ms);
        old != ms
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
            let at = i128::from(deadline) - i128::from(self.skew[node]);
            let at = at.clamp(i128::from(now), i128::from(u64::MAX)) as u64;
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
