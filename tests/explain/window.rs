//! `--explain` shows a window around the violation, never the whole linearization.

use crate::{check, scratch, stale_among_correct};
use serde_json::json;
use stateprop::check::explain::{explain, ExplainOptions};
use stateprop::check::{Verdict, Violation};
use stateprop::models::CasRegister;
use std::process::Command;

/// One event per line: client 0 writes 1, 2, 3, …, client 1 reads each value back, and at the
/// end client 2 reads a value overwritten long before: a stale read.
fn long_history(writes: i64) -> (String, usize) {
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

#[test]
fn the_explanation_of_a_long_history_is_a_window_with_file_lines() {
    let (text, events) = long_history(2000);
    let h = stateprop::history::import::json(&text).unwrap();
    let report = check(&h, &CasRegister::default(), |_| ());
    let Verdict::Violated(v) = &report.verdict else {
        panic!("{:?}", report.verdict)
    };
    assert!(v.linearized.len() > 3000, "{}", v.linearized.len());
    let options = ExplainOptions::default().file("long.json");
    let e = explain(&h, &CasRegister::default(), &report, &options).unwrap();
    assert_eq!(e.tail.len(), 10);
    assert_eq!(e.linearized, v.linearized.len());
    let stale_line = events; // the invocation is event `events - 2`, on line `events`
    assert_eq!(
        e.blocked.location,
        format!("long.json:{}–{}", stale_line, stale_line + 1)
    );
    let text = e.to_string();
    assert!(text.lines().count() <= 45, "{text}");
    assert!(
        text.contains(&format!(
            "{} earlier ones not shown",
            v.linearized.len() - 10
        )),
        "{text}"
    );
    // Times and extra fields, as the file wrote them.
    assert!(text.contains("[t=10"), "{text}");
    assert!(text.contains("node=n1"), "{text}");
    assert!(text.contains("the model says Value(Some(2000)), but it returned Value(Some(3))"));
}

#[test]
fn the_cli_prints_a_window_not_the_linearization() {
    let (text, _) = long_history(2000);
    let path = scratch("long.json", &text);
    let out = Command::new(env!("CARGO_BIN_EXE_stateprop"))
        .args(["check", "--model", "cas-register", "--explain"])
        .args(["--minimize-time", "1s"])
        .arg(&path)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    // Before: one line per linearized operation, over 4,000 lines.
    assert!(
        stdout.lines().count() < 80,
        "{} lines",
        stdout.lines().count()
    );
    let file = path.display().to_string();
    assert!(stdout.contains(&format!("{file}:")), "{stdout}");
    assert!(stdout.contains("smallest violation found"), "{stdout}");
}

#[test]
fn nearby_operations_include_the_concurrent_ones() {
    let h = stale_among_correct();
    let report = check(&h, &CasRegister::default(), |_| ());
    let e = explain(
        &h,
        &CasRegister::default(),
        &report,
        &ExplainOptions::default(),
    )
    .unwrap();
    let Verdict::Violated(Violation { blocked, .. }) = report.verdict else {
        panic!()
    };
    assert_eq!(e.blocked.index, blocked);
    // Without sources, operations are named by index and times are the history's.
    assert_eq!(e.blocked.location, format!("operation #{blocked}"));
    assert_eq!(e.blocked.times, "13 → 14");
    // Every operation called before the blocked one returned is shown, in the linearization or
    // nearby; the later reads are not.
    let mut seen: Vec<usize> = e.tail.iter().map(|(o, _)| o.index).collect();
    seen.extend(e.nearby.iter().map(|o| o.index));
    seen.push(e.blocked.index);
    seen.sort_unstable();
    assert_eq!(seen, vec![0, 1, 2, 3], "{e}");
}

#[test]
fn render_draws_a_bounded_window_with_times_on_request_of_more() {
    let (text, _) = long_history(500);
    let path = scratch("render-long.json", &text);
    let out = path.with_extension("html");
    let run = |max: &str| {
        Command::new(env!("CARGO_BIN_EXE_stateprop"))
            .args(["render", "--model", "cas-register", "--max-ops", max])
            .arg(&path)
            .arg("-o")
            .arg(&out)
            .output()
            .unwrap()
    };
    let o = run("100");
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let html = std::fs::read_to_string(&out).unwrap();
    assert_eq!(html.matches("<div class=\"op ").count(), 100);
    assert!(html.contains("Showing 100 of 1001 operations"));
    assert!(
        html.contains("data-time=\"101"),
        "times as the file wrote them"
    );
    assert!(html.contains("data-fields=\"node=n1\""));
    let o = run("0");
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("--max-ops takes a number"));
}
