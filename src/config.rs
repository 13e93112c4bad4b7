//! One `Config` for every runner, and the one function that reads the environment.

use std::ops::{Range, RangeInclusive};
use std::path::PathBuf;
use std::time::Duration;

/// How a run generates, checks, shrinks and reports.
///
/// Build it with `Config::default()` and the setters. Environment variables, read once when a run
/// starts, override what the code sets, so CI can scale or reproduce any test without editing it.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Config {
    /// Programs to generate and run. `STATEPROP_CASES` (or proptest's `PROPTEST_CASES`).
    /// Default 1,000 for a sequential run: measured against 256 (`cargo bench --bench swarm`,
    /// `docs/swarm.md`), it finds the hardest planted bugs in 19 of 20 seeds instead of 9, for a
    /// few milliseconds. A concurrent run, whose every case runs [`Config::repeats`] times on
    /// threads, keeps 256 unless this was set (by [`Config::cases`], the environment, or a
    /// value other than 1,000).
    pub cases: u64,
    /// Shortest and longest program, in steps (inclusive). `STATEPROP_STEPS` as `10..50` or `30`.
    /// Default `1..=32`.
    pub steps: (usize, usize),
    /// The run's seed; every random choice derives from it. `STATEPROP_SEED` (decimal or `0x` hex).
    /// Default: drawn from the clock and printed, so any run can be repeated.
    pub seed: Option<u64>,
    /// Wall-clock budget for shrinking. `STATEPROP_MAX_SHRINK_TIME` (`30s`, `500ms`, `2m`; a bare
    /// number is seconds: see [`units`](crate::units) for every duration variable) or proptest's
    /// `PROPTEST_MAX_SHRINK_TIME` (milliseconds). Default 60 s.
    pub max_shrink_time: Duration,
    /// Most candidate programs the shrinker may run. `STATEPROP_MAX_SHRINK_RUNS`. Default 100,000.
    pub max_shrink_runs: u64,
    /// Generate for this long instead of a fixed number of cases (long campaigns): when set,
    /// `cases` is ignored. `STATEPROP_DURATION`. Default: none, `cases` decides.
    pub duration: Option<Duration>,
    /// 0 quiet; 1 or more adds the step-by-step trace of the minimal case to a failure's
    /// report, and prints a passing run's report: cases, steps, per-rule counts, how often the
    /// swarm enabled each rule, program lengths, labels ([`Runner::label`](crate::Runner::label))
    /// and warnings. (A rule never generated or never enabled is warned about at any level.)
    /// (Every step also runs in a `stateprop_step` `tracing` span at TRACE level, whatever this
    /// says: install a subscriber to see them.) `STATEPROP_VERBOSE` (or `PROPTEST_VERBOSE`).
    /// Default 0.
    pub verbose: u8,
    /// Swarm testing: half the cases enable a random subset of the rules (each rule with
    /// probability 1/2), the other half every rule, so no bug is less than half as likely per
    /// case as without swarm (`docs/swarm.md` has the measurements). `STATEPROP_SWARM=0|1`.
    /// Default on.
    pub swarm: bool,
    /// Write the report as JSON to this file, or, when the path is an existing directory or ends
    /// in `/`, to `<test name>.json` inside it (so the tests of one run do not overwrite each
    /// other). `STATEPROP_REPORT`. Default none.
    pub report_path: Option<PathBuf>,
    /// Save shrunk failures in a regression file beside the test and replay them first.
    /// `STATEPROP_PERSIST=0|1`. Default on.
    pub persist: bool,
    /// A step that runs longer than this is reported as a hang. `STATEPROP_STEP_TIMEOUT`.
    /// Default 60 s.
    pub step_timeout: Duration,
    /// Name used for regression entries and the pasted test; default: the test's thread name.
    pub name: Option<String>,
    /// After the first failure, keep generating until this many failing cases are found (or the
    /// cases run out), shrink each and report the shortest. `STATEPROP_FAILURES`. Default 1.
    pub failures: u32,
    /// The regression file. `STATEPROP_REGRESSIONS`. Default: `<test file stem>.stateprop-regressions`
    /// beside the test's source file.
    pub regression_file: Option<PathBuf>,
    /// Runs of each shrink candidate, and of the final program, to tell a failure that shows
    /// only sometimes (a race, a system that is not deterministic) from a pass: a candidate
    /// fails if any of its runs fails, and the report gives the final program's reproduction
    /// rate. `STATEPROP_RERUNS`. Default 1: a sequential system is expected to be
    /// deterministic (one whose minimal program does not fail again is reported as such).
    pub reruns: u32,
    /// Branches of a concurrent run's programs ([`check_concurrent`](crate::check_concurrent)):
    /// each case runs its prefix, then this many branches at once, each on a thread of its own.
    /// `STATEPROP_BRANCHES`, 2 to 8. Default 2: most races need two parties, and every extra
    /// branch multiplies the interleavings the linearizability judge must search.
    pub branches: usize,
    /// Shortest and longest branch of a concurrent run, in steps (inclusive), drawn per case.
    /// `STATEPROP_BRANCH_STEPS` as `1..=4` or `3`. Default `1..=4`: short branches overlap
    /// more of their steps, and a history of a few steps per branch is checked in microseconds.
    /// (`Config::steps` is the length of a sequential program; a concurrent run ignores it.)
    pub branch_steps: (usize, usize),
    /// Shortest and longest prefix of a concurrent run (the steps run alone before the branches
    /// start), drawn per case. `STATEPROP_PREFIX_STEPS`. Default `0..=4`.
    pub prefix_steps: (usize, usize),
    /// Runs of each concurrent case and of each shrink candidate on threads: a race shows only
    /// in some interleavings, so a program fails if any of its runs fails, and the report gives
    /// the minimal program's reproduction rate over this many runs. `STATEPROP_REPEATS`
    /// (1 to 10,000). Default 20 (see `docs/concurrent.md` for the measurement behind it).
    /// Sequential runs ignore it (see [`Config::reruns`]).
    pub repeats: u32,
    /// Whether the `STATEPROP_*` (and `PROPTEST_*`) environment variables apply. Default on.
    /// Turn it off with [`Config::ignore_env`] in tests that pin a seed, a case count or lengths
    /// and assert what those give: a `STATEPROP_SEED` exported for the whole suite must not
    /// change their meaning.
    pub read_env: bool,
    /// What interleaves a concurrent run's branches: real threads ([`Scheduler::Threads`]), or
    /// the controlled scheduler of the `shuttle` feature ([`Scheduler::Random`],
    /// [`Scheduler::Pct`], [`Scheduler::Dfs`]), under which the interleaving comes from a seed
    /// (or, for dfs, from the run's place in an exhaustive walk) and replays exactly.
    /// `STATEPROP_SCHEDULER=threads|random|pct|dfs`. Default threads. Asking for a controlled one
    /// in a build without the feature is an error, not a fallback to threads.
    pub scheduler: Scheduler,
    /// Under a controlled scheduler, the seed that every run's schedule is drawn from, together
    /// with the program and the run's index (`0..repeats`): so a program replays the same
    /// schedules in any later run, a saved one included, and a pasted test replays them with
    /// this seed alone. `STATEPROP_SCHEDULE_SEED` (decimal or `0x` hex). Default 0: change it to
    /// explore other schedules of the same programs. [`Scheduler::Dfs`] needs no seed and
    /// ignores it.
    pub schedule_seed: u64,
    /// On real threads, whether each branch step is preceded by a short pause drawn from
    /// [`Config::schedule_seed`], the run and the step: most steps none, some a spin of up to a
    /// few hundred iterations, a few a `yield_now`. It shifts where the branches' calls start
    /// relative to each other, which can expose a race that the branches' usual rhythm hides;
    /// measured on the load-then-store races, it found less often, so it is off by default
    /// (`docs/concurrent.md`). `STATEPROP_PERTURB=1`. Controlled schedulers ignore it.
    pub perturb: bool,
    /// Run one shard of a campaign split over machines: shard `k` of `n` runs the cases of
    /// indices `k-1`, `k-1+n`, `k-1+2n`, ... of the run's seed, as many as [`Config::cases`]
    /// says (or for [`Config::duration`]), so the shards of one seed never share a case, and
    /// `n` shards of `c` cases together run exactly the cases of an unsharded run of `n × c`.
    /// A failure's rerun line names the shard. [`shards`](crate::shards) writes one test per
    /// shard, for `cargo nextest run --partition`; `docs/campaigns.md` has the CI setup.
    /// `STATEPROP_SHARD=k/n`. Default none: every case index, in order.
    pub shard: Option<Shard>,
    /// Whether `cases` was set by [`Config::cases`] or the environment: a concurrent run
    /// replaces only the sequential default.
    cases_set: bool,
    /// The shrinker prints no progress lines: a quiet stress run prints only its result.
    pub(crate) quiet: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            cases: DEFAULT_CASES,
            steps: (1, 32),
            seed: None,
            max_shrink_time: Duration::from_secs(60),
            max_shrink_runs: 100_000,
            duration: None,
            verbose: 0,
            swarm: true,
            report_path: None,
            persist: true,
            step_timeout: Duration::from_secs(60),
            name: None,
            failures: 1,
            regression_file: None,
            reruns: 1,
            branches: 2,
            branch_steps: (1, 4),
            prefix_steps: (0, 4),
            repeats: DEFAULT_REPEATS,
            read_env: true,
            scheduler: Scheduler::Threads,
            schedule_seed: 0,
            perturb: false,
            shard: None,
            cases_set: false,
            quiet: false,
        }
    }
}

/// A range of program lengths: `1..50`, `1..=50` or an exact `30`.
pub trait StepRange {
    /// Inclusive bounds.
    fn bounds(self) -> (usize, usize);
}

impl StepRange for Range<usize> {
    fn bounds(self) -> (usize, usize) {
        (self.start, self.end.saturating_sub(1).max(self.start))
    }
}

impl StepRange for RangeInclusive<usize> {
    fn bounds(self) -> (usize, usize) {
        (*self.start(), (*self.end()).max(*self.start()))
    }
}

impl StepRange for usize {
    fn bounds(self) -> (usize, usize) {
        (self, self)
    }
}

impl Config {
    /// See [`Config::cases`].
    pub fn cases(mut self, cases: u64) -> Self {
        self.cases = cases;
        self.cases_set = true;
        self
    }
    /// See [`Config::steps`].
    pub fn steps(mut self, steps: impl StepRange) -> Self {
        self.steps = steps.bounds();
        self
    }
    /// See [`Config::seed`].
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = Some(seed);
        self
    }
    /// See [`Config::max_shrink_time`].
    pub fn max_shrink_time(mut self, budget: Duration) -> Self {
        self.max_shrink_time = budget;
        self
    }
    /// See [`Config::max_shrink_runs`].
    pub fn max_shrink_runs(mut self, runs: u64) -> Self {
        self.max_shrink_runs = runs;
        self
    }
    /// See [`Config::duration`].
    pub fn duration(mut self, duration: Duration) -> Self {
        self.duration = Some(duration);
        self
    }
    /// See [`Config::verbose`].
    pub fn verbose(mut self, level: u8) -> Self {
        self.verbose = level;
        self
    }
    /// See [`Config::swarm`].
    pub fn swarm(mut self, on: bool) -> Self {
        self.swarm = on;
        self
    }
    /// See [`Config::report_path`].
    pub fn report_path(mut self, path: impl Into<PathBuf>) -> Self {
        self.report_path = Some(path.into());
        self
    }
    /// See [`Config::persist`].
    pub fn persist(mut self, on: bool) -> Self {
        self.persist = on;
        self
    }
    /// See [`Config::step_timeout`].
    pub fn step_timeout(mut self, timeout: Duration) -> Self {
        self.step_timeout = timeout;
        self
    }
    /// See [`Config::name`].
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// See [`Config::failures`].
    pub fn failures(mut self, n: u32) -> Self {
        self.failures = n.max(1);
        self
    }
    /// See [`Config::reruns`] (at least 1).
    pub fn reruns(mut self, runs: u32) -> Self {
        self.reruns = runs.max(1);
        self
    }
    /// See [`Config::branches`]; clamped to 2..=8.
    pub fn branches(mut self, n: usize) -> Self {
        self.branches = n.clamp(MIN_BRANCHES, MAX_BRANCHES);
        self
    }
    /// See [`Config::branch_steps`].
    pub fn branch_steps(mut self, steps: impl StepRange) -> Self {
        self.branch_steps = steps.bounds();
        self
    }
    /// See [`Config::prefix_steps`].
    pub fn prefix_steps(mut self, steps: impl StepRange) -> Self {
        self.prefix_steps = steps.bounds();
        self
    }
    /// See [`Config::repeats`] (at least 1).
    pub fn repeats(mut self, runs: u32) -> Self {
        self.repeats = runs.max(1);
        self
    }
    /// See [`Config::scheduler`].
    pub fn scheduler(mut self, scheduler: Scheduler) -> Self {
        self.scheduler = scheduler;
        self
    }
    /// See [`Config::schedule_seed`].
    pub fn schedule_seed(mut self, seed: u64) -> Self {
        self.schedule_seed = seed;
        self
    }
    /// See [`Config::perturb`].
    pub fn perturb(mut self, on: bool) -> Self {
        self.perturb = on;
        self
    }
    /// See [`Config::shard`]: shard `index` of `count`, counting from 1.
    ///
    /// # Panics
    ///
    /// If `index` is 0 or above `count`.
    pub fn shard(self, index: u32, count: u32) -> Self {
        self.sharded(Shard::new(index, count))
    }
    /// See [`Config::shard`]; takes the [`Shard`] a [`shards`](crate::shards) test is given.
    pub fn sharded(mut self, shard: Shard) -> Self {
        self.shard = Some(shard);
        self
    }
    /// See [`Config::regression_file`].
    pub fn regression_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.regression_file = Some(path.into());
        self
    }

    /// Every environment variable a run reads (`STATEPROP_*`, and the `PROPTEST_*` ones it
    /// honours), for tools and tests that set or clear them all.
    pub const VARIABLES: &'static [&'static str] = VARIABLES;

    /// See [`Config::read_env`]: this configuration is used exactly as the code sets it,
    /// whatever the environment says.
    pub fn ignore_env(mut self) -> Self {
        self.read_env = false;
        self
    }

    /// Applies the `STATEPROP_*` (and the matching `PROPTEST_*`) environment variables, unless
    /// [`Config::read_env`] is off.
    ///
    /// This is the only place the library reads its configuration from the environment. A value
    /// that is not valid Unicode is an error, not silently ignored.
    pub fn with_env(self) -> Result<Self, String> {
        if !self.read_env {
            return Ok(self);
        }
        for name in VARIABLES {
            if let Err(std::env::VarError::NotUnicode(v)) = std::env::var(name) {
                return Err(format!("{name}={v:?} is not valid UTF-8"));
            }
        }
        self.with_vars(|name| std::env::var(name).ok())
    }

    /// [`with_env`](Config::with_env) over any variable source (tests use a map). Applies the
    /// variables whatever [`Config::read_env`] says: the caller chose the source.
    pub fn with_vars(mut self, var: impl Fn(&str) -> Option<String>) -> Result<Self, String> {
        let get = |names: &[&'static str]| {
            names
                .iter()
                .find_map(|n| var(n).filter(|v| !v.trim().is_empty()).map(|v| (*n, v)))
        };
        if let Some((n, v)) = get(&["STATEPROP_CASES", "PROPTEST_CASES"]) {
            self.cases = parse_u64(n, &v)?;
            self.cases_set = true;
        }
        if let Some((n, v)) = get(&["STATEPROP_STEPS"]) {
            self.steps = parse_steps(n, &v)?;
        }
        if let Some((n, v)) = get(&["STATEPROP_SEED"]) {
            self.seed = Some(parse_u64(n, &v)?);
        }
        if let Some((n, v)) = get(&["STATEPROP_MAX_SHRINK_TIME"]) {
            self.max_shrink_time = parse_duration(n, &v)?;
        } else if let Some((n, v)) = get(&["PROPTEST_MAX_SHRINK_TIME"]) {
            // proptest counts milliseconds, and 0 means unlimited.
            let ms = parse_u64(n, &v)?;
            self.max_shrink_time = if ms == 0 {
                Duration::from_secs(u64::MAX / 4)
            } else {
                Duration::from_millis(ms)
            };
        }
        if let Some((n, v)) = get(&["STATEPROP_MAX_SHRINK_RUNS", "PROPTEST_MAX_SHRINK_ITERS"]) {
            self.max_shrink_runs = parse_u64(n, &v)?;
        }
        if let Some((n, v)) = get(&["STATEPROP_DURATION"]) {
            self.duration = Some(parse_duration(n, &v)?);
        }
        if let Some((n, v)) = get(&["STATEPROP_VERBOSE", "PROPTEST_VERBOSE"]) {
            self.verbose = parse_u64(n, &v)?.min(2) as u8;
        }
        if let Some((n, v)) = get(&["STATEPROP_SWARM"]) {
            self.swarm = parse_bool(n, &v)?;
        }
        if let Some((_, v)) = get(&["STATEPROP_REPORT"]) {
            self.report_path = Some(PathBuf::from(v));
        }
        if let Some((n, v)) = get(&["STATEPROP_PERSIST"]) {
            self.persist = parse_bool(n, &v)?;
        }
        if var("PROPTEST_DISABLE_FAILURE_PERSISTENCE").is_some() {
            self.persist = false;
        }
        if let Some((n, v)) = get(&["STATEPROP_RERUNS"]) {
            self.reruns = parse_u64(n, &v)?.clamp(1, 1_000) as u32;
        }
        if let Some((n, v)) = get(&["STATEPROP_FAILURES"]) {
            self.failures = parse_u64(n, &v)?.clamp(1, u32::MAX as u64) as u32;
        }
        if let Some((_, v)) = get(&["STATEPROP_REGRESSIONS"]) {
            self.regression_file = Some(PathBuf::from(v));
        }
        if let Some((n, v)) = get(&["STATEPROP_STEP_TIMEOUT"]) {
            self.step_timeout = parse_duration(n, &v)?;
        }
        if let Some((n, v)) = get(&["STATEPROP_BRANCHES"]) {
            let b = parse_u64(n, &v)?;
            if !(MIN_BRANCHES as u64..=MAX_BRANCHES as u64).contains(&b) {
                return Err(format!(
                    "{n}={v:?} is out of range: a concurrent program has {MIN_BRANCHES} to \
                     {MAX_BRANCHES} branches"
                ));
            }
            self.branches = b as usize;
        }
        if let Some((n, v)) = get(&["STATEPROP_BRANCH_STEPS"]) {
            self.branch_steps = parse_steps(n, &v)?;
        }
        if let Some((n, v)) = get(&["STATEPROP_PREFIX_STEPS"]) {
            self.prefix_steps = parse_steps(n, &v)?;
        }
        if let Some((n, v)) = get(&["STATEPROP_REPEATS"]) {
            self.repeats = parse_u64(n, &v)?.clamp(1, 10_000) as u32;
        }
        if let Some((n, v)) = get(&["STATEPROP_SCHEDULER"]) {
            self.scheduler = Scheduler::parse(&v).ok_or_else(|| {
                format!("{n}={v:?} is not a scheduler: use threads, random, pct or dfs")
            })?;
        }
        if let Some((n, v)) = get(&["STATEPROP_SCHEDULE_SEED"]) {
            self.schedule_seed = parse_u64(n, &v)?;
        }
        if let Some((n, v)) = get(&["STATEPROP_PERTURB"]) {
            self.perturb = parse_bool(n, &v)?;
        }
        if let Some((n, v)) = get(&["STATEPROP_SHARD"]) {
            self.shard = Some(Shard::parse(&v).ok_or_else(|| {
                format!(
                    "{n}={v:?} is not a shard: use k/n with k from 1 to n, e.g. 3/16 for the \
                     third of sixteen"
                )
            })?);
        }
        Ok(self)
    }
}

/// Every variable [`Config::with_vars`] reads (see [`Config::VARIABLES`]).
const VARIABLES: &[&str] = &[
    "STATEPROP_CASES",
    "PROPTEST_CASES",
    "STATEPROP_STEPS",
    "STATEPROP_SEED",
    "STATEPROP_MAX_SHRINK_TIME",
    "PROPTEST_MAX_SHRINK_TIME",
    "STATEPROP_MAX_SHRINK_RUNS",
    "PROPTEST_MAX_SHRINK_ITERS",
    "STATEPROP_DURATION",
    "STATEPROP_VERBOSE",
    "PROPTEST_VERBOSE",
    "STATEPROP_SWARM",
    "STATEPROP_REPORT",
    "STATEPROP_PERSIST",
    "PROPTEST_DISABLE_FAILURE_PERSISTENCE",
    "STATEPROP_FAILURES",
    "STATEPROP_RERUNS",
    "STATEPROP_REGRESSIONS",
    "STATEPROP_STEP_TIMEOUT",
    "STATEPROP_BRANCHES",
    "STATEPROP_BRANCH_STEPS",
    "STATEPROP_PREFIX_STEPS",
    "STATEPROP_REPEATS",
    "STATEPROP_SCHEDULER",
    "STATEPROP_SCHEDULE_SEED",
    "STATEPROP_PERTURB",
    "STATEPROP_SHARD",
];

/// One shard of a campaign split over machines: shard [`index`](Shard::index) of
/// [`count`](Shard::count), counting from 1 (see [`Config::shard`]). Written `k/n`, as in
/// `STATEPROP_SHARD=3/16`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Shard {
    index: u32,
    count: u32,
}

impl Shard {
    /// Shard `index` of `count`, counting from 1.
    ///
    /// # Panics
    ///
    /// If `index` is 0 or above `count`: a mistake in the code, which no run could make sense of.
    pub const fn new(index: u32, count: u32) -> Self {
        assert!(
            index >= 1 && index <= count,
            "stateprop: a shard is k of n with k from 1 to n"
        );
        Shard { index, count }
    }

    /// Which shard, from 1 to [`count`](Shard::count).
    pub fn index(self) -> u32 {
        self.index
    }

    /// How many shards the campaign has.
    pub fn count(self) -> u32 {
        self.count
    }

    /// The run's case index of this shard's `ordinal`-th case (from 0), `None` past `u64`.
    pub fn case_index(self, ordinal: u64) -> Option<u64> {
        ordinal
            .checked_mul(u64::from(self.count))?
            .checked_add(u64::from(self.index - 1))
    }

    /// Whether case `index` of the run is this shard's.
    pub fn owns(self, index: u64) -> bool {
        index % u64::from(self.count) == u64::from(self.index - 1)
    }

    /// How many of this shard's cases come before case `index` of the run (for an index it
    /// [`owns`](Shard::owns), its ordinal).
    pub fn ordinal(self, index: u64) -> u64 {
        index / u64::from(self.count)
    }

    fn parse(text: &str) -> Option<Self> {
        let (k, n) = text.trim().split_once('/')?;
        let (k, n) = (k.trim().parse().ok()?, n.trim().parse().ok()?);
        (k >= 1 && k <= n).then_some(Shard { index: k, count: n })
    }
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

/// What interleaves the branches of a concurrent run (see [`Config::scheduler`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Scheduler {
    /// Real threads, released together: finds races in systems built on any types, by chance.
    #[default]
    Threads,
    /// shuttle's random scheduler (feature `shuttle`): at every point where the system touches a
    /// `stateprop::sync` type, a thread chosen at random from the seed runs next.
    Random,
    /// shuttle's PCT scheduler (feature `shuttle`): random thread priorities with a few
    /// priority changes, which gives every bug of a small depth a known chance per run.
    Pct,
    /// Exhaustive search (feature `shuttle`): the runs of a program walk its schedules in one
    /// fixed order — every schedule with no preemption, then every one with one, then two, then
    /// all the others, each round depth first — run `k` (of `0..repeats`) taking the `k`-th. No
    /// seed is involved, so shrinking and replay are exact.
    ///
    /// The count grows fast with the scheduling points (shuttle may switch before and after
    /// each `stateprop::sync` access, spawn and join): two branches of one step of two atomic
    /// accesses have 252 schedules, 10 of them with at most one preemption and 42 with at most
    /// two; two such steps a branch, 48,620 (18 and 146). So it suits *tiny* programs, two
    /// branches of a step or two, which is what shrinking leaves: the default 20 runs try every
    /// schedule with at most one preemption of those, and `repeats(252)` every schedule of the
    /// first. A larger program gets its first `repeats` schedules only, the least preemptive
    /// ones; [`Scheduler::Pct`] samples such programs more widely. A program with fewer
    /// schedules than `repeats` has them all tried, then again from the first, so a
    /// reproduction rate counts some twice (the verbose trace names each run's schedule and
    /// says when the walk started over).
    Dfs,
}

impl Scheduler {
    /// Its name in `STATEPROP_SCHEDULER` and in reports.
    pub fn name(self) -> &'static str {
        match self {
            Scheduler::Threads => "threads",
            Scheduler::Random => "random",
            Scheduler::Pct => "pct",
            Scheduler::Dfs => "dfs",
        }
    }

    /// Whether this is a controlled scheduler (seeded, replayable; needs the `shuttle` feature).
    pub fn is_controlled(self) -> bool {
        self != Scheduler::Threads
    }

    fn parse(text: &str) -> Option<Self> {
        match text.trim().to_ascii_lowercase().as_str() {
            "threads" => Some(Scheduler::Threads),
            "random" => Some(Scheduler::Random),
            "pct" => Some(Scheduler::Pct),
            "dfs" => Some(Scheduler::Dfs),
            _ => None,
        }
    }
}

/// Fewest and most branches of a concurrent program.
const MIN_BRANCHES: usize = 2;
const MAX_BRANCHES: usize = 8;

/// Runs of each concurrent case and candidate, by default (`Config::repeats`).
const DEFAULT_REPEATS: u32 = 20;

/// Cases of a sequential run unless told otherwise (see [`Config::cases`]).
const DEFAULT_CASES: u64 = 1_000;

/// Cases of a concurrent run unless told otherwise: each runs `repeats` times on threads.
const DEFAULT_CONCURRENT_CASES: u64 = 256;

impl Config {
    /// The configuration a concurrent run uses: the sequential default number of cases, when
    /// nothing changed it, becomes the concurrent one.
    pub(crate) fn for_concurrent(mut self) -> Self {
        if !self.cases_set && self.cases == DEFAULT_CASES {
            self.cases = DEFAULT_CONCURRENT_CASES;
        }
        self
    }
}

/// The longest program the runner generates: a program is held in memory, step by step, and
/// millions of operations belong to a stress run, not to one case.
pub const MAX_STEPS: usize = 1 << 24;

fn parse_u64(name: &str, value: &str) -> Result<u64, String> {
    let v = value.trim().replace('_', "");
    let parsed = match v.strip_prefix("0x").or_else(|| v.strip_prefix("0X")) {
        Some(hex) => u64::from_str_radix(hex, 16),
        None => v.parse(),
    };
    parsed.map_err(|_| format!("{name}={value:?} is not a whole number"))
}

fn parse_bool(name: &str, value: &str) -> Result<bool, String> {
    match value.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Ok(true),
        "0" | "false" | "no" | "off" => Ok(false),
        _ => Err(format!("{name}={value:?} is not 0 or 1")),
    }
}

fn parse_steps(name: &str, value: &str) -> Result<(usize, usize), String> {
    let bad = || format!("{name}={value:?} is not a length like `30`, `1..50` or `1..=50`");
    let v = value.trim();
    let num = |s: &str| s.trim().parse::<usize>().map_err(|_| bad());
    let (lo, hi) = if let Some((a, b)) = v.split_once("..=") {
        (num(a)?, num(b)?)
    } else if let Some((a, b)) = v.split_once("..") {
        let hi = num(b)?;
        (num(a)?, hi.checked_sub(1).ok_or_else(bad)?)
    } else {
        let n = num(v)?;
        (n, n)
    };
    if lo > hi {
        return Err(bad());
    }
    if hi > MAX_STEPS {
        return Err(format!(
            "{name}={value:?} asks for programs longer than {MAX_STEPS} steps, the most one case \
             may have"
        ));
    }
    Ok((lo, hi))
}

/// A duration variable, parsed by [`crate::units::parse_duration`] like the command's options.
fn parse_duration(name: &str, value: &str) -> Result<Duration, String> {
    crate::units::parse_duration(value).map_err(|e| format!("{name}={value:?}: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn with(vars: &[(&str, &str)]) -> Result<Config, String> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::default().with_vars(|n| map.get(n).cloned())
    }

    #[test]
    fn a_concurrent_run_keeps_its_own_default_only_when_cases_were_not_set() {
        assert_eq!(Config::default().cases, 1000);
        assert_eq!(Config::default().for_concurrent().cases, 256);
        assert_eq!(Config::default().cases(1000).for_concurrent().cases, 1000);
        assert_eq!(Config::default().cases(40).for_concurrent().cases, 40);
        // A value assigned to the field directly, as code outside the crate may.
        let direct = Config {
            cases: 7,
            ..Config::default()
        };
        assert_eq!(direct.for_concurrent().cases, 7);
        let env = with(&[("STATEPROP_CASES", "1000")]).unwrap();
        assert_eq!(env.for_concurrent().cases, 1000);
    }

    #[test]
    fn environment_overrides_code() {
        let c = with(&[("STATEPROP_CASES", "1000"), ("STATEPROP_SEED", "0x10")]).unwrap();
        assert_eq!(c.cases, 1000);
        assert_eq!(c.seed, Some(16));
    }

    #[test]
    fn proptest_variables_apply_when_ours_are_absent() {
        let c = with(&[("PROPTEST_CASES", "7"), ("PROPTEST_MAX_SHRINK_TIME", "250")]).unwrap();
        assert_eq!(c.cases, 7);
        assert_eq!(c.max_shrink_time, Duration::from_millis(250));
        let c = with(&[("PROPTEST_CASES", "7"), ("STATEPROP_CASES", "9")]).unwrap();
        assert_eq!(c.cases, 9);
    }

    #[test]
    fn steps_and_durations_parse() {
        assert_eq!(
            with(&[("STATEPROP_STEPS", "1..50")]).unwrap().steps,
            (1, 49)
        );
        assert_eq!(with(&[("STATEPROP_STEPS", "5..=9")]).unwrap().steps, (5, 9));
        assert_eq!(with(&[("STATEPROP_STEPS", "30")]).unwrap().steps, (30, 30));
        let d = with(&[("STATEPROP_DURATION", "2m")]).unwrap().duration;
        assert_eq!(d, Some(Duration::from_secs(120)));
        let c = with(&[
            ("STATEPROP_BRANCHES", "3"),
            ("STATEPROP_BRANCH_STEPS", "2..=5"),
            ("STATEPROP_PREFIX_STEPS", "0"),
            ("STATEPROP_REPEATS", "7"),
        ])
        .unwrap();
        assert_eq!(
            (c.branches, c.branch_steps, c.prefix_steps, c.repeats),
            (3, (2, 5), (0, 0), 7)
        );
        let t = with(&[("STATEPROP_MAX_SHRINK_TIME", "500ms")]).unwrap();
        assert_eq!(t.max_shrink_time, Duration::from_millis(500));
    }

    #[test]
    fn bad_values_name_the_variable() {
        let e = with(&[("STATEPROP_CASES", "many")]).unwrap_err();
        assert!(e.contains("STATEPROP_CASES=\"many\""), "{e}");
        let e = with(&[("STATEPROP_STEPS", "9..3")]).unwrap_err();
        assert!(e.contains("STATEPROP_STEPS"), "{e}");
        let e = with(&[("STATEPROP_DURATION", "soon")]).unwrap_err();
        assert!(e.contains("STATEPROP_DURATION"), "{e}");
        // The same parser as the command's `--timeout`: its reason, after the variable.
        let e = with(&[("STATEPROP_STEP_TIMEOUT", "-1s")]).unwrap_err();
        assert_eq!(
            e,
            "STATEPROP_STEP_TIMEOUT=\"-1s\": a duration cannot be negative; expected a duration \
             such as 500ms, 10s, 2m or 1h"
        );
        let e = with(&[("STATEPROP_BRANCHES", "9")]).unwrap_err();
        assert!(
            e.contains("STATEPROP_BRANCHES=\"9\" is out of range"),
            "{e}"
        );
        // A space between number and unit is refused on the command line, so here too.
        let e = with(&[("STATEPROP_MAX_SHRINK_TIME", "10 s")]).unwrap_err();
        assert!(e.contains("unknown unit ` s`"), "{e}");
    }

    #[test]
    fn shards_deal_out_every_case_index_once() {
        for n in 1..=7u32 {
            let shards: Vec<Shard> = (1..=n).map(|k| Shard::new(k, n)).collect();
            let mut seen = vec![0u32; 10 * n as usize];
            for shard in &shards {
                for j in 0..10 {
                    let index = shard.case_index(j).unwrap();
                    assert!(shard.owns(index) && shard.ordinal(index) == j);
                    assert!(shards.iter().filter(|s| s.owns(index)).count() == 1);
                    seen[index as usize] += 1;
                }
            }
            assert!(seen.iter().all(|&c| c == 1), "{n}: {seen:?}");
        }
        assert_eq!(Shard::new(3, 3).case_index(u64::MAX), None);
    }

    #[test]
    fn a_shard_comes_from_the_environment_or_a_clear_error() {
        let c = with(&[("STATEPROP_SHARD", " 3/16 ")]).unwrap();
        assert_eq!(c.shard, Some(Shard::new(3, 16)));
        assert_eq!(c.shard.unwrap().to_string(), "3/16");
        assert_eq!(Config::default().shard(3, 16).shard, c.shard);
        for bad in ["0/4", "5/4", "4", "1/0", "a/b", "-1/4"] {
            let e = with(&[("STATEPROP_SHARD", bad)]).unwrap_err();
            assert!(
                e.starts_with(&format!("STATEPROP_SHARD={bad:?} is not a shard: use k/n")),
                "{e}"
            );
        }
    }
}
