//! A boundary argument: a store that cannot hold key 255. Keys use the default strategy, which
//! draws boundary values often enough to hit it.

use crate::{assert_finds, assert_passes};
use stateprop::prelude::*;
use std::collections::BTreeMap;

#[derive(Debug, Clone, Default)]
pub struct Map(BTreeMap<u8, u32>);

#[derive(Debug, Clone, StateMachine)]
#[state_machine(model = Map)]
pub enum MapOp {
    Put { key: u8, value: u32 },
    Get { key: u8 },
}

impl Model for Map {
    type Op = MapOp;
    type Output = Option<u32>;
    fn step(&mut self, op: &MapOp) -> Option<u32> {
        match *op {
            MapOp::Put { key, value } => {
                self.0.insert(key, value);
                None
            }
            MapOp::Get { key } => self.0.get(&key).copied(),
        }
    }
}

/// A table of 255 slots: one short for `u8`.
pub struct Table<const BUGGY: bool> {
    slots: [Option<u32>; 255],
    last: Option<u32>,
}

impl<const BUGGY: bool> Default for Table<BUGGY> {
    fn default() -> Self {
        Table {
            slots: [None; 255],
            last: None,
        }
    }
}

impl<const BUGGY: bool> System<Map> for Table<BUGGY> {
    fn apply(&mut self, op: &MapOp) -> Option<u32> {
        match *op {
            MapOp::Put { key: 255, value } => {
                // The planted bug: key 255 is dropped. The fix keeps it in its own slot.
                if !BUGGY {
                    self.last = Some(value);
                }
                None
            }
            MapOp::Put { key, value } => {
                self.slots[key as usize] = Some(value);
                None
            }
            MapOp::Get { key: 255 } => self.last,
            MapOp::Get { key } => self.slots[key as usize],
        }
    }
}

/// The minimal program, as Rust source per step (the zoo test and the findpower bench compare
/// against it).
pub const EXPECTED: &[&str] = &[
    "MapOp::Put { key: 255, value: 0 }",
    "MapOp::Get { key: 255 }",
];

#[test]
fn finds_the_boundary_key() {
    assert_finds::<Map, Table<true>>(
        Config::default().ignore_env().cases(1000),
        EXPECTED,
        "postcondition",
    );
}

#[test]
fn correct_table_passes() {
    assert_passes::<Map, Table<false>>(Config::default().ignore_env(), 3000);
}
