//! The event form of a history: invocations and completions in real-time order.
//!
//! This is the JSON format (docs/history-format.md): a list of events, each
//! `{"type": "invoke", "client": 3, "op": ...}`, `{"type": "ok", "client": 3, "output": ...}`,
//! `{"type": "fail", "client": 3}` (the operation did not take effect) or
//! `{"type": "info", "client": 3}` (unknown: it may have taken effect). An event's position is
//! its time, unless every event has a `time` field: then that orders them, so logs written by
//! several processes can simply be concatenated.

use super::{History, Operation, Source};
use crate::program::StepId;
use serde::{Deserialize, Serialize};
use std::cmp::Ordering;
use std::collections::BTreeMap;

/// What an event says.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EventKind {
    /// The client invoked an operation.
    Invoke,
    /// The operation completed with an output.
    Ok,
    /// The operation completed without taking effect.
    Fail,
    /// The outcome is unknown (crash, timeout): it may have taken effect at any time.
    Info,
}

/// One event.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Event<Op, Out> {
    /// What happened.
    #[serde(rename = "type")]
    pub kind: EventKind,
    /// The client.
    pub client: u64,
    /// The operation (on `invoke`).
    #[serde(default = "none", skip_serializing_if = "Option::is_none")]
    pub op: Option<Op>,
    /// The output (on `ok`).
    #[serde(default = "none", skip_serializing_if = "Option::is_none")]
    pub output: Option<Out>,
    /// When it happened, in any unit (nanoseconds, milliseconds, seconds as a float). Only
    /// compared, and only used when every event of the list has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time: Option<serde_json::Number>,
    /// Every other field (`node`, `pid`, …): kept to be shown, never interpreted.
    #[serde(flatten, default, skip_serializing_if = "BTreeMap::is_empty")]
    pub extra: BTreeMap<String, serde_json::Value>,
}

impl<Op, Out> Event<Op, Out> {
    /// An event without time or extra fields.
    pub fn new(kind: EventKind, client: u64, op: Option<Op>, output: Option<Out>) -> Self {
        Event {
            kind,
            client,
            op,
            output,
            time: None,
            extra: BTreeMap::new(),
        }
    }
}

/// Orders JSON numbers by value: integers exactly (nanosecond clocks exceed an `f64`'s 53 bits),
/// anything else as `f64`.
fn compare_times(a: &serde_json::Number, b: &serde_json::Number) -> Ordering {
    fn exact(n: &serde_json::Number) -> Option<i128> {
        n.as_i64()
            .map(i128::from)
            .or_else(|| n.as_u64().map(i128::from))
    }
    match (exact(a), exact(b)) {
        (Some(x), Some(y)) => x.cmp(&y),
        _ => {
            let (x, y) = (a.as_f64().unwrap_or(0.0), b.as_f64().unwrap_or(0.0));
            x.total_cmp(&y)
        }
    }
}

/// A field's value as a person reads it: strings without their quotes.
fn field_text(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn none<T>() -> Option<T> {
    None
}

/// A `step` field, written as a `Var` is: a prefix step's index, or `{"branch": b, "index": i}`.
fn step_id(value: &serde_json::Value) -> Result<StepId, String> {
    let index = |v: Option<&serde_json::Value>| {
        v.and_then(|v| v.as_u64())
            .and_then(|i| u32::try_from(i).ok())
    };
    let bad = || {
        format!(
            "\"step\" is {value}; expected a prefix step's index (`3`) or \
             {{\"branch\": b, \"index\": i}}"
        )
    };
    match value {
        serde_json::Value::Number(_) => index(Some(value))
            .map(|index| StepId {
                branch: None,
                index,
            })
            .ok_or_else(bad),
        serde_json::Value::Object(map) if map.len() == 2 => {
            let branch = map
                .get("branch")
                .and_then(|b| b.as_u64())
                .and_then(|b| u16::try_from(b).ok())
                .ok_or_else(bad)?;
            let index = index(map.get("index")).ok_or_else(bad)?;
            Ok(StepId {
                branch: Some(branch),
                index,
            })
        }
        _ => Err(bad()),
    }
}

/// The `step` field of an invocation (the form [`step_id`] reads).
fn step_json(id: StepId) -> serde_json::Value {
    match id.branch {
        None => serde_json::json!(id.index),
        Some(b) => serde_json::json!({"branch": b, "index": id.index}),
    }
}

impl<Op, Out> History<Op, Out> {
    /// Builds a history from events in real-time order. `fail`ed operations are left out (they
    /// did not happen); `info` and never-completed ones are unknown. `Err((index, message))`
    /// names the offending event.
    ///
    /// When every event has a `time`, operations are timed by it (equal times count as
    /// concurrent); otherwise by their positions. Times and extra fields, when there are any, are
    /// kept in [`History::sources`].
    pub fn from_events(events: Vec<Event<Op, Out>>) -> Result<Self, (usize, String)> {
        Self::from_located_events(events, None)
    }

    /// [`History::from_events`], also recording in [`History::sources`] the line each event
    /// starts on (`lines[i]` for event `i`).
    pub(crate) fn from_located_events(
        events: Vec<Event<Op, Out>>,
        lines: Option<&[usize]>,
    ) -> Result<Self, (usize, String)> {
        let times = event_times(&events)?;
        let keep_sources =
            lines.is_some() || times.is_some() || events.iter().any(|e| !e.extra.is_empty());
        let mut open: std::collections::HashMap<u64, usize> = Default::default();
        let mut ops: Vec<Option<(Operation<Op, Out>, Source)>> = Vec::new();
        // The program step of each invocation, from its `step` field (all or none).
        let mut steps: Vec<Option<StepId>> = Vec::new();
        let mut seen_steps: std::collections::HashSet<StepId> = Default::default();
        let mut with_steps: Option<bool> = None;
        for (index, event) in events.into_iter().enumerate() {
            let t = times.as_ref().map_or(index as u64, |t| t[index]);
            let line = lines.and_then(|l| l.get(index).copied());
            let written_time = event.time.as_ref().map(|n| n.to_string());
            let mut event = event;
            match event.kind {
                EventKind::Invoke => {
                    let step = match event.extra.remove("step") {
                        Some(value) => Some(step_id(&value).map_err(|m| (index, m))?),
                        None => None,
                    };
                    if let Some(id) = step {
                        if !seen_steps.insert(id) {
                            return Err((
                                index,
                                format!("{id} is the step of an earlier operation too"),
                            ));
                        }
                    }
                    if *with_steps.get_or_insert(step.is_some()) != step.is_some() {
                        return Err((
                            index,
                            "a \"step\" on some invocations but not all: give every invocation \
                             its program step, or none"
                                .to_string(),
                        ));
                    }
                    steps.push(step);
                    let op = event
                        .op
                        .ok_or_else(|| (index, "an invoke event needs an \"op\"".to_string()))?;
                    if open.contains_key(&event.client) {
                        return Err((
                            index,
                            format!(
                                "client {} invokes an operation while its previous one is still open",
                                event.client
                            ),
                        ));
                    }
                    open.insert(event.client, ops.len());
                    let source = Source {
                        call_line: line,
                        call_time: written_time,
                        fields: event
                            .extra
                            .iter()
                            .map(|(k, v)| (k.clone(), field_text(v)))
                            .collect(),
                        ..Source::default()
                    };
                    ops.push(Some((
                        Operation {
                            client: event.client,
                            op,
                            call: t,
                            ret: None,
                            output: None,
                        },
                        source,
                    )));
                }
                kind => {
                    let Some(at) = open.remove(&event.client) else {
                        return Err((
                            index,
                            format!(
                                "client {} completes an operation it never invoked",
                                event.client
                            ),
                        ));
                    };
                    let (op, source) = ops[at].as_mut().expect("open");
                    if t < op.call {
                        return Err((
                            index,
                            format!(
                                "client {} completes at time {} an operation it invoked later, at time {}",
                                event.client,
                                written_time.as_deref().unwrap_or("?"),
                                source.call_time.as_deref().unwrap_or("?"),
                            ),
                        ));
                    }
                    source.ret_line = line;
                    source.ret_time = written_time;
                    for (k, v) in &event.extra {
                        let v = field_text(v);
                        if !source
                            .fields
                            .iter()
                            .any(|(name, old)| name == k && *old == v)
                        {
                            source.fields.push((format!("ret.{k}"), v));
                        }
                    }
                    match kind {
                        EventKind::Ok => {
                            let output = event.output.ok_or_else(|| {
                                (index, "an ok event needs an \"output\"".to_string())
                            })?;
                            op.ret = Some(t);
                            op.output = Some(output);
                        }
                        EventKind::Fail => {
                            ops[at] = None;
                            steps[at] = None;
                        }
                        // Unknown: leave it open, returning at the end of time.
                        _ => {}
                    }
                }
            }
        }
        let (ops, sources): (Vec<_>, Vec<_>) = ops.into_iter().flatten().unzip();
        Ok(History {
            ops,
            sources: if keep_sources { sources } else { Vec::new() },
            steps: steps.into_iter().flatten().collect(),
        })
    }

    /// The event form: invocations and completions sorted by time (unknown operations get an
    /// `info` event after everything else).
    pub fn to_events(&self) -> Vec<Event<Op, Out>>
    where
        Op: Clone,
        Out: Clone,
    {
        let mut timed: Vec<(u64, u8, Event<Op, Out>)> = Vec::new();
        let end = self
            .ops
            .iter()
            .map(|o| o.ret.unwrap_or(o.call).max(o.call))
            .max()
            .unwrap_or(0)
            + 1;
        let with_steps = self.steps.len() == self.ops.len();
        for (i, o) in self.ops.iter().enumerate() {
            let mut invoke = Event::new(EventKind::Invoke, o.client, Some(o.op.clone()), None);
            if with_steps {
                invoke
                    .extra
                    .insert("step".to_string(), step_json(self.steps[i]));
            }
            timed.push((o.call, 1, invoke));
            let (t, kind, output) = match (&o.ret, &o.output) {
                (Some(t), Some(out)) => (*t, EventKind::Ok, Some(out.clone())),
                (Some(t), None) => (*t, EventKind::Info, None),
                (None, _) => (end, EventKind::Info, None),
            };
            timed.push((t, 0, Event::new(kind, o.client, None, output)));
        }
        // At equal times completions come first: a return at t precedes a call at t.
        timed.sort_by_key(|(t, order, _)| (*t, *order));
        timed.into_iter().map(|(_, _, e)| e).collect()
    }
}

/// Each event's time as a rank among the distinct `time` values (equal times, equal ranks), when
/// every event has one; `None` when none has. Some but not all is an error: half a clock would
/// order operations by two different rules.
fn event_times<Op, Out>(events: &[Event<Op, Out>]) -> Result<Option<Vec<u64>>, (usize, String)> {
    let with = events.iter().position(|e| e.time.is_some());
    let without = events.iter().position(|e| e.time.is_none());
    match (with, without) {
        (None, _) => Ok(None),
        (Some(w), Some(missing)) => Err((
            missing,
            format!(
                "this event has no \"time\" but event {w} has one: give every event a time, or none"
            ),
        )),
        (Some(_), None) => {
            let mut order: Vec<usize> = (0..events.len()).collect();
            let time = |i: usize| events[i].time.as_ref().expect("every event has a time");
            order.sort_by(|&a, &b| compare_times(time(a), time(b)));
            let mut ranks = vec![0u64; events.len()];
            let mut rank = 0u64;
            for (k, &i) in order.iter().enumerate() {
                if k > 0 && compare_times(time(order[k - 1]), time(i)) != Ordering::Equal {
                    rank += 1;
                }
                ranks[i] = rank;
            }
            Ok(Some(ranks))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_round_trip_and_fail_drops_the_operation() {
        let events: Vec<Event<String, i64>> = serde_json::from_str(
            r#"[
            {"type": "invoke", "client": 1, "op": "write 3"},
            {"type": "invoke", "client": 2, "op": "read"},
            {"type": "ok", "client": 1, "output": 0},
            {"type": "fail", "client": 2},
            {"type": "invoke", "client": 2, "op": "read"},
            {"type": "info", "client": 2}
        ]"#,
        )
        .unwrap();
        let h = History::from_events(events).unwrap();
        assert_eq!(h.ops.len(), 2);
        assert_eq!(h.ops[0].call, 0);
        assert_eq!(h.ops[0].ret, Some(2));
        assert!(h.ops[1].is_unknown());
        let again = History::from_events(h.to_events()).unwrap();
        assert_eq!(again.ops.len(), 2);
        assert_eq!(again.ops[0].op, "write 3");
    }

    #[test]
    fn bad_event_sequences_name_the_event() {
        let e =
            History::<String, i64>::from_events(vec![Event::new(EventKind::Ok, 4, None, Some(1))])
                .unwrap_err();
        assert_eq!(e.0, 0);
        assert!(e.1.contains("never invoked"), "{}", e.1);
    }
}
