//! The linearizability checker against known answers: a brute-force oracle on thousands of small
//! random histories, and histories made from real sequential executions (linearizable by
//! construction) with and without an impossible result injected.

#[path = "../support/histories.rs"]
mod histories;

use stateprop::check::{check_linearizable, check_linearizable_by, CheckConfig, Verdict};
use stateprop::history::History;
use stateprop::models::{CasRegister, KvModel, KvOp, KvOut, RegisterOp, RegisterOut};
use stateprop::Model;

mod bounds;
mod windows;

/// A small deterministic generator for the tests' random histories.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

type RegHistory = History<RegisterOp, RegisterOut>;

fn random_op(rng: &mut Rng) -> RegisterOp {
    match rng.below(3) {
        0 => RegisterOp::Read,
        1 => RegisterOp::Write {
            value: rng.below(3) as i64,
        },
        _ => RegisterOp::Cas {
            from: rng.below(3) as i64,
            to: rng.below(3) as i64,
        },
    }
}

fn random_output(rng: &mut Rng, op: &RegisterOp) -> RegisterOut {
    match op {
        RegisterOp::Read => RegisterOut::Value(match rng.below(4) {
            3 => None,
            v => Some(v as i64),
        }),
        RegisterOp::Write { .. } => RegisterOut::Written,
        RegisterOp::Cas { .. } => RegisterOut::Cas(rng.below(2) == 0),
    }
}

/// Up to `max` operations from up to 3 clients, each client's operations one after another,
/// with random (often overlapping) intervals and random outputs; some outcomes unknown.
fn random_history(rng: &mut Rng, max: u64) -> RegHistory {
    let n = 1 + rng.below(max);
    let mut h = History::new();
    let mut client_free = [0u64; 3];
    for _ in 0..n {
        let client = rng.below(3) as usize;
        let call = client_free[client] + rng.below(4);
        let op = random_op(rng);
        if rng.below(10) == 0 {
            h.push_unknown(client as u64, op, call);
            client_free[client] = u64::MAX / 2; // a crashed client issues nothing more
        } else {
            let ret = call + 1 + rng.below(6);
            let out = random_output(rng, &op);
            h.push(client as u64, op, call, ret, out);
            client_free[client] = ret + 1;
        }
        if client_free.iter().all(|&f| f >= u64::MAX / 2) {
            break;
        }
    }
    h
}

/// Tries every order consistent with real time; unknown operations may also be left out.
fn brute_force<M: Model>(
    h: &History<M::Op, M::Output>,
    state: &M,
    remaining: &mut Vec<usize>,
) -> bool {
    let known_left = remaining.iter().any(|&i| !h.ops[i].is_unknown());
    if !known_left {
        return true;
    }
    for k in 0..remaining.len() {
        let i = remaining[k];
        let o = &h.ops[i];
        // `o` may go next unless another remaining operation returned before it was invoked.
        let blocked = remaining
            .iter()
            .any(|&j| j != i && h.ops[j].ret.is_some_and(|r| r < o.call));
        if blocked {
            continue;
        }
        remaining.swap_remove(k);
        let mut next = state.clone();
        let expected = next.step(&o.op);
        let fits = match &o.output {
            Some(actual) if o.ret.is_some() => next.outputs_match(&o.op, &expected, actual),
            _ => true,
        };
        let found = (fits && brute_force(h, &next, remaining))
            || (o.is_unknown() && brute_force(h, state, remaining));
        remaining.push(i);
        let last = remaining.len() - 1;
        remaining.swap(k, last);
        if found {
            return true;
        }
    }
    false
}

#[test]
fn agrees_with_brute_force_on_12000_random_histories() {
    let mut rng = Rng(20261121);
    let (mut yes, mut no) = (0, 0);
    for case in 0..12_000 {
        let h = random_history(&mut rng, 7);
        let oracle = brute_force(&h, &CasRegister::default(), &mut (0..h.len()).collect());
        let report = check_linearizable(&h, &CasRegister::default(), &CheckConfig::default());
        let checker = match &report.verdict {
            Verdict::Holds => true,
            Verdict::Violated(_) => false,
            other => panic!("case {case}: unknown without a budget: {other:?}"),
        };
        assert_eq!(
            checker, oracle,
            "case {case}: checker and oracle disagree on {h:#?}"
        );
        if oracle {
            yes += 1;
        } else {
            no += 1;
        }
    }
    // Both answers must be well represented, or the comparison proves little.
    assert!(yes > 2000 && no > 2000, "{yes} linearizable, {no} not");
}

/// A real sequential execution: each operation's effect happens at a point inside its
/// interval, and intervals are widened at random around that point.
fn widened_execution(rng: &mut Rng, n: usize) -> RegHistory {
    let mut model = CasRegister::default();
    let mut h = History::new();
    let mut busy_until = [0u64; 4];
    for step in 0..n {
        let at = (step as u64 + 1) * 10;
        // A client that is free before this point.
        let client = (0..4).find(|&c| busy_until[c] < at).unwrap_or(0);
        let op = random_op(rng);
        let out = model.step(&op);
        let call = at - rng.below(10).min(at - busy_until[client] - 1);
        let ret = at + rng.below(40);
        busy_until[client] = ret;
        h.push(client as u64, op, call, ret, out);
    }
    h
}

#[test]
fn real_executions_with_widened_intervals_are_linearizable() {
    let mut rng = Rng(7);
    for case in 0..300 {
        let h = widened_execution(&mut rng, 60);
        let report = check_linearizable(&h, &CasRegister::default(), &CheckConfig::default());
        assert_eq!(report.verdict, Verdict::Holds, "case {case}");
        // The linearization found is a real one: replaying it reproduces every output.
        let mut model = CasRegister::default();
        for &i in &report.orders[0].ops {
            let out = model.step(&h.ops[i].op);
            assert_eq!(Some(&out), h.ops[i].output.as_ref());
        }
    }
}

#[test]
fn an_impossible_result_is_caught_and_explained() {
    let mut rng = Rng(11);
    for case in 0..300 {
        let mut h = widened_execution(&mut rng, 40);
        // One read now returns a value no operation ever writes; everything else is still a
        // real execution, so that read is the one that cannot be placed.
        let reads: Vec<usize> = (0..h.len())
            .filter(|&i| h.ops[i].op == RegisterOp::Read)
            .collect();
        let victim = reads[rng.below(reads.len() as u64) as usize];
        h.ops[victim].output = Some(RegisterOut::Value(Some(99)));
        let report = check_linearizable(&h, &CasRegister::default(), &CheckConfig::default());
        let Verdict::Violated(v) = &report.verdict else {
            panic!("case {case}: {:?}", report.verdict);
        };
        assert_eq!(
            v.blocked, victim,
            "case {case}: the impossible read is the one named"
        );
        assert_eq!(v.actual.as_deref(), Some("Value(Some(99))"));
        assert!(v.linearized.iter().all(|&i| i != victim));
    }
}

#[test]
fn unknown_outcomes_may_take_effect_late_or_never() {
    let mut h: RegHistory = History::new();
    // A write that never returned, then reads that see it and then do not... in real time.
    h.push_unknown(1, RegisterOp::Write { value: 1 }, 0);
    h.push(2, RegisterOp::Read, 1, 2, RegisterOut::Value(None));
    h.push(2, RegisterOp::Read, 3, 4, RegisterOut::Value(Some(1)));
    let r = check_linearizable(&h, &CasRegister::default(), &CheckConfig::default());
    assert_eq!(r.verdict, Verdict::Holds);
    // Never taking effect is allowed too.
    let mut h2: RegHistory = History::new();
    h2.push_unknown(1, RegisterOp::Write { value: 1 }, 0);
    h2.push(2, RegisterOp::Read, 5, 6, RegisterOut::Value(None));
    let r = check_linearizable(&h2, &CasRegister::default(), &CheckConfig::default());
    assert_eq!(r.verdict, Verdict::Holds);
    // But once seen, it cannot be unseen.
    h.push(2, RegisterOp::Read, 5, 6, RegisterOut::Value(None));
    let r = check_linearizable(&h, &CasRegister::default(), &CheckConfig::default());
    assert!(matches!(r.verdict, Verdict::Violated(_)));
}

#[test]
fn budgets_end_in_unknown() {
    // Many concurrent writes and reads that cannot all fit: a large search space.
    let h = histories::unreadable_reads();
    let cap = 4 << 20;
    let r = check_linearizable(
        &h,
        &CasRegister::default(),
        &CheckConfig::default().max_memory(cap),
    );
    match r.verdict {
        Verdict::Unknown(reason) => assert!(reason.contains("memory"), "{reason}"),
        Verdict::Violated(_) => {} // found quickly: also a right answer
        other => panic!("reads of values never written cannot be linearizable: {other:?}"),
    }
    assert!(r.peak_bytes <= cap, "peak {} over the cap", r.peak_bytes);
    let r = check_linearizable(
        &h,
        &CasRegister::default(),
        &CheckConfig::default().timeout(std::time::Duration::from_millis(50)),
    );
    assert!(!matches!(r.verdict, Verdict::Holds));
}

#[test]
fn partitions_are_checked_independently_and_the_bad_one_is_named() {
    let mut h: History<KvOp, KvOut> = History::new();
    let put = |k: &str, v: &str| KvOp::Put {
        key: k.into(),
        value: v.into(),
    };
    let get = |k: &str| KvOp::Get { key: k.into() };
    h.push(0, put("a", "1"), 0, 1, KvOut::Done);
    h.push(1, put("b", "2"), 0, 1, KvOut::Done);
    h.push(0, get("a"), 2, 3, KvOut::Value("1".into()));
    h.push(1, get("b"), 2, 3, KvOut::Value("".into())); // stale: b was written before
    let r = check_linearizable_by(&h, &KvModel::default(), &CheckConfig::default(), |op| {
        op.key().to_string()
    });
    assert_eq!(r.partitions, 2);
    let Verdict::Violated(v) = r.verdict else {
        panic!("{:?}", r.verdict)
    };
    assert_eq!(v.partition.as_deref(), Some("\"b\""));
    assert_eq!(v.blocked, 3);
    assert_eq!(v.linearized, vec![1]);
    assert_eq!(v.expected.as_deref(), Some("Value(\"2\")"));
}

#[test]
fn each_linearization_names_its_partition() {
    let mut h: History<KvOp, KvOut> = History::new();
    let put = |k: &str, v: &str| KvOp::Put {
        key: k.into(),
        value: v.into(),
    };
    let get = |k: &str| KvOp::Get { key: k.into() };
    // Key "z" comes first in the history, "a" second; a read of "m" that never returned is
    // left out of the search, so positions in the report cannot tell partitions apart.
    h.push_unknown(2, get("m"), 0);
    h.push(0, put("z", "1"), 1, 4, KvOut::Done);
    h.push(1, put("a", "2"), 2, 3, KvOut::Done);
    h.push(1, get("a"), 5, 6, KvOut::Value("2".into()));
    h.push(0, get("z"), 5, 7, KvOut::Value("1".into()));
    let r = check_linearizable_by(&h, &KvModel::default(), &CheckConfig::default(), |op| {
        op.key().to_string()
    });
    assert_eq!(r.verdict, Verdict::Holds);
    let named: Vec<(Option<&str>, &[usize])> = r
        .orders
        .iter()
        .map(|o| (o.partition.as_deref(), o.ops.as_slice()))
        .collect();
    assert_eq!(
        named,
        [(Some("\"z\""), &[1, 4][..]), (Some("\"a\""), &[2, 3][..])]
    );
    // Unpartitioned, the one order still says which partition it is.
    let r = check_linearizable(&h, &KvModel::default(), &CheckConfig::default());
    assert_eq!(r.orders.len(), 1);
    assert_eq!(r.orders[0].partition.as_deref(), Some("()"));
}
