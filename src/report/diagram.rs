//! The recorded history of a parallel program as a text diagram: a column per client (the
//! prefix, then each branch), time downward, a row for each invoke and each return.
//!
//! ```text
//! stateprop:   prefix | branch 0 | branch 1
//! stateprop:          | Take ->  |
//! stateprop:          |          | Take ->
//! stateprop:          | <- 0     |
//! stateprop:          |          | <- 0
//! ```
//!
//! The rows follow the logical clock the executor recorded, on which an operation's invoke comes
//! before the call started and its return after the call ended: two operations whose rows
//! overlap may have run at the same time; one whose return is above another's invoke finished
//! first. Durations mean nothing, only the order.

use super::RecordedOp;
use crate::program::StepId;

/// A cell wider than this is cut (with `…`), so that a long operation does not push the other
/// columns off the screen.
const MAX_CELL: usize = 40;

/// What the diagram marks: the operation a judge found at fault, and the words beside its return.
pub(super) struct Mark {
    pub(super) step: StepId,
    pub(super) label: String,
}

/// The diagram's lines, each starting with `stateprop:`; `branches` is the program's branch
/// count (a branch that recorded nothing still gets its column).
pub(super) fn diagram(history: &[RecordedOp], branches: usize, mark: Option<&Mark>) -> Vec<String> {
    let branches = history
        .iter()
        .filter_map(|op| op.step.branch)
        .map(|b| usize::from(b) + 1)
        .max()
        .unwrap_or(0)
        .max(branches);
    // Column 0 is the prefix, column b + 1 branch b.
    let column = |op: &RecordedOp| op.step.branch.map_or(0, |b| usize::from(b) + 1);
    let mut events: Vec<(u64, usize, String)> = Vec::with_capacity(2 * history.len());
    let mut unknown = Vec::new();
    for op in history {
        events.push((op.call, column(op), format!("{} ->", short(&op.op))));
        let label = match mark {
            Some(m) if m.step == op.step => format!("  ({})", m.label),
            _ => String::new(),
        };
        match (op.ret, &op.output) {
            (Some(ret), Some(out)) => events.push((ret, column(op), format!("<- {out}{label}"))),
            // Returned, but its answer was not recorded, or never returned (its call panicked):
            // either way, whether it took effect is unknown, and it shows after everything else.
            _ => unknown.push((column(op), format!("<- ? (outcome unknown){label}"))),
        }
    }
    events.sort_by_key(|e| e.0);
    let mut rows: Vec<Vec<String>> = Vec::with_capacity(events.len() + unknown.len() + 1);
    let mut header = vec!["prefix".to_string()];
    header.extend((0..branches).map(|b| format!("branch {b}")));
    rows.push(header);
    for (col, text) in events.into_iter().map(|(_, c, t)| (c, t)).chain(unknown) {
        let mut row = vec![String::new(); branches + 1];
        row[col] = cut(&text);
        rows.push(row);
    }
    let widths: Vec<usize> = (0..=branches)
        .map(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0))
        .collect();
    rows.iter()
        .map(|row| {
            let cells: Vec<String> = row
                .iter()
                .zip(&widths)
                .map(|(cell, w)| format!("{cell:<w$}"))
                .collect();
            format!("stateprop:   {}", cells.join(" | "))
                .trim_end()
                .to_string()
        })
        .collect()
}

/// An operation without its type's path: `Insert { value: 0 }` for
/// `SetOp::Insert { value: 0 }`; the program above the diagram names the type.
fn short(op: &str) -> &str {
    let head_end = op.find([' ', '{', '(']).unwrap_or(op.len());
    match op[..head_end].rfind("::") {
        Some(i) => &op[i + 2..],
        None => op,
    }
}

/// `text`, cut to [`MAX_CELL`] characters.
fn cut(text: &str) -> String {
    if text.chars().count() <= MAX_CELL {
        return text.to_string();
    }
    let mut out: String = text.chars().take(MAX_CELL - 1).collect();
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn op(step: StepId, op: &str, output: Option<&str>, call: u64, ret: Option<u64>) -> RecordedOp {
        RecordedOp {
            step,
            client: step.branch.map_or(0, |b| u64::from(b) + 1),
            op: op.to_string(),
            output: output.map(str::to_string),
            call,
            ret,
        }
    }

    #[test]
    fn two_takes_that_overlap_read_top_down_in_clock_order() {
        let history = [
            op(
                StepId::in_branch(0, 0),
                "TicketOp::Take",
                Some("0"),
                0,
                Some(2),
            ),
            op(
                StepId::in_branch(1, 0),
                "TicketOp::Take",
                Some("0"),
                1,
                Some(3),
            ),
        ];
        let mark = Mark {
            step: StepId::in_branch(1, 0),
            label: "cannot take effect".to_string(),
        };
        let lines = diagram(&history, 2, Some(&mark));
        let expected = [
            "stateprop:   prefix | branch 0 | branch 1",
            "stateprop:          | Take ->  |",
            "stateprop:          |          | Take ->",
            "stateprop:          | <- 0     |",
            "stateprop:          |          | <- 0  (cannot take effect)",
        ];
        assert_eq!(lines, expected);
    }

    #[test]
    fn the_prefix_has_its_column_and_an_unknown_outcome_comes_last() {
        let history = [
            op(
                StepId::prefix(0),
                "SetOp::Insert { value: 3 }",
                Some("Bool(true)"),
                0,
                Some(1),
            ),
            op(StepId::in_branch(0, 0), "SetOp::Read", None, 2, None),
            op(
                StepId::in_branch(1, 0),
                "SetOp::Remove { value: 3 }",
                Some("Bool(true)"),
                3,
                Some(4),
            ),
        ];
        let lines = diagram(&history, 2, None);
        let expected = [
            "stateprop:   prefix                 | branch 0               | branch 1",
            "stateprop:   Insert { value: 3 } -> |                        |",
            "stateprop:   <- Bool(true)          |                        |",
            "stateprop:                          | Read ->                |",
            "stateprop:                          |                        | Remove { value: 3 } ->",
            "stateprop:                          |                        | <- Bool(true)",
            "stateprop:                          | <- ? (outcome unknown) |",
        ];
        assert_eq!(lines, expected);
    }

    #[test]
    fn a_long_operation_is_cut() {
        let long = format!("KvOp::Put {{ key: {} }}", "x".repeat(80));
        let history = [op(StepId::in_branch(0, 0), &long, Some("Done"), 0, Some(1))];
        let lines = diagram(&history, 1, None);
        assert!(lines[1].ends_with('…'), "{lines:#?}");
        assert!(lines[1].chars().count() < 80, "{lines:#?}");
    }
}
