//! Programs: a sequential prefix and zero or more branches of steps, named by [`StepId`].
//!
//! A sequential program is a prefix with no branches. A parallel one runs its prefix, then its
//! branches side by side; a `Var` in a branch may name a prefix step or an earlier step of its
//! own branch, never a step of another branch (which may not have run yet).
//!
//! A program that did not come from the generator (a pasted regression test, a saved case, a
//! fuzzer's bytes, a hand-written list) is replayed on the model alone first: every step's rule
//! must be enabled where it runs and its `Var`s must name results that exist, exactly as
//! generation guarantees by construction. One function says so for every caller, with one
//! message.

mod step;

pub use step::{BranchOutputs, Outputs, StepId};

use crate::generate::ModelRun;
use crate::spec::{Model, StateMachine};
use std::fmt;
use std::hash::{DefaultHasher, Hash, Hasher};

/// A program: steps run in order (the prefix), then branches run side by side.
///
/// Room for the step kinds of a simulation (deliveries, time, faults) is left in `Op`: a
/// simulated program is a `Program` whose operations say which kind of step they are.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct Program<Op> {
    /// The steps run first, in order, on one thread.
    pub prefix: Vec<Op>,
    /// The steps run after the prefix, each branch in order, the branches concurrently.
    pub branches: Vec<Vec<Op>>,
}

impl<Op> Program<Op> {
    /// A sequential program: `ops` in order, no branches.
    pub fn sequential(ops: Vec<Op>) -> Self {
        Program {
            prefix: ops,
            branches: Vec::new(),
        }
    }

    /// A prefix followed by `branches`.
    ///
    /// # Panics
    /// If there are more than `u16::MAX` branches.
    pub fn parallel(prefix: Vec<Op>, branches: Vec<Vec<Op>>) -> Self {
        assert!(
            branches.len() <= usize::from(u16::MAX),
            "stateprop: a program with more than {} branches",
            u16::MAX
        );
        Program { prefix, branches }
    }

    /// How the steps are arranged.
    pub fn shape(&self) -> Shape {
        if self.branches.is_empty() {
            Shape::Sequential
        } else {
            Shape::Parallel
        }
    }

    /// The number of steps, prefix and branches together.
    pub fn len(&self) -> usize {
        self.prefix.len() + self.branches.iter().map(Vec::len).sum::<usize>()
    }

    /// Whether the program has no steps at all.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The step with id `id`, if there is one.
    pub fn get(&self, id: StepId) -> Option<&Op> {
        let steps = match id.branch {
            None => &self.prefix,
            Some(b) => self.branches.get(usize::from(b))?,
        };
        steps.get(id.index as usize)
    }

    /// The step with id `id`, mutably, if there is one.
    pub fn get_mut(&mut self, id: StepId) -> Option<&mut Op> {
        let steps = match id.branch {
            None => &mut self.prefix,
            Some(b) => self.branches.get_mut(usize::from(b))?,
        };
        steps.get_mut(id.index as usize)
    }

    /// The id of the `k`-th step counted as [`steps`](Self::steps) does (the prefix, then each
    /// branch), if there are more than `k` steps.
    pub(crate) fn id_at(&self, k: usize) -> Option<StepId> {
        if k < self.prefix.len() {
            return Some(StepId::prefix(k));
        }
        let mut k = k - self.prefix.len();
        for (b, ops) in self.branches.iter().enumerate() {
            if k < ops.len() {
                return Some(StepId::in_branch(branch_id(b), k));
            }
            k -= ops.len();
        }
        None
    }

    /// The same arrangement with every step replaced by `f` of it.
    pub(crate) fn map<U>(self, mut f: impl FnMut(Op) -> U) -> Program<U> {
        Program {
            prefix: self.prefix.into_iter().map(&mut f).collect(),
            branches: self
                .branches
                .into_iter()
                .map(|ops| ops.into_iter().map(&mut f).collect())
                .collect(),
        }
    }

    /// Each step's id, in the program's arrangement.
    pub(crate) fn ids(&self) -> Program<StepId> {
        Program {
            prefix: (0..self.prefix.len()).map(StepId::prefix).collect(),
            branches: self
                .branches
                .iter()
                .enumerate()
                .map(|(b, ops)| {
                    (0..ops.len())
                        .map(|i| StepId::in_branch(branch_id(b), i))
                        .collect()
                })
                .collect(),
        }
    }

    /// Whether `other` has the same prefix length and branch lengths.
    pub(crate) fn same_shape<U>(&self, other: &Program<U>) -> bool {
        self.prefix.len() == other.prefix.len()
            && self.branches.len() == other.branches.len()
            && self
                .branches
                .iter()
                .zip(&other.branches)
                .all(|(a, b)| a.len() == b.len())
    }

    /// Every step with its id: the prefix in order, then each branch in order.
    pub fn steps(&self) -> impl Iterator<Item = (StepId, &Op)> + '_ {
        let prefix = self
            .prefix
            .iter()
            .enumerate()
            .map(|(i, op)| (StepId::prefix(i), op));
        let branches = self.branches.iter().enumerate().flat_map(|(b, ops)| {
            let b = branch_id(b);
            ops.iter()
                .enumerate()
                .map(move |(i, op)| (StepId::in_branch(b, i), op))
        });
        prefix.chain(branches)
    }
}

/// A branch's position as the `u16` of its step ids.
fn branch_id(b: usize) -> u16 {
    // `parallel` and the struct's users keep the count within u16.
    u16::try_from(b).expect("stateprop: a program with more than u16::MAX branches")
}

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
            Reason::NotEnabled { state } => write!(
                f,
                "{step}, {op}, is not enabled in model state {state} (its precondition \
                 fails or a `Var` names a missing result)"
            ),
            Reason::ModelPanicked(message) => {
                write!(f, "the model panicked at {step}, {op}: {message}")
            }
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
/// Each branch is checked as if it ran alone after the prefix; whether every interleaving of the
/// branches keeps each step enabled is for a concurrent executor to decide, not this check.
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
    for (b, ops) in program.branches.iter().enumerate() {
        let b = u16::try_from(b).expect("stateprop: a program with more than u16::MAX branches");
        let mut model = after_prefix.model.clone();
        let mut own: Vec<<M as Model>::Output> = Vec::new();
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
            own.push(out);
        }
    }
    Ok(())
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

/// A content hash of a program (its `Debug` text, fed to the hasher without allocating).
pub(crate) fn fingerprint<Op: std::fmt::Debug>(ops: &[Op]) -> u64 {
    struct W<'h>(&'h mut DefaultHasher);
    impl std::fmt::Write for W<'_> {
        fn write_str(&mut self, s: &str) -> std::fmt::Result {
            s.hash(self.0);
            Ok(())
        }
    }
    let mut h = DefaultHasher::new();
    for op in ops {
        let _ = std::fmt::write(&mut W(&mut h), format_args!("{op:?};"));
    }
    h.finish()
}

/// A content hash of a whole program: [`fingerprint`] of a sequential one, and of a parallel one
/// its prefix and each branch apart (so moving a step across a boundary changes it).
pub(crate) fn fingerprint_program<Op: std::fmt::Debug>(program: &Program<Op>) -> u64 {
    if program.branches.is_empty() {
        return fingerprint(&program.prefix);
    }
    let mut h = DefaultHasher::new();
    fingerprint(&program.prefix).hash(&mut h);
    for ops in &program.branches {
        fingerprint(ops).hash(&mut h);
    }
    h.finish()
}

/// The shape of a program: how its steps are arranged.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Shape {
    /// One list of steps, run in order on one system.
    Sequential,
    /// A prefix, then branches run side by side.
    Parallel,
}

impl Shape {
    /// `"sequential"`: the name in the JSON report and in regression lines.
    pub fn as_str(self) -> &'static str {
        match self {
            Shape::Sequential => "sequential",
            Shape::Parallel => "parallel",
        }
    }
}
