//! Stress runs: the same model and system, run at the size and rate the code must meet, to find
//! the bugs that exist only at scale (state that accumulates across iterations, a counter that
//! wraps after 65,536 operations, a latency that grows with the data).
//!
//! A [`StressPlan`] states the target (operations or duration, op mix, rate, limits on
//! throughput, p99 latency and memory growth) in code or in a JSON file beside the test.
//! [`Stress::run`] streams operations from the plan's seed through the sequential executor's
//! step judge, so every step is checked against the model as in any case, with constant memory
//! in the harness: no program is kept, only a window of the latest operations, HDR histograms
//! of the system call's latency per rule and a running fit of memory against operations.
//!
//! ```no_run
//! # use stateprop::stress::{Stress, StressPlan};
//! # fn demo<M: stateprop::Model + Default + Send, S: stateprop::System<M> + Default + 'static>()
//! # where M::Op: Send {
//! let plan = StressPlan::operations(2_000_000)
//!     .seed(7)
//!     .warmup(200_000)
//!     .max_growth_per_million(1024.0 * 1024.0);
//! let result = Stress::<M, S>::new(plan).run(S::default).expect("a valid plan");
//! assert!(result.passed(), "{}", result.text());
//! # }
//! ```
//!
//! A mismatch at operation k is reported with the window before it, replayed from the seed on a
//! fresh system to find the shortest failing prefix, and, when that prefix is at most
//! [`StressPlan::shrink_bound`] operations (or its last operations fail alone), shrunk by the
//! engine's shrinker into the usual report and pasteable test. See `docs/stress.md`.
//!
//! A `Var` field names one of the latest [`StressPlan::var_window`] steps, whose outputs are
//! the only ones kept.
//!
//! While it runs, a [`Progress`] shows operations per second and elapsed time: a bar on a
//! terminal, periodic `stateprop:` lines otherwise. Each run can leave a [`StressResult`] as
//! JSON (the plan's `result_path` or `STATEPROP_STRESS_RESULT`), and [`compare()`] (or
//! `stateprop compare OLD.json NEW.json`) flags the metrics of a later run that regressed
//! beyond noise.
//!
//! A run is one function of a plan (`fn(StressPlan) -> Result<StressResult, PlanError>`): an
//! example's `main` is [`main()`]`(that_function)`, which reads a plan file and overrides from
//! the command line (`--operations`, `--duration`, `--seed`, `--threads`, `--result`,
//! `--quiet`) and exits 0, 1 or 2; a test calls the same function on the same file, shortened
//! with [`StressPlan::with_operations`]. See "One plan, two sizes" in `docs/stress.md`.
//!
//! With `threads` above 1, [`Stress::run_concurrent`] drives a
//! [`ClientSystem`](crate::ClientSystem) (or [`ConcurrentSystem`](crate::ConcurrentSystem))
//! from that many threads in rounds of [`StressPlan::round`] operations each; at the barrier
//! that ends a round its history is judged for linearizability from the states the previous
//! round may have ended in, then dropped. A mix whose rules are valid in every state has each
//! thread draw its own operations; a mix with a precondition or a `Var` field has each round
//! drawn at the barrier as a parallel program whose every step runs in every interleaving from
//! each state the round may start in (slower: see "What drawing rounds costs" in
//! `docs/stress.md`).
//!
//! A failing round is tried again on fresh systems, alone and after the earlier rounds, and
//! shrunk when it fails there. A watchdog times every system call, the factory, the gauge and
//! the teardown: one that does not return within `step_timeout_ms` ends the run as a hang.
//!
//! Limitations, for now: a machine with `#[consumes]` fields runs no rule with a `Var` field,
//! and a run stops at `u32::MAX` operations.

mod bisect;
mod compare;
mod concurrent;
mod coordinator;
mod deadline;
mod drawn;
mod fresh;
mod gate;
mod main;
mod measure;
mod pace;
mod plan;
mod progress;
mod result;
mod round;
mod run;
mod stream;

pub use compare::{compare, Comparison, MetricKind, Row, Tolerances};
pub use main::{main, main_with, MainExit, EXIT_FAIL, EXIT_PASS, EXIT_USAGE};
pub use measure::resident_bytes;
pub use pace::Pace;
pub use plan::{Limits, PlanError, StressPlan};
pub use progress::{Progress, ProgressMode, CHECK_EVERY, DEFAULT_LINE_INTERVAL};
pub use result::{
    Growth, GrowthSource, Latency, ResultError, StressFailure, StressResult, StressVerdict,
    FORMAT_VERSION,
};
pub use run::{check, run, Stress};
