//! `stateprop compare OLD.json NEW.json`: a stress run's figures against a previous run's, a
//! table per metric on stdout, warnings on stderr, and the status says whether anything
//! regressed.

use crate::args::CompareArgs;
use crate::{complain, say, shown};
use stateprop::stress::{Comparison, MetricKind, StressResult};
use std::process::ExitCode;

/// Status 0 without a regression, 1 with one, 2 when either file cannot be read (both are read
/// first, so one run names every bad file).
pub fn compare(args: &CompareArgs) -> ExitCode {
    let old = StressResult::read(&args.old);
    let new = StressResult::read(&args.new);
    let (old, new) = match (old, new) {
        (Ok(old), Ok(new)) => (old, new),
        (old, new) => {
            for e in [old.err(), new.err()].into_iter().flatten() {
                complain(e);
            }
            return ExitCode::from(2);
        }
    };
    let comparison = stateprop::stress::compare(&old, &new, &args.tolerances());
    for warning in &comparison.warnings {
        complain(format_args!("warning: {warning}"));
    }
    for (label, path, run) in [("old", &args.old, &old), ("new", &args.new, &new)] {
        say(format_args!(
            "{label}: {} (seed {}, {} operations, {})",
            shown(path.as_os_str()),
            run.seed,
            grouped(run.operations),
            run.verdict
        ));
    }
    say("");
    say(comparison.to_string().trim_end());
    say("");
    say(summary(&comparison));
    if comparison.has_regression() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

/// "no regression beyond the tolerances", or the regressions in a line.
fn summary(c: &Comparison) -> String {
    let mut items: Vec<String> = c
        .regressions()
        .map(|r| {
            // The result names the row over all rules `all`, which reads as a rule here.
            let rule = r.rule.as_deref().map(|rule| match rule {
                "all" => "all rules".to_string(),
                rule => rule.to_string(),
            });
            let name = match (r.kind, rule) {
                (MetricKind::Throughput, _) => "throughput".to_string(),
                (MetricKind::P50, Some(rule)) => format!("p50 latency of {rule}"),
                (MetricKind::P99, Some(rule)) => format!("p99 latency of {rule}"),
                (MetricKind::Max, Some(rule)) => format!("max latency of {rule}"),
                (MetricKind::Growth, _) => "memory growth".to_string(),
                (kind, _) => format!("{kind:?}"),
            };
            match r.change {
                // Past 100,000% a figure reads better in scientific notation than in 30 digits.
                Some(change) if (change * 100.0).abs() >= 1e5 => {
                    format!("{name} {:+.1e}%", change * 100.0)
                }
                Some(change) => format!("{name} {:+.1}%", change * 100.0),
                None => name,
            }
        })
        .collect();
    if c.verdict_regressed() {
        items.push(format!("verdict {} -> {}", c.verdicts.0, c.verdicts.1));
    }
    match items.len() {
        0 => "no regression beyond the tolerances".to_string(),
        1 => format!("1 regression: {}", items[0]),
        n => format!("{n} regressions: {}", items.join(", ")),
    }
}

/// 1000000 as "1,000,000".
fn grouped(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}
