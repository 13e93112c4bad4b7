//! How a simulated step is written: as a Rust expression for the pasteable test, and as JSON
//! (serde's externally tagged form, the service operation's own JSON inside) for reports and the
//! regression file.

use super::FAULT_RULES;
use crate::sim::node::NodeId;
use crate::sim::step::SimStep;
use crate::spec::StateMachine;
use serde_json::{json, Map, Value};

pub(super) fn to_rust<Op: StateMachine>(step: &SimStep<Op>) -> String {
    match step {
        SimStep::Request { client, node, op } => format!(
            "SimStep::Request {{ client: {client}, node: {node}, op: {} }}",
            op.to_rust()
        ),
        SimStep::Deliver { pick } => format!("SimStep::Deliver {{ pick: {pick} }}"),
        SimStep::Advance { ms } => format!("SimStep::Advance {{ ms: {ms} }}"),
        SimStep::Partition { side, one_way } => {
            format!("SimStep::Partition {{ side: {side}, one_way: {one_way} }}")
        }
        SimStep::Heal => "SimStep::Heal".to_string(),
        SimStep::Drop { pick } => format!("SimStep::Drop {{ pick: {pick} }}"),
        SimStep::Duplicate { pick } => format!("SimStep::Duplicate {{ pick: {pick} }}"),
        SimStep::Delay { pick, ms } => format!("SimStep::Delay {{ pick: {pick}, ms: {ms} }}"),
        SimStep::Crash { node } => format!("SimStep::Crash {{ node: {node} }}"),
        SimStep::Restart { node } => format!("SimStep::Restart {{ node: {node} }}"),
        SimStep::ClockSkew { node, ms } => {
            format!("SimStep::ClockSkew {{ node: {node}, ms: {ms} }}")
        }
        SimStep::ClockDrift { node, rate } => {
            format!("SimStep::ClockDrift {{ node: {node}, rate: {rate} }}")
        }
    }
}

pub(super) fn to_json<Op: StateMachine>(step: &SimStep<Op>) -> Value {
    // serde's externally tagged form, with the service operation's own JSON inside.
    let (name, payload) = match step {
        SimStep::Request { client, node, op } => (
            "Request",
            json!({ "client": client, "node": node, "op": op.to_json() }),
        ),
        SimStep::Deliver { pick } => ("Deliver", json!({ "pick": pick })),
        SimStep::Advance { ms } => ("Advance", json!({ "ms": ms })),
        SimStep::Partition { side, one_way } => {
            ("Partition", json!({ "side": side, "one_way": one_way }))
        }
        SimStep::Heal => return Value::String("Heal".to_string()),
        SimStep::Drop { pick } => ("Drop", json!({ "pick": pick })),
        SimStep::Duplicate { pick } => ("Duplicate", json!({ "pick": pick })),
        SimStep::Delay { pick, ms } => ("Delay", json!({ "pick": pick, "ms": ms })),
        SimStep::Crash { node } => ("Crash", json!({ "node": node })),
        SimStep::Restart { node } => ("Restart", json!({ "node": node })),
        SimStep::ClockSkew { node, ms } => ("ClockSkew", json!({ "node": node, "ms": ms })),
        SimStep::ClockDrift { node, rate } => ("ClockDrift", json!({ "node": node, "rate": rate })),
    };
    let mut tagged = Map::new();
    tagged.insert(name.to_string(), payload);
    Value::Object(tagged)
}

pub(super) fn from_json<Op: StateMachine>(value: &Value) -> Result<SimStep<Op>, String> {
    let (name, payload) = crate::__private::split_tagged(value)?;
    let fields = match (name, payload) {
        ("Heal", None | Some(Value::Null)) => return Ok(SimStep::Heal),
        ("Heal", Some(Value::Object(f))) if f.is_empty() => return Ok(SimStep::Heal),
        (_, Some(Value::Object(fields))) => fields,
        (_, other) => {
            return Err(format!(
                "`{name}` takes an object of fields, found {}",
                other.map_or("nothing".to_string(), Value::to_string)
            ))
        }
    };
    let field = |key: &str| {
        fields
            .get(key)
            .ok_or_else(|| format!("`{name}` is missing field `{key}`"))
    };
    fn num<T: serde::de::DeserializeOwned>(
        name: &str,
        key: &str,
        value: Result<&Value, String>,
    ) -> Result<T, String> {
        serde_json::from_value(value?.clone()).map_err(|e| format!("`{name}.{key}`: {e}"))
    }
    Ok(match name {
        "Request" => SimStep::Request {
            client: num(name, "client", field("client"))?,
            node: num(name, "node", field("node"))?,
            op: Op::from_json(field("op")?).map_err(|e| format!("`Request.op`: {e}"))?,
        },
        "Deliver" => SimStep::Deliver {
            pick: num(name, "pick", field("pick"))?,
        },
        "Advance" => SimStep::Advance {
            ms: num(name, "ms", field("ms"))?,
        },
        "Partition" => SimStep::Partition {
            side: num(name, "side", field("side"))?,
            one_way: num(name, "one_way", field("one_way"))?,
        },
        "Drop" => SimStep::Drop {
            pick: num(name, "pick", field("pick"))?,
        },
        "Duplicate" => SimStep::Duplicate {
            pick: num(name, "pick", field("pick"))?,
        },
        "Delay" => SimStep::Delay {
            pick: num(name, "pick", field("pick"))?,
            ms: num(name, "ms", field("ms"))?,
        },
        "Crash" => SimStep::Crash {
            node: num::<NodeId>(name, "node", field("node"))?,
        },
        "Restart" => SimStep::Restart {
            node: num::<NodeId>(name, "node", field("node"))?,
        },
        "ClockSkew" => SimStep::ClockSkew {
            node: num::<NodeId>(name, "node", field("node"))?,
            ms: num(name, "ms", field("ms"))?,
        },
        "ClockDrift" => SimStep::ClockDrift {
            node: num::<NodeId>(name, "node", field("node"))?,
            rate: num(name, "rate", field("rate"))?,
        },
        other => {
            return Err(format!(
                "unknown step `{other}` for `SimStep`; expected one of `Request`, {}",
                FAULT_RULES
                    .iter()
                    .map(|(n, _)| format!("`{n}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        }
    })
}
