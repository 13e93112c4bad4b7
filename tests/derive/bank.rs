//! `Var` fields: operations on accounts that earlier steps opened.

use crate::{generate, squeeze};
use proptest::test_runner::TestRunner;
use serde::{Deserialize, Serialize};
use serde_json::json;
use stateprop::prelude::*;
use stateprop::StepId;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountId(pub u32);

#[derive(Clone, Debug, PartialEq)]
pub enum BankOut {
    Opened(AccountId),
    Balance(u64),
    Rejected,
}

impl FromOutput<BankOut> for AccountId {
    fn from_output(output: &BankOut) -> Option<Self> {
        match output {
            BankOut::Opened(id) => Some(id.clone()),
            _ => None,
        }
    }
}

#[derive(Clone, Debug, Default)]
pub struct Bank {
    pub balances: Vec<u64>,
}

#[derive(Debug, Clone, PartialEq, StateMachine)]
#[state_machine(model = Bank)]
pub enum BankOp {
    Open,
    Deposit {
        account: Var<AccountId>,
        amount: u64,
    },
    Transfer {
        from: Var<AccountId>,
        #[strategy(1..100u64)]
        amount: u64,
        to: stateprop::Var<AccountId>,
    },
    #[rule(precondition = |bank| bank.balances.len() < 3)]
    Balance(Var<AccountId>),
}

impl Model for Bank {
    type Op = BankOp;
    type Output = BankOut;

    fn step(&mut self, op: &BankOp) -> BankOut {
        match op {
            BankOp::Open => {
                self.balances.push(0);
                BankOut::Opened(AccountId(self.balances.len() as u32 - 1))
            }
            BankOp::Deposit { account, amount } => {
                self.balances[account.0 as usize] += amount;
                BankOut::Balance(self.balances[account.0 as usize])
            }
            BankOp::Transfer { .. } => BankOut::Rejected,
            BankOp::Balance(account) => BankOut::Balance(self.balances[account.0 as usize]),
        }
    }
}

fn outputs() -> Vec<BankOut> {
    vec![
        BankOut::Opened(AccountId(10)),
        BankOut::Balance(5),
        BankOut::Opened(AccountId(11)),
        BankOut::Rejected,
    ]
}

#[test]
fn rules_name_their_var_fields() {
    let rules = BankOp::rules();
    let fields: Vec<_> = rules.iter().map(|r| r.var_fields).collect();
    assert_eq!(
        fields,
        [&[][..], &["account"][..], &["from", "to"][..], &["0"][..]]
    );
    assert_eq!(
        squeeze(rules[3].precondition).as_deref(),
        Some("|bank|bank.balances.len()<3")
    );
    assert!(BankOp::uses_vars());
}

#[test]
fn a_var_field_needs_an_earlier_result_of_its_type() {
    let bank = Bank::default();
    assert!(BankOp::enabled(0, &bank, &[]));
    for rule in 1..4 {
        assert!(
            !BankOp::enabled(rule, &bank, &[]),
            "rule {rule} without accounts"
        );
        assert!(!BankOp::enabled(
            rule,
            &bank,
            &[BankOut::Balance(1), BankOut::Rejected]
        ));
        assert!(BankOp::enabled(rule, &bank, &outputs()));
    }
}

#[test]
fn precondition_and_vars_must_both_hold() {
    let full = Bank {
        balances: vec![0; 3],
    };
    assert!(!BankOp::enabled(3, &full, &outputs()));
    assert!(BankOp::enabled(1, &full, &outputs()));
}

#[test]
fn generate_picks_among_earlier_results_of_the_type() {
    let mut runner = TestRunner::deterministic();
    let bank = Bank::default();
    let mut seen = [false; 4];
    for _ in 0..200 {
        let op = generate(&mut runner, 2, &bank, &outputs()).unwrap();
        let BankOp::Transfer { from, amount, to } = op else {
            panic!("rule 2 generated {op:?}")
        };
        assert!((1..100).contains(&amount));
        for var in [from, to] {
            assert!(var.step() == 0 || var.step() == 2, "{var:?}");
            assert!(var.try_get().is_none(), "generated vars are unbound");
            seen[var.step()] = true;
        }
    }
    assert_eq!(seen, [true, false, true, false]);
}

#[test]
fn generate_fails_when_no_result_fits_a_var() {
    let mut runner = TestRunner::deterministic();
    let err = generate(&mut runner, 1, &Bank::default(), &[BankOut::Rejected]).unwrap_err();
    assert_eq!(
        err,
        "no earlier step returned a value for `Var` field `account`"
    );
}

#[test]
fn bind_vars_resolves_every_var() {
    let mut op = BankOp::Transfer {
        from: Var::at(2),
        amount: 5,
        to: Var::at(0),
    };
    assert!(op.bind_vars(&outputs()));
    let BankOp::Transfer { from, to, .. } = &op else {
        unreachable!()
    };
    assert_eq!(*from.get(), AccountId(11));
    assert_eq!(**to, AccountId(10));
    assert!(BankOp::Open.bind_vars(&[]));
}

#[test]
fn bind_vars_fails_if_one_var_does_not_resolve_but_binds_the_others() {
    let mut op = BankOp::Transfer {
        from: Var::at(3),
        amount: 5,
        to: Var::at(2),
    };
    assert!(!op.bind_vars(&outputs()), "step 3 returned no account");
    let BankOp::Transfer { from, to, .. } = &op else {
        unreachable!()
    };
    assert!(from.try_get().is_none());
    assert_eq!(to.try_get(), Some(&AccountId(11)));

    let mut op = BankOp::Balance(Var::at(9));
    assert!(!op.bind_vars(&outputs()), "step 9 does not exist");
}

#[test]
fn remap_vars_renumbers_every_var() {
    let mut op = BankOp::Transfer {
        from: Var::at(4),
        amount: 5,
        to: Var::at(2),
    };
    assert!(op.remap_vars(&mut |id| Some(StepId::prefix(id.index as usize / 2))));
    assert_eq!(
        op,
        BankOp::Transfer {
            from: Var::at(2),
            amount: 5,
            to: Var::at(1),
        }
    );

    let mut calls = 0;
    assert!(!op.remap_vars(&mut |id| {
        calls += 1;
        (id.index != 2).then(|| StepId::prefix(id.index as usize + 10))
    }));
    assert_eq!(calls, 2, "every var is remapped even after one fails");
    assert_eq!(
        op,
        BankOp::Transfer {
            from: Var::at(2),
            amount: 5,
            to: Var::at(11),
        }
    );
    assert!(BankOp::Open.remap_vars(&mut |_| None));
}

#[test]
fn to_rust_writes_vars_as_var_at() {
    let op = BankOp::Deposit {
        account: Var::at(3),
        amount: 250,
    };
    assert_eq!(
        op.to_rust(),
        "BankOp::Deposit { account: Var::at(3), amount: 250 }"
    );
    assert_eq!(
        BankOp::Balance(Var::at(0)).to_rust(),
        "BankOp::Balance(Var::at(0))"
    );
    assert_eq!(BankOp::Open.to_rust(), "BankOp::Open");
}

#[test]
fn json_writes_vars_as_step_numbers() {
    let op = BankOp::Transfer {
        from: Var::at(1),
        amount: 9,
        to: Var::at(4),
    };
    let value = op.to_json();
    assert_eq!(
        value,
        json!({"Transfer": {"from": 1, "amount": 9, "to": 4}})
    );
    assert_eq!(BankOp::from_json(&value), Ok(op));
    assert_eq!(BankOp::Balance(Var::at(2)).to_json(), json!({"Balance": 2}));
    assert_eq!(
        BankOp::from_json(&json!({"Balance": 2})),
        Ok(BankOp::Balance(Var::at(2)))
    );
    assert_eq!(BankOp::from_json(&json!("Open")), Ok(BankOp::Open));
}
