//! More than one violation: ordinary lag early on must not hide a later fault.

use crate::{check, RegHistory};
use stateprop::check::violations::{relax, violations, End};
use stateprop::check::{CheckConfig, MinimizeOptions, Verdict};
use stateprop::models::{CasRegister, RegisterOp, RegisterOut};
use std::process::Command;

/// Sequential writes 1..=20 by client 0, each read back by client 1, except two stale reads:
/// one early (of 1 after 2 was written), one late (of 15 after 18 was written).
fn two_faults() -> RegHistory {
    let mut h = RegHistory::new();
    let mut t = 0;
    for v in 1..=20i64 {
        h.push(
            0,
            RegisterOp::Write { value: v },
            t,
            t + 1,
            RegisterOut::Written,
        );
        let seen = match v {
            2 => 1,
            18 => 15,
            _ => v,
        };
        h.push(
            1,
            RegisterOp::Read,
            t + 2,
            t + 3,
            RegisterOut::Value(Some(seen)),
        );
        t += 4;
    }
    h
}

#[test]
fn both_faults_are_reported_and_then_nothing_else() {
    let h = two_faults();
    let all = violations(
        &h,
        &CasRegister::default(),
        |_: &RegisterOp| (),
        5,
        &CheckConfig::default(),
        &MinimizeOptions::default(),
        None,
    );
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

#[test]
fn the_cli_reports_several_violations_on_request() {
    let h = two_faults();
    let text = serde_json::to_string_pretty(&h.to_events()).unwrap();
    let path = crate::scratch("two-faults.json", &text);
    let run = |extra: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_stateprop"))
            .args(["check", "--model", "cas-register"])
            .args(extra)
            .arg(&path)
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
        )
    };
    let (code, text) = run(&["--explain", "--violations", "5"]);
    assert_eq!(code, Some(1));
    assert!(text.contains("violation 2 of at most 5"), "{text}");
    assert!(!text.contains("violation 3 of"), "{text}");
    assert!(text.contains("no other violation"), "{text}");
    let (_, json) = run(&["--json", "--violations", "5"]);
    let v: serde_json::Value = serde_json::from_str(json.trim()).unwrap();
    assert_eq!(
        v["violation"]["violations"].as_array().unwrap().len(),
        2,
        "{json}"
    );
}
