//! What a stress run measures, in constant memory: latency per rule in HDR histograms, memory
//! samples folded into a running least-squares fit, and the clock that times the system's call.

use super::result::{Growth, GrowthSource, Latency};
use crate::exec::sequential::SystemCall;
use hdrhistogram::Histogram;
use std::time::Instant;

/// Latencies are kept from 1 ns to an hour, to three significant digits.
pub(super) const HIGHEST_NS: u64 = 3_600_000_000_000;

/// One HDR histogram of the system call's latency per rule, in nanoseconds.
pub(crate) struct Latencies {
    by_rule: Vec<Histogram<u64>>,
}

impl Latencies {
    pub(crate) fn new(rules: usize) -> Self {
        let histogram =
            || Histogram::new_with_bounds(1, HIGHEST_NS, 3).expect("constant, valid bounds");
        Latencies {
            by_rule: (0..rules).map(|_| histogram()).collect(),
        }
    }

    #[inline]
    pub(crate) fn record(&mut self, rule: usize, ns: u64) {
        self.by_rule[rule].saturating_record(ns.max(1));
    }

    /// Adds `other`'s recorded latencies (another thread's) to these.
    pub(crate) fn merge(&mut self, other: &Latencies) {
        for (mine, theirs) in self.by_rule.iter_mut().zip(&other.by_rule) {
            mine.add(theirs).expect("same bounds");
        }
    }

    /// Moves the latencies recorded here into `into`, leaving these empty.
    pub(crate) fn move_into(&mut self, into: &mut Latencies) {
        into.merge(self);
        for h in &mut self.by_rule {
            h.reset();
        }
    }

    /// The percentiles of each rule that ran, by name, and of all of them together.
    pub(crate) fn summary(&self, names: &[&'static str]) -> (Vec<Latency>, Option<Latency>) {
        let mut all = Histogram::<u64>::new_with_bounds(1, HIGHEST_NS, 3).expect("valid");
        let mut rules = Vec::new();
        for (h, name) in self.by_rule.iter().zip(names) {
            if h.is_empty() {
                continue;
            }
            all.add(h).expect("same bounds");
            rules.push(latency(name, h));
        }
        let overall = (!all.is_empty()).then(|| latency("all", &all));
        (rules, overall)
    }
}

fn latency(name: &str, h: &Histogram<u64>) -> Latency {
    let us = |ns: u64| ns as f64 / 1_000.0;
    Latency {
        rule: name.to_string(),
        count: h.len(),
        p50_us: us(h.value_at_quantile(0.50)),
        p99_us: us(h.value_at_quantile(0.99)),
        max_us: us(h.max()),
    }
}

/// Times the system's call of one step in `every`, on average ([`SystemCall`] for the
/// sequential case's step). Reading the clock twice costs tens of nanoseconds, as much as a fast
/// system's call: timing a sample of the calls keeps the percentiles and most of the throughput.
///
/// The gap between two timed calls is drawn uniformly from 1 to `2 * every - 1`, not fixed: a
/// fixed stride locks onto a system's own period (a flush every 1,024 operations would be timed
/// every time, or never), while random gaps time every operation with the same chance whatever
/// its position, so the sample's percentiles estimate the whole run's.
pub(crate) struct CallClock {
    every: u32,
    left: u32,
    /// xorshift64 state: a fixed seed, apart from the operation stream's, so a run times the
    /// same calls every time and sampling never changes which operations run.
    gaps: u64,
    started: Option<Instant>,
    /// The latency of the call just made, if it was timed.
    pub(crate) ns: Option<u64>,
}

impl CallClock {
    pub(crate) fn new(every: u32) -> Self {
        CallClock {
            every: every.max(1),
            left: 0,
            gaps: 0x2545_F491_4F6C_DD1D,
            started: None,
            ns: None,
        }
    }

    /// The next gap, uniform in `1..=2 * every - 1` (mean `every`); always 1 when every call is
    /// timed.
    fn gap(&mut self) -> u32 {
        if self.every == 1 {
            return 1;
        }
        self.gaps ^= self.gaps << 13;
        self.gaps ^= self.gaps >> 7;
        self.gaps ^= self.gaps << 17;
        let span = 2 * u64::from(self.every) - 1;
        1 + (self.gaps % span) as u32
    }
}

impl SystemCall for CallClock {
    #[inline(always)]
    fn before(&mut self) {
        if self.left == 0 {
            self.left = self.gap();
            self.started = Some(Instant::now());
        }
        self.left -= 1;
    }

    #[inline(always)]
    fn after(&mut self) {
        self.ns = self.started.take().map(|t| t.elapsed().as_nanos() as u64);
    }
}

/// The process's resident set size in bytes, where the platform tells it (Linux).
pub fn resident_bytes() -> Option<u64> {
    // `status` gives kB directly, so no page size (and no libc call) is needed.
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// A running least-squares fit of memory (bytes) against operations, in constant memory
/// (Welford's online covariance, which stays accurate where the textbook sums would cancel).
#[derive(Clone, Default)]
pub(crate) struct GrowthFit {
    n: u64,
    mean_x: f64,
    mean_y: f64,
    m2_x: f64,
    c_xy: f64,
    first: Option<u64>,
    last: Option<u64>,
    /// The time per operation at the same sample points (taken whether or not memory could
    /// be read), so a run's figures published before a hang carry it too.
    pub(crate) pace: super::pace::PaceFit,
}

impl GrowthFit {
    /// Adds a sample: `bytes` in use after `ops` operations.
    pub(crate) fn add(&mut self, ops: u64, bytes: u64) {
        let (x, y) = (ops as f64, bytes as f64);
        self.n += 1;
        let n = self.n as f64;
        let dx = x - self.mean_x;
        self.mean_x += dx / n;
        self.mean_y += (y - self.mean_y) / n;
        self.m2_x += dx * (x - self.mean_x);
        self.c_xy += dx * (y - self.mean_y);
        self.first.get_or_insert(bytes);
        self.last = Some(bytes);
    }

    /// Bytes per million operations, once two samples at different points exist.
    pub(crate) fn slope_per_million(&self) -> Option<f64> {
        (self.n >= 2 && self.m2_x > 0.0).then(|| self.c_xy / self.m2_x * 1e6)
    }

    pub(crate) fn result(&self, source: GrowthSource) -> Growth {
        Growth {
            source,
            samples: self.n,
            bytes_per_million: self.slope_per_million(),
            first_bytes: self.first,
            last_bytes: self.last,
        }
    }
}

/// Keeps the run at or under a target rate by sleeping when it is ahead of schedule.
pub(crate) struct Throttle {
    per_op_ns: f64,
}

impl Throttle {
    pub(crate) fn new(rate: f64) -> Self {
        Throttle {
            per_op_ns: 1e9 / rate,
        }
    }

    /// Sleeps until `ops` operations are due, counted from `start`.
    pub(crate) fn pace(&self, start: Instant, ops: u64) {
        let due = std::time::Duration::from_nanos((ops as f64 * self.per_op_ns) as u64);
        let now = start.elapsed();
        // Short waits are left to accumulate: sleeping for microseconds overshoots.
        if due > now + std::time::Duration::from_millis(1) {
            std::thread::sleep(due - now);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{CallClock, GrowthFit};
    use crate::exec::sequential::SystemCall;

    /// Which of `n` calls a clock timing one in `every` times.
    fn timed(every: u32, n: usize) -> Vec<bool> {
        let mut clock = CallClock::new(every);
        (0..n)
            .map(|_| {
                clock.before();
                clock.after();
                clock.ns.is_some()
            })
            .collect()
    }

    #[test]
    fn one_call_in_sixteen_is_timed_whatever_its_position_in_a_period() {
        let n = 1024 * 2000;
        let calls = timed(16, n);
        let share = |period: usize, phase: usize| {
            let picked: Vec<bool> = (phase..n).step_by(period).map(|i| calls[i]).collect();
            picked.iter().filter(|&&t| t).count() as f64 / picked.len() as f64
        };
        assert!((share(1, 0) - 1.0 / 16.0).abs() < 0.002, "{}", share(1, 0));
        // A system with a period (a flush every 1,024 operations, a resize every 16) has each
        // phase of it timed about as often as any other: a fixed stride would time phase 0 of
        // both always and phase 1 never, and its p99 would be the flush's.
        for (period, phase) in [
            (1024, 0),
            (1024, 1),
            (1024, 512),
            (16, 0),
            (16, 1),
            (16, 15),
        ] {
            let s = share(period, phase);
            assert!(
                (s - 1.0 / 16.0).abs() < 0.02,
                "period {period} phase {phase}: {s}"
            );
        }
        // Every call, when asked.
        assert!(timed(1, 1000).iter().all(|&t| t));
    }

    #[test]
    fn the_fit_finds_a_known_slope_and_a_flat_line() {
        let mut fit = GrowthFit::default();
        for i in 0..100u64 {
            // 48 bytes per operation over a large base, plus noise that averages out.
            let noise = if i % 2 == 0 { 4096 } else { 0 };
            fit.add(i * 10_000, 500_000_000 + i * 10_000 * 48 + noise);
        }
        let slope = fit.slope_per_million().unwrap();
        assert!((slope - 48e6).abs() < 1e3, "{slope}");
        let mut flat = GrowthFit::default();
        for i in 0..100u64 {
            flat.add(i * 10_000, 500_000_000);
        }
        assert_eq!(flat.slope_per_million(), Some(0.0));
        let mut one = GrowthFit::default();
        one.add(5, 5);
        assert_eq!(one.slope_per_million(), None);
    }
}
