//! Porcupine's corpus: every file imports, and the checker gives its known verdict.

use stateprop::check::{check_linearizable, check_linearizable_by, CheckConfig, Verdict};
use stateprop::import;
use stateprop::models::{CasRegister, KvModel};
use std::time::Duration;

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/data/porcupine");

/// `(path, linearizable)` for every file of EXPECTED.tsv under `prefix` (`None`: to be skipped).
fn expected(prefix: &str) -> Vec<(String, Option<bool>)> {
    let tsv = std::fs::read_to_string(format!("{DIR}/EXPECTED.tsv")).expect("EXPECTED.tsv");
    let files: Vec<(String, Option<bool>)> = tsv
        .lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let (path, verdict) = l.split_once('\t').expect("two columns");
            let verdict = match verdict.trim() {
                "true" => Some(true),
                "false" => Some(false),
                "skip" => None,
                other => panic!("bad verdict {other:?} for {path}"),
            };
            (path.to_string(), verdict)
        })
        .filter(|(path, _)| path.starts_with(prefix))
        .collect();
    assert!(!files.is_empty(), "no {prefix} files in EXPECTED.tsv");
    files
}

fn read(path: &str) -> String {
    std::fs::read_to_string(format!("{DIR}/{path}")).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn config() -> CheckConfig {
    CheckConfig::default().timeout(Duration::from_secs(60))
}

/// Checks the verdict and returns a line for the timing table.
fn verdict_matches(path: &str, verdict: &Verdict, expected: bool) {
    match verdict {
        Verdict::Holds => assert!(expected, "{path}: linearizable, expected a violation"),
        Verdict::Violated(v) => {
            assert!(
                !expected,
                "{path}: expected linearizable, found a violation: {v:?}"
            )
        }
        other => panic!("{path}: no verdict: {other:?}"),
    }
}

fn print_slowest(mut times: Vec<(Duration, String, u64)>) {
    times.sort_by_key(|t| std::cmp::Reverse(t.0));
    let total: Duration = times.iter().map(|t| t.0).sum();
    eprintln!(
        "stateprop: checked {} files in {total:?}; slowest:",
        times.len()
    );
    for (time, path, steps) in times.iter().take(5) {
        eprintln!("stateprop:   {path}: {time:?}, {steps} steps");
    }
}

#[test]
fn etcd_logs_give_the_expected_verdicts() {
    let mut times = Vec::new();
    let mut linearizable = 0;
    let mut skipped = 0;
    let files = expected("jepsen/");
    for (path, expected) in &files {
        let text = read(path);
        let history =
            import::etcd(&text).unwrap_or_else(|e| panic!("{path}:{}: {}", e.line, e.message));
        let Some(expected) = *expected else {
            // The corpus's one skipped file is empty: nothing to check.
            assert!(path.ends_with("etcd_095.log"), "{path} is skipped");
            assert!(text.trim().is_empty(), "{path} is expected to be empty");
            assert!(history.is_empty());
            skipped += 1;
            continue;
        };
        // README: 73–90 operations per file (failed reads and cas are operations too).
        assert!(
            (73..=90).contains(&history.len()),
            "{path}: {} operations",
            history.len()
        );
        let report = check_linearizable(&history, &CasRegister::default(), &config());
        verdict_matches(path, &report.verdict, expected);
        linearizable += usize::from(expected);
        times.push((report.elapsed, path.clone(), report.steps));
    }
    assert_eq!((files.len(), skipped), (103, 1));
    assert_eq!(linearizable, 23, "README: 23 files are linearizable");
    print_slowest(times);
}

#[test]
fn kv_logs_give_the_expected_verdicts() {
    let mut times = Vec::new();
    let files = expected("kv/");
    assert_eq!(files.len(), 6);
    for (path, expected) in &files {
        let history = import::kv_edn(&read(path))
            .unwrap_or_else(|e| panic!("{path}:{}: {}", e.line, e.message));
        assert!(!history.is_empty());
        assert!(
            history.ops.iter().all(|op| !op.is_unknown()),
            "{path}: every op completes"
        );
        let report = check_linearizable_by(&history, &KvModel::default(), &config(), |op| {
            op.key().to_string()
        });
        let expected = expected.unwrap_or_else(|| panic!("{path} is skipped"));
        verdict_matches(path, &report.verdict, expected);
        times.push((report.elapsed, path.clone(), report.steps));
    }
    print_slowest(times);
}
