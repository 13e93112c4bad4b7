//! What a stress run found: its figures, its verdict and, on failure, where and why. Written as
//! JSON so a later run can be compared with it (`stateprop compare`).

use super::plan::StressPlan;
use serde::{Deserialize, Serialize};
use std::fmt::Write;
use std::path::Path;

/// The outcome of a stress run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct StressResult {
    /// The plan the run followed.
    pub plan: StressPlan,
    /// The seed of the operation stream (rerun with `STATEPROP_SEED`).
    pub seed: u64,
    /// Operations run (the failing one included).
    pub operations: u64,
    /// Wall-clock time of the run, in seconds (shrinking excluded).
    pub elapsed_secs: f64,
    /// Operations per second.
    pub throughput: f64,
    /// Latency of the system's call per rule that ran.
    pub latencies: Vec<Latency>,
    /// Latency over all rules.
    pub overall: Option<Latency>,
    /// Memory growth after warm-up.
    pub growth: Growth,
    /// Pass, or which check or limit failed.
    pub verdict: StressVerdict,
    /// The limits the run broke, as sentences (each starts with `stateprop:`).
    pub broken_limits: Vec<String>,
    /// The model/system mismatch, if one was found.
    pub failure: Option<StressFailure>,
}

/// Latency percentiles of one rule's system calls, in microseconds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Latency {
    /// The rule's name (`all` for every rule together).
    pub rule: String,
    /// Calls timed (one in the plan's `latency_every`).
    pub count: u64,
    /// Median.
    pub p50_us: f64,
    /// 99th percentile.
    pub p99_us: f64,
    /// Slowest call.
    pub max_us: f64,
}

/// Memory growth after warm-up: the least-squares slope of the samples.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Growth {
    /// What was sampled: `rss` (the process's resident set), `gauge` (the test's own measure)
    /// or `unavailable` (no RSS on this platform and no gauge).
    pub source: String,
    /// Samples taken after warm-up.
    pub samples: u64,
    /// Bytes per million operations; `None` with fewer than two samples.
    pub bytes_per_million: Option<f64>,
    /// The first sample after warm-up, in bytes.
    pub first_bytes: Option<u64>,
    /// The last sample, in bytes.
    pub last_bytes: Option<u64>,
}

/// How a stress run ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum StressVerdict {
    /// Every step matched the model and every limit held.
    Pass,
    /// A step did not match the model (or its invariant failed, or it panicked).
    Mismatch,
    /// Every step matched, but a limit was broken.
    LimitBroken,
}

/// A step that did not match the model, found at operation `operation`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct StressFailure {
    /// The 0-based index of the failing operation in the stream.
    pub operation: u64,
    /// What failed there.
    pub cause: String,
    /// The operations before it and it, oldest first, as `index: Rust expression`.
    pub window: Vec<String>,
    /// The shortest prefix of the stream that fails on a fresh system (operations), when the
    /// failure replayed; `None` if it did not.
    pub prefix: Option<u64>,
    /// When the prefix was past the shrink bound: how many of its last operations, run alone
    /// from a fresh system, still failed (and were shrunk instead).
    pub tail: Option<u64>,
    /// The shrinker's report on that prefix (or on its tail), when it was short enough.
    pub report: Option<String>,
    /// The shrunk program, one operation a line, when it was shrunk.
    pub minimal: Vec<String>,
}

impl StressResult {
    /// Whether the run passed: no mismatch and no limit broken.
    pub fn passed(&self) -> bool {
        self.verdict == StressVerdict::Pass
    }

    /// The result as the lines the run prints, each starting with `stateprop:`.
    pub fn text(&self) -> String {
        let mut t = String::new();
        let verdict = match self.verdict {
            StressVerdict::Pass => "passed",
            StressVerdict::Mismatch => "FAILED (model mismatch)",
            StressVerdict::LimitBroken => "FAILED (limit broken)",
        };
        let _ = writeln!(
            t,
            "stateprop: stress run {verdict}: {} operations in {:.2} s ({:.0} ops/s), seed {}",
            self.operations, self.elapsed_secs, self.throughput, self.seed
        );
        for l in self.overall.iter().chain(&self.latencies) {
            let _ = writeln!(
                t,
                "stateprop:   latency {:<12} n={:<10} p50 {:>9.2} us  p99 {:>9.2} us  max {:>10.2} us",
                l.rule, l.count, l.p50_us, l.p99_us, l.max_us
            );
        }
        let g = &self.growth;
        match g.bytes_per_million {
            Some(b) => {
                let _ = writeln!(
                    t,
                    "stateprop:   memory ({}): {} per million operations after warm-up \
                     ({} samples, {} -> {})",
                    g.source,
                    signed_bytes(b),
                    g.samples,
                    bytes(g.first_bytes.unwrap_or(0) as f64),
                    bytes(g.last_bytes.unwrap_or(0) as f64)
                );
            }
            None => {
                let _ = writeln!(
                    t,
                    "stateprop:   memory ({}): growth not measured ({} samples after warm-up)",
                    g.source, g.samples
                );
            }
        }
        for line in &self.broken_limits {
            let _ = writeln!(t, "{line}");
        }
        if let Some(f) = &self.failure {
            let _ = writeln!(
                t,
                "stateprop: mismatch at operation {} of the stream: {}",
                f.operation, f.cause
            );
            let _ = writeln!(t, "stateprop: the last {} operations:", f.window.len());
            for op in &f.window {
                let _ = writeln!(t, "stateprop:   {op}");
            }
            match f.prefix {
                Some(p) if f.tail.is_some() => {
                    let _ = writeln!(
                        t,
                        "stateprop: shortest failing prefix: {p} operations, past the shrink \
                         bound of {}; its last {} operations alone fail on a fresh system, \
                         shrunk:",
                        self.plan.shrink_bound,
                        f.tail.unwrap_or(0)
                    );
                }
                Some(p) if f.report.is_some() => {
                    let _ = writeln!(
                        t,
                        "stateprop: shortest failing prefix: {p} operations; shrunk:"
                    );
                }
                Some(p) => {
                    let _ = writeln!(
                        t,
                        "stateprop: shortest failing prefix: {p} operations, past the shrink \
                         bound of {}, and its last operations alone pass on a fresh system: no \
                         shorter program was looked for (a bug that needs that many operations, \
                         like a counter that wraps, has none)",
                        self.plan.shrink_bound
                    );
                }
                None => {
                    let _ = writeln!(
                        t,
                        "stateprop: the failure did not replay from the seed on a fresh system: \
                         the system is not deterministic, or depends on state outside it"
                    );
                }
            }
            if let Some(report) = &f.report {
                t.push_str(report);
                if !report.ends_with('\n') {
                    t.push('\n');
                }
            }
        }
        t
    }

    /// Writes the result as pretty JSON to `path`.
    pub fn write(&self, path: &Path) -> Result<(), String> {
        let text = serde_json::to_string_pretty(self).expect("a result is plain data");
        crate::persist::write_atomically(path, text.as_bytes())
    }

    /// Reads a result written by [`write`](Self::write).
    pub fn read(path: &Path) -> Result<Self, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("stateprop: {}: cannot read: {e}", path.display()))?;
        serde_json::from_str(&text).map_err(|e| {
            format!(
                "stateprop: {}:{}: not a stress result: {e}",
                path.display(),
                e.line()
            )
        })
    }
}

/// `48.0 MiB`, `512 B`.
pub(crate) fn bytes(b: f64) -> String {
    let a = b.abs();
    if a >= (1u64 << 30) as f64 {
        format!("{:.1} GiB", b / (1u64 << 30) as f64)
    } else if a >= (1u64 << 20) as f64 {
        format!("{:.1} MiB", b / (1u64 << 20) as f64)
    } else if a >= 1024.0 {
        format!("{:.1} KiB", b / 1024.0)
    } else {
        format!("{b:.0} B")
    }
}

fn signed_bytes(b: f64) -> String {
    if b < 0.0 {
        format!("-{}", bytes(-b))
    } else {
        format!("+{}", bytes(b))
    }
}
