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

/// The simplest value `tree`'s strategy makes: the tree simplified as far as it goes.
pub(super) fn simplest_key(tree: &mut dyn ArgTree) -> Key {
    // A value tree may simplify forever in principle; real ones stop within a few hundred steps
    // (a binary search over 128 bits takes 128).
    let mut budget = 4096;
    while budget > 0 && tree.simplify() {
        budget -= 1;
    }
    tree.key()
}

/// Whether `value` is not its argument's simplest value (`simplest` unknown counts as simplest,
/// so arguments the shrinker knows nothing of never weigh in the order).
pub(super) fn weight(value: &Key, simplest: Option<&Key>) -> i64 {
    i64::from(simplest.is_some_and(|s| s != value))
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
