//! The linearizability checker on random `Var` histories, against a brute-force enumeration of
//! every order that binds vars the same way: a var is the model's output of the step it names,
//! that step goes first, and an operation naming a step with an unknown outcome is placed but
//! not compared.

use super::var_history::{recorded, CellOp, Cells, Out, Row, CAPACITY};
use stateprop::check::{check_linearizable, check_sequentially_consistent, CheckConfig, Verdict};
use stateprop::history::History;
use stateprop::prelude::*;
use stateprop::StepId;
use std::collections::HashMap;

struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        // xorshift64*: enough for test shapes.
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 11) % n
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

/// A random program (a prefix, then two or three branches) run by a correct system that picks
/// its own ids and takes effect at a random point inside each operation, then damaged: an
/// output changed, or a branch's last operation left without an outcome.
fn random_history(rng: &mut Rng) -> History<CellOp, Out> {
    let mut prefix = Vec::new();
    for i in 0..rng.below(3) as usize {
        prefix.push((StepId::prefix(i), random_op(rng, &prefix, &[])));
    }
    let mut branches: Vec<Vec<(StepId, CellOp)>> = Vec::new();
    for b in 0..2 + rng.below(2) as u16 {
        let mut own = Vec::new();
        for i in 0..1 + rng.below(3) as usize {
            own.push((StepId::in_branch(b, i), random_op(rng, &prefix, &own)));
        }
        branches.push(own);
    }
    // Events: the prefix in order, then the branches' calls, effects and returns interleaved.
    let mut sys = System::default();
    let mut rows: Vec<Row> = Vec::new();
    let mut clock = 0u64;
    for (step, op) in &prefix {
        let out = sys.apply(*step, op);
        rows.push((0, *step, op.clone(), clock, Some(clock + 1), Some(out)));
        clock += 2;
    }
    // Per branch: the next op and how far it has got (0 not called, 1 called, 2 took effect).
    let mut at = vec![(0usize, 0u8); branches.len()];
    let mut open: HashMap<usize, usize> = HashMap::new();
    loop {
        let live: Vec<usize> = (0..branches.len())
            .filter(|&b| at[b].0 < branches[b].len())
            .collect();
        if live.is_empty() {
            break;
        }
        let b = live[rng.below(live.len() as u64) as usize];
        let (i, phase) = at[b];
        let (step, op) = &branches[b][i];
        match phase {
            0 => {
                open.insert(b, rows.len());
                rows.push((b as u64 + 1, *step, op.clone(), clock, None, None));
                at[b].1 = 1;
            }
            1 => {
                let out = sys.apply(*step, op);
                rows[open[&b]].5 = Some(out);
                at[b].1 = 2;
            }
            _ => {
                rows[open[&b]].4 = Some(clock);
                at[b] = (i + 1, 0);
            }
        }
        clock += 1;
    }
    if rng.chance(40) {
        let k = rng.below(rows.len() as u64) as usize;
        rows[k].5 = Some(match rows[k].5.take() {
            Some(Out::Value(v)) => Out::Value(v + 1 + rng.below(2) as u32),
            Some(Out::Made(_)) | Some(Out::Done) | None => Out::Value(rng.below(3) as u32),
        });
    }
    // A branch's last operation never returned (nothing after it in its branch names it).
    if rng.chance(30) {
        let b = rng.below(branches.len() as u64) as u16;
        let last = branches[b as usize].len() - 1;
        if let Some(row) = rows.iter_mut().find(|r| r.1 == StepId::in_branch(b, last)) {
            row.4 = None;
            row.5 = None;
        }
    }
    recorded(rows)
}

fn random_op(rng: &mut Rng, prefix: &[(StepId, CellOp)], own: &[(StepId, CellOp)]) -> CellOp {
    let made: Vec<StepId> = prefix
        .iter()
        .chain(own)
        .filter(|(_, op)| matches!(op, CellOp::Create))
        .map(|(s, _)| *s)
        .collect();
    if made.is_empty() || rng.chance(30) {
        return CellOp::Create;
    }
    let h = Var::to(made[rng.below(made.len() as u64) as usize]);
    if rng.chance(50) {
        CellOp::Write {
            h,
            v: 1 + rng.below(3) as u32,
        }
    } else {
        CellOp::Read { h }
    }
}

/// A correct system with its own ids (never those the model picks), without a capacity.
#[derive(Default)]
struct System {
    ids: HashMap<StepId, u32>,
    cells: HashMap<u32, u32>,
}

impl System {
    fn apply(&mut self, step: StepId, op: &CellOp) -> Out {
        match op {
            CellOp::Create => {
                let id = 1000 + 7 * self.ids.len() as u32;
                self.ids.insert(step, id);
                self.cells.insert(id, 0);
                Out::Made(stateprop_id(id))
            }
            CellOp::Write { h, v } => {
                self.cells.insert(self.ids[&h.id()], *v);
                Out::Done
            }
            CellOp::Read { h } => Out::Value(self.cells[&self.ids[&h.id()]]),
        }
    }
}

fn stateprop_id(id: u32) -> super::var_history::Id {
    super::var_history::Id(id)
}

/// What the enumeration found: an order, or none (and whether some var could not be bound).
#[derive(Debug)]
struct Brute {
    order: Option<Vec<usize>>,
    unbindable: bool,
}

/// Which orders count.
#[derive(Clone, Copy, Debug)]
enum Consistency {
    /// Real time: an operation that returned before another was invoked goes first.
    Linearizable,
    /// Each client's own order (by invocation); an unknown operation left out of it stays out.
    Sequential,
}

/// Whether `a` may be placed after exactly the operations of `order`.
fn may_place(h: &History<CellOp, Out>, rule: Consistency, a: usize, order: &[usize]) -> bool {
    let o = &h.ops[a];
    match rule {
        Consistency::Linearizable => {
            (0..h.ops.len()).all(|b| h.ops[b].ret.is_none_or(|r| r >= o.call) || order.contains(&b))
        }
        Consistency::Sequential => (0..h.ops.len()).all(|b| {
            let other = &h.ops[b];
            if b == a || other.client != o.client {
                return true;
            }
            if other.call < o.call {
                other.is_unknown() || order.contains(&b)
            } else {
                !order.contains(&b)
            }
        }),
    }
}

/// Every order that keeps `rule`, places the steps vars name first and places every operation
/// with a known outcome (the others may be left out), tried one by one.
fn brute_force(h: &History<CellOp, Out>, rule: Consistency) -> Brute {
    let mut found = Brute {
        order: None,
        unbindable: false,
    };
    let mut order = Vec::new();
    let mut outputs: Vec<Option<Out>> = vec![None; h.ops.len()];
    dfs(
        h,
        rule,
        &Cells::default(),
        &mut order,
        &mut outputs,
        &mut found,
    );
    found
}

fn dfs(
    h: &History<CellOp, Out>,
    rule: Consistency,
    state: &Cells,
    order: &mut Vec<usize>,
    outputs: &mut Vec<Option<Out>>,
    found: &mut Brute,
) {
    if found.order.is_some() {
        return;
    }
    let placed = |i: usize, order: &[usize]| order.contains(&i);
    if (0..h.ops.len()).all(|i| h.ops[i].is_unknown() || placed(i, order)) {
        found.order = Some(order.clone());
        return;
    }
    for a in 0..h.ops.len() {
        if placed(a, order) {
            continue;
        }
        let o = &h.ops[a];
        if !may_place(h, rule, a, order) {
            continue;
        }
        let named: Vec<usize> = var_steps(&o.op)
            .iter()
            .map(|id| {
                h.steps
                    .iter()
                    .position(|s| s == id)
                    .expect("in the history")
            })
            .collect();
        if named.iter().any(|&j| !placed(j, order)) {
            continue;
        }
        let mut op = o.op.clone();
        let by_step: Vec<Out> = h
            .steps
            .iter()
            .enumerate()
            .map(|(j, _)| outputs[j].clone().unwrap_or(Out::Done))
            .collect();
        let lookup = Lookup {
            steps: &h.steps,
            outputs: &by_step,
        };
        if !op.bind_vars(&lookup) {
            found.unbindable = true;
            continue;
        }
        let mut next = state.clone();
        let expected = next.step(&op);
        let blind = named.iter().any(|&j| h.ops[j].is_unknown());
        if let (Some(_), Some(actual), false) = (o.ret, &o.output, blind) {
            if !next.outputs_match(&op, &expected, actual) {
                continue;
            }
        }
        order.push(a);
        outputs[a] = Some(expected);
        dfs(h, rule, &next, order, outputs, found);
        order.pop();
        outputs[a] = None;
    }
}

struct Lookup<'a> {
    steps: &'a [StepId],
    outputs: &'a [Out],
}

impl stateprop::program::Outputs<Out> for Lookup<'_> {
    fn output(&self, id: StepId) -> Option<&Out> {
        let j = self.steps.iter().position(|s| *s == id)?;
        Some(&self.outputs[j])
    }
}

fn var_steps(op: &CellOp) -> Vec<StepId> {
    match op {
        CellOp::Create => Vec::new(),
        CellOp::Write { h, .. } | CellOp::Read { h } => vec![h.id()],
    }
}

#[test]
fn random_var_histories_get_the_verdict_of_an_enumeration_of_every_order() {
    compare(Consistency::Linearizable, 0x005e_ed0f_7a15);
}

#[test]
fn random_var_histories_get_the_sequential_consistency_verdict_of_the_enumeration() {
    compare(Consistency::Sequential, 0x0000_5c0f_7a15);
}

/// A verdict without its violation.
#[derive(Debug)]
enum Got {
    Holds,
    Violated,
    Unknown(String),
}

impl<V> From<Verdict<V>> for Got {
    fn from(verdict: Verdict<V>) -> Self {
        if verdict.holds() {
            Got::Holds
        } else if let Some(reason) = verdict.unknown_reason() {
            Got::Unknown(reason.to_string())
        } else {
            Got::Violated
        }
    }
}

fn compare(rule: Consistency, seed: u64) {
    let mut rng = Rng(seed);
    let (mut holds, mut violated, mut unknown) = (0, 0, 0);
    let config = CheckConfig::default();
    for case in 0..600 {
        let h = random_history(&mut rng);
        let brute = brute_force(&h, rule);
        let (verdict, orders) = match rule {
            Consistency::Linearizable => {
                let r = check_linearizable(&h, &Cells::default(), &config);
                (Got::from(r.verdict), r.orders)
            }
            Consistency::Sequential => {
                let r = check_sequentially_consistent(&h, &Cells::default(), &config);
                (Got::from(r.verdict), r.orders)
            }
        };
        match (&verdict, &brute.order) {
            (Got::Holds, Some(_)) => {
                holds += 1;
                // The checker's own order passes the enumeration's rules.
                let order = &orders[0].ops;
                assert!(
                    replays(&h, rule, order),
                    "case {case}: order {order:?} of {h:#?}"
                );
            }
            // With no order at all, every failure to bind was met by both, or by neither.
            (Got::Violated, None) if !brute.unbindable => violated += 1,
            (Got::Unknown(reason), None) if brute.unbindable => {
                assert!(reason.contains("holds no value"), "case {case}: {reason}");
                unknown += 1;
            }
            (verdict, _) => {
                panic!("case {case}: {rule:?} checker {verdict:?}, enumeration {brute:?}: {h:#?}")
            }
        }
    }
    // The random shapes reach every verdict often enough to mean something.
    assert!(
        holds > 100 && violated > 100,
        "{holds} hold, {violated} violated"
    );
    assert!(
        unknown > 0,
        "no history exceeded the model's {CAPACITY} cells"
    );
}

/// Whether `order` keeps `rule`, names steps after they are placed, matches every compared
/// output and places every operation with a known outcome.
fn replays(h: &History<CellOp, Out>, rule: Consistency, order: &[usize]) -> bool {
    let mut state = Cells::default();
    let mut outputs = vec![Out::Done; h.ops.len()];
    for (k, &a) in order.iter().enumerate() {
        let o = &h.ops[a];
        if !may_place(h, rule, a, &order[..k]) {
            return false;
        }
        let named: Vec<usize> = var_steps(&o.op)
            .iter()
            .filter_map(|id| h.steps.iter().position(|s| s == id))
            .collect();
        if named.iter().any(|j| !order[..k].contains(j)) {
            return false;
        }
        let mut op = o.op.clone();
        if !op.bind_vars(&Lookup {
            steps: &h.steps,
            outputs: &outputs,
        }) {
            return false;
        }
        let expected = state.step(&op);
        let blind = named.iter().any(|&j| h.ops[j].is_unknown());
        if let (Some(_), Some(actual), false) = (o.ret, &o.output, blind) {
            if !state.outputs_match(&op, &expected, actual) {
                return false;
            }
        }
        outputs[a] = expected;
    }
    (0..h.ops.len()).all(|i| h.ops[i].is_unknown() || order.contains(&i))
}
