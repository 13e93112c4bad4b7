//! Regression files: the shrunk program is saved atomically and replayed first.

use crate::kv::{BuggyStore, Kv};
use crate::scratch;
use stateprop::{Config, Origin, Runner};

fn run(file: &std::path::Path, seed: u64) -> stateprop::RunResult<crate::kv::KvOp> {
    Runner::<Kv>::new(
        Config::default()
            .ignore_env()
            .ignore_env()
            .seed(seed)
            .name("store_matches_model")
            .regression_file(file),
    )
    .run_default::<BuggyStore>()
}

/// The correct store from `seed` for `cases` cases, with the regression file `file`.
fn run_good(
    file: &std::path::Path,
    seed: u64,
    cases: u64,
) -> stateprop::RunResult<crate::kv::KvOp> {
    Runner::<Kv>::new(
        Config::default()
            .ignore_env()
            .seed(seed)
            .cases(cases)
            .name("store_matches_model")
            .regression_file(file),
    )
    .run_default::<crate::GoodStore>()
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
    let fixed = run_good(&file, 5, 50);
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
    let r = run_good(&file, 1, 20);
    assert!(!r.failed());
    assert_eq!(r.report.stats.replayed, 0);
    assert_eq!(r.report.stats.cases, 20);
}

/// Runs `n` failing tests that all save to `file` at once, each on its own thread.
fn fail_concurrently(file: &std::path::Path, n: u64) {
    let handles: Vec<_> = (0..n)
        .map(|i| {
            let file = file.to_path_buf();
            std::thread::spawn(move || {
                Runner::<Kv>::new(
                    Config::default()
                        .ignore_env()
                        .ignore_env()
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
}

/// Every test's entry is in the file, and nothing but the file is left in its folder.
fn assert_all_saved(file: &std::path::Path, n: u64) {
    let text = std::fs::read_to_string(file).unwrap();
    for i in 0..n {
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

#[test]
fn concurrent_failures_of_one_file_all_get_saved() {
    let file = scratch("persist-concurrent").join("kv.stateprop-regressions");
    fail_concurrently(&file, 12);
    assert_all_saved(&file, 12);
}

/// A lock file left behind by a crashed run, an hour old: it must neither block the savers nor
/// be "broken" in a way that lets two of them write at once.
fn leave_stale_lock(file: &std::path::Path) {
    let lock = file.with_extension("stateprop-lock");
    let f = std::fs::File::create(&lock).unwrap();
    let hour_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
    f.set_modified(hour_ago).unwrap();
}

#[test]
fn a_stale_lock_file_loses_no_entry() {
    let file = scratch("persist-stale-lock").join("kv.stateprop-regressions");
    leave_stale_lock(&file);
    fail_concurrently(&file, 12);
    assert_all_saved(&file, 12);
}

/// The child side of `concurrent_processes_lose_no_entry`: fails one test into the file named by
/// the environment, then exits.
#[test]
#[ignore = "run as a child process by concurrent_processes_lose_no_entry"]
fn child_process_saves_one_case() {
    let (Ok(file), Ok(i)) = (
        std::env::var("STATEPROP_TEST_CHILD_FILE"),
        std::env::var("STATEPROP_TEST_CHILD_INDEX"),
    ) else {
        panic!("run by concurrent_processes_lose_no_entry only");
    };
    let i: u64 = i.parse().unwrap();
    let r = Runner::<Kv>::new(
        Config::default()
            .ignore_env()
            .ignore_env()
            .seed(100 + i)
            .name(format!("test_{i}"))
            .regression_file(&file),
    )
    .run_default::<BuggyStore>();
    assert!(r.failed());
}

#[test]
fn concurrent_processes_lose_no_entry() {
    let file = scratch("persist-processes").join("kv.stateprop-regressions");
    leave_stale_lock(&file);
    let exe = std::env::current_exe().unwrap();
    let children: Vec<_> = (0..6)
        .map(|i| {
            std::process::Command::new(&exe)
                .args([
                    "--ignored",
                    "--exact",
                    "persistence::child_process_saves_one_case",
                ])
                .env("STATEPROP_TEST_CHILD_FILE", &file)
                .env("STATEPROP_TEST_CHILD_INDEX", i.to_string())
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .spawn()
                .unwrap()
        })
        .collect();
    for mut c in children {
        assert!(c.wait().unwrap().success());
    }
    assert_all_saved(&file, 6);
}

#[test]
fn a_byte_order_mark_before_the_header_is_accepted() {
    let file = scratch("persist-bom").join("kv.stateprop-regressions");
    assert!(run(&file, 5).failed());
    let text = std::fs::read_to_string(&file).unwrap();
    std::fs::write(&file, format!("\u{feff}{text}")).unwrap();
    let again = run(&file, 77);
    assert!(again.failed());
    assert_eq!(again.report.stats.replayed, 1);
    assert!(matches!(again.report.origin, Some(Origin::Saved { .. })));
}

#[test]
fn text_that_is_not_utf8_names_its_line() {
    let file = scratch("persist-utf8").join("kv.stateprop-regressions");
    std::fs::write(
        &file,
        b"# header\n# more\n{\"test\": \"x\xff\", \"steps\": []}\n",
    )
    .unwrap();
    let err = std::panic::catch_unwind(|| run(&file, 1)).expect_err("not UTF-8");
    let message = err.downcast_ref::<String>().cloned().unwrap_or_default();
    let expected = format!("{}:3: not UTF-8 text", file.display());
    assert!(message.contains(&expected), "{message}");
}

#[cfg(unix)]
#[test]
fn a_regression_file_that_is_a_symlink_stays_a_symlink() {
    let dir = scratch("persist-symlink");
    let target = dir.join("shared").join("kv.stateprop-regressions");
    std::fs::create_dir_all(target.parent().unwrap()).unwrap();
    let link = dir.join("kv.stateprop-regressions");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    assert!(run(&link, 5).failed());
    assert!(std::fs::symlink_metadata(&link)
        .unwrap()
        .file_type()
        .is_symlink());
    let text = std::fs::read_to_string(&target).unwrap();
    assert!(text.contains("store_matches_model"), "{text}");
}

#[cfg(unix)]
#[test]
fn a_json_report_path_that_is_a_symlink_is_written_through() {
    let dir = scratch("report-symlink");
    let target = dir.join("real.json");
    let link = dir.join("report.json");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    let r = Runner::<Kv>::new(
        Config::default()
            .ignore_env()
            .ignore_env()
            .seed(5)
            .persist(false)
            .report_path(&link),
    )
    .run_default::<BuggyStore>();
    assert!(r.failed());
    assert!(std::fs::symlink_metadata(&link)
        .unwrap()
        .file_type()
        .is_symlink());
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&target).unwrap()).unwrap();
    assert_eq!(json["verdict"], "fail");
}

#[test]
fn entries_carry_their_format_and_shape_and_older_ones_still_load() {
    let file = scratch("persist-format").join("kv.stateprop-regressions");
    assert!(run(&file, 5).failed());
    let text = std::fs::read_to_string(&file).unwrap();
    let line = text.lines().find(|l| !l.starts_with('#')).unwrap();
    let entry: serde_json::Value = serde_json::from_str(line).unwrap();
    assert_eq!(entry["format"], 2);
    assert_eq!(entry["shape"], "sequential");
    // The same program in format 1 (no format, no shape), as earlier versions wrote it: it
    // loads, and saving the program again does not add a second line.
    let old = serde_json::json!({
        "test": entry["test"], "seed": entry["seed"], "steps": entry["steps"]
    });
    std::fs::write(&file, format!("{old}\n")).unwrap();
    let again = run(&file, 77);
    assert!(again.failed());
    assert!(matches!(again.report.origin, Some(Origin::Saved { .. })));
    let after = std::fs::read_to_string(&file).unwrap();
    assert_eq!(after.lines().count(), 1, "{after}");
    // A later format, or a parallel program (which the sequential runner cannot run), is
    // skipped, not an error.
    let parallel = serde_json::json!({
        "format": 2, "shape": "parallel", "test": entry["test"], "seed": entry["seed"],
        "prefix": entry["steps"], "branches": [entry["steps"], []],
    });
    std::fs::write(
        &file,
        format!(
            "{{\"format\": 99, \"test\": \"store_matches_model\", \"steps\": []}}\n{parallel}\n"
        ),
    )
    .unwrap();
    let later = run_good(&file, 1, 5);
    assert!(!later.failed());
    assert_eq!(later.report.stats.replayed, 0);
}

#[test]
fn a_parallel_entry_is_not_run_by_the_sequential_runner_and_stays_in_the_file() {
    let file = scratch("persist-parallel").join("kv.stateprop-regressions");
    assert!(run(&file, 5).failed());
    let text = std::fs::read_to_string(&file).unwrap();
    let line = text.lines().find(|l| !l.starts_with('#')).unwrap();
    let saved: serde_json::Value = serde_json::from_str(line).unwrap();
    // The failing program as the prefix of a parallel entry: were it run, it would fail and be
    // reported as found by replaying it.
    let parallel = serde_json::json!({
        "format": 2, "shape": "parallel", "test": "store_matches_model", "seed": 5,
        "prefix": saved["steps"], "branches": [[], saved["steps"]],
    });
    std::fs::write(&file, format!("{parallel}\n")).unwrap();
    let r = run(&file, 5);
    assert!(r.failed());
    assert_eq!(r.report.stats.replayed, 0);
    assert!(
        matches!(r.report.origin, Some(Origin::Generated { .. })),
        "{:?}",
        r.report.origin
    );
    // The sequential case found is saved beside the parallel entry, which is kept as written.
    let after = std::fs::read_to_string(&file).unwrap();
    let entries: Vec<serde_json::Value> = after
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(entries.len(), 2, "{after}");
    assert_eq!(entries[0], parallel);
    assert_eq!(entries[1]["shape"], "sequential");
    assert_eq!(entries[1]["steps"], saved["steps"]);
}
