//! Sequential consistency: histories that are sequentially consistent but not linearizable, and
//! histories that are neither.

use stateprop::check::{
    check_linearizable, check_sequentially_consistent, CheckConfig, ScViolation, Verdict,
};
use stateprop::history::History;
use stateprop::models::{
    CasRegister, Counter, CounterOp, CounterOut, QueueModel, QueueOp, QueueOut, RegisterOp,
    RegisterOut, SetModel, SetOp, SetOut,
};
use stateprop::Model;
use std::hash::Hash;

type RegHistory = History<RegisterOp, RegisterOut>;

fn write(value: i64) -> RegisterOp {
    RegisterOp::Write { value }
}

fn read(v: Option<i64>) -> RegisterOut {
    RegisterOut::Value(v)
}

const W: RegisterOut = RegisterOut::Written;

fn linearizable<M: Model + Hash + Eq>(h: &History<M::Op, M::Output>, m: &M) -> bool {
    check_linearizable(h, m, &CheckConfig::default()).verdict == Verdict::Holds
}

/// The order found for a consistent history.
fn order<M: Model + Hash + Eq>(h: &History<M::Op, M::Output>, m: &M) -> Vec<usize> {
    let report = check_sequentially_consistent(h, m, &CheckConfig::default());
    assert_eq!(report.verdict, Verdict::Holds);
    report.orders[0].ops.clone()
}

fn violation<M: Model + Hash + Eq>(h: &History<M::Op, M::Output>, m: &M) -> ScViolation {
    match check_sequentially_consistent(h, m, &CheckConfig::default()).verdict {
        Verdict::Violated(v) => v,
        other => panic!("expected a violation, got {other:?}"),
    }
}

#[test]
fn stale_read_by_another_client() {
    // Client 1 reads nil after client 0's write returned: not linearizable, but client 1's read
    // may be ordered first.
    let mut h = RegHistory::new();
    h.push(0, write(1), 0, 1, W);
    h.push(1, RegisterOp::Read, 2, 3, read(None));
    assert!(!linearizable(&h, &CasRegister::default()));
    assert_eq!(order(&h, &CasRegister::default()), [1, 0]);
}

#[test]
fn reader_lagging_behind_two_writers() {
    let mut h = RegHistory::new();
    h.push(0, write(1), 0, 1, W);
    h.push(0, RegisterOp::Read, 2, 3, read(Some(1)));
    h.push(1, write(2), 4, 5, W);
    h.push(1, RegisterOp::Read, 6, 7, read(Some(2)));
    h.push(2, RegisterOp::Read, 8, 9, read(Some(1)));
    assert!(!linearizable(&h, &CasRegister::default()));
    assert_eq!(order(&h, &CasRegister::default()), [0, 1, 4, 2, 3]);
}

#[test]
fn counter_reads_lag() {
    let mut h = History::new();
    h.push(0, CounterOp::Add { by: 1 }, 0, 1, CounterOut::Done);
    h.push(0, CounterOp::Add { by: 1 }, 2, 3, CounterOut::Done);
    h.push(1, CounterOp::Read, 4, 5, CounterOut::Value(1));
    h.push(1, CounterOp::Read, 6, 7, CounterOut::Value(2));
    assert!(!linearizable(&h, &Counter::default()));
    assert_eq!(order(&h, &Counter::default()), [0, 2, 1, 3]);
}

#[test]
fn unknown_operation_may_be_left_out_or_applied() {
    let mut h = RegHistory::new();
    h.push_unknown(0, write(3), 0);
    h.push(1, RegisterOp::Read, 2, 3, read(None));
    assert_eq!(order(&h, &CasRegister::default()), [1]);
    h.push(1, RegisterOp::Read, 4, 5, read(Some(3)));
    assert_eq!(order(&h, &CasRegister::default()), [1, 0, 2]);
}

#[test]
fn reads_going_back() {
    let mut h = RegHistory::new();
    h.push(0, write(1), 0, 1, W);
    h.push(0, write(2), 2, 3, W);
    h.push(1, RegisterOp::Read, 4, 5, read(Some(2)));
    h.push(1, RegisterOp::Read, 6, 7, read(Some(1)));
    let v = violation(&h, &CasRegister::default());
    assert_eq!(v.ordered, [0, 1, 2]);
    assert_eq!(v.blocked, [3]);
    assert_eq!(v.state, "CasRegister { value: Some(2) }");
    assert_eq!(v.ops(), [0, 1, 2, 3]);
    assert_eq!(
        v.explanation,
        "no order of the operations that keeps each client's own order matches the model; the \
         longest one found runs ops [0, 1, 2] and reaches CasRegister { value: Some(2) }, where \
         no client's next operation fits: op 3 (Read, client 1) returned Value(Some(1)) where \
         the model says Value(Some(2))"
    );
}

#[test]
fn own_write_not_seen() {
    let mut h = RegHistory::new();
    h.push(0, write(1), 0, 1, W);
    h.push(0, RegisterOp::Read, 2, 3, read(None));
    let v = violation(&h, &CasRegister::default());
    assert_eq!((v.ordered, v.blocked), (vec![0], vec![1]));
}

#[test]
fn two_clients_both_insert_first() {
    let mut h = History::new();
    h.push(0, SetOp::Insert { value: 1 }, 0, 1, SetOut::Bool(true));
    h.push(1, SetOp::Insert { value: 1 }, 0, 1, SetOut::Bool(true));
    let v = violation(&h, &SetModel::default());
    assert_eq!((v.ordered, v.blocked), (vec![0], vec![1]));
}

#[test]
fn one_value_dequeued_twice() {
    let mut h = History::new();
    h.push(0, QueueOp::Enqueue { value: 1 }, 0, 1, QueueOut::Done);
    h.push(1, QueueOp::Dequeue, 2, 3, QueueOut::Value(Some(1)));
    h.push(2, QueueOp::Dequeue, 2, 3, QueueOut::Value(Some(1)));
    let v = violation(&h, &QueueModel::default());
    assert_eq!((v.ordered, v.blocked), (vec![0, 1], vec![2]));
}

#[test]
fn each_reads_the_others_write_but_not_its_own() {
    let mut h = RegHistory::new();
    h.push(0, write(1), 0, 1, W);
    h.push(0, RegisterOp::Read, 2, 3, read(Some(2)));
    h.push(1, write(2), 0, 1, W);
    h.push(1, RegisterOp::Read, 2, 3, read(Some(1)));
    assert!(!linearizable(&h, &CasRegister::default()));
    let v = violation(&h, &CasRegister::default());
    assert_eq!((v.ordered, v.blocked), (vec![0, 2, 1], vec![3]));
}

#[test]
fn every_blocked_client_is_named() {
    let mut h = RegHistory::new();
    h.push(0, RegisterOp::Read, 0, 1, read(Some(5)));
    h.push(1, RegisterOp::Read, 0, 1, read(Some(6)));
    let v = violation(&h, &CasRegister::default());
    assert_eq!((v.ordered, v.blocked), (vec![], vec![0, 1]));
    assert!(v.explanation.ends_with(
        "op 0 (Read, client 0) returned Value(Some(5)) where the model says Value(None); op 1 \
         (Read, client 1) returned Value(Some(6)) where the model says Value(None)"
    ));
}

#[test]
fn budget_gives_unknown() {
    let mut h = History::new();
    for client in 0..6 {
        h.push(client, CounterOp::Add { by: 1 }, 0, 1, CounterOut::Done);
        h.push(client, CounterOp::Read, 2, 3, CounterOut::Value(100));
    }
    let report = check_sequentially_consistent(
        &h,
        &Counter::default(),
        &CheckConfig::default().max_steps(50),
    );
    assert_eq!(
        report.verdict,
        Verdict::Unknown("the step budget ran out after 50 steps".to_string())
    );
}
