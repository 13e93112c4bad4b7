//! One plan, two sizes: the function `examples/stress_store.rs` runs at full size runs here on
//! the same plan file, shortened; and `stress::main_with`, the example's `main`, reads the plan
//! file and the command line's overrides and answers with the right exit code and message.

// The example itself, so the test runs its very function; it brings its own copy of
// `stress_support/stores.rs`, whose types are its own.
#[path = "../../examples/stress_store.rs"]
#[allow(dead_code, clippy::duplicate_mod)]
mod stress_store;

use stateprop::stress::{
    main_with, GrowthSource, MainExit, PlanError, ProgressMode, StressPlan, StressResult,
    StressVerdict, EXIT_FAIL, EXIT_PASS, EXIT_USAGE,
};
use std::cell::Cell;
use std::path::PathBuf;
use stress_store::store_run;

const PLAN: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/examples/stress_store.plan.toml"
);

#[test]
fn the_example_function_runs_its_plan_file_shortened() {
    let plan = StressPlan::from_file(PLAN)
        .unwrap()
        .with_operations(200_000);
    let result = store_run(plan.progress(ProgressMode::Quiet)).unwrap();
    assert!(result.passed(), "{}", result.text());
    assert_eq!(result.operations, 200_000);
    // The file's plan, not a default: its seed, mix, key space and limit reached the run.
    assert_eq!(result.plan.seed, Some(20261201));
    assert_eq!(result.plan.mix.get("Delete"), Some(&2));
    assert_eq!(result.plan.params.get("keys"), Some(&10_000));
    assert_eq!(result.plan.limits.max_growth_per_million, Some(65_536.0));
    // The growth limit was checked, by the gauge, on samples after the warm-up.
    assert_eq!(result.growth.source, GrowthSource::Gauge);
    assert!(result.growth.samples >= 10, "{:?}", result.growth);
    assert!(result.growth.bytes_per_million.is_some());
}

/// Runs `main_with` on `args` with a function that records the plan it was given and returns
/// a result with `verdict`, without running anything; `None` if the function was not called.
fn recorded(args: &[&str], verdict: StressVerdict) -> (MainExit, Option<StressPlan>) {
    let got = Cell::new(None);
    let exit = main_with(args, |plan: StressPlan| {
        got.set(Some(plan.clone()));
        let mut result = StressResult::new(plan, 1);
        result.verdict = verdict;
        Ok(result)
    });
    (exit, got.into_inner())
}

/// `main_with` on `args` must refuse them with exit code 2 and a message containing each of
/// `says`, without calling the function; returns the message.
fn refused(args: &[&str], says: &[&str]) -> String {
    let (exit, ran) = recorded(args, StressVerdict::Pass);
    let message = exit.message.clone().unwrap_or_default();
    assert_eq!(exit.code, EXIT_USAGE, "{args:?}: {message}");
    assert!(ran.is_none(), "{args:?}: the function ran");
    assert!(message.starts_with("stateprop: "), "{message}");
    for s in says {
        assert!(message.contains(s), "{args:?}: `{s}` not in: {message}");
    }
    message
}

#[test]
fn each_override_reaches_the_plan_the_function_gets() {
    let file = StressPlan::from_file(PLAN).unwrap();
    let (exit, plan) = recorded(&[PLAN], StressVerdict::Pass);
    assert_eq!((exit.code, exit.message), (EXIT_PASS, None));
    assert_eq!(plan.unwrap(), file);

    let args = [
        PLAN,
        "--operations",
        "1_000_000",
        "--seed=9",
        "--threads",
        "3",
        "--result",
        "out/run.json",
        "--quiet",
    ];
    let (exit, plan) = recorded(&args, StressVerdict::Pass);
    assert_eq!(exit.code, EXIT_PASS, "{:?}", exit.message);
    let plan = plan.unwrap();
    assert_eq!(plan.operations, Some(1_000_000));
    assert_eq!(plan.seed, Some(9));
    assert_eq!(plan.threads, 3);
    assert_eq!(plan.result_path, Some(PathBuf::from("out/run.json")));
    assert_eq!(plan.progress, Some(ProgressMode::Quiet));
    // What no flag names stays the file's.
    assert_eq!(plan.warmup, file.warmup);
    assert_eq!(plan.mix, file.mix);
    assert_eq!(plan.params, file.params);
    assert_eq!(exit.plan.as_ref(), Some(&plan));
}

#[test]
fn a_length_on_the_command_line_replaces_the_plans() {
    let (_, plan) = recorded(&[PLAN, "--duration", "2.5"], StressVerdict::Pass);
    let plan = plan.unwrap();
    assert_eq!((plan.operations, plan.duration_secs), (None, Some(2.5)));
    let args = [PLAN, "--duration=2.5", "--operations=400000"];
    let (_, plan) = recorded(&args, StressVerdict::Pass);
    let plan = plan.unwrap();
    assert_eq!(
        (plan.operations, plan.duration_secs),
        (Some(400_000), Some(2.5))
    );
    // A plan bounded by time, asked for a count: the count alone bounds the run.
    let path = crate::plan_file("store-plan", "timed.toml", "duration_secs = 600.0\n");
    let file = path.display().to_string();
    let (_, plan) = recorded(&[&file, "--operations", "40"], StressVerdict::Pass);
    let _ = std::fs::remove_file(&path);
    let plan = plan.unwrap();
    assert_eq!((plan.operations, plan.duration_secs), (Some(40), None));
}

#[test]
fn a_failed_limit_mismatch_or_undecided_round_exits_1() {
    for verdict in [
        StressVerdict::Mismatch,
        StressVerdict::LimitBroken,
        StressVerdict::Undecided,
    ] {
        let (exit, _) = recorded(&[PLAN], verdict);
        assert_eq!(exit.code, EXIT_FAIL, "{verdict:?}");
        assert_eq!(exit.result.unwrap().verdict, verdict);
    }
}

#[test]
fn the_example_main_passes_its_plan_and_fails_a_run_too_short_to_measure_growth() {
    let exit = main_with([PLAN, "--operations", "150000", "--quiet"], store_run);
    let result = exit.result.unwrap();
    assert_eq!(exit.code, EXIT_PASS, "{}", result.text());
    assert_eq!(result.operations, 150_000);

    // Shorter than the warm-up: refused before it runs, naming the warm-up.
    let exit = main_with([PLAN, "--operations", "5000", "--quiet"], store_run);
    assert_eq!(exit.code, EXIT_USAGE);
    assert!(exit.result.is_none());
    let message = exit.message.unwrap();
    // Naming the flag that made the run too short, not only the file's warm-up.
    assert!(
        message.starts_with(
            "stateprop: --operations 5000: `warmup` is 100000 but `operations` is 5000"
        ),
        "{message}"
    );

    // Past the warm-up by less than a sample: the limited growth cannot be measured, which
    // must not pass.
    let exit = main_with([PLAN, "--operations", "105000", "--quiet"], store_run);
    let result = exit.result.unwrap();
    assert_eq!(exit.code, EXIT_FAIL, "{}", result.text());
    assert_eq!(result.verdict, StressVerdict::LimitBroken);
    assert!(result
        .text()
        .contains("memory growth could not be measured"));
}

#[test]
fn bad_flags_and_numbers_are_refused_naming_the_flag() {
    refused(&[PLAN, "--opertions", "5"], &["unknown flag `--opertions`"]);
    refused(&[PLAN, "-q"], &["unknown flag `-q`"]);
    refused(&[PLAN, "--quiet=yes"], &["--quiet takes no value"]);
    refused(
        &[PLAN, "--operations", "ten"],
        &["--operations ten", "whole number"],
    );
    refused(
        &[PLAN, "--operations=-5"],
        &["--operations -5", "whole number"],
    );
    refused(&[PLAN, "--seed", "0x10"], &["--seed 0x10", "whole number"]);
    refused(
        &[PLAN, "--threads", "5000000000"],
        &["--threads 5000000000"],
    );
    refused(
        &[PLAN, "--duration", "soon"],
        &["--duration soon", "seconds"],
    );
    refused(&[PLAN, "--seed"], &["--seed needs a value"]);
    refused(
        &[PLAN, "--seed", "1", "--seed", "2"],
        &["--seed is given twice"],
    );
    refused(&["--operations", "5"], &["no plan file given"]);
    // A flag where a value belongs is a forgotten value, not a path named `--quiet`.
    refused(
        &[PLAN, "--result", "--quiet"],
        &["--result needs a value, not the flag `--quiet`"],
    );
    refused(
        &[PLAN, "--seed", "--threads", "2"],
        &["--seed needs a value, not the flag `--threads`"],
    );
    refused(&[PLAN, "other.toml"], &["one plan file", "other.toml"]);
}

#[test]
fn overrides_are_checked_as_the_plan_files_values_are() {
    // The same refusals a file's `"threads": 0` or `duration_secs = -1` gets, naming the flag.
    refused(
        &[PLAN, "--threads", "0"],
        &["stateprop: --threads 0: `threads` is 0: give at least 1"],
    );
    refused(
        &[PLAN, "--threads", "2000"],
        &["--threads 2000: `threads` is 2000: at most"],
    );
    refused(
        &[PLAN, "--duration", "-1"],
        &["--duration -1: `duration_secs` is -1.0"],
    );
    refused(
        &[PLAN, "--duration", "inf"],
        &["--duration inf: `duration_secs`"],
    );
    refused(
        &[PLAN, "--operations", "5000000000"],
        &["--operations 5000000000: `operations` is past 4294967295"],
    );
    let path = crate::plan_file("store-plan", "zero.json", r#"{ "threads": 0 }"#);
    let file = path.display().to_string();
    let message = refused(&[&file], &["`threads` is 0: give at least 1"]);
    let _ = std::fs::remove_file(&path);
    assert!(
        message.starts_with(&format!("stateprop: {file}:1: ")),
        "{message}"
    );
}

#[test]
fn a_plan_error_from_the_run_exits_2_naming_the_flag_that_caused_it() {
    // A sequential store refuses threads above 1 when it starts: the flag set them.
    let exit = main_with([PLAN, "--threads", "4", "--quiet"], store_run);
    let message = exit.message.unwrap();
    assert_eq!(exit.code, EXIT_USAGE, "{message}");
    assert!(
        message.starts_with("stateprop: --threads 4: `threads` is 4: a sequential"),
        "{message}"
    );
    assert!(exit.result.is_none());

    // An error about a value the file set names the file (and its line, when the plan knows it).
    let text = "operations = 10\nmix = { Put = 1, Scan = 2 }\n";
    let path = crate::plan_file("store-plan", "scan.toml", text);
    let file = path.display().to_string();
    let exit = main_with([file.as_str(), "--quiet"], store_run);
    let _ = std::fs::remove_file(&path);
    let message = exit.message.unwrap();
    assert_eq!(exit.code, EXIT_USAGE, "{message}");
    assert!(
        message.starts_with(&format!("stateprop: {file}:2: ")),
        "{message}"
    );
    assert!(message.contains("the rule `Scan`"), "{message}");
}

#[test]
fn a_param_the_example_refuses_exits_2_naming_its_line() {
    for keys in ["0", "-5", "5000000000"] {
        let text = format!("operations = 10\n\n[params]\nkeys = {keys}\n");
        let path = crate::plan_file("store-plan", &format!("keys{keys}.toml"), &text);
        let file = path.display().to_string();
        let exit = main_with([file.as_str(), "--quiet"], store_run);
        let _ = std::fs::remove_file(&path);
        let message = exit.message.unwrap();
        assert_eq!(exit.code, EXIT_USAGE, "{message}");
        assert!(
            message.starts_with(&format!(
                "stateprop: {file}:4: `params.keys` is {keys}: give 1 to"
            )),
            "{message}"
        );
    }
}

#[test]
fn a_bad_or_missing_plan_file_exits_2_naming_file_and_line() {
    let missing = "/nonexistent/stress.plan.toml";
    refused(&[missing], &[missing, "cannot read the stress plan"]);
    let path = crate::plan_file("store-plan", "typo.toml", "seed = 1\nopertions = 10\n");
    let file = path.display().to_string();
    let message = refused(
        &[&file, "--operations", "5"],
        &["unknown field `opertions`"],
    );
    let _ = std::fs::remove_file(&path);
    assert!(
        message.starts_with(&format!("stateprop: {file}:2: ")),
        "{message}"
    );
    // A function's own refusal (the example's key space) is passed on as it is.
    let exit = main_with([PLAN], |_: StressPlan| -> Result<StressResult, PlanError> {
        Err(PlanError {
            path: None,
            line: None,
            message: "`params.keys` is -1".into(),
        })
    });
    assert_eq!(exit.code, EXIT_USAGE);
    assert_eq!(
        exit.message.as_deref(),
        Some("stateprop: stress plan: `params.keys` is -1")
    );
}

#[test]
fn help_prints_the_flags_and_exits_0_without_running() {
    for args in [&["--help"][..], &[PLAN, "-h"], &[PLAN, "--bogus", "--help"]] {
        let (exit, ran) = recorded(args, StressVerdict::Pass);
        assert_eq!(exit.code, EXIT_PASS, "{args:?}");
        assert!(ran.is_none(), "{args:?}");
        let usage = exit.message.unwrap();
        for flag in [
            "PLAN_FILE",
            "--operations N",
            "--duration SECS",
            "--seed N",
            "--threads N",
            "--result PATH",
            "--quiet",
            "--help",
        ] {
            assert!(usage.contains(flag), "{flag} missing from:\n{usage}");
        }
        assert!(
            usage.lines().all(|l| l.starts_with("stateprop:")),
            "{usage}"
        );
    }
}

/// The child side of `flags_win_over_the_environment`: the example's main under variables
/// that name another seed and another result file.
#[test]
#[ignore = "run as a child process by flags_win_over_the_environment"]
fn child_runs_main_with_seed_and_result_flags() {
    let out = std::env::var("STATEPROP_TEST_FLAG_RESULT").unwrap();
    let exit = main_with(
        [
            PLAN,
            "--operations",
            "150000",
            "--seed",
            "7",
            "--result",
            &out,
            "--quiet",
        ],
        store_run,
    );
    let result = exit.result.unwrap();
    assert_eq!(exit.code, EXIT_PASS, "{}", result.text());
    assert_eq!(result.seed, 7);
}

#[test]
fn flags_win_over_the_environment() {
    let dir = std::env::temp_dir().join(format!("stateprop-flags-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (flag_path, env_path) = (dir.join("flag.json"), dir.join("env.json"));
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--ignored",
            "--exact",
            "store_plan::child_runs_main_with_seed_and_result_flags",
            "--test-threads=1",
        ])
        .env("STATEPROP_SEED", "99")
        .env("STATEPROP_STRESS_RESULT", &env_path)
        .env("STATEPROP_TEST_FLAG_RESULT", &flag_path)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "{}{stderr}",
        String::from_utf8_lossy(&out.stdout)
    );
    let saved = StressResult::read(&flag_path).unwrap();
    assert_eq!(saved.seed, 7);
    assert!(!env_path.exists(), "the variable's path was written too");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_result_that_cannot_be_written_exits_1() {
    let missing = std::env::temp_dir()
        .join(format!("stateprop-main-unwritten-{}", std::process::id()))
        .join("no-such-dir")
        .join("x.json");
    let missing = missing.display().to_string();
    let args = [
        PLAN,
        "--operations",
        "150000",
        "--result",
        &missing,
        "--quiet",
    ];
    let exit = main_with(args, store_run);
    let result = exit.result.unwrap();
    assert_eq!(result.verdict, StressVerdict::Pass);
    assert_eq!(exit.code, EXIT_FAIL, "{}", result.text());
    assert!(
        result.text().contains("result not written"),
        "{}",
        result.text()
    );
}
