//! Arguments that only move together. A store whose delete removes the oldest key instead of the
//! one asked for needs two different keys (a put, a delete of another key, a get of the first),
//! which the minimal program numbers in first-use order (0, then 1); an account that rounds a balance of exactly 1 down to 0 needs a deposit and a
//! withdrawal one apart, which only drop together (to 1 and 0).

use crate::{assert_finds, assert_passes};
use stateprop::prelude::*;
use std::collections::BTreeMap;

#[derive(Debug, Clone, Default)]
pub struct Kv {
    map: BTreeMap<u8, u32>,
    order: Vec<u8>,
}

#[derive(Debug, Clone, StateMachine)]
#[state_machine(model = Kv)]
pub enum KvOp {
    #[rule(weight = 3)]
    Put {
        #[strategy(0..8u8)]
        key: u8,
        #[strategy(0..4u32)]
        value: u32,
    },
    Get {
        #[strategy(0..8u8)]
        key: u8,
    },
    #[rule(precondition = |m: &Kv| !m.map.is_empty())]
    Delete {
        #[strategy(0..8u8)]
        key: u8,
    },
}

impl Model for Kv {
    type Op = KvOp;
    /// Only a get answers, so every failure shows at one.
    type Output = Option<u32>;
    fn step(&mut self, op: &KvOp) -> Option<u32> {
        match *op {
            KvOp::Put { key, value } => {
                if !self.map.contains_key(&key) {
                    self.order.push(key);
                }
                self.map.insert(key, value);
                None
            }
            KvOp::Get { key } => self.map.get(&key).copied(),
            KvOp::Delete { key } => {
                self.order.retain(|&k| k != key);
                self.map.remove(&key);
                None
            }
        }
    }
}

#[derive(Default)]
pub struct FifoKv<const BUGGY: bool>(Kv);

impl<const BUGGY: bool> System<Kv> for FifoKv<BUGGY> {
    fn apply(&mut self, op: &KvOp) -> Option<u32> {
        match *op {
            // The planted bug: delete removes the oldest key instead.
            KvOp::Delete { .. } if BUGGY => {
                if let Some(&oldest) = self.0.order.first() {
                    self.0.step(&KvOp::Delete { key: oldest });
                }
                None
            }
            _ => self.0.step(op),
        }
    }
}

/// The minimal program of the FIFO store, as Rust source per step (the zoo test and the
/// findpower bench compare against it).
pub const EXPECTED_FIFO: &[&str] = &[
    "KvOp::Put { key: 0, value: 0 }",
    "KvOp::Delete { key: 1 }",
    "KvOp::Get { key: 0 }",
];

#[test]
fn keys_are_numbered_in_first_use_order() {
    assert_finds::<Kv, FifoKv<true>>(
        Config::default().ignore_env(),
        EXPECTED_FIFO,
        "postcondition",
    );
}

#[test]
fn correct_fifo_kv_passes() {
    assert_passes::<Kv, FifoKv<false>>(Config::default().ignore_env(), 3000);
}

#[derive(Debug, Clone, Default)]
pub struct Account(u32);

#[derive(Debug, Clone, StateMachine)]
#[state_machine(model = Account)]
pub enum AccountOp {
    Deposit {
        #[strategy(0..20u32)]
        amount: u32,
    },
    #[rule(weight = 2)]
    Withdraw {
        #[strategy(0..20u32)]
        amount: u32,
    },
}

impl Model for Account {
    type Op = AccountOp;
    type Output = Result<u32, u32>;
    fn step(&mut self, op: &AccountOp) -> Result<u32, u32> {
        match *op {
            AccountOp::Deposit { amount } => {
                self.0 += amount;
                Ok(self.0)
            }
            AccountOp::Withdraw { amount } if amount > self.0 => Err(self.0),
            AccountOp::Withdraw { amount } => {
                self.0 -= amount;
                Ok(self.0)
            }
        }
    }
}

#[derive(Default)]
pub struct Bank<const BUGGY: bool>(Account);

impl<const BUGGY: bool> System<Account> for Bank<BUGGY> {
    fn apply(&mut self, op: &AccountOp) -> Result<u32, u32> {
        let out = self.0.step(op);
        // The planted bug: a withdrawal that leaves exactly 1 rounds the balance down.
        if BUGGY && matches!(op, AccountOp::Withdraw { .. }) && out == Ok(1) {
            self.0 .0 = 0;
            return Ok(0);
        }
        out
    }
}

/// The minimal program of the bank, as Rust source per step (the zoo test and the findpower
/// bench compare against it).
pub const EXPECTED_BANK: &[&str] = &[
    "AccountOp::Deposit { amount: 1 }",
    "AccountOp::Withdraw { amount: 0 }",
];

#[test]
fn a_deposit_and_a_withdrawal_drop_together() {
    assert_finds::<Account, Bank<true>>(
        Config::default().ignore_env(),
        EXPECTED_BANK,
        "postcondition",
    );
}

#[test]
fn correct_bank_passes() {
    assert_passes::<Account, Bank<false>>(Config::default().ignore_env(), 3000);
}
