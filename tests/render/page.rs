//! The page's text, without a browser.

use super::{check_kv, check_register, kv_violation, linearizable_register, stale_read};
use stateprop::check::Report;
use stateprop::check::Verdict;
use stateprop::history::History;
use stateprop::models::{CasRegister, KvModel, KvOp, KvOut, RegisterOp, RegisterOut};
use stateprop::render::{render_html, render_html_with, PageTooLarge, RenderOptions};

/// A register history drawn unpartitioned with `options`.
fn render_register(
    h: &History<RegisterOp, RegisterOut>,
    report: &Report,
    name: &str,
    options: &RenderOptions,
) -> Result<String, PageTooLarge> {
    render_html_with(h, &CasRegister::default(), report, |_| (), name, options)
}

/// The start tag of the element with `id`.
fn tag_with_id<'a>(html: &'a str, id: &str) -> &'a str {
    let at = html
        .find(&format!("id=\"{id}\""))
        .unwrap_or_else(|| panic!("no element with id {id}"));
    let start = html[..at].rfind('<').unwrap();
    let end = at + html[at..].find('>').unwrap();
    &html[start..=end]
}

#[test]
fn a_stale_read_is_marked_impossible_and_explained() {
    let h = stale_read();
    let report = check_register(&h);
    let Verdict::Violated(v) = &report.verdict else {
        panic!("{:?}", report.verdict)
    };
    assert_eq!(
        v.blocked, 5,
        "the stale read is the operation that cannot be placed"
    );
    let html = render_html(
        &h,
        &CasRegister::default(),
        &report,
        |_| (),
        "stale <read> & co",
    );

    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(html.contains("<title>stale &lt;read&gt; &amp; co</title>"));
    assert!(html.contains("NOT linearizable"));
    let tag = tag_with_id(&html, "impossible-op");
    assert!(tag.contains("class=\"op impossible"), "{tag}");
    assert!(tag.contains("data-index=\"5\""), "{tag}");
    assert!(tag.contains("data-client=\"2\""), "{tag}");
    assert!(tag.contains("data-op=\"Read\""), "{tag}");
    assert!(tag.contains("data-out=\"Value(Some(1))\""), "{tag}");
    assert!(
        tag.contains("data-state-before=\"CasRegister { value: Some(2) }\""),
        "{tag}"
    );
    let n = v.linearized.len();
    assert!(
        html.contains(&format!(
            "cannot be placed after {n} operations: in state <code>CasRegister {{ value: Some(2) \
             }}</code> the model says <code>Value(Some(2))</code>, it returned \
             <code>Value(Some(1))</code>"
        )),
        "{html}"
    );
    // The partial linearization is numbered 1..=n in order, with the state after each.
    for (k, &i) in v.linearized.iter().enumerate() {
        assert!(
            html.contains(&format!("data-index=\"{i}\" data-lin=\"{}\"", k + 1)),
            "op {i} at {k}"
        );
    }
    assert!(html.contains("data-state=\"CasRegister { value: Some(1) }\""));
    // The open compare-and-set is drawn open-ended.
    assert!(html.contains("data-out=\"? (never returned)\""));
    assert!(html.contains("class=\"op unplaced unknown open\"") || html.contains("unknown open"));
    // Nothing is fetched: no scripts, styles, fonts or images from elsewhere.
    assert!(!html.contains("http://") && !html.contains("https://"));
    assert!(!html.contains(" src=") && !html.contains("<link"));
}

#[test]
fn text_from_operations_is_escaped() {
    let mut h: History<KvOp, KvOut> = History::new();
    let evil = "<script>alert(\"x\")</script>";
    h.push(
        0,
        KvOp::Put {
            key: "k".into(),
            value: evil.into(),
        },
        0,
        1,
        KvOut::Done,
    );
    h.push(
        1,
        KvOp::Get { key: "<k>".into() },
        2,
        3,
        KvOut::Value(String::new()),
    );
    let report = super::check_kv(&h);
    let html = render_html(
        &h,
        &KvModel::default(),
        &report,
        |op| op.key().to_string(),
        "t",
    );
    assert!(!html.contains("<script>alert"));
    assert!(!html.contains("<k>"));
    assert!(html.contains("&lt;script&gt;alert(\\&quot;x\\&quot;)&lt;/script&gt;"));
    assert!(html.contains("Partition <code>&quot;&lt;k&gt;&quot;</code>"));
    assert!(html.contains("data-op=\"Get { key: &quot;&lt;k&gt;&quot; }\""));
    // The page's own script is the only one.
    assert_eq!(html.matches("<script").count(), 1);
}

#[test]
fn partitions_get_a_section_each_in_order_of_first_appearance() {
    let h = kv_violation();
    let report = check_kv(&h);
    let Verdict::Violated(v) = &report.verdict else {
        panic!("{:?}", report.verdict)
    };
    assert_eq!(v.partition.as_deref(), Some("\"y\""));
    assert_eq!(v.blocked, 7);
    let html = render_html(
        &h,
        &KvModel::default(),
        &report,
        |op| op.key().to_string(),
        "kv",
    );
    let x = html.find("Partition <code>&quot;x&quot;</code>").unwrap();
    let y = html.find("Partition <code>&quot;y&quot;</code>").unwrap();
    assert!(x < y);
    assert_eq!(html.matches("<section class=\"partition").count(), 2);
    assert!(html[y..].contains("id=\"impossible-op\""));
    assert!(html[x..y].contains("no order shown"));
    assert!(!html[x..y].contains(" data-lin=\""));
    // Rows are labelled by client.
    assert!(html[y..].contains(">client 3</div>"));
    assert_eq!(html.matches("class=\"op ").count(), h.len());
}

#[test]
fn a_linearizable_history_is_numbered_throughout() {
    let h = linearizable_register();
    let report = check_register(&h);
    assert_eq!(report.verdict, Verdict::Holds);
    let html = render_html(&h, &CasRegister::default(), &report, |_| (), "ok");
    assert!(html.contains(">linearizable</span>"));
    assert!(!html.contains("id=\"impossible-op\""));
    let order = &report.orders[0].ops;
    for (k, &i) in order.iter().enumerate() {
        assert!(html.contains(&format!("data-index=\"{i}\" data-lin=\"{}\"", k + 1)));
    }
    assert!(html.contains("<polyline class=\"path\""));
}

#[test]
fn each_linearization_is_drawn_in_the_partition_the_report_names() {
    // Key "a" holds only a read that never returned, which the checker leaves out; key "b" only
    // a put that never returned, whose linearization is empty. Taking orders by position, or an
    // empty one by its place in the list, gave "b"'s order to "a" and drew "b" as cut short by
    // a violation on a linearizable page.
    let mut h: History<KvOp, KvOut> = History::new();
    h.push_unknown(0, KvOp::Get { key: "a".into() }, 0);
    let put = |key: &str| KvOp::Put {
        key: key.into(),
        value: "1".into(),
    };
    h.push_unknown(1, put("b"), 1);
    h.push(2, put("c"), 2, 3, KvOut::Done);
    h.push(
        2,
        KvOp::Get { key: "c".into() },
        4,
        5,
        KvOut::Value("1".into()),
    );
    let report = check_kv(&h);
    assert_eq!(report.verdict, Verdict::Holds);
    let keys: Vec<_> = report
        .orders
        .iter()
        .map(|o| o.partition.as_deref())
        .collect();
    assert_eq!(keys, [Some("\"b\""), Some("\"c\"")]);
    let html = render_html(
        &h,
        &KvModel::default(),
        &report,
        |op| op.key().to_string(),
        "kv",
    );
    assert_eq!(html.matches("<section class=\"partition").count(), 3);
    assert!(!html.contains("stopped at a violation"), "{html}");
    assert_eq!(html.matches("<span class=\"status ok\">").count(), 3);
    let c = html.find("Partition <code>&quot;c&quot;</code>").unwrap();
    assert!(html[c..].contains("data-index=\"2\" data-lin=\"1\""));
    assert!(html[c..].contains("data-index=\"3\" data-lin=\"2\""));
}

#[test]
fn an_unknown_verdict_shows_the_reason() {
    let h = stale_read();
    let mut report = check_register(&h);
    report.verdict = Verdict::Unknown("the time budget ran out".into());
    let html = render_html(&h, &CasRegister::default(), &report, |_| (), "gave up");
    assert!(html.contains("unknown: the time budget ran out"));
    assert!(!html.contains(" data-lin=\""));
    assert!(!html.contains("id=\"impossible-op\""));
}

/// A long register history: client 0 writes 1, 2, 3, … and client 1 reads each back; the read
/// at `stale` returns the value before.
fn long_register(ops: usize, stale: Option<usize>) -> History<RegisterOp, RegisterOut> {
    let mut h = History::new();
    for i in 0..ops as u64 {
        let v = (i / 2 + 1) as i64;
        let t = i * 2;
        if i % 2 == 0 {
            h.push(
                0,
                RegisterOp::Write { value: v },
                t,
                t + 1,
                RegisterOut::Written,
            );
        } else {
            let seen = if Some(i as usize) == stale { v - 1 } else { v };
            h.push(
                1,
                RegisterOp::Read,
                t,
                t + 1,
                RegisterOut::Value(Some(seen)),
            );
        }
    }
    h
}

#[test]
fn a_long_history_draws_a_window_around_the_violation_and_says_so() {
    let h = long_register(20_001, Some(15_001));
    let report = check_register(&h);
    let options = RenderOptions::default().max_ops(1_000);
    let html = render_register(&h, &report, "long", &options).unwrap();
    let bars = html.matches("<div class=\"op ").count();
    assert_eq!(bars, 1_000);
    let tag = tag_with_id(&html, "impossible-op");
    assert!(tag.contains("data-index=\"15001\""), "{tag}");
    // Operations before it are numbered by their place in the whole linearization.
    assert!(html.contains("data-lin=\"15001\""));
    let note = tag_with_id(&html, "window-note");
    assert!(note.starts_with("<p"), "{note}");
    assert!(
        html.contains(
            "Showing 1000 of 20001 operations, those around the operation that cannot be placed"
        ),
        "no note"
    );
    assert!(html.contains("14251 earlier and 4750 later ones are left out"));
    // Before the window, the page held every operation: 20 times as many bars.
    let everything = render_register(
        &h,
        &report,
        "long",
        &RenderOptions::default().max_ops(usize::MAX),
    )
    .unwrap();
    assert_eq!(everything.matches("<div class=\"op ").count(), 20_001);
    assert!(html.len() * 10 < everything.len());
    // A linearizable one shows its first operations.
    let ok = long_register(3_000, None);
    let report = check_register(&ok);
    let html = render_register(&ok, &report, "ok", &options).unwrap();
    assert!(html.contains("Showing 1000 of 3000 operations, the first ones"));
    assert!(html.contains("data-index=\"999\"") && !html.contains("data-index=\"1000\""));
}

#[test]
fn a_page_over_the_size_cap_is_refused_with_its_estimate() {
    let h = long_register(20_000, None);
    let report = check_register(&h);
    let options = RenderOptions::default()
        .max_ops(usize::MAX)
        .max_page_bytes(1 << 20);
    let e = render_register(&h, &report, "big", &options).unwrap_err();
    assert_eq!(e.ops, 20_000);
    assert!(e.estimate > 1 << 20, "{e:?}");
    assert!(e.to_string().contains("--max-ops"), "{e}");
    // The estimate is of the right size: within a factor of two of the page.
    let page = render_register(
        &h,
        &report,
        "big",
        &RenderOptions::default().max_ops(usize::MAX),
    )
    .unwrap();
    let ratio = e.estimate as f64 / page.len() as f64;
    assert!(
        (0.5..2.0).contains(&ratio),
        "estimate {} page {}",
        e.estimate,
        page.len()
    );
}

#[test]
fn lines_times_and_fields_from_the_file_are_on_each_operation() {
    let text = r#"[
      {"type": "invoke", "client": 0, "op": {"Write": {"value": 1}}, "time": 100, "node": "n1"},
      {"type": "ok", "client": 0, "output": "Written", "time": 150},
      {"type": "invoke", "client": 1, "op": "Read", "time": 160, "node": "n2"},
      {"type": "ok", "client": 1, "output": {"Value": 2}, "time": 170}
    ]"#;
    let h: History<RegisterOp, RegisterOut> = stateprop::import::json(text).unwrap();
    let report = check_register(&h);
    let html = render_html(&h, &CasRegister::default(), &report, |_| (), "sources");
    let tag = tag_with_id(&html, "impossible-op");
    assert!(tag.contains("data-where=\"lines 4–5\""), "{tag}");
    assert!(tag.contains("data-time=\"160 → 170\""), "{tag}");
    assert!(tag.contains("data-fields=\"node=n2\""), "{tag}");
    assert!(tag.contains("lines 4–5 of the file"), "{tag}");
    assert!(
        html.contains("Operation #1</a> (lines 4–5) is the one"),
        "{html}"
    );
    // The panel shows them too.
    assert!(html.contains("row(\"in the file\", op.getAttribute(\"data-where\"))"));
}
