//! A history whose operations hold `Var`s draws like any other: the states shown are the model's,
//! with each var bound to the model's output of the step it names.

use stateprop::check::{check_linearizable, CheckConfig, Verdict};
use stateprop::history::History;
use stateprop::render::render_html;

#[path = "../support/cells.rs"]
mod cells;

use cells::{p, read, recorded, write, CellOp, Cells, Id, Out};

fn history(read_back: u32) -> History<CellOp, Out> {
    recorded(vec![
        (
            0,
            p(0),
            CellOp::Create,
            0,
            Some(1),
            Some(Out::Made(Id(907))),
        ),
        (0, p(1), CellOp::Create, 2, Some(3), Some(Out::Made(Id(13)))),
        (0, p(2), write(p(1), 5), 4, Some(5), Some(Out::Done)),
        (0, p(3), read(p(1)), 6, Some(7), Some(Out::Value(read_back))),
    ])
}

#[test]
fn a_linearizable_var_history_draws_the_models_states() {
    let h = history(5);
    let report = check_linearizable(&h, &Cells::default(), &CheckConfig::default());
    assert!(report.verdict.holds(), "{:?}", report.verdict);
    let page = render_html(&h, &Cells::default(), &report, |_| (), "vars");
    // The write went to the model's cell 1 (the var bound to the model's id, not the system's 13).
    assert!(
        page.contains("1: 5"),
        "no state with cell 1 holding 5:\n{page}"
    );
}

#[test]
fn a_var_history_that_is_not_linearizable_draws_its_blocked_read() {
    let h = history(0);
    let report = check_linearizable(&h, &Cells::default(), &CheckConfig::default());
    let Verdict::Violated(v) = &report.verdict else {
        panic!("expected a violation: {:?}", report.verdict);
    };
    assert_eq!(v.blocked, 3);
    let page = render_html(&h, &Cells::default(), &report, |_| (), "vars");
    assert!(
        page.contains("Value(5)"),
        "the model's answer is not drawn:\n{page}"
    );
}
