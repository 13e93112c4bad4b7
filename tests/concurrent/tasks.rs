//! Branches as tasks on a tokio runtime (feature `tokio`): the async dispenser's race is found
//! and shrunk to its two racing takes, the fixed one passes, a panicking future is reported with
//! its step, and a pasted replay fails as the run did.

use crate::pinned;
use async_tickets::{AsyncAtomicDispenser, AsyncRacyDispenser, TicketOp, Tickets};
use stateprop::{AsyncSystem, FailureKind, Program, Runner};

// The example brings its own copy of the dispenser's model (`tickets` here is the threaded
// example's): the two are distinct types, which is all these tests need.
#[path = "../../examples/async_dispenser.rs"]
#[allow(dead_code, clippy::duplicate_mod)]
mod async_tickets;

fn two_takes() -> Program<TicketOp> {
    Program::parallel(vec![], vec![vec![TicketOp::Take], vec![TicketOp::Take]])
}

#[test]
fn the_async_race_is_found_and_shrunk_to_two_takes() {
    for seed in [1, 2, 3, 42, 2026] {
        let result = Runner::<Tickets>::new(pinned(seed)).run_async_default::<AsyncRacyDispenser>();
        let text = result.report.text();
        assert!(result.failed(), "seed {seed}:\n{text}");
        assert_eq!(result.minimal_program, two_takes(), "seed {seed}:\n{text}");
        assert!(
            matches!(
                result.report.failure.as_ref().map(|f| &f.kind),
                Some(FailureKind::History(_))
            ),
            "seed {seed}:\n{text}"
        );
        assert!(
            text.contains("stateprop::replay_async::<Tickets, AsyncRacyDispenser>("),
            "{text}"
        );
    }
}

#[test]
fn the_fixed_async_dispenser_passes() {
    let result =
        Runner::<Tickets>::new(pinned(5).cases(200)).run_async_default::<AsyncAtomicDispenser>();
    assert!(!result.failed(), "{}", result.report.text());
    assert_eq!(result.report.stats.cases, 200);
}

/// A service whose second take panics while it awaits.
#[derive(Default)]
struct Crashing(std::sync::atomic::AtomicU64);

impl AsyncSystem<Tickets> for Crashing {
    async fn apply(&self, _: &TicketOp) -> u64 {
        let n = self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        tokio::task::yield_now().await;
        assert!(n < 1, "the storage went away");
        n
    }
}

#[test]
fn a_panicking_future_is_a_failure_naming_its_step() {
    let result = Runner::<Tickets>::new(pinned(3).cases(50)).run_async_default::<Crashing>();
    let text = result.report.text();
    assert!(result.failed(), "{text}");
    let failure = result.report.failure.as_ref().expect("a failure");
    assert!(
        matches!(&failure.kind, FailureKind::Panic { message } if message.contains("the storage went away")),
        "{text}"
    );
    assert!(failure.step.is_some(), "{text}");
}

#[test]
fn a_pasted_replay_of_the_race_fails() {
    let replay = std::panic::catch_unwind(|| {
        stateprop::replay_async::<Tickets, AsyncRacyDispenser>(&two_takes())
    });
    let message = replay.expect_err("the race replays");
    let text = message
        .downcast_ref::<String>()
        .cloned()
        .unwrap_or_default();
    assert!(text.contains("not linearizable"), "{text}");
}

/// A correct service, except that a take whose ticket is 1 never completes.
#[derive(Default)]
struct NeverAnswersOne(std::sync::atomic::AtomicU64);

impl AsyncSystem<Tickets> for NeverAnswersOne {
    async fn apply(&self, _: &TicketOp) -> u64 {
        let n = self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        if n == 1 {
            std::future::pending::<()>().await;
        }
        n
    }
}

#[test]
fn a_future_that_never_completes_is_a_hang_naming_its_step() {
    let config = pinned(4).step_timeout(std::time::Duration::from_millis(300));
    let result = Runner::<Tickets>::new(config).run_async_default::<NeverAnswersOne>();
    let text = result.report.text();
    assert!(result.failed(), "{text}");
    let failure = result.report.failure.as_ref().expect("a failure");
    assert!(matches!(failure.kind, FailureKind::Hang { .. }), "{text}");
    assert!(failure.step.is_some(), "{text}");
}

/// A correct service that waits on tokio's timer between taking and answering.
#[derive(Default)]
struct SleepyDispenser(std::sync::atomic::AtomicU64);

impl AsyncSystem<Tickets> for SleepyDispenser {
    async fn apply(&self, _: &TicketOp) -> u64 {
        let n = self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        tokio::time::sleep(std::time::Duration::from_micros(10)).await;
        n
    }
}

#[test]
fn a_system_may_use_tokio_timers() {
    let result = Runner::<Tickets>::new(pinned(6).cases(30)).run_async_default::<SleepyDispenser>();
    assert!(!result.failed(), "{}", result.report.text());
}
