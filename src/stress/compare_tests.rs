use super::*;
use crate::stress::plan::StressPlan;
use crate::stress::result::{Growth, GrowthSource, Latency};

const MIB: f64 = 1024.0 * 1024.0;

fn run(throughput: f64, put_p99: u64, growth: f64) -> StressResult {
    let plan = StressPlan::operations(1_000_000).threads(4);
    let mut r = StressResult::new(plan, 1);
    r.operations = 1_000_000;
    // As a run measures it: its operations over its time.
    r.elapsed_secs = 1e6 / throughput;
    r.throughput = throughput;
    // Figures in nanoseconds here, microseconds in the result.
    r.latencies = vec![
        Latency::new("Put", 600_000, 0.2, put_p99 as f64 / 1e3, 50.0),
        Latency::new("Get", 400_000, 0.1, 0.5, 20.0),
    ];
    r.growth = Growth::measured(growth, GrowthSource::Rss, 50);
    r
}

fn flagged(c: &Comparison) -> Vec<(MetricKind, Option<&str>)> {
    c.regressions()
        .map(|r| (r.kind, r.rule.as_deref()))
        .collect()
}

#[test]
fn a_throughput_drop_beyond_its_tolerance_is_a_regression_and_within_it_is_noise() {
    let old = run(400_000.0, 1000, 0.0);
    let c = compare(&old, &run(280_000.0, 1000, 0.0), &Tolerances::default());
    assert_eq!(flagged(&c), [(MetricKind::Throughput, None)]);
    let row = c.row(MetricKind::Throughput, None).unwrap();
    assert!((row.change.unwrap() + 0.30).abs() < 1e-12);
    assert!(c.has_regression());
    // 15% slower: what one binary on one plan measured under load.
    let c = compare(&old, &run(340_000.0, 1000, 0.0), &Tolerances::default());
    assert!(!c.has_regression(), "{c}");
    // A tighter tolerance, for a quiet machine, turns a 5% drop into a regression.
    let tight = Tolerances::default().set(MetricKind::Throughput, 0.04);
    assert!(compare(&old, &run(380_000.0, 1000, 0.0), &tight).has_regression());
}

/// Two runs of one binary and plan differ by a descheduled maximum, a clock quantum at the
/// median and a slower machine: none of it is a regression. A real slowdown still is.
#[test]
fn noise_between_identical_runs_is_not_a_regression_and_a_real_slowdown_is() {
    let mut old = run(400_000.0, 300, 0.0);
    old.overall = Some(Latency::new("all", 1_000_000, 0.031, 0.3, 0.491));
    old.latencies[1] = Latency::new("Get", 400_000, 0.031, 0.04, 0.491);
    let mut new = run(304_000.0, 330, 0.0);
    // As measured between runs of one binary and plan: max 491 ns -> 4.04 ms (one
    // descheduling), p50 31 -> 40 ns (+29%), Get's p99 40 -> 170 ns (+325%, 130 ns),
    // throughput -24%.
    new.overall = Some(Latency::new("all", 1_000_000, 0.040, 0.3, 4040.0));
    new.latencies[1] = Latency::new("Get", 400_000, 0.040, 0.17, 4040.0);
    let c = compare(&old, &new, &Tolerances::default());
    assert!(!c.has_regression(), "{c}");
    let max = c.row(MetricKind::Max, Some("all")).unwrap();
    assert_eq!(max.new, Some(4_040_000.0), "shown");
    assert_eq!(max.note.as_deref(), Some("within the 100.00 ms floor"));
    let p50 = c.row(MetricKind::P50, Some("all")).unwrap();
    assert_eq!(p50.note.as_deref(), Some("within the 100 ns floor"));
    assert!(c.to_string().contains("(within the 100 ns floor)"), "{c}");
    let p99 = c.row(MetricKind::P99, Some("Get")).unwrap();
    assert_eq!(p99.note.as_deref(), Some("within the 250 ns floor"));

    // A 1 us operation twice as slow at p99, and 30% less throughput: flagged.
    let old = run(400_000.0, 1000, 0.0);
    let c = compare(&old, &run(280_000.0, 2000, 0.0), &Tolerances::default());
    assert_eq!(
        flagged(&c),
        [
            (MetricKind::Throughput, None),
            (MetricKind::P99, Some("Put"))
        ],
        "{c}"
    );
    // A stall of a second in one operation is past the max floor.
    let mut stalled = old.clone();
    stalled.latencies[0].max_us = 1.2e6;
    let c = compare(&old, &stalled, &Tolerances::default());
    assert_eq!(flagged(&c), [(MetricKind::Max, Some("Put"))], "{c}");
}

#[test]
fn improvements_are_never_regressions() {
    let old = run(400_000.0, 1000, 4.0 * MIB);
    let new = run(800_000.0, 300, 0.0);
    let c = compare(&old, &new, &Tolerances::default());
    assert!(!c.has_regression(), "{c}");
    assert_eq!(
        c.row(MetricKind::P99, Some("Put")).unwrap().change,
        Some(-0.7)
    );
    assert!(c.warnings.is_empty(), "{:?}", c.warnings);
}

#[test]
fn latency_rises_are_judged_per_rule_and_per_percentile() {
    let old = run(400_000.0, 1000, 0.0);
    let mut new = run(400_000.0, 1300, 0.0);
    // Get's slowest operation is 80% slower: within the default 100% for max.
    new.latencies[1].max_us = 36.0;
    let c = compare(&old, &new, &Tolerances::default());
    assert_eq!(flagged(&c), [(MetricKind::P99, Some("Put"))]);
    let c = compare(&old, &run(400_000.0, 1200, 0.0), &Tolerances::default());
    assert!(!c.has_regression(), "{c}");
    // The 16 us rise is within the max floor by default; with a lower floor, past 50%.
    let strict = Tolerances::default()
        .set(MetricKind::Max, 0.5)
        .max_floor_ns(1e3);
    let c = compare(&old, &new, &strict);
    assert_eq!(
        flagged(&c),
        [
            (MetricKind::P99, Some("Put")),
            (MetricKind::Max, Some("Get"))
        ]
    );
}

#[test]
fn memory_growth_is_flagged_only_above_the_floor() {
    let t = Tolerances::default();
    // Tripled, but under 1 MiB per million operations: noise.
    let c = compare(&run(1.0, 1, 0.2 * MIB), &run(1.0, 1, 0.6 * MIB), &t);
    assert!(!c.has_regression(), "{c}");
    // From flat (or shrinking) to 5 MiB: a regression.
    let c = compare(&run(1.0, 1, -0.5 * MIB), &run(1.0, 1, 5.0 * MIB), &t);
    assert_eq!(flagged(&c), [(MetricKind::Growth, None)]);
    // 10% more of a large growth: within the 25% tolerance.
    let c = compare(&run(1.0, 1, 10.0 * MIB), &run(1.0, 1, 11.0 * MIB), &t);
    assert!(!c.has_regression(), "{c}");
    let c = compare(&run(1.0, 1, 10.0 * MIB), &run(1.0, 1, 13.0 * MIB), &t);
    assert!(c.has_regression(), "{c}");
    // A higher floor forgives it.
    let lenient = t.clone().growth_floor(20.0 * MIB);
    assert!(!compare(&run(1.0, 1, 0.0), &run(1.0, 1, 13.0 * MIB), &lenient).has_regression());
}

#[test]
fn growth_measured_differently_or_not_at_all_is_not_compared() {
    let old = run(1.0, 1, 0.0);
    let mut new = run(1.0, 1, 50.0 * MIB);
    new.growth.source = GrowthSource::Gauge;
    let c = compare(&old, &new, &Tolerances::default());
    assert!(!c.has_regression(), "{c}");
    assert!(c.warnings[0].contains("from rss in the old run and from gauge"));
    new.growth = Growth::unavailable();
    let c = compare(&old, &new, &Tolerances::default());
    assert!(!c.has_regression());
    let row = c.row(MetricKind::Growth, None).unwrap();
    assert_eq!(row.note.as_deref(), Some("not measured in the new run"));
    assert!(
        c.to_string().contains("(not measured in the new run)"),
        "{c}"
    );
}

#[test]
fn different_plans_are_warned_about_and_seeds_and_timestamps_are_ignored() {
    let old = run(400_000.0, 1000, 2.0 * MIB);
    let mut same = old.clone();
    same.seed = 99;
    same.timestamp = old.timestamp + 86_400;
    // Where a run writes its result, and the plan's seed, do not change the target.
    same.plan = same.plan.seed(99).result_path("elsewhere.json");
    let c = compare(&old, &same, &Tolerances::default());
    assert!(c.warnings.is_empty() && !c.has_regression(), "{c}");
    assert!(c.rows.iter().all(|r| r.change == Some(0.0)), "{c}");
    let mut other = old.clone();
    other.plan = StressPlan::operations(1_000_000)
        .threads(8)
        .param("keys", 100);
    let c = compare(&old, &other, &Tolerances::default());
    assert_eq!(
        c.warnings,
        [
            "the runs followed different plans (params.keys: null -> 100, threads: 4 -> 8): their \
          figures may not be comparable"
        ]
    );
}

#[test]
fn a_pass_turned_fail_is_a_regression_and_new_rules_are_only_noted() {
    let old = run(1.0, 1, 0.0);
    let mut new = old.clone();
    new.verdict = StressVerdict::Mismatch;
    new.latencies
        .push(Latency::new("Delete", 10, 0.001, 0.001, 0.001));
    let c = compare(&old, &new, &Tolerances::default());
    assert!(c.has_regression() && c.verdict_regressed());
    assert_eq!(flagged(&c), []);
    let row = c.row(MetricKind::P50, Some("Delete")).unwrap();
    assert_eq!(row.note.as_deref(), Some("only in the new run"));
    assert!(!compare(&new, &old, &Tolerances::default()).has_regression());
}

#[test]
fn the_table_shows_each_metric_with_its_change_and_flag() {
    let old = run(400_000.0, 1000, 0.0);
    let new = run(280_000.0, 1000, 0.0);
    let text = compare(&old, &new, &Tolerances::default()).to_string();
    assert!(
        text.contains(
            "  all                               400,000        280,000    -30.0%  REGRESSION \
             (tolerance -25%)\n"
        ),
        "{text}"
    );
    assert!(text.contains("p99 latency"), "{text}");
    assert!(
        text.contains("  Put                                1.0 us         1.0 us     +0.0%\n"),
        "{text}"
    );
    assert!(text.ends_with("verdict: pass -> pass\n"), "{text}");
}

#[test]
fn the_overall_latency_row_is_compared_before_the_rules() {
    let mut old = run(400_000.0, 1000, 0.0);
    let mut new = old.clone();
    old.overall = Some(Latency::new("all", 1_000_000, 0.15, 0.8, 50.0));
    // Every rule within its tolerance, the calls over all rules 50% slower at p99 (a shift
    // towards the slower rule, say): only the overall row shows it.
    new.overall = Some(Latency::new("all", 1_000_000, 0.15, 1.2, 50.0));
    let c = compare(&old, &new, &Tolerances::default());
    assert_eq!(flagged(&c), [(MetricKind::P99, Some("all"))], "{c}");
    let row = c.row(MetricKind::P99, Some("all")).unwrap();
    assert_eq!((row.old, row.new), (Some(800.0), Some(1200.0)));
    let p50: Vec<Option<&str>> = (c.rows.iter())
        .filter(|r| r.kind == MetricKind::P50)
        .map(|r| r.rule.as_deref())
        .collect();
    assert_eq!(p50, [Some("all"), Some("Put"), Some("Get")]);
    let text = c.to_string();
    assert!(
        text.contains(
            "  all                                800 ns         1.2 us    +50.0%  REGRESSION"
        ),
        "{text}"
    );
    // A run without the row (an older result) is noted, not compared.
    new.overall = None;
    let c = compare(&old, &new, &Tolerances::default());
    assert!(!c.has_regression(), "{c}");
    let row = c.row(MetricKind::Max, Some("all")).unwrap();
    assert_eq!(row.note.as_deref(), Some("only in the old run"));
}

/// A result built in code is not checked as a file is: the comparison warns that its figures
/// cannot come from a run, and its table still shows no `inf`, `NaN` or 300-digit figure.
#[test]
fn impossible_figures_in_code_are_warned_about_and_printed_sanely() {
    let old = run(400_000.0, 1000, 1.0);
    let mut new = run(f64::INFINITY, 1000, 1e300);
    new.latencies[0].p99_us = f64::NAN;
    new.latencies[1].max_us = 1e308;
    let c = compare(&old, &new, &Tolerances::default());
    assert!(
        c.warnings
            .iter()
            .any(|w| w.contains("the new run's figures cannot come from a run")),
        "{:?}",
        c.warnings
    );
    assert!(!c.warnings.iter().any(|w| w.contains("the old run's")));
    let table = c.to_string();
    assert!(!table.contains("inf") && !table.contains("NaN"), "{table}");
    for line in table.lines() {
        assert!(line.len() < 120, "{line}");
    }
    // Memory that shrank is a measurement, not an impossibility.
    let shrank = compare(
        &old,
        &run(400_000.0, 1000, -5.0 * MIB),
        &Tolerances::default(),
    );
    assert!(shrank.warnings.is_empty(), "{:?}", shrank.warnings);
    assert!(shrank.to_string().contains("-5.00 MiB"), "{shrank}");
}
