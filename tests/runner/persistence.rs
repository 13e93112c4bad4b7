//! Regression files: the shrunk program is saved atomically and replayed first.

use crate::kv::{BuggyStore, Kv};
use crate::scratch;
use stateprop::{Config, Origin, Runner};

fn run(file: &std::path::Path, seed: u64) -> stateprop::RunResult<crate::kv::KvOp> {
    Runner::<Kv>::new(
        Config::default()
            .seed(seed)
            .name("store_matches_model")
            .regression_file(file),
    )
    .run_default::<BuggyStore>()
}

#[test]
fn a_failure_is_saved_and_replayed_first() {
    let file = scratch("persist").join("kv.stateprop-regressions");
    let first = run(&file, 5);
    assert!(first.failed());
    assert_eq!(
        first.report.saved_to.as_deref(),
        Some(file.to_str().unwrap())
    );
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.starts_with("# stateprop regression cases."), "{text}");
    assert!(text.contains("Commit this file"), "{text}");
    let entries: Vec<&str> = text.lines().filter(|l| !l.starts_with('#')).collect();
    assert_eq!(entries.len(), 1);
    let entry: serde_json::Value = serde_json::from_str(entries[0]).unwrap();
    assert_eq!(entry["test"], "store_matches_model");
    assert_eq!(entry["steps"].as_array().unwrap().len(), 3);

    // A later run, with another seed, replays the saved case before generating anything.
    let second = run(&file, 77);
    assert!(second.failed());
    assert_eq!(second.report.stats.cases, 0);
    assert_eq!(second.report.stats.replayed, 1);
    assert_eq!(second.report.minimal_rust, first.report.minimal_rust);
    assert!(
        matches!(&second.report.origin, Some(Origin::Saved { location }) if location.ends_with(":5"))
    );
    // Not saved twice.
    let again = std::fs::read_to_string(&file).unwrap();
    assert_eq!(again, text);
    // No temporary file is left behind.
    let leftovers = std::fs::read_dir(file.parent().unwrap()).unwrap().count();
    assert_eq!(leftovers, 1);
}

#[test]
fn a_fixed_bug_lets_saved_cases_pass() {
    let file = scratch("persist-fixed").join("kv.stateprop-regressions");
    assert!(run(&file, 5).failed());
    let fixed = Runner::<Kv>::new(
        Config::default()
            .seed(5)
            .cases(50)
            .name("store_matches_model")
            .regression_file(&file),
    )
    .run_default::<crate::GoodStore>();
    assert!(!fixed.failed());
    assert_eq!(fixed.report.stats.replayed, 1);
}

#[test]
fn a_malformed_regression_file_names_file_and_line() {
    let file = scratch("persist-bad").join("kv.stateprop-regressions");
    std::fs::write(
        &file,
        "# comment\n{\"test\": \"store_matches_model\", \"steps\": [\n",
    )
    .unwrap();
    let err = std::panic::catch_unwind(|| run(&file, 1)).expect_err("malformed file");
    let message = err.downcast_ref::<String>().cloned().unwrap_or_default();
    let expected = format!("{}:2: not a JSON object", file.display());
    assert!(message.contains(&expected), "{message}");
}

#[test]
fn a_stale_case_is_skipped_with_a_warning_not_an_error() {
    let file = scratch("persist-stale").join("kv.stateprop-regressions");
    // `Frobnicate` is not a rule (any more): skipped, and generation goes on.
    std::fs::write(
        &file,
        "{\"test\": \"store_matches_model\", \"seed\": 1, \"steps\": [\"Frobnicate\"]}\n",
    )
    .unwrap();
    let r = Runner::<Kv>::new(
        Config::default()
            .seed(1)
            .cases(20)
            .name("store_matches_model")
            .regression_file(&file),
    )
    .run_default::<crate::GoodStore>();
    assert!(!r.failed());
    assert_eq!(r.report.stats.replayed, 0);
    assert_eq!(r.report.stats.cases, 20);
}

#[test]
fn concurrent_failures_of_one_file_all_get_saved() {
    let file = scratch("persist-concurrent").join("kv.stateprop-regressions");
    let handles: Vec<_> = (0..6u64)
        .map(|i| {
            let file = file.clone();
            std::thread::spawn(move || {
                Runner::<Kv>::new(
                    Config::default()
                        .seed(100 + i)
                        .name(format!("test_{i}"))
                        .regression_file(&file),
                )
                .run_default::<BuggyStore>()
            })
        })
        .collect();
    for h in handles {
        assert!(h.join().unwrap().failed());
    }
    let text = std::fs::read_to_string(&file).unwrap();
    for i in 0..6 {
        assert!(
            text.contains(&format!("\"test\":\"test_{i}\"")),
            "test_{i} lost:\n{text}"
        );
    }
    let leftovers: Vec<_> = std::fs::read_dir(file.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(leftovers.len(), 1, "{leftovers:?}");
}
