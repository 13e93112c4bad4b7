//! Figures no run can produce, refused when a result file is read: a comparison against a
//! hand-edited or corrupted baseline would otherwise print `inf`, `NaN` or a 300-digit figure,
//! and call a regression "no regression".
//!
//! The bounds are those of the measurements themselves: times and rates are never negative or
//! infinite, a run's throughput is its operations over at least a nanosecond, latencies are
//! kept up to an hour, a percentile never exceeds a higher one or the maximum, and memory
//! growth is at most the whole `u64` byte range per operation. Negative growth (memory that
//! shrank) is a measurement like any other.

use super::{Latency, StressResult};
use crate::stress::plan::keys;

/// The longest latency a histogram keeps (an hour, in microseconds), with room for its rounding
/// up to the bucket's highest value.
const MAX_LATENCY_US: f64 = 2.0 * 3_600.0 * 1e6;

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
