//! `--explain` shows a window around the violation, never the whole linearization.

use crate::explained::long_history;
use crate::{check, stale_among_correct};
use stateprop::check::explain::{explain, ExplainOptions};
use stateprop::check::{Verdict, Violation};
use stateprop::models::CasRegister;

#[test]
fn the_explanation_of_a_long_history_is_a_window_with_file_lines() {
    let (text, events) = long_history(2000);
    let h = stateprop::import::json(&text).unwrap();
    let report = check(&h, &CasRegister::default(), |_| ());
    let Verdict::Violated(v) = &report.verdict else {
        panic!("{:?}", report.verdict)
    };
    assert!(v.linearized.len() > 3000, "{}", v.linearized.len());
    let options = ExplainOptions::default().file("long.json");
    let e = explain(&h, &CasRegister::default(), &report, &options).unwrap();
    assert_eq!(e.tail.len(), 10);
    assert_eq!(e.linearized, v.linearized.len());
    let stale_line = events; // the invocation is event `events - 2`, on line `events`
    assert_eq!(
        e.blocked.location,
        format!("long.json:{}–{}", stale_line, stale_line + 1)
    );
    let text = e.to_string();
    assert!(text.lines().count() <= 45, "{text}");
    assert!(
        text.contains(&format!(
            "{} earlier ones not shown",
            v.linearized.len() - 10
        )),
        "{text}"
    );
    // Times and extra fields, as the file wrote them.
    assert!(text.contains("[t=10"), "{text}");
    assert!(text.contains("node=n1"), "{text}");
    assert!(text.contains("the model says Value(Some(2000)), but it returned Value(Some(3))"));
}

#[test]
fn nearby_operations_include_the_concurrent_ones() {
    let h = stale_among_correct();
    let report = check(&h, &CasRegister::default(), |_| ());
    let e = explain(
        &h,
        &CasRegister::default(),
        &report,
        &ExplainOptions::default(),
    )
    .unwrap();
    let Verdict::Violated(Violation { blocked, .. }) = report.verdict else {
        panic!()
    };
    assert_eq!(e.blocked.index, blocked);
    // Without sources, operations are named by index and times are the history's.
    assert_eq!(e.blocked.location, format!("operation #{blocked}"));
    assert_eq!(e.blocked.times, "13 → 14");
    // Every operation called before the blocked one returned is shown, in the linearization or
    // nearby; the later reads are not.
    let mut seen: Vec<usize> = e.tail.iter().map(|(o, _)| o.index).collect();
    seen.extend(e.nearby.iter().map(|o| o.index));
    seen.push(e.blocked.index);
    seen.sort_unstable();
    assert_eq!(seen, vec![0, 1, 2, 3], "{e}");
}
