// Histories that the explanation tests check through the library and the command's tests check
// through the binary: kept in one place so both see the same violations. Included with `#[path]`.

use serde_json::json;
use stateprop::history::History;
use stateprop::models::{RegisterOp, RegisterOut};

/// One event per line: client 0 writes 1, 2, 3, …, client 1 reads each value back, and at the
/// end client 2 reads a value overwritten long before: a stale read.
pub fn long_history(writes: i64) -> (String, usize) {
    let mut events = Vec::new();
    let mut time = 1_000_000u64;
    let mut push = |events: &mut Vec<serde_json::Value>, mut e: serde_json::Value| {
        time += 7;
        e["time"] = json!(time);
        e["node"] = json!("n1");
        events.push(e);
    };
    for v in 1..=writes {
        push(
            &mut events,
            json!({"type": "invoke", "client": 0, "op": {"Write": {"value": v}}}),
        );
        push(
            &mut events,
            json!({"type": "ok", "client": 0, "output": "Written"}),
        );
        push(
            &mut events,
            json!({"type": "invoke", "client": 1, "op": "Read"}),
        );
        push(
            &mut events,
            json!({"type": "ok", "client": 1, "output": {"Value": v}}),
        );
    }
    push(
        &mut events,
        json!({"type": "invoke", "client": 2, "op": "Read"}),
    );
    push(
        &mut events,
        json!({"type": "ok", "client": 2, "output": {"Value": 3}}),
    );
    let lines: Vec<String> = events.iter().map(|e| e.to_string()).collect();
    let text = format!("[\n{}\n]\n", lines.join(",\n"));
    // The stale read's invocation is the second to last event, on the second to last line of
    // events (line 1 is the bracket).
    (text, events.len())
}

/// Sequential writes 1..=20 by client 0, each read back by client 1, except two stale reads:
/// one early (of 1 after 2 was written), one late (of 15 after 18 was written).
pub fn two_faults() -> History<RegisterOp, RegisterOut> {
    let mut h = History::new();
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
