//! Stress runs end to end: bugs that exist only at scale found where they are, clean systems
//! passing their limits, bad plans refused with file and line.

#[path = "../../examples/stress_support/stores.rs"]
#[allow(dead_code)]
mod stores;

#[path = "../../examples/support/kv.rs"]
#[allow(dead_code)]
mod kv;

/// Writes a plan file `name` in the temporary folder; `kind` keeps the files of one test file
/// apart from another's.
pub fn plan_file(kind: &str, name: &str, text: &str) -> std::path::PathBuf {
    let path = std::env::temp_dir().join(format!("stateprop-{kind}-{}-{name}", std::process::id()));
    std::fs::write(&path, text).unwrap();
    path
}

/// Reads plan file `name` holding `text`, which must be refused on `line` with `problem`,
/// the message starting with the file and the line; returns the message.
pub fn refused_on_line(kind: &str, name: &str, text: &str, line: usize, problem: &str) -> String {
    let path = plan_file(kind, name, text);
    let err = stateprop::stress::StressPlan::from_file(&path).unwrap_err();
    let _ = std::fs::remove_file(&path);
    let shown = err.to_string();
    assert_eq!(err.line, Some(line), "{name}: {shown}");
    assert!(
        shown.starts_with(&format!("stateprop: {}:{line}: ", path.display())),
        "{shown}"
    );
    assert!(shown.contains(problem), "{shown}");
    shown
}

mod clean_example;
mod concurrent;
mod counters;
mod drawn;
mod growth;
mod history;
mod later_round;
mod misbehave;
mod mismatch;
mod pace;
mod plan_progress;
mod plan_toml;
mod plans;
mod printed;
mod quiet;
mod rerun;
mod store_plan;
mod vars;
mod watchdog;
