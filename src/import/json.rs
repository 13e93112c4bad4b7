//! stateprop's JSON event list (see [`Event`](crate::history::Event)).

use super::text::{shorten_quoted, strip_bom};
use super::ImportError;
use crate::history::{Event, EventKind, History};
use serde::de::DeserializeOwned;

/// Reads stateprop's JSON event list: `[{"type": "invoke", "client": 3, "op": …}, {"type": "ok",
/// "client": 3, "output": …}, …]`, with the meaning [`History::from_events`] gives it. The time of
/// an event is its position in the list, or its `time` field when every event has one. Each
/// operation's [`Source`](crate::history::Source) records the lines its events start on, their
/// times and their other fields.
///
/// A JSON error names its line and column; an event that does not fit the others (a completion
/// without invocation, a second invocation while one is open) names the line where that event
/// starts.
pub fn json<Op, Out>(text: &str) -> Result<History<Op, Out>, ImportError>
where
    Op: DeserializeOwned,
    Out: DeserializeOwned,
{
    json_checked(text, |_: &Op| Ok(()))
}

/// [`json`], refusing the first invoked operation `check` refuses (at that event's line).
pub(crate) fn json_checked<Op, Out>(
    text: &str,
    check: impl Fn(&Op) -> Result<(), String>,
) -> Result<History<Op, Out>, ImportError>
where
    Op: DeserializeOwned,
    Out: DeserializeOwned,
{
    let text = strip_bom(text);
    let events: Vec<Event<Op, Out>> = serde_json::from_str(text).map_err(|e| {
        let full = e.to_string();
        let position = format!(" at line {} column {}", e.line(), e.column());
        let message = full.strip_suffix(&position).unwrap_or(&full);
        // serde quotes the offending string whole, however long it is.
        let message = shorten_quoted(message, 60);
        let message = if e.is_eof() {
            format!("the input ends too early ({message})")
        } else {
            format!("{message} (column {})", e.column())
        };
        ImportError::new(e.line().max(1), message)
    })?;
    // The list parsed, so it is well-formed JSON and the scan finds every element.
    let lines = element_lines(text);
    let located = |index: usize, message: String| {
        let line = lines.get(index).copied().unwrap_or(1);
        ImportError::new(line, format!("event {index} (from 0): {message}"))
    };
    if let Some((index, message)) = events
        .iter()
        .enumerate()
        .filter(|(_, e)| e.kind == EventKind::Invoke)
        .find_map(|(i, e)| e.op.as_ref().and_then(|op| check(op).err()).map(|m| (i, m)))
    {
        return Err(located(index, message));
    }
    History::from_located_events(events, Some(&lines))
        .map_err(|(index, message)| located(index, message))
}

/// The line on which each element of the top-level JSON array starts. Assumes well-formed JSON.
fn element_lines(text: &str) -> Vec<usize> {
    let mut lines = Vec::new();
    let mut line = 1;
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    // At depth 1, whether the next non-blank byte starts an element.
    let mut expect_element = false;
    for b in text.bytes() {
        if b == b'\n' {
            line += 1;
        }
        if in_string {
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
            continue;
        }
        if b.is_ascii_whitespace() {
            continue;
        }
        if depth == 1 && expect_element && b != b']' {
            lines.push(line);
            expect_element = false;
        }
        match b {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                if depth == 1 {
                    expect_element = true;
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            b',' if depth == 1 => expect_element = true,
            _ => {}
        }
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::element_lines;

    #[test]
    fn element_lines_skip_nested_values_and_strings() {
        let text = "[\n {\"a\": [1,\n 2]},\n \"x,[\\\"\",\n\n 3]";
        assert_eq!(element_lines(text), vec![2, 4, 6]);
        assert_eq!(element_lines("[]"), Vec::<usize>::new());
    }
}
