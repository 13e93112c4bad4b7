//! [`SimStep`] as a [`StateMachine`] over [`Sim`]: a simulated program is generated, validated,
//! shrunk, saved and printed by the same engine as any other program, so faults shrink like
//! any other step.
//!
//! The rules are the service's own, one request rule per inner rule (named `Request(Put)`), then
//! the network, clock and fault kinds in [`FAULT_RULES`]'s order. Arguments are drawn from
//! strategies whose trees the shrinker keeps: a request's `client` and `node` (argument 0 and 1)
//! and then the service operation's own arguments; a fault's `pick`, `ms`, `node`, `side`.
//!
//! `Var` fields of the service operations are not supported yet: their rules are never enabled
//! in a simulated program (no earlier result is offered), so a machine that has them still runs
//! its other rules.

use super::model::{Sim, SimOut};
use super::node::NodeId;
use super::step::SimStep;
use crate::generate::strategy::pick;
use crate::generate::TreeBox;
use crate::program::{Outputs, StepId};
use crate::spec::{ArgTree, Consumed, Gen, Model, RuleInfo, Scope, StateMachine};
use serde_json::{json, Map, Value};
use std::any::TypeId;
use std::cell::Cell;
use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

#[cfg(test)]
mod tests;

/// The rules after the service's request rules, in order, with their default weights:
/// requests and time common, deliveries moderate, faults rarer. A request rule weighs its inner
/// rule's weight times [`REQUEST_WEIGHT`].
pub const FAULT_RULES: [(&str, u32); 10] = [
    ("Deliver", 4),
    ("Advance", 6),
    ("Partition", 1),
    ("Heal", 1),
    ("Drop", 1),
    ("Duplicate", 1),
    ("Delay", 1),
    ("Crash", 1),
    ("Restart", 1),
    ("ClockSkew", 1),
];

/// How much a request rule weighs per unit of its inner rule's weight.
pub const REQUEST_WEIGHT: u32 = 4;

// Offsets into FAULT_RULES, for the match arms below.
const DELIVER: usize = 0;
const ADVANCE: usize = 1;
const PARTITION: usize = 2;
const HEAL: usize = 3;
const DROP: usize = 4;
const DUPLICATE: usize = 5;
const DELAY: usize = 6;
const CRASH: usize = 7;
const RESTART: usize = 8;
const CLOCK_SKEW: usize = 9;

/// The longest `Advance` or `Delay` generated, in milliseconds: long enough for timeouts and
/// elections, short enough that a few steps do not jump past everything.
const MAX_MS: u16 = 200;
/// The largest clock skew generated, either way, in milliseconds.
const MAX_SKEW: i16 = 500;

/// The rules of `SimStep<Op>`, built once per `Op` and leaked: a generic impl cannot own a
/// `static` of its own, so one table keyed by type serves every instantiation.
fn rules_of<Op: StateMachine>() -> &'static [RuleInfo] {
    // The engine asks for the rules several times a step: the last answer is kept per thread,
    // so the lock below is taken once per machine and thread, not once per call.
    thread_local! {
        static LAST: Cell<Option<(TypeId, &'static [RuleInfo])>> = const { Cell::new(None) };
    }
    let id = TypeId::of::<Op>();
    if let Some((last, rules)) = LAST.with(Cell::get) {
        if last == id {
            return rules;
        }
    }
    let rules = build_rules_of::<Op>();
    LAST.with(|last| last.set(Some((id, rules))));
    rules
}

/// [`rules_of`] from the table shared by every thread, built there on first use.
fn build_rules_of<Op: StateMachine>() -> &'static [RuleInfo] {
    static TABLE: OnceLock<Mutex<HashMap<TypeId, &'static [RuleInfo]>>> = OnceLock::new();
    let table = TABLE.get_or_init(Default::default);
    let mut table = table
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some(&rules) = table.get(&TypeId::of::<Op>()) {
        return rules;
    }
    let built: &'static [RuleInfo] = {
        let mut rules: Vec<RuleInfo> = Op::rules()
            .iter()
            .map(|inner| RuleInfo {
                name: Box::leak(format!("Request({})", inner.name).into_boxed_str()),
                weight: inner.weight.saturating_mul(REQUEST_WEIGHT),
                precondition: inner.precondition,
                var_fields: inner.var_fields,
            })
            .collect();
        rules.extend(FAULT_RULES.iter().enumerate().map(|(i, &(name, weight))| {
            // The engine calls `enabled` only for a rule that names a precondition.
            let precondition = match i {
                PARTITION => Some("at least two nodes"),
                HEAL => Some("a partition is on"),
                CRASH => Some("some node is up"),
                RESTART => Some("some node is down"),
                _ => None,
            };
            RuleInfo {
                name,
                weight,
                precondition,
                var_fields: &[],
            }
        }));
        Box::leak(rules.into_boxed_slice())
    };
    table.insert(TypeId::of::<Op>(), built);
    built
}

/// A generator over the service model, sharing `gen`'s random source and argument trees, so a
/// request's inner arguments are drawn and kept exactly as the service machine's own are. It
/// offers no earlier results: `Var` fields are not supported in simulated programs yet.
fn inner_gen<'g, M: Model>(gen: &'g mut Gen<'_, Sim<M>>) -> Gen<'g, M> {
    Gen {
        runner: &mut *gen.runner,
        outputs: &[],
        scope: Scope::SEQUENTIAL,
        consumed: Consumed::NONE,
        trees: gen.trees.as_deref_mut(),
        choices: gen.choices.as_deref_mut(),
    }
}

impl<Op: StateMachine> StateMachine for SimStep<Op> {
    type Model = Sim<Op::Model>;

    fn rules() -> &'static [RuleInfo] {
        rules_of::<Op>()
    }

    fn rule_index(&self) -> usize {
        let n = Op::rules().len();
        match self {
            SimStep::Request { op, .. } => op.rule_index(),
            SimStep::Deliver { .. } => n + DELIVER,
            SimStep::Advance { .. } => n + ADVANCE,
            SimStep::Partition { .. } => n + PARTITION,
            SimStep::Heal => n + HEAL,
            SimStep::Drop { .. } => n + DROP,
            SimStep::Duplicate { .. } => n + DUPLICATE,
            SimStep::Delay { .. } => n + DELAY,
            SimStep::Crash { .. } => n + CRASH,
            SimStep::Restart { .. } => n + RESTART,
            SimStep::ClockSkew { .. } => n + CLOCK_SKEW,
        }
    }

    fn enabled(
        rule: usize,
        model: &Self::Model,
        outputs: &[SimOut<<Op::Model as Model>::Output>],
    ) -> bool {
        let _ = outputs;
        let n = Op::rules().len();
        if rule < n {
            return Op::enabled(rule, &model.inner, &[]);
        }
        // Steps that would do nothing are left out; the run treats them as no-ops anyway, so
        // this only keeps generation from wasting steps.
        match rule - n {
            PARTITION => model.nodes() >= 2,
            HEAL => model.is_partitioned(),
            CRASH => model.up_nodes().next().is_some(),
            RESTART => model.crashed_nodes().next().is_some(),
            DELIVER | ADVANCE | DROP | DUPLICATE | DELAY | CLOCK_SKEW => true,
            _ => false,
        }
    }

    fn generate(
        rule: usize,
        model: &Self::Model,
        gen: &mut Gen<'_, Self::Model>,
    ) -> Result<Self, String> {
        let n = Op::rules().len();
        let nodes = model.nodes();
        if rule < n {
            let client = gen.fast_arg("client", &(0..model.clients()))?;
            let node = gen.fast_arg("node", &(0..nodes))?;
            let op = Op::generate(rule, &model.inner, &mut inner_gen(gen))?;
            return Ok(SimStep::Request { client, node, op });
        }
        Ok(match rule - n {
            DELIVER => SimStep::Deliver {
                pick: gen.fast_arg("pick", &(0..=u8::MAX))?,
            },
            ADVANCE => SimStep::Advance {
                ms: gen.fast_arg("ms", &(1..=MAX_MS))?,
            },
            PARTITION => {
                // A nonempty proper subset of the nodes; shrinks toward node 0 alone.
                let all = ((1u32 << nodes) - 1) as u16;
                SimStep::Partition {
                    side: gen.fast_arg("side", &(1..all))?,
                    one_way: gen.fast_arg("one_way", &(0..=1u8))? == 1,
                }
            }
            HEAL => SimStep::Heal,
            DROP => SimStep::Drop {
                pick: gen.fast_arg("pick", &(0..=u8::MAX))?,
            },
            DUPLICATE => SimStep::Duplicate {
                pick: gen.fast_arg("pick", &(0..=u8::MAX))?,
            },
            DELAY => SimStep::Delay {
                pick: gen.fast_arg("pick", &(0..=u8::MAX))?,
                ms: gen.fast_arg("ms", &(1..=MAX_MS))?,
            },
            // A node that is up (down, for a restart); shrinks toward the lowest such node.
            CRASH => SimStep::Crash {
                node: gen.fast_arg("node", &pick(model.up_nodes()))?,
            },
            RESTART => SimStep::Restart {
                node: gen.fast_arg("node", &pick(model.crashed_nodes()))?,
            },
            CLOCK_SKEW => SimStep::ClockSkew {
                node: gen.fast_arg("node", &(0..nodes))?,
                ms: gen.fast_arg("ms", &(-MAX_SKEW..=MAX_SKEW))?,
            },
            _ => {
                return Err(format!(
                    "rule {rule} is out of range: `SimStep` has {} rules",
                    n + FAULT_RULES.len()
                ))
            }
        })
    }

    fn set_arg(&mut self, index: usize, tree: &dyn ArgTree) {
        fn set<T: std::fmt::Debug + 'static>(field: &mut T, tree: &dyn ArgTree) {
            if let Some(value) = TreeBox::<T>::current_of(tree) {
                *field = value;
            }
        }
        match (self, index) {
            (SimStep::Request { client, .. }, 0) => set(client, tree),
            (SimStep::Request { node, .. }, 1) => set(node, tree),
            (SimStep::Request { op, .. }, i) => op.set_arg(i - 2, tree),
            (SimStep::Partition { side, .. }, 0) => set(side, tree),
            (SimStep::Partition { one_way, .. }, 1) => {
                if let Some(bit) = TreeBox::<u8>::current_of(tree) {
                    *one_way = bit == 1;
                }
            }
            (SimStep::Deliver { pick }, 0)
            | (SimStep::Drop { pick }, 0)
            | (SimStep::Duplicate { pick }, 0)
            | (SimStep::Delay { pick, .. }, 0) => set(pick, tree),
            (SimStep::Advance { ms }, 0) | (SimStep::Delay { ms, .. }, 1) => set(ms, tree),
            (SimStep::Crash { node }, 0)
            | (SimStep::Restart { node }, 0)
            | (SimStep::ClockSkew { node, .. }, 0) => set(node, tree),
            (SimStep::ClockSkew { ms, .. }, 1) => set(ms, tree),
            _ => {}
        }
    }

    fn bind_vars<L>(&mut self, outputs: &L) -> bool
    where
        L: Outputs<SimOut<<Op::Model as Model>::Output>> + ?Sized,
    {
        let _ = outputs;
        match self {
            // No results are offered to the service's `Var`s (see the module docs): a request
            // binds only if it has none.
            SimStep::Request { op, .. } => op.clone().remap_vars(&mut |_| None),
            _ => true,
        }
    }

    fn remap_vars(&mut self, map: &mut dyn FnMut(StepId) -> Option<StepId>) -> bool {
        match self {
            SimStep::Request { op, .. } => op.remap_vars(map),
            _ => true,
        }
    }

    fn uses_vars() -> bool {
        false
    }

    fn admits(&self, model: &Self::Model) -> bool {
        match self {
            SimStep::Request { op, .. } => op.admits(&model.inner),
            _ => true,
        }
    }

    fn checks_args() -> bool {
        Op::checks_args()
    }

    fn follow_model(&mut self, model: &Self::Model) -> bool {
        match self {
            SimStep::Request { op, .. } => op.follow_model(&model.inner),
            _ => true,
        }
    }

    fn follows_model() -> bool {
        Op::follows_model()
    }

    fn arg_follows_model(rule: usize, arg: usize) -> bool {
        rule < Op::rules().len() && arg >= 2 && Op::arg_follows_model(rule, arg - 2)
    }

    fn arg_key(&self, arg: usize) -> Option<(TypeId, String)> {
        fn key<T: std::fmt::Debug + 'static>(value: &T) -> Option<(TypeId, String)> {
            Some((TypeId::of::<T>(), format!("{value:?}")))
        }
        match (self, arg) {
            (SimStep::Request { client, .. }, 0) => key(client),
            (SimStep::Request { node, .. }, 1) => key(node),
            (SimStep::Request { op, .. }, i) => op.arg_key(i - 2),
            (SimStep::Partition { side, .. }, 0) => key(side),
            (SimStep::Partition { one_way, .. }, 1) => key(&u8::from(*one_way)),
            (SimStep::Deliver { pick }, 0)
            | (SimStep::Drop { pick }, 0)
            | (SimStep::Duplicate { pick }, 0)
            | (SimStep::Delay { pick, .. }, 0) => key(pick),
            (SimStep::Advance { ms }, 0) | (SimStep::Delay { ms, .. }, 1) => key(ms),
            (SimStep::Crash { node }, 0)
            | (SimStep::Restart { node }, 0)
            | (SimStep::ClockSkew { node, .. }, 0) => key(node),
            (SimStep::ClockSkew { ms, .. }, 1) => key(ms),
            _ => None,
        }
    }

    fn swarm_mask(draw: &mut dyn FnMut() -> u64, weights: &mut [u32]) -> Option<u64> {
        Some(fault_swarm(Op::rules().len(), draw, weights))
    }

    fn own_swarm() -> bool {
        true
    }

    fn to_rust(&self) -> String {
        match self {
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
        }
    }

    fn to_json(&self) -> Value {
        // serde's externally tagged form, with the service operation's own JSON inside.
        let (name, payload) = match self {
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
        };
        let mut tagged = Map::new();
        tagged.insert(name.to_string(), payload);
        Value::Object(tagged)
    }

    fn from_json(value: &Value) -> Result<Self, String> {
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
}

/// The swarm of a simulated program: which rules one case may use, and how often. The request
/// rules follow the engine's own swarm (all of them in half the cases, each with probability
/// 1/2 in the others, at least one); `Advance` is always in, since without time nothing times
/// out; `Deliver` is in three cases in four, at half, its own or twice its weight. The faults
/// are all out in a quarter of the cases (a bug that needs no fault is then not diluted by
/// them), all in in another quarter, and each kind in with probability 1/2 in the rest: some
/// cases only crash, some only partition. Each fault kind that is in comes at its own weight
/// times 1, 2 or 4, so some cases see a storm of one kind.
fn fault_swarm(requests: usize, draw: &mut dyn FnMut() -> u64, weights: &mut [u32]) -> u64 {
    let request_bits = if requests >= 64 {
        u64::MAX
    } else {
        (1u64 << requests) - 1
    };
    let mut mask = request_bits;
    if requests > 1 && draw() & 1 == 1 {
        loop {
            let bits = draw() & request_bits;
            if bits != 0 {
                mask = bits;
                break;
            }
        }
    }
    let at = |offset: usize| 1u64 << ((requests + offset) % 64);
    mask |= at(ADVANCE);
    let coin = draw();
    if coin & 3 != 0 {
        mask |= at(DELIVER);
        let deliver = &mut weights[requests + DELIVER];
        *deliver = match (coin >> 2) % 3 {
            0 => (*deliver / 2).max(1),
            1 => *deliver,
            _ => deliver.saturating_mul(2),
        };
    }
    let faults = [
        PARTITION, HEAL, DROP, DUPLICATE, DELAY, CRASH, RESTART, CLOCK_SKEW,
    ];
    let kinds = draw();
    let rates = draw();
    for (i, &fault) in faults.iter().enumerate() {
        let on = match kinds & 3 {
            0 => false,
            1 => true,
            _ => (kinds >> (2 + i)) & 1 == 1,
        };
        if on {
            mask |= at(fault);
            let weight = &mut weights[requests + fault];
            *weight = weight.saturating_mul(1 << ((rates >> (2 * i)) % 3));
        }
    }
    mask
}
