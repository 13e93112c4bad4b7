//! What a `Var` means while a checker searches a recorded history.
//!
//! A `Var` in an operation stands for *the model's* output of the step it names, along the order
//! being tried. The system under test saw its own value for that step (an id it chose), which
//! the checker compared with the model's through [`Model::outputs_match`] where the step itself
//! was placed; the operation holding the `Var` is then judged against what the model would do
//! with the model's value. A recorded step's `Var` names a step that returned before it was
//! invoked, so in a linearizability search the named step is always placed first.
//!
//! The search's cache must tell apart two paths that reach the same model state with
//! different outputs for a step that operations still to be placed refer to: the outputs are
//! part of the state. Only those outputs are kept in a cache key, each as a small number
//! (outputs of one step are numbered in the order the search meets them, told apart with
//! `PartialEq`), so the cache needs neither `Output: Hash` nor `Eq`, and a history without
//! `Var`s pays for none of this: no [`Vars`] is made for it.
//!
//! An operation used the output of every step its `Var`s name, so those steps took effect
//! before it, whatever the recorded times say: the search places an operation only after the
//! steps it names (in a recorded history the times already force that). When a `Var` cannot be
//! bound for another reason — it names a step no operation of the history ran, or a step whose
//! model output in the order tried holds no value of the `Var`'s type (the model made no handle
//! where the system did) — the operation cannot be placed there and the search notes why: if it
//! then finds no order, the verdict is unknown, never a violation. An operation whose `Var`
//! names a step with an unknown outcome (it never returned) is placed like any other, after
//! that step, but its own output is not compared, since nothing recorded ties the model's value
//! for that step to the system's.

use super::budget::{reserve_in, Budget};
use crate::history::{History, Operation};
use crate::program::{Outputs, StepId};
use crate::spec::{Model, StateMachine};

/// No slot, no output, no operation.
const NONE: u32 = u32::MAX;

/// The steps the `Var`s of `op` name, in field order.
pub(crate) fn var_steps<Op: StateMachine>(op: &Op) -> Vec<StepId> {
    let mut ids = Vec::new();
    // `remap_vars` is the one way to visit a derived operation's vars; it renames in place,
    // hence the copy.
    op.clone().remap_vars(&mut |id| {
        ids.push(id);
        Some(id)
    });
    ids
}

/// Whether checking `history` binds `Var`s: the operations can hold them and the history says
/// which step each operation ran. Everything in this module is skipped otherwise.
pub(crate) fn in_use<M: Model>(history: &History<M::Op, M::Output>) -> bool {
    M::Op::uses_vars() && !history.steps.is_empty()
}

/// Why `history`'s `Var`s can never be bound, when that is so whatever order is tried: an
/// operation with a known outcome (which every order must place) whose `Var` names a step that
/// is not in the history, or step ids that do not match the operations. Cheap when the
/// operations cannot hold vars.
pub(crate) fn unbindable<M: Model>(history: &History<M::Op, M::Output>) -> Option<String> {
    if !M::Op::uses_vars() {
        return None;
    }
    let ops = &history.ops;
    if history.steps.is_empty() {
        let (i, o, id) = ops.iter().enumerate().find_map(|(i, o)| {
            let first = var_steps(&o.op).first().copied()?;
            Some((i, o, first))
        })?;
        return Some(format!(
            "operation {i} ({:?}) holds a `Var` naming {id}, but the history does not say which \
             step each operation ran (`History::steps` is empty): record the history from a \
             program, or fill in `steps`",
            o.op
        ));
    }
    if history.steps.len() != ops.len() {
        return Some(format!(
            "the history has {} operations but {} step ids (`History::steps`): one per \
             operation is needed to bind `Var`s",
            ops.len(),
            history.steps.len()
        ));
    }
    let mut sorted: Vec<StepId> = history.steps.clone();
    sorted.sort_unstable();
    if let Some(w) = sorted.windows(2).find(|w| w[0] == w[1]) {
        return Some(format!(
            "two operations of the history ran {}: step ids must be unique to bind `Var`s",
            w[0]
        ));
    }
    for (i, o) in ops.iter().enumerate() {
        if o.is_unknown() {
            continue;
        }
        if let Some(id) = var_steps(&o.op)
            .into_iter()
            .find(|id| sorted.binary_search(id).is_err())
        {
            return Some(format!(
                "operation {i} ({:?}) holds a `Var` naming {id}, which no operation of the \
                 history ran, so it cannot be placed in any order",
                o.op
            ));
        }
    }
    None
}

/// The `Var` bookkeeping of one linearizability search (local ids are the search's).
pub(crate) struct Vars<M: Model> {
    /// Operation `i`'s vars name the local operations `refs[start[i]..start[i + 1]]` (`NONE`
    /// for a step outside the search).
    start: Vec<u32>,
    refs: Vec<u32>,
    /// The slot of each operation that some var names, `NONE` for the others.
    slot_of: Vec<u32>,
    /// (step id, slot), sorted: how a var finds its output.
    by_step: Vec<(StepId, u32)>,
    /// Per slot: the distinct model outputs its step had so far; a key holds an index here.
    seen: Vec<Vec<M::Output>>,
    /// Per slot: the index in `seen` of its step's output while it is placed, `NONE` otherwise.
    bound: Vec<u32>,
    /// Per slot: how many operations naming it are not placed yet. A placed step's output is
    /// part of the search's state only while this is not zero.
    pending: Vec<u32>,
    /// Per operation: a var names a step whose outcome is unknown, so its output is not
    /// compared.
    blind: Vec<bool>,
    /// The cache key's var words, rebuilt for every key.
    words: Vec<u64>,
    /// Why some var could not be bound, the first time it happened: a failed search is then
    /// inconclusive.
    doubt: Option<String>,
    /// Bytes allocated, all counted in the budget.
    pub(crate) bytes: u64,
}

/// The outputs of the placed steps, as a var sees them.
struct Placed<'a, O> {
    by_step: &'a [(StepId, u32)],
    seen: &'a [Vec<O>],
    bound: &'a [u32],
}

impl<O> Outputs<O> for Placed<'_, O> {
    fn output(&self, id: StepId) -> Option<&O> {
        let k = self.by_step.binary_search_by_key(&id, |e| e.0).ok()?;
        let slot = self.by_step[k].1 as usize;
        let b = self.bound[slot];
        (b != NONE).then(|| &self.seen[slot][b as usize])
    }
}

impl<M: Model> Vars<M> {
    /// The bookkeeping for a search over `ops` (history indices, in local order), or `None`
    /// when no operation of it holds a var. `Err` when the budget refuses its memory.
    pub(crate) fn new(
        history: &History<M::Op, M::Output>,
        ops: &[usize],
        budget: &mut Budget,
    ) -> Result<Option<Self>, String> {
        let n = ops.len();
        let h = &history.ops;
        let mut vars = Vars {
            start: Vec::new(),
            refs: Vec::new(),
            slot_of: Vec::new(),
            by_step: Vec::new(),
            seen: Vec::new(),
            bound: Vec::new(),
            pending: Vec::new(),
            blind: Vec::new(),
            words: Vec::new(),
            doubt: None,
            bytes: 0,
        };
        // Which local operation ran each step: needed only here.
        let mut local_of: Vec<(StepId, u32)> = Vec::new();
        let mut temporary = 0;
        let b = &mut vars.bytes;
        let fits = reserve_in(&mut local_of, n, budget, &mut temporary)
            && reserve_in(&mut vars.start, n + 1, budget, b)
            && reserve_in(&mut vars.slot_of, n, budget, b)
            && reserve_in(&mut vars.blind, n, budget, b);
        if !fits {
            return Err(budget.exhausted());
        }
        local_of.extend(
            ops.iter()
                .enumerate()
                .map(|(l, &i)| (history.steps[i], l as u32)),
        );
        local_of.sort_unstable();
        vars.slot_of.resize(n, NONE);
        for &i in ops {
            vars.start.push(vars.refs.len() as u32);
            let ids = var_steps(&h[i].op);
            if !reserve_in(&mut vars.refs, ids.len(), budget, &mut vars.bytes) {
                return Err(budget.exhausted());
            }
            let mut blind = false;
            for id in ids {
                let r = match local_of.binary_search_by_key(&id, |e| e.0) {
                    Ok(k) => local_of[k].1,
                    Err(_) => NONE,
                };
                if r != NONE {
                    if vars.slot_of[r as usize] == NONE {
                        if !reserve_in(&mut vars.by_step, 1, budget, &mut vars.bytes) {
                            return Err(budget.exhausted());
                        }
                        vars.slot_of[r as usize] = vars.by_step.len() as u32;
                        vars.by_step.push((id, vars.slot_of[r as usize]));
                    }
                    blind |= h[ops[r as usize]].is_unknown();
                }
                vars.refs.push(r);
            }
            vars.blind.push(blind);
        }
        drop(local_of);
        budget.release(temporary);
        vars.start.push(vars.refs.len() as u32);
        if vars.refs.is_empty() {
            budget.release(vars.bytes);
            return Ok(None);
        }
        let k = vars.by_step.len();
        let b = &mut vars.bytes;
        let fits = reserve_in(&mut vars.seen, k, budget, b)
            && reserve_in(&mut vars.bound, k, budget, b)
            && reserve_in(&mut vars.pending, k, budget, b)
            && reserve_in(&mut vars.words, k, budget, b);
        if !fits {
            return Err(budget.exhausted());
        }
        vars.seen.resize_with(k, Vec::new);
        vars.bound.resize(k, NONE);
        vars.pending.resize(k, 0);
        for &r in &vars.refs {
            if r != NONE {
                vars.pending[vars.slot_of[r as usize] as usize] += 1;
            }
        }
        vars.by_step.sort_unstable();
        Ok(Some(vars))
    }

    /// Why a var could not be bound, if one could not.
    pub(crate) fn doubt(&self) -> Option<&str> {
        self.doubt.as_deref()
    }

    fn refs(&self, local: usize) -> &[u32] {
        &self.refs[self.start[local] as usize..self.start[local + 1] as usize]
    }

    /// Whether operation `local` holds vars.
    #[inline]
    pub(crate) fn holds(&self, local: usize) -> bool {
        self.start[local] != self.start[local + 1]
    }

    /// Whether some var names operation `local`.
    #[inline]
    pub(crate) fn named(&self, local: usize) -> bool {
        self.slot_of[local] != NONE
    }

    /// Whether operation `local`'s output goes unchecked (a var names an unknown outcome).
    #[inline]
    pub(crate) fn blind(&self, local: usize) -> bool {
        self.blind[local]
    }

    /// A copy of `op` (operation `local`) with its vars bound to the outputs of the placed
    /// steps, or `None`, noting why, when one cannot be bound.
    ///
    /// A step a var names took effect before the operation that used its output, whatever
    /// the recorded times say, so an operation whose named steps are not all placed is simply
    /// not a candidate yet: that cut loses no order and notes nothing.
    pub(crate) fn bind(&mut self, local: usize, op: &Operation<M::Op, M::Output>) -> Option<M::Op> {
        let refs = self.refs(local);
        if !refs.contains(&NONE) && refs.iter().any(|&r| !self.placed(r)) {
            return None;
        }
        let bound = self.try_bind(local, &op.op);
        if bound.is_none() && self.doubt.is_none() {
            let why = if refs.contains(&NONE) {
                "names a step that no operation of the history ran"
            } else {
                "names a step whose model output (in the order tried) holds no value of the \
                 var's type"
            };
            self.doubt = Some(format!(
                "a `Var` of {:?} (client {}, invoked at {}) {why}, so not every order could be \
                 tried: no linearization was found among the others",
                op.op, op.client, op.call
            ));
        }
        bound
    }

    /// [`bind`](Self::bind) without noting anything.
    pub(crate) fn try_bind(&self, local: usize, op: &M::Op) -> Option<M::Op> {
        if self.refs(local).iter().any(|&r| !self.placed(r)) {
            return None;
        }
        let placed = Placed {
            by_step: &self.by_step,
            seen: &self.seen,
            bound: &self.bound,
        };
        let mut copy = op.clone();
        copy.bind_vars(&placed).then_some(copy)
    }

    fn placed(&self, r: u32) -> bool {
        r != NONE && self.bound[self.slot_of[r as usize] as usize] != NONE
    }

    /// Operation `local` is placed, with model output `output` (needed only when a var names
    /// it). `false` when the budget refuses the memory to remember the output.
    pub(crate) fn enter(
        &mut self,
        local: usize,
        output: Option<&M::Output>,
        budget: &mut Budget,
    ) -> bool {
        let slot = self.slot_of[local];
        if slot != NONE {
            let Some(output) = output else {
                unreachable!("stateprop: a named step placed without its output")
            };
            let seen = &mut self.seen[slot as usize];
            let index = match seen.iter().position(|o| o == output) {
                Some(index) => index,
                None => {
                    if !reserve_in(seen, 1, budget, &mut self.bytes) {
                        return false;
                    }
                    seen.push(output.clone());
                    seen.len() - 1
                }
            };
            self.bound[slot as usize] = index as u32;
        }
        for k in self.start[local]..self.start[local + 1] {
            let r = self.refs[k as usize];
            if r != NONE {
                self.pending[self.slot_of[r as usize] as usize] -= 1;
            }
        }
        true
    }

    /// Undoes [`enter`](Self::enter).
    pub(crate) fn leave(&mut self, local: usize) {
        let slot = self.slot_of[local];
        if slot != NONE {
            self.bound[slot as usize] = NONE;
        }
        for k in self.start[local]..self.start[local + 1] {
            let r = self.refs[k as usize];
            if r != NONE {
                self.pending[self.slot_of[r as usize] as usize] += 1;
            }
        }
    }

    /// The outputs that are part of the state: those of placed steps that operations not yet
    /// placed still name, each as its slot (high half) and its index among that step's outputs
    /// (low half), so the list is canonical whatever else the key holds.
    pub(crate) fn key_words(&mut self) -> &[u64] {
        self.words.clear();
        for (slot, (b, p)) in self.bound.iter().zip(&self.pending).enumerate() {
            if *b != NONE && *p != 0 {
                // `words` has room for every slot.
                self.words.push((slot as u64) << 32 | u64::from(*b));
            }
        }
        &self.words
    }

    /// Operation `local` will never be placed (an unknown outcome left out): it no longer keeps
    /// the outputs it names in the state.
    pub(crate) fn drop_op(&mut self, local: usize) {
        for k in self.start[local]..self.start[local + 1] {
            let r = self.refs[k as usize];
            if r != NONE {
                self.pending[self.slot_of[r as usize] as usize] -= 1;
            }
        }
    }

    /// Undoes [`drop_op`](Self::drop_op).
    pub(crate) fn undrop_op(&mut self, local: usize) {
        for k in self.start[local]..self.start[local + 1] {
            let r = self.refs[k as usize];
            if r != NONE {
                self.pending[self.slot_of[r as usize] as usize] += 1;
            }
        }
    }
}

/// Every step some var of `history` names, sorted, without repeats (its memory is counted in
/// `budget` while it lives: the caller drops it before the search).
pub(crate) fn named_steps<M: Model>(
    history: &History<M::Op, M::Output>,
    budget: &mut Budget,
) -> Result<Vec<StepId>, String> {
    let mut named = Vec::new();
    let mut owned = 0;
    for o in &history.ops {
        let ids = var_steps(&o.op);
        if !reserve_in(&mut named, ids.len(), budget, &mut owned) {
            return Err(budget.exhausted());
        }
        named.extend(ids);
    }
    named.sort_unstable();
    named.dedup();
    budget.release(owned);
    Ok(named)
}

/// Puts an operation in the partition of every step its vars name, joining partitions as
/// needed: a var's output comes from the search of its step's partition, so both must be one
/// search. Checking parts together is always sound (it is what an unpartitioned check does).
/// `pairs` are (partition key hash, history index), in history order; the hashes change.
pub(crate) fn merge_partitions<M: Model>(
    history: &History<M::Op, M::Output>,
    pairs: &mut [(u64, usize)],
    budget: &mut Budget,
) -> Result<(), String> {
    let mut owned = 0;
    let mut at: Vec<(StepId, usize)> = Vec::new();
    if !reserve_in(&mut at, pairs.len(), budget, &mut owned) {
        return Err(budget.exhausted());
    }
    at.extend(
        pairs
            .iter()
            .enumerate()
            .map(|(k, &(_, i))| (history.steps[i], k)),
    );
    at.sort_unstable();
    // Union-find over key hashes; a root is the smallest hash of its group.
    let mut parent: std::collections::HashMap<u64, u64> = Default::default();
    // With path compression: a long chain of joins is walked once.
    fn root(parent: &mut std::collections::HashMap<u64, u64>, x: u64) -> u64 {
        let mut r = x;
        while let Some(&p) = parent.get(&r) {
            r = p;
        }
        let mut y = x;
        while let Some(&p) = parent.get(&y) {
            if p != r {
                parent.insert(y, r);
            }
            y = p;
        }
        r
    }
    for k in 0..pairs.len() {
        for id in var_steps(&history.ops[pairs[k].1].op) {
            let Ok(j) = at.binary_search_by_key(&id, |e| e.0) else {
                continue;
            };
            let (a, b) = (
                root(&mut parent, pairs[k].0),
                root(&mut parent, pairs[at[j].1].0),
            );
            if a != b {
                if !budget.reserve(32) {
                    return Err(budget.exhausted());
                }
                owned += 32;
                parent.insert(a.max(b), a.min(b));
            }
        }
        if k % 4096 == 4095 {
            if let Some(reason) = budget.poll() {
                return Err(reason);
            }
        }
    }
    for p in pairs.iter_mut() {
        p.0 = root(&mut parent, p.0);
    }
    drop(at);
    budget.release(owned);
    Ok(())
}

/// Binds the vars of operations replayed in a known order (for reports): each var gets the
/// model output its step had earlier in the replay.
pub(crate) struct Replay<M: Model> {
    outputs: Vec<(StepId, M::Output)>,
}

impl<M: Model> Replay<M> {
    pub(crate) fn new() -> Self {
        Replay {
            outputs: Vec::new(),
        }
    }

    /// Operation `i` of `history`, bound (`None` when a var does not bind); the operation as
    /// it is when the history does not bind vars.
    pub(crate) fn op(&self, history: &History<M::Op, M::Output>, i: usize) -> Option<M::Op> {
        let mut op = history.ops[i].op.clone();
        if !in_use::<M>(history) {
            return Some(op);
        }
        let lookup = ReplayOutputs(&self.outputs);
        op.bind_vars(&lookup).then_some(op)
    }

    /// Steps `state` on operation `i`, bound; `None` (the state untouched) when a var does not
    /// bind.
    pub(crate) fn step(
        &mut self,
        history: &History<M::Op, M::Output>,
        i: usize,
        state: &mut M,
    ) -> Option<M::Output> {
        let op = self.op(history, i)?;
        let out = state.step(&op);
        if let Some(&id) = history.steps.get(i) {
            if M::Op::uses_vars() {
                self.outputs.push((id, out.clone()));
            }
        }
        Some(out)
    }
}

struct ReplayOutputs<'a, O>(&'a [(StepId, O)]);

impl<O> Outputs<O> for ReplayOutputs<'_, O> {
    fn output(&self, id: StepId) -> Option<&O> {
        self.0.iter().rev().find(|(s, _)| *s == id).map(|(_, o)| o)
    }
}
