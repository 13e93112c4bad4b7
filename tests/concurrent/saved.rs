//! Reports, regression files and replay of parallel programs.

use crate::tickets::{AtomicDispenser, RacyDispenser, TicketOp, Tickets};
use crate::{pinned, scratch, two_takes};
use stateprop::{ConcurrentSystem, Origin, Program, Runner};
use std::sync::atomic::{AtomicU64, Ordering};

#[test]
fn the_json_report_has_the_program_by_branch_and_the_history() {
    let result = Runner::<Tickets>::new(pinned(42)).run_concurrent_default::<RacyDispenser>();
    assert!(result.failed());
    let json = result.report.json();
    assert_eq!(json["minimal"]["prefix"], serde_json::json!([]), "{json:#}");
    let branches = json["minimal"]["branches"].as_array().expect("branches");
    assert_eq!(branches.len(), 2, "{json:#}");
    let history = json["history"].as_array().expect("a history");
    // The history of a failing run of the two takes: both, each with its answer.
    assert_eq!(history.len(), 2, "{json:#}");
    assert!(history.iter().all(|op| !op["output"].is_null()), "{json:#}");
}

#[test]
fn a_saved_parallel_case_is_replayed_first() {
    let file = scratch("saved").join("tickets.stateprop-regressions");
    let config = |seed| pinned(seed).persist(true).regression_file(&file);
    let first = Runner::<Tickets>::new(config(42)).run_concurrent_default::<RacyDispenser>();
    assert!(first.failed());
    assert_eq!(
        first.report.saved_to.as_deref(),
        Some(file.to_str().unwrap())
    );
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.contains("\"branches\""), "{text}");

    // The next run, with another seed, replays the saved program before generating any.
    let second = Runner::<Tickets>::new(config(77)).run_concurrent_default::<RacyDispenser>();
    assert!(second.failed(), "{}", second.report.text());
    assert_eq!(second.report.stats.replayed, 1);
    assert_eq!(second.report.stats.cases, 0);
    assert_eq!(second.minimal_program, two_takes());
    assert!(matches!(second.report.origin, Some(Origin::Saved { .. })));

    // Fixed, the saved case runs and passes, then the generated cases do.
    let fixed =
        Runner::<Tickets>::new(config(77).cases(20)).run_concurrent_default::<AtomicDispenser>();
    assert!(!fixed.failed(), "{}", fixed.report.text());
    assert_eq!(fixed.report.stats.replayed, 1);
    assert_eq!(fixed.report.stats.cases, 20);
}

#[test]
fn replay_concurrent_fails_on_the_race_and_passes_when_fixed() {
    let program = two_takes();
    let failed = std::panic::catch_unwind(|| {
        stateprop::replay_concurrent::<Tickets, RacyDispenser>(&program)
    });
    let message = failed.expect_err("the race must fail its replay");
    let text = message
        .downcast_ref::<String>()
        .cloned()
        .unwrap_or_default();
    assert!(text.contains("the history is not linearizable"), "{text}");
    assert!(text.contains("program, replayed as given"), "{text}");
    stateprop::replay_concurrent::<Tickets, AtomicDispenser>(&program);
}

#[test]
fn the_report_pastes_a_replay_concurrent_test() {
    let result = Runner::<Tickets>::new(pinned(2)).run_concurrent_default::<RacyDispenser>();
    let pasted = result.report.pasteable_test();
    assert!(
        pasted.contains("stateprop::replay_concurrent::<Tickets, RacyDispenser>("),
        "{pasted}"
    );
    assert!(
        pasted.contains("&stateprop::Program::parallel("),
        "{pasted}"
    );
    assert!(!result.report.text().contains("no parallel replay"));
}

/// A dispenser whose first ticket is 1: wrong from one thread already.
struct FromOne(AtomicU64);

impl ConcurrentSystem<Tickets> for FromOne {
    fn apply(&self, _: &TicketOp) -> u64 {
        self.0.fetch_add(1, Ordering::SeqCst)
    }
}

#[test]
fn a_saved_sequential_case_runs_on_threads_too() {
    // A program without branches is a prefix: the concurrent runner replays it before
    // generating anything.
    let file = scratch("saved-sequential").join("tickets.stateprop-regressions");
    let entry = serde_json::json!({
        "format": 2, "shape": "sequential", "test": "concurrent", "seed": 1, "steps": ["Take"],
    });
    std::fs::write(&file, format!("{entry}\n")).unwrap();
    let config = pinned(1).persist(true).regression_file(&file);
    let result = Runner::<Tickets>::new(config).run_concurrent(|| FromOne(AtomicU64::new(1)));
    let text = result.report.text();
    assert!(result.failed(), "{text}");
    assert_eq!(result.report.stats.replayed, 1, "{text}");
    assert_eq!(result.report.stats.cases, 0, "{text}");
    assert!(
        matches!(result.report.origin, Some(Origin::Saved { .. })),
        "{text}"
    );
    assert_eq!(
        result.minimal_program,
        Program::sequential(vec![TicketOp::Take])
    );
}
