//! Same seed, same report, byte for byte; JSON report contents.

use crate::{buggy_kv, scratch};
use stateprop::Config;

#[test]
fn the_same_seed_gives_the_same_report_byte_for_byte() {
    for seed in [7, 42, 1234567] {
        let a = buggy_kv(Config::default().ignore_env().seed(seed).name("kv")).report;
        let b = buggy_kv(Config::default().ignore_env().seed(seed).name("kv")).report;
        assert!(a.failure.is_some());
        assert_eq!(a.text(), b.text());
        let strip = |mut v: serde_json::Value| {
            v["stats"]["time_ms"] = 0.into();
            v["shrink"]["time_ms"] = 0.into();
            v
        };
        assert_eq!(strip(a.json()), strip(b.json()));
    }
}

#[test]
fn different_seeds_explore_differently() {
    let a = buggy_kv(Config::default().ignore_env().seed(1)).report;
    let b = buggy_kv(Config::default().ignore_env().seed(2)).report;
    assert_ne!(a.stats, b.stats);
}

#[test]
fn the_report_says_cause_program_seed_statistics_and_test() {
    let r = buggy_kv(
        Config::default()
            .ignore_env()
            .seed(42)
            .name("store_matches_model"),
    )
    .report;
    let text = r.text();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "stateprop: `store_matches_model` failed");
    assert!(
        lines[1].starts_with("stateprop: cause: postcondition failed at step 2 of 3: KvOp::Get"),
        "{text}"
    );
    assert!(
        lines[2].starts_with("stateprop: minimal program (3 steps, shrunk from"),
        "{text}"
    );
    // `name` labels the report; the command names the test the harness really runs, exactly.
    let seed_line = format!(
        "stateprop: seed 42 (rerun exactly: STATEPROP_SEED=42 STATEPROP_CASES={} cargo test \
         --test runner determinism::the_report_says_cause_program_seed_statistics_and_test \
         -- --exact)",
        r.stats.cases
    );
    assert!(text.contains(&seed_line), "{text}");
    assert!(text.contains("stateprop: rules: Put "), "{text}");
    assert!(
        text.contains("#[test]\nfn regression_store_matches_model_"),
        "{text}"
    );
    assert!(
        text.contains("    stateprop::replay::<Kv, BuggyStore>(&[\n        KvOp::Put { key: "),
        "{text}"
    );
    // Every line the library prints is marked, except the pasteable test itself.
    let test_start = text.find("#[test]").unwrap();
    for line in text[..test_start].lines() {
        assert!(line.starts_with("stateprop: "), "unmarked line: {line}");
    }
}

#[test]
fn the_json_report_is_written_where_asked() {
    let path = scratch("json-report").join("report.json");
    let r = buggy_kv(Config::default().ignore_env().seed(9).report_path(&path)).report;
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert_eq!(v["verdict"], "fail");
    assert_eq!(v["seed"], 9);
    assert_eq!(v["schema"], "stateprop-report/1");
    let minimal = v["minimal"].as_array().unwrap();
    assert_eq!(minimal.len(), 3);
    assert_eq!(minimal[1]["rust"], r.minimal_rust.prefix[1]);
    assert!(minimal[0]["op"]["Put"]["key"].is_u64());
    assert_eq!(v["failure"]["kind"], "postcondition");
    assert_eq!(v["failure"]["step"], 2);
    assert_eq!(v["shrink"]["steps_after"], 3);
    assert!(v["shrink"]["runs"].as_u64().unwrap() > 0);
}

#[test]
fn a_passing_run_writes_a_pass_verdict() {
    let path = scratch("json-pass").join("report.json");
    let result = stateprop::Runner::<crate::kv::Kv>::new(
        Config::default()
            .ignore_env()
            .seed(3)
            .cases(20)
            .persist(false)
            .report_path(&path),
    )
    .run_default::<crate::GoodStore>();
    assert!(!result.failed());
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert_eq!(v["verdict"], "pass");
    assert_eq!(v["minimal"], serde_json::Value::Null);
    assert_eq!(v["stats"]["cases"], 20);
}

#[test]
fn the_shrink_budget_stops_shrinking_and_says_so() {
    let r = buggy_kv(Config::default().ignore_env().seed(42).max_shrink_runs(2)).report;
    assert!(r.shrink.budget_exhausted);
    assert!(r.shrink.runs <= 2, "{}", r.shrink.runs);
    assert!(
        r.text().contains("(budget exhausted: may not be minimal)"),
        "{}",
        r.text()
    );
    assert_eq!(r.json()["shrink"]["budget_exhausted"], true);
}

#[test]
fn json_reports_go_to_one_file_per_test_in_a_directory() {
    let dir = scratch("json-dir");
    let dir_arg = format!("{}/", dir.display());
    buggy_kv(
        Config::default()
            .ignore_env()
            .seed(1)
            .name("one")
            .report_path(&dir_arg),
    );
    buggy_kv(
        Config::default()
            .ignore_env()
            .seed(2)
            .name("two")
            .report_path(&dir_arg),
    );
    for name in ["one", "two"] {
        let v: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(dir.join(format!("{name}.json"))).unwrap(),
        )
        .unwrap();
        assert_eq!(v["test"], name);
    }
}
