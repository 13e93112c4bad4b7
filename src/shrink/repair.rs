//! Turning a candidate arrangement into a well-formed program: replay it on the model, drop what
//! can no longer run, and rename the `Var`s of what is left.
//!
//! A candidate is a [`Plan`]: the current program's step ids, rearranged (some deleted, a
//! branch's step moved to the end of the prefix, a branch dropped). Replaying it on the model
//! decides which steps survive: a step whose precondition fails where it now runs, or whose `Var`
//! names a step that is gone, out of its scope, (after a move) not earlier, or a result an
//! earlier `#[consumes]` field used up, is dropped, as is a branch step naming a prefix result
//! that an earlier branch's step uses up (or using up one an earlier branch names). An argument drawn from a `#[strategy]` that
//! the strategy does not make where its step now runs (a deleted key whose put changed) becomes
//! the strategy's simplest value there (`StateMachine::follow_model`).
//! Survivors get new ids from their new positions, and every `Var` is renamed through the map of
//! old ids to new ones, so deleting a step renumbers only the later steps of its own sequence and
//! the `Var`s naming them — never another branch's steps.

use crate::catch::catch;
use crate::generate::ModelRun;
use crate::program::{BranchOutputs, Program, StepId};
use crate::spec::{Model, StateMachine};

/// A candidate: which step of the current program goes where, by its current id.
pub(super) type Plan = Program<StepId>;

/// A repaired candidate: the program, and each of its steps' id in the current program.
pub(super) struct Repaired<Op> {
    pub(super) program: Program<Op>,
    pub(super) kept: Plan,
}

/// The new id of every step placed so far, by old id.
struct Renames {
    prefix: Vec<Option<StepId>>,
    branches: Vec<Vec<Option<StepId>>>,
}

impl Renames {
    fn new<Op>(program: &Program<Op>) -> Self {
        Renames {
            prefix: vec![None; program.prefix.len()],
            branches: program
                .branches
                .iter()
                .map(|b| vec![None; b.len()])
                .collect(),
        }
    }

    fn slot(&mut self, old: StepId) -> Option<&mut Option<StepId>> {
        let steps = match old.branch {
            None => &mut self.prefix,
            Some(b) => self.branches.get_mut(usize::from(b))?,
        };
        steps.get_mut(old.index as usize)
    }

    fn get(&self, old: StepId) -> Option<StepId> {
        let steps = match old.branch {
            None => &self.prefix,
            Some(b) => self.branches.get(usize::from(b))?,
        };
        steps.get(old.index as usize).copied().flatten()
    }

    fn set(&mut self, old: StepId, new: StepId) {
        if let Some(slot) = self.slot(old) {
            *slot = Some(new);
        }
    }
}

/// Replays `plan` (steps of `current`, with the replacements in `replace`) on the model from
/// `initial`, keeping the steps that can run where they now stand and renaming their `Var`s.
///
/// The prefix is replayed first; each branch then alone from the state after the prefix, as the
/// generator made it, and each step it keeps must also run in every interleaving with the steps
/// kept so far in this and the earlier branches (the generator's guarantee, by its search): a
/// step some interleaving disables is dropped, as is one the search cannot show safe within its
/// budget. A branch left with no step is dropped (the later ones move up). If the
/// model panics in the prefix, that step is the failure: it is kept and nothing after it is.
pub(super) fn repair<M: Model>(
    initial: &M,
    current: &Program<M::Op>,
    plan: &Plan,
    replace: &[(StepId, M::Op)],
) -> Repaired<M::Op> {
    let op_of = |old: StepId| -> M::Op {
        match replace.iter().find(|(id, _)| *id == old) {
            Some((_, op)) => op.clone(),
            None => current
                .get(old)
                .expect("stateprop: a shrink plan names a step of the current program")
                .clone(),
        }
    };
    let mut renames = Renames::new(current);
    let mut run = ModelRun::new(initial.clone());
    let mut program = Program::sequential(Vec::with_capacity(plan.prefix.len()));
    let mut kept = Program::sequential(Vec::with_capacity(plan.prefix.len()));
    for &old in &plan.prefix {
        let mut op = op_of(old);
        // A prefix step may name only an earlier prefix step: only those are renamed yet.
        if !op.remap_vars(&mut |v| renames.get(v).filter(|n| n.branch.is_none())) {
            continue;
        }
        if !run.admits(&op) {
            continue;
        }
        // An argument drawn from a strategy follows the state its step now runs in; only once
        // the rule may run there, since a strategy may assume its precondition (`0..m.len()`
        // under `!m.is_empty()`), and a strategy that panics there drops the step.
        if M::Op::follows_model() && catch(|| op.follow_model(&run.model)) != Ok(true) {
            continue;
        }
        if !crate::generate::admits_args(&run.model, &run.outputs, &op) {
            continue;
        }
        let model_ok = run.apply(&op).is_ok();
        renames.set(old, StepId::prefix(program.prefix.len()));
        program.prefix.push(op);
        kept.prefix.push(old);
        if !model_ok {
            // The model panics here: that is the failure; nothing after it can run.
            return Repaired { program, kept };
        }
    }
    let uses_vars = M::Op::uses_vars();
    let check = plan.branches.len() > 1 && crate::generate::interleave::matters::<M>();
    // No two kept branches share a prefix result one of them uses up (see `Claims`).
    let mut claims = crate::generate::Claims::new::<M::Op>(program.prefix.len());
    for steps in &plan.branches {
        let branch = u16::try_from(program.branches.len())
            .expect("stateprop: a program with more than u16::MAX branches");
        let mut model = run.model.clone();
        // What the branch sees: the prefix's outputs, then its own (as `enabled` expects).
        let mut visible = if uses_vars {
            run.outputs.clone()
        } else {
            Vec::new()
        };
        let seen_prefix = visible.len();
        // The prefix's uses hold in every branch; a branch's own only in it (its vars cannot
        // name another branch's steps).
        let mut consumed = run.consumed.clone();
        let prefix_len = program.prefix.len();
        let mut ops = Vec::with_capacity(steps.len());
        let mut ids = Vec::with_capacity(steps.len());
        for &old in steps {
            let mut op = op_of(old);
            let here = ops.len();
            let in_scope = op.remap_vars(&mut |v| {
                let new = renames.get(v)?;
                match new.branch {
                    None => Some(new),
                    Some(b) if b == branch && (new.index as usize) < here => Some(new),
                    Some(_) => None,
                }
            });
            if !in_scope
                || crate::generate::names_consumed(&op, &consumed, prefix_len).is_some()
                || claims.clash(&op).is_some()
            {
                continue;
            }
            let rule = op.rule_index();
            // As in the prefix: the rule first, then its arguments follow the state.
            if catch(|| M::Op::enabled(rule, &model, &visible)) != Ok(true) {
                continue;
            }
            if M::Op::follows_model() && catch(|| op.follow_model(&model)) != Ok(true) {
                continue;
            }
            let (prefix, own) = visible.split_at(seen_prefix);
            let outputs = BranchOutputs {
                prefix,
                branch,
                own,
            };
            let mut bound = op.clone();
            let admitted = catch(|| {
                (!uses_vars || bound.bind_vars(&outputs))
                    && (!M::Op::checks_args() || bound.admits(&model))
            });
            if admitted != Ok(true) {
                continue;
            }
            let out = if check {
                let mut stepped = model.clone();
                let out = catch(|| stepped.step(&bound));
                // A step the model cannot take alone stays, as the failure (below); one it can
                // must also run in every interleaving with the branches kept so far.
                if out.is_ok() && !safe_everywhere(&run, &program.branches, &mut ops, &op) {
                    continue;
                }
                model = stepped;
                out
            } else {
                catch(|| model.step(&bound))
            };
            crate::generate::consume(&op, &mut consumed, prefix_len);
            claims.record(&op, StepId::in_branch(branch, here));
            renames.set(old, StepId::in_branch(branch, here));
            ops.push(op);
            ids.push(old);
            match out {
                Ok(out) if uses_vars => visible.push(out),
                Ok(_) => {}
                // The model panics here: the rest of this branch cannot run after it.
                Err(_) => break,
            }
        }
        claims.end_branch();
        if !ops.is_empty() {
            program.branches.push(ops);
            kept.branches.push(ids);
        }
    }
    Repaired { program, kept }
}

/// Whether `op`, appended to the branch being rebuilt (`ops`), runs in every interleaving of it
/// with the `done` branches, after the prefix `run` replayed. Leaves `ops` as it found it.
fn safe_everywhere<M: Model>(
    run: &ModelRun<M>,
    done: &[Vec<M::Op>],
    ops: &mut Vec<M::Op>,
    op: &M::Op,
) -> bool {
    use crate::generate::interleave::{explore, Interleaved, STATE_BUDGET};
    ops.push(op.clone());
    let views: Vec<&[M::Op]> = done
        .iter()
        .map(Vec::as_slice)
        .chain([ops.as_slice()])
        .collect();
    let verdict = explore(&run.model, &run.outputs, &views, STATE_BUDGET);
    ops.pop();
    matches!(verdict, Interleaved::Safe)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::generate::{check_program, generate_parallel, CaseGenerator};

    // The stack of the generation tests: `Pop` needs an element, and the model trusts it has one.
    use crate::generate::tests::{Pile, PileOp};

    fn ids<Op>(program: &Program<Op>) -> Plan {
        Program::parallel(
            (0..program.prefix.len()).map(StepId::prefix).collect(),
            program
                .branches
                .iter()
                .enumerate()
                .map(|(b, ops)| {
                    (0..ops.len())
                        .map(|i| StepId::in_branch(b as u16, i))
                        .collect()
                })
                .collect(),
        )
    }

    #[test]
    fn deleting_a_push_drops_the_pop_another_branch_could_then_run_first() {
        use PileOp::{Pop, Push};
        let current = Program::parallel(
            vec![Push { value: 1 }],
            vec![vec![Pop], vec![Push { value: 2 }, Pop]],
        );
        check_program(&Pile::default(), &current).expect("every interleaving runs");
        let mut plan = ids(&current);
        plan.branches[1].remove(0);
        let repaired = repair(&Pile::default(), &current, &plan, &[]);
        // Each branch alone could still pop the prefix's element, but not both in one run.
        assert_eq!(
            repaired.program,
            Program::parallel(vec![Push { value: 1 }], vec![vec![Pop]])
        );
        assert_eq!(repaired.kept.branches, [[StepId::in_branch(0, 0)]]);
        check_program(&Pile::default(), &repaired.program).expect("well formed");
    }

    #[test]
    fn a_step_naming_a_prefix_handle_another_branch_closes_is_dropped() {
        use crate::generate::tests::{HandleOp, Handles};
        use crate::Var;
        let current = Program::parallel(
            vec![HandleOp::Open, HandleOp::Open],
            vec![
                vec![HandleOp::Close { h: Var::at(0) }],
                vec![HandleOp::Use { h: Var::at(1) }, HandleOp::Open],
            ],
        );
        check_program(&Handles::default(), &current).expect("well formed");
        // Redirected (as an argument shrink would) to the handle branch 0 closes, the use is
        // dropped; so is a second close of it. The rest of the branch stays.
        for replaced in [
            HandleOp::Use { h: Var::at(0) },
            HandleOp::Close { h: Var::at(0) },
        ] {
            let replace = [(StepId::in_branch(1, 0), replaced)];
            let repaired = repair(&Handles::default(), &current, &ids(&current), &replace);
            assert_eq!(
                repaired.program.branches,
                [
                    vec![HandleOp::Close { h: Var::at(0) }],
                    vec![HandleOp::Open]
                ]
            );
            check_program(&Handles::default(), &repaired.program).expect("well formed");
        }
    }

    #[test]
    fn every_single_deletion_of_a_generated_program_repairs_to_a_valid_one() {
        let mut dropped = 0;
        for seed in 0..60 {
            let mut plan = CaseGenerator::new::<PileOp>(seed, (1, 1), false);
            let current = generate_parallel(&Pile::default(), &mut plan, 2, 3, 3, None).unwrap();
            let all = ids(&current);
            for (at, _) in current.steps() {
                let mut plan = all.clone();
                match at.branch {
                    None => plan.prefix.retain(|&id| id != at),
                    Some(b) => plan.branches[usize::from(b)].retain(|&id| id != at),
                }
                let repaired = repair(&Pile::default(), &current, &plan, &[]);
                if let Err(invalid) = check_program(&Pile::default(), &repaired.program) {
                    panic!("deleting {at} of {current:?}: {invalid}");
                }
                dropped += current.len() - 1 - repaired.program.len();
            }
        }
        // Deleting a push did make the repair drop pops that had become unsafe.
        assert!(dropped > 0);
    }
}
