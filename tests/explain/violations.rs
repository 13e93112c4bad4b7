//! More than one violation: ordinary lag early on must not hide a later fault.

use crate::explained::two_faults;
use crate::{check, RegHistory};
use stateprop::check::violations::{relax, End};
use stateprop::check::Verdict;
use stateprop::models::{CasRegister, RegisterOp, RegisterOut};

#[test]
fn both_faults_are_reported_and_then_nothing_else() {
    let h = two_faults();
    let all = crate::register_violations(&h, 5, None);
    assert_eq!(all.end, End::Linearizable, "{:?}", all.end);
    let relaxed: Vec<usize> = all.found.iter().map(|f| f.relaxed.unwrap()).collect();
    // The reads are operations 3 (of 1) and 35 (of 15).
    assert_eq!(relaxed, vec![3, 35]);
    // Each violation is one of the original history: its minimal violation alone fails.
    for f in &all.found {
        let m = f.minimal.as_ref().unwrap();
        assert!(matches!(
            check(&m.history, &CasRegister::default(), |_| ()).verdict,
            Verdict::Violated(_)
        ));
    }
    // The checker alone stops at the first.
    let first = check(&h, &CasRegister::default(), |_| ());
    assert!(matches!(first.verdict, Verdict::Violated(v) if v.blocked == 3));
}

#[test]
fn relaxing_never_invents_a_violation() {
    // A linearizable history stays linearizable whatever is relaxed (more behaviours allowed).
    let mut h = RegHistory::new();
    for v in 1..=6i64 {
        let t = v as u64 * 4;
        h.push(
            0,
            RegisterOp::Write { value: v },
            t,
            t + 1,
            RegisterOut::Written,
        );
        h.push(
            1,
            RegisterOp::Read,
            t + 2,
            t + 3,
            RegisterOut::Value(Some(v)),
        );
    }
    for i in 0..h.ops.len() {
        let r = relax::<CasRegister>(&h, &[i]);
        assert!(
            matches!(
                check(&r, &CasRegister::default(), |_| ()).verdict,
                Verdict::Holds
            ),
            "{i}"
        );
    }
}
