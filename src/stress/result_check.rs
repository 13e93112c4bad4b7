//! Figures no run can produce, refused when a result file is read: a comparison against a
//! hand-edited or corrupted baseline would otherwise print `inf`, `NaN` or a 300-digit figure,
//! and call a regression "no regression".
//!
//! The bounds are those of the measurements themselves: times and rates are never negative or
//! infinite, a run's throughput is its operations over at least a nanosecond, latencies are
//! kept up to an hour, a percentile never exceeds a higher one or the maximum, and memory
//! growth is at most the whole `u64` byte range per operation. Negative growth (memory that
//! shrank) is a measurement like any other.
//!
//! The figures must also agree with each other as a run writes them: throughput is operations
//! over elapsed time, no run numbers past `u32::MAX` operations or past its plan's, no rule
//! times more calls than all rules together, a slope needs two samples from a real source,
//! and the verdict matches its evidence (a pass breaks no limit, a mismatch has its failure).

use super::{Growth, GrowthSource, Latency, StressResult, StressVerdict};
use crate::stress::pace::MIN_INTERVALS;
use crate::stress::plan::keys;

/// The longest latency a histogram keeps (an hour, in microseconds), with room for its rounding
/// up to the bucket's highest value.
const MAX_LATENCY_US: f64 = 2.0 * 3_600.0 * 1e6;

/// The longest time per operation a pace may read: the longest a timed call may be.
const MAX_NS_PER_OP: f64 = crate::stress::measure::HIGHEST_NS as f64;

/// The largest growth a run can fit: every byte of a `u64` gauge within one operation.
const MAX_GROWTH: f64 = u64::MAX as f64 * 1e6;

/// A figure that cannot come from a run: the field's path in the file (`latencies.p99_us`),
/// which of its occurrences (for the rows of an array), and the problem.
pub(in crate::stress) struct Impossible {
    pub(super) field: &'static str,
    pub(super) occurrence: usize,
    pub(in crate::stress) problem: String,
}

/// The first figure of `r` no run can produce.
pub(in crate::stress) fn impossible(r: &StressResult) -> Option<Impossible> {
    let at = |field, occurrence, problem| {
        Some(Impossible {
            field,
            occurrence,
            problem,
        })
    };
    let e = r.elapsed_secs;
    if !(e.is_finite() && e >= 0.0) {
        return at(
            "elapsed_secs",
            0,
            format!("`elapsed_secs` is {e:?}: no run lasts that"),
        );
    }
    if e == 0.0 && r.operations > 0 {
        return at(
            "elapsed_secs",
            0,
            format!(
                "`elapsed_secs` is 0 but the run has {} operations: operations take time",
                r.operations
            ),
        );
    }
    if r.operations > u64::from(u32::MAX) {
        return at(
            "operations",
            0,
            format!(
                "`operations` is {}: a run numbers at most {} operations",
                r.operations,
                u32::MAX
            ),
        );
    }
    if let Some(n) = r.plan.operations.filter(|&n| r.operations > n) {
        return at(
            "operations",
            0,
            format!(
                "`operations` is {} but the plan stops a run at {n}",
                r.operations
            ),
        );
    }
    let t = r.throughput;
    // The runners divide by at least a nanosecond.
    let most = r.operations.max(1) as f64 * 1e9 * (1.0 + 1e-9);
    if !(t.is_finite() && t >= 0.0 && t <= most) {
        return at(
            "throughput",
            0,
            format!(
                "`throughput` is {t:?}: a run of {} operations measures between 0 and {:e} \
                 operations per second",
                r.operations,
                r.operations.max(1) as f64 * 1e9
            ),
        );
    }
    // A run's throughput is its operations over its elapsed time (at least a nanosecond), to
    // the last bit as written; a run stopped by a stuck call counts up to the call instead of
    // the time spent waiting on it, so a mismatch's is held only to the bounds above.
    let expected = r.operations as f64 / e.max(1e-9);
    if r.verdict != StressVerdict::Mismatch && (t - expected).abs() > expected * 1e-9 {
        return at(
            "throughput",
            0,
            format!(
                "`throughput` is {t:?} but {} operations in {e:?} s is {expected:?} \
                 operations per second",
                r.operations
            ),
        );
    }
    for (i, l) in r.latencies.iter().enumerate() {
        if let Some(problem) = latency(l, r.operations) {
            return at_latency(
                "latencies",
                i,
                &format!("latencies[{i}] ({})", l.rule),
                problem,
            );
        }
        if r.latencies[..i].iter().any(|m| m.rule == l.rule) {
            return at(
                "latencies.rule",
                i,
                format!(
                    "`latencies[{i}]` is a second row for the rule `{}`: a run has one per rule",
                    l.rule
                ),
            );
        }
    }
    if let Some(problem) = r.overall.as_ref().and_then(|l| latency(l, r.operations)) {
        return at_latency("overall", 0, "overall", problem);
    }
    // The row over all rules counts every timed call; no rule timed more.
    if let Some(all) = &r.overall {
        if let Some((i, l)) = (r.latencies.iter().enumerate()).find(|(_, l)| l.count > all.count) {
            return at(
                "latencies.count",
                i,
                format!(
                    "latencies[{i}] ({}): `count` is {} but the row over all rules counts {}",
                    l.rule, l.count, all.count
                ),
            );
        }
    }
    if let Some(bad) = growth(&r.growth).or_else(|| verdict(r)) {
        return Some(bad);
    }
    if let Some(p) = &r.pace {
        let times = [p.early_ns_per_op, p.late_ns_per_op];
        let problem = if p.intervals < MIN_INTERVALS {
            Some(format!(
                "`pace.intervals` is {}: a pace is measured over at least {MIN_INTERVALS}",
                p.intervals
            ))
        } else if times
            .iter()
            .any(|t| !(t.is_finite() && *t >= 0.0 && *t <= MAX_NS_PER_OP))
        {
            Some(format!(
                "`pace` times are {:?} and {:?} ns per operation: give times from 0 to an hour",
                p.early_ns_per_op, p.late_ns_per_op
            ))
        } else if !(p.slowdown.is_finite() && p.slowdown >= 0.0) {
            Some(format!(
                "`pace.slowdown` is {:?}: not a ratio of two times",
                p.slowdown
            ))
        } else {
            None
        };
        if let Some(problem) = problem {
            return at("pace", 0, problem);
        }
    }
    match r.growth.bytes_per_million {
        Some(g) if !(g.is_finite() && g.abs() <= MAX_GROWTH) => at(
            "growth.bytes_per_million",
            0,
            format!(
                "`growth.bytes_per_million` is {g:e}: no run's memory changes by more than \
                 {MAX_GROWTH:e} bytes per million operations"
            ),
        ),
        _ => None,
    }
}

/// Growth figures no sampling gives: a slope from fewer than two samples, or samples from
/// nowhere.
fn growth(g: &Growth) -> Option<Impossible> {
    let at = |field, problem| {
        Some(Impossible {
            field,
            occurrence: 0,
            problem,
        })
    };
    let measured = g.bytes_per_million.is_some() || g.first_bytes.is_some();
    if g.source == GrowthSource::Unavailable && (measured || g.samples > 0) {
        return at(
            "growth.source",
            "`growth.source` is \"unavailable\" but the growth has samples or figures: \
             nothing was sampled"
                .to_string(),
        );
    }
    if g.bytes_per_million.is_some() && g.samples < 2 {
        return at(
            "growth.samples",
            format!(
                "`growth.samples` is {} but `bytes_per_million` is set: a slope needs two \
                 samples",
                g.samples
            ),
        );
    }
    None
}

/// A verdict its own fields contradict: a pass with a broken limit or a failure, a mismatch
/// without the failure, a broken limit without the limit.
fn verdict(r: &StressResult) -> Option<Impossible> {
    let problem = match r.verdict {
        StressVerdict::Pass if !r.broken_limits.is_empty() => {
            "`verdict` is \"pass\" but `broken_limits` names a broken limit"
        }
        StressVerdict::Pass if r.failure.is_some() => {
            "`verdict` is \"pass\" but the result has a `failure`"
        }
        StressVerdict::Mismatch if r.failure.is_none() => {
            "`verdict` is \"mismatch\" but the result has no `failure` saying where"
        }
        StressVerdict::LimitBroken if r.broken_limits.is_empty() => {
            "`verdict` is \"limit_broken\" but `broken_limits` is empty"
        }
        _ => return None,
    };
    Some(Impossible {
        field: "verdict",
        occurrence: 0,
        problem: problem.to_string(),
    })
}

/// A latency row's problem: the field and what is wrong with it.
fn latency(l: &Latency, operations: u64) -> Option<(&'static str, String)> {
    for (field, v) in [
        ("p50_us", l.p50_us),
        ("p99_us", l.p99_us),
        ("max_us", l.max_us),
    ] {
        if !(v.is_finite() && (0.0..=MAX_LATENCY_US).contains(&v)) {
            return Some((
                field,
                format!("`{field}` is {v:?}: a latency is between 0 and an hour"),
            ));
        }
    }
    if l.p50_us > l.p99_us || l.p99_us > l.max_us {
        return Some((
            "p99_us",
            format!(
                "p50 {:?} us, p99 {:?} us, max {:?} us: a run's percentiles never exceed a higher \
                 one or the maximum",
                l.p50_us, l.p99_us, l.max_us
            ),
        ));
    }
    if l.count > operations {
        return Some((
            "count",
            format!(
                "`count` is {} but the run has {operations} operations: more calls timed \
                 than made",
                l.count
            ),
        ));
    }
    None
}

fn at_latency(
    array: &'static str,
    i: usize,
    name: &str,
    (field, problem): (&'static str, String),
) -> Option<Impossible> {
    let path = match (array, field) {
        ("latencies", "p50_us") => "latencies.p50_us",
        ("latencies", "p99_us") => "latencies.p99_us",
        ("latencies", "max_us") => "latencies.max_us",
        ("latencies", _) => "latencies.count",
        (_, "p50_us") => "overall.p50_us",
        (_, "p99_us") => "overall.p99_us",
        (_, "max_us") => "overall.max_us",
        _ => "overall.count",
    };
    Some(Impossible {
        field: path,
        occurrence: i,
        problem: format!("{name}: {problem}"),
    })
}

/// The line of the `occurrence`th (from 0) key at `field` in the JSON `text`.
pub(super) fn line(text: &str, field: &str, occurrence: usize) -> Option<usize> {
    keys::keys(text, false)
        .into_iter()
        .filter(|(path, _)| path == field)
        .nth(occurrence)
        .map(|(_, line)| line)
}
