use super::*;
use crate::check::check_session_guarantees;
use crate::hash::mix;
use crate::history::History;
use crate::models::{CasRegister, KvModel, KvOp, KvOut, RegisterOp, RegisterOut};

const BOTH: [Guarantee; 2] = [Guarantee::ReadYourWrites, Guarantee::MonotonicReads];

struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = mix(self.0.wrapping_add(0x9e37_79b9_7f4a_7c15));
        self.0 % n
    }
}

/// A random history, one event per tick: clients invoke operations one at a time, which
/// return (with any output `output` draws, so the history need not come from a correct
/// store), or are left of unknown outcome, after which the client sometimes goes on under the
/// same id. The monitor is fed every event as it happens, then finished.
fn random_run<M: ReadsWrites>(
    seed: u64,
    initial: &M,
    op: impl Fn(&mut Rng) -> M::Op,
    output: impl Fn(&mut Rng, &M::Op) -> M::Output,
) -> (History<M::Op, M::Output>, Vec<SessionViolation>) {
    let mut rng = Rng(seed);
    let mut monitor = SessionMonitor::new(initial, &BOTH);
    let mut history = History::new();
    let clients = 1 + rng.below(4);
    let mut busy: Vec<Option<usize>> = vec![None; clients as usize];
    let mut ids: Vec<u64> = (0..clients).collect();
    let mut found = Vec::new();
    let events = 4 + rng.below(40);
    for tick in 1..=events {
        let c = rng.below(clients) as usize;
        match busy[c] {
            None => {
                let o = op(&mut rng);
                let id = monitor.invoke(ids[c], o.clone(), tick);
                assert_eq!(id, history.ops.len());
                history.ops.push(Operation {
                    client: ids[c],
                    op: o,
                    call: tick,
                    ret: None,
                    output: None,
                });
                busy[c] = Some(id);
            }
            Some(id) => {
                busy[c] = None;
                if rng.below(6) == 0 {
                    // Unknown: the monitor learns it only at the end, or now.
                    if rng.below(2) == 0 {
                        monitor.unknown(id);
                    }
                    if rng.below(2) == 0 {
                        ids[c] += 100;
                    }
                } else {
                    let out = output(&mut rng, &history.ops[id].op);
                    history.ops[id].ret = Some(tick);
                    history.ops[id].output = Some(out.clone());
                    monitor.returned(id, tick, out);
                }
            }
        }
        found.extend(monitor.take_violations());
    }
    monitor.finish();
    found.extend(monitor.take_violations());
    (history, found)
}

fn key(v: &SessionViolation) -> (Guarantee, usize, usize) {
    (v.guarantee, v.later, v.earlier)
}

fn agree<M: ReadsWrites>(
    initial: &M,
    op: impl Fn(&mut Rng) -> M::Op + Copy,
    output: impl Fn(&mut Rng, &M::Op) -> M::Output + Copy,
) -> usize {
    let mut violated = 0;
    for seed in 0..3000 {
        let (history, mut found) = random_run(seed, initial, op, output);
        let whole = check_session_guarantees(&history, initial, &BOTH);
        let mut expected = whole.verdict.violation().cloned().unwrap_or_default();
        expected.sort_by_key(key);
        found.sort_by_key(key);
        assert_eq!(found, expected, "seed {seed}: {history:?}");
        violated += usize::from(!expected.is_empty());
    }
    violated
}

fn register_op(rng: &mut Rng) -> RegisterOp {
    match rng.below(5) {
        0 | 1 => RegisterOp::Read,
        2 | 3 => RegisterOp::Write {
            value: rng.below(3) as i64,
        },
        _ => RegisterOp::Cas {
            from: rng.below(3) as i64,
            to: rng.below(3) as i64,
        },
    }
}

fn register_out(rng: &mut Rng, op: &RegisterOp) -> RegisterOut {
    match op {
        RegisterOp::Read => {
            RegisterOut::Value([None, Some(0), Some(1), Some(2), Some(7)][rng.below(5) as usize])
        }
        RegisterOp::Write { .. } => RegisterOut::Written,
        RegisterOp::Cas { .. } => RegisterOut::Cas(rng.below(2) == 0),
    }
}

#[test]
fn it_agrees_with_the_whole_history_checker_on_random_register_histories() {
    // Values repeat (three of them), compare-and-sets may fail, outcomes may be unknown.
    let violated = agree(&CasRegister::default(), register_op, register_out);
    // The comparison means something only if many histories break a guarantee.
    assert!(violated > 300, "{violated}");
}

fn kv_op(rng: &mut Rng) -> KvOp {
    let key = ["a", "b"][rng.below(2) as usize].to_string();
    let value = ["x", "y", "xy"][rng.below(3) as usize].to_string();
    match rng.below(5) {
        0 | 1 => KvOp::Get { key },
        2 => KvOp::Put { key, value },
        3 => KvOp::Append { key, value },
        _ => KvOp::Delete { key },
    }
}

fn kv_out(rng: &mut Rng, op: &KvOp) -> KvOut {
    match op {
        KvOp::Get { .. } => {
            KvOut::Value(["", "x", "y", "xy", "yx", "xxy", "z"][rng.below(7) as usize].to_string())
        }
        _ => KvOut::Done,
    }
}

#[test]
fn it_agrees_with_the_whole_history_checker_on_random_append_histories() {
    // Two keys, appends (a read may follow several writes), puts and deletes.
    let violated = agree(&KvModel::default(), kv_op, kv_out);
    assert!(violated > 300, "{violated}");
}

/// A stale read whose value an in-flight compare-and-set may have written: undecided until the
/// compare-and-set ends.
fn waiting_read(cas_took_effect: bool) -> (Vec<SessionViolation>, Vec<SessionViolation>) {
    let mut m = SessionMonitor::new(&CasRegister::default(), &BOTH);
    let old = m.invoke(2, RegisterOp::Write { value: 9 }, 1);
    m.returned(old, 2, RegisterOut::Written);
    let cas = m.invoke(1, RegisterOp::Cas { from: 0, to: 9 }, 3);
    let own = m.invoke(0, RegisterOp::Write { value: 1 }, 4);
    m.returned(own, 5, RegisterOut::Written);
    let read = m.invoke(0, RegisterOp::Read, 6);
    m.returned(read, 7, RegisterOut::Value(Some(9)));
    let before = m.take_violations();
    m.returned(cas, 8, RegisterOut::Cas(cas_took_effect));
    (before, m.take_violations())
}

#[test]
fn a_read_waits_for_a_source_in_flight_and_is_decided_when_it_ends() {
    let (before, after) = waiting_read(false);
    assert!(before.is_empty(), "{before:?}");
    assert_eq!(after.len(), 1, "{after:?}");
    assert_eq!(after[0].guarantee, Guarantee::ReadYourWrites);
    assert_eq!(
        (after[0].earlier, after[0].later, &after[0].stale[..]),
        (2, 3, &[0][..])
    );
    // Had it taken effect, the read may show it: no violation.
    let (before, after) = waiting_read(true);
    assert!(before.is_empty() && after.is_empty(), "{after:?}");
}

#[test]
fn a_withdrawn_operation_is_no_source() {
    let mut m = SessionMonitor::new(&CasRegister::default(), &BOTH);
    let own = m.invoke(0, RegisterOp::Write { value: 1 }, 1);
    let other = m.invoke(1, RegisterOp::Write { value: 2 }, 2);
    m.returned(own, 3, RegisterOut::Written);
    let read = m.invoke(0, RegisterOp::Read, 4);
    m.returned(read, 5, RegisterOut::Value(None));
    // The initial value is older than the own write whatever the other write does.
    assert_eq!(m.take_violations().len(), 1);
    let r2 = m.invoke(0, RegisterOp::Read, 6);
    m.returned(r2, 7, RegisterOut::Value(Some(2)));
    assert!(m.take_violations().is_empty());
    m.withdraw(other);
    // Without the other write, the second read has no possible source: left to
    // linearizability, as the whole-history checker leaves it.
    assert!(m.take_violations().is_empty());
}

#[test]
fn monotonic_reads_are_decided_when_the_read_returns() {
    let mut m = SessionMonitor::new(&CasRegister::default(), &[Guarantee::MonotonicReads]);
    let w1 = m.invoke(1, RegisterOp::Write { value: 1 }, 1);
    m.returned(w1, 2, RegisterOut::Written);
    let w2 = m.invoke(1, RegisterOp::Write { value: 2 }, 3);
    m.returned(w2, 4, RegisterOut::Written);
    let r1 = m.invoke(0, RegisterOp::Read, 5);
    m.returned(r1, 6, RegisterOut::Value(Some(2)));
    assert!(m.take_violations().is_empty());
    let r2 = m.invoke(0, RegisterOp::Read, 7);
    m.returned(r2, 8, RegisterOut::Value(Some(1)));
    let found = m.take_violations();
    assert_eq!(found.len(), 1);
    assert_eq!(
        (found[0].guarantee, found[0].earlier, found[0].later),
        (Guarantee::MonotonicReads, r1, r2)
    );
}
