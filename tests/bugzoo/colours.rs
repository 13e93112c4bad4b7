//! Keys that are not integers: the store of `canonical` (a delete that removes the oldest key
//! instead of the one asked for), keyed by a colour (a user enum) or a one-letter name (a
//! `String`). The failure needs two different keys, and only a canonical pass can put them in
//! first-use order: lowering one key alone merges it with the other and loses the failure, so
//! without renumbering or swapping for non-integers the shrunk program names the keys in
//! whatever order the generator drew them.

use crate::{assert_finds, assert_passes};
use proptest_derive::Arbitrary;
use stateprop::prelude::*;
use stateprop::ToRust;
use std::collections::BTreeMap;

/// A colour: its strategy (derived `Arbitrary`) shrinks toward the first variant, one variant
/// at a time.
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
pub enum Colour {
    Red,
    Green,
    Blue,
    Yellow,
}

impl ToRust for Colour {
    fn to_rust(&self) -> String {
        format!("Colour::{self:?}")
    }
}

/// The key-value store both machines share, over a key type `K`.
#[derive(Debug, Clone)]
pub struct Store<K> {
    map: BTreeMap<K, u32>,
    order: Vec<K>,
}

impl<K> Default for Store<K> {
    fn default() -> Self {
        Store {
            map: BTreeMap::new(),
            order: Vec::new(),
        }
    }
}

impl<K: Ord + Clone> Store<K> {
    fn put(&mut self, key: &K, value: u32) -> Option<u32> {
        if !self.map.contains_key(key) {
            self.order.push(key.clone());
        }
        self.map.insert(key.clone(), value);
        None
    }

    fn delete(&mut self, key: &K) -> Option<u32> {
        self.order.retain(|k| k != key);
        self.map.remove(key);
        None
    }

    /// The planted bug: delete removes the oldest key instead of the one asked for.
    fn delete_oldest(&mut self) -> Option<u32> {
        if let Some(oldest) = self.order.first().cloned() {
            self.delete(&oldest);
        }
        None
    }
}

#[derive(Debug, Clone, Default)]
pub struct Palette(Store<Colour>);

#[derive(Debug, Clone, StateMachine)]
#[state_machine(model = Palette)]
pub enum PaletteOp {
    #[rule(weight = 3)]
    Put {
        colour: Colour,
        #[strategy(0..4u32)]
        value: u32,
    },
    Get {
        colour: Colour,
    },
    #[rule(precondition = |m: &Palette| !m.0.map.is_empty())]
    Delete {
        colour: Colour,
    },
}

impl Model for Palette {
    type Op = PaletteOp;
    type Output = Option<u32>;
    fn step(&mut self, op: &PaletteOp) -> Option<u32> {
        match op {
            PaletteOp::Put { colour, value } => self.0.put(colour, *value),
            PaletteOp::Get { colour } => self.0.map.get(colour).copied(),
            PaletteOp::Delete { colour } => self.0.delete(colour),
        }
    }
}

#[derive(Default)]
pub struct FifoPalette<const BUGGY: bool>(Palette);

impl<const BUGGY: bool> System<Palette> for FifoPalette<BUGGY> {
    fn apply(&mut self, op: &PaletteOp) -> Option<u32> {
        match op {
            PaletteOp::Delete { .. } if BUGGY => self.0 .0.delete_oldest(),
            _ => self.0.step(op),
        }
    }
}

/// The expected minimal program, keyed by colour.
pub const EXPECTED_PALETTE: &[&str] = &[
    "PaletteOp::Put { colour: Colour::Red, value: 0 }",
    "PaletteOp::Delete { colour: Colour::Green }",
    "PaletteOp::Get { colour: Colour::Red }",
];

#[test]
fn colours_are_renumbered_in_first_use_order() {
    assert_finds::<Palette, FifoPalette<true>>(
        Config::default().ignore_env(),
        EXPECTED_PALETTE,
        "postcondition",
    );
}

#[test]
fn correct_fifo_palette_passes() {
    assert_passes::<Palette, FifoPalette<false>>(Config::default().ignore_env(), 3000);
}

#[derive(Debug, Clone, Default)]
pub struct Names(Store<String>);

#[derive(Debug, Clone, StateMachine)]
#[state_machine(model = Names)]
pub enum NamesOp {
    #[rule(weight = 3)]
    Put {
        #[strategy("[a-d]")]
        name: String,
        #[strategy(0..4u32)]
        value: u32,
    },
    Get {
        #[strategy("[a-d]")]
        name: String,
    },
    #[rule(precondition = |m: &Names| !m.0.map.is_empty())]
    Delete {
        #[strategy("[a-d]")]
        name: String,
    },
}

impl Model for Names {
    type Op = NamesOp;
    type Output = Option<u32>;
    fn step(&mut self, op: &NamesOp) -> Option<u32> {
        match op {
            NamesOp::Put { name, value } => self.0.put(name, *value),
            NamesOp::Get { name } => self.0.map.get(name).copied(),
            NamesOp::Delete { name } => self.0.delete(name),
        }
    }
}

#[derive(Default)]
pub struct FifoNames<const BUGGY: bool>(Names);

impl<const BUGGY: bool> System<Names> for FifoNames<BUGGY> {
    fn apply(&mut self, op: &NamesOp) -> Option<u32> {
        match op {
            NamesOp::Delete { .. } if BUGGY => self.0 .0.delete_oldest(),
            _ => self.0.step(op),
        }
    }
}

/// The expected minimal program, keyed by name.
pub const EXPECTED_NAMES: &[&str] = &[
    "NamesOp::Put { name: String::from(\"a\"), value: 0 }",
    "NamesOp::Delete { name: String::from(\"b\") }",
    "NamesOp::Get { name: String::from(\"a\") }",
];

#[test]
fn names_are_renumbered_in_first_use_order() {
    assert_finds::<Names, FifoNames<true>>(
        Config::default().ignore_env(),
        EXPECTED_NAMES,
        "postcondition",
    );
}

#[test]
fn correct_fifo_names_passes() {
    assert_passes::<Names, FifoNames<false>>(Config::default().ignore_env(), 3000);
}
