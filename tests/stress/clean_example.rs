//! The examples' command lines: `stress_clean`'s count refused by a `stateprop:` line (it
//! panicked) and its shortest run measuring no growth on the correct store (its warm-up ended
//! while the store was still filling its keys, which it reported as growth); `stress_concurrent`
//! refusing a word it used to skip.

#[path = "../../examples/stress_clean.rs"]
#[allow(dead_code, clippy::duplicate_mod)]
mod stress_clean;

#[path = "../../examples/stress_concurrent.rs"]
#[allow(dead_code)]
mod stress_concurrent;

use stateprop::stress::Stress;
use stress_clean::{clean_plan, stores, MIN_OPERATIONS};

#[test]
fn a_bad_or_too_small_count_is_refused_with_the_usage() {
    for (arg, says) in [
        ("abc", "`abc` is not a whole number of operations"),
        ("0", "give at least 1000000"),
        ("100000", "100000 operations are too few"),
    ] {
        let message = clean_plan(Some(arg)).unwrap_err();
        assert!(message.contains(says), "{arg}: {message}");
        assert!(
            message.contains("stateprop: usage: stress_clean"),
            "{message}"
        );
        assert!(
            message.lines().all(|l| l.starts_with("stateprop: ")),
            "{message}"
        );
    }
    assert_eq!(clean_plan(None).unwrap().operations, Some(10_000_000));
    assert_eq!(
        clean_plan(Some("2_000_000")).unwrap().operations,
        Some(2_000_000)
    );
}

#[test]
fn the_shortest_run_measures_no_growth_once_the_store_has_filled() {
    // The store's own gauge, not RSS (other tests share this process): exact entry bytes, so
    // any slope left is the filling the warm-up should have covered.
    let plan = clean_plan(Some(&MIN_OPERATIONS.to_string())).unwrap();
    let keys = plan.param_or("keys", 0) as u32;
    let result = Stress::<stores::Store, stores::CleanStore>::with_initial(
        plan,
        stores::Store::with_keys(keys),
    )
    .ignore_env()
    .quiet()
    .gauge(stores::CleanStore::gauge)
    .run(stores::CleanStore::default)
    .unwrap();
    assert!(result.passed(), "{}", result.text());
    let growth = result.growth.bytes_per_million.unwrap();
    // Fluctuation of about 7,000 live keys by tens of entries of 16 bytes: a few KiB at most.
    assert!(growth.abs() < 16.0 * 1024.0, "{}", result.text());
}

#[test]
fn stress_concurrent_refuses_a_word_it_used_to_skip() {
    let args = |a: &[&str]| stress_concurrent::parse_args(a.iter().map(|s| s.to_string()));
    assert_eq!(args(&[]), Ok((2_000_000, vec![1, 2, 4])));
    assert_eq!(args(&["ops=1000", "2", "8"]), Ok((1000, vec![2, 8])));
    for bad in [&["abc"][..], &["ops=many"], &["2", "-1"]] {
        let message = args(bad).unwrap_err();
        assert!(
            message.contains("is neither ops=N nor a number of threads"),
            "{message}"
        );
        assert!(
            message.lines().all(|l| l.starts_with("stateprop: ")),
            "{message}"
        );
    }
}
