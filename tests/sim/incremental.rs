//! Session guarantees checked after every step of a simulated run: the stale read of
//! `examples/replicated_register.rs` is reported at the step where its client got it, with the
//! steps involved, and a correct register is never flagged, whatever the faults.

use crate::register::{cluster, BackupReads, PrimaryReads};
use stateprop::check::Guarantee;
use stateprop::program::StepId;
use stateprop::{judge, Config, FailureKind, HistoryViolation, Runner};

fn config(seed: u64) -> Config {
    Config::default()
        .ignore_env()
        .seed(seed)
        .cases(200)
        .steps(1..30)
        .persist(false)
}

const GUARANTEES: [Guarantee; 2] = [Guarantee::ReadYourWrites, Guarantee::MonotonicReads];

#[test]
fn a_stale_read_is_reported_at_the_step_its_client_got_it() {
    for seed in 1..=3 {
        let result = Runner::with_initial(config(seed), cluster())
            .judge(judge::session_guarantees(&GUARANTEES))
            .run_simulated::<BackupReads>();
        let failure = result.report.failure.as_ref().expect("a stale read");
        let FailureKind::History(v) = &failure.kind else {
            panic!("seed {seed}: {failure:?}")
        };
        let HistoryViolation::SessionGuarantee {
            guarantee,
            earlier,
            later,
            ..
        } = **v
        else {
            panic!("seed {seed}: {v:?}")
        };
        assert_eq!(guarantee, Guarantee::ReadYourWrites, "seed {seed}");
        // The write, then the read a backup answered at once: the run failed at the read.
        assert_eq!(result.minimal.len(), 2, "seed {seed}: {:?}", result.minimal);
        assert_eq!((earlier, later), (StepId::prefix(0), StepId::prefix(1)));
        assert_eq!(failure.step, Some(StepId::prefix(1)), "seed {seed}");
        let text = result.report.text();
        assert!(text.contains("read your writes"), "{text}");
    }
}

#[test]
fn a_correct_register_is_never_flagged_after_any_step() {
    // Crashes, timeouts and rejected requests leave operations of unknown outcome and
    // withdrawn ones: a read must wait for them rather than be judged too early.
    let result = Runner::with_initial(config(21).cases(300), cluster())
        .judge(judge::session_guarantees(&GUARANTEES))
        .run_simulated::<PrimaryReads>();
    assert!(!result.failed(), "{}", result.report.text());
    assert_eq!(result.report.stats.cases, 300);
}
