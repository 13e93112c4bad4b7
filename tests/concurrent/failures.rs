//! A branch that panics or hangs is reported naming its step.

use crate::pinned;
use crate::tickets::{TicketOp, Tickets};
use stateprop::{ConcurrentSystem, FailureKind, Runner, StepId};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// The branch running this call, from the thread's name.
fn branch() -> Option<String> {
    let name = std::thread::current().name()?.to_string();
    name.strip_prefix("stateprop-branch-").map(str::to_string)
}

/// A correct dispenser, except on branch 1's thread, where every take panics.
#[derive(Default)]
struct PanicsOnBranchOne(AtomicU64);

impl ConcurrentSystem<Tickets> for PanicsOnBranchOne {
    fn apply(&self, _: &TicketOp) -> u64 {
        if branch().as_deref() == Some("1") {
            panic!("dispenser jammed");
        }
        self.0.fetch_add(1, Ordering::SeqCst)
    }
}

#[test]
fn a_panicking_branch_is_reported_naming_its_step() {
    let result = Runner::<Tickets>::new(pinned(3)).run_concurrent_default::<PanicsOnBranchOne>();
    let text = result.report.text();
    assert!(result.failed(), "{text}");
    let failure = result.report.failure.as_ref().unwrap();
    assert!(
        matches!(&failure.kind, FailureKind::Panic { message } if message.contains("dispenser jammed")),
        "{failure:?}"
    );
    assert_eq!(failure.step, Some(StepId::in_branch(1, 0)), "{text}");
    assert!(text.contains("branch 1 step 0"), "{text}");
}

/// A correct dispenser, except on branch 1's thread, where a take never returns.
#[derive(Default)]
struct HangsOnBranchOne(AtomicU64);

impl ConcurrentSystem<Tickets> for HangsOnBranchOne {
    fn apply(&self, _: &TicketOp) -> u64 {
        if branch().as_deref() == Some("1") {
            loop {
                std::thread::park();
            }
        }
        self.0.fetch_add(1, Ordering::SeqCst)
    }
}

#[test]
fn a_hanging_branch_is_reported_naming_its_step() {
    let config = pinned(4).step_timeout(Duration::from_millis(300));
    let result = Runner::<Tickets>::new(config).run_concurrent_default::<HangsOnBranchOne>();
    let text = result.report.text();
    assert!(result.failed(), "{text}");
    let failure = result.report.failure.as_ref().unwrap();
    assert!(
        matches!(failure.kind, FailureKind::Hang { .. }),
        "{failure:?}"
    );
    assert_eq!(failure.step, Some(StepId::in_branch(1, 0)), "{text}");
    assert!(text.contains("branch 1 step 0"), "{text}");
    // The whole case is shown: its branches ran at once.
    assert_eq!(result.minimal_program.branches.len(), 2, "{text}");
}
