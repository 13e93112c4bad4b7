//! The primary-backup register of `examples/replicated_register.rs`: the stale read its
//! backups serve is found in every seed, shrunk, reported as the violation of each judge, and
//! replayed by the pasted test; the fixed register passes.

use crate::register::{cluster, BackupReads, PrimaryReads};
use stateprop::check::Guarantee;
use stateprop::models::RegisterOp;
use stateprop::sim::SimStep;
use stateprop::{judge, Config, FailureKind, HistoryViolation, Runner};

fn config(seed: u64) -> Config {
    Config::default()
        .ignore_env()
        .seed(seed)
        .cases(200)
        .steps(1..30)
        .persist(false)
}

/// A write, then a read at a backup that has not heard of it: the shortest stale read.
fn is_stale_read(steps: &[SimStep<RegisterOp>]) -> bool {
    match steps {
        [SimStep::Request {
            op: RegisterOp::Write { .. },
            ..
        }, SimStep::Request {
            node,
            op: RegisterOp::Read,
            ..
        }] => *node != 0,
        _ => false,
    }
}

#[test]
fn the_stale_read_is_found_in_every_seed_and_shrunk_to_two_steps() {
    for seed in 1..=5 {
        let result = Runner::with_initial(config(seed), cluster()).run_simulated::<BackupReads>();
        assert!(result.failed(), "seed {seed}: not found");
        let failure = result.report.failure.as_ref().expect("a failure");
        assert!(
            matches!(&failure.kind, FailureKind::History(v)
                if matches!(**v, HistoryViolation::NotLinearizable { .. })),
            "seed {seed}: {failure:?}"
        );
        // Two steps are the minimum (a write, a stale read), and each seed reaches it.
        assert!(
            is_stale_read(&result.minimal),
            "seed {seed}: {:?}",
            result.minimal
        );
    }
}

#[test]
fn the_stale_read_is_a_read_your_writes_violation_for_the_session_judge() {
    let result = Runner::with_initial(config(3), cluster())
        .judge(judge::session_guarantees(&[
            Guarantee::ReadYourWrites,
            Guarantee::MonotonicReads,
        ]))
        .run_simulated::<BackupReads>();
    assert!(result.failed());
    let failure = result.report.failure.as_ref().expect("a failure");
    let FailureKind::History(violation) = &failure.kind else {
        panic!("{failure:?}");
    };
    assert!(
        matches!(
            **violation,
            HistoryViolation::SessionGuarantee {
                guarantee: Guarantee::ReadYourWrites,
                ..
            }
        ),
        "{violation:?}"
    );
    assert!(result.minimal.len() <= 5, "{:?}", result.minimal);
    assert!(is_stale_read(&result.minimal), "{:?}", result.minimal);
    let text = result.report.text();
    assert!(text.contains("read your writes"), "{text}");
    // The pasted replay judges linearizability, stricter than this run: the test says so.
    assert!(
        text.contains(
            "// stateprop: this replay judges linearizability, stricter than the run's judges \
             (session-guarantees); keep it only if the system must be linearizable.\n    \
             stateprop::replay_simulated::<"
        ),
        "{text}"
    );
}

#[test]
fn reads_at_the_primary_pass_200_cases_of_faults() {
    let result = Runner::with_initial(config(11), cluster()).run_simulated::<PrimaryReads>();
    assert!(!result.failed(), "{}", result.report.text());
    assert_eq!(result.report.stats.cases, 200);
}

#[test]
fn the_pasted_test_replays_the_failure() {
    let result = Runner::with_initial(config(2), cluster()).run_simulated::<BackupReads>();
    assert!(result.failed());
    let text = result.report.text();
    assert!(
        text.contains("stateprop::replay_simulated::<CasRegister, Register<false>>(")
            && text.contains("stateprop::sim::Sim::new(CasRegister::default(), 3, 2)")
            && text.contains(".schedule_seed(0x0)"),
        "{text}"
    );
    assert!(!text.contains("passes on this case"), "{text}");
    // The pasted test's call, with the minimal program: it fails with the same cause.
    let minimal = result.minimal.clone();
    let replayed = std::panic::catch_unwind(|| {
        stateprop::replay_simulated::<_, BackupReads>(
            Config::default().ignore_env().schedule_seed(0),
            cluster(),
            &minimal,
        )
    });
    let message = *replayed
        .expect_err("the replay fails")
        .downcast::<String>()
        .expect("a report");
    assert!(message.contains("not linearizable"), "{message}");
    // The fixed register passes the same program.
    stateprop::replay_simulated::<_, PrimaryReads>(
        Config::default().ignore_env(),
        cluster(),
        &result.minimal,
    );
}

#[test]
fn the_same_seed_gives_the_same_report() {
    let run = || {
        Runner::with_initial(config(4), cluster())
            .run_simulated::<BackupReads>()
            .report
            .text()
    };
    let (first, second) = (run(), run());
    assert!(first.contains("not linearizable"), "{first}");
    assert_eq!(first, second);
}
