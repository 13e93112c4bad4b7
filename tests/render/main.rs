//! The HTML history report: what the page says (`page`), and what a real browser makes of it
//! (`browser`: Debian's chromium, headless; mandatory where installed and in CI, elsewhere
//! reported as not run).

#[path = "../../examples/replicated_register.rs"]
#[allow(dead_code)]
mod register;

mod browser;
mod page;
mod sim_page;
mod vars;

use stateprop::check::{check_linearizable, check_linearizable_by, CheckConfig, Report};
use stateprop::history::History;
use stateprop::models::{CasRegister, KvModel, KvOp, KvOut, RegisterOp, RegisterOut};

/// Three clients on a CAS register; client 2 reads 1 after 2 was written over it (a stale read),
/// while client 3's compare-and-set never returns.
fn stale_read() -> History<RegisterOp, RegisterOut> {
    let mut h = History::new();
    h.push(
        0,
        RegisterOp::Write { value: 1 },
        0,
        10,
        RegisterOut::Written,
    );
    h.push(1, RegisterOp::Read, 2, 12, RegisterOut::Value(Some(1)));
    h.push(
        1,
        RegisterOp::Write { value: 2 },
        14,
        20,
        RegisterOut::Written,
    );
    h.push_unknown(3, RegisterOp::Cas { from: 7, to: 8 }, 16);
    h.push(0, RegisterOp::Read, 18, 24, RegisterOut::Value(Some(2)));
    h.push(2, RegisterOp::Read, 26, 30, RegisterOut::Value(Some(1))); // stale: 2 was written
    h
}

fn check_register(h: &History<RegisterOp, RegisterOut>) -> Report {
    check_linearizable(h, &CasRegister::default(), &CheckConfig::default())
}

fn put(key: &str, value: &str) -> KvOp {
    KvOp::Put {
        key: key.into(),
        value: value.into(),
    }
}

fn get(key: &str) -> KvOp {
    KvOp::Get { key: key.into() }
}

fn value(v: &str) -> KvOut {
    KvOut::Value(v.into())
}

/// A key-value store split by key: key "x" is fine; on key "y" a put never returns, and a get
/// reads "" after "1" was written and read.
fn kv_violation() -> History<KvOp, KvOut> {
    let mut h = History::new();
    h.push(0, put("x", "a"), 0, 4, KvOut::Done);
    h.push(1, get("x"), 2, 6, value("a"));
    h.push(
        2,
        KvOp::Append {
            key: "x".into(),
            value: "b".into(),
        },
        5,
        9,
        KvOut::Done,
    );
    h.push(0, get("x"), 7, 12, value("ab"));
    h.push(1, put("y", "1"), 8, 11, KvOut::Done);
    h.push_unknown(3, put("y", "2"), 10);
    h.push(2, get("y"), 12, 15, value("1"));
    h.push(1, get("y"), 16, 18, value("")); // impossible: "1" was written, nothing deletes it
    h.push(0, get("y"), 17, 20, value("2"));
    h
}

fn check_kv(h: &History<KvOp, KvOut>) -> Report {
    check_linearizable_by(h, &KvModel::default(), &CheckConfig::default(), |op| {
        op.key().to_string()
    })
}

/// Four clients on a register, all answers possible: every operation gets a number.
fn linearizable_register() -> History<RegisterOp, RegisterOut> {
    let mut h = History::new();
    h.push(
        0,
        RegisterOp::Write { value: 1 },
        0,
        6,
        RegisterOut::Written,
    );
    h.push(1, RegisterOp::Read, 1, 3, RegisterOut::Value(None));
    h.push(
        2,
        RegisterOp::Cas { from: 1, to: 3 },
        4,
        9,
        RegisterOut::Cas(true),
    );
    h.push(1, RegisterOp::Read, 5, 8, RegisterOut::Value(Some(1)));
    h.push(
        3,
        RegisterOp::Write { value: 4 },
        7,
        14,
        RegisterOut::Written,
    );
    h.push(0, RegisterOp::Read, 10, 12, RegisterOut::Value(Some(3)));
    h.push(
        1,
        RegisterOp::Cas { from: 4, to: 0 },
        11,
        16,
        RegisterOut::Cas(false),
    );
    h.push(2, RegisterOp::Read, 13, 17, RegisterOut::Value(Some(4)));
    h.push_unknown(0, RegisterOp::Write { value: 9 }, 15);
    h
}
