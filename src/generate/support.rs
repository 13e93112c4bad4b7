//! What a strategy can make: its support, where stateprop can tell.
//!
//! A strategy that reads the model (`#[strategy(|m: &Kv| pick(m.map.keys().copied()))]`) makes
//! different values in different states. Once shrinking changes an earlier step (a put's key
//! lowered from 6 to 0), a later step's argument may be one its strategy can no longer make (a
//! delete of key 6, which no longer exists): a program the generator could never have made, whose
//! failure may be no bug at all (a store that panics on deleting a missing key by contract). So
//! the shrinker's repair makes such an argument follow the model: if its strategy, in the state
//! the step now runs in, cannot make the value, the value becomes the strategy's simplest one
//! there (the first key). That is also how values tied to the model shrink together: with the
//! put's key at 0, the delete's becomes 0 too.
//!
//! [`Makes`] says whether a strategy makes a value. It is known for [`pick`](super::strategy::pick)
//! (element types with `PartialEq`), integer and `char` ranges, and `Just`, and a user may
//! implement it for a strategy of their own; other strategies cannot tell, and their arguments
//! keep their values (derived code dispatches with the autoref probe `Follow`).

use super::strategy::Pick;
use proptest::strategy::{Just, Strategy, ValueTree};
use proptest::test_runner::TestRunner;
use std::ops::{Range, RangeInclusive};

/// A strategy that can tell whether it makes a value.
pub trait Makes<V> {
    /// Whether some draw of this strategy is `value`.
    fn makes(&self, value: &V) -> bool;
}

impl<I> Makes<I::Item> for Pick<I>
where
    I: Iterator + Clone + std::fmt::Debug,
    I::Item: PartialEq + Clone + std::fmt::Debug + 'static,
{
    fn makes(&self, value: &I::Item) -> bool {
        self.items().any(|item| item == *value)
    }
}

macro_rules! ranges {
    ($($t:ty),*) => {$(
        impl Makes<$t> for Range<$t> {
            fn makes(&self, value: &$t) -> bool {
                self.contains(value)
            }
        }

        impl Makes<$t> for RangeInclusive<$t> {
            fn makes(&self, value: &$t) -> bool {
                self.contains(value)
            }
        }
    )*};
}
ranges!(u8, u16, u32, u64, u128, usize, i8, i16, i32, i64, i128, isize, char);

impl<T: PartialEq + Clone + std::fmt::Debug> Makes<T> for Just<T> {
    fn makes(&self, value: &T) -> bool {
        self.0 == *value
    }
}

/// The simplest value `strategy` makes: a tree drawn and simplified as far as it goes. `None`
/// if it makes nothing (a `pick` from an empty collection).
pub fn simplest_of<S: Strategy>(strategy: &S) -> Option<S::Value> {
    let mut runner = TestRunner::deterministic();
    let mut tree = strategy.new_tree(&mut runner).ok()?;
    // Real trees stop within a few hundred steps (a binary search over 128 bits takes 128).
    let mut budget = 4096;
    while budget > 0 && tree.simplify() {
        budget -= 1;
    }
    Some(tree.current())
}

// Derived code calls `(&mut Follow(&strategy, &mut value)).__follow()`. Method lookup tries the
// receiver `&mut Follow` first, where only `FollowKnown` applies (when the strategy makes values
// of the argument's type and implements `Makes`); failing that it auto-refs to `&mut &mut Follow`,
// where `FollowUnknown` leaves the value alone.
#[doc(hidden)]
pub struct Follow<'a, S, T>(pub &'a S, pub &'a mut T);

#[doc(hidden)]
pub trait FollowKnown {
    fn __follow(&mut self) -> bool;
}

impl<S: Strategy<Value = T> + Makes<T>, T> FollowKnown for Follow<'_, S, T> {
    fn __follow(&mut self) -> bool {
        if self.0.makes(self.1) {
            return true;
        }
        match simplest_of(self.0) {
            Some(value) => {
                *self.1 = value;
                true
            }
            None => false,
        }
    }
}

#[doc(hidden)]
pub trait FollowUnknown {
    fn __follow(&mut self) -> bool;
}

impl<S, T> FollowUnknown for &mut Follow<'_, S, T> {
    fn __follow(&mut self) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::generate::strategy::pick;

    /// The value after following `strategy`, and whether the strategy made anything.
    fn follow<S, T>(strategy: &S, mut value: T) -> (T, bool)
    where
        S: Strategy<Value = T> + Makes<T>,
    {
        #[allow(clippy::needless_borrow)] // the borrow picks the dispatch
        let made = (&mut Follow(strategy, &mut value)).__follow();
        (value, made)
    }

    #[test]
    fn a_value_the_strategy_still_makes_stays_and_another_becomes_the_simplest() {
        let keys = [3u8, 5, 8];
        assert_eq!(follow(&pick(keys.iter().copied()), 5), (5, true));
        assert_eq!(follow(&pick(keys.iter().copied()), 4), (3, true));
        assert_eq!(follow(&(2..4u32), 4), (2, true));
        assert_eq!(follow(&(0..=4u32), 4), (4, true));
        assert_eq!(follow(&Just(7i64), 7), (7, true));
        assert_eq!(follow(&pick(std::iter::empty::<u8>()), 4), (4, false));
    }

    #[test]
    fn a_strategy_that_cannot_tell_leaves_the_value_alone() {
        let any = proptest::arbitrary::any::<u8>();
        let mut value = 200u8;
        assert!((&mut Follow(&any, &mut value)).__follow());
        assert_eq!(value, 200);
        // Elements without `PartialEq` cannot be compared: the value stays.
        #[derive(Clone, Debug)]
        struct Opaque(u8);
        let items = [Opaque(1)];
        let mut value = Opaque(9);
        assert!((&mut Follow(&pick(items.iter().cloned()), &mut value)).__follow());
        assert_eq!(value.0, 9);
    }

    #[test]
    fn the_simplest_value_is_the_first_element_or_the_range_start() {
        let keys = [3u8, 5, 8];
        assert_eq!(simplest_of(&pick(keys.iter().copied())), Some(3));
        assert_eq!(simplest_of(&(2..9u32)), Some(2));
        assert_eq!(simplest_of(&pick(std::iter::empty::<u8>())), None);
    }
}
