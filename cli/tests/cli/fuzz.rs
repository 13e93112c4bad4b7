//! The command line under generated absurd arguments and files: every run ends with status 0, 1
//! or 2, never a panic (101); a failure says why on stderr, in one-line `stateprop:` messages.
//!
//! About 150 runs of the built binary on small inputs, a few seconds in all.

use super::{data, stderr, stdout};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use std::ffi::OsString;
use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;

/// Files to feed it, all copies in a scratch directory: `-o` may be given any of them.
fn files() -> &'static [String] {
    static FILES: OnceLock<Vec<String>> = OnceLock::new();
    FILES.get_or_init(|| {
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("cli-fuzz");
        std::fs::create_dir_all(&dir).unwrap();
        let mut garbage = vec![0u8; 600];
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        for b in &mut garbage {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            *b = x as u8;
        }
        let etcd = std::fs::read(data("jepsen/etcd_002.log")).unwrap();
        let kv = std::fs::read(data("kv/c01-ok.txt")).unwrap();
        let mut with_bom = b"\xef\xbb\xbf".to_vec();
        with_bom.extend_from_slice(&kv);
        let mut half_utf8 = etcd[..200].to_vec();
        half_utf8.extend_from_slice(b"\xe2\x82");
        let contents: Vec<(&str, Vec<u8>)> = vec![
            ("etcd.log", etcd),
            ("kv.txt", kv),
            ("bom.edn", with_bom),
            ("empty.json", Vec::new()),
            ("empty", Vec::new()),
            ("garbage.edn", garbage.clone()),
            ("garbage", garbage),
            ("half.log", half_utf8),
            (
                "ctl.json",
                b"[{\"type\":\"invoke\",\"client\":0,\"op\":\"\x1b[2J\"}]".to_vec(),
            ),
            ("deep.edn", "[".repeat(50_000).into_bytes()),
            (
                "huge-process.edn",
                b"{:process 99999999999999999999999999999999999999999, :type :invoke, :f :read}"
                    .to_vec(),
            ),
        ];
        let mut paths: Vec<String> = contents
            .into_iter()
            .map(|(name, bytes)| {
                let path = dir.join(name);
                std::fs::write(&path, bytes).unwrap();
                path.to_str().unwrap().to_string()
            })
            .collect();
        paths.push(dir.to_str().unwrap().to_string()); // a directory
        paths.push("/dev/null".to_string());
        paths.push(dir.join("missing.edn").to_str().unwrap().to_string());
        paths.push(
            dir.join("no/such/dir/out.html")
                .to_str()
                .unwrap()
                .to_string(),
        );
        paths
    })
}

/// One argument: an option, a value for one, a file, or noise.
fn argument() -> impl Strategy<Value = OsString> {
    let words = prop::sample::select(vec![
        "check",
        "render",
        "help",
        "--version",
        "-V",
        "--model",
        "-m",
        "--format",
        "-f",
        "--initial",
        "--explain",
        "--json",
        "--timeout",
        "--max-memory",
        "-o",
        "--output",
        "-h",
        "--timeout=",
        "--model=kv",
        "--json=1",
        "--",
        "-",
        "---",
        "-x",
        "register",
        "cas-register",
        "kv",
        "counter",
        "set",
        "queue",
        "json",
        "jepsen",
        "edn",
        "nil",
        "0",
        "-1",
        "",
        " ",
        "1ms",
        "2s",
        "10m",
        "1h",
        "0s",
        "99999999999999999999999s",
        "10000000000000000000s",
        "17179869184GiB",
        "18446744073709551616",
        "1.5GiB",
        "2PiB",
        "NaN",
        "inf",
        "-inf",
        "1e308",
        "0x10",
        "9223372036854775808",
        "-9223372036854775809",
        "１０s",
        "é",
        "\u{202e}kv",
        "\u{1b}[2J",
        "\r\n",
        "\t",
        "%s%n",
        "x=y",
    ])
    .prop_map(OsString::from);
    let file = prop::sample::select(files().to_vec()).prop_map(OsString::from);
    let noise = prop::collection::vec(any::<u8>(), 0..12).prop_map(|bytes| {
        #[cfg(unix)]
        {
            use std::os::unix::ffi::OsStringExt;
            OsString::from_vec(bytes.into_iter().filter(|&b| b != 0).collect())
        }
        #[cfg(not(unix))]
        {
            OsString::from(String::from_utf8_lossy(&bytes).replace('\0', ""))
        }
    });
    let digits = "[0-9]{15,40}(ms|s|m|h|GiB|TiB|k|)".prop_map(OsString::from);
    prop_oneof![6 => words, 3 => file, 1 => noise, 1 => digits]
}

/// A command line: mostly a well-formed start, so the runs reach the file handling.
fn command_line() -> impl Strategy<Value = Vec<OsString>> {
    let start = prop::sample::select(vec![
        vec!["check", "--model", "cas-register"],
        vec!["check", "--model", "kv"],
        vec!["check", "--model", "register", "--timeout", "2s"],
        vec!["render", "--model", "kv", "-o"],
        vec!["check"],
        vec![],
    ]);
    (start, prop::collection::vec(argument(), 0..7))
        .prop_map(|(start, rest)| start.into_iter().map(OsString::from).chain(rest).collect())
}

#[test]
fn absurd_command_lines_never_panic_and_always_explain() {
    let mut runner = TestRunner::new(Config {
        cases: 150,
        failure_persistence: None,
        ..Config::default()
    });
    files();
    runner
        .run(&command_line(), |args| {
            // In the scratch directory: `-o` may be given any word, and writes there.
            let o = Command::new(env!("CARGO_BIN_EXE_stateprop"))
                .args(&args)
                .current_dir(PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("cli-fuzz"))
                .output()
                .expect("run stateprop");
            let (out, err) = (stdout(&o), stderr(&o));
            let code = o.status.code();
            prop_assert!(
                matches!(code, Some(0..=2)),
                "{args:?} ended with {:?}\nstdout: {out}\nstderr: {err}",
                o.status
            );
            // Status 2 is a refusal (said on stderr) or an unknown verdict (said on stdout).
            if code == Some(2) && !out.contains(": unknown (") {
                prop_assert!(err.starts_with("stateprop: "), "{args:?}: {err}");
            }
            // Every message is on its own line: no raw control character survives, in ours or in
            // the lines clap adds (usage, possible values).
            for line in err.lines() {
                prop_assert!(!line.chars().any(char::is_control), "{args:?}: {line:?}");
            }
            Ok(())
        })
        .unwrap();
}
