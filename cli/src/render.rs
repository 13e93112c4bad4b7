//! `stateprop render`: check one file and draw it as an HTML page; or, without `--model`, draw
//! a simulated run's JSON report (`STATEPROP_REPORT`) as a lane per node.

use crate::args::RenderArgs;
use crate::load::Outcome;
use crate::{complain, say, shown};
use stateprop::check::{check_linearizable_by, Verdict};
use std::process::ExitCode;

/// Status 0 once the page is written, whatever the verdict: the page is the answer.
pub fn render(options: &RenderArgs) -> ExitCode {
    let config = options.input.check_config();
    let path = &options.file;
    let file = &shown(path.as_os_str());
    let out_path = options.output.as_path();
    let out = &shown(out_path.as_os_str());
    if options.input.model.is_none() {
        return match simulated(options, file) {
            Ok(verdict) => {
                say(format_args!(
                    "{file}: a simulated run that {verdict}; wrote {out}"
                ));
                ExitCode::SUCCESS
            }
            Err(message) => {
                complain(message);
                ExitCode::from(2)
            }
        };
    }
    let outcome = with_history!(&options.input, path, file, |history, initial, partition| {
        let report = check_linearizable_by(&history, &initial, &config, partition);
        let page = stateprop::render::RenderOptions::default().max_ops(options.max_ops);
        match stateprop::render::render_html_with(
            &history, &initial, &report, partition, file, &page,
        ) {
            Err(too_large) => Outcome::Bad(format!("{out}: not written: {too_large}")),
            Ok(html) => match std::fs::write(out_path, html) {
                Ok(()) => Outcome::Checked {
                    report: Box::new(report),
                    explanation: Vec::new(),
                    details: serde_json::Value::Null,
                },
                Err(e) => Outcome::Bad(format!("{out}: cannot write: {e}")),
            },
        }
    });
    match outcome {
        Outcome::Bad(message) => {
            complain(message);
            ExitCode::from(2)
        }
        Outcome::Checked { report, .. } => {
            let word = match report.verdict {
                Verdict::Holds => "linearizable",
                Verdict::Violated(_) => "not linearizable",
                _ => "unknown",
            };
            say(format_args!("{file}: {word}; wrote {out}"));
            ExitCode::SUCCESS
        }
    }
}

/// Draws the simulated run's JSON report `options.file` (called `file` in messages); returns
/// the run's verdict as a verb (`failed`, `passed`).
fn simulated(options: &RenderArgs, file: &str) -> Result<&'static str, String> {
    let out = &shown(options.output.as_os_str());
    let (text, _) = crate::load::read(Some(stateprop::import::Format::Json), &options.file, file)?;
    let report: serde_json::Value = serde_json::from_str(&text).map_err(|e| {
        format!(
            "{file}:{}: not JSON ({e}): without --model, render reads a simulated run's JSON report",
            e.line()
        )
    })?;
    drop(text);
    let is_report = report
        .get("schema")
        .and_then(serde_json::Value::as_str)
        .is_some_and(|s| s.starts_with("stateprop-report/"));
    if !is_report {
        return Err(format!(
            "{file}: not a stateprop JSON report (no \"schema\": \"stateprop-report/1\"); to \
             draw a history, name its model with --model"
        ));
    }
    let page = stateprop::render::RenderOptions::default().max_ops(options.max_ops);
    let html = stateprop::render::render_sim_html(&report, file, &page)
        .map_err(|e| format!("{file}: {e}"))?;
    std::fs::write(&options.output, html).map_err(|e| format!("{out}: cannot write: {e}"))?;
    Ok(
        match report.get("verdict").and_then(serde_json::Value::as_str) {
            Some("fail") => "failed",
            _ => "passed",
        },
    )
}
