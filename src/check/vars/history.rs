//! `Var`s across a whole history: which steps they name, whether they can be bound at all,
//! partitions they join, and binding them along a known order for reports.

use crate::check::budget::{reserve_in, Budget};
use crate::history::History;
use crate::program::{Outputs, StepId};
use crate::spec::{step_on, Model, StateMachine};

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
/// which step each operation ran. The checkers skip all `Var` work otherwise.
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

    /// Steps `state` on operation `i`, bound, following its recorded output as the checkers
    /// do ([`Model::accept`]); `None` (the state untouched) when a var does not bind.
    pub(crate) fn step(
        &mut self,
        history: &History<M::Op, M::Output>,
        i: usize,
        state: &mut M,
    ) -> Option<M::Output> {
        let op = self.op(history, i)?;
        let recorded = &history.ops[i];
        let known = match (&recorded.ret, &recorded.output) {
            (Some(_), Some(out)) if !blind::<M>(history, i) => Some(out),
            _ => None,
        };
        // An output the model does not accept is the checker's to report; the replay goes on
        // with the model's own.
        let out = step_on(state, &op, known).unwrap_or_else(|expected| expected);
        if let Some(&id) = history.steps.get(i) {
            if M::Op::uses_vars() {
                self.outputs.push((id, out.clone()));
            }
        }
        Some(out)
    }
}

/// Whether the checkers leave operation `i`'s output unjudged: a var of it names a step whose
/// outcome is unknown (see the module docs of `vars`).
fn blind<M: Model>(history: &History<M::Op, M::Output>, i: usize) -> bool {
    if !in_use::<M>(history) {
        return false;
    }
    var_steps(&history.ops[i].op).iter().any(|id| {
        let named = history.steps.iter().position(|s| s == id);
        named.is_some_and(|k| history.ops[k].is_unknown())
    })
}

struct ReplayOutputs<'a, O>(&'a [(StepId, O)]);

impl<O> Outputs<O> for ReplayOutputs<'_, O> {
    fn output(&self, id: StepId) -> Option<&O> {
        self.0.iter().rev().find(|(s, _)| *s == id).map(|(_, o)| o)
    }
}
