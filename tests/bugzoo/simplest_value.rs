//! Arguments whose simplest value has the longer name: a `bool` (`false`) and an enum whose
//! first variant is `WriteThrough`. Neither matters to the bug (a lost key), so both must end at
//! their strategy's simplest value, not at the value with the shorter text.

use crate::{assert_finds, assert_passes};
use serde::{Deserialize, Serialize};
use stateprop::prelude::*;
use std::collections::BTreeMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Mode {
    WriteThrough,
    Lazy,
}

#[derive(Debug, Clone, Default)]
pub struct Store(BTreeMap<u8, u32>);

#[derive(Debug, Clone, StateMachine)]
#[state_machine(model = Store)]
pub enum StoreOp {
    Put {
        #[strategy(0..8u8)]
        key: u8,
        #[strategy(0..100u32)]
        value: u32,
        sync: bool,
        #[strategy(proptest::prop_oneof![Just(Mode::WriteThrough), Just(Mode::Lazy)])]
        mode: Mode,
    },
    Get {
        #[strategy(0..8u8)]
        key: u8,
    },
}

impl Model for Store {
    type Op = StoreOp;
    type Output = Option<u32>;
    fn step(&mut self, op: &StoreOp) -> Option<u32> {
        match *op {
            StoreOp::Put { key, value, .. } => {
                self.0.insert(key, value);
                None
            }
            StoreOp::Get { key } => self.0.get(&key).copied(),
        }
    }
}

#[derive(Default)]
pub struct Table<const BUGGY: bool>(BTreeMap<u8, u32>);

impl<const BUGGY: bool> System<Store> for Table<BUGGY> {
    fn apply(&mut self, op: &StoreOp) -> Option<u32> {
        match *op {
            // The planted bug: key 3 is never stored, whatever the mode.
            StoreOp::Put { key: 3, .. } if BUGGY => None,
            StoreOp::Put { key, value, .. } => {
                self.0.insert(key, value);
                None
            }
            StoreOp::Get { key } => self.0.get(&key).copied(),
        }
    }
}

/// The minimal program, as Rust source per step (the zoo test and the findpower bench compare
/// against it).
pub const EXPECTED: &[&str] = &[
    "StoreOp::Put { key: 3, value: 0, sync: false, mode: WriteThrough }",
    "StoreOp::Get { key: 3 }",
];

#[test]
fn bool_and_enum_arguments_end_at_their_simplest_values() {
    assert_finds::<Store, Table<true>>(Config::default().ignore_env(), EXPECTED, "postcondition");
}

#[test]
fn correct_table_passes() {
    assert_passes::<Store, Table<false>>(Config::default().ignore_env(), 3000);
}
