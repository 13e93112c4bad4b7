//! Histories whose operations hold `Var`s: a var stands for the model's output of the step it
//! names, along the order the checker tries, while the system chose its own ids.

use stateprop::check::{check_linearizable, check_linearizable_by, CheckConfig, Report, Verdict};
use stateprop::history::History;
use stateprop::prelude::*;

#[path = "../support/cells.rs"]
mod cells;

pub use cells::*;

fn check(h: &History<CellOp, Out>) -> Report {
    check_linearizable(h, &Cells::default(), &CheckConfig::default())
}

fn ok(v: u32) -> Option<Out> {
    Some(Out::Value(v))
}

const DONE: Option<Out> = Some(Out::Done);

/// Ids the model would never choose, so a var bound to the system's id instead of the model's
/// would read an empty cell.
fn made(id: u32) -> Option<Out> {
    Some(Out::Made(Id(id)))
}

/// Two cells made in the prefix (the system calls them 907 and 13), then the rows given.
fn two_cells(rest: Vec<Row>) -> History<CellOp, Out> {
    let mut rows = vec![
        (0, p(0), CellOp::Create, 0, Some(1), made(907)),
        (0, p(1), CellOp::Create, 2, Some(3), made(13)),
    ];
    rows.extend(rest);
    recorded(rows)
}

#[test]
fn a_sequential_history_through_handles_the_system_named_holds() {
    let h = two_cells(vec![
        (0, p(2), write(p(0), 1), 4, Some(5), DONE),
        (0, p(3), write(p(1), 2), 6, Some(7), DONE),
        (0, p(4), read(p(0)), 8, Some(9), ok(1)),
        (0, p(5), read(p(1)), 10, Some(11), ok(2)),
    ]);
    let report = check(&h);
    assert_eq!(report.verdict, Verdict::Holds, "{report:?}");
    assert_eq!(report.orders[0].ops, [0, 1, 2, 3, 4, 5]);
}

#[test]
fn a_concurrent_history_holds_when_some_order_explains_it() {
    // Branch 0 writes 5 to the first cell and reads the second; branch 1 writes 7 to the
    // second and reads the first. The reads overlap the other branch's write: each saw it.
    let h = two_cells(vec![
        (1, b(0, 0), write(p(0), 5), 10, Some(14), DONE),
        (2, b(1, 0), write(p(1), 7), 11, Some(13), DONE),
        (1, b(0, 1), read(p(1)), 15, Some(18), ok(7)),
        (2, b(1, 1), read(p(0)), 12, Some(16), ok(5)),
    ]);
    assert_eq!(check(&h).verdict, Verdict::Holds);
}

#[test]
fn a_handle_made_in_a_branch_is_used_later_in_that_branch() {
    let h = recorded(vec![
        (1, b(0, 0), CellOp::Create, 0, Some(3), made(44)),
        (2, b(1, 0), CellOp::Create, 1, Some(2), made(45)),
        (1, b(0, 1), write(b(0, 0), 3), 4, Some(5), DONE),
        (2, b(1, 1), read(b(1, 0)), 6, Some(7), ok(0)),
        (1, b(0, 2), read(b(0, 0)), 8, Some(9), ok(3)),
    ]);
    assert_eq!(check(&h).verdict, Verdict::Holds);
}

/// Asserts `h` is not linearizable and the read at `blocked` is what cannot be placed.
fn assert_blocked(h: &History<CellOp, Out>, blocked: usize) {
    let report = check(h);
    let Verdict::Violated(v) = &report.verdict else {
        panic!("expected a violation, got {:?}", report.verdict);
    };
    assert_eq!(v.blocked, blocked, "{v:?}");
    assert_eq!(v.actual.as_deref(), Some("Value(9)"), "{v:?}");
    assert_eq!(v.expected.as_deref(), Some("Value(0)"), "{v:?}");
}

#[test]
fn a_read_through_one_handle_seeing_a_write_through_another_is_a_violation() {
    let h = two_cells(vec![
        (0, p(2), write(p(1), 9), 4, Some(5), DONE),
        (0, p(3), read(p(0)), 6, Some(7), ok(9)),
    ]);
    assert_blocked(&h, 3);
}

#[test]
fn a_concurrent_read_through_the_wrong_handle_is_a_violation() {
    // The write to the second cell overlaps the read of the first: no order makes the first
    // cell hold 9.
    let h = two_cells(vec![
        (1, b(0, 0), write(p(1), 9), 4, Some(8), DONE),
        (2, b(1, 0), read(p(0)), 5, Some(7), ok(9)),
        (2, b(1, 1), read(p(1)), 9, Some(10), ok(9)),
    ]);
    assert_blocked(&h, 3);
}

#[test]
fn partitions_that_vars_connect_are_checked_together() {
    // Keyed by the handle's step, creations apart: without joining, the writes' and reads'
    // partition would hold no `Create` to bind their vars to.
    let key = |op: &CellOp| match op {
        CellOp::Create => None,
        CellOp::Write { h, .. } | CellOp::Read { h } => Some(h.id()),
    };
    let good = two_cells(vec![
        (0, p(2), write(p(1), 9), 4, Some(5), DONE),
        (0, p(3), read(p(1)), 6, Some(7), ok(9)),
    ]);
    let report = check_linearizable_by(&good, &Cells::default(), &CheckConfig::default(), key);
    assert_eq!(report.verdict, Verdict::Holds, "{report:?}");
    let bad = two_cells(vec![
        (0, p(2), write(p(1), 9), 4, Some(5), DONE),
        (0, p(3), read(p(0)), 6, Some(7), ok(9)),
    ]);
    let report = check_linearizable_by(&bad, &Cells::default(), &CheckConfig::default(), key);
    let Verdict::Violated(v) = &report.verdict else {
        panic!("expected a violation, got {:?}", report.verdict);
    };
    assert_eq!(v.blocked, 3, "{v:?}");
}

#[test]
fn a_history_without_step_ids_is_reported_as_unknown_with_the_reason() {
    let mut h: History<CellOp, Out> = History::new();
    h.push(0, CellOp::Create, 0, 1, Out::Made(Id(0)));
    h.push(0, read(p(0)), 2, 3, Out::Value(0));
    let report = check(&h);
    let Verdict::Unknown(reason) = &report.verdict else {
        panic!("expected an unknown verdict, got {:?}", report.verdict);
    };
    assert!(report.model_panic.is_none(), "{report:?}");
    assert!(reason.contains("operation 1"), "{reason}");
    assert!(reason.contains("`History::steps` is empty"), "{reason}");
}

#[test]
fn a_var_naming_a_step_missing_from_the_history_is_unknown_not_a_violation() {
    let h = recorded(vec![
        (0, p(0), CellOp::Create, 0, Some(1), made(1)),
        (0, p(1), read(p(7)), 2, Some(3), ok(0)),
    ]);
    let Verdict::Unknown(reason) = check(&h).verdict else {
        panic!("expected an unknown verdict");
    };
    assert!(reason.contains("step 7"), "{reason}");
    assert!(reason.contains("operation 1"), "{reason}");
}

#[test]
fn a_var_naming_a_step_that_had_not_returned_still_orders_that_step_first() {
    // The read was invoked before its handle's `Create` returned (not a recorded program's
    // shape), yet it used the handle, so the `Create` took effect first: the only order left
    // reads 0, and 4 is a violation (not an unknown verdict).
    let h = recorded(vec![
        (0, p(0), CellOp::Create, 0, Some(5), made(1)),
        (1, b(0, 0), read(p(0)), 1, Some(6), ok(4)),
    ]);
    let Verdict::Violated(v) = check(&h).verdict else {
        panic!("expected a violation");
    };
    assert_eq!((v.linearized.as_slice(), v.blocked), (&[0][..], 1), "{v:?}");
    let h = recorded(vec![
        (0, p(0), CellOp::Create, 0, Some(5), made(1)),
        (1, b(0, 0), read(p(0)), 1, Some(6), ok(0)),
    ]);
    assert_eq!(check(&h).verdict, Verdict::Holds);
}

#[test]
fn an_operation_whose_var_names_an_unknown_outcome_is_placed_but_not_compared() {
    // The `Create` never returned; a read through its handle answered 42, which no order
    // explains with the model's cell, but nothing ties the model's handle to the system's.
    let h = recorded(vec![
        (0, p(0), CellOp::Create, 0, None, None),
        (1, b(0, 0), read(p(0)), 2, Some(3), ok(42)),
    ]);
    let report = check(&h);
    assert_eq!(report.verdict, Verdict::Holds, "{report:?}");
    // It is still placed after its `Create`, which therefore took effect.
    assert_eq!(report.orders[0].ops, [0, 1]);
    // Operations not naming it are still judged: a second cell read as 9 is a violation.
    let h = recorded(vec![
        (0, p(0), CellOp::Create, 0, None, None),
        (0, p(1), CellOp::Create, 1, Some(2), made(3)),
        (1, b(0, 0), read(p(0)), 3, Some(4), ok(42)),
        (1, b(0, 1), read(p(1)), 5, Some(6), ok(9)),
    ]);
    let Verdict::Violated(v) = check(&h).verdict else {
        panic!("expected a violation");
    };
    assert_eq!(v.blocked, 3, "{v:?}");
}

#[test]
fn a_var_the_model_cannot_bind_makes_a_failed_search_unknown() {
    // The system made a fourth cell where the model is full: the model has no handle to read
    // through, so the read cannot be judged, right or wrong.
    let mut rows: Vec<Row> = (0..4)
        .map(|i| {
            (
                0,
                p(i),
                CellOp::Create,
                2 * i as u64,
                Some(2 * i as u64 + 1),
                made(i as u32),
            )
        })
        .collect();
    rows.push((0, p(4), read(p(3)), 8, Some(9), ok(0)));
    let Verdict::Unknown(reason) = check(&recorded(rows)).verdict else {
        panic!("expected an unknown verdict");
    };
    assert!(reason.contains("holds no value"), "{reason}");
    assert!(reason.contains("Read { h: Var::at(3) }"), "{reason}");
}

/// Tickets: `Take` hands out the next number (the system prints its own), `Redeem` of the
/// ticket numbered 1 wins.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Tickets {
    taken: u32,
}

#[derive(Debug, Clone, PartialEq, StateMachine)]
#[state_machine(model = Tickets)]
pub enum TicketOp {
    Take,
    Redeem { t: Var<u32> },
}

impl Model for Tickets {
    type Op = TicketOp;
    type Output = u32;
    fn step(&mut self, op: &TicketOp) -> u32 {
        match op {
            TicketOp::Take => {
                self.taken += 1;
                self.taken - 1
            }
            TicketOp::Redeem { t } => u32::from(*t.get() == 1),
        }
    }

    fn outputs_match(&self, op: &TicketOp, expected: &u32, actual: &u32) -> bool {
        matches!(op, TicketOp::Take) || expected == actual
    }
}

#[test]
fn two_orders_reaching_one_state_with_different_outputs_are_both_searched() {
    // Two overlapping `Take`s: taken first, `a` gets 0 and `b` 1; the other way round, `a`
    // gets 1. Both orders reach `Tickets { taken: 2 }` with both placed. The search tries `a`
    // first (its call is first), then the redemption of `a` wins only if `a` got 1: the cache
    // must not take the second order for the first.
    let mut h: History<TicketOp, u32> = History::new();
    let rows = [
        (1, b(0, 0), TicketOp::Take, 0, 3, 500),
        (2, b(1, 0), TicketOp::Take, 1, 2, 501),
        (
            1,
            b(0, 1),
            TicketOp::Redeem {
                t: Var::to(b(0, 0)),
            },
            4,
            5,
            1,
        ),
    ];
    for (client, step, op, call, ret, out) in rows {
        h.push(client, op, call, ret, out);
        h.steps.push(step);
    }
    let report = check_linearizable(&h, &Tickets::default(), &CheckConfig::default());
    assert_eq!(report.verdict, Verdict::Holds, "{report:?}");
    assert_eq!(report.orders[0].ops, [1, 0, 2]);
    // Both tickets cannot be number 1: a winning redemption of `b` as well is a violation.
    h.push(
        2,
        TicketOp::Redeem {
            t: Var::to(b(1, 0)),
        },
        6,
        7,
        1,
    );
    h.steps.push(b(1, 1));
    let report = check_linearizable(&h, &Tickets::default(), &CheckConfig::default());
    let Verdict::Violated(v) = &report.verdict else {
        panic!("expected a violation, got {:?}", report.verdict);
    };
    assert_eq!(v.blocked, 3, "{v:?}");
}

mod sequential_consistency {
    use super::*;
    use stateprop::check::check_sequentially_consistent;

    fn sc(h: &History<CellOp, Out>) -> Verdict<stateprop::check::ScViolation> {
        check_sequentially_consistent(h, &Cells::default(), &CheckConfig::default()).verdict
    }

    #[test]
    fn a_stale_read_through_a_handle_is_sequentially_consistent() {
        // Client 2 reads the first cell as 0 after client 1's write of 5 returned: not
        // linearizable, but client 2's read may be ordered first.
        let h = two_cells(vec![
            (1, b(0, 0), write(p(0), 5), 4, Some(5), DONE),
            (2, b(1, 0), read(p(0)), 6, Some(7), ok(0)),
        ]);
        assert!(matches!(check(&h).verdict, Verdict::Violated(_)));
        assert_eq!(sc(&h), Verdict::Holds);
    }

    #[test]
    fn a_read_through_the_wrong_handle_is_not_sequentially_consistent() {
        let h = two_cells(vec![
            (1, b(0, 0), write(p(1), 9), 4, Some(5), DONE),
            (2, b(1, 0), read(p(0)), 6, Some(7), ok(9)),
        ]);
        let Verdict::Violated(v) = sc(&h) else {
            panic!("expected a violation");
        };
        assert!(v.blocked.contains(&3), "{v:?}");
        assert!(
            v.explanation
                .contains("returned Value(9) where the model says Value(0)"),
            "{}",
            v.explanation
        );
    }

    #[test]
    fn the_step_a_var_names_is_ordered_first_even_from_another_client() {
        // Client 2's read names client 1's `Create`; sequential consistency does not order
        // clients, but the read used the handle, so the `Create` came first.
        let h = recorded(vec![
            (1, p(0), CellOp::Create, 0, Some(1), made(5)),
            (1, p(1), write(p(0), 3), 2, Some(3), DONE),
            (2, b(0, 0), read(p(0)), 4, Some(5), ok(3)),
        ]);
        let report = check_sequentially_consistent(&h, &Cells::default(), &CheckConfig::default());
        assert_eq!(report.verdict, Verdict::Holds);
        assert_eq!(report.orders[0].ops, [0, 1, 2]);
    }

    #[test]
    fn two_orders_reaching_one_state_with_different_outputs_are_both_searched() {
        // As for linearizability: whichever `Take` goes first, the state after both is the
        // same; only `b` first gives `a` the winning ticket.
        let mut h: History<TicketOp, u32> = History::new();
        let rows = [
            (1, b(0, 0), TicketOp::Take, 0, 1, 500),
            (2, b(1, 0), TicketOp::Take, 2, 3, 501),
            (
                1,
                b(0, 1),
                TicketOp::Redeem {
                    t: Var::to(b(0, 0)),
                },
                4,
                5,
                1,
            ),
        ];
        for (client, step, op, call, ret, out) in rows {
            h.push(client, op, call, ret, out);
            h.steps.push(step);
        }
        let report =
            check_sequentially_consistent(&h, &Tickets::default(), &CheckConfig::default());
        assert_eq!(report.verdict, Verdict::Holds, "{report:?}");
        assert_eq!(report.orders[0].ops, [1, 0, 2]);
    }
}

#[test]
fn the_idempotency_checker_refuses_vars_with_the_reason() {
    let h = two_cells(vec![(0, p(2), read(p(1)), 4, Some(5), ok(0))]);
    let report = stateprop::check::check_idempotent(
        &h,
        &[1, 2, 3],
        &Cells::default(),
        &CheckConfig::default(),
    );
    let Verdict::Unknown(reason) = &report.verdict else {
        panic!("expected an unknown verdict, got {:?}", report.verdict);
    };
    assert!(report.model_panic.is_none(), "{report:?}");
    assert!(reason.contains("does not bind `Var`s"), "{reason}");
    assert!(reason.contains("operation 2"), "{reason}");
}

#[test]
fn a_violation_through_handles_is_explained_with_vars_bound() {
    use stateprop::check::{explain, ExplainOptions};
    let h = two_cells(vec![
        (0, p(2), write(p(1), 9), 4, Some(5), DONE),
        (0, p(3), read(p(0)), 6, Some(7), ok(9)),
    ]);
    let report = check(&h);
    let e = explain(&h, &Cells::default(), &report, &ExplainOptions::default())
        .expect("an explanation");
    assert_eq!(e.linearized, 3);
    assert_eq!(e.expected.as_deref(), Some("Value(0)"));
    // The state after the write through the second handle holds 9 in the model's second cell.
    assert!(e.state.contains("1: 9"), "{}", e.state);
}

#[test]
fn a_var_history_under_a_tiny_memory_cap_is_unknown_not_a_crash() {
    // Three cells, each written and read through its handle by two clients at once, many
    // times.
    let mut rows: Vec<Row> = (0..3)
        .map(|i| {
            (
                0,
                p(i),
                CellOp::Create,
                i as u64,
                Some(i as u64),
                made(i as u32 + 50),
            )
        })
        .collect();
    for i in 0..200 {
        let t = 10 + 10 * i as u64;
        let v = i as u32 + 1;
        rows.push((1, b(0, i), write(p(i % 3), v), t, Some(t + 5), DONE));
        rows.push((2, b(1, i), read(p(i % 3)), t + 1, Some(t + 6), ok(v)));
    }
    let h = recorded(rows);
    assert_eq!(check(&h).verdict, Verdict::Holds);
    let tight = CheckConfig::default().max_memory(4096);
    let report = check_linearizable(&h, &Cells::default(), &tight);
    let Verdict::Unknown(reason) = &report.verdict else {
        panic!("expected an unknown verdict, got {:?}", report.verdict);
    };
    assert!(reason.contains("memory"), "{reason}");
    assert!(report.peak_bytes <= 4096, "{report:?}");
}
