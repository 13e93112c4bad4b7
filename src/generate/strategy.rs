//! Default strategies for fields that name none.
//!
//! Integer fields draw a boundary value (0, 1, -1, MIN, MAX and their neighbours) one time in
//! four and a uniform value otherwise, because off-by-one and overflow bugs live at the edges and
//! a uniform `u32` almost never lands there. They shrink toward 0 by binary search, like
//! proptest's own integers. Every other type uses its proptest `Arbitrary` strategy.

pub use super::support::Makes;
use super::{Bits, Draw};
use proptest::strategy::{NewTree, Strategy};
use proptest::test_runner::TestRunner;
use std::marker::PhantomData;

/// An integer strategy biased toward boundary values.
#[derive(Debug, Clone, Copy, Default)]
pub struct Boundary<T>(PhantomData<T>);

/// Integers with a quarter of the draws on boundary values; see the module docs.
pub fn boundary_biased<T>() -> Boundary<T> {
    Boundary(PhantomData)
}

macro_rules! boundary_int {
    ($($t:ident),*) => {$(
        impl Draw for Boundary<$t> {
            type FastTree = proptest::num::$t::BinarySearch;
            #[inline(always)]
            fn draw(&self, bits: &mut Bits<'_>) -> Result<Self::FastTree, String> {
                const EDGES: &[$t] = &[
                    0, 1, 2, $t::MAX, $t::MAX - 1, $t::MIN, $t::MIN.wrapping_add(1),
                    $t::MAX / 2, ($t::MAX / 2).wrapping_add(1), (0 as $t).wrapping_sub(1),
                ];
                let first = bits.u64();
                let value = if first & 3 == 0 {
                    EDGES[((first >> 2) % EDGES.len() as u64) as usize]
                } else if std::mem::size_of::<$t>() <= 4 {
                    // The high half of the same draw, independent of the low bits used above.
                    (first >> 32) as $t
                } else {
                    // Uniform over the type: one or two more draws.
                    let low = u128::from(bits.u64());
                    let wide = if std::mem::size_of::<$t>() > 8 {
                        low | (u128::from(bits.u64()) << 64)
                    } else {
                        low
                    };
                    wide as $t
                };
                Ok(proptest::num::$t::BinarySearch::new(value))
            }
        }

        impl Strategy for Boundary<$t> {
            type Tree = proptest::num::$t::BinarySearch;
            type Value = $t;
            fn new_tree(&self, runner: &mut TestRunner) -> NewTree<Self> {
                Ok(self.draw(&mut Bits::new(None, runner)).expect("boundary draws cannot fail"))
            }
        }
    )*};
}
boundary_int!(u8, u16, u32, u64, u128, usize, i8, i16, i32, i64, i128, isize);

/// One element of a collection the model holds, chosen uniformly, without copying the collection.
///
/// `#[strategy(|m: &Kv| pick(m.map.keys().copied()))]` picks an existing key. proptest's `select`
/// needs an owned `Vec` (built on every step); this walks the iterator instead. It shrinks to the
/// first element. An empty collection makes generation fail with a clear error, so guard the rule
/// with a precondition.
pub fn pick<I>(items: I) -> Pick<I>
where
    I: Iterator + Clone + std::fmt::Debug,
    I::Item: Clone + std::fmt::Debug + 'static,
{
    Pick(items)
}

/// See [`pick`].
#[derive(Debug, Clone)]
pub struct Pick<I>(I);

impl<I: Clone> Pick<I> {
    /// The collection's elements, from the start.
    pub(crate) fn items(&self) -> I {
        self.0.clone()
    }
}

impl<I> Strategy for Pick<I>
where
    I: Iterator + Clone + std::fmt::Debug,
    I::Item: Clone + std::fmt::Debug + 'static,
{
    type Tree = PickTree<I::Item>;
    type Value = I::Item;

    fn new_tree(&self, runner: &mut TestRunner) -> NewTree<Self> {
        self.draw(&mut Bits::new(None, runner)).map_err(Into::into)
    }
}

impl<I> Draw for Pick<I>
where
    I: Iterator + Clone + std::fmt::Debug,
    I::Item: Clone + std::fmt::Debug + 'static,
{
    type FastTree = PickTree<I::Item>;

    #[inline(always)]
    fn draw(&self, bits: &mut Bits<'_>) -> Result<PickTree<I::Item>, String> {
        // Collections' iterators know their length; others are counted.
        let count = match self.0.size_hint() {
            (low, Some(high)) if low == high => low,
            _ => self.0.clone().count(),
        };
        if count == 0 {
            return Err(
                "`pick` from an empty collection: guard the rule with a precondition".into(),
            );
        }
        let index = crate::generate::rng::below(bits.u64(), count as u64) as usize;
        let mut items = self.0.clone();
        let first = items.next().expect("counted");
        let current = if index == 0 {
            first.clone()
        } else {
            items.nth(index - 1).expect("counted")
        };
        Ok(PickTree {
            current,
            first,
            at_first: index == 0,
            done: index == 0,
        })
    }
}

/// The value tree of [`pick`]: the chosen element, shrinking to the first.
#[derive(Debug, Clone)]
pub struct PickTree<T> {
    current: T,
    first: T,
    at_first: bool,
    /// Nothing left to try: started at the first element, or went back from it.
    done: bool,
}

impl<T: Clone + std::fmt::Debug> proptest::strategy::ValueTree for PickTree<T> {
    type Value = T;
    fn current(&self) -> T {
        if self.at_first {
            self.first.clone()
        } else {
            self.current.clone()
        }
    }
    fn simplify(&mut self) -> bool {
        if self.done || self.at_first {
            return false;
        }
        self.at_first = true;
        true
    }
    fn complicate(&mut self) -> bool {
        if self.done || !self.at_first {
            return false;
        }
        self.at_first = false;
        self.done = true;
        true
    }
}

// Derived code picks a field's default strategy with `(&DefaultFor::<T>::new()).default_strategy()`:
// the receiver `&DefaultFor<T>` matches `BoundaryDefault` (integers only); for every other type,
// method lookup auto-refs to `&&DefaultFor<T>` and finds `ArbitraryDefault`.
#[doc(hidden)]
pub struct DefaultFor<T>(PhantomData<T>);

impl<T> DefaultFor<T> {
    #[doc(hidden)]
    pub fn new() -> Self {
        DefaultFor(PhantomData)
    }
}

impl<T> Default for DefaultFor<T> {
    fn default() -> Self {
        Self::new()
    }
}

#[doc(hidden)]
pub trait BoundaryDefault {
    type S: Strategy;
    fn default_strategy(&self) -> Self::S;
}

macro_rules! boundary_default {
    ($($t:ident),*) => {$(
        impl BoundaryDefault for DefaultFor<$t> {
            type S = Boundary<$t>;
            fn default_strategy(&self) -> Boundary<$t> { boundary_biased() }
        }
    )*};
}
boundary_default!(u8, u16, u32, u64, u128, usize, i8, i16, i32, i64, i128, isize);

#[doc(hidden)]
pub trait ArbitraryDefault {
    type S: Strategy;
    fn default_strategy(&self) -> Self::S;
}

impl<T: proptest::arbitrary::Arbitrary> ArbitraryDefault for &DefaultFor<T> {
    type S = T::Strategy;
    fn default_strategy(&self) -> T::Strategy {
        proptest::arbitrary::any::<T>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::strategy::ValueTree;

    #[test]
    fn pick_chooses_every_element_and_shrinks_to_the_first() {
        let items = [3u8, 5, 9];
        let mut runner = crate::generate::rng::proptest_runner(3);
        let mut seen = std::collections::BTreeSet::new();
        for _ in 0..200 {
            let mut tree = pick(items.iter().copied()).new_tree(&mut runner).unwrap();
            seen.insert(tree.current());
            let was = tree.current();
            if was != 3 {
                assert!(tree.simplify());
                assert_eq!(tree.current(), 3);
                assert!(tree.complicate());
                assert_eq!(tree.current(), was);
                assert!(!tree.simplify());
            } else {
                assert!(!tree.simplify());
            }
        }
        assert_eq!(seen.len(), 3);
        let empty: Vec<u8> = Vec::new();
        let empty_pick = pick(empty.iter().copied());
        assert!(empty_pick.new_tree(&mut runner).is_err());
    }

    #[test]
    fn boundary_values_come_up_often_and_shrink_to_zero() {
        let mut runner = crate::generate::rng::proptest_runner(7);
        let s = boundary_biased::<u8>();
        let draws: Vec<u8> = (0..400)
            .map(|_| s.new_tree(&mut runner).unwrap().current())
            .collect();
        let max = draws.iter().filter(|&&v| v == u8::MAX).count();
        assert!(max >= 5, "255 drawn {max} times in 400");
        let mut tree = s.new_tree(&mut runner).unwrap();
        while tree.simplify() {}
        assert_eq!(tree.current(), 0);
    }

    #[test]
    #[allow(clippy::needless_borrow)] // the borrow is what selects the fallback impl
    fn defaults_pick_boundary_for_integers_and_any_otherwise() {
        #[allow(unused_imports)]
        use super::{ArbitraryDefault as _, BoundaryDefault as _};
        let ints = (&DefaultFor::<u32>::new()).default_strategy();
        let _: Boundary<u32> = ints;
        let strings = (&DefaultFor::<bool>::new()).default_strategy();
        let mut runner = crate::generate::rng::proptest_runner(1);
        let _: bool = strings.new_tree(&mut runner).unwrap().current();
    }
}
