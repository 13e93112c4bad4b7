//! Explanations a person can use on big histories: operations cited by file line and time, a
//! window around the violation, the smallest violation, and more than one violation.

mod brute;
#[path = "../support/explained.rs"]
mod explained;
mod minimal;
mod sources;
mod violations;
mod window;

use stateprop::check::{check_linearizable_by, CheckConfig, MinimizeOptions, Report, Verdict};
use stateprop::history::History;
use stateprop::models::{CasRegister, RegisterOp, RegisterOut};
use stateprop::Model;
use std::hash::Hash;
use std::path::PathBuf;

pub type RegHistory = History<RegisterOp, RegisterOut>;

pub fn data(path: &str) -> String {
    format!(
        "{}/../shared/data/porcupine/{path}",
        env!("CARGO_MANIFEST_DIR")
    )
}

pub fn scratch(name: &str, text: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("explain");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

pub fn check<M, K>(h: &History<M::Op, M::Output>, initial: &M, part: impl Fn(&M::Op) -> K) -> Report
where
    M: Model + Hash + Eq,
    K: Hash + Eq + std::fmt::Debug,
{
    check_linearizable_by(h, initial, &CheckConfig::default(), part)
}

/// The smallest violation of a register history, at the default options.
pub fn minimal_register(
    h: &RegHistory,
    report: &Report,
) -> stateprop::check::minimize::Minimal<RegisterOp, RegisterOut> {
    stateprop::check::minimal_violation(
        h,
        &CasRegister::default(),
        report,
        &MinimizeOptions::default(),
    )
    .expect("a violation to minimize")
}

/// Up to `max` violations of an unpartitioned register history, at the default options.
pub fn register_violations(
    h: &RegHistory,
    max: usize,
    first: Option<&Report>,
) -> stateprop::check::violations::Violations<RegisterOp, RegisterOut> {
    stateprop::check::violations::violations(
        h,
        &CasRegister::default(),
        |_: &RegisterOp| (),
        max,
        &CheckConfig::default(),
        &MinimizeOptions::default(),
        first,
    )
}

pub fn is_linearizable(h: &RegHistory) -> bool {
    match check(h, &CasRegister::default(), |_| ()).verdict {
        Verdict::Holds => true,
        Verdict::Violated(_) => false,
        other => panic!("undecided: {other:?}"),
    }
}

/// `write 1 ‖ write 2`, then one read of 1 and three of 2, one after the other. Either the read
/// of 1 is wrong or all three reads of 2 are: the read of 1 is the stale one. The checker tries
/// `write 2` before `write 1`, places the read of 1, and blames the first read of 2, a correct
/// operation (index 3).
pub fn stale_among_correct() -> RegHistory {
    let mut h = RegHistory::new();
    h.push(
        0,
        RegisterOp::Write { value: 1 },
        0,
        10,
        RegisterOut::Written,
    );
    h.push(
        1,
        RegisterOp::Write { value: 2 },
        0,
        10,
        RegisterOut::Written,
    );
    h.push(2, RegisterOp::Read, 11, 12, RegisterOut::Value(Some(1)));
    h.push(3, RegisterOp::Read, 13, 14, RegisterOut::Value(Some(2)));
    h.push(4, RegisterOp::Read, 15, 16, RegisterOut::Value(Some(2)));
    h.push(5, RegisterOp::Read, 17, 18, RegisterOut::Value(Some(2)));
    h
}
