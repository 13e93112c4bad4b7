//! The pace of a run: the wall-clock time per operation early after warm-up against late in the
//! run. A system whose cost per operation grows with its state (a linear scan of everything
//! ever stored, a list re-sorted on every insert) runs quadratically: its throughput over the
//! whole run can still meet a limit set for a short run, while the last operations each take
//! many times the first ones. The slowdown, late against early, names that class of bug.
//!
//! Time is read at the memory sample points (every `sample_every` operations after warm-up),
//! so the cost is one clock read per sample. Each interval between two samples gives a time per
//! operation; the early and the late pace are the medians of the first and of the last
//! [`EDGE`] intervals, so one interval stretched by a descheduling moves neither.

use serde::{Deserialize, Serialize};
use std::collections::VecDeque;
use std::time::Duration;

/// Intervals on each side of the run whose median is its early and its late pace.
const EDGE: usize = 5;

/// Intervals a pace needs: fewer, and the early and late medians would share most intervals.
pub(super) const MIN_INTERVALS: u64 = 2 * EDGE as u64;

/// Early and late time per operation, kept in constant memory as the run goes.
#[derive(Clone, Default)]
pub(crate) struct PaceFit {
    last: Option<(u64, Duration)>,
    intervals: u64,
    first: Vec<f64>,
    recent: VecDeque<f64>,
}

impl PaceFit {
    /// Adds a sample point: `ops` operations done `at` into the run.
    pub(crate) fn add(&mut self, ops: u64, at: Duration) {
        if let Some((ops0, at0)) = self.last {
            if ops > ops0 {
                let ns = at.saturating_sub(at0).as_nanos() as f64 / (ops - ops0) as f64;
                self.intervals += 1;
                if self.first.len() < EDGE {
                    self.first.push(ns);
                }
                if self.recent.len() == EDGE {
                    self.recent.pop_front();
                }
                self.recent.push_back(ns);
            }
        }
        self.last = Some((ops, at));
    }

    /// The pace, once the run has at least [`MIN_INTERVALS`] intervals.
    pub(crate) fn result(&self) -> Option<Pace> {
        if self.intervals < MIN_INTERVALS {
            return None;
        }
        let early = median(self.first.clone());
        let late = median(self.recent.iter().copied().collect());
        Some(Pace {
            intervals: self.intervals,
            early_ns_per_op: early,
            late_ns_per_op: late,
            // A clock too coarse to see an early interval at all: no slowdown can be named.
            slowdown: if early > 0.0 { late / early } else { 1.0 },
        })
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// The run's time per operation early after warm-up and late in the run, and their ratio.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct Pace {
    /// Intervals between memory sample points measured after warm-up.
    pub intervals: u64,
    /// Median wall-clock time per operation over the first intervals after warm-up, in
    /// nanoseconds (the harness's own cost included, as in the throughput).
    pub early_ns_per_op: f64,
    /// The same over the last intervals of the run.
    pub late_ns_per_op: f64,
    /// `late_ns_per_op / early_ns_per_op`: about 1 for a system whose cost does not grow with
    /// the run, 10 for one whose last operations take ten times its first.
    pub slowdown: f64,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn a_steady_run_has_no_slowdown_and_one_stretched_interval_changes_nothing() {
        let mut fit = PaceFit::default();
        for i in 0..=40u64 {
            // 1 ms per 1,000 operations, but interval 3 (and 38) took 50 ms: a descheduling.
            let extra = if i >= 4 { 49 } else { 0 } + if i >= 39 { 49 } else { 0 };
            fit.add(i * 1_000, ms(i + extra));
        }
        let pace = fit.result().unwrap();
        assert_eq!(pace.intervals, 40);
        assert_eq!(pace.early_ns_per_op, 1_000.0);
        assert_eq!(pace.late_ns_per_op, 1_000.0);
        assert_eq!(pace.slowdown, 1.0);
    }

    #[test]
    fn a_cost_growing_with_the_run_is_a_slowdown_of_late_against_early() {
        // Operation k costs k ns: each interval of 1,000 costs more than the one before.
        let mut fit = PaceFit::default();
        let mut t = 0u64;
        for i in 0..=100u64 {
            fit.add(i * 1_000, Duration::from_nanos(t));
            t += (i * 1_000..(i + 1) * 1_000).sum::<u64>();
        }
        let pace = fit.result().unwrap();
        // Intervals 0..5 are early (median interval 2: 2,500 ns), 95..100 late (97: 97,500).
        assert_eq!(pace.early_ns_per_op, 2_499.5);
        assert_eq!(pace.late_ns_per_op, 97_499.5);
        assert!((pace.slowdown - 39.0).abs() < 0.01, "{}", pace.slowdown);
    }

    #[test]
    fn too_few_intervals_give_no_pace() {
        let mut fit = PaceFit::default();
        for i in 0..MIN_INTERVALS {
            fit.add(i * 10, ms(i));
        }
        assert!(fit.result().is_none());
        fit.add(MIN_INTERVALS * 10, ms(MIN_INTERVALS));
        assert!(fit.result().is_some());
    }
}
