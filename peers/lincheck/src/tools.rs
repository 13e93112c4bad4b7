//! One seeded run of each tool, reduced to the same few numbers.

use crate::systems::Writes;
use lincheck::scenario::{check_scenario_with_loom, Scenario};
use lincheck::{ConcOp, ConcRet, ConcurrentSpec};
use proptest::prelude::*;
use proptest::test_runner::{Config as PtConfig, RngSeed, TestError, TestRunner};
use stateprop::{ConcurrentSystem, Config, Model, Runner};
use std::cell::Cell;
use std::fmt::Debug;
use std::panic::UnwindSafe;
use std::time::{Duration, Instant};

/// What one seed of one tool on one system came to.
pub struct Outcome {
    /// Whether the tool reported the system as not linearizable.
    pub found: bool,
    /// From the start until the first failing case was seen (before shrinking).
    pub find: Duration,
    /// The whole call: generating, running, shrinking, and whatever else the tool does.
    pub total: Duration,
    /// Operations in the reported scenario (every part: prefix or init, threads, post).
    pub size: usize,
    /// Operations in its concurrent part.
    pub parallel: usize,
    /// Threads (branches) of the concurrent part with at least one operation that writes.
    pub writers: usize,
    /// Generated cases run until the first failure (all of them when none failed).
    pub cases: u64,
    /// The reported scenario, one line: `init ; thread 0 | thread 1 ; post` for lincheck,
    /// `prefix ; branch 0 | branch 1` for stateprop (whose programs have no post part).
    pub scenario: String,
}

fn list<T: Debug>(ops: &[T]) -> String {
    let ops: Vec<String> = ops.iter().map(|op| format!("{op:?}")).collect();
    format!("[{}]", ops.join(", "))
}

fn writers<T: Writes>(parts: &[Vec<T>]) -> usize {
    parts.iter().filter(|p| p.iter().any(T::writes)).count()
}

fn threads<T: Debug>(parts: &[Vec<T>]) -> String {
    let parts: Vec<String> = parts.iter().map(|p| list(p)).collect();
    parts.join(" | ")
}

/// Lincheck 0.2's `Lincheck::verify`, step for step, through its public pieces: a proptest
/// `TestRunner` over `any::<Scenario<Op>>()` (whose parameters are `Lincheck::default()`, two
/// threads, up to five operations per part; `verify` passes no others either), each scenario
/// run by `check_scenario_with_loom`. The only change is the runner's configuration: the seed is
/// fixed (what `PROPTEST_RNG_SEED` does to `verify`) and no failure file is read or written, so
/// one seed's result cannot leak into the next. Going through the pieces rather than `verify`
/// gives the shrunk `Scenario` (whose fields are public) to count, and the first failure's time.
pub fn lincheck<C>(seed: u64) -> Outcome
where
    C: ConcurrentSpec + Send + Sync + 'static,
    C::Seq: Send + Sync + 'static,
    ConcOp<C>: Send + Sync + Clone + Arbitrary + Debug + UnwindSafe + Writes + 'static,
    ConcRet<C>: PartialEq + Debug + Send + Clone,
{
    let config = PtConfig {
        rng_seed: RngSeed::Fixed(seed),
        failure_persistence: None,
        ..PtConfig::default()
    };
    let start = Instant::now();
    let first_failure = Cell::new(None);
    let cases = Cell::new(0u64);
    let result = TestRunner::new(config).run(&any::<Scenario<ConcOp<C>>>(), |scenario| {
        if first_failure.get().is_none() {
            cases.set(cases.get() + 1);
        }
        let verdict = check_scenario_with_loom::<C>(scenario);
        if verdict.is_err() && first_failure.get().is_none() {
            first_failure.set(Some(start.elapsed()));
        }
        verdict.map_err(|_| TestCaseError::fail("non-linearizable execution"))
    });
    let total = start.elapsed();
    let (found, size, parallel, scenario, writing) = match result {
        Ok(()) => (false, 0, 0, String::new(), 0),
        Err(TestError::Fail(_, s)) => {
            let parallel: usize = s.parallel_part.iter().map(Vec::len).sum();
            let shown = format!(
                "{} ; {} ; {}",
                list(&s.init_part),
                threads(&s.parallel_part),
                list(&s.post_part)
            );
            let size = s.init_part.len() + parallel + s.post_part.len();
            (true, size, parallel, shown, writers(&s.parallel_part))
        }
        Err(TestError::Abort(why)) => panic!("peers: lincheck aborted the run: {why}"),
    };
    Outcome {
        found,
        find: first_failure.get().unwrap_or(total),
        total,
        size,
        parallel,
        writers: writing,
        cases: cases.get(),
        scenario,
    }
}

/// stateprop on real threads with its defaults for a concurrent run
/// (`Runner::run_concurrent_default`), the seed pinned and the environment ignored.
pub fn stateprop<M, S>(seed: u64) -> Outcome
where
    M: Model + Default + std::hash::Hash + Eq + Send,
    M::Op: Send + Sync,
    M::Output: Send + Sync,
    S: ConcurrentSystem<M> + Default + 'static,
{
    let config = Config::default()
        .ignore_env()
        .persist(false)
        .seed(seed)
        .name("peers");
    let start = Instant::now();
    let result = Runner::<M>::new(config).run_concurrent_default::<S>();
    let total = start.elapsed();
    let program = &result.minimal_program;
    let parallel = program.branches.iter().map(Vec::len).sum();
    let scenario = if result.failed() {
        format!("{} ; {}", list(&program.prefix), threads(&program.branches))
    } else {
        String::new()
    };
    Outcome {
        found: result.failed(),
        find: result.report.stats.time,
        total,
        size: program.prefix.len() + parallel,
        parallel,
        writers: writers(&program.branches),
        cases: result.report.stats.cases,
        scenario,
    }
}
