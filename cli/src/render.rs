//! `stateprop render`: check one file and draw it as an HTML page.

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
