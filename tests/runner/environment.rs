//! `STATEPROP_*` variables: absurd values are refused with a message naming the variable, never
//! a panic deep inside the runner; tests that pin their settings ignore them.

use crate::kv::{BuggyStore, Kv};
use proptest::prelude::*;
use stateprop::{Config, Runner};
use std::collections::HashMap;

/// Every variable the library reads, from its own list, so a new one cannot be missed here.
const VARIABLES: &[&str] = Config::VARIABLES;

/// Values people type, and values nobody should.
fn absurd_value() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("18446744073709551615".to_string()),
        Just("18446744073709551616".to_string()),
        Just("99999999999999999999999s".to_string()),
        Just("10000000000000000000s".to_string()),
        Just("1e308s".to_string()),
        Just("0..=18446744073709551615".to_string()),
        Just("18446744073709551615..=18446744073709551615".to_string()),
        Just("-1".to_string()),
        Just("NaN".to_string()),
        Just("inf".to_string()),
        Just("0".to_string()),
        Just("0..0".to_string()),
        Just("..".to_string()),
        Just("0x".to_string()),
        Just("1.5.5ms".to_string()),
        "[0-9]{1,30}(ms|s|m|h|min|)?",
        "[0-9]{1,25}\\.\\.=?[0-9]{1,25}",
        "\\PC{0,12}",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn absurd_values_are_refused_by_name_or_accepted_never_a_panic(
        name in proptest::sample::select(VARIABLES),
        value in absurd_value(),
    ) {
        let vars: HashMap<&str, String> = [(name, value.clone())].into_iter().collect();
        let result = std::panic::catch_unwind(|| {
            Config::default().with_vars(|n| vars.get(n).cloned())
        });
        let Ok(result) = result else {
            return Err(TestCaseError::fail(format!("{name}={value:?} panicked")));
        };
        if let Err(message) = result {
            prop_assert!(message.contains(name), "{message}");
        }
    }
}

#[test]
fn huge_durations_and_lengths_are_refused_with_the_usual_message() {
    let with = |name: &str, value: &str| {
        Config::default().with_vars(|n| (n == name).then(|| value.to_string()))
    };
    for name in [
        "STATEPROP_DURATION",
        "STATEPROP_STEP_TIMEOUT",
        "STATEPROP_MAX_SHRINK_TIME",
    ] {
        for value in ["99999999999999999999999s", "10000000000000000000s", "1e30h"] {
            let e = with(name, value).expect_err(value);
            assert!(e.contains(&format!("{name}={value:?}")), "{e}");
        }
    }
    let e = with("STATEPROP_STEPS", "0..=18446744073709551615").unwrap_err();
    assert!(e.contains("longer than"), "{e}");
}

/// The child side of the tests below: a run that reads the environment it is given.
#[test]
#[ignore = "run as a child process by the environment tests"]
fn child_runs_with_the_environment() {
    Runner::<Kv>::new(Config::default().persist(false)).run_default::<crate::GoodStore>();
}

fn child(vars: &[(&str, &std::ffi::OsStr)]) -> std::process::Output {
    let mut command = std::process::Command::new(std::env::current_exe().unwrap());
    command.args([
        "--ignored",
        "--exact",
        "environment::child_runs_with_the_environment",
        "--nocapture",
    ]);
    for (name, _) in VARIABLES.iter().map(|n| (n, ())) {
        command.env_remove(name);
    }
    for (name, value) in vars {
        command.env(name, value);
    }
    command.output().unwrap()
}

#[cfg(unix)]
#[test]
fn a_value_that_is_not_unicode_is_an_error_not_ignored() {
    use std::os::unix::ffi::OsStrExt;
    let out = child(&[("STATEPROP_CASES", std::ffi::OsStr::from_bytes(b"\xff"))]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(
        stderr.contains("bad environment: STATEPROP_CASES=") && stderr.contains("not valid UTF-8"),
        "{stderr}"
    );
}

#[test]
fn a_run_of_no_cases_says_it_tested_nothing() {
    let out = child(&[("STATEPROP_CASES", "0".as_ref())]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("tests nothing"), "{stderr}");
    let out = child(&[("STATEPROP_STEPS", "0".as_ref())]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("tests nothing"), "{stderr}");
}

#[test]
fn ignore_env_keeps_the_settings_the_code_gives() {
    let vars: HashMap<&str, &str> = [
        ("STATEPROP_SEED", "1"),
        ("STATEPROP_CASES", "3"),
        ("STATEPROP_STEPS", "2"),
        ("STATEPROP_SWARM", "0"),
    ]
    .into_iter()
    .collect();
    let read = Config::default()
        .seed(5)
        .with_vars(|n| vars.get(n).map(|v| v.to_string()))
        .unwrap();
    assert_eq!((read.seed, read.cases, read.steps), (Some(1), 3, (2, 2)));
    // `with_env` is what the runner calls; with `ignore_env` it changes nothing, whatever the
    // process's environment holds.
    let kept = Config::default().seed(5).ignore_env().with_env().unwrap();
    assert_eq!(
        (kept.seed, kept.cases, kept.steps),
        (Some(5), 1000, (1, 32))
    );
    assert!(kept.swarm);
    // And a pinned test finds the same case whatever is exported.
    let r = Runner::<Kv>::new(Config::default().ignore_env().seed(42).persist(false))
        .run_default::<BuggyStore>();
    assert!(r.failed());
    assert_eq!(r.report.seed, 42);
}
