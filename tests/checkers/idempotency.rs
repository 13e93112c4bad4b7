//! Idempotency: retried and duplicated requests must take effect at most once.

use stateprop::check::{check_idempotent, CheckConfig, IdempotencyViolation, Verdict};
use stateprop::history::History;
use stateprop::models::{
    Counter, CounterOp, CounterOut, QueueModel, QueueOp, QueueOut, SetModel, SetOp, SetOut,
};
use stateprop::Model;
use std::hash::Hash;

fn check<M: Model + Hash + Eq>(
    h: &History<M::Op, M::Output>,
    ids: &[u64],
    m: &M,
) -> Verdict<IdempotencyViolation>
where
    M::Op: PartialEq,
{
    check_idempotent(h, ids, m, &CheckConfig::default()).verdict
}

fn violation<M: Model + Hash + Eq>(
    h: &History<M::Op, M::Output>,
    ids: &[u64],
    m: &M,
) -> IdempotencyViolation
where
    M::Op: PartialEq,
{
    match check(h, ids, m) {
        Verdict::Violated(v) => v,
        other => panic!("expected a violation, got {other:?}"),
    }
}

const ADD5: CounterOp = CounterOp::Add { by: 5 };

#[test]
fn retry_after_timeout_applied_once() {
    let mut h = History::new();
    h.push_unknown(0, ADD5, 0);
    h.push(0, ADD5, 2, 3, CounterOut::Done);
    h.push(1, CounterOp::Read, 4, 5, CounterOut::Value(5));
    let report = check_idempotent(&h, &[1, 1, 2], &Counter::default(), &CheckConfig::default());
    assert_eq!(report.verdict, Verdict::Holds);
    assert_eq!(report.orders[0].ops, [0, 2]);
}

#[test]
fn duplicate_answered_with_the_original_result() {
    let mut h = History::new();
    h.push(0, SetOp::Insert { value: 1 }, 0, 1, SetOut::Bool(true));
    h.push(0, SetOp::Insert { value: 1 }, 2, 3, SetOut::Bool(true));
    h.push(1, SetOp::Read, 4, 5, SetOut::Values(vec![1]));
    let report = check_idempotent(
        &h,
        &[1, 1, 2],
        &SetModel::default(),
        &CheckConfig::default(),
    );
    assert_eq!(report.verdict, Verdict::Holds);
    assert_eq!(report.orders[0].ops, [0, 2]);
}

#[test]
fn request_that_never_took_effect() {
    let mut h = History::new();
    h.push_unknown(0, ADD5, 0);
    h.push_unknown(0, ADD5, 2);
    h.push(1, CounterOp::Read, 4, 5, CounterOut::Value(0));
    assert_eq!(check(&h, &[1, 1, 2], &Counter::default()), Verdict::Holds);
}

#[test]
fn distinct_requests_with_equal_operations() {
    // Two requests that both add 5 are two effects, not a retry.
    let mut h = History::new();
    h.push(0, ADD5, 0, 1, CounterOut::Done);
    h.push(0, ADD5, 2, 3, CounterOut::Done);
    h.push(1, CounterOp::Read, 4, 5, CounterOut::Value(10));
    assert_eq!(check(&h, &[1, 2, 3], &Counter::default()), Verdict::Holds);
}

#[test]
fn retry_applied_again() {
    let mut h = History::new();
    h.push_unknown(0, ADD5, 0);
    h.push(0, ADD5, 2, 3, CounterOut::Done);
    h.push(1, CounterOp::Read, 4, 5, CounterOut::Value(10));
    let v = violation(&h, &[1, 1, 2], &Counter::default());
    assert_eq!(v.ops(), [0, 1]);
    assert_eq!(
        v,
        IdempotencyViolation::AppliedTwice {
            request: 1,
            original: 0,
            retry: 1,
            explanation: "request 1 took effect twice: the outputs are explained if op 0 (Add { \
                          by: 5 }, has an unknown outcome) and its retry op 1 (returned Done) \
                          both took effect, and by no order in which each request takes effect \
                          at most once"
                .to_string(),
        }
    );
}

#[test]
fn duplicate_executed_again() {
    // The duplicate ran the insert again instead of answering with the first result.
    let mut h = History::new();
    h.push(0, SetOp::Insert { value: 1 }, 0, 1, SetOut::Bool(true));
    h.push(0, SetOp::Insert { value: 1 }, 2, 3, SetOut::Bool(false));
    h.push(1, SetOp::Read, 4, 5, SetOut::Values(vec![1]));
    let v = violation(&h, &[7, 7, 8], &SetModel::default());
    let IdempotencyViolation::AppliedTwice {
        request,
        original,
        retry,
        ..
    } = v
    else {
        panic!("expected a duplicate, got {v:?}");
    };
    assert_eq!((request, original, retry), (7, 0, 1));
}

#[test]
fn duplicated_message_enqueues_twice() {
    let mut h = History::new();
    h.push(0, QueueOp::Enqueue { value: 7 }, 0, 1, QueueOut::Done);
    h.push(2, QueueOp::Enqueue { value: 7 }, 0, 1, QueueOut::Done);
    h.push(1, QueueOp::Dequeue, 2, 3, QueueOut::Value(Some(7)));
    h.push(1, QueueOp::Dequeue, 4, 5, QueueOut::Value(Some(7)));
    let v = violation(&h, &[1, 1, 2, 3], &QueueModel::default());
    assert!(matches!(
        v,
        IdempotencyViolation::AppliedTwice {
            request: 1,
            original: 0,
            retry: 1,
            ..
        }
    ));
}

#[test]
fn the_request_applied_twice_is_found_among_several() {
    let mut h = History::new();
    h.push(0, CounterOp::Add { by: 1 }, 0, 1, CounterOut::Done);
    h.push(0, CounterOp::Add { by: 1 }, 2, 3, CounterOut::Done);
    h.push(1, CounterOp::Add { by: 10 }, 0, 1, CounterOut::Done);
    h.push(1, CounterOp::Add { by: 10 }, 2, 3, CounterOut::Done);
    h.push(2, CounterOp::Read, 4, 5, CounterOut::Value(21));
    let v = violation(&h, &[1, 1, 2, 2, 3], &Counter::default());
    assert_eq!(v.ops(), [2, 3], "{v:?}");
}

#[test]
fn several_requests_applied_twice() {
    let mut h = History::new();
    h.push(0, CounterOp::Add { by: 1 }, 0, 1, CounterOut::Done);
    h.push(0, CounterOp::Add { by: 1 }, 2, 3, CounterOut::Done);
    h.push(1, CounterOp::Add { by: 10 }, 0, 1, CounterOut::Done);
    h.push(1, CounterOp::Add { by: 10 }, 2, 3, CounterOut::Done);
    h.push(2, CounterOp::Read, 4, 5, CounterOut::Value(22));
    let v = violation(&h, &[1, 1, 2, 2, 3], &Counter::default());
    assert_eq!(v.ops(), [0, 1]);
    assert!(
        v.explanation()
            .ends_with("; request 2 was applied again as well"),
        "{v:?}"
    );
}

#[test]
fn request_id_reused_for_another_operation() {
    let mut h = History::new();
    h.push(0, ADD5, 0, 1, CounterOut::Done);
    h.push(0, CounterOp::Add { by: 6 }, 2, 3, CounterOut::Done);
    let v = violation(&h, &[4, 4], &Counter::default());
    assert_eq!(
        v,
        IdempotencyViolation::ConflictingRequest {
            request: 4,
            first: 0,
            second: 1,
            explanation: "request 4 names two different operations: op 0 (Add { by: 5 }) and \
                          op 1 (Add { by: 6 })"
                .to_string(),
        }
    );
}

#[test]
fn wrong_output_whatever_the_retries() {
    let mut h = History::new();
    h.push(0, ADD5, 0, 1, CounterOut::Done);
    h.push(0, ADD5, 2, 3, CounterOut::Done);
    h.push(1, CounterOp::Read, 4, 5, CounterOut::Value(42));
    let v = violation(&h, &[1, 1, 2], &Counter::default());
    assert_eq!(v.ops(), [0, 2]);
    assert_eq!(
        v.explanation(),
        "no order of the requests explains the outputs, even with retries applied again; after \
         ops [0] the model is in Counter { value: 5 }, and op 2 (Read) returned Value(42) where \
         the model says Value(5)"
    );
}

#[test]
fn budget_gives_unknown() {
    let mut h = History::new();
    for i in 0..8 {
        h.push(i, ADD5, 0, 10, CounterOut::Done);
    }
    h.push(9, CounterOp::Read, 11, 12, CounterOut::Value(1));
    let ids: Vec<u64> = (0..9).collect();
    let report = check_idempotent(
        &h,
        &ids,
        &Counter::default(),
        &CheckConfig::default().max_steps(20),
    );
    assert_eq!(
        report.verdict,
        Verdict::Unknown("the step budget ran out after 20 steps".to_string())
    );
}

#[test]
fn budget_spent_on_the_explanation_still_reports_the_violation() {
    // Proving the history not idempotent takes a few steps; trying each retried request as
    // the one applied twice takes more than the budget leaves.
    let mut h = History::new();
    for client in 0..4 {
        h.push(client, ADD5, 0, 1, CounterOut::Done);
        h.push(client, ADD5, 2, 3, CounterOut::Done);
    }
    h.push(9, CounterOp::Read, 4, 5, CounterOut::Value(1));
    let ids = [0, 0, 1, 1, 2, 2, 3, 3, 4];
    let report = check_idempotent(
        &h,
        &ids,
        &Counter::default(),
        &CheckConfig::default().max_steps(100),
    );
    let Verdict::Violated(v) = report.verdict else {
        panic!("expected a violation, got {:?}", report.verdict);
    };
    assert!(
        v.explanation().starts_with(
            "no order in which each request takes effect at most once explains the outputs \
             (whether a retry applied again would was not settled: the step budget ran out \
             after 100 steps)"
        ),
        "{v:?}"
    );
}

#[test]
#[should_panic(expected = "one request id per operation")]
fn request_ids_must_match_the_history() {
    let mut h = History::new();
    h.push(0, ADD5, 0, 1, CounterOut::Done);
    check(&h, &[], &Counter::default());
}
