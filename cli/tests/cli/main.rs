//! The `stateprop` command line, run as a user runs it.

mod arguments;
mod compare;
mod explain;
mod fuzz;
mod help;
mod input;
mod render_sim;

#[path = "../../../examples/replicated_register.rs"]
#[allow(dead_code)]
mod register;

use std::ffi::OsStr;
use std::path::PathBuf;
use std::process::{Command, Output};

fn data(path: &str) -> String {
    format!(
        "{}/../../shared/data/porcupine/{path}",
        env!("CARGO_MANIFEST_DIR")
    )
}

fn stateprop<S: AsRef<OsStr>>(args: &[S]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_stateprop"))
        .args(args)
        .output()
        .expect("run stateprop")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn scratch(name: &str, text: impl AsRef<[u8]>) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("cli");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn verdicts_and_exit_status() {
    let bad = data("jepsen/etcd_000.log");
    let good = data("jepsen/etcd_002.log");
    let o = stateprop(&["check", "--model", "cas-register", &good]);
    assert_eq!(stdout(&o), format!("{good}: linearizable\n"));
    assert_eq!(o.status.code(), Some(0));
    let o = stateprop(&[
        "check",
        "--model",
        "cas-register",
        "--format",
        "jepsen",
        &good,
        &bad,
    ]);
    assert_eq!(
        stdout(&o),
        format!("{good}: linearizable\n{bad}: not linearizable\n")
    );
    assert_eq!(o.status.code(), Some(1));
}

#[test]
fn explain_names_the_operation_that_cannot_be_placed() {
    let bad = data("jepsen/etcd_000.log");
    let o = stateprop(&["check", "--model", "cas-register", "--explain", &bad]);
    let text = stdout(&o);
    assert!(
        text.contains("the longest linearization found has"),
        "{text}"
    );
    assert!(text.contains("cannot be placed:"), "{text}");
    assert!(text.contains("state after: CasRegister"), "{text}");
}

#[test]
fn json_output_is_one_object_per_file() {
    let bad = data("jepsen/etcd_000.log");
    let good = data("jepsen/etcd_005.log");
    let o = stateprop(&["check", "--model", "cas-register", "--json", &good, &bad]);
    let lines: Vec<serde_json::Value> = stdout(&o)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["verdict"], "linearizable");
    assert_eq!(lines[1]["verdict"], "not linearizable");
    assert!(lines[1]["violation"]["blocked"].is_u64());
    assert!(lines[1]["violation"]["explanation"].is_array());
}

#[test]
fn kv_histories_are_checked_by_key_and_c50_bad_is_decided_quickly() {
    let o = stateprop(&[
        "check",
        "--model",
        "kv",
        &data("kv/c50-bad.txt"),
        "--timeout",
        "30s",
    ]);
    assert!(
        stdout(&o).ends_with(": not linearizable\n"),
        "{}",
        stdout(&o)
    );
    assert_eq!(o.status.code(), Some(1));
    let o = stateprop(&[
        "check",
        "--model",
        "kv",
        "--format",
        "edn",
        &data("kv/c10-ok.txt"),
    ]);
    assert!(stdout(&o).ends_with(": linearizable\n"), "{}", stdout(&o));
}

#[test]
fn a_budget_ends_in_unknown_with_status_2() {
    let o = stateprop(&[
        "check",
        "--model",
        "kv",
        "--timeout",
        "1ms",
        &data("kv/c50-ok.txt"),
    ]);
    assert!(
        stdout(&o).contains(": unknown (the time budget ran out)"),
        "{}",
        stdout(&o)
    );
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn malformed_input_names_file_and_line() {
    let path = scratch(
        "broken.log",
        "INFO  jepsen.util - 0\t:invoke\t:read\tnil\nINFO  jepsen.util - 0\t:bogus\t:read\tnil\n",
    );
    let p = path.to_str().unwrap();
    let o = stateprop(&["check", "--model", "cas-register", p]);
    let text = stderr(&o);
    assert!(text.starts_with(&format!("stateprop: {p}:2: ")), "{text}");
    assert_eq!(stdout(&o), "");
    assert_eq!(o.status.code(), Some(2));
    let o = stateprop(&["check", "--model", "cas-register", "/no/such/file.log"]);
    assert!(
        stderr(&o).starts_with("stateprop: /no/such/file.log: cannot read"),
        "{}",
        stderr(&o)
    );
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn usage_errors_exit_2_with_usage() {
    for args in [
        vec!["check", "--model", "kv", "--timeout=1s=2", "x"],
        vec!["check", "--json=yes", "--model", "kv", "x"],
        vec![],
        vec!["frobnicate"],
        vec!["check", "x.log"],
        vec!["check", "--model", "stack", "x.log"],
        vec!["check", "--model", "kv"],
        vec!["check", "--model", "kv", "--timeout", "soon", "x"],
    ] {
        let o = stateprop(&args);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        // clap's conventions: the message, then the usage or where to find it.
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.starts_with("stateprop: "), "{args:?}: {err}");
        assert!(
            err.contains("Usage: stateprop") || err.contains("try '--help'"),
            "{args:?}: {err}"
        );
    }
}

#[test]
fn a_plain_register_refuses_compare_and_set_at_its_line() {
    // etcd_000.log's first compare-and-set is invoked on line 19.
    let log = data("jepsen/etcd_000.log");
    let o = stateprop(&["check", "--model", "register", &log]);
    let err = stderr(&o);
    assert!(
        err.starts_with(&format!(
            "stateprop: {log}:19: `:cas [3 0]` is a compare-and-set"
        )),
        "{err}"
    );
    assert!(err.contains("--model cas-register"), "{err}");
    assert_eq!(o.status.code(), Some(2));
    // The same in the other two formats: the line of the invocation, not of the completion.
    let edn = scratch(
        "plain.edn",
        "{:process 0, :type :invoke, :f :write, :value 1}\n\
         {:process 0, :type :ok, :f :write, :value 1}\n\
         {:process 1, :type :invoke, :f :cas, :value [1 2]}\n\
         {:process 1, :type :ok, :f :cas, :value [1 2]}\n",
    );
    let json = scratch(
        "plain.json",
        "[{\"type\": \"invoke\", \"client\": 0, \"op\": \"Read\"},\n\
          {\"type\": \"ok\", \"client\": 0, \"output\": {\"Value\": null}},\n\
          {\"type\": \"invoke\", \"client\": 0, \"op\": {\"Cas\": {\"from\": 1, \"to\": 2}}},\n\
          {\"type\": \"fail\", \"client\": 0}]",
    );
    for (path, line) in [(&edn, 3), (&json, 3)] {
        let p = path.to_str().unwrap();
        let o = stateprop(&["check", "--model", "register", p]);
        assert!(
            stderr(&o).starts_with(&format!("stateprop: {p}:{line}: ")),
            "{}",
            stderr(&o)
        );
        assert!(stderr(&o).contains("compare-and-set"), "{}", stderr(&o));
        assert_eq!(o.status.code(), Some(2));
        // A compare-and-set register takes the same file.
        let o = stateprop(&["check", "--model", "cas-register", p]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    }
}

#[test]
fn the_initial_value_is_taken_from_the_command_line() {
    let path = scratch(
        "initial.json",
        r#"[{"type": "invoke", "client": 0, "op": "Read"},
            {"type": "ok", "client": 0, "output": {"Value": 7}}]"#,
    );
    let p = path.to_str().unwrap();
    let o = stateprop(&["check", "--model", "register", p]);
    assert!(
        stdout(&o).ends_with(": not linearizable\n"),
        "{}",
        stdout(&o)
    );
    let o = stateprop(&["check", "--model", "register", "--initial", "7", p]);
    assert!(stdout(&o).ends_with(": linearizable\n"), "{}", stdout(&o));
}
