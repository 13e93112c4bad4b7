//! Whether every interleaving of a parallel program's branches keeps each step runnable: its
//! rule's precondition holds, its `Var`s bind, its precondition over arguments admits it, its
//! arguments are ones their strategies make there, and the model steps it without panicking.
//!
//! A branch is generated from the state after the prefix as if it ran alone, but on threads its
//! steps run between other branches' steps. A step enabled only in some orders (a `Pop` needing
//! an element when two branches each pop the prefix's one push) makes a correct system fail: in
//! the order where the model cannot run the step, no linearization exists, or the model panics
//! in the checker. So generation, the shrinker's repair and validation ask this module, as
//! QuickCheck's parallel testing does (Claessen et al., "Finding race conditions in Erlang with
//! QuickCheck and PULSE", ICFP 2009).
//!
//! The search is depth-first over the branches' positions, stepping clones of the model, and
//! stops at the first step that cannot run. States already seen (the same positions, model and
//! outputs, compared by a 128-bit hash of their `Debug` text, since a model need not be `Hash`;
//! a model whose `Debug` hides state its preconditions read defeats this) are not explored
//! again, which turns the multinomial count of interleavings into at most one visit per distinct
//! state. The visits are capped: past the cap the answer is [`Interleaved::TooMany`], never a
//! guess that the program is safe.

use crate::catch::catch;
use crate::program::{BranchOutputs, StepId};
use crate::spec::{Model, StateMachine};
use std::collections::HashSet;
use std::fmt::Write;
use std::hash::{DefaultHasher, Hasher};

/// States a generation or repair check may visit: enough for three branches of four steps of a
/// typical model many times over; eight branches of four reach it, and then the branch being
/// generated ends early rather than take a step that was not shown safe.
pub(crate) const STATE_BUDGET: usize = 10_000;

/// States all the checks of one generated case may visit together: it bounds what a case costs
/// (a few milliseconds) however many of its steps need a search near [`STATE_BUDGET`].
pub(crate) const CASE_BUDGET: usize = 4 * STATE_BUDGET;

/// States validation may visit: a saved program is checked once per replay, so it affords ten
/// times the generator's budget, and anything the generator or the repair made fits in it.
pub(crate) const VALIDATION_BUDGET: usize = 10 * STATE_BUDGET;

/// The answer of [`explore`].
#[derive(Debug)]
pub(crate) enum Interleaved {
    /// Every step runs in every interleaving.
    Safe,
    /// A step's precondition fails or a `Var` does not bind in some interleaving.
    Broken(Broken),
    /// The model panics stepping a step in some interleaving.
    Panicked(Broken, String),
    /// More distinct states than the budget: safety was not shown.
    TooMany,
}

/// Where an interleaving breaks: the step, the model state it meets, and the steps run before
/// it in that interleaving (after the prefix).
#[derive(Debug)]
pub(crate) struct Broken {
    pub(crate) step: StepId,
    pub(crate) state: String,
    pub(crate) order: Vec<StepId>,
}

/// Whether a machine's steps can be disabled at all: without preconditions (over the model or
/// over arguments), without `Var` fields and without strategies that read the model, every step
/// runs in every state, and the search is skipped (so such machines generate exactly the
/// programs they always did).
pub(crate) fn matters<M: Model>() -> bool {
    // A strategy that reads the model (`|m| 0..=m.balance`) ties a step's arguments to the state
    // as a precondition would: two withdrawals of the whole balance cannot both run. Machines
    // with fixed strategies only (`0..8u8`) are searched too, and always found safe unless the
    // model panics: the search draws nothing, so their programs do not change.
    M::Op::checks_args()
        || M::Op::follows_model()
        || M::Op::rules()
            .iter()
            .any(|r| r.precondition.is_some() || !r.var_fields.is_empty())
}

/// A point of the search: how far each branch has run, the model there, each branch's outputs
/// (kept only for a machine with `Var`s), and the order that led here.
#[derive(Clone)]
struct Node<M: Model> {
    pos: Vec<usize>,
    model: M,
    own: Vec<Vec<M::Output>>,
    order: Vec<StepId>,
}

/// Explores every interleaving of `branches` from `model`, the state after a prefix whose
/// outputs are `prefix`, visiting at most `budget` distinct states.
pub(crate) fn explore<M: Model>(
    model: &M,
    prefix: &[M::Output],
    branches: &[&[M::Op]],
    budget: usize,
) -> Interleaved {
    explore_counting(model, prefix, branches, budget, &mut 0)
}

/// [`explore`], adding the distinct states it visits to `visited`.
pub(crate) fn explore_counting<M: Model>(
    model: &M,
    prefix: &[M::Output],
    branches: &[&[M::Op]],
    budget: usize,
    visited: &mut usize,
) -> Interleaved {
    let uses_vars = M::Op::uses_vars();
    let root = Node {
        pos: vec![0; branches.len()],
        model: model.clone(),
        own: if uses_vars {
            vec![Vec::new(); branches.len()]
        } else {
            Vec::new()
        },
        order: Vec::new(),
    };
    let live = if uses_vars {
        live_outputs(branches)
    } else {
        Vec::new()
    };
    let mut seen = HashSet::new();
    let mut stack = vec![root];
    while let Some(node) = stack.pop() {
        // Later branches pushed first, so branch 0 is tried first: the search order, and so
        // the interleaving reported, is the same every time.
        for (b, ops) in branches.iter().enumerate().rev() {
            let Some(op) = ops.get(node.pos[b]) else {
                continue;
            };
            let branch = u16::try_from(b).expect("stateprop: at most u16::MAX branches");
            let step = StepId::in_branch(branch, node.pos[b]);
            let broken = || Broken {
                step,
                state: format!("{:?}", node.model),
                order: node.order.clone(),
            };
            let mut model = node.model.clone();
            let own: &[M::Output] = node.own.get(b).map_or(&[], Vec::as_slice);
            let ran = catch(|| {
                let rule = op.rule_index();
                let enabled = if uses_vars {
                    let visible: Vec<M::Output> = prefix.iter().chain(own).cloned().collect();
                    M::Op::enabled(rule, &model, &visible)
                } else {
                    M::Op::enabled(rule, &model, &[])
                };
                let mut bound = op.clone();
                let outputs = BranchOutputs {
                    prefix,
                    branch,
                    own,
                };
                if !enabled
                    || (uses_vars && !bound.bind_vars(&outputs))
                    || (M::Op::checks_args() && !bound.admits(&model))
                {
                    return None;
                }
                // An argument its strategy would not make here (a withdrawal of more than the
                // balance another branch left) is a step the generator could not have drawn.
                if M::Op::follows_model() {
                    let mut followed = op.clone();
                    if !followed.follow_model(&model) || followed.to_rust() != op.to_rust() {
                        return None;
                    }
                }
                Some(model.step(&bound))
            });
            let out = match ran {
                Ok(Some(out)) => out,
                Ok(None) => return Interleaved::Broken(broken()),
                Err(message) => return Interleaved::Panicked(broken(), message),
            };
            let mut child = Node {
                pos: node.pos.clone(),
                model,
                own: node.own.clone(),
                order: node.order.clone(),
            };
            child.pos[b] += 1;
            child.order.push(step);
            if uses_vars {
                child.own[b].push(out);
            }
            let mut key = Key::new();
            // Writing into a `String` cannot fail. An output no later step of its branch names
            // cannot change what follows, so it is left out: states differing only there (the
            // handle numbers of opens run in another order) are one state.
            let _ = write!(key, "{:?}{:?}", child.pos, child.model);
            for (j, own) in child.own.iter().enumerate() {
                // Outputs not produced yet are the same (absent) in every state at `pos`.
                for out in live[j][child.pos[j]].iter().filter_map(|&k| own.get(k)) {
                    let _ = write!(key, "|{j}:{out:?}");
                }
            }
            if !seen.contains(&key.finish()) {
                if seen.len() >= budget {
                    return Interleaved::TooMany;
                }
                *visited += 1;
                seen.insert(key.finish());
                stack.push(child);
            }
        }
    }
    Interleaved::Safe
}

/// A state's `Debug` text, hashed as it is written (no string per state): 128 bits from two
/// differently seeded SipHashes, so two distinct states share a key with odds near 2^-128 per
/// pair, far below any other way this search could err.
struct Key(DefaultHasher, DefaultHasher);

impl Key {
    fn new() -> Self {
        let mut second = DefaultHasher::new();
        second.write_u64(0x9E37_79B9_7F4A_7C15);
        Key(DefaultHasher::new(), second)
    }

    fn finish(&self) -> u128 {
        (u128::from(self.0.finish()) << 64) | u128::from(self.1.finish())
    }
}

impl Write for Key {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        self.0.write(s.as_bytes());
        self.1.write(s.as_bytes());
        Ok(())
    }
}

/// For each branch and each position in it, the indices of the branch's own outputs that a
/// `Var` of a step at or after that position names (the outputs that can still matter there).
fn live_outputs<Op: StateMachine>(branches: &[&[Op]]) -> Vec<Vec<Vec<usize>>> {
    branches
        .iter()
        .enumerate()
        .map(|(b, ops)| {
            let mut live = vec![Vec::new(); ops.len() + 1];
            let mut named: Vec<usize> = Vec::new();
            for (p, op) in ops.iter().enumerate().rev() {
                op.clone().remap_vars(&mut |id| {
                    if id.branch == u16::try_from(b).ok() && !named.contains(&(id.index as usize)) {
                        named.push(id.index as usize);
                    }
                    Some(id)
                });
                let mut now = named.clone();
                now.sort_unstable();
                live[p] = now;
            }
            live
        })
        .collect()
}
