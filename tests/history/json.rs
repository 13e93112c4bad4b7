//! stateprop's JSON event list.

use crate::assert_error;
use stateprop::history::History;
use stateprop::import::json;
use stateprop::models::{RegisterOp, RegisterOut};

type Register = History<RegisterOp, RegisterOut>;

fn register(text: &str) -> Result<Register, stateprop::import::ImportError> {
    json::<RegisterOp, RegisterOut>(text)
}

#[test]
fn json_reads_what_to_events_writes() {
    let mut h = Register::new();
    h.push(
        0,
        RegisterOp::Write { value: 3 },
        0,
        2,
        RegisterOut::Written,
    );
    h.push(1, RegisterOp::Read, 1, 3, RegisterOut::Value(Some(3)));
    h.push_unknown(2, RegisterOp::Cas { from: 3, to: 4 }, 4);
    let text = serde_json::to_string_pretty(&h.to_events()).unwrap();
    let again = register(&text).unwrap();
    // The imported history also knows where each operation was read (its sources).
    assert_eq!(again.ops, h.ops);
    let fail = r#"[{"type": "invoke", "client": 1, "op": "Read"}, {"type": "fail", "client": 1}]"#;
    assert!(register(fail).unwrap().is_empty());
}

#[test]
fn json_errors_name_the_line_and_the_problem() {
    let invoke = r#"  {"type": "invoke", "client": 4, "op": {"Write": {"value": 1}}}"#;
    // Syntax: a missing comma.
    assert_error(
        register(&format!("[\n{invoke}\n{invoke}\n]")),
        3,
        &["expected `,` or `]`", "column 3"],
    );
    // Unterminated list.
    assert_error(
        register(&format!("[\n{invoke},\n")),
        3,
        &["the input ends too early", "EOF while parsing a value"],
    );
    // Unknown type, missing field, bad number, unknown operation.
    assert_error(
        register(r#"[{"type": "done", "client": 4}]"#),
        1,
        &[
            "unknown variant `done`",
            "expected one of `invoke`, `ok`, `fail`, `info`",
        ],
    );
    assert_error(
        register("[\n{\"type\": \"ok\",\n \"output\": \"Written\"}\n]"),
        3,
        &["missing field `client`"],
    );
    assert_error(
        register("[{\"type\": \"ok\", \"client\": -1}]"),
        1,
        &["invalid value: integer `-1`, expected u64"],
    );
    assert_error(
        register("[\n\n{\"type\": \"invoke\", \"client\": 1, \"op\": \"Incr\"}]"),
        3,
        &["unknown variant `Incr`"],
    );
    // Event sequence errors name the line where the event starts.
    let ok = r#"  {"type": "ok",
     "client": 4, "output": "Written"}"#;
    assert_error(
        // The second `ok` starts on line 5: the first spans lines 3 and 4.
        register(&format!("[\n{invoke},\n{ok},\n{ok}\n]")),
        5,
        &["event 2 (from 0): client 4 completes an operation it never invoked"],
    );
    assert_error(
        register(&format!("[\n{invoke},\n\n{invoke}\n]")),
        4,
        &["event 1 (from 0): client 4 invokes an operation while its previous one is still open"],
    );
    assert_error(
        register(&format!("[{invoke},\n{{\"type\": \"ok\", \"client\": 4}}]")),
        2,
        &["an ok event needs an \"output\""],
    );
    assert_error(register(""), 1, &["the input ends too early"]);
}

#[test]
fn json_steps_round_trip_and_bad_ones_name_the_line() {
    use stateprop::StepId;
    let mut h = Register::new();
    h.push(
        0,
        RegisterOp::Write { value: 3 },
        0,
        1,
        RegisterOut::Written,
    );
    h.push(1, RegisterOp::Read, 2, 4, RegisterOut::Value(Some(3)));
    h.push_unknown(2, RegisterOp::Read, 3);
    h.steps = vec![
        StepId::prefix(0),
        StepId::in_branch(0, 0),
        StepId::in_branch(1, 0),
    ];
    let text = serde_json::to_string_pretty(&h.to_events()).unwrap();
    assert!(text.contains(r#""step": 0"#), "{text}");
    let again = register(&text).unwrap();
    assert_eq!((&again.ops, &again.steps), (&h.ops, &h.steps));
    // The step is not shown as one of the operation's other fields.
    assert!(
        again.sources.iter().all(|s| s.fields.is_empty()),
        "{again:?}"
    );
    // Without steps, none are written or read.
    h.steps.clear();
    let text = serde_json::to_string(&h.to_events()).unwrap();
    assert!(!text.contains("step"), "{text}");
    assert!(register(&text).unwrap().steps.is_empty());
    // A failed operation leaves with its step.
    let failed = r#"[{"type": "invoke", "client": 1, "op": "Read", "step": 0},
        {"type": "fail", "client": 1},
        {"type": "invoke", "client": 1, "op": "Read", "step": 1},
        {"type": "ok", "client": 1, "output": {"Value": null}}]"#;
    assert_eq!(register(failed).unwrap().steps, [StepId::prefix(1)]);

    let read = |step: &str| format!(r#"{{"type": "invoke", "client": 1, "op": "Read"{step}}}"#);
    let ok = r#"{"type": "ok", "client": 1, "output": {"Value": null}}"#;
    let some_not_all = format!(
        "[\n{},\n{ok},\n{},\n{ok}\n]",
        read(r#", "step": 0"#),
        read("")
    );
    assert_error(
        register(&some_not_all),
        4,
        &["\"step\" on some invocations but not all"],
    );
    let twice = format!(
        "[\n{},\n{ok},\n{},\n{ok}\n]",
        read(r#", "step": {"branch": 1, "index": 2}"#),
        read(r#", "step": {"branch": 1, "index": 2}"#)
    );
    assert_error(
        register(&twice),
        4,
        &["branch 1 step 2 is the step of an earlier operation"],
    );
    let bad = format!("[\n{},\n{ok}\n]", read(r#", "step": "x""#));
    assert_error(
        register(&bad),
        2,
        &["\"step\" is \"x\"", "expected a prefix step's index"],
    );
}
