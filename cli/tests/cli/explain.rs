//! `--explain`, `--violations` and `render --max-ops` on long histories: what the command prints
//! (the explanations themselves are tested through the library in the root's tests/explain).

#[path = "../../../tests/support/explained.rs"]
mod explained;

use super::{scratch, stderr};
use explained::{long_history, two_faults};
use std::process::Command;

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
    // (Wording: clap's, since the command moved to clap; it was "--max-ops takes a number ...".)
    assert!(
        stderr(&o).starts_with(
            "stateprop: invalid value '0' for '--max-ops <N>': expected a number of at least 1"
        ),
        "{}",
        stderr(&o)
    );
}

#[test]
fn the_cli_reports_several_violations_on_request() {
    let h = two_faults();
    let text = serde_json::to_string_pretty(&h.to_events()).unwrap();
    let path = scratch("two-faults.json", &text);
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
