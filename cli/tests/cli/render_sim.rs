//! `stateprop render` on a simulated run's JSON report: no `--model`, a page with a lane per
//! node; anything else without `--model` refused by name.

use super::{scratch, stateprop, stderr, stdout};
use crate::register::{cluster, BackupReads};
use stateprop::{Config, Runner};

/// The stale read's report, as `STATEPROP_REPORT` writes it.
fn stale_read_report() -> String {
    let config = Config::default()
        .ignore_env()
        .seed(7)
        .cases(200)
        .steps(1..30)
        .persist(false);
    let result = Runner::with_initial(config, cluster()).run_simulated::<BackupReads>();
    assert!(result.failed());
    serde_json::to_string_pretty(&result.report.json()).unwrap()
}

#[test]
fn render_draws_a_simulated_report_without_a_model() {
    let report = scratch("sim-report.json", stale_read_report());
    let out = report.with_file_name("sim-report.html");
    let _ = std::fs::remove_file(&out);
    let o = stateprop(&[
        "render".as_ref(),
        report.as_os_str(),
        "-o".as_ref(),
        out.as_os_str(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(
        stdout(&o),
        format!(
            "{}: a simulated run that failed; wrote {}\n",
            report.display(),
            out.display()
        )
    );
    let html = std::fs::read_to_string(&out).unwrap();
    assert!(html.contains("<svg id=\"sim\""));
    for n in 0..3 {
        assert!(
            html.contains(&format!("class=\"lane-label\" data-node=\"{n}\"")),
            "n{n}"
        );
    }
    assert!(html.contains("id=\"failing-step\""));
}

#[test]
fn without_a_model_anything_but_a_simulated_report_is_refused_by_name() {
    let cases = [
        (
            "history.json",
            "[{\"type\": \"invoke\", \"client\": 1, \"op\": \"Read\"}]",
            "history.json: not a stateprop JSON report",
        ),
        (
            "passed.json",
            "{\"schema\": \"stateprop-report/1\", \"verdict\": \"pass\", \"sim\": null}",
            "passed.json: a report without a `sim` section",
        ),
        (
            "bad-node.json",
            "{\"schema\": \"stateprop-report/1\", \"sim\": {\"nodes\": 2, \"events\": \
             [{\"time\": 0, \"kind\": \"send\", \"node\": 5, \"text\": \"x\"}]}}",
            "bad-node.json: field `sim.events[0].node` of the report: node 5, but the run has 2 nodes",
        ),
        ("broken.json", "{\n\"schema\": ", "broken.json:2: not JSON"),
    ];
    for (name, text, says) in cases {
        let path = scratch(name, text);
        let out = path.with_extension("html");
        let o = stateprop(&[
            "render".as_ref(),
            path.as_os_str(),
            "-o".as_ref(),
            out.as_os_str(),
        ]);
        assert_eq!(o.status.code(), Some(2), "{name}");
        let err = stderr(&o);
        assert!(err.starts_with("stateprop: "), "{err}");
        assert!(err.contains(says), "{name}: {err}");
        assert_eq!(err.lines().count(), 1, "{err}");
    }
    // `check` still needs its model, as a usage error.
    let o = stateprop(&["check", "history.json"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--model <MODEL>"), "{}", stderr(&o));
}
