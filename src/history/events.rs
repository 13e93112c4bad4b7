//! The event form of a history: invocations and completions in real-time order.
//!
//! This is the JSON format (docs/history-format.md): a list of events, each
//! `{"type": "invoke", "client": 3, "op": ...}`, `{"type": "ok", "client": 3, "output": ...}`,
//! `{"type": "fail", "client": 3}` (the operation did not take effect) or
//! `{"type": "info", "client": 3}` (unknown: it may have taken effect). An event's position is
//! its time.

use super::{History, Operation};
use serde::{Deserialize, Serialize};

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
}

fn none<T>() -> Option<T> {
    None
}

impl<Op, Out> History<Op, Out> {
    /// Builds a history from events in real-time order. `fail`ed operations are left out (they
    /// did not happen); `info` and never-completed ones are unknown. `Err((index, message))`
    /// names the offending event.
    pub fn from_events(events: Vec<Event<Op, Out>>) -> Result<Self, (usize, String)> {
        let mut open: std::collections::HashMap<u64, usize> = Default::default();
        let mut ops: Vec<Option<Operation<Op, Out>>> = Vec::new();
        for (time, event) in events.into_iter().enumerate() {
            let t = time as u64;
            match event.kind {
                EventKind::Invoke => {
                    let op = event
                        .op
                        .ok_or_else(|| (time, "an invoke event needs an \"op\"".to_string()))?;
                    if open.contains_key(&event.client) {
                        return Err((
                            time,
                            format!(
                                "client {} invokes an operation while its previous one is still open",
                                event.client
                            ),
                        ));
                    }
                    open.insert(event.client, ops.len());
                    ops.push(Some(Operation {
                        client: event.client,
                        op,
                        call: t,
                        ret: None,
                        output: None,
                    }));
                }
                kind => {
                    let Some(index) = open.remove(&event.client) else {
                        return Err((
                            time,
                            format!(
                                "client {} completes an operation it never invoked",
                                event.client
                            ),
                        ));
                    };
                    match kind {
                        EventKind::Ok => {
                            let output = event.output.ok_or_else(|| {
                                (time, "an ok event needs an \"output\"".to_string())
                            })?;
                            let op = ops[index].as_mut().expect("open");
                            op.ret = Some(t);
                            op.output = Some(output);
                        }
                        EventKind::Fail => ops[index] = None,
                        // Unknown: leave it open, returning at the end of time.
                        _ => {}
                    }
                }
            }
        }
        Ok(History {
            ops: ops.into_iter().flatten().collect(),
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
        for o in &self.ops {
            timed.push((
                o.call,
                1,
                Event {
                    kind: EventKind::Invoke,
                    client: o.client,
                    op: Some(o.op.clone()),
                    output: None,
                },
            ));
            let (t, kind, output) = match (&o.ret, &o.output) {
                (Some(t), Some(out)) => (*t, EventKind::Ok, Some(out.clone())),
                (Some(t), None) => (*t, EventKind::Info, None),
                (None, _) => (end, EventKind::Info, None),
            };
            timed.push((
                t,
                0,
                Event {
                    kind,
                    client: o.client,
                    op: None,
                    output,
                },
            ));
        }
        // At equal times completions come first: a return at t precedes a call at t.
        timed.sort_by_key(|(t, order, _)| (*t, *order));
        timed.into_iter().map(|(_, _, e)| e).collect()
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
        let e = History::<String, i64>::from_events(vec![Event {
            kind: EventKind::Ok,
            client: 4,
            op: None,
            output: Some(1),
        }])
        .unwrap_err();
        assert_eq!(e.0, 0);
        assert!(e.1.contains("never invoked"), "{}", e.1);
    }
}
