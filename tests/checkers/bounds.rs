//! The sequential-consistency and idempotency searches keep a memory budget, drop reads whose
//! outcome is unknown, accept the longest timeout, and report a model that panics.

use stateprop::check::{
    check_idempotent, check_sequentially_consistent, check_session_guarantees, CheckConfig,
    Guarantee, Report, Verdict,
};
use stateprop::history::History;
use stateprop::models::{CasRegister, RegisterOp, RegisterOut};
use stateprop::{Model, StateMachine};
use std::time::Duration;

type RegHistory = History<RegisterOp, RegisterOut>;

/// Clients that each write their own value and then read a value nobody wrote: every
/// interleaving of the writes is tried before the search gives up.
fn hard(clients: u64) -> RegHistory {
    let mut h = History::new();
    for c in 0..clients {
        h.push(
            c,
            RegisterOp::Write { value: c as i64 },
            0,
            100,
            RegisterOut::Written,
        );
        let out = RegisterOut::Value(Some(999));
        h.push(c, RegisterOp::Read, 101, 200, out);
    }
    h
}

#[test]
fn sequential_consistency_ends_at_its_memory_cap() {
    let h = hard(12);
    let unbounded = CheckConfig::default().max_steps(u64::MAX);
    let budget = unbounded.clone().max_memory(64 << 10);
    let r = check_sequentially_consistent(&h, &CasRegister::default(), &budget);
    let Verdict::Unknown(reason) = &r.verdict else {
        panic!("{:?}", r.verdict)
    };
    assert!(reason.contains("memory"), "{reason}");
    // The cap, not the search, ended it: without one it runs on to the answer.
    let r = check_sequentially_consistent(&hard(8), &CasRegister::default(), &unbounded);
    assert!(matches!(r.verdict, Verdict::Violated(_)), "{:?}", r.verdict);
}

#[test]
fn idempotency_ends_at_its_memory_cap() {
    let h = hard(12);
    let ids: Vec<u64> = (0..h.len() as u64).collect();
    let unbounded = CheckConfig::default().max_steps(u64::MAX);
    let budget = unbounded.clone().max_memory(64 << 10);
    let r = check_idempotent(&h, &ids, &CasRegister::default(), &budget);
    let Verdict::Unknown(reason) = &r.verdict else {
        panic!("{:?}", r.verdict)
    };
    assert!(reason.contains("memory"), "{reason}");
    let h = hard(6);
    let ids: Vec<u64> = (0..h.len() as u64).collect();
    let r = check_idempotent(&h, &ids, &CasRegister::default(), &unbounded);
    assert!(matches!(r.verdict, Verdict::Violated(_)), "{:?}", r.verdict);
}

/// A stale read by the writer itself (neither sequentially consistent nor idempotent), among
/// 40 reads by other clients that never returned.
fn stale_among_unknown_reads() -> RegHistory {
    let mut h = History::new();
    h.push(
        0,
        RegisterOp::Write { value: 1 },
        0,
        10,
        RegisterOut::Written,
    );
    h.push(0, RegisterOp::Read, 20, 30, RegisterOut::Value(None));
    for c in 1..=40 {
        h.push_unknown(c, RegisterOp::Read, c);
    }
    h
}

#[test]
fn unknown_reads_are_dropped_before_the_searches() {
    let h = stale_among_unknown_reads();
    // Kept, each could be placed or skipped: far more than 20,000 steps.
    let budget = CheckConfig::default().max_steps(20_000);
    let r = check_sequentially_consistent(&h, &CasRegister::default(), &budget);
    assert!(matches!(r.verdict, Verdict::Violated(_)), "{:?}", r.verdict);
    let ids: Vec<u64> = (0..h.len() as u64).collect();
    let r = check_idempotent(&h, &ids, &CasRegister::default(), &budget);
    assert!(matches!(r.verdict, Verdict::Violated(_)), "{:?}", r.verdict);
}

#[test]
fn an_unknown_read_sharing_a_request_with_a_known_one_is_kept() {
    // Request 7's first attempt never returned; its retry read 1. The request may take effect
    // from the first attempt's invocation on, which is before the overwrite: idempotent.
    let mut h: RegHistory = History::new();
    h.push(
        0,
        RegisterOp::Write { value: 1 },
        0,
        1,
        RegisterOut::Written,
    );
    h.push_unknown(1, RegisterOp::Read, 2);
    h.push(
        2,
        RegisterOp::Write { value: 2 },
        3,
        4,
        RegisterOut::Written,
    );
    h.push(1, RegisterOp::Read, 5, 6, RegisterOut::Value(Some(1)));
    let r = check_idempotent(
        &h,
        &[1, 7, 2, 7],
        &CasRegister::default(),
        &CheckConfig::default(),
    );
    assert_eq!(r.verdict, Verdict::Holds);
    // And its known attempt is still checked.
    h.ops[3].output = Some(RegisterOut::Value(Some(5)));
    let r = check_idempotent(
        &h,
        &[1, 7, 2, 7],
        &CasRegister::default(),
        &CheckConfig::default(),
    );
    assert!(matches!(r.verdict, Verdict::Violated(_)), "{:?}", r.verdict);
}

#[test]
fn the_longest_timeout_means_no_deadline() {
    let h = hard(3);
    let ids: Vec<u64> = (0..h.len() as u64).collect();
    for t in [Duration::MAX, Duration::from_secs(u64::MAX / 2)] {
        let budget = CheckConfig::default().timeout(t);
        let r = check_sequentially_consistent(&h, &CasRegister::default(), &budget);
        assert!(matches!(r.verdict, Verdict::Violated(_)), "{t:?}");
        let r = check_idempotent(&h, &ids, &CasRegister::default(), &budget);
        assert!(matches!(r.verdict, Verdict::Violated(_)), "{t:?}");
    }
}

/// A counter whose model has a bug: it cannot count past 2.
#[derive(Debug, Clone, PartialEq, Eq, Hash, StateMachine)]
#[state_machine(model = Fragile)]
pub enum FragileOp {
    /// Add one.
    Incr,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Fragile {
    count: u8,
}

impl Model for Fragile {
    type Op = FragileOp;
    type Output = u8;

    fn step(&mut self, _: &FragileOp) -> u8 {
        assert!(self.count < 2, "cannot count past {}", self.count);
        self.count += 1;
        self.count
    }
}

#[test]
fn a_model_that_panics_is_reported_by_both_searches() {
    let mut h = History::new();
    for c in 0..3u64 {
        h.push(c, FragileOp::Incr, 2 * c, 2 * c + 1, c as u8 + 1);
    }
    let r = check_sequentially_consistent(&h, &Fragile::default(), &CheckConfig::default());
    let Verdict::Unknown(reason) = &r.verdict else {
        panic!("{:?}", r.verdict)
    };
    let p = r.model_panic.as_ref().expect("the panic is reported");
    assert_eq!((p.op, p.op_text.as_str()), (2, "Incr"));
    assert_eq!(p.state, "Fragile { count: 2 }");
    assert!(p.message.contains("cannot count past 2"), "{}", p.message);
    assert!(reason.contains("op 2 (Incr)"), "{reason}");
    let r = check_idempotent(&h, &[0, 1, 2], &Fragile::default(), &CheckConfig::default());
    let p = r.model_panic.as_ref().expect("the panic is reported");
    assert!(matches!(r.verdict, Verdict::Unknown(_)), "{:?}", r.verdict);
    assert_eq!((p.op, p.state.as_str()), (2, "Fragile { count: 2 }"));
    assert!(p.message.contains("cannot count past 2"), "{}", p.message);
}

#[test]
fn every_checker_reports_the_same_statistics() {
    let h = hard(5);
    let ids: Vec<u64> = (0..h.len() as u64).collect();
    let cap = 1 << 20;
    let config = CheckConfig::default().max_memory(cap);
    let sc = check_sequentially_consistent(&h, &CasRegister::default(), &config);
    let idem = check_idempotent(&h, &ids, &CasRegister::default(), &config);
    fn statistics<V>(name: &str, r: &Report<V>, cap: u64) {
        assert!(r.verdict.violation().is_some(), "{name}");
        assert!(r.steps > 0, "{name}: {} steps", r.steps);
        // Every explored state's key and table was counted, and the cap was kept.
        assert!(
            r.peak_bytes > 0 && r.peak_bytes <= cap,
            "{name}: {}",
            r.peak_bytes
        );
        assert_eq!(r.partitions, 1, "{name}");
        assert!(r.elapsed > Duration::ZERO, "{name}");
        assert!(
            r.orders.is_empty(),
            "{name}: no order shows a violated property"
        );
    }
    statistics("sequential consistency", &sc, cap);
    statistics("idempotency", &idem, cap);
    assert!(sc.cache_entries > 0);
    // A consistent history's order is in its report, and so is the one idempotency found.
    let mut ok = RegHistory::new();
    ok.push(
        0,
        RegisterOp::Write { value: 1 },
        0,
        1,
        RegisterOut::Written,
    );
    ok.push(1, RegisterOp::Read, 2, 3, RegisterOut::Value(Some(1)));
    let sc = check_sequentially_consistent(&ok, &CasRegister::default(), &config);
    assert!(sc.verdict.holds());
    assert_eq!(sc.orders[0].ops, [0, 1]);
    assert_eq!(sc.orders[0].partition, None);
    let idem = check_idempotent(&ok, &[1, 2], &CasRegister::default(), &config);
    assert!(idem.verdict.holds());
    assert_eq!(idem.orders[0].ops, [0, 1]);
    // The session checker searches nothing: it holds or is violated, never unknown.
    let s = check_session_guarantees(&ok, &CasRegister::default(), &Guarantee::ALL);
    assert_eq!(s.verdict, Verdict::Holds);
    assert_eq!((s.steps, s.partitions, s.orders.len()), (0, 1, 0));
}
