//! Validation: a program that did not come from the generator (a pasted regression test, a saved
//! case, a fuzzer's bytes, a hand-written list, a shrink candidate) is replayed on the model alone
//! first. Every step's rule must be enabled where it runs, its arguments must satisfy the rule's
//! precondition over them, and its `Var`s must name results that exist, in the prefix or earlier
//! in its own branch — exactly what generation guarantees by construction. One function says so
//! for every caller, with one message. It lives with generation because it is the same replay.

use super::interleave::{self, Interleaved};
use super::ModelRun;
use crate::program::{BranchOutputs, Outputs, Program, StepId};
use crate::spec::{Consumed, Model, StateMachine};
use std::fmt;

/// Why a program is not one the generator could have made.
#[derive(Clone, Debug)]
pub(crate) struct Invalid {
    /// The first step that cannot run.
    pub(crate) step: StepId,
    /// That step, as Rust.
    pub(crate) op: String,
    pub(crate) reason: Reason,
}

#[derive(Clone, Debug)]
pub(crate) enum Reason {
    /// Its precondition fails, or a `Var` names a missing result, in this model state (`Debug`).
    NotEnabled { state: String },
    /// The model panicked stepping it (a bug in the model): the message.
    ModelPanicked(String),
    /// A `Var` names a step of another branch, or a later step of its own: one that may not
    /// have run when this step runs.
    OutOfScope { var: StepId },
    /// A `Var` names a result a `#[consumes]` field of an earlier step used up.
    Consumed { var: StepId },
    /// A `Var` names a prefix result that `other`, a step of another branch, also names, and
    /// one of the two uses it up (`#[consumes]`): in the interleaving where the one that uses it
    /// up runs first, the other names a used-up result. `consumes` says whether this step is the
    /// one that uses it up.
    ConsumedElsewhere {
        var: StepId,
        other: StepId,
        consumes: bool,
    },
    /// Runnable in its branch alone, but not when the branches interleave in `order` (the
    /// branch steps run before it): its precondition fails or a `Var` does not bind in model
    /// state `state`, or (`panic`) the model panics stepping it there.
    Interleaving {
        state: String,
        order: Vec<StepId>,
        panic: Option<String>,
    },
    /// The branches reach more than this many distinct states: too many interleavings to show
    /// that every one keeps each step runnable.
    TooManyInterleavings(usize),
}

impl fmt::Display for Invalid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (step, op) = (self.step, &self.op);
        match &self.reason {
            Reason::OutOfScope { var } => write!(
                f,
                "{step}, {op}, has a `Var` naming {var}, which is neither a prefix step nor an \
                 earlier step of its own branch"
            ),
            Reason::Consumed { var } => write!(
                f,
                "{step}, {op}, has a `Var` naming {var}, whose result an earlier step's \
                 `#[consumes]` field used up (a closed handle cannot be used again)"
            ),
            Reason::ConsumedElsewhere {
                var,
                other,
                consumes: false,
            } => write!(
                f,
                "{step}, {op}, has a `Var` naming {var}, whose result {other}, in another branch, \
                 uses up with a `#[consumes]` field: in an interleaving where {other} runs first, \
                 this step names a used-up result (a closed handle); a prefix result one branch \
                 uses up is unavailable to every other branch"
            ),
            Reason::ConsumedElsewhere {
                var,
                other,
                consumes: true,
            } => write!(
                f,
                "{step}, {op}, uses up the result of {var} with a `#[consumes]` field, and {other}, \
                 in another branch, names it too: in an interleaving where this step runs first, \
                 {other} names a used-up result (a closed handle); a prefix result one branch \
                 uses up is unavailable to every other branch"
            ),
            Reason::NotEnabled { state } => write!(
                f,
                "{step}, {op}, is not enabled in model state {state} (its precondition \
                 fails or a `Var` names a missing result)"
            ),
            Reason::ModelPanicked(message) => {
                write!(f, "the model panicked at {step}, {op}: {message}")
            }
            Reason::Interleaving {
                state,
                order,
                panic,
            } => {
                let order = if order.is_empty() {
                    "no branch step".to_string()
                } else {
                    order
                        .iter()
                        .map(StepId::to_string)
                        .collect::<Vec<_>>()
                        .join(", ")
                };
                match panic {
                    None => write!(f, "{step}, {op}, is not enabled in model state {state}"),
                    Some(m) => write!(
                        f,
                        "the model panicked at {step}, {op}, in state {state}: {m}"
                    ),
                }?;
                write!(
                    f,
                    " when the branches interleave as {order} before it (the prefix, then these); \
                     every interleaving of the branches must keep each step enabled"
                )
            }
            Reason::TooManyInterleavings(budget) => write!(
                f,
                "the branches reach more than {budget} distinct model states between them (from \
                 {step}, {op}, on): too many interleavings to check that each keeps every step \
                 enabled; use fewer or shorter branches"
            ),
        }
    }
}

/// Replays the sequential program `ops` on the model from `initial`; `Err` names the first step
/// that cannot run.
pub(crate) fn validate<M: Model>(initial: &M, ops: &[M::Op]) -> Result<(), Invalid> {
    validate_prefix(&mut ModelRun::new(initial.clone()), ops)
}

/// Checks that `program` is one the generator could have made, by replaying it on the model
/// from `initial`: the prefix, then each branch alone after the prefix. `Err` says which step
/// cannot run (its precondition fails, a `Var` names a missing result, the model panics) or
/// holds a `Var` naming a step that is neither in the prefix nor earlier in its own branch.
///
/// Each branch is checked alone after the prefix, then every interleaving of the branches: a
/// program where some order of the branches' steps reaches a step whose precondition fails (or
/// whose `Var` does not bind, or where the model panics) is refused, naming that step, the model
/// state there and the order, since a correct system could fail it. Generation and the
/// shrinker's repair make only programs that pass. The interleavings are searched over at most
/// 100,000 distinct states; a program past that is refused as too large to check.
pub fn validate_program<M: Model>(initial: &M, program: &Program<M::Op>) -> Result<(), String> {
    check_program(initial, program).map_err(|invalid| invalid.to_string())
}

/// [`validate_program`], with the reason kept structured.
pub(crate) fn check_program<M: Model>(
    initial: &M,
    program: &Program<M::Op>,
) -> Result<(), Invalid> {
    let mut after_prefix = ModelRun::new(initial.clone());
    validate_prefix(&mut after_prefix, &program.prefix)?;
    let mut claims = Claims::new::<M::Op>(program.prefix.len());
    for (b, ops) in program.branches.iter().enumerate() {
        let b = u16::try_from(b).expect("stateprop: a program with more than u16::MAX branches");
        let mut model = after_prefix.model.clone();
        let mut own: Vec<<M as Model>::Output> = Vec::new();
        // Only this branch's own uses and the prefix's: no other branch's step is visible here.
        let mut consumed = after_prefix.consumed.clone();
        let prefix_len = program.prefix.len();
        for (i, op) in ops.iter().enumerate() {
            let invalid = |reason| Invalid {
                step: StepId::in_branch(b, i),
                op: op.to_rust(),
                reason,
            };
            let visible = |id: StepId| match id.branch {
                None => (id.index as usize) < program.prefix.len(),
                Some(own) => own == b && (id.index as usize) < i,
            };
            if let Some(var) = var_outside(op, visible) {
                return Err(invalid(Reason::OutOfScope { var }));
            }
            if let Some(var) = names_consumed(op, &consumed, prefix_len) {
                return Err(invalid(Reason::Consumed { var }));
            }
            if let Some(clash) = claims.clash(op) {
                return Err(invalid(Reason::ConsumedElsewhere {
                    var: clash.var,
                    other: clash.other,
                    consumes: clash.consumes,
                }));
            }
            let outputs = BranchOutputs {
                prefix: &after_prefix.outputs,
                branch: b,
                own: &own,
            };
            // `enabled` asks only whether some earlier output can feed each `Var` field.
            let visible: Vec<_> = after_prefix.outputs.iter().chain(&own).cloned().collect();
            let mut bound = op.clone();
            let rule = op.rule_index();
            let admitted = crate::catch::catch(|| {
                M::Op::enabled(rule, &model, &visible)
                    && bound.bind_vars(&outputs)
                    && (!M::Op::checks_args() || bound.admits(&model))
            });
            if admitted != Ok(true) {
                let state = format!("{model:?}");
                return Err(invalid(Reason::NotEnabled { state }));
            }
            let out = crate::catch::catch(|| model.step(&bound))
                .map_err(|m| invalid(Reason::ModelPanicked(m)))?;
            consume(op, &mut consumed, prefix_len);
            claims.record(op, StepId::in_branch(b, i));
            own.push(out);
        }
        claims.end_branch();
    }
    check_interleavings(&after_prefix, program)
}

/// The interleavings part of [`check_program`], once every branch runs alone.
fn check_interleavings<M: Model>(
    after_prefix: &ModelRun<M>,
    program: &Program<M::Op>,
) -> Result<(), Invalid> {
    if program.branches.len() < 2 || !interleave::matters::<M>() {
        return Ok(());
    }
    let views: Vec<&[M::Op]> = program.branches.iter().map(Vec::as_slice).collect();
    let budget = interleave::VALIDATION_BUDGET;
    let invalid = |step: StepId, reason| Invalid {
        step,
        op: program
            .get(step)
            .map_or_else(String::new, StateMachine::to_rust),
        reason,
    };
    match interleave::explore(&after_prefix.model, &after_prefix.outputs, &views, budget) {
        Interleaved::Safe => Ok(()),
        Interleaved::Broken(b) => Err(invalid(
            b.step,
            Reason::Interleaving {
                state: b.state,
                order: b.order,
                panic: None,
            },
        )),
        Interleaved::Panicked(b, message) => Err(invalid(
            b.step,
            Reason::Interleaving {
                state: b.state,
                order: b.order,
                panic: Some(message),
            },
        )),
        Interleaved::TooMany => Err(invalid(
            StepId::in_branch(0, 0),
            Reason::TooManyInterleavings(budget),
        )),
    }
}

/// Whether `op`, its `Var`s bound to `outputs`, satisfies its rule's precondition over
/// arguments in `model` (see [`StateMachine::admits`]); `true` at once for a machine without one.
/// Validation and the shrinker's repair both ask it, so no rearranged program keeps a step whose
/// arguments its precondition refuses.
pub(crate) fn admits_args<M: Model, L>(model: &M, outputs: &L, op: &M::Op) -> bool
where
    L: Outputs<M::Output> + ?Sized,
{
    if !M::Op::checks_args() {
        return true;
    }
    let mut bound = op.clone();
    crate::catch::catch(|| bound.bind_vars(outputs) && bound.admits(model)).unwrap_or(false)
}

/// The first `Var` of `op` naming a result in `consumed` (positions numbered after a prefix of
/// `prefix` steps); `None` at once for a machine without `#[consumes]` fields.
pub(crate) fn names_consumed<Op: StateMachine>(
    op: &Op,
    consumed: &Consumed,
    prefix: usize,
) -> Option<StepId> {
    if !Op::consumes_vars() || consumed.is_empty() {
        return None;
    }
    var_outside(op, |id| !consumed.contains(Consumed::position(id, prefix)))
}

/// Marks the results `op`'s `#[consumes]` fields name as used up in `consumed`.
pub(crate) fn consume<Op: StateMachine>(op: &Op, consumed: &mut Consumed, prefix: usize) {
    if Op::consumes_vars() {
        op.consumed_vars(&mut |id| consumed.insert(Consumed::position(id, prefix)));
    }
}

/// Which prefix results the branches so far name and which they use up (`#[consumes]`), so no
/// two branches share a result one of them uses up.
///
/// A branch sees the prefix's results but not the other branches' steps, which may run before,
/// between or after its own. When one branch closes a prefix handle (a `#[consumes]` field) and
/// another uses or closes it too, the interleaving where the close runs first has the other step
/// name a closed handle: a correct system refuses it and the model, which `#[consumes]` spares
/// from tracking closed handles, expects it to work. Generation, the shrinker's repair and
/// validation take the branches in order and refuse a step that clashes with an earlier branch.
/// A machine without `#[consumes]` fields keeps no book.
pub(crate) struct Claims {
    /// By prefix position: the first step of an earlier branch naming it, and the first using it
    /// up.
    named: Vec<Option<StepId>>,
    used_up: Vec<Option<StepId>>,
    /// The current branch's claims, made visible to later branches by [`end_branch`](Self::end_branch).
    current: Vec<(usize, StepId, bool)>,
    active: bool,
}

/// A step clashing with an earlier branch: its `Var` naming `var`, and that branch's `other` step.
pub(crate) struct Clash {
    pub(crate) var: StepId,
    pub(crate) other: StepId,
    /// Whether the clashing step is the one using the result up.
    pub(crate) consumes: bool,
}

impl Claims {
    /// An empty book for a program whose prefix has `prefix` steps.
    pub(crate) fn new<Op: StateMachine>(prefix: usize) -> Self {
        let active = Op::consumes_vars();
        let len = if active { prefix } else { 0 };
        Claims {
            named: vec![None; len],
            used_up: vec![None; len],
            current: Vec::new(),
            active,
        }
    }

    /// The first prefix result `op` names that an earlier branch uses up, or that `op` uses up
    /// and an earlier branch names.
    pub(crate) fn clash<Op: StateMachine>(&self, op: &Op) -> Option<Clash> {
        if !self.active {
            return None;
        }
        let mut clash = None;
        op.clone().remap_vars(&mut |id| {
            if let (None, Some(Some(other))) = (clash.as_ref(), self.prefix_slot(&self.used_up, id))
            {
                clash = Some(Clash {
                    var: id,
                    other,
                    consumes: false,
                });
            }
            Some(id)
        });
        if clash.is_none() {
            op.consumed_vars(&mut |id| {
                if let (None, Some(Some(other))) =
                    (clash.as_ref(), self.prefix_slot(&self.named, id))
                {
                    clash = Some(Clash {
                        var: id,
                        other,
                        consumes: true,
                    });
                }
            });
        }
        clash
    }

    fn prefix_slot(&self, slots: &[Option<StepId>], id: StepId) -> Option<Option<StepId>> {
        match id.branch {
            None => slots.get(id.index as usize).copied(),
            Some(_) => None,
        }
    }

    /// Notes the prefix results `op`, the current branch's step `step`, names and uses up.
    pub(crate) fn record<Op: StateMachine>(&mut self, op: &Op, step: StepId) {
        if !self.active {
            return;
        }
        let len = self.named.len();
        let current = &mut self.current;
        op.clone().remap_vars(&mut |id| {
            if id.branch.is_none() && (id.index as usize) < len {
                current.push((id.index as usize, step, false));
            }
            Some(id)
        });
        op.consumed_vars(&mut |id| {
            if id.branch.is_none() && (id.index as usize) < len {
                current.push((id.index as usize, step, true));
            }
        });
    }

    /// Ends the current branch: its claims bind every later branch.
    pub(crate) fn end_branch(&mut self) {
        for (at, step, used_up) in self.current.drain(..) {
            let slot = if used_up {
                &mut self.used_up[at]
            } else {
                &mut self.named[at]
            };
            slot.get_or_insert(step);
        }
    }

    /// Marks in `consumed` the prefix results an earlier branch uses up, so a generator drawing
    /// `Var`s never picks them.
    pub(crate) fn mark_used_up(&self, consumed: &mut Consumed) {
        for (at, by) in self.used_up.iter().enumerate() {
            if by.is_some() {
                consumed.insert(at);
            }
        }
    }
}

/// The first `Var` of `op` naming a step for which `visible` is false.
fn var_outside<Op: StateMachine>(op: &Op, visible: impl Fn(StepId) -> bool) -> Option<StepId> {
    if !Op::uses_vars() {
        return None;
    }
    let mut outside = None;
    // Remapping every var to itself is the derive's way to visit them.
    op.clone().remap_vars(&mut |id| {
        if outside.is_none() && !visible(id) {
            outside = Some(id);
        }
        Some(id)
    });
    outside
}

fn validate_prefix<M: Model>(model: &mut ModelRun<M>, ops: &[M::Op]) -> Result<(), Invalid> {
    for (step, op) in ops.iter().enumerate() {
        let invalid = |reason| Invalid {
            step: StepId::prefix(step),
            op: op.to_rust(),
            reason,
        };
        // A prefix step never sees a branch; a forward prefix var fails to bind below, with
        // the message sequential programs always had.
        if let Some(var) = var_outside(op, |id| id.branch.is_none()) {
            return Err(invalid(Reason::OutOfScope { var }));
        }
        if let Some(var) = names_consumed(op, &model.consumed, usize::MAX) {
            return Err(invalid(Reason::Consumed { var }));
        }
        if !model.admits(op) || !admits_args(&model.model, &model.outputs, op) {
            let state = format!("{:?}", model.model);
            return Err(invalid(Reason::NotEnabled { state }));
        }
        model
            .apply(op)
            .map_err(|m| invalid(Reason::ModelPanicked(m)))?;
    }
    Ok(())
}
