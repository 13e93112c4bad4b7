//! What a `Var` means while a checker searches a recorded history.
//!
//! A `Var` in an operation stands for *the model's* output of the step it names, along the order
//! being tried. The system under test saw its own value for that step (an id it chose), which
//! the checker compared with the model's through [`Model::accept`] where the step itself
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

mod history;

pub(crate) use history::{in_use, merge_partitions, named_steps, unbindable, var_steps, Replay};

use super::budget::{reserve_in, Budget};
use crate::history::{History, Operation};
use crate::program::{Outputs, StepId};
use crate::spec::{Model, StateMachine};

/// No slot, no output, no operation.
const NONE: u32 = u32::MAX;

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
