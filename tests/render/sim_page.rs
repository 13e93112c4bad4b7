//! The page of a simulated run (`render_sim_html`): a lane per node, an arrow per message from
//! where it was sent to where it arrived, the failing step highlighted, user text escaped and
//! the number of events drawn bounded. Read from the page's SVG attributes, not from its look.

use crate::register::{cluster, BackupReads};
use serde_json::{json, Value};
use stateprop::render::{render_sim_html, RenderOptions, SimPageError};
use stateprop::{Config, Runner};
use std::collections::BTreeMap;

/// The JSON report of the stale read of `examples/replicated_register.rs` (seed 7, as the
/// example runs it): a write at the primary, then a read at a backup the write has not reached.
pub(crate) fn stale_read_report() -> Value {
    let config = Config::default()
        .ignore_env()
        .seed(7)
        .cases(200)
        .steps(1..30)
        .persist(false);
    let result = Runner::with_initial(config, cluster()).run_simulated::<BackupReads>();
    assert!(result.failed());
    result.report.json()
}

/// Every element `<name ...>` of the page's drawing (the SVG `#sim`, not the legend), as its
/// attributes (entities left as written).
pub(crate) fn elements(html: &str, name: &str) -> Vec<BTreeMap<String, String>> {
    let open = format!("<{name} ");
    let mut found = Vec::new();
    let start = html.find("<svg id=\"sim\"").expect("the drawing");
    let end = start
        + html[start..]
            .find("</svg></div>")
            .expect("the drawing's end");
    let mut rest = &html[start..end];
    while let Some(at) = rest.find(&open) {
        let tag = &rest[at + open.len()..];
        let end = tag.find('>').expect("a closed tag");
        found.push(attributes(&tag[..end]));
        rest = &tag[end..];
    }
    found
}

/// `a="1" b="2"` as a map; values never hold a `"` (the page escapes it).
fn attributes(text: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut rest = text.trim_end_matches('/').trim();
    while let Some((name, after)) = rest.split_once("=\"") {
        let (value, after) = after.split_once('"').expect("a closed value");
        out.insert(name.trim().to_string(), value.to_string());
        rest = after.trim_start();
    }
    out
}

fn has_class(e: &BTreeMap<String, String>, class: &str) -> bool {
    e.get("class")
        .is_some_and(|c| c.split_whitespace().any(|w| w == class))
}

fn num(e: &BTreeMap<String, String>, name: &str) -> f64 {
    e.get(name)
        .unwrap_or_else(|| panic!("no {name} in {e:?}"))
        .parse()
        .unwrap_or_else(|_| panic!("{name} is no number in {e:?}"))
}

/// The marks of events, by their index in the report's events.
fn marks(html: &str) -> BTreeMap<usize, BTreeMap<String, String>> {
    ["circle", "path"]
        .iter()
        .flat_map(|name| elements(html, name))
        .filter(|e| has_class(e, "ev"))
        .map(|e| (num(&e, "data-event") as usize, e))
        .collect()
}

/// Each lane's height, by node, from the lines of its up segments.
fn lanes(html: &str) -> BTreeMap<u64, f64> {
    let mut out = BTreeMap::new();
    for line in elements(html, "line")
        .into_iter()
        .filter(|e| has_class(e, "lane"))
    {
        let node = num(&line, "data-node") as u64;
        assert_eq!(num(&line, "y1"), num(&line, "y2"), "a lane is level");
        let y = *out.entry(node).or_insert(num(&line, "y1"));
        assert_eq!(y, num(&line, "y1"), "one height per lane");
    }
    out
}

fn events(report: &Value) -> &Vec<Value> {
    report["sim"]["events"].as_array().expect("sim events")
}

fn page(report: &Value) -> String {
    render_sim_html(report, "replicated register", &RenderOptions::default()).expect("a page")
}

#[test]
fn the_stale_read_page_has_a_lane_per_node_and_an_arrow_per_delivered_message() {
    let report = stale_read_report();
    let html = page(&report);
    let nodes = report["sim"]["nodes"].as_u64().unwrap();
    assert_eq!(nodes, 3);
    let lanes = lanes(&html);
    assert_eq!(lanes.keys().copied().collect::<Vec<_>>(), [0, 1, 2]);
    let events = events(&report);
    let marks = marks(&html);
    let arrows: Vec<_> = elements(&html, "line")
        .into_iter()
        .filter(|e| has_class(e, "msg"))
        .collect();
    let delivered: Vec<(usize, &Value)> = events
        .iter()
        .enumerate()
        .filter(|(_, e)| e["kind"] == "deliver")
        .collect();
    // The write's replication reaches both backups, and both acknowledge it.
    assert_eq!(delivered.len(), 4, "{events:#?}");
    for (at, deliver) in &delivered {
        let message = deliver["message"].as_u64().unwrap();
        let sent = events
            .iter()
            .position(|e| e["kind"] == "send" && e["message"] == message)
            .expect("its send");
        let (from, to) = (
            events[sent]["node"].as_u64().unwrap(),
            deliver["node"].as_u64().unwrap(),
        );
        assert_eq!(deliver["peer"].as_u64(), Some(from));
        let matching: Vec<_> = arrows
            .iter()
            .filter(|a| a.get("data-msg") == Some(&message.to_string()))
            .collect();
        assert_eq!(matching.len(), 1, "message #{message}: {matching:?}");
        let arrow = matching[0];
        assert!(has_class(arrow, "delivered"), "{arrow:?}");
        assert_eq!(num(arrow, "data-send") as usize, sent);
        assert_eq!(num(arrow, "data-end") as usize, *at);
        assert_eq!(num(arrow, "data-from") as u64, from);
        assert_eq!(num(arrow, "data-to") as u64, to);
        // From the sender's lane where it was sent to the receiver's lane where it arrived.
        let (send_mark, deliver_mark) = (&marks[&sent], &marks[at]);
        assert_eq!(num(arrow, "x1"), num(send_mark, "data-x"));
        assert_eq!(num(arrow, "y1"), lanes[&from]);
        assert_eq!(num(arrow, "x2"), num(deliver_mark, "data-x"));
        assert_eq!(num(arrow, "y2"), lanes[&to]);
        assert!(num(arrow, "x1") < num(arrow, "x2"), "{arrow:?}");
    }
    assert_eq!(
        arrows.iter().filter(|a| has_class(a, "delivered")).count(),
        delivered.len()
    );
    // Every event at a node has its mark, on that node's lane.
    for (i, e) in events.iter().enumerate() {
        if let Some(node) = e["node"].as_u64() {
            assert_eq!(num(&marks[&i], "data-y"), lanes[&node], "event {i}: {e}");
        }
    }
}

#[test]
fn the_failing_step_is_highlighted_and_the_program_and_property_listed() {
    let report = stale_read_report();
    let html = page(&report);
    // Not linearizable: the read cannot be placed after the write.
    let step = report["failure"]["blocked"]
        .as_u64()
        .expect("a blocked step");
    assert_eq!(step, 1);
    let events = events(&report);
    // The read at the backup, and its stale answer, are inside the highlighted step.
    let read = events
        .iter()
        .position(|e| e["kind"] == "request" && e["step"] == step)
        .expect("the failing step's request");
    let answer = events
        .iter()
        .position(|e| e["kind"] == "reply" && e["request"] == events[read]["request"])
        .expect("its answer");
    let rects: Vec<_> = elements(&html, "rect")
        .into_iter()
        .filter(|r| r.get("id").map(String::as_str) == Some("failing-step"))
        .collect();
    assert_eq!(rects.len(), 1);
    let (x, width) = (num(&rects[0], "x"), num(&rects[0], "width"));
    let marks = marks(&html);
    for event in [read, answer] {
        let at = num(&marks[&event], "data-x");
        assert!(
            x < at && at < x + width,
            "event {event} at {at}, step {x}+{width}"
        );
    }
    // The write of step 0 is not.
    let write = events
        .iter()
        .position(|e| e["kind"] == "request" && e["step"] == 0)
        .unwrap();
    assert!(num(&marks[&write], "data-x") < x);
    assert!(
        html.contains("<li class=\"failing\">SimStep::Request { client: 0, node: 1, op: RegisterOp::Read }</li>"),
        "{html}"
    );
    // The operations as recorded, the two the violation involves marked: the stale read's row
    // has its answer.
    let history = &html[html.find("id=\"history\"").expect("the history")..];
    let history = &history[..history.find("</table>").unwrap()];
    let involved: Vec<&str> = history.split("<tr class=\"involved\">").skip(1).collect();
    assert_eq!(involved.len(), 2, "{history}");
    assert!(
        involved[1].contains("Answer(Value(None))"),
        "{}",
        involved[1]
    );
    let violated = &html[html.find("id=\"violated\"").expect("the property")..];
    assert!(
        violated.starts_with("id=\"violated\"><strong>not-linearizable</strong>"),
        "{violated:.200}"
    );
    assert!(violated[..violated.find("</p>").unwrap()]
        .contains("the history is not linearizable: step 1"));
}

#[test]
fn text_from_the_report_is_escaped() {
    let mut report = stale_read_report();
    let nasty = "<script>alert(\"x\")</script> & 'y'";
    report["sim"]["events"][1]["text"] = json!(nasty);
    report["minimal"][0]["rust"] = json!(nasty);
    report["failure"]["message"] = json!(nasty);
    report["history"][0]["op"] = json!(nasty);
    let html = render_sim_html(&report, nasty, &RenderOptions::default()).unwrap();
    assert!(!html.contains("<script>alert"), "unescaped");
    let escaped = "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;y&#39;";
    // The title, the program, the property, the history and the event's mark.
    assert!(html.matches(escaped).count() >= 5, "{html}");
    assert_eq!(
        html.matches("<script>").count(),
        1,
        "only the page's own script"
    );
}

/// A run of `steps` steps, each sending a message from n0 to n1 and delivering it, failing at
/// step `failing`.
fn long_report(steps: u64, failing: u64) -> Value {
    let mut events = Vec::new();
    for k in 0..steps {
        events.push(json!({"time": k, "kind": "step", "node": null, "step": k,
                           "text": format!("step {k}: Deliver {{ pick: 0 }}")}));
        events.push(
            json!({"time": k, "kind": "send", "node": 0, "peer": 1, "message": k,
                           "step": k, "text": format!("-> n1 Ping({k})")}),
        );
        events.push(
            json!({"time": k, "kind": "deliver", "node": 1, "peer": 0, "message": k,
                           "step": k, "text": format!("<- n0 Ping({k})")}),
        );
    }
    json!({
        "schema": "stateprop-report/1",
        "verdict": "fail",
        "failure": {"kind": "invariant", "step": failing, "message": "broken"},
        "minimal": [],
        "sim": {"nodes": 2, "events": events, "left_out": 0},
    })
}

#[test]
fn a_long_run_draws_a_bounded_window_around_the_failing_step_and_says_so() {
    let report = long_report(2000, 1500);
    let options = RenderOptions::default().max_ops(300);
    let html = render_sim_html(&report, "long", &options).unwrap();
    let marks = marks(&html);
    // Two marks per step (send and delivery), the step lines are not marks.
    assert!(marks.len() <= 300 && marks.len() >= 190, "{}", marks.len());
    let first = *marks.keys().next().unwrap();
    let last = *marks.keys().last().unwrap();
    assert!(last - first < 300);
    let failing_at = 1500 * 3;
    assert!(first < failing_at && failing_at < last, "{first}..{last}");
    assert!(
        html.contains("Showing 300 of 6000 events, those around the failing step"),
        "{}",
        &html[html.find("<main>").unwrap()..][..600]
    );
    assert_eq!(
        elements(&html, "rect")
            .iter()
            .filter(|r| r.get("id").map(String::as_str) == Some("failing-step"))
            .count(),
        1
    );
    // An arrow per delivered message drawn, each with both ends inside the window.
    let arrows: Vec<_> = elements(&html, "line")
        .into_iter()
        .filter(|e| has_class(e, "msg"))
        .collect();
    assert!(
        arrows.len() >= 99 && arrows.len() <= 101,
        "{}",
        arrows.len()
    );
    // The whole page stays small: 300 events, not 6000.
    assert!(html.len() < 400_000, "{} bytes", html.len());
    let all = render_sim_html(&report, "long", &RenderOptions::default().max_ops(10_000)).unwrap();
    assert!(all.len() > 5 * html.len());
    assert!(!all.contains("id=\"window-note\""));
}

#[test]
fn a_report_without_events_or_with_bad_ones_is_refused_by_name() {
    let mut report = long_report(3, 1);
    let options = RenderOptions::default();
    report["sim"]["events"][4]["node"] = json!(7);
    match render_sim_html(&report, "bad", &options) {
        Err(SimPageError::Malformed { field, problem }) => {
            assert_eq!(field, "sim.events[4].node");
            assert!(
                problem.contains("node 7, but the run has 2 nodes"),
                "{problem}"
            );
        }
        other => panic!("{other:?}"),
    }
    report["sim"] = Value::Null;
    assert_eq!(
        render_sim_html(&report, "none", &options),
        Err(SimPageError::NotSimulated)
    );
}

/// A run with a fault of each kind, as a report's `sim` section: a write replicated to n1 and
/// n2, its message to n1 duplicated, its message to n2 delayed, n1 cut off (the original to n1
/// is lost at the cut), the copy dropped, n2 crashed (the delayed message lost with it), a heal,
/// n2 restarted, and a message from n1 delivered.
fn faulty_report() -> Value {
    let ev = |time: u64, kind: &str, node: Option<u64>, step: u64, text: &str| json!({"time": time, "kind": kind, "node": node, "step": step, "text": text});
    let with = |mut e: Value, fields: Value| {
        for (k, v) in fields.as_object().unwrap() {
            e[k] = v.clone();
        }
        e
    };
    let events = vec![
        ev(
            0,
            "step",
            None,
            0,
            "step 0: Request { client: 0, node: 0, op: Write { value: 1 } }",
        ),
        with(
            ev(0, "request", Some(0), 0, "step 0: c0 r0 Write { value: 1 }"),
            json!({"client": 0, "request": 0}),
        ),
        with(
            ev(0, "send", Some(0), 0, "-> n1 Set(1)"),
            json!({"peer": 1, "message": 0, "arrives": 5}),
        ),
        with(
            ev(0, "send", Some(0), 0, "-> n2 Set(1)"),
            json!({"peer": 2, "message": 1, "arrives": 6}),
        ),
        with(
            ev(0, "reply", Some(0), 0, "=> c0 r0 Written"),
            json!({"client": 0, "request": 0}),
        ),
        ev(0, "step", None, 1, "step 1: Duplicate { pick: 0 }"),
        with(
            ev(
                0,
                "duplicate",
                Some(0),
                1,
                "duplicated -> n1 Set(1) (at 7ms)",
            ),
            json!({"peer": 1, "message": 2, "original": 0, "arrives": 7}),
        ),
        ev(0, "step", None, 2, "step 2: Delay { pick: 1, ms: 40 }"),
        with(
            ev(0, "delay", Some(0), 2, "delayed -> n2 Set(1) (at 46ms)"),
            json!({"peer": 2, "message": 3, "original": 1, "arrives": 46}),
        ),
        ev(
            0,
            "step",
            None,
            3,
            "step 3: Partition { side: 2, one_way: false }",
        ),
        ev(
            0,
            "partition",
            None,
            3,
            "step 3: Partition { side: 2, one_way: false }",
        ),
        with(
            ev(5, "lost", Some(1), 3, "lost <- n0 Set(1) (cut)"),
            json!({"peer": 0, "message": 0}),
        ),
        ev(5, "step", None, 4, "step 4: Drop { pick: 0 }"),
        with(
            ev(5, "drop", Some(0), 4, "dropped -> n1 Set(1)"),
            json!({"peer": 1, "message": 2}),
        ),
        ev(5, "step", None, 5, "step 5: Crash { node: 2 }"),
        ev(5, "crash", Some(2), 5, "CRASH (step 5)"),
        with(
            ev(5, "lost", Some(2), 5, "lost <- n0 Set(1) (crashed)"),
            json!({"peer": 0, "message": 3}),
        ),
        ev(5, "step", None, 6, "step 6: Heal"),
        ev(5, "heal", None, 6, "step 6: Heal"),
        ev(5, "step", None, 7, "step 7: Restart { node: 2 }"),
        ev(5, "restart", Some(2), 7, "RESTART (step 7)"),
        with(
            ev(5, "send", Some(1), 7, "-> n0 Hello"),
            json!({"peer": 0, "message": 4, "arrives": 9}),
        ),
        with(
            ev(9, "deliver", Some(0), 7, "<- n1 Hello"),
            json!({"peer": 1, "message": 4}),
        ),
    ];
    json!({
        "schema": "stateprop-report/1",
        "verdict": "fail",
        "failure": {"kind": "invariant", "step": 5, "message": "n2 lost its value"},
        "minimal": [],
        "sim": {"nodes": 3, "events": events, "left_out": 0},
    })
}

#[test]
fn faults_are_drawn_where_they_happened() {
    let html = page(&faulty_report());
    let lanes = lanes(&html);
    let marks = marks(&html);
    let x = |event: usize| num(&marks[&event], "data-x");
    let lines = elements(&html, "line");
    let global = |event: usize| {
        let line = lines
            .iter()
            .find(|l| l.get("data-event") == Some(&event.to_string()))
            .unwrap_or_else(|| panic!("no line for event {event}"));
        num(line, "x1")
    };
    let arrow = |message: u64| {
        let found: Vec<_> = lines
            .iter()
            .filter(|l| has_class(l, "msg") && l.get("data-msg") == Some(&message.to_string()))
            .collect();
        assert_eq!(found.len(), 1, "#{message}: {found:?}");
        found[0].clone()
    };
    let ends =
        |a: &BTreeMap<String, String>| (num(a, "x1"), num(a, "y1"), num(a, "x2"), num(a, "y2"));
    // Lost at the cut: from n0's send to n1's lane where it would have landed, ending in a cross.
    let lost = arrow(0);
    assert!(has_class(&lost, "lost"));
    assert_eq!(lost["marker-end"], "url(#cross)");
    assert_eq!(ends(&lost), (x(2), lanes[&0], x(11), lanes[&1]));
    // The duplicate's copy starts at the duplication and is dropped between the lanes.
    let copy = arrow(2);
    assert!(
        has_class(&copy, "dup") && has_class(&copy, "dropped"),
        "{copy:?}"
    );
    assert_eq!(copy["marker-end"], "url(#cross)");
    assert_eq!(
        ends(&copy),
        (x(6), lanes[&0], x(13), (lanes[&0] + lanes[&1]) / 2.0)
    );
    // The delayed message starts at its send and is lost with the node it was going to.
    let delayed = arrow(3);
    assert!(has_class(&delayed, "delayed") && has_class(&delayed, "lost"));
    assert_eq!(ends(&delayed), (x(3), lanes[&0], x(16), lanes[&2]));
    // The message sent before the delay and the duplication has no arrow of its own.
    assert!(lines
        .iter()
        .all(|l| l.get("data-msg").map(String::as_str) != Some("1")));
    let delivered = arrow(4);
    assert!(has_class(&delivered, "delivered"));
    assert_eq!(ends(&delivered), (x(21), lanes[&1], x(22), lanes[&0]));
    assert_eq!(lines.iter().filter(|l| has_class(l, "msg")).count(), 4);

    // The partition's band, from the cut to the heal, n1's part of it darker.
    let rects = elements(&html, "rect");
    let band = rects
        .iter()
        .find(|r| r.get("class").map(String::as_str) == Some("band partition"))
        .expect("a partition band");
    assert_eq!(num(band, "x"), global(10));
    assert_eq!(num(band, "x") + num(band, "width"), global(18));
    let side: Vec<_> = rects
        .iter()
        .filter(|r| has_class(r, "side"))
        .map(|r| num(r, "y") + 14.0)
        .collect();
    assert_eq!(side, [lanes[&1]]);
    // n2's lane is a gap from its crash to its restart.
    let down: Vec<_> = lines
        .iter()
        .filter(|l| has_class(l, "lane-down"))
        .map(|l| (num(l, "data-node") as u64, num(l, "x1"), num(l, "x2")))
        .collect();
    assert_eq!(down, [(2, x(15), x(20))]);
    // The client's write, from its request to its reply.
    let span = lines
        .iter()
        .find(|l| has_class(l, "op-span"))
        .expect("an operation");
    assert_eq!(ends(span), (x(1), lanes[&0], x(4), lanes[&0]));
    // The failing step (the crash) is the band from step 5 to step 6.
    let failing = rects
        .iter()
        .find(|r| r.get("id").map(String::as_str) == Some("failing-step"))
        .unwrap();
    let (from, to) = (num(failing, "x"), num(failing, "x") + num(failing, "width"));
    assert!(
        from < x(15) && x(16) < to && to < global(18),
        "{from}..{to}"
    );
}

#[test]
fn a_run_that_is_not_simulated_has_no_events_and_no_lanes() {
    use stateprop::models::{CasRegister, RegisterOp, RegisterOut};
    // A register that forgets every write: a sequential run against the model fails.
    #[derive(Default)]
    struct Forgetful;
    impl stateprop::System<CasRegister> for Forgetful {
        fn apply(&mut self, op: &RegisterOp) -> RegisterOut {
            match op {
                RegisterOp::Read => RegisterOut::Value(None),
                RegisterOp::Write { .. } => RegisterOut::Written,
                RegisterOp::Cas { .. } => RegisterOut::Cas(false),
            }
        }
    }
    let config = Config::default().ignore_env().seed(1).persist(false);
    let result = Runner::<CasRegister>::new(config).run_default::<Forgetful>();
    assert!(result.failed());
    assert!(result.report.sim.is_none());
    let report = result.report.json();
    assert!(report["sim"].is_null(), "{}", report["sim"]);
    assert_eq!(
        render_sim_html(&report, "sequential", &RenderOptions::default()),
        Err(SimPageError::NotSimulated)
    );
    // A simulated run's report has them, as structured events.
    let stale = stale_read_report();
    let first_send = events(&stale)
        .iter()
        .find(|e| e["kind"] == "send")
        .expect("a send");
    assert_eq!(first_send["node"], 0);
    assert_eq!(first_send["step"], 0);
    assert!(first_send["message"].is_u64() && first_send["arrives"].is_u64());
}

/// A small deterministic generator: the test needs variety, not statistics.
fn next(state: &mut u64) -> u64 {
    *state = state
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    *state >> 33
}

#[test]
fn perturbed_reports_give_a_page_or_an_error_never_a_panic() {
    let base = faulty_report();
    let kinds = [
        "step",
        "request",
        "send",
        "deliver",
        "drop",
        "duplicate",
        "delay",
        "lost",
        "crash",
        "restart",
        "partition",
        "heal",
        "reply",
        "unknown",
        "tail",
        "invariant",
        "other",
        "new",
    ];
    let fields = [
        "node", "peer", "message", "original", "request", "step", "time",
    ];
    let mut state = 7;
    for case in 0..400 {
        let mut report = base.clone();
        let events = report["sim"]["events"].as_array_mut().unwrap();
        for _ in 0..1 + next(&mut state) % 6 {
            let i = (next(&mut state) as usize) % events.len();
            match next(&mut state) % 5 {
                0 => events[i]["kind"] = json!(kinds[(next(&mut state) as usize) % kinds.len()]),
                1 => {
                    let field = fields[(next(&mut state) as usize) % fields.len()];
                    events[i][field] = match next(&mut state) % 3 {
                        0 => Value::Null,
                        1 => json!(next(&mut state) % 3),
                        _ => json!(next(&mut state) % 30),
                    };
                }
                2 => {
                    events.remove(i);
                }
                3 => {
                    let j = (next(&mut state) as usize) % events.len();
                    events.swap(i, j);
                }
                _ => {
                    let copy = events[i].clone();
                    events.insert(i, copy);
                }
            }
        }
        if case % 7 == 0 {
            report["failure"]["step"] = json!(next(&mut state) % 12);
        }
        let options = RenderOptions::default().max_ops(1 + (next(&mut state) as usize) % 25);
        // A bad node number is refused by name; anything else draws.
        match render_sim_html(&report, "perturbed", &options) {
            Ok(html) => assert!(html.contains("<svg id=\"sim\""), "case {case}"),
            Err(SimPageError::Malformed { field, .. }) => {
                assert!(field.starts_with("sim.events["), "case {case}: {field}")
            }
            Err(other) => panic!("case {case}: {other:?}"),
        }
    }
}
