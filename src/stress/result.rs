//! What a stress run found, and the JSON it leaves behind: its plan, seed, figures, verdict
//! and, on failure, where and why, so that a later run can be compared with it
//! (`stateprop compare OLD.json NEW.json`, [`compare`](super::compare())).
//!
//! The format is versioned ([`FORMAT_VERSION`]); a file from a newer stateprop is refused with a
//! message rather than half understood. Files are written atomically: a reader sees the previous
//! result or the new one, never a torn file, even when a run is killed while writing.

use super::plan::StressPlan;
use serde::{Deserialize, Serialize};
use std::fmt::{self, Write as _};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

/// The version of the result format this stateprop writes, and the newest it reads.
pub const FORMAT_VERSION: u32 = 1;

/// The outcome of a stress run.
///
/// Every field but `timestamp` describes the run; `timestamp` only says when it happened and
/// takes no part in a comparison.
// Format 1 is this stateprop's: a field it does not write is a mistake, not a newer format
// (which says so in `format_version`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct StressResult {
    /// [`FORMAT_VERSION`] when written.
    pub format_version: u32,
    /// The plan the run followed: runs are only comparable under the same plan.
    pub plan: StressPlan,
    /// The seed of the operation stream (rerun with `STATEPROP_SEED`).
    pub seed: u64,
    /// Operations run (the failing one included).
    pub operations: u64,
    /// Wall-clock time of the run, in seconds (shrinking excluded).
    pub elapsed_secs: f64,
    /// Operations per second.
    pub throughput: f64,
    /// Latency of the system's call per rule that ran, in the order the machine declares them.
    pub latencies: Vec<Latency>,
    /// Latency over all rules.
    pub overall: Option<Latency>,
    /// Memory growth after warm-up.
    pub growth: Growth,
    /// Time per operation early after warm-up against late in the run (a cost that grows
    /// with the run), when the run had enough memory sample points to tell.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pace: Option<super::pace::Pace>,
    /// Pass, or which check or limit failed.
    pub verdict: StressVerdict,
    /// The limits the run broke, as sentences (each starts with `stateprop:`).
    pub broken_limits: Vec<String>,
    /// The model/system mismatch, if one was found.
    pub failure: Option<StressFailure>,
    /// What the run could not settle or should be read with, as sentences (each starts with
    /// `stateprop:`): how much of the asked rounds a concurrent run drew at the barrier, a
    /// round it could not judge, a hang after an earlier failure.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// A concurrent run: the most operations its harness held at once (one round's history,
    /// dropped at the next barrier), which stays at `threads * round` however long the run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_history_ops: Option<u64>,
    /// Where the result was to be written and why it could not be (`path: problem`), when it
    /// could not: the run then does not pass, since a later comparison would read an older
    /// result as if it were this one. Not part of the file (a written result has none).
    #[serde(skip)]
    pub unwritten: Option<String>,
    /// The stateprop that ran it.
    pub stateprop_version: String,
    /// When the run ended, in seconds since the Unix epoch.
    pub timestamp: u64,
}

/// Latency percentiles of one rule's system calls, in microseconds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
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
    /// Slowest call timed.
    pub max_us: f64,
}

impl Latency {
    /// The latency of `count` timed calls of `rule`, in microseconds.
    pub fn new(rule: impl Into<String>, count: u64, p50_us: f64, p99_us: f64, max_us: f64) -> Self {
        Latency {
            rule: rule.into(),
            count,
            p50_us,
            p99_us,
            max_us,
        }
    }
}

/// Memory growth after warm-up: the least-squares slope of the samples.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct Growth {
    /// What was sampled.
    pub source: GrowthSource,
    /// Samples taken after warm-up.
    pub samples: u64,
    /// Bytes per million operations (negative when memory shrank); `None` with fewer than two
    /// samples.
    pub bytes_per_million: Option<f64>,
    /// The first sample after warm-up, in bytes.
    pub first_bytes: Option<u64>,
    /// The last sample, in bytes.
    pub last_bytes: Option<u64>,
}

impl Growth {
    /// A slope of `bytes_per_million` fitted to `samples` samples from `source`, first and last
    /// samples unknown.
    pub fn measured(bytes_per_million: f64, source: GrowthSource, samples: u64) -> Self {
        Growth {
            source,
            samples,
            bytes_per_million: Some(bytes_per_million),
            first_bytes: None,
            last_bytes: None,
        }
    }

    /// No measurement: the platform has no RSS to read and the user gave no gauge.
    pub fn unavailable() -> Self {
        Growth {
            source: GrowthSource::Unavailable,
            samples: 0,
            bytes_per_million: None,
            first_bytes: None,
            last_bytes: None,
        }
    }
}

/// Where memory samples came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum GrowthSource {
    /// The process's resident set size.
    Rss,
    /// A gauge the user supplied (bytes the system reports holding).
    Gauge,
    /// Nothing was sampled (no RSS on this platform and no gauge).
    Unavailable,
}

impl fmt::Display for GrowthSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            GrowthSource::Rss => "rss",
            GrowthSource::Gauge => "gauge",
            GrowthSource::Unavailable => "unavailable",
        })
    }
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
    /// A concurrent round could not be judged (more end states than the plan keeps, or the
    /// check ran out of budget): the run stopped there rather than guess.
    Undecided,
}

impl fmt::Display for StressVerdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            StressVerdict::Pass => "pass",
            StressVerdict::Mismatch => "mismatch",
            StressVerdict::LimitBroken => "limit_broken",
            StressVerdict::Undecided => "undecided",
        })
    }
}

/// A step that did not match the model, found at operation `operation`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
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
    /// A concurrent run: the round (from 0) whose history had no linearization; `window` is
    /// then that round's operations, and `report` the round as a parallel program.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub round: Option<u64>,
    /// A concurrent run: the thread whose operation's answer no linearization explains (the
    /// earliest return after which the round's history has none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thread: Option<u32>,
}

impl StressResult {
    /// An empty, passing result for a run of `plan` from `seed`, stamped with this stateprop's
    /// version and the current time; the runner fills in the figures.
    pub fn new(plan: StressPlan, seed: u64) -> Self {
        StressResult {
            format_version: FORMAT_VERSION,
            plan,
            seed,
            operations: 0,
            elapsed_secs: 0.0,
            throughput: 0.0,
            latencies: Vec::new(),
            overall: None,
            growth: Growth::unavailable(),
            pace: None,
            verdict: StressVerdict::Pass,
            broken_limits: Vec::new(),
            failure: None,
            notes: Vec::new(),
            max_history_ops: None,
            unwritten: None,
            stateprop_version: env!("CARGO_PKG_VERSION").to_string(),
            timestamp: SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_secs()),
        }
    }

    /// Whether the run passed: no mismatch, no limit broken, and its result written where the
    /// plan (or `STATEPROP_STRESS_RESULT`) asked.
    pub fn passed(&self) -> bool {
        self.verdict == StressVerdict::Pass && self.unwritten.is_none()
    }

    /// The result as the lines the run prints, each starting with `stateprop:`.
    pub fn text(&self) -> String {
        let mut t = String::new();
        let verdict = match self.verdict {
            StressVerdict::Pass if self.unwritten.is_some() => "FAILED (result not written)",
            StressVerdict::Pass => "passed",
            StressVerdict::Mismatch => "FAILED (model mismatch)",
            StressVerdict::LimitBroken => "FAILED (limit broken)",
            StressVerdict::Undecided => "UNDECIDED",
        };
        let _ = writeln!(
            t,
            "stateprop: stress run {verdict}: {} operations in {:.2} s ({} ops/s), seed {}",
            super::progress::grouped(self.operations),
            self.elapsed_secs,
            per_second(self.throughput),
            self.seed
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
        if let Some(p) = &self.pace {
            let _ = writeln!(
                t,
                "stateprop:   pace: {} per operation after warm-up, {} at the end ({:.2}x, {} \
                 intervals)",
                super::compare::nanos(p.early_ns_per_op),
                super::compare::nanos(p.late_ns_per_op),
                p.slowdown,
                p.intervals
            );
        }
        for line in self.broken_limits.iter().chain(&self.notes) {
            let _ = writeln!(t, "{line}");
        }
        if let Some(error) = &self.unwritten {
            let _ = writeln!(
                t,
                "stateprop: the result could not be written ({error}): the run does not pass, \
                 since a later comparison would read an older result as this run's"
            );
        }
        if let Some(f) = self.failure.as_ref().filter(|f| f.round.is_some()) {
            concurrent_failure(&mut t, f, self.seed);
            return t;
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
                // A replay of a hang would hang where the run did, and a replay does not
                // gauge: none was tried.
                // Nor is a factory that panicked, and a replay that hung says so in the report.
                None if f.cause.starts_with("hang:")
                    || f.cause.starts_with("gauge:")
                    || f.cause.starts_with("the factory panicked")
                    || f.report.is_some() => {}
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

    /// Parses a result from JSON text; `path` only names the file in errors.
    pub fn from_json(text: &str, path: &Path) -> Result<Self, ResultError> {
        let error = |line, column, problem| ResultError {
            path: path.to_path_buf(),
            line,
            column,
            problem,
        };
        // The version first, so that a newer format says so instead of failing on a field this
        // version does not know.
        let parse_error = |e: serde_json::Error| {
            // serde_json counts columns from 1 and says 0 for an empty file: no column then.
            let column = (e.column() > 0).then_some(e.column());
            error(Some(e.line()), column, strip_position(&e.to_string()))
        };
        let value: serde_json::Value = serde_json::from_str(text).map_err(parse_error)?;
        if !value.is_object() {
            // serde would also take the fields as an array, in order; nobody writes that.
            return Err(error(
                Some(1),
                None,
                "expected a JSON object: not a stress result".to_string(),
            ));
        }
        let version = value.get("format_version").and_then(|v| v.as_u64());
        match version {
            Some(v) if v > u64::from(FORMAT_VERSION) => {
                return Err(error(
                    line_of(text, "\"format_version\""),
                    None,
                    format!(
                        "format_version {v} was written by a newer stateprop; this one reads up \
                         to {FORMAT_VERSION}"
                    ),
                ))
            }
            Some(0) => {
                return Err(error(
                    line_of(text, "\"format_version\""),
                    None,
                    "format_version 0 does not exist: not a stress result".to_string(),
                ))
            }
            _ => {}
        }
        // Parsed again from the text, not the value: serde_json knows lines only in the text.
        let result: StressResult = serde_json::from_str(text).map_err(parse_error)?;
        match check::impossible(&result) {
            Some(bad) => Err(error(
                check::line(text, bad.field, bad.occurrence),
                None,
                format!("not a result a run can write: {}", bad.problem),
            )),
            None => Ok(result),
        }
    }

    /// Reads a result written by [`write`](StressResult::write) (or by hand).
    pub fn read(path: impl AsRef<Path>) -> Result<Self, ResultError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|e| ResultError {
            path: path.to_path_buf(),
            line: None,
            column: None,
            problem: format!("cannot read: {e}"),
        })?;
        Self::from_json(&text, path)
    }

    /// Writes the result as pretty JSON, atomically: into a temporary file beside `path`, synced,
    /// then renamed over it. A run killed meanwhile leaves the previous file whole.
    pub fn write(&self, path: impl AsRef<Path>) -> Result<(), ResultError> {
        let path = path.as_ref();
        let fail = |problem: String| ResultError {
            path: path.to_path_buf(),
            line: None,
            column: None,
            problem,
        };
        let mut text = serde_json::to_string_pretty(self)
            .map_err(|e| fail(format!("cannot encode the result: {e}")))?;
        text.push('\n');
        let name = path
            .file_name()
            .ok_or_else(|| fail("not a file name".to_string()))?;
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d,
            _ => Path::new("."),
        };
        let temp = dir.join(temp_name(name));
        let written = (|| {
            let mut file = std::fs::File::create(&temp)?;
            file.write_all(text.as_bytes())?;
            file.sync_all()?;
            std::fs::rename(&temp, path)
        })();
        written.map_err(|e| {
            let _ = std::fs::remove_file(&temp);
            fail(format!("cannot write: {e}"))
        })
    }
}

/// A concurrent run's failure: the round, the thread, the round's operations and the round as
/// a parallel program.
fn concurrent_failure(t: &mut String, f: &StressFailure, seed: u64) {
    let _ = writeln!(
        t,
        // The cause says what failed: no linearization, a panic, a hang or the invariant.
        "stateprop: round {} failed (thread {}, operation {} of the run): {}",
        f.round.unwrap_or(0),
        f.thread.map_or("unknown".to_string(), |t| t.to_string()),
        f.operation,
        f.cause
    );
    let _ = writeln!(
        t,
        "stateprop: the round's {} operations (thread [invoke, return] operation -> output):",
        f.window.len()
    );
    for op in &f.window {
        let _ = writeln!(t, "stateprop:   {op}");
    }
    // The seed fixes what each thread calls, not the order the scheduler lets the calls land
    // in: promising a replay would send the user after a failure the rerun may never show.
    let _ = writeln!(
        t,
        "stateprop: rerunning the same plan with STATEPROP_SEED={seed} gives each thread the \
         same operations but not the same interleaving (rounds drawn at the barrier repeat \
         only while the earlier rounds end in the same states): it may take several reruns \
         to fail again, or none may; the round's operations above are the reproduction"
    );
    if let Some(report) = &f.report {
        t.push_str(report);
        if !report.ends_with('\n') {
            t.push('\n');
        }
    }
}

/// `.NAME.PID-THREAD.tmp`: hidden, and apart for every writer, so two runs (or two threads of
/// one) writing the same result never write into one temporary file.
fn temp_name(name: &std::ffi::OsStr) -> std::ffi::OsString {
    let thread = format!("{:?}", std::thread::current().id());
    let thread: String = thread.chars().filter(char::is_ascii_digit).collect();
    let mut temp = std::ffi::OsString::from(".");
    temp.push(name);
    temp.push(format!(".{}-{thread}.tmp", std::process::id()));
    temp
}

/// The first line (from 1) holding `needle`, to point at a field serde has no position for.
fn line_of(text: &str, needle: &str) -> Option<usize> {
    text.lines().position(|l| l.contains(needle)).map(|i| i + 1)
}

/// serde_json ends its messages with " at line L column C"; the error says where itself.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_string(),
        None => message.to_string(),
    }
}

/// A result file that cannot be read, written or understood.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ResultError {
    /// The file.
    pub path: PathBuf,
    /// The line (from 1) of the problem, when it has one.
    pub line: Option<usize>,
    /// The column (from 1), when known.
    pub column: Option<usize>,
    /// What is wrong.
    pub problem: String,
}

impl fmt::Display for ResultError {
    /// `path:line:column: problem`, the form editors jump to.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.path.display())?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
            if let Some(column) = self.column {
                write!(f, ":{column}")?;
            }
        }
        write!(f, ": {}", self.problem)
    }
}

impl std::error::Error for ResultError {}

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

#[path = "result_check.rs"]
pub(super) mod check;

/// A rate in operations per second as a reader takes it in: digits grouped by thousands, in
/// scientific notation past 10^15 (a limit of `1e300` is not a 300-digit number).
pub(super) fn per_second(v: f64) -> String {
    if !v.is_finite() || v.abs() >= 1e15 {
        format!("{v:.3e}")
    } else if v < 0.0 {
        format!("-{}", super::progress::grouped((-v).round() as u64))
    } else {
        super::progress::grouped(v.round() as u64)
    }
}

/// Microseconds with three significant digits below 1 us and two decimals above (a limit of
/// 0.001 us is not "0.00 us"), in scientific notation past an hour or below a picosecond.
pub(super) fn micros(us: f64) -> String {
    let a = us.abs();
    if !us.is_finite() || a >= 1e10 || (a > 0.0 && a < 1e-6) {
        format!("{us:.3e}")
    } else if a >= 1.0 || a == 0.0 {
        format!("{us:.2}")
    } else {
        // Three significant digits, the zeros after them dropped.
        let decimals = (2 - a.log10().floor() as i32).clamp(2, 9) as usize;
        let text = format!("{us:.decimals$}");
        text.trim_end_matches('0').to_string()
    }
}

#[cfg(test)]
#[path = "result_tests.rs"]
mod tests;
