//! What a run prints agrees with itself and reads sanely: the progress line's count with the
//! result's, and limits at the edges of what a plan may say.

use crate::stores::{CleanStore, Sequence, Store, U16Sequence};
use stateprop::stress::{ProgressMode, Stress, StressPlan, StressVerdict};

/// The child side of `the_progress_line_counts_the_failing_operation_as_the_result_does`.
#[test]
#[ignore = "run as a child process by the_progress_line_counts_the_failing_operation_as_the_result_does"]
fn child_runs_the_wrapping_sequence_with_progress_lines() {
    let plan = StressPlan::operations(1_000_000).seed(7).window(4);
    let result = Stress::<Sequence, U16Sequence>::new(plan)
        .ignore_env()
        .progress(ProgressMode::Lines)
        .run(U16Sequence::default)
        .unwrap();
    assert_eq!(result.verdict, StressVerdict::Mismatch);
}

#[test]
fn the_progress_line_counts_the_failing_operation_as_the_result_does() {
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--ignored",
            "--exact",
            "printed::child_runs_the_wrapping_sequence_with_progress_lines",
            "--nocapture",
            "--test-threads=1",
        ])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let count = |prefix: &str, suffix: &str| -> String {
        let line = stderr.lines().find(|l| l.contains(prefix)).expect(prefix);
        let after = &line[line.find(prefix).unwrap() + prefix.len()..];
        after[..after.find(suffix).expect(suffix)].to_string()
    };
    let done = count("stress: done: ", " ops");
    let ran = count("FAILED (model mismatch): ", " operations");
    assert_eq!(done, ran, "{stderr}");
    assert!(
        stderr.contains("stress run: 1,000,000 operations"),
        "{stderr}"
    );
}

#[test]
fn limits_at_the_edges_print_as_numbers_a_reader_takes_in() {
    let plan = StressPlan::operations(2_000)
        .seed(1)
        .max_p99_us(0.001)
        .max_p99_us_of("Put", 0.000_25)
        .min_throughput(1e300);
    let result = Stress::<Store, CleanStore>::with_initial(plan, Store::with_keys(100))
        .ignore_env()
        .quiet()
        .run(CleanStore::default)
        .unwrap();
    assert_eq!(result.verdict, StressVerdict::LimitBroken);
    let text = result.broken_limits.join("\n");
    assert!(text.contains("(limit: at least 1.000e300)"), "{text}");
    assert!(
        text.contains("over all operations (limit 0.001 us)"),
        "{text}"
    );
    assert!(text.contains("(limit 0.00025 us)"), "{text}");
    for line in text.lines() {
        assert!(line.len() < 160, "{line}");
    }
}
