//! What clap brings: help per subcommand, shell completions, and durations and sizes read by the
//! library's parser (`stateprop::units`), the one the `STATEPROP_*` variables use.

use super::{data, stateprop, stderr, stdout};

#[test]
fn each_subcommand_has_its_help() {
    for (args, usage, option) in [
        (
            &["check", "--help"][..],
            "Usage: stateprop check",
            "--minimize-time",
        ),
        (
            &["help", "check"][..],
            "Usage: stateprop check",
            "--violations",
        ),
        (
            &["render", "-h"][..],
            "Usage: stateprop render",
            "--max-ops",
        ),
        (&["--help"][..], "Usage: stateprop <COMMAND>", "completions"),
    ] {
        let o = stateprop(args);
        assert_eq!(o.status.code(), Some(0), "{args:?}: {}", stderr(&o));
        let text = stdout(&o);
        assert!(text.contains(usage), "{args:?}: {text}");
        assert!(text.contains(option), "{args:?}: {text}");
        assert_eq!(stderr(&o), "", "{args:?}");
    }
    // Options belong to their subcommand: render has no --json.
    let o = stateprop(&["render", "--model", "kv", "--json", "f", "-o", "out.html"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).starts_with("stateprop: unexpected argument '--json'"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn completions_are_printed_for_each_shell() {
    for (shell, mark) in [
        ("bash", "_stateprop()"),
        ("zsh", "#compdef stateprop"),
        ("fish", "complete -c stateprop"),
        ("elvish", "stateprop"),
        ("powershell", "stateprop"),
    ] {
        let o = stateprop(&["completions", shell]);
        assert_eq!(o.status.code(), Some(0), "{shell}: {}", stderr(&o));
        let script = stdout(&o);
        assert!(script.contains(mark), "{shell}: {script}");
        assert!(script.contains("minimize-time"), "{shell}");
    }
    let o = stateprop(&["completions", "tcsh"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).starts_with("stateprop: invalid value 'tcsh' for '<SHELL>'"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn durations_and_sizes_are_read_as_the_library_reads_them() {
    let good = data("jepsen/etcd_002.log");
    // Units the command did not take before it shared the library's parser.
    for (option, value) in [
        ("--timeout", "1min"),
        ("--minimize-time", "0.5min"),
        ("--timeout", " 30s"),
        ("--max-memory", " 2GiB"),
    ] {
        let o = stateprop(&["check", "--model", "cas-register", option, value, &good]);
        assert_eq!(
            o.status.code(),
            Some(0),
            "{option} {value:?}: {}",
            stderr(&o)
        );
    }
    // A refusal gives the library's reason, word for word.
    for (option, value, reason) in [
        (
            "--timeout",
            "5d",
            stateprop::units::parse_duration("5d").unwrap_err(),
        ),
        (
            "--minimize-time",
            "1.2.3",
            stateprop::units::parse_duration("1.2.3").unwrap_err(),
        ),
        (
            "--max-memory",
            "1.5GiB",
            stateprop::units::parse_bytes("1.5GiB").unwrap_err(),
        ),
    ] {
        let o = stateprop(&["check", "--model", "cas-register", option, value, &good]);
        assert_eq!(o.status.code(), Some(2), "{option} {value}");
        let first = stderr(&o).lines().next().unwrap_or_default().to_string();
        assert!(first.ends_with(&format!(": {reason}")), "{first}");
        assert!(first.contains(option), "{first}");
    }
}
