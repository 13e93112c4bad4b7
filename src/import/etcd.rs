//! Jepsen's 2015 etcd logs: `INFO  jepsen.util - <process> :<type> :<f> <value>` lines.

use super::builder::Builder;
use super::edn;
use super::jepsen::{complete, completion_error, register_echo, Event, Kind, Register, Spec};
use super::text::strip_bom;
use super::ImportError;
use crate::history::History;
use crate::models::{RegisterOp, RegisterOut};

/// Reads a Jepsen etcd log of a compare-and-set register (the `jepsen/etcd_*.log` files of the
/// Porcupine and linearizability-checker corpora), for [`CasRegister`](crate::models::CasRegister).
///
/// Each line is `INFO  jepsen.util - <process> :<type> :<f> <value>`, fields separated by runs of
/// white space; the value is `nil`, an integer, `[from to]` or `:timed-out`. What precedes
/// `jepsen.util` (level, timestamp) is not read. The time of an event is its line index (line
/// `N` is time `N - 1`). Where these logs differ from Jepsen's usual meaning of `:fail`:
///
/// - `:fail :cas [A B]` is a compare-and-set that *happened* and returned false: it observed a
///   value other than `A`.
/// - `:fail :read` (`:timed-out`) returned, at that line, with an unknown value.
///
/// A `:fail :write` did not happen (it is dropped). `:info` (`:timed-out`) leaves a write or cas
/// unknown: it may have taken effect at any time after its invocation. `:nemesis` lines are
/// skipped.
///
/// Every other non-blank line is an error rather than skipped: the corpus holds only client
/// lines, and a line silently ignored could be an operation lost. To import a full `jepsen.log`,
/// whose other loggers (`jepsen.core`, stack traces) interleave with the client lines, keep only
/// the client lines first (`grep jepsen.util`).
pub fn etcd(text: &str) -> Result<History<RegisterOp, RegisterOut>, ImportError> {
    etcd_as::<Register>(text)
}

/// [`etcd`], with `S` deciding which operations a register offers.
pub(crate) fn etcd_as<S>(text: &str) -> Result<History<RegisterOp, RegisterOut>, ImportError>
where
    S: Spec<Op = RegisterOp, Out = RegisterOut>,
{
    // Each operation is an invocation line and a completion line; other lines are few.
    let mut builder = Builder::with_capacity(text.lines().count() / 2);
    for (index, raw) in strip_bom(text).lines().enumerate() {
        let line = index + 1;
        if raw.trim().is_empty() {
            continue;
        }
        let error = |message: String| ImportError::new(line, message);
        let Some(at) = raw.find("jepsen.util") else {
            return Err(error(format!(
                "expected a client line `INFO  jepsen.util - <process> :<type> :<f> <value>`, found `{}` \
                 (keep only the jepsen.util lines of a full log: grep jepsen.util)",
                shorten(raw.trim())
            )));
        };
        let rest = &raw[at + "jepsen.util".len()..];
        // `jepsen.util - 3 …` (log4j) or `jepsen.util: 3 …`.
        let rest = match rest.strip_prefix(':') {
            Some(rest) => rest,
            None => {
                let rest = rest.trim_start();
                rest.strip_prefix('-').unwrap_or(rest)
            }
        };
        const SHAPE: &str = "(expected `jepsen.util - <process> :<type> :<f> <value>`)";
        let Some((process, rest)) = token(rest) else {
            return Err(error(format!("missing the process number {SHAPE}")));
        };
        let process = match process {
            ":nemesis" => continue,
            p => p.parse::<u64>().map_err(|_| {
                error(format!(
                    "bad process `{}`: expected a process number (0 or more) or :nemesis",
                    shorten(p)
                ))
            })?,
        };
        let Some((kind, rest)) = token(rest) else {
            return Err(error(format!("missing the :type {SHAPE}")));
        };
        let kind = kind
            .strip_prefix(':')
            .and_then(Kind::parse)
            .ok_or_else(|| {
                error(format!(
                    "unknown type `{}` (expected :invoke, :ok, :fail or :info)",
                    shorten(kind)
                ))
            })?;
        let Some((f, rest)) = token(rest) else {
            return Err(error(format!("missing the :f {SHAPE}")));
        };
        let f = f
            .strip_prefix(':')
            .filter(|f| !f.is_empty())
            .ok_or_else(|| {
                error(format!(
                    "bad :f `{}`: expected a keyword such as :read",
                    shorten(f)
                ))
            })?;
        let forms = edn::read_all(rest, line)?;
        let value = match forms.as_slice() {
            [] => {
                return Err(error(format!(
                    "missing the value after :{f} (nil, an integer, [from to] or :timed-out)"
                )))
            }
            [value] => &value.value,
            [_, extra, ..] => {
                return Err(error(format!(
                    "unexpected {} after the value",
                    extra.value.describe()
                )))
            }
        };
        let event = Event {
            line,
            time: index as u64,
            process,
            kind,
            f,
            value,
            key: None,
        };
        apply::<S>(&mut builder, &event)?;
    }
    Ok(builder.finish())
}

/// Applies one event with the etcd logs' meaning of its type.
fn apply<S>(
    builder: &mut Builder<RegisterOp, RegisterOut>,
    event: &Event<'_>,
) -> Result<(), ImportError>
where
    S: Spec<Op = RegisterOp, Out = RegisterOut>,
{
    let error = |message: String| ImportError::new(event.line, message);
    if event.kind == Kind::Invoke {
        let op = S::invocation(event).map_err(error)?;
        return builder.invoke(
            event.process,
            op,
            S::describe(event),
            event.time,
            event.line,
        );
    }
    let open = complete::<S>(builder, event)?;
    let op = builder.op(open.index).clone();
    match (event.kind, &op) {
        (Kind::Ok, _) => {
            let output = S::output(&op, event).map_err(|m| completion_error(event, &open, m))?;
            builder.returned(open.index, event.time, Some(output));
        }
        // It happened, and found a value other than `from`.
        (Kind::Fail, RegisterOp::Cas { .. }) => {
            register_echo(&op, event).map_err(|m| completion_error(event, &open, m))?;
            builder.returned(open.index, event.time, Some(RegisterOut::Cas(false)));
        }
        // It returned, but what it read is unknown.
        (Kind::Fail, RegisterOp::Read) => builder.returned(open.index, event.time, None),
        (Kind::Fail, RegisterOp::Write { .. }) => builder.drop_op(open.index),
        // May have taken effect at any time after its invocation: it never returns.
        (Kind::Info | Kind::Invoke, _) => {}
    }
    Ok(())
}

/// The first white-space-separated token and the rest.
fn token(text: &str) -> Option<(&str, &str)> {
    let text = text.trim_start();
    if text.is_empty() {
        return None;
    }
    let end = text.find(char::is_whitespace).unwrap_or(text.len());
    Some((&text[..end], &text[end..]))
}

/// At most 40 characters of `text`, for a message.
fn shorten(text: &str) -> String {
    match text.char_indices().nth(40) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_string(),
    }
}
