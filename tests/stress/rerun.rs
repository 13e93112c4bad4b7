//! What a failing stress run says about rerunning it: a sequential run replays from its seed, a
//! concurrent one does not (the seed fixes each thread's operations, not their interleaving).

use stateprop::models::Counter;
use stateprop::stress::{Stress, StressPlan, StressVerdict};

use crate::counters::RacyCounter;

#[test]
fn a_concurrent_failure_says_the_seed_does_not_fix_the_interleaving() {
    let plan = StressPlan::operations(400_000).threads(4).round(32).seed(5);
    let result = Stress::<Counter, RacyCounter>::new(plan)
        .ignore_env()
        .quiet()
        .run_concurrent(RacyCounter::default)
        .unwrap();
    assert_eq!(result.verdict, StressVerdict::Mismatch, "{}", result.text());
    let text = result.text();
    assert!(
        text.contains(
            "STATEPROP_SEED=5 gives each thread the same operations but not the same interleaving (rounds"
        ),
        "{text}"
    );
    // The shrunk report of the round (when its race recurs on rerun) must not claim a replay.
    assert!(
        !text.contains("found by a stress run at operation"),
        "{text}"
    );
    if text.contains("shrunk by the concurrent runner") {
        assert!(
            text.contains("found by a concurrent stress run (4 threads)"),
            "{text}"
        );
    }
}
