//! Parallel programs: a prefix, then branches whose every step runs in every interleaving of
//! the branches (see [`generate_parallel`]).

use super::interleave::{self, Interleaved};
use super::{
    generate_sequence, model_panic, CaseGenerator, GenError, ModelRun, ProgramTrees, Scope,
};
use crate::catch::catch;
use crate::program::{BranchOutputs, Program};
use crate::spec::{Model, StateMachine};

/// Draws of one rule a branch step tries before leaving the rule out for that step: its
/// arguments may make the difference (a `Delete` of a key no other branch touches is safe where
/// one of a shared key is not).
const TRIES_PER_RULE: u32 = 3;

/// Generates a parallel program against the model alone: `prefix_len` steps, then `branches`
/// branches of up to `branch_len` steps each, optionally keeping argument trees (in the
/// program's shape).
///
/// Every step of every branch runs in every interleaving of the branches: its rule's
/// precondition holds, its precondition over arguments admits it, its `Var`s bind, and the model
/// steps it without panicking, whichever steps of the other branches ran before it. A `Var`
/// names a prefix step or an earlier step of its own branch, never another branch's step (which
/// may not have run yet when it runs).
///
/// The branches are generated one after another. A step is drawn from its branch's own view
/// (the state after the prefix and the branch's earlier steps, as strategies expect), then kept
/// only if every interleaving of the branches so far with it appended stays runnable, searched
/// depth-first over the branches' positions (see `interleave`). A rule refused
/// `TRIES_PER_RULE` times is left out for that step and another drawn; when no rule is left,
/// the branch ends there. A search visits at most [`interleave::STATE_BUDGET`] distinct
/// states, and all of a case's searches together at most [`interleave::CASE_BUDGET`]; past
/// either the branch also ends there rather than take a step not shown safe, and the
/// later branches stay empty (their searches would hold these states and more), so many long
/// branches of a machine with preconditions come out shorter than asked (the program keeps its
/// number of branches). Steps that change nothing (reads) add no states, nor do branches with
/// the same steps left trading places (see `interleave`). Measured on branches of 4 steps after a prefix of 2: a
/// stack whose `Pop` needs an element keeps 100% of the steps asked for with 3 branches, 81%
/// with 5, 51% with 8; files opened, used and closed through `Var`s keep 100%, 87% and 59%.
/// A machine without preconditions and without `Var` fields skips the search and generates
/// exactly what it did before it existed. A prefix result one branch uses up (`#[consumes]`)
/// is drawn by no other branch, and a step using up one an earlier branch names is refused
/// like one that breaks an interleaving. All choices come from the case's plan: the same seed
/// gives the same program.
pub(crate) fn generate_parallel<M: Model>(
    initial: &M,
    plan: &mut CaseGenerator,
    prefix_len: usize,
    branches: usize,
    branch_len: usize,
    trees: Option<&mut ProgramTrees>,
) -> Result<Program<M::Op>, GenError> {
    generate_parallel_mixed(initial, plan, prefix_len, branches, branch_len, trees, None)
}

/// [`generate_parallel`] with the branches' rules weighed by `mix` (by rule index; a rule of
/// weight 0 is never drawn) instead of the derive's weights: a concurrent stress run's op mix.
/// The prefix keeps the derive's weights.
pub(crate) fn generate_parallel_mixed<M: Model>(
    initial: &M,
    plan: &mut CaseGenerator,
    prefix_len: usize,
    branches: usize,
    branch_len: usize,
    trees: Option<&mut ProgramTrees>,
    mix: Option<&[u32]>,
) -> Result<Program<M::Op>, GenError> {
    let branch_ids = u16::try_from(branches).map_err(|_| {
        GenError::Strategy(format!(
            "a program with {branches} branches; at most {} are possible",
            u16::MAX
        ))
    })?;
    let mut run = ModelRun::new(initial.clone());
    // The branches start from the state after the whole prefix.
    let mut prefix_trees = Vec::new();
    let prefix = generate_sequence(
        &mut run,
        plan,
        prefix_len,
        branches > 0,
        trees.is_some().then_some(&mut prefix_trees),
    )?;
    let uses_vars = M::Op::uses_vars();
    let check = branches > 1 && interleave::matters::<M>();
    let mut program = Program::parallel(prefix, Vec::with_capacity(branches));
    let mut all_trees = Program::parallel(prefix_trees, Vec::new());
    // A branch's vars name only the prefix and its own steps: each starts from what the prefix
    // used up, and what earlier branches used up of the prefix's results (see `Claims`).
    let after_prefix = plan.consumed();
    let mut claims = super::Claims::new::<M::Op>(program.prefix.len());
    let mut tries = vec![0u32; if check { M::Op::rules().len() } else { 0 }];
    let mut exhausted = false;
    // States searched by this case's checks so far, against `interleave::CASE_BUDGET`.
    let mut spent = 0;
    for b in 0..branch_ids {
        let mut start = after_prefix.clone();
        claims.mark_used_up(&mut start);
        plan.restore_consumed(&start);
        let mut model = run.model.clone();
        // What the branch sees, in the order `Scope` numbers it: the prefix, then its own.
        let mut visible = if uses_vars {
            run.outputs.clone()
        } else {
            Vec::new()
        };
        let scope = Scope {
            prefix: run.outputs.len(),
            branch: Some(b),
        };
        let mut ops = Vec::with_capacity(branch_len);
        let mut branch_trees = Vec::new();
        'steps: for i in 0..branch_len {
            if exhausted {
                break;
            }
            tries.iter_mut().for_each(|t| *t = 0);
            let (op, step_trees) = loop {
                let mut step_trees = Vec::new();
                let consumed = check.then(|| plan.consumed());
                let allowed = |rule: usize| tries.get(rule).is_none_or(|&t| t < TRIES_PER_RULE);
                let drawn = plan.next_op_among(
                    &model,
                    &visible,
                    scope,
                    trees.is_some().then_some(&mut step_trees),
                    allowed,
                    mix,
                );
                let op = match drawn {
                    Ok(op) => op,
                    // Every rule this branch could take here breaks some interleaving.
                    Err(GenError::NoRuleEnabled(_)) if tries.iter().any(|&t| t > 0) => break 'steps,
                    Err(e) => return Err(e),
                };
                let Some(consumed) = consumed else {
                    break (op, step_trees);
                };
                // Using up a prefix result an earlier branch names: drawn like any other rule,
                // then refused (the `Var` was drawn without knowing which fields consume).
                if claims.clash(&op).is_some() {
                    plan.restore_consumed(&consumed);
                    tries[op.rule_index()] += 1;
                    continue;
                }
                ops.push(op);
                let views: Vec<&[M::Op]> = program
                    .branches
                    .iter()
                    .map(Vec::as_slice)
                    .chain([ops.as_slice()])
                    .collect();
                let budget = interleave::STATE_BUDGET.min(interleave::CASE_BUDGET - spent);
                let verdict = interleave::explore_counting(
                    &run.model,
                    &run.outputs,
                    &views,
                    budget,
                    &mut spent,
                );
                let op = ops.pop().expect("stateprop: the step just pushed");
                match verdict {
                    Interleaved::Safe => break (op, step_trees),
                    Interleaved::TooMany => {
                        plan.restore_consumed(&consumed);
                        // Every later check holds these branches and more, so it would
                        // exceed the budget too: the remaining branches stay empty.
                        exhausted = true;
                        break 'steps;
                    }
                    Interleaved::Broken(_) | Interleaved::Panicked(..) => {
                        plan.restore_consumed(&consumed);
                        tries[op.rule_index()] += 1;
                    }
                }
            };
            if i + 1 < branch_len {
                let (prefix, own) = visible.split_at(scope.prefix.min(visible.len()));
                let outputs = BranchOutputs {
                    prefix,
                    branch: b,
                    own,
                };
                let mut bound = op.clone();
                let out = catch(|| {
                    if uses_vars {
                        bound.bind_vars(&outputs);
                    }
                    model.step(&bound)
                })
                .map_err(model_panic)?;
                if uses_vars {
                    visible.push(out);
                }
            }
            branch_trees.push(step_trees);
            claims.record(&op, crate::program::StepId::in_branch(b, i));
            ops.push(op);
        }
        claims.end_branch();
        program.branches.push(ops);
        all_trees.branches.push(branch_trees);
    }
    if let Some(t) = trees {
        *t = all_trees;
    }
    Ok(program)
}
