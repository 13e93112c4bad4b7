//! The controlled scheduler (feature `shuttle`): the race that real threads rarely hit is found
//! in every seed and shrunk to its two takes, correct systems never fail, the same seed gives
//! the same report, and a failure replays its schedules (saved, and pasted).

use crate::tickets::{
    AtomicCounter, AtomicDispenser, LostUpdateCounter, TicketOp, Tickets, TightDispenser,
};
use crate::{pinned, scratch, two_takes};
use stateprop::models::{Counter, CounterOp};
use stateprop::sync::atomic::{AtomicU64, Ordering};
use stateprop::sync::Mutex;
use stateprop::{ConcurrentSystem, Config, FailureKind, Origin, Program, Runner, Scheduler};

/// Both controlled schedulers.
const CONTROLLED: [Scheduler; 2] = [Scheduler::Pct, Scheduler::Random];

/// The pinned seeds of the finding tests.
const SEEDS: std::ops::Range<u64> = 0..20;

fn under(scheduler: Scheduler, seed: u64) -> Config {
    pinned(seed).scheduler(scheduler)
}

#[test]
fn the_tight_dispenser_is_found_in_every_seed_and_shrunk_to_two_takes() {
    for scheduler in CONTROLLED {
        for seed in SEEDS {
            let result = Runner::<Tickets>::new(under(scheduler, seed))
                .run_concurrent_default::<TightDispenser>();
            let text = result.report.text();
            assert!(result.failed(), "{scheduler:?} seed {seed}:\n{text}");
            assert_eq!(
                result.minimal_program,
                two_takes(),
                "{scheduler:?} seed {seed}:\n{text}"
            );
            let failure = result.report.failure.as_ref().unwrap();
            assert!(
                matches!(failure.kind, FailureKind::History(_)),
                "{scheduler:?} seed {seed}: {failure:?}"
            );
            // The pasted test names the scheduler and its schedule, to replay them.
            let pasted = result.report.pasteable_test();
            let expected = format!("stateprop::Scheduler::{scheduler:?})");
            assert!(pasted.contains(&expected), "{pasted}");
            assert!(pasted.contains(".schedule_seed(0x0)"), "{pasted}");
            // So does the line to rerun the test.
            let rerun = format!(
                "STATEPROP_SCHEDULER={} STATEPROP_SCHEDULE_SEED=0x0",
                scheduler.name()
            );
            assert!(text.contains(&rerun), "{text}");
        }
    }
}

#[test]
fn the_lost_update_counter_is_found_in_every_seed_and_shrunk_to_three_steps() {
    for seed in SEEDS {
        let result = Runner::<Counter>::new(under(Scheduler::Pct, seed))
            .run_concurrent_default::<LostUpdateCounter>();
        let text = result.report.text();
        assert!(result.failed(), "seed {seed}:\n{text}");
        // Two adds that race, and a read after both: nothing less shows a lost update.
        let program = &result.minimal_program;
        assert_eq!(program.len(), 3, "seed {seed}:\n{text}");
        assert!(program.prefix.is_empty(), "seed {seed}:\n{text}");
        let reads = program
            .steps()
            .filter(|(_, op)| matches!(op, CounterOp::Read))
            .count();
        assert_eq!(reads, 1, "seed {seed}:\n{text}");
    }
}

/// Cases that run in a few seconds in a debug build: every one of them runs its program
/// `repeats` (20) times, each a shuttle execution (two for PCT). The measure mode of the
/// example runs 10,000 of each in a release build.
const CORRECT_CASES: u64 = 1_000;

#[test]
fn the_atomic_dispenser_never_fails() {
    for scheduler in CONTROLLED {
        let config = under(scheduler, 7).cases(CORRECT_CASES);
        let result = Runner::<Tickets>::new(config).run_concurrent_default::<AtomicDispenser>();
        assert!(!result.failed(), "{}", result.report.text());
        assert_eq!(result.report.stats.cases, CORRECT_CASES);
    }
}

#[test]
fn an_atomic_counter_read_by_seq_cst_loads_never_fails() {
    for scheduler in CONTROLLED {
        let config = under(scheduler, 11).cases(CORRECT_CASES).branches(3);
        let result = Runner::<Counter>::new(config).run_concurrent_default::<AtomicCounter>();
        assert!(!result.failed(), "{}", result.report.text());
        assert_eq!(result.report.stats.cases, CORRECT_CASES);
        let reads = result.report.stats.rules.iter().find(|(r, _)| *r == "Read");
        assert!(reads.is_some_and(|(_, n)| *n > 1_000), "{reads:?}");
    }
}

#[test]
fn the_same_seed_gives_the_same_report_byte_for_byte() {
    for scheduler in CONTROLLED {
        let run = || {
            Runner::<Tickets>::new(under(scheduler, 3).branch_steps(1..=6))
                .run_concurrent_default::<TightDispenser>()
                .report
        };
        let (a, b) = (run(), run());
        assert!(a.failure.is_some());
        assert_eq!(a.text(), b.text());
        // The JSON too, but for its wall-clock fields.
        fn untimed(v: &mut serde_json::Value) {
            match v {
                serde_json::Value::Object(map) => {
                    map.remove("time_ms");
                    map.values_mut().for_each(untimed);
                }
                serde_json::Value::Array(items) => items.iter_mut().for_each(untimed),
                _ => {}
            }
        }
        let json = |r: &stateprop::Report| {
            let mut v = r.json();
            untimed(&mut v);
            serde_json::to_string(&v).unwrap()
        };
        assert_eq!(json(&a), json(&b));
    }
}

/// How many of a replay's runs failed, read from its report.
fn replayed(program: &Program<TicketOp>, config: Config) -> Option<u32> {
    let replay = std::panic::catch_unwind(|| {
        stateprop::replay_concurrent_scheduled::<Tickets, TightDispenser>(config, program)
    });
    let payload = replay.err()?;
    let text = payload
        .downcast_ref::<String>()
        .cloned()
        .unwrap_or_default();
    let (_, rest) = text.split_once("stateprop: reproduced: ")?;
    rest.split_whitespace().next()?.parse().ok()
}

#[test]
fn a_pasted_test_replays_the_schedules_the_run_tried() {
    let result = Runner::<Tickets>::new(under(Scheduler::Random, 5))
        .run_concurrent_default::<TightDispenser>();
    assert_eq!(result.minimal_program, two_takes());
    // The minimal program was rerun 5 × 20 times: five rounds of the same 20 schedules.
    let (failed, runs) = result.report.reproduction.expect("a rate");
    assert_eq!(runs, 100);
    assert_eq!(failed % 5, 0, "{failed} of {runs}");
    let replay = Config::default()
        .ignore_env()
        .scheduler(Scheduler::Random)
        .repeats(20);
    assert_eq!(
        replayed(&two_takes(), replay.clone()),
        Some(failed / 5),
        "{}",
        result.report.text()
    );
    // Other schedules of the same program are other runs: at most one schedule seed in a
    // handful gives the very same failures.
    let same = (1..6)
        .filter(|s| replayed(&two_takes(), replay.clone().schedule_seed(*s)) == Some(failed / 5))
        .count();
    assert!(same < 5, "the schedule seed changed nothing");
    // The fixed dispenser passes the same schedules.
    stateprop::replay_concurrent_scheduled::<Tickets, AtomicDispenser>(replay, &two_takes());
}

#[test]
fn a_saved_failure_is_replayed_first_with_its_schedules() {
    let file = scratch("scheduled-saved").join("saved.stateprop-regressions");
    let config = |seed| {
        under(Scheduler::Pct, seed)
            .persist(true)
            .regression_file(&file)
    };
    let first = Runner::<Tickets>::new(config(42)).run_concurrent_default::<TightDispenser>();
    assert_eq!(first.minimal_program, two_takes());
    assert!(std::fs::read_to_string(&file).unwrap().contains("Take"));
    // Another seed: the saved program runs first and fails again, before any case is generated.
    let second = Runner::<Tickets>::new(config(77)).run_concurrent_default::<TightDispenser>();
    assert!(
        matches!(second.report.origin, Some(Origin::Saved { .. })),
        "{}",
        second.report.text()
    );
    assert_eq!(second.minimal_program, two_takes());
    assert_eq!(first.report.reproduction, second.report.reproduction);
}

/// A system that panics on its second call: the outcome of that call is unknown, and the report
/// names it; the harness does not crash.
#[derive(Default)]
struct PanicsOnSecondTake(AtomicU64);

impl ConcurrentSystem<Tickets> for PanicsOnSecondTake {
    fn apply(&self, _: &TicketOp) -> u64 {
        let ticket = self.0.fetch_add(1, Ordering::SeqCst);
        assert!(ticket < 1, "the second take broke");
        ticket
    }
}

#[test]
fn a_panic_in_the_system_is_a_failure_naming_its_step() {
    let result = Runner::<Tickets>::new(under(Scheduler::Pct, 1))
        .run_concurrent_default::<PanicsOnSecondTake>();
    let text = result.report.text();
    let failure = result.report.failure.as_ref().expect("a failure");
    let FailureKind::Panic { message } = &failure.kind else {
        panic!("a panic, not {failure:?}:\n{text}");
    };
    assert!(message.contains("the second take broke"), "{text}");
    assert!(failure.step.is_some(), "{text}");
    assert_eq!(result.minimal_program.len(), 2, "{text}");
}

/// Takes hand out tickets atomically, then lock two mutexes, in opposite orders for even and odd
/// tickets: two takes at once can deadlock.
#[derive(Default)]
struct TwoLocks {
    next: AtomicU64,
    a: Mutex<()>,
    b: Mutex<()>,
}

impl ConcurrentSystem<Tickets> for TwoLocks {
    fn apply(&self, _: &TicketOp) -> u64 {
        let ticket = self.next.fetch_add(1, Ordering::SeqCst);
        let (x, y) = match ticket % 2 {
            0 => (&self.a, &self.b),
            _ => (&self.b, &self.a),
        };
        let _x = x.lock().unwrap();
        let _y = y.lock().unwrap();
        ticket
    }
}

#[test]
fn a_deadlock_found_by_the_scheduler_is_a_failure_not_a_crash() {
    let result =
        Runner::<Tickets>::new(under(Scheduler::Random, 2)).run_concurrent_default::<TwoLocks>();
    let text = result.report.text();
    let failure = result.report.failure.as_ref().expect("a failure");
    let FailureKind::Panic { message } = &failure.kind else {
        panic!("a deadlock, not {failure:?}:\n{text}");
    };
    assert!(message.contains("deadlock"), "{text}");
    assert_eq!(result.minimal_program, two_takes(), "{text}");
}

#[test]
fn a_sync_system_on_real_threads_in_this_build_is_a_clear_error() {
    // shuttle's types work only under its scheduler: a misuse, not a bug in the system.
    let run = std::panic::catch_unwind(|| {
        Runner::<Tickets>::new(pinned(1).scheduler(Scheduler::Threads))
            .run_concurrent_default::<AtomicDispenser>()
    });
    let payload = run.expect_err("an error, not a report of the system");
    let message = payload
        .downcast_ref::<String>()
        .cloned()
        .unwrap_or_default();
    assert!(
        message.starts_with("stateprop: the system uses `stateprop::sync`"),
        "{message}"
    );
    assert!(message.contains("STATEPROP_SCHEDULER=pct"), "{message}");
    let replay = std::panic::catch_unwind(|| {
        stateprop::replay_concurrent_scheduled::<Tickets, AtomicDispenser>(
            Config::default().ignore_env(),
            &two_takes(),
        )
    });
    let payload = replay.expect_err("an error, not a report of the system");
    let message = payload
        .downcast_ref::<String>()
        .cloned()
        .unwrap_or_default();
    assert!(
        message.starts_with("stateprop: the system uses `stateprop::sync`"),
        "{message}"
    );
}

/// The seeds of the exhaustive scheduler's finding tests: the seed changes the programs
/// generated, never the schedules a program gets.
const DFS_SEEDS: std::ops::Range<u64> = 0..6;

#[test]
fn the_tight_dispenser_is_found_under_dfs_in_every_seed_and_shrunk_to_two_takes() {
    for seed in DFS_SEEDS {
        let result = Runner::<Tickets>::new(under(Scheduler::Dfs, seed))
            .run_concurrent_default::<TightDispenser>();
        let text = result.report.text();
        assert!(result.failed(), "seed {seed}:\n{text}");
        assert_eq!(result.minimal_program, two_takes(), "seed {seed}:\n{text}");
        let failure = result.report.failure.as_ref().unwrap();
        assert!(
            matches!(failure.kind, FailureKind::History(_)),
            "seed {seed}: {failure:?}"
        );
        // The pasted test names the scheduler and the run count, and no seed: the walk is the
        // same for every one.
        let pasted = result.report.pasteable_test();
        assert!(pasted.contains("stateprop::Scheduler::Dfs)"), "{pasted}");
        assert!(pasted.contains(".repeats(20)"), "{pasted}");
        assert!(!pasted.contains("schedule_seed"), "{pasted}");
        assert!(text.contains("STATEPROP_SCHEDULER=dfs"), "{text}");
        // Nor does the rerun line.
        assert!(!text.contains("STATEPROP_SCHEDULE_SEED"), "{text}");
    }
}

#[test]
fn correct_systems_never_fail_under_dfs() {
    let config = |seed| under(Scheduler::Dfs, seed).cases(300);
    let result = Runner::<Tickets>::new(config(7)).run_concurrent_default::<AtomicDispenser>();
    assert!(!result.failed(), "{}", result.report.text());
    assert_eq!(result.report.stats.cases, 300);
    let result =
        Runner::<Counter>::new(config(11).branches(3)).run_concurrent_default::<AtomicCounter>();
    assert!(!result.failed(), "{}", result.report.text());
    assert_eq!(result.report.stats.cases, 300);
    let reads = result.report.stats.rules.iter().find(|(r, _)| *r == "Read");
    assert!(reads.is_some_and(|(_, n)| *n > 300), "{reads:?}");
}

#[test]
fn a_pasted_dfs_test_replays_the_failure_exactly() {
    let result =
        Runner::<Tickets>::new(under(Scheduler::Dfs, 5)).run_concurrent_default::<TightDispenser>();
    assert_eq!(result.minimal_program, two_takes());
    // The confirming reruns walk the same 20 schedules five times over.
    let (failed, runs) = result.report.reproduction.expect("a rate");
    assert_eq!(runs, 100);
    assert!(failed > 0 && failed % 5 == 0, "{failed} of {runs}");
    let replay = Config::default()
        .ignore_env()
        .scheduler(Scheduler::Dfs)
        .repeats(20);
    for _ in 0..2 {
        assert_eq!(
            replayed(&two_takes(), replay.clone()),
            Some(failed / 5),
            "{}",
            result.report.text()
        );
    }
    // The seed plays no part.
    assert_eq!(
        replayed(&two_takes(), replay.clone().schedule_seed(99)),
        Some(failed / 5)
    );
    // The fixed dispenser passes the same schedules.
    stateprop::replay_concurrent_scheduled::<Tickets, AtomicDispenser>(replay, &two_takes());
}

#[test]
fn dfs_is_chosen_by_name() {
    let config = Config::default()
        .with_vars(|n| (n == "STATEPROP_SCHEDULER").then(|| "DFS".into()))
        .unwrap();
    assert_eq!(config.scheduler, Scheduler::Dfs);
    assert_eq!(Scheduler::Dfs.name(), "dfs");
    assert!(Scheduler::Dfs.is_controlled());
}

#[test]
fn the_lost_update_counter_is_found_under_dfs_and_shrunk_to_three_steps() {
    for seed in DFS_SEEDS {
        let result = Runner::<Counter>::new(under(Scheduler::Dfs, seed))
            .run_concurrent_default::<LostUpdateCounter>();
        let text = result.report.text();
        assert!(result.failed(), "seed {seed}:\n{text}");
        assert_eq!(result.minimal_program.len(), 3, "seed {seed}:\n{text}");
        assert!(
            result.minimal_program.prefix.is_empty(),
            "seed {seed}:\n{text}"
        );
    }
}

#[test]
fn a_deadlock_found_under_dfs_is_a_failure_and_replays() {
    let result =
        Runner::<Tickets>::new(under(Scheduler::Dfs, 2)).run_concurrent_default::<TwoLocks>();
    let text = result.report.text();
    let failure = result.report.failure.as_ref().expect("a failure");
    let FailureKind::Panic { message } = &failure.kind else {
        panic!("a deadlock, not {failure:?}:\n{text}");
    };
    assert!(message.contains("deadlock"), "{text}");
    assert_eq!(result.minimal_program, two_takes(), "{text}");
    // The same runs again: as many fail.
    let (failed, runs) = result.report.reproduction.expect("a rate");
    assert!(failed > 0 && failed % 5 == 0, "{failed} of {runs}");
    let again = Runner::<Tickets>::new(under(Scheduler::Dfs, 2))
        .run_concurrent_default::<TwoLocks>()
        .report;
    assert_eq!(again.reproduction, Some((failed, runs)));
}
