//! Judges called on histories built by hand, as a concurrent executor records them: operations
//! overlap, and carry the steps (prefix and branch) they ran.

use stateprop::check::CheckConfig;
use stateprop::check::Verdict;
use stateprop::history::History;
use stateprop::judge;
use stateprop::models::{CasRegister, RegisterOp, RegisterOut};
use stateprop::{Failure, FailureKind, HistoryViolation, Program, StepId};

/// A write in the prefix, then two branches: one reads the old value after the write returned.
fn stale_read() -> (History<RegisterOp, RegisterOut>, Program<String>) {
    let mut h = History::new();
    h.push(
        0,
        RegisterOp::Write { value: 1 },
        0,
        1,
        RegisterOut::Written,
    );
    h.push(
        1,
        RegisterOp::Write { value: 2 },
        2,
        5,
        RegisterOut::Written,
    );
    h.push(2, RegisterOp::Read, 3, 4, RegisterOut::Value(None));
    h.steps = vec![
        StepId::prefix(0),
        StepId::in_branch(0, 0),
        StepId::in_branch(1, 0),
    ];
    let program = Program::parallel(
        vec!["RegisterOp::Write { value: 1 }".to_string()],
        vec![
            vec!["RegisterOp::Write { value: 2 }".to_string()],
            vec!["RegisterOp::Read".to_string()],
        ],
    );
    (h, program)
}

#[test]
fn linearizability_names_the_steps_of_the_violation() {
    let (history, program) = stale_read();
    let Verdict::Violated(kind) = judge::linearizable().judge(&CasRegister::default(), &history)
    else {
        panic!("a stale read is not linearizable");
    };
    let FailureKind::History(violation) = &kind else {
        panic!("{kind:?}");
    };
    let HistoryViolation::NotLinearizable {
        blocked,
        actual,
        expected,
        ..
    } = &**violation
    else {
        panic!("{violation:?}");
    };
    assert_eq!(*blocked, StepId::in_branch(1, 0));
    assert_eq!(actual.as_deref(), Some("Value(None)"));
    assert!(expected.is_some());
    assert!(kind
        .involved()
        .expect("steps")
        .contains(&StepId::in_branch(1, 0)));
    let failure = Failure::new(None, kind.clone());
    let cause = failure.cause_in(&program);
    assert!(
        cause.starts_with("the history is not linearizable: branch 1 step 0 (RegisterOp::Read)"),
        "{cause}"
    );
}

#[test]
fn the_same_read_after_the_write_is_linearizable() {
    let (mut history, _) = stale_read();
    history.ops[2].output = Some(RegisterOut::Value(Some(2)));
    let verdict = judge::linearizable().judge(&CasRegister::default(), &history);
    assert_eq!(verdict, Verdict::Holds);
}

#[test]
fn a_stale_read_by_another_client_is_sequentially_consistent() {
    let (history, _) = stale_read();
    let verdict = judge::sequentially_consistent().judge(&CasRegister::default(), &history);
    assert_eq!(verdict, Verdict::Holds);
}

#[test]
fn a_starved_budget_is_unknown() {
    let (history, _) = stale_read();
    let judge = judge::linearizable().budget(CheckConfig::default().max_memory(1));
    assert!(matches!(
        judge.judge(&CasRegister::default(), &history),
        Verdict::Unknown(_)
    ));
}

/// A failure crosses threads (the worker reports it to the caller's thread); a judge moves into
/// the worker with its runner.
#[test]
fn failures_and_judges_cross_threads() {
    fn send<T: Send>() {}
    fn sync<T: Sync>() {}
    send::<Failure>();
    sync::<Failure>();
    send::<judge::Judge<CasRegister>>();
    sync::<judge::Judge<CasRegister>>();
}
