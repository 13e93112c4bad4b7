//! A system that panics is reported by stateprop alone: the replays that look for the shortest
//! failing prefix run on the caller's thread, and its panic must not print there raw.

use stateprop::models::{Counter, CounterOp, CounterOut};
use stateprop::stress::{Stress, StressPlan, StressVerdict};

/// A correct counter that panics on its 60th call, every time it is built afresh.
#[derive(Default)]
struct Boom {
    value: i64,
    calls: u64,
}

impl stateprop::System<Counter> for Boom {
    fn apply(&mut self, op: &CounterOp) -> CounterOut {
        self.calls += 1;
        if self.calls == 60 {
            panic!("boom at call {}", self.calls);
        }
        match *op {
            CounterOp::Add { by } => {
                self.value += by;
                CounterOut::Done
            }
            CounterOp::Read => CounterOut::Value(self.value),
        }
    }
}

/// The child side of `a_panicking_system_prints_no_raw_panic_text`: a run that prints.
#[test]
#[ignore = "run as a child process by a_panicking_system_prints_no_raw_panic_text"]
fn child_runs_a_system_that_panics() {
    let plan = StressPlan::operations(1_000).seed(3);
    let result = Stress::<Counter, Boom>::new(plan)
        .ignore_env()
        .progress(stateprop::stress::ProgressMode::Quiet)
        .run(Boom::default)
        .unwrap();
    assert_eq!(result.verdict, StressVerdict::Mismatch);
    let failure = result.failure.unwrap();
    assert_eq!(failure.operation, 59);
    // The panic replayed, so the prefix search and the shrinker ran on it.
    assert_eq!(failure.prefix, Some(60));
    assert!(failure.report.is_some());
}

#[test]
fn a_panicking_system_prints_no_raw_panic_text() {
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--ignored",
            "--exact",
            "quiet::child_runs_a_system_that_panics",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("RUST_BACKTRACE", "1")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    // Rust's own panic line ("thread 'main' panicked at src/..."); the report says "the system
    // panicked at step 59", which is fine.
    assert!(
        !stderr.lines().any(|l| l.starts_with("thread '")),
        "{stderr}"
    );
    assert!(!stderr.contains("stack backtrace"), "{stderr}");
    // The report still carries the panic's message, as stateprop's own lines.
    assert!(
        stderr
            .lines()
            .any(|l| l.starts_with("stateprop:") && l.contains("boom at call 60")),
        "{stderr}"
    );
}
