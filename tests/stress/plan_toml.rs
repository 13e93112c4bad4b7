//! Plans in TOML: the same plan as its JSON twin, and the same errors naming file and line.

use crate::stores::{CleanStore, Store};
use stateprop::stress::{ProgressMode, Stress, StressPlan};
use std::path::PathBuf;

fn file(name: &str, text: &str) -> PathBuf {
    crate::plan_file("pt", name, text)
}

#[test]
fn a_toml_plan_file_reads_as_its_json_twin_and_runs() {
    let toml = file(
        "plan.toml",
        r#"# the target, before the code
operations = 3000
seed = 12
warmup = 100
duration_secs = 60
mix = { Put = 3, Get = 1 }
progress = "quiet"

[limits]
max_growth_per_million = 1048576
max_p99_us_by_rule = { Get = 1000.0 }

[params]
keys = 100
"#,
    );
    let json = file(
        "twin.json",
        r#"{ "operations": 3000, "seed": 12, "warmup": 100, "duration_secs": 60.0,
  "mix": { "Put": 3, "Get": 1 }, "progress": "quiet",
  "limits": { "max_growth_per_million": 1048576, "max_p99_us_by_rule": { "Get": 1000.0 } },
  "params": { "keys": 100 } }"#,
    );
    let plan = StressPlan::from_file(&toml).unwrap();
    let twin = StressPlan::from_file(&json).unwrap();
    let _ = std::fs::remove_file(&toml);
    let _ = std::fs::remove_file(&json);
    assert_eq!(plan, twin);
    assert_eq!(plan.mix.get("Put"), Some(&3));
    assert_eq!(plan.progress, Some(ProgressMode::Quiet));
    assert_eq!(
        plan.duration_secs,
        Some(60.0),
        "a TOML integer is a float field's value"
    );
    let result = Stress::<Store, CleanStore>::new(plan)
        .ignore_env()
        .quiet()
        .run(CleanStore::default)
        .unwrap();
    assert_eq!((result.operations, result.seed), (3000, 12));
}

#[test]
fn bad_toml_plan_files_are_refused_with_file_and_line() {
    let cases = [
        (
            "syntax.toml",
            "operations = 5\nseed =\n",
            2,
            "not a valid stress plan",
        ),
        (
            "unknown.toml",
            "operations = 5\n\nopertions = 5\n",
            3,
            "unknown field `opertions`",
        ),
        ("type.toml", "\n\nseed = \"seven\"\n", 3, "invalid type"),
        (
            "nested.toml",
            "operations = 5\n[limits]\nmax_p99 = 3.0\n",
            3,
            "unknown field `max_p99`",
        ),
        (
            "threads.toml",
            "operations = 5\nthreads = 0\n",
            2,
            "`threads` is 0",
        ),
        // The key's own line: not a string or a param holding its name, not a field of the same
        // name in another table.
        (
            "path_first.toml",
            "result_path = \"/tmp/rate_run.json\"\noperations = 1000\nrate = 0\n",
            3,
            "`rate` is 0.0",
        ),
        (
            "param_first.toml",
            "params = { threads_x = 1 }\nthreads = 0\n",
            2,
            "`threads` is 0",
        ),
        (
            "same_param.toml",
            "operations = 5\n\n[params]\nmax_p99_us = 5\n\n[limits]\nmax_p99_us = -2.0\n",
            7,
            "the limit `max_p99_us` is -2",
        ),
        (
            "zero.toml",
            "seed = 1\noperations = 0\n",
            2,
            "`operations` must be at least 1",
        ),
        (
            "warmup.toml",
            "operations = 100\nwarmup = 500\n[limits]\nmax_growth_per_million = 1.0\n",
            2,
            "`warmup` is 500 but `operations` is 100",
        ),
        (
            "progress.toml",
            "operations = 5\nprogress = \"loud\"\n",
            2,
            "unknown variant `loud`, expected one of `auto`, `bar`, `lines`, `quiet` (column 12)",
        ),
    ];
    for (name, text, line, problem) in cases {
        let shown = crate::refused_on_line("pt", name, text, line, problem);
        assert!(!shown.trim_end().contains('\n'), "one line: {shown}");
    }
}

#[test]
fn a_toml_mix_naming_no_rule_is_refused_on_its_line() {
    for (name, text, line) in [
        (
            "table.toml",
            "operations = 5\n\n[mix]\nPut = 1\nRemove = 1\n",
            5,
        ),
        (
            "inline.toml",
            "operations = 5\nmix = { Put = 1, Remove = 1 }\n",
            2,
        ),
    ] {
        let path = file(name, text);
        let plan = StressPlan::from_file(&path).unwrap();
        let err = Stress::<Store, CleanStore>::new(plan)
            .ignore_env()
            .quiet()
            .run(CleanStore::default)
            .unwrap_err();
        let _ = std::fs::remove_file(&path);
        let shown = err.to_string();
        assert_eq!(err.line, Some(line), "{name}: {shown}");
        assert!(shown.contains("`mix` names the rule `Remove`"), "{shown}");
    }
}
