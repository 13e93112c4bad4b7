//! The history checkers on a specification that allows a choice: a priority queue whose
//! equal-priority elements may pop in any order. The model pops its own pick and follows the
//! recorded one through `Model::accept`, so every checker, and every replay that explains or
//! draws a verdict, must step it along the output the system gave.

use stateprop::check::{
    check_idempotent, check_linearizable, check_sequentially_consistent, explain, CheckConfig,
    ExplainOptions, Verdict,
};
use stateprop::history::History;
use stateprop::prelude::*;

/// The queued `(priority, value)` pairs, sorted: a multiset, so equal states compare equal
/// whichever ties were taken on the way.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Pq {
    items: Vec<(u8, u8)>,
}

#[derive(Debug, Clone, PartialEq, StateMachine)]
#[state_machine(model = Pq)]
pub enum PqOp {
    Push { prio: u8, value: u8 },
    Pop,
}

impl Pq {
    fn insert(&mut self, item: (u8, u8)) {
        let at = self.items.partition_point(|e| *e <= item);
        self.items.insert(at, item);
    }
}

impl Model for Pq {
    type Op = PqOp;
    type Output = Option<(u8, u8)>;

    /// Among the highest priority, the model takes the highest value.
    fn step(&mut self, op: &PqOp) -> Option<(u8, u8)> {
        match *op {
            PqOp::Push { prio, value } => {
                self.insert((prio, value));
                None
            }
            PqOp::Pop => self.items.pop(),
        }
    }

    fn accept(
        &mut self,
        op: &PqOp,
        expected: Option<(u8, u8)>,
        actual: &Option<(u8, u8)>,
    ) -> Result<Option<(u8, u8)>, Option<(u8, u8)>> {
        if let (PqOp::Pop, Some(mine), Some(theirs)) = (op, expected, *actual) {
            if theirs != mine && theirs.0 == mine.0 {
                if let Ok(at) = self.items.binary_search(&theirs) {
                    self.items.remove(at);
                    self.insert(mine);
                    return Ok(Some(theirs));
                }
            }
        }
        if expected == *actual {
            Ok(expected)
        } else {
            Err(expected)
        }
    }
}

fn push(prio: u8, value: u8) -> PqOp {
    PqOp::Push { prio, value }
}

type PqHistory = History<PqOp, Option<(u8, u8)>>;

/// Two tied pushes, then both popped in the order the model would not pick.
fn ties_popped_lowest_value_first() -> PqHistory {
    let mut h = History::new();
    h.push(0, push(1, 0), 0, 1, None);
    h.push(1, push(1, 1), 0, 1, None);
    h.push(0, PqOp::Pop, 2, 3, Some((1, 0)));
    h.push(1, PqOp::Pop, 4, 5, Some((1, 1)));
    h
}

/// Two tied pushes, one popped against the model's pick, then the other one lost.
fn tie_then_loss() -> PqHistory {
    let mut h = History::new();
    h.push(0, push(1, 0), 0, 1, None);
    h.push(0, push(1, 1), 2, 3, None);
    h.push(0, PqOp::Pop, 4, 5, Some((1, 0)));
    h.push(0, PqOp::Pop, 6, 7, None);
    h
}

#[test]
fn ties_popped_either_way_are_linearizable_and_sequentially_consistent() {
    let h = ties_popped_lowest_value_first();
    let report = check_linearizable(&h, &Pq::default(), &CheckConfig::default());
    assert_eq!(report.verdict, Verdict::Holds);
    assert_eq!(report.orders[0].ops[2..], [2, 3]);
    let report = check_sequentially_consistent(&h, &Pq::default(), &CheckConfig::default());
    assert_eq!(report.verdict, Verdict::Holds);
}

#[test]
fn a_pop_below_the_top_priority_is_not_linearizable() {
    let mut h = History::new();
    h.push(0, push(2, 0), 0, 1, None);
    h.push(1, push(1, 0), 0, 1, None);
    h.push(0, PqOp::Pop, 2, 3, Some((1, 0)));
    let report = check_linearizable(&h, &Pq::default(), &CheckConfig::default());
    let v = report.verdict.violation().expect("a violation");
    assert_eq!(v.blocked, 2);
    assert_eq!(v.expected.as_deref(), Some("Some((2, 0))"));
}

/// The violation is reported in the state the model reached by following the system's tie:
/// holding `(1, 1)`, not the `(1, 0)` it would hold had it kept its own pick.
#[test]
fn losing_the_other_tied_element_is_reported_in_the_followed_state() {
    let h = tie_then_loss();
    let report = check_linearizable(&h, &Pq::default(), &CheckConfig::default());
    let v = report.verdict.violation().expect("a violation");
    assert_eq!(
        (v.linearized.as_slice(), v.blocked),
        ([0, 1, 2].as_slice(), 3)
    );
    assert_eq!(v.state, "Pq { items: [(1, 1)] }");
    assert_eq!(v.expected.as_deref(), Some("Some((1, 1))"));

    let explained =
        explain(&h, &Pq::default(), &report, &ExplainOptions::default()).expect("an explanation");
    let (_, last) = explained.tail.last().expect("a tail");
    assert_eq!(last, "Pq { items: [(1, 1)] }");

    let html = stateprop::render::render_html(&h, &Pq::default(), &report, |_| (), "ties");
    // Only the state after the followed pop holds `(1, 1)` alone; the model's own pick would
    // have left `(1, 0)`, which the state after the first push also shows.
    assert!(
        html.contains("items: [(1, 1)]"),
        "the page shows the model's own pick"
    );

    let report = check_sequentially_consistent(&h, &Pq::default(), &CheckConfig::default());
    let v = report.verdict.violation().expect("a violation");
    assert_eq!(
        (v.ordered.as_slice(), v.blocked.as_slice()),
        ([0, 1, 2].as_slice(), [3].as_slice())
    );
    assert_eq!(v.state, "Pq { items: [(1, 1)] }");
}

/// A retried pop answers the element the first attempt took, which the model follows.
#[test]
fn a_retried_pop_of_a_tie_is_applied_once() {
    let mut h = History::new();
    h.push(0, push(1, 0), 0, 1, None);
    h.push(0, push(1, 1), 2, 3, None);
    h.push(0, PqOp::Pop, 4, 5, Some((1, 0)));
    h.push(0, PqOp::Pop, 6, 7, Some((1, 0)));
    h.push(0, PqOp::Pop, 8, 9, Some((1, 1)));
    let requests = [0, 1, 2, 2, 3];
    let report = check_idempotent(&h, &requests, &Pq::default(), &CheckConfig::default());
    assert_eq!(report.verdict, Verdict::Holds);

    // The retry answering the other tied element is not a retry of the same pop.
    h.ops[3].output = Some(Some((1, 1)));
    h.ops[4].output = Some(Some((1, 0)));
    let report = check_idempotent(&h, &requests, &Pq::default(), &CheckConfig::default());
    assert!(report.verdict.violation().is_some(), "{:?}", report.verdict);
}
