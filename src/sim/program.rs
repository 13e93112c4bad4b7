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
use super::step::SimStep;
use crate::generate::strategy::pick;
use crate::generate::TreeBox;
use crate::program::{Outputs, StepId};
use crate::spec::{ArgTree, Consumed, Gen, Model, RuleInfo, Scope, StateMachine};
use serde_json::Value;
use std::any::TypeId;
use std::cell::Cell;
use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

mod swarm;
#[cfg(test)]
mod tests;
mod text;

/// The rules after the service's request rules, in order, with their default weights:
/// requests and time common, deliveries moderate, faults rarer. A request rule weighs its inner
/// rule's weight times [`REQUEST_WEIGHT`].
pub const FAULT_RULES: [(&str, u32); 11] = [
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
    ("ClockDrift", 1),
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
const CLOCK_DRIFT: usize = 10;

/// The longest `Advance` or `Delay` generated, in milliseconds: long enough for timeouts and
/// elections, short enough that a few steps do not jump past everything.
const MAX_MS: u16 = 200;

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
                CLOCK_SKEW => Some("the settings allow clock skew"),
                CLOCK_DRIFT => Some("the settings allow clock drift"),
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
            SimStep::ClockDrift { .. } => n + CLOCK_DRIFT,
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
            // Clock faults within the bounds the settings allow (`Settings::clock_faults`).
            CLOCK_SKEW => model.sim_settings().max_skew_ms > 0,
            CLOCK_DRIFT => model.sim_settings().max_drift_ppt > 0,
            DELIVER | ADVANCE | DROP | DUPLICATE | DELAY => true,
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
            CLOCK_SKEW => {
                let max = i16::try_from(model.sim_settings().max_skew_ms).unwrap_or(i16::MAX);
                SimStep::ClockSkew {
                    node: gen.fast_arg("node", &(0..nodes))?,
                    ms: gen.fast_arg("ms", &(-max..=max))?,
                }
            }
            CLOCK_DRIFT => {
                let max = i16::try_from(model.sim_settings().max_drift_ppt).unwrap_or(i16::MAX);
                SimStep::ClockDrift {
                    node: gen.fast_arg("node", &(0..nodes))?,
                    rate: gen.fast_arg("rate", &(-max..=max))?,
                }
            }
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
            | (SimStep::ClockSkew { node, .. }, 0)
            | (SimStep::ClockDrift { node, .. }, 0) => set(node, tree),
            (SimStep::ClockSkew { ms, .. }, 1) => set(ms, tree),
            (SimStep::ClockDrift { rate, .. }, 1) => set(rate, tree),
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
        // The cluster's shape bounds every client, node and side: the shrinker may move a value
        // between arguments of one type (a `pick` of 2 into a `client` of a two-client run), and
        // a step naming a client or node the cluster does not have would run as something else.
        let node_ok = |node: &super::node::NodeId| *node < model.nodes();
        match self {
            SimStep::Request { client, node, op } => {
                *client < model.clients()
                    && node_ok(node)
                    && (!Op::checks_args() || op.admits(&model.inner))
            }
            SimStep::Partition { side, .. } => {
                *side != 0 && u32::from(*side) < (1u32 << model.nodes()) - 1
            }
            SimStep::Crash { node }
            | SimStep::Restart { node }
            | SimStep::ClockSkew { node, .. }
            | SimStep::ClockDrift { node, .. } => node_ok(node),
            _ => true,
        }
    }

    fn checks_args() -> bool {
        true
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
            | (SimStep::ClockSkew { node, .. }, 0)
            | (SimStep::ClockDrift { node, .. }, 0) => key(node),
            (SimStep::ClockSkew { ms, .. }, 1) => key(ms),
            (SimStep::ClockDrift { rate, .. }, 1) => key(rate),
            _ => None,
        }
    }

    fn swarm_mask(draw: &mut dyn FnMut() -> u64, weights: &mut [u32]) -> Option<u64> {
        Some(swarm::fault_swarm(Op::rules().len(), draw, weights))
    }

    fn own_swarm() -> bool {
        true
    }

    fn to_rust(&self) -> String {
        text::to_rust(self)
    }

    fn to_json(&self) -> Value {
        text::to_json(self)
    }

    fn from_json(value: &Value) -> Result<Self, String> {
        text::from_json(value)
    }
}
