//! A simulated run as a web page: [`render_sim_html`].
//!
//! The page draws a lane per node and the run's events along it, left to right in the order
//! they happened, with the simulated time written above. Order, not scale: in a simulation many
//! events share a millisecond (a request, the messages it sends and the answer are all at one
//! instant), and on a time scale they would sit on top of each other. Each message is an arrow
//! from its sender's lane where it was sent to its receiver's lane where it arrived; a dropped
//! or lost one ends in a cross, a duplicate's copy is dashed and marked. Client requests and
//! replies are marks on the lane joined by a bar for the operation's span, a crashed node's lane
//! is a gap until it restarts, a partition is a shaded band until the heal, and the failing step
//! is highlighted. Above it: the violated property and the minimal program; below it, the
//! operations as the history recorded them.
//!
//! It reads the JSON report (`docs/report-schema.md`), whose `sim` section holds the events,
//! so the command line draws a report written by any test with `STATEPROP_REPORT`.

mod drawing;

use super::{clip, esc, PageTooLarge, RenderOptions};
use drawing::Drawing;
use serde_json::Value;
use std::fmt::Write;

/// The page around the body; `<!--title-->` and `<!--body-->` are filled in. Neither marker can
/// come from user text, which is escaped.
const TEMPLATE: &str = include_str!("sim_page.html");

/// Longest event text kept for the panel; a message's `Debug` can be long.
const EVENT_TEXT: usize = 2000;
/// Program steps and recorded operations listed at most (a minimal program is short; a report
/// made by hand need not be).
const MAX_LISTED: usize = 1000;

/// Why a report cannot be drawn as a simulated run.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SimPageError {
    /// The report has no `sim` section: it is not a simulated run's failure report.
    NotSimulated,
    /// A field of the report is not what `docs/report-schema.md` says.
    Malformed {
        /// Where, as a path into the JSON (`sim.events[3].time`).
        field: String,
        /// What is wrong with it.
        problem: String,
    },
    /// The page would be larger than [`RenderOptions::max_page_bytes`].
    TooLarge(PageTooLarge),
}

impl std::fmt::Display for SimPageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SimPageError::NotSimulated => write!(
                f,
                "a report without a `sim` section: only a simulated run's failure report is \
                 drawn as lanes (a history file needs --model)"
            ),
            SimPageError::Malformed { field, problem } => {
                write!(f, "field `{field}` of the report: {problem}")
            }
            SimPageError::TooLarge(too_large) => write!(f, "{too_large}"),
        }
    }
}

impl std::error::Error for SimPageError {}

/// One event as the page reads it from the report.
struct Ev {
    time: u64,
    kind: String,
    node: Option<u16>,
    peer: Option<u16>,
    message: Option<u64>,
    original: Option<u64>,
    request: Option<u64>,
    step: Option<u64>,
    text: String,
}

/// What the page draws of a report.
struct Run {
    nodes: u16,
    events: Vec<Ev>,
    /// Events the report itself left out (it keeps a bounded number).
    left_out: u64,
}

/// Renders a simulated run's JSON report ([`Report::json`](crate::Report::json)) as one
/// self-contained HTML page: a lane per node, messages as arrows, the failing step
/// highlighted, the violated property and minimal program above, and the operations as the
/// history recorded them below (those the failure involves marked). At most
/// [`RenderOptions::max_ops`] events are drawn (those around the failing step), and the page
/// says what it left out.
///
/// For tools reading the page: the drawing is the SVG `#sim`; each lane's line has the class
/// `lane` and `data-node`; each event's mark has the class `ev`, `data-event` (its index in the
/// report's `sim.events`), `data-kind`, `data-node` and its centre in `data-x`, `data-y`; each
/// message arrow is a `line` of class `msg` (and `delivered`, `lost`, `dropped`, `dup`,
/// `delayed` or `open`) with `data-msg`, `data-from`, `data-to`, `data-send` and `data-end`
/// (event indices); the failing step is the `rect` `#failing-step`.
pub fn render_sim_html(
    report: &Value,
    title: &str,
    options: &RenderOptions,
) -> Result<String, SimPageError> {
    let run = read_run(report)?;
    let failing_step = failing_step(report).and_then(|k| {
        run.events
            .iter()
            .position(|e| e.kind == "step" && e.step == Some(k))
    });
    let total = run.events.len();
    let max = options.max_ops.max(1);
    let (start, end) = if total <= max {
        (0, total)
    } else {
        // Mostly what led to the failing step, and some of what followed.
        let focus = failing_step.unwrap_or(0);
        let start = focus.saturating_sub(max - max / 4).min(total - max);
        (start, start + max)
    };
    let estimate = TEMPLATE.len() as u64
        + run.events[start..end]
            .iter()
            .map(|e| 900 + 3 * e.text.len().min(EVENT_TEXT) as u64)
            .sum::<u64>();
    if estimate > options.max_page_bytes {
        return Err(SimPageError::TooLarge(PageTooLarge {
            estimate,
            cap: options.max_page_bytes,
            ops: end - start,
        }));
    }

    let mut body = String::from("<div class=\"page\">\n");
    header(&mut body, report, &run, title);
    body.push_str("<main>\n");
    program(&mut body, report);
    let _ = writeln!(
        body,
        "<section class=\"card\"><h2>The run, a lane per node</h2>"
    );
    if end - start < total {
        let _ = writeln!(
            body,
            "<p class=\"summary\" id=\"window-note\">Showing {} of {total} events{}: {start} \
             earlier and {} later ones are left out (stateprop render --max-ops N draws more).</p>",
            end - start,
            if failing_step.is_some() {
                ", those around the failing step"
            } else {
                ", the first ones"
            },
            total - end
        );
    }
    if run.left_out > 0 {
        let _ = writeln!(
            body,
            "<p class=\"summary\" id=\"report-note\">The report kept the first {total} events of \
             the run; {} more were left out of it.</p>",
            run.left_out
        );
    }
    Drawing {
        run: &run,
        start,
        end,
        failing_step,
    }
    .write(&mut body);
    body.push_str("</section>\n");
    history(&mut body, report);
    body.push_str("</main>\n</div>\n");

    let (head, rest) = TEMPLATE
        .split_once("<!--title-->")
        .expect("template has a title");
    let (middle, tail) = rest.split_once("<!--body-->").expect("template has a body");
    let mut page = String::with_capacity(TEMPLATE.len() + body.len() + title.len());
    page.push_str(head);
    page.push_str(&esc(title));
    page.push_str(middle);
    page.push_str(&body);
    page.push_str(tail);
    Ok(page)
}

/// The step the failure is blamed on: the step that failed a check, or for a history
/// violation the operation that could not be placed (`blocked`) or the later one of a broken
/// session guarantee, else the last step involved.
fn failing_step(report: &Value) -> Option<u64> {
    let failure = report.get("failure")?;
    ["step", "blocked", "later"]
        .iter()
        .find_map(|name| failure.get(*name).and_then(Value::as_u64))
        .or_else(|| {
            failure
                .get("involved")?
                .as_array()?
                .iter()
                .filter_map(Value::as_u64)
                .max()
        })
}

fn malformed(field: impl Into<String>, problem: &str) -> SimPageError {
    SimPageError::Malformed {
        field: field.into(),
        problem: problem.to_string(),
    }
}

/// The report's `sim` section, checked.
fn read_run(report: &Value) -> Result<Run, SimPageError> {
    let sim = match report.get("sim") {
        None | Some(Value::Null) => return Err(SimPageError::NotSimulated),
        Some(sim) => sim,
    };
    let nodes = sim
        .get("nodes")
        .and_then(Value::as_u64)
        .filter(|&n| (1..=256).contains(&n))
        .ok_or_else(|| malformed("sim.nodes", "expected a node count from 1 to 256"))?
        as u16;
    let list = sim
        .get("events")
        .and_then(Value::as_array)
        .ok_or_else(|| malformed("sim.events", "expected a list of events"))?;
    let mut events = Vec::with_capacity(list.len());
    for (i, e) in list.iter().enumerate() {
        let at = |name: &str| format!("sim.events[{i}].{name}");
        let number = |name: &str| -> Result<Option<u64>, SimPageError> {
            match e.get(name) {
                None | Some(Value::Null) => Ok(None),
                Some(v) => v
                    .as_u64()
                    .map(Some)
                    .ok_or_else(|| malformed(at(name), "expected a non-negative integer")),
            }
        };
        let node_of = |name: &str| -> Result<Option<u16>, SimPageError> {
            match number(name)? {
                Some(n) if n < u64::from(nodes) => Ok(Some(n as u16)),
                Some(n) => Err(malformed(
                    at(name),
                    &format!("node {n}, but the run has {nodes} nodes"),
                )),
                None => Ok(None),
            }
        };
        let text = |name: &str| -> Result<String, SimPageError> {
            e.get(name)
                .and_then(Value::as_str)
                .map(str::to_string)
                .ok_or_else(|| malformed(at(name), "expected a string"))
        };
        events.push(Ev {
            time: number("time")?.ok_or_else(|| malformed(at("time"), "missing"))?,
            kind: text("kind")?,
            node: node_of("node")?,
            peer: node_of("peer")?,
            message: number("message")?,
            original: number("original")?,
            request: number("request")?,
            step: number("step")?,
            text: text("text")?,
        });
    }
    let left_out = sim.get("left_out").and_then(Value::as_u64).unwrap_or(0);
    Ok(Run {
        nodes,
        events,
        left_out,
    })
}

/// Title, verdict, counts, the violated property, and the legend.
fn header(out: &mut String, report: &Value, run: &Run, title: &str) {
    let failed = report.get("verdict").and_then(Value::as_str) == Some("fail");
    let (class, verdict) = if failed {
        ("bad", "FAILED")
    } else {
        ("ok", "passed")
    };
    let count = |kind: &str| run.events.iter().filter(|e| e.kind == kind).count();
    let last = run.events.last().map_or(0, |e| e.time);
    let _ = writeln!(
        out,
        "<header>\n<h1>{}</h1>\n<div class=\"verdict-line\"><span class=\"verdict {class}\" \
         id=\"verdict\">{verdict}</span><span class=\"counts\">{} · {} · {} sent, {} delivered, \
         {} dropped or lost · {} crashes · {} partitions · {last} ms simulated</span></div>",
        esc(title),
        super::plural(usize::from(run.nodes), "node"),
        super::plural(run.events.len(), "event"),
        count("send") + count("duplicate"),
        count("deliver"),
        count("drop") + count("lost"),
        count("crash"),
        count("partition"),
    );
    if let Some(failure) = report.get("failure").filter(|f| !f.is_null()) {
        let kind = failure.get("kind").and_then(Value::as_str).unwrap_or("");
        let message = failure.get("message").and_then(Value::as_str).unwrap_or("");
        let _ = writeln!(
            out,
            "<p class=\"cause\" id=\"violated\"><strong>{}</strong>: {}</p>",
            esc(kind),
            esc(&clip(message, 4000))
        );
    }
    out.push_str(
        "<div class=\"legend\">\
         <span><svg width=\"34\" height=\"10\"><line class=\"msg\" x1=\"0\" y1=\"5\" x2=\"34\" \
         y2=\"5\"/></svg>message delivered</span>\
         <span><svg width=\"34\" height=\"10\"><line class=\"msg lost\" x1=\"0\" y1=\"5\" \
         x2=\"34\" y2=\"5\"/></svg>dropped or lost (ends in ✕)</span>\
         <span><svg width=\"34\" height=\"10\"><line class=\"msg dup\" x1=\"0\" y1=\"5\" \
         x2=\"34\" y2=\"5\"/></svg>duplicate</span>\
         <span><svg width=\"34\" height=\"10\"><line class=\"op-span\" x1=\"5\" y1=\"5\" \
         x2=\"29\" y2=\"5\"/></svg>client request to reply</span>\
         <span><svg width=\"34\" height=\"10\"><line class=\"lane-down\" x1=\"0\" y1=\"5\" \
         x2=\"34\" y2=\"5\"/></svg>node down</span>\
         <span><svg width=\"20\" height=\"12\"><rect class=\"band partition\" width=\"20\" \
         height=\"12\"/></svg>partition</span>\
         <span><svg width=\"20\" height=\"12\"><rect class=\"band failing\" width=\"20\" \
         height=\"12\"/></svg>the failing step</span>\
         <span class=\"axis-note\">x axis: events in order, simulated ms above (not to \
         scale)</span></div>\n</header>\n",
    );
}

/// The minimal program, the failing step marked.
fn program(out: &mut String, report: &Value) {
    let Some(steps) = report.get("minimal").and_then(Value::as_array) else {
        return;
    };
    let failing = failing_step(report);
    let _ = writeln!(
        out,
        "<section class=\"card\"><h2>Minimal program ({})</h2>\n<ol class=\"program\" start=\"0\">",
        super::plural(steps.len(), "step")
    );
    for (i, step) in steps.iter().enumerate().take(MAX_LISTED) {
        let rust = step
            .get("rust")
            .and_then(Value::as_str)
            .map_or_else(|| step.to_string(), str::to_string);
        let class = if failing == Some(i as u64) {
            " class=\"failing\""
        } else {
            ""
        };
        let _ = writeln!(out, "<li{class}>{}</li>", esc(&clip(&rust, 2000)));
    }
    out.push_str("</ol>");
    left_out(out, steps.len(), "steps");
    out.push_str("</section>\n");
}

/// The client operations as the history recorded them, those the failure involves marked.
fn history(out: &mut String, report: &Value) {
    let Some(ops) = report.get("history").and_then(Value::as_array) else {
        return;
    };
    let involved: Vec<u64> = report
        .pointer("/failure/involved")
        .and_then(Value::as_array)
        .map_or_else(Vec::new, |v| v.iter().filter_map(Value::as_u64).collect());
    let _ = writeln!(
        out,
        "<section class=\"card\" id=\"history\"><h2>Operations as recorded ({})</h2>\n\
         <table class=\"history\"><tr><th>step</th><th>client</th><th>operation</th>\
         <th>answer</th><th>invoked..returned</th></tr>",
        super::plural(ops.len(), "operation")
    );
    let text = |v: &Value| match v {
        Value::Null => "unknown".to_string(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    for op in ops.iter().take(MAX_LISTED) {
        let step = op.get("step").and_then(Value::as_u64);
        let class = if step.is_some_and(|s| involved.contains(&s)) {
            " class=\"involved\""
        } else {
            ""
        };
        let field = |name: &str| esc(&clip(&text(op.get(name).unwrap_or(&Value::Null)), 2000));
        let _ = writeln!(
            out,
            "<tr{class}><td>{}</td><td>{}</td><td><code>{}</code></td><td><code>{}</code></td>\
             <td>{}..{}</td></tr>",
            step.map_or_else(|| "-".to_string(), |s| s.to_string()),
            field("client"),
            field("op"),
            field("output"),
            field("call"),
            match op.get("ret") {
                None | Some(Value::Null) => "never".to_string(),
                Some(ret) => esc(&text(ret)),
            }
        );
    }
    out.push_str("</table>");
    left_out(out, ops.len(), "operations");
    out.push_str("</section>\n");
}

/// Says how many of `total` listed things were left out past [`MAX_LISTED`].
fn left_out(out: &mut String, total: usize, what: &str) {
    if total > MAX_LISTED {
        let _ = write!(
            out,
            "<p class=\"summary\">… and {} more {what}, left out.</p>",
            total - MAX_LISTED
        );
    }
}
