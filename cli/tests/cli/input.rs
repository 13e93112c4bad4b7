//! History files as they come: byte-order marks, bytes that are not UTF-8, control characters,
//! and where each kind of message goes (verdicts to stdout, errors to stderr).

use super::{data, scratch, stateprop, stderr, stdout};

const BOM: &str = "\u{feff}";

const JSON: &str = r#"[{"type": "invoke", "client": 0, "op": {"Write": {"value": 3}}},
 {"type": "ok", "client": 0, "output": "Written"},
 {"type": "invoke", "client": 1, "op": "Read"},
 {"type": "ok", "client": 1, "output": {"Value": 3}}]"#;

const EDN: &str = "{:process 0, :type :invoke, :f :write, :value 3}
{:process 0, :type :ok, :f :write, :value 3}
{:process 1, :type :invoke, :f :read, :value nil}
{:process 1, :type :ok, :f :read, :value 3}
";

const ETCD: &str = "INFO  jepsen.util - 0\t:invoke\t:write\t3
INFO  jepsen.util - 0\t:ok\t:write\t3
INFO  jepsen.util - 1\t:invoke\t:read\tnil
INFO  jepsen.util - 1\t:ok\t:read\t3
";

#[test]
fn a_byte_order_mark_is_skipped_in_every_format() {
    // With the extension, and without it (the format is then guessed from the content).
    for (name, text) in [
        ("bom.json", JSON),
        ("bom.edn", EDN),
        ("bom.log", ETCD),
        ("bom-json.txt", JSON),
        ("bom-edn.txt", EDN),
        ("bom-etcd.txt", ETCD),
    ] {
        let path = scratch(name, format!("{BOM}{text}"));
        let p = path.to_str().unwrap();
        let o = stateprop(&["check", "--model", "cas-register", p]);
        assert_eq!(stdout(&o), format!("{p}: linearizable\n"), "{}", stderr(&o));
        assert_eq!(o.status.code(), Some(0));
    }
    let path = scratch("bom-kv.txt", format!("{BOM}{}", kv_text()));
    let o = stateprop(&["check", "--model", "kv", path.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
}

/// A small Porcupine kv log that is not linearizable.
fn kv_text() -> String {
    std::fs::read_to_string(data("kv/c01-bad.txt")).unwrap()
}

#[test]
fn invalid_utf8_names_the_line_and_column() {
    let mut bytes = EDN.as_bytes().to_vec();
    // Line 3, after `{:process 1, ` (13 characters): a Latin-1 é.
    let at = EDN.match_indices('\n').nth(1).unwrap().0 + 1 + 13;
    bytes.insert(at, 0xe9);
    let path = scratch("latin1.edn", &bytes);
    let p = path.to_str().unwrap();
    let o = stateprop(&["check", "--model", "cas-register", p]);
    assert_eq!(
        stderr(&o),
        format!(
            "stateprop: {p}:3: invalid UTF-8: byte 0xE9 at column 14; a history file must be \
             UTF-8 text\n"
        )
    );
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn control_characters_in_a_file_are_escaped_in_one_line_errors() {
    for (name, text, model) in [
        (
            "ctl.edn",
            "{:process 0, :type :invoke, :f :wr\u{1b}ite, :value 3}\n",
            "cas-register",
        ),
        (
            "ctl.log",
            "INFO  jepsen.util - 0\t:inv\u{1b}oke\t:read\tnil\n",
            "cas-register",
        ),
        (
            "ctl.json",
            "[{\"type\": \"invoke\", \"client\": 0, \"op\": \"Re\\u001bad\"}]",
            "cas-register",
        ),
        (
            "ctl-kv.edn",
            "{:process 0 :type :invoke :f :put :key \"\u{0}\" :value [\u{7}]}",
            "kv",
        ),
        (
            "ctl-name\u{1b}.edn",
            "{:process 0, :type :nope, :f :read}\n",
            "cas-register",
        ),
    ] {
        let path = scratch(name, text);
        let o = stateprop(&["check", "--model", model, path.to_str().unwrap()]);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{name}: {err}");
        assert_eq!(err.lines().count(), 1, "{name}: {err:?}");
        assert!(
            err.starts_with("stateprop: ") && err.ends_with('\n'),
            "{err:?}"
        );
        assert!(
            !err.trim_end().chars().any(char::is_control),
            "{name}: a raw control character in {err:?}"
        );
        assert!(
            err.contains("\\u{") || err.contains("\\r"),
            "{name}: {err:?}"
        );
    }
}

#[test]
fn verdicts_go_to_stdout_and_errors_to_stderr_in_check_and_render() {
    let good = data("jepsen/etcd_002.log");
    let broken = scratch("half.edn", "{:process 0, :type");
    let broken = broken.to_str().unwrap();
    let o = stateprop(&["check", "--model", "cas-register", &good, broken]);
    assert_eq!(stdout(&o), format!("{good}: linearizable\n"));
    assert!(
        stderr(&o).starts_with(&format!("stateprop: {broken}:1: ")),
        "{}",
        stderr(&o)
    );
    assert_eq!(o.status.code(), Some(2));
    // --json: one object per file on stdout, the error itself on stderr too.
    let o = stateprop(&["check", "--json", "--model", "cas-register", &good, broken]);
    let objects: Vec<serde_json::Value> = stdout(&o)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(objects.len(), 2);
    assert_eq!(objects[1]["verdict"], "error");
    assert!(stderr(&o).starts_with("stateprop: "), "{}", stderr(&o));
    let out = scratch("never-written.html", "");
    let o = stateprop(&[
        "render",
        "--model",
        "cas-register",
        broken,
        "-o",
        out.to_str().unwrap(),
    ]);
    assert_eq!(stdout(&o), "");
    assert!(
        stderr(&o).starts_with(&format!("stateprop: {broken}:1: ")),
        "{}",
        stderr(&o)
    );
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn edn_process_ids_above_i64_are_read_as_the_other_formats_read_them() {
    let big = u64::MAX;
    let edn = scratch(
        "big-process.edn",
        format!(
            "{{:process {big}, :type :invoke, :f :write, :value 3}}\n\
             {{:process {big}, :type :ok, :f :write, :value 3}}\n\
             {{:process 9223372036854775808, :type :invoke, :f :read, :value nil}}\n\
             {{:process 9223372036854775808, :type :ok, :f :read, :value 3}}\n"
        ),
    );
    let etcd = scratch(
        "big-process.log",
        format!(
            "INFO  jepsen.util - {big}\t:invoke\t:write\t3\n\
             INFO  jepsen.util - {big}\t:ok\t:write\t3\n"
        ),
    );
    for path in [&edn, &etcd] {
        let o = stateprop(&["check", "--model", "cas-register", path.to_str().unwrap()]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    }
}

#[cfg(unix)]
#[test]
fn devices_are_refused_rather_than_read_forever() {
    for device in ["/dev/zero", "/dev/urandom", "/dev/null"] {
        let o = stateprop(&["check", "--model", "kv", "--format", "edn", device]);
        assert_eq!(o.status.code(), Some(2), "{device}");
        assert_eq!(
            stderr(&o),
            format!("stateprop: {device}: a device, not a history file\n")
        );
    }
}

#[test]
fn a_closed_stdout_ends_the_run_with_a_message_not_a_panic() {
    // `stateprop check … | head -0`: the reader is gone before the verdict is written.
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_stateprop"))
        .args([
            "check",
            "--model",
            "cas-register",
            &data("jepsen/etcd_002.log"),
        ])
        .stdout(writer)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).starts_with("stateprop: cannot write to standard output"),
        "{}",
        stderr(&o)
    );
}
