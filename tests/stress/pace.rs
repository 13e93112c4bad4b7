//! A cost that grows with the run: each operation of a counter that re-adds every add it was
//! ever given takes time proportional to the run so far, so the whole run is quadratic. Its
//! answers are right and its memory is small; the pace, late against early, is what names it.

use stateprop::models::{Counter, CounterOp, CounterOut};
use stateprop::stress::{Stress, StressPlan, StressResult, StressVerdict};

/// A correct counter whose every call sums the whole history of adds.
#[derive(Default)]
struct Resumming {
    adds: Vec<i64>,
}

impl stateprop::System<Counter> for Resumming {
    fn apply(&mut self, op: &CounterOp) -> CounterOut {
        if let CounterOp::Add { by } = *op {
            self.adds.push(by);
        }
        let value: i64 = std::hint::black_box(&self.adds).iter().sum();
        match op {
            CounterOp::Add { .. } => CounterOut::Done,
            CounterOp::Read => CounterOut::Value(value),
        }
    }
}

/// The same counter keeping its sum: every call costs the same.
#[derive(Default)]
struct Keeping {
    value: i64,
}

impl stateprop::System<Counter> for Keeping {
    fn apply(&mut self, op: &CounterOp) -> CounterOut {
        match *op {
            CounterOp::Add { by } => {
                self.value += by;
                CounterOut::Done
            }
            CounterOp::Read => CounterOut::Value(self.value),
        }
    }
}

fn plan(operations: u64) -> StressPlan {
    StressPlan::operations(operations)
        .seed(11)
        .warmup(200)
        .sample_every(500)
        .max_slowdown(5.0)
}

#[test]
fn a_cost_that_grows_with_the_run_breaks_the_slowdown_limit() {
    let result = Stress::<Counter, Resumming>::new(plan(50_000))
        .ignore_env()
        .quiet()
        .run(Resumming::default)
        .unwrap();
    assert_eq!(
        result.verdict,
        StressVerdict::LimitBroken,
        "{}",
        result.text()
    );
    let pace = result.pace.clone().unwrap();
    // Late operations sum about thirty times as many adds as early ones.
    assert!(pace.slowdown > 5.0, "{pace:?}");
    assert!(pace.intervals >= 90, "{pace:?}");
    let text = result.text();
    assert!(text.contains("operations slowed"), "{text}");
    assert!(text.contains("limit 5x"), "{text}");
    assert!(text.contains("a cost that grows with the run"), "{text}");
    // No other limit saw it: the answers are right and no latency limit was set.
    assert!(result.failure.is_none());
    assert_eq!(result.broken_limits.len(), 1, "{text}");
}

#[test]
fn a_steady_cost_passes_the_same_limit() {
    let result = Stress::<Counter, Keeping>::new(plan(200_000))
        .ignore_env()
        .quiet()
        .run(Keeping::default)
        .unwrap();
    assert!(result.passed(), "{}", result.text());
    let pace = result.pace.clone().unwrap();
    assert!(pace.slowdown < 5.0, "{pace:?}");
    assert!(
        result.text().contains("stateprop:   pace: "),
        "{}",
        result.text()
    );
}

#[test]
fn a_slowdown_limit_the_run_cannot_measure_fails_and_a_bad_one_is_refused() {
    // Ten samples after warm-up make nine intervals: one short of a pace.
    let result = Stress::<Counter, Keeping>::new(plan(4_701).max_slowdown(1e9))
        .ignore_env()
        .quiet()
        .run(Keeping::default)
        .unwrap();
    assert_eq!(
        result.verdict,
        StressVerdict::LimitBroken,
        "{}",
        result.text()
    );
    assert!(result.pace.is_none());
    assert!(
        result.text().contains("the slowdown could not be measured"),
        "{}",
        result.text()
    );
    crate::refused_on_line(
        "pace",
        "below-one.json",
        "{\n  \"operations\": 1000,\n  \"limits\": { \"max_slowdown\": 0.5 }\n}\n",
        3,
        "give a ratio of 1 or more",
    );
    crate::refused_on_line(
        "pace",
        "warmup.toml",
        "operations = 1000\nwarmup = 1000\n[limits]\nmax_slowdown = 2.0\n",
        2,
        "`warmup` is 1000",
    );
}

#[test]
fn the_pace_is_saved_with_the_result_and_read_back() {
    let path = std::env::temp_dir().join(format!("stateprop-pace-{}.json", std::process::id()));
    let result = Stress::<Counter, Keeping>::new(plan(50_000).result_path(&path))
        .ignore_env()
        .quiet()
        .run(Keeping::default)
        .unwrap();
    let read = StressResult::read(&path).unwrap();
    let _ = std::fs::remove_file(&path);
    assert!(read.pace.is_some());
    assert_eq!(read, result);
}
