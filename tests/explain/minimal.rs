//! The smallest violation: found by shrinking the history itself, never inventing one.

use crate::{check, data, is_linearizable, stale_among_correct, RegHistory};
use stateprop::check::violations::culprit;
use stateprop::check::{
    minimal_violation, minimal_violation_by, CheckConfig, Minimal, MinimizeOptions, Verdict,
};
use stateprop::history::History;
use stateprop::import;
use stateprop::models::{CasRegister, KvModel, KvOp, KvOut, RegisterOp, RegisterOut};
use stateprop::Model;
use std::time::Duration;

/// The candidate that keeps `outcomes` as recorded, `effects` within their intervals (outputs
/// unchecked), and gives every other operation of `universe` the benefit of the doubt, built
/// here independently of the library: reads are deleted, operations called after every kept
/// outcome was known are deleted, the others get an unknown outcome. If it is not linearizable,
/// neither is the history.
pub(crate) fn doubted<M: Model>(
    h: &History<M::Op, M::Output>,
    universe: &[usize],
    outcomes: &[usize],
    effects: &[usize],
) -> History<M::Op, M::Output> {
    let horizon = outcomes
        .iter()
        .filter(|&&i| !h.ops[i].is_unknown())
        .filter_map(|&i| h.ops[i].ret)
        .max()
        .unwrap_or(0);
    let mut out = History::new();
    for &i in universe {
        let mut o = h.ops[i].clone();
        if outcomes.contains(&i) {
            out.ops.push(o);
            continue;
        }
        let read =
            matches!(&o.output, Some(out) if o.ret.is_some() && M::is_observation(&o.op, out));
        if read || o.call > horizon {
            continue;
        }
        o.output = None;
        if !effects.contains(&i) {
            o.ret = None;
        }
        out.ops.push(o);
    }
    out
}

fn not_linearizable<M, K>(h: &History<M::Op, M::Output>, m: &M, part: impl Fn(&M::Op) -> K) -> bool
where
    M: Model + std::hash::Hash + Eq,
    K: std::hash::Hash + Eq + std::fmt::Debug,
{
    match check(h, m, part).verdict {
        Verdict::Violated(_) => true,
        Verdict::Holds => false,
        other => panic!("undecided: {other:?}"),
    }
}

/// What every minimal violation must be: not linearizable alone, a proof that the history is
/// not (with every other operation doubted), and 1-minimal when it says so.
fn assert_sound<M, K>(
    h: &History<M::Op, M::Output>,
    initial: &M,
    part: impl Fn(&M::Op) -> K + Copy,
    m: &Minimal<M::Op, M::Output>,
    name: &str,
) where
    M: Model + std::hash::Hash + Eq,
    K: std::hash::Hash + Eq + std::fmt::Debug,
{
    let key = part(&h.ops[m.ops[0]].op);
    let universe: Vec<usize> = (0..h.ops.len())
        .filter(|&i| part(&h.ops[i].op) == key)
        .collect();
    assert!(
        m.ops.iter().all(|i| universe.contains(i)),
        "{name}: one partition"
    );
    assert!(
        not_linearizable(&m.history, initial, part),
        "{name}: the sub-history"
    );
    let mut all = m.outcomes.clone();
    all.extend(&m.effects);
    all.sort_unstable();
    assert_eq!(
        all, m.ops,
        "{name}: outcomes and effects make the operations"
    );
    assert!(
        not_linearizable(
            &doubted::<M>(h, &universe, &m.outcomes, &m.effects),
            initial,
            part
        ),
        "{name}: with the rest doubted"
    );
    if m.one_minimal {
        for &x in &m.ops {
            let without =
                |set: &[usize]| -> Vec<usize> { set.iter().copied().filter(|&i| i != x).collect() };
            let fewer = doubted::<M>(h, &universe, &without(&m.outcomes), &without(&m.effects));
            assert!(
                !not_linearizable(&fewer, initial, part),
                "{name}: {x} could go too"
            );
        }
    }
}

#[test]
fn etcd_violations_shrink_to_a_handful_that_is_sound_and_one_minimal() {
    let expected = std::fs::read_to_string(data("EXPECTED.tsv")).unwrap();
    let files: Vec<&str> = expected
        .lines()
        .filter(|l| l.ends_with("\tfalse") && l.starts_with("jepsen/"))
        .map(|l| l.split('\t').next().unwrap())
        .collect();
    assert_eq!(files.len(), 79);
    let mut one_minimal = 0;
    for file in &files {
        let h = import::etcd(&std::fs::read_to_string(data(file)).unwrap()).unwrap();
        let initial = CasRegister::default();
        let report = check(&h, &initial, |_| ());
        let options = MinimizeOptions::default().time(Duration::from_secs(2));
        let m = minimal_violation(&h, &initial, &report, &options).expect(file);
        // A 1-minimal violation is much smaller. One that the time budget stopped is only
        // required to be sound: how far it got depends on how busy the machine is.
        if m.one_minimal {
            assert!(
                m.ops.len() * 5 <= h.ops.len(),
                "{file}: {} of {}",
                m.ops.len(),
                h.ops.len()
            );
        }
        assert_sound(&h, &initial, |_| (), &m, file);
        one_minimal += usize::from(m.one_minimal);
    }
    // A check may run out of its share of time on a hard candidate; nearly all finish.
    assert!(
        one_minimal >= 22,
        "{one_minimal} of {} 1-minimal",
        files.len()
    );
}

#[test]
fn kv_violations_shrink_within_their_partition() {
    for file in ["kv/c01-bad.txt", "kv/c10-bad.txt"] {
        let h: History<KvOp, KvOut> =
            import::kv_edn(&std::fs::read_to_string(data(file)).unwrap()).unwrap();
        let part = |op: &KvOp| op.key().to_string();
        let report = check(&h, &KvModel::default(), part);
        let m = minimal_violation_by(
            &h,
            &KvModel::default(),
            &report,
            part,
            &MinimizeOptions::default(),
        )
        .unwrap();
        assert!(m.ops.len() <= 5, "{file}: {:?}", m.ops);
        assert!(m.one_minimal, "{file}");
        assert_sound(&h, &KvModel::default(), part, &m, file);
    }
}

#[test]
fn deleting_writes_would_invent_a_violation_and_is_not_done() {
    // Linearizable; yet the read alone, without the write, is not.
    let mut h = RegHistory::new();
    h.push(
        0,
        RegisterOp::Write { value: 2 },
        0,
        1,
        RegisterOut::Written,
    );
    h.push(
        0,
        RegisterOp::Write { value: 1 },
        2,
        3,
        RegisterOut::Written,
    );
    h.push(1, RegisterOp::Read, 4, 5, RegisterOut::Value(Some(2)));
    let report = check(&h, &CasRegister::default(), |_| ());
    let m = crate::minimal_register(&h, &report);
    // Shrinking by deletion would answer {read 2}, a violation the history does not have. Here
    // both writes must have taken effect, in their order, for the read of 2 to be wrong.
    assert_eq!(m.ops, vec![0, 1, 2], "{:?}", m.ops);
    assert_eq!(
        (m.outcomes.clone(), m.effects.clone()),
        (vec![2], vec![0, 1])
    );
    assert!(m.one_minimal);
    assert!(
        !is_linearizable(&h.select(&[2])),
        "the invented violation exists"
    );
}

#[test]
fn the_stale_read_is_picked_rather_than_the_correct_neighbour_the_checker_blames() {
    let h = stale_among_correct();
    let initial = CasRegister::default();
    let report = check(&h, &initial, |_| ());
    let Verdict::Violated(v) = &report.verdict else {
        panic!()
    };
    // Today's blame: the first read of 2, which is correct.
    assert_eq!(v.blocked, 3);
    let m = minimal_violation(&h, &initial, &report, &MinimizeOptions::default()).unwrap();
    assert!(m.one_minimal);
    // The stale read is in it, with one of the reads of 2 (any one of them contradicts it).
    assert!(m.ops.contains(&2), "{:?}", m.ops);
    assert_eq!(m.ops.iter().filter(|&&i| i >= 3).count(), 1, "{:?}", m.ops);
    assert_sound(&h, &initial, |_| (), &m, "stale");
    let c = culprit(
        &h,
        &initial,
        |_| (),
        &m,
        &[],
        &CheckConfig::default(),
        &MinimizeOptions::default(),
    )
    .unwrap();
    // Of the operations of the minimal violation, the stale read is the one whose benefit of
    // the doubt leaves no violation at all; the blamed read's only passes the blame on.
    assert_eq!(c.op, 2);
    assert!(c.resolves);
    let all = stateprop::check::violations(
        &h,
        &initial,
        |_: &RegisterOp| (),
        3,
        &CheckConfig::default(),
        &MinimizeOptions::default(),
        None,
    );
    assert_eq!(all.found.len(), 1);
    assert_eq!(all.found[0].relaxed, Some(2));
}
