//! The ticket dispenser (load, then store) is found on threads and shrunk to its two racing
//! takes; correct systems pass.

use crate::tickets::{AtomicDispenser, RacyDispenser, Tickets};
use crate::{pinned, two_takes};
use stateprop::models::{Counter, CounterOp, CounterOut};
use stateprop::{ConcurrentSystem, Config, FailureKind, Runner, Shape};
use std::sync::atomic::{AtomicI64, Ordering};

#[test]
fn the_racy_dispenser_is_found_and_shrunk_to_two_takes() {
    for seed in [1, 2, 3, 42, 2026] {
        let result = Runner::<Tickets>::new(pinned(seed)).run_concurrent_default::<RacyDispenser>();
        let text = result.report.text();
        assert!(result.failed(), "seed {seed}:\n{text}");
        assert_eq!(result.minimal_program, two_takes(), "seed {seed}:\n{text}");
        let failure = result.report.failure.as_ref().unwrap();
        assert!(
            matches!(failure.kind, FailureKind::History(_)),
            "seed {seed}: a linearizability violation, not {failure:?}"
        );
        assert!(
            text.contains("the history is not linearizable"),
            "seed {seed}:\n{text}"
        );
        // The minimal program is rerun for its reproduction rate, and the report gives it.
        let (failed, runs) = result.report.reproduction.expect("a rate");
        let reruns = 5 * Config::default().repeats;
        assert!(
            failed > 0 && runs == reruns,
            "seed {seed}: {failed} of {runs}"
        );
        assert!(
            text.contains(&format!(
                "stateprop: reproduced: {failed} of {runs} runs of this program failed this way"
            )),
            "{text}"
        );
        assert_eq!(result.report.shape(), Shape::Parallel);
    }
}

#[test]
fn the_atomic_dispenser_passes_every_case() {
    let result =
        Runner::<Tickets>::new(pinned(7).cases(200)).run_concurrent_default::<AtomicDispenser>();
    assert!(!result.failed(), "{}", result.report.text());
    assert_eq!(result.report.stats.cases, 200);
}

/// A counter whose adds are atomic and whose reads are sequentially consistent loads.
#[derive(Default)]
struct AtomicCounter(AtomicI64);

impl ConcurrentSystem<Counter> for AtomicCounter {
    fn apply(&self, op: &CounterOp) -> CounterOut {
        match *op {
            CounterOp::Add { by } => {
                self.0.fetch_add(by, Ordering::SeqCst);
                CounterOut::Done
            }
            CounterOp::Read => CounterOut::Value(self.0.load(Ordering::SeqCst)),
        }
    }
}

#[test]
fn an_atomic_counter_with_reads_passes() {
    let config = pinned(11).cases(200).branches(3);
    let result = Runner::<Counter>::new(config).run_concurrent_default::<AtomicCounter>();
    assert!(!result.failed(), "{}", result.report.text());
    assert_eq!(result.report.stats.cases, 200);
    // Reads were generated, so the histories had something to get wrong.
    let reads = result.report.stats.rules.iter().find(|(r, _)| *r == "Read");
    assert!(
        reads.is_some_and(|(_, n)| *n > 0),
        "{:?}",
        result.report.stats.rules
    );
}

#[test]
fn the_shape_follows_the_configuration() {
    // Four branches of exactly two steps, no prefix: the race still shrinks to two takes,
    // whatever the shape it was found in.
    let config = pinned(5).branches(4).branch_steps(2).prefix_steps(0);
    let result = Runner::<Tickets>::new(config).run_concurrent_default::<RacyDispenser>();
    assert_eq!(
        result.report.shrink.steps_before,
        8,
        "{}",
        result.report.text()
    );
    assert_eq!(result.minimal_program, two_takes());
}

#[test]
fn of_several_races_the_least_concurrent_is_reported() {
    let config = pinned(9).failures(3);
    let result = Runner::<Tickets>::new(config).run_concurrent_default::<RacyDispenser>();
    assert_eq!(result.report.shrink.failures, 3, "{}", result.report.text());
    assert_eq!(result.minimal_program, two_takes());
}
