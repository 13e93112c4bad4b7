//! Regression history: one stress run's figures against a previous run's, metric by metric,
//! with a regression flagged only beyond a tolerance for that kind of metric, since two runs of
//! the same plan never measure the same.

use super::result::{Latency, StressResult, StressVerdict};
use std::fmt::{self, Write as _};

/// How much worse a metric may get before it counts as a regression. Fractions: `0.10` is 10%.
/// A change exactly at the tolerance is noise; only one beyond it is flagged. Latencies also
/// have an absolute floor: a rise must pass both the fraction and the floor, since a fast
/// operation's percentage moves with the clock's own resolution.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct Tolerances {
    /// Largest drop of throughput not flagged (default 25%: eight runs of one binary and plan
    /// on a shared machine, load average near 4 on 2 cores, measured from 6.1 to 8.3 million
    /// operations per second; a quiet, dedicated machine can take 10%).
    pub throughput: f64,
    /// Largest rise of a rule's median latency not flagged (default 25%), for rises above
    /// [`p50_floor_ns`](Tolerances::p50_floor_ns).
    pub p50: f64,
    /// Largest rise of a rule's 99th percentile not flagged (default 25%), for rises above
    /// [`p99_floor_ns`](Tolerances::p99_floor_ns).
    pub p99: f64,
    /// Largest rise of a rule's slowest operation not flagged (default 100%), for rises above
    /// [`max_floor_ns`](Tolerances::max_floor_ns).
    pub max: f64,
    /// Largest rise of memory growth not flagged (default 25%), for growth above the floor.
    pub growth: f64,
    /// Memory growth, in bytes per million operations, under which growth is never flagged
    /// (default 1 MiB): RSS moves by pages and allocator arenas, so a flat system does not
    /// measure exactly flat.
    pub growth_floor: f64,
    /// A rise of a p50 latency, in nanoseconds, never flagged however large a fraction it is
    /// (default 100 ns). Timing a call costs the harness tens of nanoseconds itself (two clock
    /// reads, about 40 ns, and a histogram update), and runs of one binary and plan measured
    /// p50s of 30 to 40 ns: changes below it are the measurement, not the system.
    pub p50_floor_ns: f64,
    /// A rise of a p99 latency, in nanoseconds, never flagged (default 250 ns). The tail of a
    /// fast operation is interrupts and cache misses: eight runs of one binary and plan
    /// measured p99s of 50 to 181 ns; 250 ns is about twice that spread, and a 1 us operation
    /// twice as slow (+1,000 ns) is still flagged.
    pub p99_floor_ns: f64,
    /// A rise of a slowest operation, in nanoseconds, never flagged (default 100 ms). The
    /// maximum is one sample: one descheduling of the thread moves it by a scheduler slice
    /// (491 ns to 4.04 ms between two runs of one binary and plan). It is shown; only a stall
    /// of a tenth of a second more is flagged.
    pub max_floor_ns: f64,
}

impl Default for Tolerances {
    fn default() -> Self {
        Tolerances {
            throughput: 0.25,
            p50: 0.25,
            p99: 0.25,
            max: 1.0,
            growth: 0.25,
            growth_floor: 1024.0 * 1024.0,
            p50_floor_ns: 100.0,
            p99_floor_ns: 250.0,
            max_floor_ns: 100e6,
        }
    }
}

impl Tolerances {
    /// The tolerance for `kind`.
    pub fn of(&self, kind: MetricKind) -> f64 {
        match kind {
            MetricKind::Throughput => self.throughput,
            MetricKind::P50 => self.p50,
            MetricKind::P99 => self.p99,
            MetricKind::Max => self.max,
            MetricKind::Growth => self.growth,
        }
    }

    /// Sets the tolerance for `kind`.
    pub fn set(mut self, kind: MetricKind, fraction: f64) -> Self {
        *match kind {
            MetricKind::Throughput => &mut self.throughput,
            MetricKind::P50 => &mut self.p50,
            MetricKind::P99 => &mut self.p99,
            MetricKind::Max => &mut self.max,
            MetricKind::Growth => &mut self.growth,
        } = fraction;
        self
    }

    /// Sets the floor under which memory growth is never flagged, in bytes per million
    /// operations.
    pub fn growth_floor(mut self, bytes_per_million_ops: f64) -> Self {
        self.growth_floor = bytes_per_million_ops;
        self
    }

    /// Sets the rise of a p50 latency never flagged, in nanoseconds.
    pub fn p50_floor_ns(mut self, ns: f64) -> Self {
        self.p50_floor_ns = ns;
        self
    }

    /// Sets the rise of a p99 latency never flagged, in nanoseconds.
    pub fn p99_floor_ns(mut self, ns: f64) -> Self {
        self.p99_floor_ns = ns;
        self
    }

    /// Sets the rise of a slowest operation never flagged, in nanoseconds.
    pub fn max_floor_ns(mut self, ns: f64) -> Self {
        self.max_floor_ns = ns;
        self
    }

    /// The absolute rise under which `kind` is never flagged (latencies in nanoseconds), if it
    /// has one; growth's floor is on the figure itself, not the rise.
    fn rise_floor(&self, kind: MetricKind) -> Option<f64> {
        match kind {
            MetricKind::P50 => Some(self.p50_floor_ns),
            MetricKind::P99 => Some(self.p99_floor_ns),
            MetricKind::Max => Some(self.max_floor_ns),
            _ => None,
        }
    }
}

/// A kind of metric, each with its own tolerance.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum MetricKind {
    /// Operations per second: lower is worse.
    Throughput,
    /// A rule's median latency: higher is worse.
    P50,
    /// A rule's 99th percentile latency: higher is worse.
    P99,
    /// A rule's slowest operation: higher is worse.
    Max,
    /// Memory growth per million operations: higher is worse.
    Growth,
}

impl MetricKind {
    const ALL: [MetricKind; 5] = [
        MetricKind::Throughput,
        MetricKind::P50,
        MetricKind::P99,
        MetricKind::Max,
        MetricKind::Growth,
    ];

    fn title(self) -> &'static str {
        match self {
            MetricKind::Throughput => "throughput, ops/s",
            MetricKind::P50 => "p50 latency",
            MetricKind::P99 => "p99 latency",
            MetricKind::Max => "max latency",
            MetricKind::Growth => "memory growth per 1M ops",
        }
    }

    /// The worse direction: +1 when a rise is worse, -1 when a drop is.
    fn worse(self) -> f64 {
        match self {
            MetricKind::Throughput => -1.0,
            _ => 1.0,
        }
    }
}

/// One metric in both runs.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct Row {
    /// What is measured.
    pub kind: MetricKind,
    /// The rule, for latencies: `all` for the row over all rules (`StressResult::overall`).
    pub rule: Option<String>,
    /// The old run's figure, if it has one.
    pub old: Option<f64>,
    /// The new run's figure, if it has one.
    pub new: Option<f64>,
    /// `(new - old) / |old|`, when both exist and the old is not zero.
    pub change: Option<f64>,
    /// Worse beyond the tolerance.
    pub regression: bool,
    /// Why the row is not compared, when it is not ("only in the new run").
    pub note: Option<String>,
}

/// Two runs side by side: every metric, which regressed, and what makes them hard to compare.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct Comparison {
    /// Every metric, grouped by kind in [`MetricKind`] order, latencies by rule.
    pub rows: Vec<Row>,
    /// The verdicts of the old and the new run. A pass turned into a fail is a regression.
    pub verdicts: (StressVerdict, StressVerdict),
    /// What makes the comparison doubtful: different plans, memory measured differently.
    pub warnings: Vec<String>,
    /// The tolerances applied.
    pub tolerances: Tolerances,
}

impl Comparison {
    /// The rows flagged as regressions.
    pub fn regressions(&self) -> impl Iterator<Item = &Row> {
        self.rows.iter().filter(|r| r.regression)
    }

    /// Whether anything got worse beyond its tolerance, the verdict included.
    pub fn has_regression(&self) -> bool {
        self.verdict_regressed() || self.regressions().next().is_some()
    }

    /// The old run passed and the new one failed (a mismatch or a broken limit).
    pub fn verdict_regressed(&self) -> bool {
        self.verdicts.0 == StressVerdict::Pass && self.verdicts.1 != StressVerdict::Pass
    }

    /// The row of `kind` (and `rule`, for latencies).
    pub fn row(&self, kind: MetricKind, rule: Option<&str>) -> Option<&Row> {
        self.rows
            .iter()
            .find(|r| r.kind == kind && r.rule.as_deref() == rule)
    }
}

/// The rule name of the latency row over all rules (`StressResult::overall`), as the result
/// names it.
const OVERALL: &str = "all";

/// Compares a new run with an old one. Timestamps and seeds take no part; plans that differ give
/// a warning, since the figures of different targets say little about each other.
pub fn compare(old: &StressResult, new: &StressResult, tolerances: &Tolerances) -> Comparison {
    let mut warnings = Vec::new();
    let mut differences = Vec::new();
    plan_differences("", &plan_value(old), &plan_value(new), &mut differences);
    if !differences.is_empty() {
        let shown = differences.len().min(5);
        let mut text = differences[..shown].join(", ");
        if differences.len() > shown {
            let _ = write!(text, " and {} more", differences.len() - shown);
        }
        warnings.push(format!(
            "the runs followed different plans ({text}): their figures may not be comparable"
        ));
    }

    let mut rows = vec![row(
        MetricKind::Throughput,
        None,
        Some(old.throughput),
        Some(new.throughput),
        tolerances,
    )];
    for kind in [MetricKind::P50, MetricKind::P99, MetricKind::Max] {
        // Rows hold nanoseconds, the unit the table picks its readable unit from.
        let pick = |r: &Latency| {
            (r.count > 0).then_some(
                match kind {
                    MetricKind::P50 => r.p50_us,
                    MetricKind::P99 => r.p99_us,
                    _ => r.max_us,
                } * 1e3,
            )
        };
        // Over all rules first, as the result's text lists it: a regression spread thinly over
        // every rule shows there when no single rule's row crosses its tolerance. Results
        // without the row (neither run timed a call) leave it out.
        let overall = |res: &StressResult| res.overall.as_ref().and_then(pick);
        if old.overall.is_some() || new.overall.is_some() {
            rows.push(row(
                kind,
                Some(OVERALL),
                overall(old),
                overall(new),
                tolerances,
            ));
        }
        // The old run's rules in its order, then any only the new run has.
        let mut rules: Vec<&str> = old.latencies.iter().map(|r| r.rule.as_str()).collect();
        for r in &new.latencies {
            if !rules.contains(&r.rule.as_str()) {
                rules.push(&r.rule);
            }
        }
        for rule in rules {
            let find =
                |res: &StressResult| res.latencies.iter().find(|r| r.rule == rule).and_then(pick);
            rows.push(row(kind, Some(rule), find(old), find(new), tolerances));
        }
    }

    let (og, ng) = (&old.growth, &new.growth);
    let mut growth = row(
        MetricKind::Growth,
        None,
        og.bytes_per_million,
        ng.bytes_per_million,
        tolerances,
    );
    if og.bytes_per_million.is_some() && ng.bytes_per_million.is_some() && og.source != ng.source {
        warnings.push(format!(
            "memory growth was measured from {} in the old run and from {} in the new one: \
             not compared",
            og.source, ng.source
        ));
        growth.regression = false;
        growth.note = Some(format!("{} vs {}", og.source, ng.source));
    }
    rows.push(growth);
    // A result read from a file was checked as it was read; one built in code was not.
    for (label, run) in [("old", old), ("new", new)] {
        if let Some(bad) = super::result::check::impossible(run) {
            warnings.push(format!(
                "the {label} run's figures cannot come from a run ({}): the comparison says \
                 nothing",
                bad.problem
            ));
        }
    }

    Comparison {
        rows,
        verdicts: (old.verdict, new.verdict),
        warnings,
        tolerances: tolerances.clone(),
    }
}

fn row(
    kind: MetricKind,
    rule: Option<&str>,
    old: Option<f64>,
    new: Option<f64>,
    tolerances: &Tolerances,
) -> Row {
    let tolerance = tolerances.of(kind);
    let (change, regression, note) = match (old, new) {
        (Some(o), Some(n)) => {
            let change = (o != 0.0).then(|| (n - o) / o.abs());
            let worse = (n - o) * kind.worse();
            let beyond = match kind {
                // Growth under the floor is noise however it compares; above it, growth from
                // nothing (or from shrinking) is a regression too.
                MetricKind::Growth => n > tolerances.growth_floor && worse > o.abs() * tolerance,
                _ => o != 0.0 && worse > o.abs() * tolerance,
            };
            match tolerances.rise_floor(kind) {
                Some(floor) if beyond && worse <= floor => {
                    let note = format!("within the {} floor", nanos(floor));
                    (change, false, Some(note))
                }
                _ => (change, beyond, None),
            }
        }
        (None, None) => (None, false, Some("not measured".to_string())),
        // A rule one run never ran, or memory one run could not sample.
        (None, Some(_)) if rule.is_some() => (None, false, Some("only in the new run".into())),
        (Some(_), None) if rule.is_some() => (None, false, Some("only in the old run".into())),
        (None, Some(_)) => (None, false, Some("not measured in the old run".into())),
        (Some(_), None) => (None, false, Some("not measured in the new run".into())),
    };
    Row {
        kind,
        rule: rule.map(str::to_string),
        old,
        new,
        change,
        regression,
        note,
    }
}

/// The plan of `result` as JSON, without what does not change the target: where the result is
/// written, and the seed (two runs of one plan from different seeds are still like with like).
fn plan_value(result: &StressResult) -> serde_json::Value {
    let mut plan = serde_json::to_value(&result.plan).unwrap_or(serde_json::Value::Null);
    if let Some(fields) = plan.as_object_mut() {
        fields.remove("result_path");
        fields.remove("seed");
    }
    plan
}

/// The places where two plans differ, as `path: old -> new`.
fn plan_differences(
    path: &str,
    old: &serde_json::Value,
    new: &serde_json::Value,
    out: &mut Vec<String>,
) {
    use serde_json::Value;
    if let (Value::Object(a), Value::Object(b)) = (old, new) {
        let mut keys: Vec<&String> = a.keys().chain(b.keys()).collect();
        keys.sort();
        keys.dedup();
        for key in keys {
            let sub = if path.is_empty() {
                key.clone()
            } else {
                format!("{path}.{key}")
            };
            let missing = Value::Null;
            plan_differences(
                &sub,
                a.get(key).unwrap_or(&missing),
                b.get(key).unwrap_or(&missing),
                out,
            );
        }
    } else if old != new {
        let name = if path.is_empty() { "plan" } else { path };
        out.push(format!("{name}: {} -> {}", brief(old), brief(new)));
    }
}

fn brief(value: &serde_json::Value) -> String {
    let text = value.to_string();
    if text.chars().count() > 30 {
        format!("{}...", text.chars().take(27).collect::<String>())
    } else {
        text
    }
}

impl fmt::Display for Comparison {
    /// One table per kind of metric: the rule (latencies), old, new, change and the flag.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        for kind in MetricKind::ALL {
            let rows: Vec<&Row> = self.rows.iter().filter(|r| r.kind == kind).collect();
            if rows.is_empty() {
                continue;
            }
            if !first {
                writeln!(f)?;
            }
            first = false;
            let tolerance = self.tolerances.of(kind) * 100.0 * kind.worse();
            writeln!(
                f,
                "{:<28} {:>14} {:>14} {:>9}",
                kind.title(),
                "old",
                "new",
                "change"
            )?;
            for r in rows {
                let name = r.rule.as_deref().unwrap_or("all");
                let old = r.old.map_or("-".to_string(), |v| figure(kind, v));
                let new = r.new.map_or("-".to_string(), |v| figure(kind, v));
                let change = r.change.map_or("n/a".to_string(), percent);
                let mut line = format!("  {name:<26} {old:>14} {new:>14} {change:>9}");
                if r.regression && kind == MetricKind::Growth {
                    let floor = bytes(self.tolerances.growth_floor);
                    let _ = write!(
                        line,
                        "  REGRESSION (tolerance {tolerance:+.0}% above {floor})"
                    );
                } else if let (true, Some(floor)) = (r.regression, self.tolerances.rise_floor(kind))
                {
                    let floor = nanos(floor);
                    let _ = write!(
                        line,
                        "  REGRESSION (tolerance {tolerance:+.0}% and +{floor})"
                    );
                } else if r.regression {
                    let _ = write!(line, "  REGRESSION (tolerance {tolerance:+.0}%)");
                } else if let Some(note) = &r.note {
                    let _ = write!(line, "  ({note})");
                }
                writeln!(f, "{}", line.trim_end())?;
            }
        }
        writeln!(f)?;
        write!(f, "verdict: {} -> {}", self.verdicts.0, self.verdicts.1)?;
        if self.verdict_regressed() {
            write!(f, "  REGRESSION")?;
        }
        writeln!(f)
    }
}

// Results read from files are checked, but one built in code is not: whatever it holds, the
// table shows no `inf`, `NaN` or 300-digit figure.
fn figure(kind: MetricKind, v: f64) -> String {
    if !v.is_finite() {
        return "n/a".to_string();
    }
    match kind {
        MetricKind::Throughput if v.abs() >= 1e15 => format!("{v:.2e}"),
        MetricKind::Throughput => super::progress::grouped(v.round().max(0.0) as u64),
        MetricKind::Growth => bytes(v),
        _ => nanos(v),
    }
}

/// A change as a percentage, in scientific notation past 100,000% (so a figure from a result
/// built in code stays one column wide).
fn percent(change: f64) -> String {
    let p = change * 100.0;
    if !p.is_finite() {
        "n/a".to_string()
    } else if p.abs() >= 1e5 {
        format!("{p:+.1e}%")
    } else {
        format!("{p:+.1}%")
    }
}

/// Latency in the unit that keeps it readable: "850 ns", "12.4 us", "3.10 ms", "1.20 s".
pub(super) fn nanos(ns: f64) -> String {
    if ns.abs() >= 1e13 {
        format!("{:.2e} s", ns / 1e9)
    } else if ns < 1e3 {
        format!("{ns:.0} ns")
    } else if ns < 1e6 {
        format!("{:.1} us", ns / 1e3)
    } else if ns < 1e9 {
        format!("{:.2} ms", ns / 1e6)
    } else {
        format!("{:.2} s", ns / 1e9)
    }
}

/// Signed bytes in powers of 1024: "512 B", "-1.50 MiB".
fn bytes(b: f64) -> String {
    let units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
    let mut v = b.abs();
    let mut unit = 0;
    while v >= 1024.0 && unit + 1 < units.len() {
        v /= 1024.0;
        unit += 1;
    }
    let sign = if b < 0.0 { "-" } else { "" };
    if v >= 1024.0 {
        format!("{sign}{:.2e} B", b.abs())
    } else if unit == 0 {
        format!("{sign}{v:.0} B")
    } else {
        format!("{sign}{v:.2} {}", units[unit])
    }
}

#[cfg(test)]
#[path = "compare_tests.rs"]
mod tests;
