// Register histories that several test targets check: kept in one place so they stay the same
// history wherever a test relies on its shape. Included with `#[path]`.

use stateprop::history::History;
use stateprop::models::{RegisterOp, RegisterOut};

/// One writer and one reader taking turns, no overlap: every read sees the write before it.
pub fn sequential(n: u64) -> History<RegisterOp, RegisterOut> {
    let mut h = History::new();
    for i in 0..n {
        if i % 2 == 0 {
            let op = RegisterOp::Write { value: i as i64 };
            h.push(0, op, 2 * i, 2 * i + 1, RegisterOut::Written);
        } else {
            let out = RegisterOut::Value(Some(i as i64 - 1));
            h.push(1, RegisterOp::Read, 2 * i, 2 * i + 1, out);
        }
    }
    h
}

/// 24 writes of distinct values, all concurrent, and 16 concurrent reads of values never
/// written: not linearizable, and a search that can only end at its budget (or by luck).
pub fn unreadable_reads() -> History<RegisterOp, RegisterOut> {
    let mut h = History::new();
    for c in 0..24u64 {
        let op = RegisterOp::Write { value: c as i64 };
        h.push(c, op, 0, 100, RegisterOut::Written);
    }
    for c in 24..40u64 {
        let out = RegisterOut::Value(Some(1000 + c as i64));
        h.push(c, RegisterOp::Read, 0, 100, out);
    }
    h
}
