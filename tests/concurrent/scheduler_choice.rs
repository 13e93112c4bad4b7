//! Choosing the scheduler: by name in the environment, and never a silent fallback to threads
//! when the controlled one is not built in.

use stateprop::{Config, Scheduler};

#[test]
fn the_scheduler_is_chosen_by_name_and_a_bad_name_is_refused() {
    let with =
        |v: &str| Config::default().with_vars(|n| (n == "STATEPROP_SCHEDULER").then(|| v.into()));
    assert_eq!(with("pct").unwrap().scheduler, Scheduler::Pct);
    assert_eq!(with("Random").unwrap().scheduler, Scheduler::Random);
    assert_eq!(with("threads").unwrap().scheduler, Scheduler::Threads);
    let e = with("loom").unwrap_err();
    assert!(
        e.contains("STATEPROP_SCHEDULER=\"loom\" is not a scheduler"),
        "{e}"
    );
    let seed = Config::default()
        .with_vars(|n| (n == "STATEPROP_SCHEDULE_SEED").then(|| "0x2a".into()))
        .unwrap();
    assert_eq!(seed.schedule_seed, 42);
    assert_eq!(Config::default().scheduler, Scheduler::Threads);
}

#[cfg(not(feature = "shuttle"))]
#[test]
fn a_controlled_scheduler_without_the_feature_is_a_clear_error() {
    use crate::tickets::{AtomicDispenser, Tickets};
    for scheduler in [Scheduler::Pct, Scheduler::Random] {
        let config = crate::pinned(1).scheduler(scheduler);
        let run = std::panic::catch_unwind(|| {
            stateprop::Runner::<Tickets>::new(config.clone())
                .run_concurrent_default::<AtomicDispenser>()
        });
        let payload = run.expect_err("no silent fallback to threads");
        let message = payload
            .downcast_ref::<String>()
            .cloned()
            .unwrap_or_default();
        assert!(message.starts_with("stateprop: "), "{message}");
        assert!(
            message.contains("needs stateprop's `shuttle` feature"),
            "{message}"
        );
        let replay = std::panic::catch_unwind(|| {
            stateprop::replay_concurrent_scheduled::<Tickets, AtomicDispenser>(
                config,
                &crate::two_takes(),
            )
        });
        let payload = replay.expect_err("no silent fallback to threads");
        let message = payload
            .downcast_ref::<String>()
            .cloned()
            .unwrap_or_default();
        assert!(
            message.contains("needs stateprop's `shuttle` feature"),
            "{message}"
        );
    }
}
