//! The target of a stress run as data: how long, how fast, which mix of operations, and the
//! limits the system must stay within. Written before the code that must meet it, in Rust or as a
//! small JSON or TOML file checked in beside the test.

use super::progress::ProgressMode;
use crate::spec::StateMachine;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

#[path = "plan_keys.rs"]
pub(super) mod keys;

/// What a stress run must do and the limits it must stay within.
///
/// Build it in code (`StressPlan::operations(1_000_000).seed(7).max_growth_per_million(1 << 20)`)
/// or load it with [`StressPlan::from_file`] from JSON or TOML; every field has a default, so a
/// file names only what it sets:
///
/// ```json
/// {
///   "operations": 2000000,
///   "seed": 7,
///   "warmup": 100000,
///   "mix": { "Put": 5, "Get": 4, "Delete": 1 },
///   "limits": { "max_growth_per_million": 1048576, "max_p99_us": 50.0 },
///   "params": { "keys": 100000, "value_bytes": 64 }
/// }
/// ```
///
/// or, in a `.toml` file:
///
/// ```toml
/// operations = 2000000
/// seed = 7
/// warmup = 100000
/// mix = { Put = 5, Get = 4, Delete = 1 }
///
/// [limits]
/// max_growth_per_million = 1048576
/// max_p99_us = 50.0
///
/// [params]
/// keys = 100000
/// value_bytes = 64
/// ```
///
/// `params` is free-form: named integers the test reads to build its model and system (key
/// space, value sizes), so the whole target lives in one file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct StressPlan {
    /// Operations to run (after which the run stops); `None` with a duration runs until the
    /// duration is spent. With neither, 1,000,000.
    pub operations: Option<u64>,
    /// Wall-clock length of the run in seconds, when it is bounded by time.
    pub duration_secs: Option<f64>,
    /// The seed of the operation stream; `None` draws one (printed, and kept in the result).
    /// `STATEPROP_SEED` overrides it.
    pub seed: Option<u64>,
    /// Operations run before memory growth is measured (caches fill, allocators settle).
    pub warmup: u64,
    /// Weights by rule name, replacing the derive's weights; a rule left out weighs 0. Empty:
    /// the derive's weights.
    pub mix: BTreeMap<String, u32>,
    /// Target rate in operations per second; the run sleeps to stay under it. `None`: as fast
    /// as the system goes.
    pub rate: Option<f64>,
    /// Recent operations kept for the report of a failure.
    pub window: usize,
    /// How many of the latest steps a `Var` field may name (their outputs are kept, both the
    /// model's and the system's); 0 generates no rule with a `Var` field.
    pub var_window: usize,
    /// Threads driving the system. 1 runs [`Stress::run`](super::Stress::run) on a
    /// [`System`](crate::System); more run
    /// [`Stress::run_concurrent`](super::Stress::run_concurrent) on a
    /// [`ClientSystem`](crate::ClientSystem), its history checked in rounds.
    pub threads: u32,
    /// A concurrent run's round: operations each thread runs before all of them meet at a
    /// barrier, where the round's history is judged and dropped (default 64).
    pub round: u32,
    /// A concurrent run's most distinct model states kept at a barrier (the end states of the
    /// round's linearizations, default 64); a round with more ends the run undecided.
    pub max_end_states: usize,
    /// Operations between two memory samples.
    pub sample_every: u64,
    /// Time one system call in this many, on average (1: every call; default 16). Reading the
    /// clock twice costs about as much as a fast system's call: timing every call nearly
    /// doubled the harness's cost per operation, one in 16 keeps it under 1.5x a hand-written
    /// loop. The timed calls are drawn at random gaps, so every operation has the same chance
    /// and the percentiles estimate the whole run's; the maximum is the sample's, not exact.
    pub latency_every: u32,
    /// A failing prefix at most this long is handed to the shrinker; a longer one is reported
    /// with its length and window (a counter that wraps at 65,536 has no shorter program). At
    /// most 100,000: a concurrent run keeps the rounds within it to replay as a prefix, memory
    /// held for the whole run.
    pub shrink_bound: u64,
    /// Longest a single system call may take, in milliseconds, before the run ends as a hang
    /// (default 60,000, the runners' `Config::step_timeout`).
    pub step_timeout_ms: u64,
    /// Limits the run must stay within.
    pub limits: Limits,
    /// Named integers for the test's own use (key space, value sizes, ...).
    pub params: BTreeMap<String, i64>,
    /// Where to write the [`StressResult`](super::StressResult) as JSON
    /// (`STATEPROP_STRESS_RESULT` overrides it).
    pub result_path: Option<PathBuf>,
    /// How the run shows its progress (`"auto"`, `"bar"`, `"lines"`, `"quiet"`); `None`:
    /// [`ProgressMode::Auto`]. [`Stress::progress`](super::Stress::progress) and
    /// [`Stress::quiet`](super::Stress::quiet) override it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub progress: Option<ProgressMode>,
    /// Where the plan was read from, for errors that name its lines.
    #[serde(skip)]
    source: PlanSource,
    /// Values given on a command line ([`super::main`]), which the `STATEPROP_*` variables do
    /// not override: the flag typed for this run is the more specific word.
    #[serde(skip)]
    pub(crate) pinned: Pinned,
}

/// Which of a plan's values the environment may not override.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Pinned {
    /// `--seed`: `STATEPROP_SEED` does not replace it.
    pub(crate) seed: bool,
    /// `--result`: `STATEPROP_STRESS_RESULT` does not replace it.
    pub(crate) result: bool,
}

// Like the source, how a value was given is not part of what the plan says.
impl PartialEq for Pinned {
    fn eq(&self, _: &Pinned) -> bool {
        true
    }
}

/// The file a plan was read from and its text.
#[derive(Clone, Debug)]
struct Source {
    path: PathBuf,
    text: String,
    toml: bool,
}

/// Where a plan was read from, if it was.
#[derive(Clone, Debug, Default)]
struct PlanSource(Option<Source>);

// Where a plan was read from is not part of what it says: a plan read back from a result (which
// does not keep it) equals the one that ran.
impl PartialEq for PlanSource {
    fn eq(&self, _: &PlanSource) -> bool {
        true
    }
}

/// What a run must stay within; each limit is off when `None`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct Limits {
    /// Minimum throughput, operations per second (over the whole run).
    pub min_throughput: Option<f64>,
    /// Maximum 99th-percentile latency of the system's call, in microseconds, over all rules.
    pub max_p99_us: Option<f64>,
    /// Maximum 99th-percentile latency per rule name, in microseconds.
    pub max_p99_us_by_rule: BTreeMap<String, f64>,
    /// Maximum memory growth after warm-up, in bytes per million operations.
    pub max_growth_per_million: Option<f64>,
    /// Maximum slowdown: the time per operation late in the run over the time early after
    /// warm-up (2.0: the last operations may take twice as long as the first). A cost that
    /// grows with the system's state breaks it at scale.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_slowdown: Option<f64>,
}

/// The longest run a plan may ask for, in seconds (a year).
const MAX_DURATION_SECS: f64 = 365.0 * 24.0 * 3600.0;
/// The slowest rate: one operation a day.
const MIN_RATE: f64 = 1.0 / 86_400.0;
/// The most operations a window (reported, `Var`, end states) may keep.
const MAX_WINDOW: u64 = 1 << 20;
/// The most operations per thread in one concurrent round (its history is held until judged).
const MAX_ROUND: u64 = 1 << 20;
/// The most threads a concurrent run may start.
const MAX_THREADS: u64 = 1024;
/// The longest failing prefix a plan may hand to the shrinker. A concurrent run keeps the
/// rounds within it to replay as a prefix, so it is memory the harness holds for the whole run.
pub(crate) const MAX_SHRINK_BOUND: u64 = 100_000;
/// The most operations a buffer sized from the plan reserves up front; it grows past that only
/// as operations arrive, so a plan's product of threads and round costs nothing it does not run.
const MAX_RESERVE: u64 = 1 << 16;

impl Default for StressPlan {
    fn default() -> Self {
        StressPlan {
            operations: None,
            duration_secs: None,
            seed: None,
            warmup: 0,
            mix: BTreeMap::new(),
            rate: None,
            window: 32,
            var_window: 256,
            threads: 1,
            round: 64,
            max_end_states: 64,
            sample_every: 10_000,
            latency_every: 16,
            shrink_bound: 2_000,
            step_timeout_ms: 60_000,
            limits: Limits::default(),
            params: BTreeMap::new(),
            result_path: None,
            progress: None,
            source: PlanSource::default(),
            pinned: Pinned::default(),
        }
    }
}

/// A plan that cannot run: where (file and line, when it came from a file) and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlanError {
    /// The plan's file, if it was read from one.
    pub path: Option<PathBuf>,
    /// The 1-based line of the problem in that file, when known.
    pub line: Option<usize>,
    /// The problem.
    pub message: String,
}

impl fmt::Display for PlanError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("stateprop: ")?;
        match (&self.path, self.line) {
            (Some(p), Some(l)) => write!(f, "{}:{l}: ", p.display())?,
            (Some(p), None) => write!(f, "{}: ", p.display())?,
            _ => f.write_str("stress plan: ")?,
        }
        f.write_str(&self.message)
    }
}

impl std::error::Error for PlanError {}

impl StressPlan {
    /// A plan of `n` operations.
    pub fn operations(n: u64) -> Self {
        StressPlan {
            operations: Some(n),
            ..StressPlan::default()
        }
    }

    /// A plan that runs for `d` of wall-clock time.
    pub fn duration(d: Duration) -> Self {
        StressPlan {
            duration_secs: Some(d.as_secs_f64()),
            ..StressPlan::default()
        }
    }

    /// Reads a plan from a JSON file. A syntax error, an unknown field or a value of the wrong
    /// type is an error naming the file and line; so is, later, a mix naming no rule.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self, PlanError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|e| PlanError {
            path: Some(path.to_path_buf()),
            line: None,
            message: format!("cannot read the stress plan: {e}"),
        })?;
        let toml = path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("toml"));
        if toml {
            Self::from_toml(&text, Some(path))
        } else {
            Self::from_json(&text, Some(path))
        }
    }

    /// Reads a plan from TOML text; `path` only names it in errors. TOML integers are signed
    /// 64-bit, so a seed past `i64::MAX` needs a JSON plan (or [`StressPlan::seed`]).
    pub fn from_toml(text: &str, path: Option<&Path>) -> Result<Self, PlanError> {
        let plan: StressPlan = toml::from_str(text).map_err(|e| {
            // The span is in bytes; a span past the text (never seen) names no line.
            let before = e.span().and_then(|span| text.get(..span.start));
            let line = before.map(|b| b.matches('\n').count() + 1);
            let mut message = format!("not a valid stress plan: {}", e.message().trim_end());
            if let Some(b) = before {
                let column = b.rsplit('\n').next().unwrap_or("").chars().count() + 1;
                message.push_str(&format!(" (column {column})"));
            }
            PlanError {
                path: path.map(Path::to_path_buf),
                line,
                message,
            }
        })?;
        plan.sourced(text, path, true)
    }

    /// Reads a plan from JSON text; `path` only names it in errors.
    pub fn from_json(text: &str, path: Option<&Path>) -> Result<Self, PlanError> {
        let plan: StressPlan = serde_json::from_str(text).map_err(|e| PlanError {
            path: path.map(Path::to_path_buf),
            line: (e.line() > 0).then_some(e.line()),
            message: format!("not a valid stress plan: {}", without_position(&e)),
        })?;
        // serde also fills a struct from an array, field by field in order (`[5000000]` would
        // run 5 million operations): a plan names its fields, so only an object is one.
        let body = text.trim_start();
        if !body.starts_with('{') {
            let line = text[..text.len() - body.len()].matches('\n').count() + 1;
            return Err(PlanError {
                path: path.map(Path::to_path_buf),
                line: Some(line),
                message: "not a valid stress plan: expected a JSON object of named fields \
                          (`{\"operations\": 1000000, ...}`)"
                    .into(),
            });
        }
        plan.sourced(text, path, false)
    }

    /// The plan, remembering the file it came from so that later errors name their line; or
    /// the first value no run can use.
    fn sourced(mut self, text: &str, path: Option<&Path>, toml: bool) -> Result<Self, PlanError> {
        if let Some(path) = path {
            self.source = PlanSource(Some(Source {
                path: path.to_path_buf(),
                text: text.to_string(),
                toml,
            }));
        }
        self.check_values()?;
        Ok(self)
    }

    /// Sets the operations to run, keeping the rest of the plan: a test's short form of a
    /// checked-in plan (`StressPlan::from_file(path)?.with_operations(200_000)`). A
    /// `duration_secs` the plan sets still bounds the run; whichever ends first ends it.
    pub fn with_operations(mut self, n: u64) -> Self {
        self.operations = Some(n);
        self
    }

    /// Sets the wall-clock length of the run, keeping the rest of the plan; `operations`, if
    /// set, still bounds it.
    pub fn with_duration(mut self, d: Duration) -> Self {
        self.duration_secs = Some(d.as_secs_f64());
        self
    }

    /// The values no run can use, as a plan file's would be refused, but named without the
    /// file's lines: what `stress::main` checks after the command line changed the plan.
    pub(crate) fn check_without_source(&self) -> Result<(), PlanError> {
        let bare = StressPlan {
            source: PlanSource::default(),
            pinned: Pinned::default(),
            ..self.clone()
        };
        bare.check_values()
    }

    /// Sets how the run shows its progress, unless the run's own
    /// [`Stress::progress`](super::Stress::progress) says otherwise.
    pub fn progress(mut self, mode: ProgressMode) -> Self {
        self.progress = Some(mode);
        self
    }

    /// Sets the seed.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = Some(seed);
        self
    }

    /// Sets the warm-up operations.
    pub fn warmup(mut self, ops: u64) -> Self {
        self.warmup = ops;
        self
    }

    /// Sets the weight of the rule named `rule` in the op mix.
    pub fn weight(mut self, rule: impl Into<String>, weight: u32) -> Self {
        self.mix.insert(rule.into(), weight);
        self
    }

    /// Sets the target rate (operations per second).
    pub fn rate(mut self, ops_per_sec: f64) -> Self {
        self.rate = Some(ops_per_sec);
        self
    }

    /// Sets how many recent operations a failure's report shows.
    pub fn window(mut self, ops: usize) -> Self {
        self.window = ops;
        self
    }

    /// Sets how many of the latest steps a `Var` field may name (0: no `Var` rules).
    pub fn var_window(mut self, steps: usize) -> Self {
        self.var_window = steps;
        self
    }

    /// Sets the number of threads (more than 1: a concurrent run).
    pub fn threads(mut self, n: u32) -> Self {
        self.threads = n;
        self
    }

    /// Sets the operations each thread runs in a round of a concurrent run.
    pub fn round(mut self, ops: u32) -> Self {
        self.round = ops;
        self
    }

    /// Sets the most distinct model states a concurrent run keeps at a barrier.
    pub fn max_end_states(mut self, states: usize) -> Self {
        self.max_end_states = states;
        self
    }

    /// Sets the operations between two memory samples.
    pub fn sample_every(mut self, ops: u64) -> Self {
        self.sample_every = ops;
        self
    }

    /// Times one system call in `n`, on average (1: every call, for an exact maximum).
    pub fn latency_every(mut self, n: u32) -> Self {
        self.latency_every = n;
        self
    }

    /// Sets the longest failing prefix handed to the shrinker (at most 100,000).
    pub fn shrink_bound(mut self, ops: u64) -> Self {
        self.shrink_bound = ops;
        self
    }

    /// Sets the longest a single system call may take before the run ends as a hang.
    pub fn step_timeout(mut self, timeout: std::time::Duration) -> Self {
        self.step_timeout_ms = u64::try_from(timeout.as_millis()).unwrap_or(u64::MAX);
        self
    }

    /// Sets the minimum throughput (operations per second).
    pub fn min_throughput(mut self, ops_per_sec: f64) -> Self {
        self.limits.min_throughput = Some(ops_per_sec);
        self
    }

    /// Sets the maximum p99 latency over all rules, in microseconds.
    pub fn max_p99_us(mut self, us: f64) -> Self {
        self.limits.max_p99_us = Some(us);
        self
    }

    /// Sets the maximum p99 latency of one rule, in microseconds.
    pub fn max_p99_us_of(mut self, rule: impl Into<String>, us: f64) -> Self {
        self.limits.max_p99_us_by_rule.insert(rule.into(), us);
        self
    }

    /// Sets the maximum memory growth after warm-up, in bytes per million operations.
    pub fn max_growth_per_million(mut self, bytes: f64) -> Self {
        self.limits.max_growth_per_million = Some(bytes);
        self
    }

    /// Sets the maximum slowdown, late time per operation over early (see
    /// [`Limits::max_slowdown`]).
    pub fn max_slowdown(mut self, ratio: f64) -> Self {
        self.limits.max_slowdown = Some(ratio);
        self
    }

    /// Sets a named parameter for the test's own use.
    pub fn param(mut self, name: impl Into<String>, value: i64) -> Self {
        self.params.insert(name.into(), value);
        self
    }

    /// A named parameter, or `default` when the plan does not set it.
    pub fn param_or(&self, name: &str, default: i64) -> i64 {
        self.params.get(name).copied().unwrap_or(default)
    }

    /// A refusal of the parameter `name` for the test's own reason (`message`), naming the
    /// plan's file and the line where `params.name` is written, as the plan's own errors do.
    /// Return it from the function given to [`stress::main`](super::main()) and the run exits
    /// 2 with that line.
    pub fn param_error(&self, name: &str, message: impl Into<String>) -> PlanError {
        self.error(&format!("params.{name}"), message.into())
    }

    /// The parameter `name` (or `default` when the plan does not set it) if it lies in `range`,
    /// else a [`param_error`](StressPlan::param_error) saying the range.
    pub fn param_in(
        &self,
        name: &str,
        default: i64,
        range: std::ops::RangeInclusive<i64>,
    ) -> Result<i64, PlanError> {
        let value = self.param_or(name, default);
        if range.contains(&value) {
            Ok(value)
        } else {
            Err(self.param_error(
                name,
                format!(
                    "`params.{name}` is {value}: give {} to {}",
                    range.start(),
                    range.end()
                ),
            ))
        }
    }

    /// Sets the file the result is written to.
    pub fn result_path(mut self, path: impl Into<PathBuf>) -> Self {
        self.result_path = Some(path.into());
        self
    }

    /// How many operations to reserve for a buffer that holds up to `most` of them: never more
    /// than the run's operations or [`MAX_RESERVE`], so a large `threads * round` reserves only
    /// what the run can fill (it grows as operations arrive).
    pub(crate) fn reserve(&self, most: u64) -> usize {
        let budget = self.op_budget().unwrap_or(u64::MAX);
        most.min(budget).min(MAX_RESERVE) as usize
    }

    /// The run's length in operations, if it has one.
    pub(crate) fn op_budget(&self) -> Option<u64> {
        match (self.operations, self.duration_secs) {
            (None, None) => Some(1_000_000),
            (ops, _) => ops,
        }
    }

    /// Values no run can use, whatever the machine.
    fn check_values(&self) -> Result<(), PlanError> {
        if self.threads == 0 {
            return Err(self.error(
                "threads",
                "`threads` is 0: give at least 1 (1 runs sequentially)".into(),
            ));
        }
        if self.round == 0 || self.max_end_states == 0 {
            let what = if self.round == 0 {
                "round"
            } else {
                "max_end_states"
            };
            return Err(self.error(what, format!("`{what}` is 0: give at least 1")));
        }
        if self.operations == Some(0) {
            // Zero operations would "pass" having checked nothing.
            return Err(self.error("operations", "`operations` must be at least 1".into()));
        }
        if self.operations.is_some_and(|n| n > u64::from(u32::MAX)) {
            return Err(self.error(
                "operations",
                format!(
                    "`operations` is past {}, the most one run can number; split the run, \
                     or bound it by `duration_secs`",
                    u32::MAX
                ),
            ));
        }
        if self.latency_every == 0 {
            return Err(self.error("latency_every", "`latency_every` must be at least 1".into()));
        }
        if self.step_timeout_ms == 0 {
            return Err(self.error(
                "step_timeout_ms",
                "`step_timeout_ms` must be at least 1".into(),
            ));
        }
        if self.sample_every == 0 {
            return Err(self.error("sample_every", "`sample_every` must be at least 1".into()));
        }
        if let Some(d) = self.duration_secs {
            if !(d.is_finite() && d > 0.0 && d <= MAX_DURATION_SECS) {
                return Err(self.error(
                    "duration_secs",
                    format!(
                        "`duration_secs` is {d:?}: give seconds above 0 and at most \
                         {MAX_DURATION_SECS} (a year)"
                    ),
                ));
            }
        }
        if let Some(r) = self.rate {
            if !(r.is_finite() && r >= MIN_RATE) {
                return Err(self.error(
                    "rate",
                    format!("`rate` is {r:?}: give operations per second, at least {MIN_RATE:e}"),
                ));
            }
        }
        // Buffers the harness sizes from the plan up front: an absurd value must be an error
        // naming it, not an allocation that aborts the process.
        for (field, value, most) in [
            ("window", self.window as u64, MAX_WINDOW),
            ("var_window", self.var_window as u64, MAX_WINDOW),
            ("round", u64::from(self.round), MAX_ROUND),
            ("threads", u64::from(self.threads), MAX_THREADS),
            ("max_end_states", self.max_end_states as u64, MAX_WINDOW),
            ("shrink_bound", self.shrink_bound, MAX_SHRINK_BOUND),
        ] {
            if value > most {
                return Err(self.error(field, format!("`{field}` is {value}: at most {most}")));
            }
        }
        let limits = [
            ("min_throughput", None, self.limits.min_throughput),
            ("max_p99_us", None, self.limits.max_p99_us),
            (
                "max_growth_per_million",
                None,
                self.limits.max_growth_per_million,
            ),
        ];
        let by_rule = (self.limits.max_p99_us_by_rule.iter())
            .map(|(rule, v)| ("max_p99_us_by_rule", Some(rule), Some(*v)));
        for (field, rule, value) in limits.into_iter().chain(by_rule) {
            if let Some(v) = value.filter(|v| !(v.is_finite() && *v >= 0.0)) {
                let key = match rule {
                    Some(rule) => format!("limits.{field}.{rule}"),
                    None => format!("limits.{field}"),
                };
                return Err(self.error(
                    &key,
                    format!("the limit `{field}` is {v:?}: give a number of 0 or more"),
                ));
            }
        }
        if let Some(v) = self
            .limits
            .max_slowdown
            .filter(|v| !(v.is_finite() && *v >= 1.0))
        {
            return Err(self.error(
                "limits.max_slowdown",
                format!(
                    "the limit `max_slowdown` is {v:?}: give a ratio of 1 or more (late time \
                     per operation over early)"
                ),
            ));
        }
        // Growth is fitted to samples after warm-up: a warm-up as long as the run leaves none,
        // which a run of known length can tell now rather than after it ran.
        let sampled =
            self.limits.max_growth_per_million.is_some() || self.limits.max_slowdown.is_some();
        if let (Some(n), true) = (self.op_budget(), sampled) {
            if self.warmup >= n {
                return Err(self.error(
                    "warmup",
                    format!(
                        "`warmup` is {} but {}: the memory growth and the slowdown the \
                         limits bound are measured after warm-up, so give a warm-up shorter \
                         than the run",
                        self.warmup,
                        // Named as `operations` so that `stress::main` blames the flag that
                        // set it, when one did.
                        match self.operations {
                            Some(_) => format!("`operations` is {n}"),
                            None => format!("the run has the default {n} operations"),
                        }
                    ),
                ));
            }
        }
        Ok(())
    }

    /// The weight of each rule of `Op`, by index: the mix's, or the derive's when the mix is
    /// empty. A name in the mix or the limits that no rule has is an error listing the rules.
    pub(crate) fn weights<Op: StateMachine>(&self) -> Result<Vec<u32>, PlanError> {
        self.check_values()?;
        let rules = Op::rules();
        let known = || {
            rules
                .iter()
                .map(|r| format!("`{}`", r.name))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let names = self.mix.keys().map(|n| (n, "mix", "mix"));
        let limited = (self.limits.max_p99_us_by_rule.keys())
            .map(|n| (n, "max_p99_us_by_rule", "limits.max_p99_us_by_rule"));
        for (name, field, key) in names.chain(limited) {
            if !rules.iter().any(|r| r.name == name) {
                return Err(self.error(
                    &format!("{key}.{name}"),
                    format!(
                        "`{field}` names the rule `{name}`, which `{}` does not have (its \
                         rules: {})",
                        crate::run::short_type_name(std::any::type_name::<Op>()),
                        known()
                    ),
                ));
            }
        }
        let weights: Vec<u32> = if self.mix.is_empty() {
            rules.iter().map(|r| r.weight).collect()
        } else {
            let w = |name| self.mix.get(name).copied().unwrap_or(0);
            rules.iter().map(|r| w(r.name)).collect()
        };
        if weights.iter().all(|&w| w == 0) {
            return Err(self.error("mix", "the op mix gives every rule weight 0".into()));
        }
        Ok(weights)
    }

    /// An error about the key `what` (its dotted path from the top, `limits.max_p99_us`), on
    /// the line of the plan's file where that key is written.
    pub(crate) fn error(&self, what: &str, message: String) -> PlanError {
        let source = self.source.0.as_ref();
        let line = source.and_then(|s| keys::line_of(&s.text, s.toml, what));
        PlanError {
            path: source.map(|s| s.path.clone()),
            line,
            message,
        }
    }
}

/// serde_json's message without its own " at line L column C" (the error names the line).
fn without_position(e: &serde_json::Error) -> String {
    let text = e.to_string();
    match text.rfind(" at line ") {
        Some(i) => format!("{} (column {})", &text[..i], e.column()),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::Counter;
    use crate::stress::Stress;

    #[test]
    fn the_builder_overrides_the_plans_progress_and_auto_fills_in_for_neither() {
        let stress = |plan| Stress::<Counter, ()>::with_initial(plan, Counter::default());
        let plan = StressPlan::operations(10);
        assert_eq!(stress(plan.clone()).progress_mode(), ProgressMode::Auto);
        let lines = plan.progress(ProgressMode::Lines);
        assert_eq!(stress(lines.clone()).progress_mode(), ProgressMode::Lines);
        let bar = stress(lines.clone()).progress(ProgressMode::Bar);
        assert_eq!(bar.progress_mode(), ProgressMode::Bar);
        let auto = stress(lines.clone()).progress(ProgressMode::Auto);
        assert_eq!(auto.progress_mode(), ProgressMode::Auto);
        assert_eq!(stress(lines).quiet().progress_mode(), ProgressMode::Quiet);
    }
}
