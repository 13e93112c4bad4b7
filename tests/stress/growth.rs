//! Memory growth: a store keeping a tombstone per delete breaks the growth limit; a correct
//! store stays under it.

use crate::stores::{CleanStore, Store, StoreOp, TombstoneStore};
use stateprop::stress::{GrowthSource, Stress, StressPlan, StressVerdict};
use stateprop::Config;

/// 64 KiB per million operations: a store whose entries are bounded grows by far less.
const LIMIT: f64 = 64.0 * 1024.0;

fn plan(ops: u64) -> StressPlan {
    StressPlan::operations(ops)
        .seed(11)
        .warmup(5_000)
        .sample_every(1_000)
        .max_growth_per_million(LIMIT)
        .param("keys", 256)
}

#[test]
fn tombstones_pass_short_cases_but_break_the_growth_limit() {
    // The store is correct step by step: ordinary 50-step cases find nothing.
    let result = stateprop::Runner::<Store>::with_initial(
        Config::default().steps(1..50).cases(200).persist(false),
        Store::with_keys(256),
    )
    .run(TombstoneStore::default);
    assert!(!result.failed(), "{}", result.report.text());

    let plan = plan(60_000);
    let keys = plan.param_or("keys", 0) as u32;
    let result = Stress::<Store, TombstoneStore>::with_initial(plan, Store::with_keys(keys))
        .ignore_env()
        .gauge(TombstoneStore::gauge)
        .quiet()
        .run(TombstoneStore::default)
        .unwrap();
    assert_eq!(
        result.verdict,
        StressVerdict::LimitBroken,
        "{}",
        result.text()
    );
    assert!(result.failure.is_none());
    assert_eq!(result.operations, 60_000);
    assert_eq!(result.growth.source, GrowthSource::Gauge);
    // A fifth of the operations are deletes, each leaving a tombstone behind.
    let tomb = std::mem::size_of::<crate::stores::Tombstone>() as f64;
    let slope = result.growth.bytes_per_million.unwrap();
    assert!(
        (slope - 0.2e6 * tomb).abs() < 0.05e6 * tomb,
        "{slope} bytes per million operations"
    );
    let text = result.text();
    assert!(
        text.contains("per million operations after warm-up (limit 64.0 KiB): state accumulates"),
        "{text}"
    );
}

#[test]
fn a_clean_store_stays_under_the_growth_limit() {
    // Every call timed, so the latency counts are the operations of each rule.
    let plan = plan(200_000).latency_every(1);
    let result = Stress::<Store, CleanStore>::with_initial(plan, Store::with_keys(256))
        .ignore_env()
        .gauge(CleanStore::gauge)
        .quiet()
        .run(CleanStore::default)
        .unwrap();
    assert!(result.passed(), "{}", result.text());
    assert_eq!(result.operations, 200_000);
    let slope = result.growth.bytes_per_million.unwrap();
    assert!(slope.abs() < LIMIT, "{slope}");
    assert_eq!(result.growth.samples, 196);
    // Latency was measured per rule, and the mix came from the derive's weights (5:3:2).
    let count = |rule: &str| {
        result
            .latencies
            .iter()
            .find(|l| l.rule == rule)
            .map_or(0, |l| l.count)
    };
    assert_eq!(count("Put") + count("Get") + count("Delete"), 200_000);
    assert!((count("Put") as f64 / 200_000.0 - 0.5).abs() < 0.01);
    assert!((count("Delete") as f64 / 200_000.0 - 0.2).abs() < 0.01);
}

#[test]
fn the_plans_mix_replaces_the_derives_weights() {
    let plan = StressPlan::operations(20_000)
        .seed(3)
        .weight("Put", 1)
        .weight("Get", 1);
    let result = Stress::<Store, CleanStore>::new(plan)
        .ignore_env()
        .quiet()
        .run(CleanStore::default)
        .unwrap();
    assert!(result.passed(), "{}", result.text());
    let rules: Vec<&str> = result.latencies.iter().map(|l| l.rule.as_str()).collect();
    assert_eq!(rules, ["Put", "Get"], "Delete weighs 0 in the mix");
}

#[test]
fn a_throughput_limit_out_of_reach_is_broken() {
    let plan = StressPlan::operations(2_000).seed(1).min_throughput(1e12);
    let result = Stress::<Store, CleanStore>::new(plan)
        .ignore_env()
        .quiet()
        .run(CleanStore::default)
        .unwrap();
    assert_eq!(result.verdict, StressVerdict::LimitBroken);
    assert!(
        result.broken_limits[0].starts_with("stateprop: throughput was"),
        "{:?}",
        result.broken_limits
    );
}

#[test]
fn an_unmeasurable_growth_limit_is_not_reported_as_met() {
    // One sample after warm-up (at operation 999; the next would be at 1,499): no slope.
    let short = plan(1_000).warmup(999).sample_every(500);
    let result = Stress::<Store, CleanStore>::new(short)
        .ignore_env()
        .gauge(CleanStore::gauge)
        .quiet()
        .run(CleanStore::default)
        .unwrap();
    assert_eq!(result.verdict, StressVerdict::LimitBroken);
    assert!(result.broken_limits[0].contains("could not be measured"));
    // A warm-up as long as the run leaves no sample at all: refused before it runs, by name.
    let err = Stress::<Store, CleanStore>::new(plan(1_000).warmup(10_000))
        .ignore_env()
        .gauge(CleanStore::gauge)
        .quiet()
        .run(CleanStore::default)
        .unwrap_err();
    assert!(err.message.contains("`warmup` is 10000"), "{err}");
}

#[test]
fn the_result_is_written_as_json_and_reads_back() {
    let path = std::env::temp_dir().join(format!("stateprop-stress-{}.json", std::process::id()));
    let plan = StressPlan::operations(5_000).seed(9).result_path(&path);
    let result = Stress::<Store, CleanStore>::new(plan)
        .ignore_env()
        .quiet()
        .run(CleanStore::default)
        .unwrap();
    let back = stateprop::stress::StressResult::read(&path).unwrap();
    let _ = std::fs::remove_file(&path);
    assert_eq!(back, result);
    assert_eq!(back.seed, 9);
    let _ = StoreOp::Get { key: 0 };
}

#[test]
fn a_duration_bounds_the_run_and_a_rate_slows_it() {
    let plan = StressPlan::duration(std::time::Duration::from_millis(200)).seed(2);
    let result = Stress::<Store, CleanStore>::new(plan)
        .ignore_env()
        .quiet()
        .run(CleanStore::default)
        .unwrap();
    assert!(result.passed(), "{}", result.text());
    assert!(result.elapsed_secs >= 0.2, "{}", result.elapsed_secs);
    assert!(result.operations > 1_000);

    // 3,000 operations at 20,000 per second take at least 0.15 s.
    let plan = StressPlan::operations(3_000).seed(2).rate(20_000.0);
    let result = Stress::<Store, CleanStore>::new(plan)
        .ignore_env()
        .quiet()
        .run(CleanStore::default)
        .unwrap();
    assert!(result.elapsed_secs >= 0.14, "{}", result.elapsed_secs);
    assert!(result.throughput <= 21_000.0, "{}", result.throughput);
}
