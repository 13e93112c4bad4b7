//! Absurd argument values: each is refused with a message naming the option, or (a timeout past
//! a century) means no deadline; none panics, none is silently changed into another value.

use super::{data, stateprop, stderr, stdout};
use std::ffi::OsString;

/// Runs `check` on a small linearizable log with `extra` options.
fn check_with(extra: &[&str]) -> std::process::Output {
    let good = data("jepsen/etcd_002.log");
    let mut args = vec!["check", "--model", "cas-register"];
    args.extend_from_slice(extra);
    args.push(&good);
    stateprop(&args)
}

#[test]
fn huge_timeouts_mean_no_deadline_and_do_not_panic() {
    for timeout in [
        "99999999999999999999999s",
        "10000000000000000000s",
        "18446744073709551616",
        "3155760001",
        "99999999999999999999999h",
        &"9".repeat(400),
    ] {
        let o = check_with(&["--timeout", timeout]);
        assert_eq!(o.status.code(), Some(0), "{timeout}: {}", stderr(&o));
        assert!(stdout(&o).ends_with(": linearizable\n"), "{timeout}");
        assert_eq!(stderr(&o), "", "{timeout}");
    }
    // Ordinary ones still bound the check: the kv corpus cannot be decided in a millisecond.
    for timeout in ["1ms", "0.001", "0s", ".001s"] {
        let o = stateprop(&[
            "check",
            "--model",
            "kv",
            "--timeout",
            timeout,
            &data("kv/c50-ok.txt"),
        ]);
        assert!(
            stdout(&o).contains("unknown (the time budget ran out)"),
            "{timeout}"
        );
        assert_eq!(o.status.code(), Some(2), "{timeout}");
    }
}

#[test]
fn bad_timeouts_are_refused_naming_the_option() {
    for (timeout, why) in [
        ("-1s", "a duration cannot be negative"),
        ("", "no number"),
        ("s", "no number"),
        ("1.2.3s", "not a number"),
        (".", "not a number"),
        ("10 s", "unknown unit ` s`"),
        ("5d", "unknown unit `d`"),
        ("1e9s", "unknown unit `e9s`"),
        ("NaN", "no number"),
        ("inf", "no number"),
        ("１０s", "no number"),
        ("10ｓ", "unknown unit `ｓ`"),
    ] {
        let o = check_with(&["--timeout", timeout]);
        assert_eq!(o.status.code(), Some(2), "{timeout:?}");
        let err = stderr(&o);
        // clap names option and value; the reason is stateprop::units'.
        assert!(
            err.starts_with(&format!(
                "stateprop: invalid value '{timeout}' for '--timeout <DURATION>': {why}"
            )),
            "{timeout:?}: {err}"
        );
        assert_eq!(stdout(&o), "");
    }
}

#[test]
fn memory_caps_are_checked_not_wrapped() {
    for (size, why) in [
        // 2^34 GiB is 2^64 bytes: it used to wrap to a cap of 0.
        ("17179869184GiB", "more than the 18446744073709551615 bytes"),
        ("18446744073709551616", "more than the"),
        ("99999999999999999999999", "more than the"),
        ("16777216TiB", "more than the"),
        ("0", "a cap of 0 bytes"),
        ("0GiB", "a cap of 0 bytes"),
        ("-1GiB", "a size cannot be negative"),
        ("", "no number"),
        ("GiB", "no number"),
        ("1.5GiB", "a whole number is needed"),
        ("2PiB", "unknown unit `PiB`"),
        ("2 GiB", "unknown unit ` GiB`"),
        ("２GiB", "no number"),
    ] {
        let o = check_with(&["--max-memory", size]);
        assert_eq!(o.status.code(), Some(2), "{size:?}");
        let err = stderr(&o);
        assert!(
            err.starts_with(&format!(
                "stateprop: invalid value '{size}' for '--max-memory <SIZE>': {why}"
            )),
            "{size:?}: {err}"
        );
    }
    // The largest cap that fits is accepted, as are the units.
    for size in [
        "18446744073709551615",
        "16777215TiB",
        "2gib",
        "512MiB",
        "300000k",
    ] {
        let o = check_with(&["--max-memory", size]);
        assert_eq!(o.status.code(), Some(0), "{size}: {}", stderr(&o));
    }
}

#[test]
fn initial_values_outside_i64_are_refused() {
    for initial in [
        "9223372036854775808",
        "-9223372036854775809",
        "",
        "0x10",
        "NIL",
        "1.0",
    ] {
        let o = check_with(&["--initial", initial]);
        assert_eq!(o.status.code(), Some(2), "{initial:?}");
        assert!(
            stderr(&o).starts_with(&format!(
                "stateprop: invalid value '{initial}' for '--initial <V>': expected nil or an \
                 integer from -9223372036854775808 to 9223372036854775807"
            )),
            "{initial:?}: {}",
            stderr(&o)
        );
    }
    for initial in ["nil", "-9223372036854775808", "9223372036854775807", "+4"] {
        let o = check_with(&["--initial", initial]);
        assert!(
            matches!(o.status.code(), Some(0 | 1)),
            "{initial}: {}",
            stderr(&o)
        );
    }
}

#[test]
fn version_prints_the_crate_version() {
    for flag in ["--version", "-V", "version"] {
        let o = stateprop(&[flag]);
        assert_eq!(
            stdout(&o),
            format!("stateprop {}\n", env!("CARGO_PKG_VERSION"))
        );
        assert_eq!(o.status.code(), Some(0));
    }
    let o = stateprop(&["check", "--version"]);
    assert_eq!(
        stdout(&o),
        format!("stateprop {}\n", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn quoted_arguments_are_escaped_on_one_line() {
    let o = stateprop(&["check", "--model", "kv\u{1b}[2J\r\nx", "f"]);
    let err = stderr(&o);
    let first = err.lines().next().unwrap();
    assert_eq!(
        first,
        "stateprop: invalid value 'kv\\u{1b}[2J\\r\\nx' for '--model <MODEL>'"
    );
    assert!(!err.contains('\u{1b}') && !err.contains('\r'));
    // (An argument cannot hold a NUL byte: the system ends it there.)
    let o = stateprop(&["\u{7}\u{85}bell"]);
    assert!(
        stderr(&o).starts_with("stateprop: unrecognized subcommand '\\u{7}\\u{85}bell'"),
        "{}",
        stderr(&o)
    );
}

#[cfg(unix)]
#[test]
fn arguments_that_are_not_utf8_do_not_panic() {
    use std::os::unix::ffi::OsStringExt;
    let bytes = |b: &[u8]| OsString::from_vec(b.to_vec());
    // A file name need not be UTF-8: it is read (here: it does not exist) and named, escaped.
    let o = stateprop(&[
        OsString::from("check"),
        OsString::from("--model"),
        OsString::from("kv"),
        bytes(b"/no/such/\xff\x1b.edn"),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).starts_with("stateprop: /no/such/\u{fffd}\\u{1b}.edn: cannot read"),
        "{}",
        stderr(&o)
    );
    // Any other value must be text.
    for args in [
        vec![bytes(b"\xff")],
        vec![
            bytes(b"check"),
            bytes(b"--model"),
            bytes(b"k\xffv"),
            bytes(b"f"),
        ],
        vec![bytes(b"check"), bytes(b"--\xff"), bytes(b"f")],
        vec![
            bytes(b"check"),
            bytes(b"--timeout"),
            bytes(b"1\xffs"),
            bytes(b"f"),
        ],
    ] {
        let o = stateprop(&args);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        assert!(stderr(&o).starts_with("stateprop: "), "{args:?}");
    }
}
