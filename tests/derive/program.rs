//! Programs with branches, and `Var`s that name step ids: binding, printing, JSON and the
//! scope rule (a prefix step, or an earlier step of the var's own branch).

use crate::bank::{AccountId, Bank, BankOp, BankOut};
use serde_json::json;
use stateprop::generate::validate_program;
use stateprop::prelude::*;
use stateprop::program::{BranchOutputs, Outputs};
use stateprop::{Program, Shape, StepId};

fn open() -> BankOp {
    BankOp::Open
}

fn deposit(account: Var<AccountId>) -> BankOp {
    BankOp::Deposit { account, amount: 1 }
}

#[test]
fn a_sequential_program_has_only_prefix_ids() {
    let program = Program::sequential(vec![open(), deposit(Var::at(0))]);
    assert_eq!(program.shape(), Shape::Sequential);
    assert_eq!(program.len(), 2);
    let ids: Vec<StepId> = program.steps().map(|(id, _)| id).collect();
    assert_eq!(ids, [StepId::prefix(0), StepId::prefix(1)]);
    assert_eq!(program.get(StepId::prefix(1)), Some(&deposit(Var::at(0))));
    assert_eq!(program.get(StepId::in_branch(0, 0)), None);
}

#[test]
fn a_parallel_program_numbers_each_branch_from_zero() {
    let program = Program::parallel(
        vec![open()],
        vec![vec![open(), deposit(Var::in_branch(0, 0))], vec![open()]],
    );
    assert_eq!(program.shape(), Shape::Parallel);
    assert_eq!(program.len(), 4);
    let ids: Vec<StepId> = program.steps().map(|(id, _)| id).collect();
    assert_eq!(
        ids,
        [
            StepId::prefix(0),
            StepId::in_branch(0, 0),
            StepId::in_branch(0, 1),
            StepId::in_branch(1, 0),
        ]
    );
    assert_eq!(
        program.get(StepId::in_branch(0, 1)),
        Some(&deposit(Var::in_branch(0, 0)))
    );
    assert_eq!(program.get(StepId::in_branch(2, 0)), None);
}

#[test]
fn a_slice_of_outputs_holds_prefix_steps_only() {
    let outputs = [BankOut::Opened(AccountId(7))];
    assert_eq!(outputs.output(StepId::prefix(0)), Some(&outputs[0]));
    assert_eq!(outputs.output(StepId::in_branch(0, 0)), None);
}

#[test]
fn a_branch_binds_prefix_vars_and_its_own_never_another_branchs() {
    let prefix = [BankOut::Opened(AccountId(1))];
    let own = [BankOut::Opened(AccountId(2))];
    let outputs = BranchOutputs {
        prefix: &prefix[..],
        branch: 1,
        own: &own[..],
    };
    let mut op = BankOp::Transfer {
        from: Var::at(0),
        amount: 3,
        to: Var::in_branch(1, 0),
    };
    assert!(op.bind_vars(&outputs));
    let BankOp::Transfer { from, to, .. } = &op else {
        unreachable!()
    };
    assert_eq!((from.get(), to.get()), (&AccountId(1), &AccountId(2)));

    let mut other = deposit(Var::in_branch(0, 0));
    assert!(!other.bind_vars(&outputs), "branch 1 cannot see branch 0");
    let mut sequential = deposit(Var::in_branch(1, 0));
    assert!(
        !sequential.bind_vars(&prefix),
        "a slice has no branch steps"
    );
}

#[test]
fn remap_vars_can_move_a_var_between_branch_and_prefix() {
    let mut op = deposit(Var::in_branch(1, 2));
    assert!(op.remap_vars(&mut |id| {
        assert_eq!(id, StepId::in_branch(1, 2));
        Some(StepId::prefix(4))
    }));
    assert_eq!(op, deposit(Var::at(4)));
}

#[test]
fn a_branch_var_prints_as_rust_that_builds_the_same_var() {
    let op = BankOp::Transfer {
        from: Var::at(0),
        amount: 3,
        to: Var::in_branch(1, 2),
    };
    assert_eq!(
        op.to_rust(),
        "BankOp::Transfer { from: Var::at(0), amount: 3, to: Var::in_branch(1, 2) }"
    );
    // The printed text, pasted: it compiles and builds the same operation.
    let pasted = BankOp::Transfer {
        from: Var::at(0),
        amount: 3,
        to: Var::in_branch(1, 2),
    };
    assert_eq!(pasted, op);
    assert_eq!(pasted.to_rust(), op.to_rust());
    assert_eq!(
        format!("{:?}", Var::<u8>::in_branch(1, 2)),
        "Var::in_branch(1, 2)"
    );
}

#[test]
fn json_keeps_prefix_vars_as_numbers_and_round_trips_branch_vars() {
    let op = BankOp::Transfer {
        from: Var::at(0),
        amount: 3,
        to: Var::in_branch(1, 2),
    };
    let value = op.to_json();
    assert_eq!(
        value,
        json!({"Transfer": {"from": 0, "amount": 3, "to": {"branch": 1, "index": 2}}})
    );
    assert_eq!(BankOp::from_json(&value), Ok(op));
    // The form regression files held before branches existed still loads.
    assert_eq!(
        BankOp::from_json(&json!({"Balance": 5})),
        Ok(BankOp::Balance(Var::at(5)))
    );
    let err = BankOp::from_json(&json!({"Balance": {"branch": 1}})).unwrap_err();
    assert!(
        err.contains("Balance") && err.contains("missing field `index`"),
        "{err}"
    );
    let err = BankOp::from_json(&json!({"Balance": "first"})).unwrap_err();
    assert!(
        err.contains(r#"a prefix step's index, or {"branch": b, "index": i}"#),
        "{err}"
    );
}

#[test]
fn validation_accepts_prefix_and_earlier_own_branch_vars() {
    let program = Program::parallel(
        vec![open()],
        vec![
            vec![deposit(Var::at(0)), open(), deposit(Var::in_branch(0, 1))],
            vec![open(), deposit(Var::in_branch(1, 0))],
        ],
    );
    assert_eq!(validate_program(&Bank::default(), &program), Ok(()));
}

#[test]
fn validation_rejects_a_var_naming_another_branch() {
    let program = Program::parallel(
        vec![],
        vec![vec![open()], vec![open(), deposit(Var::in_branch(0, 0))]],
    );
    assert_eq!(
        validate_program(&Bank::default(), &program),
        Err(
            "branch 1 step 1, BankOp::Deposit { account: Var::in_branch(0, 0), amount: 1 }, \
             has a `Var` naming branch 0 step 0, which is neither a prefix step nor an earlier \
             step of its own branch"
                .to_string()
        )
    );
}

#[test]
fn validation_rejects_a_var_naming_a_later_step_of_its_own_branch() {
    let program = Program::parallel(
        vec![open()],
        vec![vec![deposit(Var::in_branch(0, 1)), open()]],
    );
    let err = validate_program(&Bank::default(), &program).unwrap_err();
    assert!(
        err.starts_with("branch 0 step 0, ") && err.contains("naming branch 0 step 1"),
        "{err}"
    );
    let own = Program::parallel(vec![open()], vec![vec![deposit(Var::in_branch(0, 0))]]);
    let err = validate_program(&Bank::default(), &own).unwrap_err();
    assert!(
        err.contains("naming branch 0 step 0"),
        "a step cannot name itself: {err}"
    );
}

#[test]
fn validation_rejects_a_prefix_var_naming_a_branch_or_past_the_prefix() {
    let into_branch = Program::parallel(
        vec![open(), deposit(Var::in_branch(0, 0))],
        vec![vec![open()]],
    );
    let err = validate_program(&Bank::default(), &into_branch).unwrap_err();
    assert!(
        err.starts_with("step 1, ") && err.contains("naming branch 0 step 0"),
        "{err}"
    );

    let past = Program::parallel(vec![open()], vec![vec![deposit(Var::at(1))]]);
    let err = validate_program(&Bank::default(), &past).unwrap_err();
    assert!(err.contains("naming step 1"), "{err}");
}

#[test]
fn validation_of_a_sequential_program_keeps_its_message() {
    let program = Program::sequential(vec![open(), deposit(Var::at(1))]);
    assert_eq!(
        validate_program(&Bank::default(), &program),
        Err(
            "step 1, BankOp::Deposit { account: Var::at(1), amount: 1 }, is not enabled in \
             model state Bank { balances: [0] } (its precondition fails or a `Var` names a \
             missing result)"
                .to_string()
        )
    );
}

#[test]
fn validation_runs_each_branch_on_the_model_after_the_prefix() {
    // Balance's precondition: fewer than 3 accounts. The prefix opens 2; a branch that opens a
    // third cannot then read a balance. Another branch reading one can run before that open but
    // not after it, and every interleaving of the branches must keep each step enabled (issue 9).
    let racing = Program::parallel(
        vec![open(), open()],
        vec![vec![open()], vec![BankOp::Balance(Var::at(0))]],
    );
    let err = validate_program(&Bank::default(), &racing).unwrap_err();
    assert!(
        err.starts_with("branch 1 step 0, ")
            && err.contains("when the branches interleave as branch 0 step 0 before it"),
        "{err}"
    );
    // After a prefix of one account the read runs whether the open came first or not.
    let ok = Program::parallel(
        vec![open()],
        vec![vec![open()], vec![BankOp::Balance(Var::at(0))]],
    );
    assert_eq!(validate_program(&Bank::default(), &ok), Ok(()));
    let blocked = Program::parallel(
        vec![open(), open()],
        vec![vec![open(), BankOp::Balance(Var::at(0))]],
    );
    let err = validate_program(&Bank::default(), &blocked).unwrap_err();
    assert!(
        err.starts_with("branch 0 step 1, ") && err.contains("is not enabled"),
        "{err}"
    );
}
