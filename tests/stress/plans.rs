//! Plans as data: read from JSON, and refused with the file, the line and the problem.

use crate::stores::{CleanStore, Store};
use stateprop::stress::{Stress, StressPlan};
use std::path::PathBuf;

fn file(name: &str, text: &str) -> PathBuf {
    crate::plan_file("plan", name, text)
}

#[test]
fn a_plan_file_sets_what_it_names() {
    let path = file(
        "good.json",
        r#"{
  "operations": 3000,
  "seed": 12,
  "warmup": 100,
  "mix": { "Put": 3, "Get": 1 },
  "limits": { "max_growth_per_million": 1048576, "max_p99_us_by_rule": { "Get": 1000.0 } },
  "params": { "keys": 100, "value_bytes": 64 }
}"#,
    );
    let plan = StressPlan::from_file(&path).unwrap();
    let _ = std::fs::remove_file(&path);
    assert_eq!(plan.operations, Some(3000));
    assert_eq!(plan.param_or("keys", 0), 100);
    assert_eq!(plan.param_or("value_bytes", 0), 64);
    assert_eq!(plan.param_or("threads_of_nothing", 7), 7);
    assert_eq!(plan.window, 32, "defaults fill what the file leaves out");
    let keys = plan.param_or("keys", 0) as u32;
    let result = Stress::<Store, CleanStore>::with_initial(plan, Store::with_keys(keys))
        .ignore_env()
        .gauge(CleanStore::gauge)
        .quiet()
        .run(CleanStore::default)
        .unwrap();
    assert_eq!(result.operations, 3000);
    assert_eq!(result.seed, 12);
}

#[test]
fn bad_plan_files_are_refused_with_file_and_line() {
    let cases = [
        (
            "syntax.json",
            "{\n  \"operations\": 5,\n  \"seed\": ,\n}",
            3,
            "not a valid stress plan",
        ),
        (
            "unknown.json",
            "{\n  \"operations\": 5,\n  \"opertions\": 5\n}",
            3,
            "unknown field `opertions`",
        ),
        (
            "type.json",
            "{\n\n  \"seed\": \"seven\"\n}",
            3,
            "invalid type",
        ),
        (
            "threads.json",
            "{\n  \"operations\": 5,\n  \"threads\": 0\n}",
            3,
            "`threads` is 0",
        ),
        // Values that once panicked or aborted the process (a `Duration` past its range, a
        // buffer allocated up front) are refused by name.
        (
            "duration.json",
            "{\n  \"seed\": 1,\n  \"duration_secs\": 1e300\n}",
            3,
            "`duration_secs` is 1e300",
        ),
        (
            "window.json",
            "{\n  \"operations\": 1000,\n  \"window\": 1000000000000\n}",
            3,
            "`window` is 1000000000000: at most",
        ),
        (
            "round.json",
            "{\n  \"threads\": 2,\n  \"round\": 4294967295\n}",
            3,
            "`round` is 4294967295: at most",
        ),
        (
            "many_threads.json",
            "{\n  \"operations\": 10,\n  \"threads\": 100000\n}",
            3,
            "`threads` is 100000: at most 1024",
        ),
        (
            "limit.json",
            "{\n  \"operations\": 10,\n  \"limits\": {\n    \"max_p99_us\": -3\n  }\n}",
            4,
            "the limit `max_p99_us` is -3",
        ),
        (
            "rate.json",
            "{\n  \"operations\": 10,\n  \"rate\": 1e-300\n}",
            3,
            "`rate` is 1e-300",
        ),
    ];
    for (name, text, line, problem) in cases {
        crate::refused_on_line("plan", name, text, line, problem);
    }
}

#[test]
fn a_mix_naming_no_rule_is_refused_on_its_line() {
    let path = file(
        "rule.json",
        "{\n  \"operations\": 5,\n  \"mix\": {\n    \"Put\": 1,\n    \"Remove\": 1\n  }\n}",
    );
    let plan = StressPlan::from_file(&path).unwrap();
    let err = Stress::<Store, CleanStore>::new(plan)
        .ignore_env()
        .quiet()
        .run(CleanStore::default)
        .unwrap_err();
    let _ = std::fs::remove_file(&path);
    let shown = err.to_string();
    assert_eq!(err.line, Some(5), "{shown}");
    assert!(
        shown.contains("`mix` names the rule `Remove`, which `StoreOp` does not have (its rules: `Put`, `Get`, `Delete`)"),
        "{shown}"
    );
}

#[test]
fn a_missing_plan_file_names_itself() {
    let err = StressPlan::from_file("/nonexistent/plan.json").unwrap_err();
    assert!(err
        .to_string()
        .starts_with("stateprop: /nonexistent/plan.json: cannot read the stress plan"));
}

#[test]
fn a_result_reads_back_equal_to_the_run_of_a_plan_file() {
    let plan_path = file("roundtrip.json", "{ \"operations\": 2000, \"seed\": 3 }");
    let out = std::env::temp_dir().join(format!("stateprop-result-{}.json", std::process::id()));
    let plan = StressPlan::from_file(&plan_path).unwrap().result_path(&out);
    let result = Stress::<Store, CleanStore>::new(plan)
        .ignore_env()
        .quiet()
        .run(CleanStore::default)
        .unwrap();
    let back = stateprop::stress::StressResult::read(&out).unwrap();
    let _ = std::fs::remove_file(&plan_path);
    let _ = std::fs::remove_file(&out);
    assert_eq!(back, result);
}

/// A key's line is where the key itself is written, not the first line holding its name: a
/// path or a param that contains it, or a field of the same name elsewhere in the plan.
#[test]
fn errors_name_the_line_of_the_key_not_of_a_line_containing_its_name() {
    let cases = [
        (
            "path_first.json",
            "{\n  \"result_path\": \"/tmp/rate_run.json\",\n  \"operations\": 1000,\n  \"rate\": 0\n}",
            4,
            "`rate` is 0.0",
        ),
        (
            "param_first.json",
            "{\n  \"params\": {\"threads_x\": 1},\n  \"threads\": 0\n}",
            3,
            "`threads` is 0",
        ),
        (
            "same_param.json",
            "{\n  \"params\": { \"max_p99_us\": 5 },\n  \"limits\": {\n    \"min_throughput\": 1,\n    \"max_p99_us\": -2\n  }\n}",
            5,
            "the limit `max_p99_us` is -2",
        ),
        (
            "by_rule.json",
            "{\n  \"limits\": {\n    \"max_p99_us_by_rule\": {\n      \"Put\": 1,\n      \"Get\": -1\n    }\n  }\n}",
            5,
            "the limit `max_p99_us_by_rule` is -1",
        ),
    ];
    for (name, text, line, problem) in cases {
        crate::refused_on_line("plan", name, text, line, problem);
    }
}

/// A run that would check nothing, or a growth limit no sample could be taken for, is refused
/// before the run by the field that makes it so.
#[test]
fn zero_operations_and_a_warmup_as_long_as_the_run_are_refused_by_name() {
    let cases = [
        (
            "zero.json",
            "{\n  \"seed\": 1,\n  \"operations\": 0\n}",
            3,
            "`operations` must be at least 1",
        ),
        (
            "zero_threads.json",
            "{\n  \"threads\": 2,\n  \"operations\": 0\n}",
            3,
            "`operations` must be at least 1",
        ),
        (
            "warmup.json",
            "{\n  \"operations\": 1000,\n  \"warmup\": 1000,\n  \"limits\": { \"max_growth_per_million\": 1 }\n}",
            3,
            "`warmup` is 1000 but `operations` is 1000",
        ),
    ];
    for (name, text, line, problem) in cases {
        crate::refused_on_line("plan", name, text, line, problem);
    }
    // Without a growth limit a long warm-up costs nothing; with only a duration the count is
    // not known before the run, which reports it then.
    let path = file(
        "warmup_ok.json",
        "{ \"operations\": 10, \"warmup\": 10, \"duration_secs\": 1 }",
    );
    assert!(StressPlan::from_file(&path).is_ok());
    let timed = "{ \"duration_secs\": 0.01, \"warmup\": 100000000, \"limits\": { \"max_growth_per_million\": 1 } }";
    let path2 = file("warmup_timed.json", timed);
    assert!(StressPlan::from_file(&path2).is_ok());
    let _ = (std::fs::remove_file(&path), std::fs::remove_file(&path2));
    // The builder is held to the same rule when the run starts.
    let err = Stress::<Store, CleanStore>::new(StressPlan::operations(0))
        .ignore_env()
        .quiet()
        .run(CleanStore::default)
        .unwrap_err();
    assert!(
        err.to_string().contains("`operations` must be at least 1"),
        "{err}"
    );
}

#[test]
fn a_json_array_is_not_a_plan() {
    for (name, text, line) in [
        ("array.json", "[5000000]", 1),
        ("empty-array.json", "\n  []", 2),
        ("three.json", "[1, null, 7]", 1),
    ] {
        crate::refused_on_line("plan", name, text, line, "expected a JSON object");
    }
}

#[test]
fn a_shrink_bound_past_the_cap_is_refused_on_its_line() {
    let text = "{\n  \"operations\": 1000,\n  \"shrink_bound\": 100001\n}";
    let shown = crate::refused_on_line("plan", "bound.json", text, 3, "`shrink_bound` is 100001");
    assert!(shown.contains("at most 100000"), "{shown}");
    let path = file("bound-ok.json", "{ \"shrink_bound\": 100000 }");
    let ok = StressPlan::from_file(&path);
    let _ = std::fs::remove_file(&path);
    assert_eq!(ok.unwrap().shrink_bound, 100_000);
}

#[test]
fn a_param_refused_by_the_test_names_its_line() {
    let text = "{\n  \"operations\": 1000,\n  \"params\": {\n    \"value_bytes\": 8,\n    \"keys\": -5\n  }\n}";
    let path = file("param.json", text);
    let plan = StressPlan::from_file(&path).unwrap();
    let _ = std::fs::remove_file(&path);
    let err = plan.param_in("keys", 10, 1..=1000).unwrap_err();
    assert_eq!(err.line, Some(5), "{err}");
    assert_eq!(err.path.as_deref(), Some(path.as_path()));
    assert!(
        err.to_string()
            .contains("`params.keys` is -5: give 1 to 1000"),
        "{err}"
    );
    assert_eq!(plan.param_in("value_bytes", 1, 1..=64), Ok(8));
    // Unset: the default, checked too.
    assert_eq!(plan.param_in("absent", 3, 1..=5), Ok(3));
    let custom = plan.param_error("value_bytes", "too small for a header");
    assert_eq!(custom.line, Some(4));
    assert_eq!(custom.message, "too small for a header");
}
