//! A step that must repeat an earlier one. A payment service drops a charge as a double submit
//! when its checksum equals the previous charge's; the checksum is weak (account and amount
//! added up), so two different charges collide as often as two equal ones do. The specification
//! counts every charge, equal or not. The generator mostly finds colliding charges that differ,
//! and the passes that move one argument at a time, or renumber values apart, stop at a pair
//! like `Charge(Red, 1)` then `Charge(Blue, 3)`: lowering either argument of the second charge
//! alone breaks the collision. Replacing the second charge by a copy of the first keeps it,
//! which is the minimal program: the simplest charge, twice.

use crate::{assert_finds, assert_passes};
use proptest_derive::Arbitrary;
use stateprop::prelude::*;
use stateprop::ToRust;
use std::collections::BTreeMap;

#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Arbitrary,
    serde::Serialize,
    serde::Deserialize,
)]
pub enum Account {
    Red,
    Green,
    Blue,
    Yellow,
}

impl ToRust for Account {
    fn to_rust(&self) -> String {
        format!("Account::{self:?}")
    }
}

#[derive(Debug, Clone, Default)]
pub struct Ledger {
    balances: BTreeMap<Account, u32>,
}

#[derive(Debug, Clone, StateMachine)]
#[state_machine(model = Ledger)]
pub enum PayOp {
    #[rule(weight = 3)]
    Charge {
        account: Account,
        // Charges are positive, so a dropped one always shows.
        #[strategy(1..5u32)]
        amount: u32,
    },
    Balance {
        account: Account,
    },
}

impl Model for Ledger {
    type Op = PayOp;
    type Output = u32;
    fn step(&mut self, op: &PayOp) -> u32 {
        match *op {
            PayOp::Charge { account, amount } => {
                let balance = self.balances.entry(account).or_default();
                *balance += amount;
                *balance
            }
            PayOp::Balance { account } => self.balances.get(&account).copied().unwrap_or(0),
        }
    }
}

/// The service: the ledger, and the checksum of the last charge.
#[derive(Default)]
pub struct Payments<const BUGGY: bool> {
    ledger: Ledger,
    last: Option<u32>,
}

impl<const BUGGY: bool> System<Ledger> for Payments<BUGGY> {
    fn apply(&mut self, op: &PayOp) -> u32 {
        if let PayOp::Charge { account, amount } = *op {
            let checksum = (account as u32 + amount) % 4;
            let repeated = self.last.replace(checksum) == Some(checksum);
            // The planted bug: a charge whose checksum repeats is dropped as a double submit;
            // the fix is to apply every charge (drop this branch).
            if BUGGY && repeated {
                return self.ledger.balances.get(&account).copied().unwrap_or(0);
            }
        }
        self.ledger.step(op)
    }
}

/// The expected minimal program.
pub const EXPECTED: &[&str] = &[
    "PayOp::Charge { account: Account::Red, amount: 1 }",
    "PayOp::Charge { account: Account::Red, amount: 1 }",
];

#[test]
fn a_charge_shrinks_to_a_copy_of_the_one_before() {
    assert_finds::<Ledger, Payments<true>>(
        Config::default().ignore_env(),
        EXPECTED,
        "postcondition",
    );
}

#[test]
fn correct_payments_pass() {
    assert_passes::<Ledger, Payments<false>>(Config::default().ignore_env(), 3000);
}
