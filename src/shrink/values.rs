//! What the shrinker knows of argument values without knowing their types: each argument's
//! current value and its strategy's simplest value (as a type and `Debug` text, the key value
//! trees give), and, for integers, the number itself.
//!
//! The derived `set_arg` reads a value from any value tree of the field's type, so an integer
//! argument can be set to a number no strategy tree is at: a one-value tree
//! ([`Just`](proptest::strategy::Just)) of that type carries it. That is what lets the
//! canonicalization passes renumber and lower values jointly.

use crate::generate::{ArgTree, TreeBox};
use proptest::strategy::Just;
use std::any::TypeId;

/// An argument value: its type and its `Debug` text.
pub(super) type Key = (TypeId, String);

/// What the shrinker knows of an argument's strategy: its simplest value, and, for a type that
/// is not an integer, the values `simplify` walked through on the way there from the value first
/// drawn (its ladder, simplest first). The ladder is the strategy's own order of simplicity
/// where it has no numbers: an enum's union shrinks one variant at a time, so `Green` stands a
/// rung below `Blue` however their names compare.
pub(super) struct Simplest {
    pub(super) key: Key,
    ladder: Vec<Key>,
    /// A value tree at the simplest value, for the canonical passes to read it from.
    pub(super) tree: Box<dyn ArgTree>,
}

impl Simplest {
    /// How many rungs above the simplest value `value` stands, if it is on the ladder.
    pub(super) fn rank(&self, value: &Key) -> Option<usize> {
        self.ladder.iter().position(|k| k == value)
    }
}

/// The simplest value `tree`'s strategy makes (the tree simplified as far as it goes), with the
/// ladder of values on the way for a non-integer.
pub(super) fn simplest_of(mut tree: Box<dyn ArgTree>) -> Simplest {
    let first = tree.key();
    // Integers have their own canonical passes, which need no ladder; a binary search's stops
    // say little about which number is simpler.
    let mut ladder = if int_of(&first).is_none() {
        vec![first]
    } else {
        Vec::new()
    };
    // A value tree may simplify forever in principle; real ones stop within a few hundred steps
    // (a binary search over 128 bits takes 128).
    let mut budget = 4096;
    while budget > 0 && tree.simplify() {
        budget -= 1;
        if !ladder.is_empty() {
            ladder.push(tree.key());
        }
    }
    ladder.reverse();
    let mut seen = Vec::with_capacity(ladder.len());
    ladder.retain(|k| {
        let new = !seen.contains(k);
        if new {
            seen.push(k.clone());
        }
        new
    });
    Simplest {
        key: tree.key(),
        ladder,
        tree,
    }
}

/// Whether `value` is not its argument's simplest value (`simplest` unknown counts as simplest,
/// so arguments the shrinker knows nothing of never weigh in the order).
pub(super) fn weight(value: &Key, simplest: Option<&Simplest>) -> i64 {
    i64::from(simplest.is_some_and(|s| s.key != *value))
}

/// How many rungs of its ladder an argument climbs from `old` to `new` (negative when it
/// descends); 0 unless both are on the ladder, so values the strategy never walked through are
/// left to the text (measure 3b of `order`).
pub(super) fn climb(old: &Key, new: &Key, simplest: Option<&Simplest>) -> i64 {
    match simplest.map(|s| (s.rank(old), s.rank(new))) {
        Some((Some(o), Some(n))) => n as i64 - o as i64,
        _ => 0,
    }
}

macro_rules! integers {
    ($($t:ty),*) => {
        /// The number an integer argument holds, if `key` is of a primitive integer type.
        pub(super) fn int_of(key: &Key) -> Option<i128> {
            $(
                if key.0 == TypeId::of::<$t>() {
                    return key.1.parse::<$t>().ok().map(i128::from);
                }
            )*
            None
        }

        /// A value tree of the integer type `ty` holding `value` (for `set_arg`), and its key;
        /// `None` if `ty` is no primitive integer type or `value` does not fit it.
        pub(super) fn int_tree(ty: TypeId, value: i128) -> Option<(Box<dyn ArgTree>, Key)> {
            $(
                if ty == TypeId::of::<$t>() {
                    let v = <$t>::try_from(value).ok()?;
                    let tree: Box<dyn ArgTree> = Box::new(TreeBox::<$t>(Box::new(Just(v))));
                    return Some((tree, (ty, format!("{v:?}"))));
                }
            )*
            None
        }
    };
}

// `usize` and `isize` are left out: `i128::from` does not take them, and programs rarely draw
// them as small-domain arguments.
integers!(u8, u16, u32, u64, i8, i16, i32, i64);

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;

    fn key_of<T: std::fmt::Debug + 'static>(v: T) -> Key {
        (TypeId::of::<T>(), format!("{v:?}"))
    }

    #[test]
    fn a_union_walks_its_ladder_one_variant_at_a_time_and_an_integer_has_none() {
        let colours = prop_oneof![Just('r'), Just('g'), Just('b'), Just('y')];
        let mut runner = TestRunner::deterministic();
        let tree = loop {
            let tree = colours.new_tree(&mut runner).unwrap();
            if tree.current() == 'y' {
                break tree;
            }
        };
        let s = simplest_of(Box::new(TreeBox::<char>(Box::new(tree))));
        assert_eq!(s.key, key_of('r'));
        let ranks: Vec<_> = "rgby".chars().map(|c| s.rank(&key_of(c))).collect();
        assert_eq!(ranks, [Some(0), Some(1), Some(2), Some(3)]);
        // Up the ladder is worse, down is better; off it, nothing is said.
        assert_eq!(climb(&key_of('b'), &key_of('g'), Some(&s)), -1);
        assert_eq!(climb(&key_of('g'), &key_of('y'), Some(&s)), 2);
        assert_eq!(climb(&key_of('g'), &key_of('q'), Some(&s)), 0);

        let s = simplest_of(Box::new(TreeBox::<u8>(Box::new(Just(9u8)))));
        assert_eq!((&s.key, s.rank(&key_of(9u8))), (&key_of(9u8), None));
    }
}
