//! The report a failing (or passing) run ends with: text for people, JSON for tools.
//!
//! The text is deterministic: the same seed gives the same report, byte for byte. Wall-clock
//! figures are kept out of it and printed on a separate `stateprop: timing:` line.

mod diagram;
mod events;
mod json;
mod text;
pub(crate) mod timeline;

pub use events::{SimEvent, SimEventKind, SimRun};

use crate::failure::Failure;
use crate::program::Shape;
use crate::program::{Program, StepId};
use std::collections::BTreeMap;
use std::time::Duration;

/// Counts of a run.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Stats {
    /// Generated cases run.
    pub cases: u64,
    /// Steps run over all generated cases.
    pub steps: u64,
    /// How often each rule was generated, in declaration order.
    pub rules: Vec<(&'static str, u64)>,
    /// Generated cases whose swarm let each rule run, in declaration order (every case when
    /// swarm is off).
    pub enabled: Vec<(&'static str, u64)>,
    /// Generated cases by program length (steps run): length → cases.
    pub lengths: BTreeMap<usize, u64>,
    /// Generated cases in which each label ([`Runner::label`](crate::Runner::label)) held at
    /// some step, in the order the labels were added.
    pub labels: Vec<(String, u64)>,
    /// Saved regression cases replayed before generating.
    pub replayed: usize,
    /// Wall-clock time generating and running cases (not part of the text report).
    pub time: Duration,
    /// History judges that gave no verdict (budget exhausted, model panicked) on some
    /// histories: not failures, but the run did not check what it was asked to there.
    pub undecided: Vec<Undecided>,
}

/// A history judge that gave no verdict on some histories of a run.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Undecided {
    /// The judge's name (`linearizable`, ...).
    pub judge: String,
    /// Why, for the first such history.
    pub reason: String,
    /// How many histories (cases, shrink candidates and reruns) it gave no verdict on.
    pub histories: u64,
}

/// One operation of a recorded history, as the report shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct RecordedOp {
    /// The step it ran.
    pub step: StepId,
    /// The client that ran it (0 for a sequential run).
    pub client: u64,
    /// The operation, as Rust source.
    pub op: String,
    /// What it returned (`Debug`); `None` when the outcome is unknown.
    pub output: Option<String>,
    /// When it was invoked (a logical time: only the order counts).
    pub call: u64,
    /// When it returned; `None` if it never did.
    pub ret: Option<u64>,
}

/// Whether the run found a failure.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum RunVerdict {
    /// Every case passed.
    Pass,
    /// A case failed; see the report.
    Fail,
}

impl RunVerdict {
    /// `"pass"` or `"fail"`.
    pub fn as_str(self) -> &'static str {
        match self {
            RunVerdict::Pass => "pass",
            RunVerdict::Fail => "fail",
        }
    }
}

/// Where a failing program came from.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Origin {
    /// Generated case number `case` (0-based), whose own seed is `case_seed`.
    Generated {
        /// The case's index.
        case: u64,
        /// The case's seed (derived from the run seed).
        case_seed: u64,
    },
    /// Replayed from a regression file, at `file:line`.
    Saved {
        /// The file and line.
        location: String,
    },
    /// Given to `replay`.
    Replay,
    /// The failing prefix of a stress run's operation stream (`stateprop::stress`).
    Stress {
        /// The stream's seed.
        seed: u64,
        /// The operation (0-based) at which the stream failed.
        operation: u64,
    },
    /// A round of a concurrent stress run, shrunk. Unlike [`Origin::Stress`], the seed does not
    /// reproduce it: it fixes each thread's operations, not how the threads interleave.
    StressConcurrent {
        /// The run's seed (fixes every thread's operation stream).
        seed: u64,
        /// The operation (0-based, counted over all threads) in whose round the run failed.
        operation: u64,
        /// The threads the run used.
        threads: u32,
    },
}

/// Everything a report says, rendered to text with [`Report::text`] and to JSON with
/// [`Report::json`].
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Report {
    /// The test's name (thread name, or `Config::name`).
    pub test: String,
    /// Pass or fail.
    pub verdict: RunVerdict,
    /// The run seed.
    pub seed: u64,
    /// The failure of the minimal program.
    pub failure: Option<Failure>,
    /// The minimal program, one Rust expression per step; its shape is the report's
    /// ([`Report::shape`]). Empty when the run passed.
    pub minimal_rust: Program<String>,
    /// The same program, one JSON value per step (what the regression file stores).
    pub minimal_json: Program<serde_json::Value>,
    /// Where the failing program came from.
    pub origin: Option<Origin>,
    /// Run counts.
    pub stats: Stats,
    /// Shrink counts.
    pub shrink: ShrinkStats,
    /// Step-by-step trace of the minimal program (verbose mode).
    pub trace: Vec<String>,
    /// For a simulated run: the minimal program's failing run as a timeline, a column per
    /// node and simulated time downward (messages, timers, crashes, partitions, replies).
    /// Empty for other runs.
    pub timeline: Vec<String>,
    /// For a simulated run: the same run's events, structured (what `stateprop render` draws
    /// as a lane per node). `None` for other runs.
    pub sim: Option<SimRun>,
    /// The regression file the case was saved to.
    pub saved_to: Option<String>,
    /// The pasteable test's call up to its list of operations: `stateprop::replay::<Kv, Store>(`.
    pub replay_call: String,
    /// A note when the failure could not be shrunk (hangs) or did not reproduce reliably.
    pub note: Option<String>,
    /// With `Config::reruns` above 1: of that many runs of the program shown, how many failed
    /// as reported (`(failed, runs)`).
    pub reproduction: Option<(u32, u32)>,
    /// The command that reruns the test, e.g. `cargo test --test kv store_matches_model -- --exact`
    /// or `cargo run --example quickstart`.
    pub rerun: String,
    /// Environment settings the rerun needs besides the seed and case count
    /// (` STATEPROP_STEPS=1..=120` when the environment changed them).
    pub rerun_env: String,
    /// The history of one run of the minimal program, when it was recorded (a failing run's
    /// confirming rerun records it; a hang's report has none).
    pub history: Option<Vec<RecordedOp>>,
}

impl Report {
    /// How the minimal program's steps are arranged (sequential when the run passed).
    pub fn shape(&self) -> Shape {
        self.minimal_rust.shape()
    }

    /// What the run did not cover and the user should know: a rule never generated (its
    /// precondition never held, or its weight left it no chance), or one the swarm never let
    /// run. Empty when no case was generated.
    pub fn warnings(&self) -> Vec<String> {
        let cases = self.stats.cases;
        let mut out = Vec::new();
        if cases == 0 {
            return out;
        }
        for (i, (name, generated)) in self.stats.rules.iter().enumerate() {
            let enabled = self.stats.enabled.get(i).map_or(cases, |e| e.1);
            if enabled == 0 {
                out.push(format!(
                    "rule `{name}` was never enabled: the swarm left it out of all {cases} \
                     cases (run more cases, or STATEPROP_SWARM=0)"
                ));
            } else if *generated == 0 {
                out.push(format!(
                    "rule `{name}` was never generated in {cases} cases: its precondition \
                     never held, or its weight gave it no chance against the other rules"
                ));
            }
        }
        out
    }
}

/// What shrinking did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ShrinkStats {
    /// Candidate programs run against the system under test.
    pub runs: u64,
    /// Candidates skipped because an identical one had already run.
    pub skipped: u64,
    /// Length of the failing program before shrinking.
    pub steps_before: usize,
    /// Length after.
    pub steps_after: usize,
    /// Wall-clock time spent.
    pub time: Duration,
    /// Whether the time or run budget ended shrinking before the fixpoint.
    pub budget_exhausted: bool,
    /// Failing cases shrunk (more than one with `Config::failures`); the counts add up over all.
    pub failures: u32,
}

#[cfg(test)]
mod tests;
