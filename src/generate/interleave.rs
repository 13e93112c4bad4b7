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
//! state. A partial-order reduction (see [`explore_counting`]) runs steps that change nothing
//! ahead of their turn, so they add no states of their own, and branches with the same steps
//! left are interchangeable, so states differing only in which of them is where are one (see
//! `Search::key`). The visits are capped: past the cap
//! the answer is [`Interleaved::TooMany`], never a guess that the program is safe.

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
/// (kept only for a machine with `Var`s), and the order that led here. `eager[b]..pos[b]` are
/// branch `b`'s steps run ahead of their turn because they changed nothing (see
/// [`explore_counting`]): until `b` moves again, each must still run, and still change nothing,
/// in every state reached.
#[derive(Clone)]
struct Node<M: Model> {
    pos: Vec<usize>,
    eager: Vec<usize>,
    model: M,
    own: Vec<Vec<M::Output>>,
    order: Vec<StepId>,
}

/// What running one step on a clone of the model gave.
enum Ran<M: Model> {
    Ok(M, M::Output),
    /// Its precondition fails, a `Var` does not bind, or its arguments are refused there.
    NotRunnable,
    Panicked(String),
}

/// How a search ended: with a verdict, or (`Visible`) with a step run ahead of its turn found
/// to change the model in a state it could also run in, so the reduction does not apply.
enum Outcome {
    Done(Interleaved),
    Visible,
}

/// The fixed inputs of one search.
struct Search<'a, M: Model> {
    prefix: &'a [M::Output],
    branches: &'a [&'a [M::Op]],
    uses_vars: bool,
    /// For each branch and position, the indices of the branch's own outputs that a `Var` of a
    /// step at or after that position names (see [`live_outputs`]).
    live: Vec<Vec<Vec<usize>>>,
    /// Steps seen to change the model once: not tried ahead of their turn again (a cache that
    /// only saves work; the full expansion is always sound).
    visible: Vec<Vec<bool>>,
    /// For each branch and position, the hashed `Debug` text of the branch's steps from there on:
    /// branches with the same steps left are interchangeable (see [`Search::key`]).
    rest: Vec<Vec<u128>>,
}

impl<'a, M: Model> Search<'a, M> {
    fn new(prefix: &'a [M::Output], branches: &'a [&'a [M::Op]]) -> Self {
        let uses_vars = M::Op::uses_vars();
        let rest = branches
            .iter()
            .map(|ops| {
                (0..=ops.len())
                    .map(|p| {
                        let mut key = Key::new();
                        let _ = write!(key, "{:?}", &ops[p..]);
                        key.finish()
                    })
                    .collect()
            })
            .collect();
        Search {
            prefix,
            branches,
            uses_vars,
            live: if uses_vars {
                live_outputs(branches)
            } else {
                Vec::new()
            },
            visible: branches.iter().map(|ops| vec![false; ops.len()]).collect(),
            rest,
        }
    }
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
///
/// A partial-order reduction keeps the states down: a step that leaves the model unchanged and
/// whose output no later step names (a read) commutes with every step of the other branches
/// wherever it stays runnable and unchanging. Such a step runs as soon as its branch reaches it,
/// without a state of its own, and then, until its branch moves on, is run again on a clone in
/// every state reached: each of those is the model of a real interleaving that delays it (the
/// step changed nothing, so removing it from the order changes no other step's state), so a
/// failure there is a real broken interleaving, reported with the step moved there. If it ever
/// changes the model in such a state, the reduction's premise fails and the search starts again
/// without it: the answer `Safe` always comes from a search that covered every interleaving.
/// (Partial-order reduction: Godefroid, "Partial-Order Methods for the Verification of
/// Concurrent Systems", LNCS 1032, 1996; this is its persistent-set idea for invisible steps.)
pub(crate) fn explore_counting<M: Model>(
    model: &M,
    prefix: &[M::Output],
    branches: &[&[M::Op]],
    budget: usize,
    visited: &mut usize,
) -> Interleaved {
    let mut search = Search::new(prefix, branches);
    match search.run(model, budget, true, visited) {
        Outcome::Done(verdict) => verdict,
        Outcome::Visible => match search.run(model, budget, false, visited) {
            Outcome::Done(verdict) => verdict,
            Outcome::Visible => unreachable!("stateprop: no step runs ahead without the reduction"),
        },
    }
}

/// [`explore_counting`] without the partial-order reduction: the plain search it must agree with.
#[cfg(test)]
pub(crate) fn explore_unreduced<M: Model>(
    model: &M,
    prefix: &[M::Output],
    branches: &[&[M::Op]],
    budget: usize,
    visited: &mut usize,
) -> Interleaved {
    let mut search = Search::new(prefix, branches);
    match search.run(model, budget, false, visited) {
        Outcome::Done(verdict) => verdict,
        Outcome::Visible => unreachable!("stateprop: no step runs ahead without the reduction"),
    }
}

impl<M: Model> Search<'_, M> {
    /// The depth-first search; with `reduce`, steps that change nothing run ahead of their turn.
    fn run(&mut self, model: &M, budget: usize, reduce: bool, visited: &mut usize) -> Outcome {
        let n = self.branches.len();
        let mut root = Node {
            pos: vec![0; n],
            eager: vec![0; n],
            model: model.clone(),
            own: if self.uses_vars {
                vec![Vec::new(); n]
            } else {
                Vec::new()
            },
            order: Vec::new(),
        };
        if reduce {
            if let Err(verdict) = self.run_ahead(&mut root) {
                return Outcome::Done(verdict);
            }
        }
        let mut seen = HashSet::new();
        let mut stack = vec![root];
        while let Some(node) = stack.pop() {
            if reduce {
                if let Err(outcome) = self.recheck(&node) {
                    return outcome;
                }
            }
            // The steps are tried from the last branch down, and the children kept from branch
            // 0 up (of two children that are one state, as branches alike make them, the lower
            // branch's) and pushed so that branch 0's is searched first: the search order, and
            // so the interleaving reported, is the same every time.
            let mut children = Vec::with_capacity(n);
            for b in (0..n).rev() {
                let Some(op) = self.branches[b].get(node.pos[b]) else {
                    continue;
                };
                let step = self.id(b, node.pos[b]);
                let (model, out) = match self.step(&node, b, node.pos[b], op) {
                    Ran::Ok(model, out) => (model, out),
                    Ran::NotRunnable => {
                        return Outcome::Done(Interleaved::Broken(broken(&node, step)))
                    }
                    Ran::Panicked(message) => {
                        return Outcome::Done(Interleaved::Panicked(broken(&node, step), message))
                    }
                };
                let mut child = Node {
                    pos: node.pos.clone(),
                    eager: node.eager.clone(),
                    model,
                    own: node.own.clone(),
                    order: node.order.clone(),
                };
                child.pos[b] += 1;
                // The branch moved on: its steps run ahead are behind it now.
                child.eager[b] = child.pos[b];
                child.order.push(step);
                if self.uses_vars {
                    child.own[b].push(out);
                }
                if reduce {
                    if let Err(verdict) = self.run_ahead(&mut child) {
                        return Outcome::Done(verdict);
                    }
                }
                children.push(Some(child));
            }
            for child in children.iter_mut().rev() {
                let key = self.key(child.as_ref().expect("stateprop: each child is kept once"));
                if seen.contains(&key) {
                    *child = None;
                } else {
                    if seen.len() >= budget {
                        return Outcome::Done(Interleaved::TooMany);
                    }
                    *visited += 1;
                    seen.insert(key);
                }
            }
            stack.extend(children.into_iter().flatten());
        }
        Outcome::Done(Interleaved::Safe)
    }

    fn id(&self, b: usize, at: usize) -> StepId {
        let branch = u16::try_from(b).expect("stateprop: at most u16::MAX branches");
        StepId::in_branch(branch, at)
    }

    /// Runs branch `b`'s step `op`, at position `at`, on a clone of `node`'s model, its `Var`s
    /// bound to the prefix and the branch's outputs before `at`.
    fn step(&self, node: &Node<M>, b: usize, at: usize, op: &M::Op) -> Ran<M> {
        let uses_vars = self.uses_vars;
        let branch = u16::try_from(b).expect("stateprop: at most u16::MAX branches");
        let own: &[M::Output] = node.own.get(b).map_or(&[], |own| &own[..at.min(own.len())]);
        let prefix = self.prefix;
        let mut model = node.model.clone();
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
        match ran {
            Ok(Some(out)) => Ran::Ok(model, out),
            Ok(None) => Ran::NotRunnable,
            Err(message) => Ran::Panicked(message),
        }
    }

    /// Whether a step that gave `out` and left the model as `after` changed nothing: the same
    /// model `Debug` text as `before`, and an output no later step of its branch names.
    fn unchanged(&self, b: usize, at: usize, before: u128, after: &M) -> bool {
        let named = self.uses_vars && self.live[b][at + 1].contains(&at);
        !named && model_key(after) == before
    }

    /// Runs every branch's next steps that change nothing, ahead of their turn, in `node`; `Err`
    /// if one cannot run there (a real broken interleaving: `node` is reachable).
    fn run_ahead(&mut self, node: &mut Node<M>) -> Result<(), Interleaved> {
        let mut before = None;
        for b in 0..self.branches.len() {
            while let Some(op) = self.branches[b].get(node.pos[b]) {
                let at = node.pos[b];
                if self.visible[b][at] {
                    break;
                }
                let step = self.id(b, at);
                let out = match self.step(node, b, at, op) {
                    Ran::Ok(after, out) => {
                        let before = *before.get_or_insert_with(|| model_key(&node.model));
                        if !self.unchanged(b, at, before, &after) {
                            self.visible[b][at] = true;
                            break;
                        }
                        out
                    }
                    Ran::NotRunnable => return Err(Interleaved::Broken(broken(node, step))),
                    Ran::Panicked(m) => return Err(Interleaved::Panicked(broken(node, step), m)),
                };
                node.pos[b] += 1;
                node.order.push(step);
                if self.uses_vars {
                    node.own[b].push(out);
                }
            }
        }
        Ok(())
    }

    /// Runs again, in `node`, every step run ahead of its turn whose branch has not moved since:
    /// it must still run here and still change nothing.
    fn recheck(&mut self, node: &Node<M>) -> Result<(), Outcome> {
        let mut before = None;
        for b in 0..self.branches.len() {
            for at in node.eager[b]..node.pos[b] {
                let op = &self.branches[b][at];
                let step = self.id(b, at);
                // The interleaving that delays this step (and its branch's later ones run
                // ahead) until here: the order so far without them.
                let delayed = || {
                    let mut node = node.clone();
                    node.order
                        .retain(|id| !(id.branch == step.branch && id.index >= step.index));
                    broken(&node, step)
                };
                match self.step(node, b, at, op) {
                    Ran::Ok(after, _) => {
                        let before = *before.get_or_insert_with(|| model_key(&node.model));
                        if !self.unchanged(b, at, before, &after) {
                            return Err(Outcome::Visible);
                        }
                    }
                    Ran::NotRunnable => {
                        return Err(Outcome::Done(Interleaved::Broken(delayed())));
                    }
                    Ran::Panicked(m) => {
                        return Err(Outcome::Done(Interleaved::Panicked(delayed(), m)));
                    }
                }
            }
        }
        Ok(())
    }

    /// The state key: the model, and for each branch the steps it has left (counting those run
    /// ahead, to be run again) and the outputs they may name, as a multiset: two states that
    /// differ only in which of two branches with the same steps left is where are one state,
    /// since swapping those branches maps every interleaving from one onto one from the other
    /// (symmetry reduction; a `Var` naming a branch's own step names its branch, so branches
    /// whose steps name their own results never look alike).
    fn key(&self, node: &Node<M>) -> u128 {
        let mut branches: Vec<u128> = (0..self.branches.len())
            .map(|j| {
                let (from, ahead) = (node.eager[j], node.pos[j] - node.eager[j]);
                let rest = self.rest[j][from] ^ (ahead as u128).wrapping_mul(0x9E37_79B9_7F4A_7C15);
                // An output no later step of its branch names cannot change what follows, so
                // it is left out: states differing only there (the handle numbers of opens run
                // in another order) are one state. Outputs not produced yet are absent in every
                // state at `pos`.
                let live = match node.own.get(j) {
                    Some(own) if !self.live[j][from].is_empty() => own,
                    _ => return rest,
                };
                let mut key = Key::new();
                key.write_u128(rest);
                for out in self.live[j][from].iter().filter_map(|&k| live.get(k)) {
                    // Writing into a hasher cannot fail.
                    let _ = write!(key, "|{out:?}");
                }
                key.finish()
            })
            .collect();
        branches.sort_unstable();
        let mut key = Key::new();
        for branch in branches {
            key.write_u128(branch);
        }
        let _ = write!(key, "{:?}", node.model);
        key.finish()
    }
}

/// Where `node` breaks at `step`.
fn broken<M: Model>(node: &Node<M>, step: StepId) -> Broken {
    Broken {
        step,
        state: format!("{:?}", node.model),
        order: node.order.clone(),
    }
}

/// The model's `Debug` text, hashed.
fn model_key<M: Model>(model: &M) -> u128 {
    let mut key = Key::new();
    let _ = write!(key, "{model:?}");
    key.finish()
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

impl Key {
    fn write_u128(&mut self, value: u128) {
        self.0.write_u128(value);
        self.1.write_u128(value);
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
