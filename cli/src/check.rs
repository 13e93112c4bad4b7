//! `stateprop check`: verdicts, explanations and JSON, one file after the other.

use crate::args::CheckArgs;
use crate::load::Outcome;
use crate::{complain, say, shown};
use serde_json::json;
use stateprop::check::explain::{describe_minimal, explain_violation, ExplainOptions, OpView};
use stateprop::check::violations::{relax, violations, End};
use stateprop::check::{check_linearizable_by, CheckConfig, MinimizeOptions, Report, Verdict};
use stateprop::history::History;
use stateprop::import::printable;
use stateprop::Model;
use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

/// Checks every file, even after a bad one; the status is the worst verdict (1 over 2 over 0).
pub fn check(options: &CheckArgs) -> ExitCode {
    let config = options.input.check_config();
    let (mut any_bad, mut any_unknown, mut any_violation) = (false, false, false);
    for path in &options.files {
        let file = &shown(path.as_os_str());
        let outcome = check_file(options, &config, path, file);
        match &outcome {
            Outcome::Bad(message) => {
                any_bad = true;
                complain(message);
                if options.json {
                    say(json!({ "file": file, "verdict": "error", "error": printable(message) }));
                }
            }
            Outcome::Checked {
                report,
                explanation,
                details,
            } => {
                let (word, reason) = match &report.verdict {
                    Verdict::Holds => ("linearizable", None),
                    Verdict::Violated(_) => {
                        any_violation = true;
                        ("not linearizable", None)
                    }
                    // `Unknown`, and whatever a later version may add: no verdict either way.
                    _ => {
                        any_unknown = true;
                        ("unknown", report.verdict.unknown_reason())
                    }
                };
                if options.json {
                    let violation = match &report.verdict {
                        Verdict::Violated(v) => json!({
                            "partition": v.partition,
                            "linearized": v.linearized,
                            "blocked": v.blocked,
                            "state": v.state,
                            "expected": v.expected,
                            "actual": v.actual,
                            "explanation": explanation,
                            "violations": details,
                        }),
                        _ => serde_json::Value::Null,
                    };
                    say(json!({
                        "file": file,
                        "verdict": word,
                        "reason": reason,
                        "violation": violation,
                        "partitions": report.partitions,
                        "steps": report.steps,
                        "elapsed_ms": report.elapsed.as_secs_f64() * 1000.0,
                    }));
                } else {
                    match reason {
                        Some(reason) => say(format_args!("{file}: {word} ({reason})")),
                        None => say(format_args!("{file}: {word}")),
                    }
                    if options.explain {
                        for line in explanation {
                            say(format_args!("  {line}"));
                        }
                    }
                }
            }
        }
    }
    if any_violation {
        ExitCode::from(1)
    } else if any_bad || any_unknown {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    }
}

/// Reads, imports and checks one file with the chosen model.
fn check_file(options: &CheckArgs, config: &CheckConfig, path: &Path, file: &str) -> Outcome {
    with_history!(&options.input, path, file, |history, initial, partition| {
        let report = check_linearizable_by(&history, &initial, config, partition);
        let (explanation, details) = describe(
            options, config, file, &history, &initial, &report, &partition,
        );
        Outcome::Checked {
            report: Box::new(report),
            explanation,
            details,
        }
    })
}

/// The violations in words, and in JSON: for each, the window around the operation that cannot
/// be placed ([`explain_violation`]) and, with `--explain`, the smallest sub-history that is not
/// linearizable. Without `--violations`, only the checker's one.
fn describe<M, K, P>(
    options: &CheckArgs,
    config: &CheckConfig,
    file: &str,
    history: &History<M::Op, M::Output>,
    initial: &M,
    report: &Report,
    partition: &P,
) -> (Vec<String>, serde_json::Value)
where
    M: Model + std::hash::Hash + Eq,
    K: std::hash::Hash + Eq + std::fmt::Debug,
    P: Fn(&M::Op) -> K,
{
    if !matches!(report.verdict, Verdict::Violated(_)) {
        return (Vec::new(), serde_json::Value::Null);
    }
    let mut minimize = MinimizeOptions::default().time(options.minimize_time);
    minimize.max_memory = config.max_memory;
    if !options.explain {
        minimize.time = Duration::ZERO;
    }
    let all = violations(
        history,
        initial,
        partition,
        options.violations,
        config,
        &minimize,
        Some(report),
    );
    let explain_options = ExplainOptions::default()
        .context(options.context)
        .file(file);
    let several = options.violations > 1;
    let mut lines = Vec::new();
    let mut details = Vec::new();
    for (k, found) in all.found.iter().enumerate() {
        // Each violation is explained in the history it was found in: the operations relaxed
        // before it show as unknown outcomes.
        let relaxed;
        let h = if found.relaxed_before.is_empty() {
            history
        } else {
            relaxed = relax::<M>(history, &found.relaxed_before);
            &relaxed
        };
        let view = |i: usize| OpView::new(h, i, Some(file));
        if several {
            lines.push(format!(
                "violation {} of at most {}:",
                k + 1,
                options.violations
            ));
        }
        if let Some(e) =
            explain_violation(h, initial, &found.violation, partition, &explain_options)
        {
            lines.extend(e.to_string().lines().map(str::to_string));
        }
        let mut detail = json!({
            "blocked": found.violation.blocked,
            "location": view(found.violation.blocked).location,
            "relaxed_before": found.relaxed_before,
        });
        if let Some(m) = &found.minimal {
            let text = describe_minimal(
                h,
                m,
                found.culprit.as_ref(),
                found.violation.partition.as_deref(),
                &explain_options,
            );
            lines.extend(text.lines().map(str::to_string));
            if let Some(c) = &found.culprit {
                detail["culprit"] = json!({
                    "op": c.op,
                    "location": view(c.op).location,
                    "resolves": c.resolves,
                });
            }
            detail["minimal"] = json!({
                "ops": m.ops,
                "locations": m.ops.iter().map(|&i| view(i).location).collect::<Vec<_>>(),
                "one_minimal": m.one_minimal,
                "doubted": m.doubted,
                "blamed": m.blamed(),
            });
        }
        if several {
            if let Some(r) = found.relaxed {
                lines.push(format!(
                    "given the benefit of the doubt to look further: {}",
                    view(r).location
                ));
                detail["relaxed"] = json!(r);
            }
        }
        details.push(detail);
    }
    if several {
        lines.push(match &all.end {
            End::Linearizable => format!(
                "no other violation: with {} given the benefit of the doubt, the history is linearizable",
                if all.found.len() == 1 { "that operation".to_string() } else { format!("those {} operations", all.found.len()) }
            ),
            End::Limit => format!("stopped at {} violations (--violations)", all.found.len()),
            End::Unknown(reason) => format!("stopped: the next check could not decide ({reason})"),
            End::Stuck => "stopped: every operation of the last violation was already given the benefit of the doubt".to_string(),
            _ => "stopped".to_string(),
        });
    }
    (lines, serde_json::Value::Array(details))
}
