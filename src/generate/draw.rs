//! Fast draws: strategies that take their randomness straight from the case's inline generator.
//!
//! Every call into proptest's `TestRng` goes through several non-inlined layers and costs about
//! 6 ns; a step drawing two arguments spent more time there than in a typical system under test.
//! Integer ranges (`0..8u8`, `1..=100u32`) and stateprop's own strategies ([`pick`],
//! [`boundary_biased`]) implement [`Draw`] and take bits from [`Bits`] instead: the case's
//! SplitMix64 state, or, when a fuzzer drives generation, the runner (so its bytes still steer
//! every choice). Derived code picks `Draw` when the strategy has it and the plain proptest path
//! otherwise, with the same autoref dispatch as the default strategies.
//!
//! [`pick`]: crate::strategy::pick
//! [`boundary_biased`]: crate::strategy::boundary_biased

use super::Gen;
use crate::spec::{Model, RunnerSource};
use proptest::prelude::Rng;
use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::TestRunner;
use std::fmt::Debug;

/// A source of random bits for [`Draw`].
pub struct Bits<'a> {
    state: Option<&'a mut u64>,
    runner: &'a mut dyn RunnerSource,
}

impl<'a> Bits<'a> {
    /// Bits from `state` (SplitMix64) if given, else from the runner's RNG.
    pub fn new(state: Option<&'a mut u64>, runner: &'a mut TestRunner) -> Self {
        Bits { state, runner }
    }

    pub(crate) fn with(state: Option<&'a mut u64>, runner: &'a mut dyn RunnerSource) -> Self {
        Bits { state, runner }
    }

    /// 64 random bits.
    #[inline]
    pub fn u64(&mut self) -> u64 {
        match &mut self.state {
            Some(state) => {
                **state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
                crate::generate::rng::mix(**state)
            }
            None => self.runner.runner().rng().next_u64(),
        }
    }
}

/// A strategy that can draw from [`Bits`] without proptest's runner.
pub trait Draw: Strategy {
    /// The value tree a fast draw makes.
    type FastTree: ValueTree<Value = Self::Value> + 'static;
    /// Draws a value tree; `Err` says why the strategy cannot produce a value.
    fn draw(&self, bits: &mut Bits<'_>) -> Result<Self::FastTree, String>;
}

/// A field's strategy with the field's type `T`, as derived code holds it.
#[doc(hidden)]
pub struct Typed<S, T>(pub S, pub std::marker::PhantomData<T>);

// Derived code calls `(&&&typed).draw_arg(gen, field)`. Method lookup tries `FastArg` first
// (receiver `&&&Typed`, when `S: Draw`), then derefs to `SlowArg` (`&&Typed`, any proptest
// strategy of values `T`), then to `Mismatch` (`&Typed`, no bounds). `Mismatch` is only reached
// when the strategy does not produce `T`, which `__private::arg` has already reported as a
// compile error on the strategy's own tokens; it keeps that mistake from causing a second one.
#[doc(hidden)]
pub trait FastArg<T> {
    fn draw_arg<M: Model>(&self, gen: &mut Gen<'_, M>, field: &str) -> Result<T, String>;
}

impl<S, T> FastArg<T> for &&Typed<S, T>
where
    S: Draw<Value = T>,
    T: Debug + 'static,
{
    #[inline]
    fn draw_arg<M: Model>(&self, gen: &mut Gen<'_, M>, field: &str) -> Result<T, String> {
        gen.fast_arg(field, &self.0)
    }
}

#[doc(hidden)]
pub trait SlowArg<T> {
    fn draw_arg<M: Model>(&self, gen: &mut Gen<'_, M>, field: &str) -> Result<T, String>;
}

impl<S, T> SlowArg<T> for &Typed<S, T>
where
    S: Strategy<Value = T>,
    S::Tree: 'static,
    T: 'static,
{
    #[inline]
    fn draw_arg<M: Model>(&self, gen: &mut Gen<'_, M>, field: &str) -> Result<T, String> {
        gen.arg(field, &self.0)
    }
}

#[doc(hidden)]
pub trait Mismatch<T> {
    fn draw_arg<M: Model>(&self, gen: &mut Gen<'_, M>, field: &str) -> Result<T, String>;
}

impl<S, T> Mismatch<T> for Typed<S, T> {
    fn draw_arg<M: Model>(&self, _gen: &mut Gen<'_, M>, field: &str) -> Result<T, String> {
        Err(format!(
            "the strategy of `{field}` does not produce the field's type"
        ))
    }
}

/// An integer value tree that binary-searches toward the simplest value of its range: 0 when
/// the range holds 0, else the range's end nearest 0 (as proptest's own ranges do).
#[derive(Debug, Clone, Copy)]
pub struct Clamped<T> {
    /// The simplest value.
    target: i128,
    /// +1 when values lie above the target, -1 below.
    sign: i128,
    /// Distances from the target: the binary search's bounds and current point.
    lo: i128,
    curr: i128,
    hi: i128,
    _type: std::marker::PhantomData<T>,
}

impl<T> Clamped<T> {
    #[inline(always)]
    fn new(target: i128, value: i128) -> Self {
        let sign = if value >= target { 1 } else { -1 };
        let distance = (value - target) * sign;
        Clamped {
            target,
            sign,
            lo: 0,
            curr: distance,
            hi: distance,
            _type: std::marker::PhantomData,
        }
    }

    fn reposition(&mut self) -> bool {
        let mid = self.lo + (self.hi - self.lo) / 2;
        if mid == self.curr {
            false
        } else {
            self.curr = mid;
            true
        }
    }
}

macro_rules! int_draw {
    ($($t:ident),*) => {$(
        impl ValueTree for Clamped<$t> {
            type Value = $t;
            #[inline]
            fn current(&self) -> $t {
                (self.target + self.sign * self.curr) as $t
            }
            fn simplify(&mut self) -> bool {
                if self.hi <= self.lo {
                    return false;
                }
                self.hi = self.curr;
                self.reposition()
            }
            fn complicate(&mut self) -> bool {
                if self.hi <= self.lo {
                    return false;
                }
                self.lo = self.curr + 1;
                self.reposition()
            }
        }

        impl Draw for std::ops::Range<$t> {
            type FastTree = Clamped<$t>;
            #[inline(always)]
            fn draw(&self, bits: &mut Bits<'_>) -> Result<Clamped<$t>, String> {
                if self.start >= self.end {
                    return Err(format!("empty range {}..{}", self.start, self.end));
                }
                let (lo, hi) = (self.start as i128, self.end as i128 - 1);
                Ok(draw_between(lo, hi, bits))
            }
        }

        impl Draw for std::ops::RangeInclusive<$t> {
            type FastTree = Clamped<$t>;
            #[inline(always)]
            fn draw(&self, bits: &mut Bits<'_>) -> Result<Clamped<$t>, String> {
                if self.start() > self.end() {
                    return Err(format!("empty range {}..={}", self.start(), self.end()));
                }
                Ok(draw_between(*self.start() as i128, *self.end() as i128, bits))
            }
        }
    )*};
}
// 128-bit ranges are left to proptest: their spans do not fit the arithmetic below.
int_draw!(u8, u16, u32, u64, usize, i8, i16, i32, i64, isize);

/// A uniform value in `lo..=hi` (both within 64-bit types), as a tree shrinking toward the
/// range's simplest value.
// Always inlined, like the `draw`s above: with the range's constant bounds the 128-bit
// arithmetic folds to a multiply and a shift.
#[inline(always)]
fn draw_between<T>(lo: i128, hi: i128, bits: &mut Bits<'_>) -> Clamped<T> {
    let span = (hi - lo) as u128 + 1;
    let value = if span > u128::from(u64::MAX) {
        lo + i128::from(bits.u64())
    } else {
        lo + i128::from(crate::generate::rng::below(bits.u64(), span as u64))
    };
    let target = 0i128.clamp(lo, hi);
    Clamped::new(target, value)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree<S: Draw>(s: &S, seed: u64) -> S::FastTree {
        let mut runner = crate::generate::rng::proptest_runner(seed);
        let mut state = seed;
        s.draw(&mut Bits::new(Some(&mut state), &mut runner))
            .unwrap()
    }

    #[test]
    fn range_draws_stay_in_range_and_cover_it() {
        let mut seen = [false; 8];
        for seed in 0..500 {
            let v = tree(&(3u8..11), seed).current();
            assert!((3..11).contains(&v));
            seen[(v - 3) as usize] = true;
        }
        assert!(seen.iter().all(|&s| s));
        for seed in 0..200 {
            let v = tree(&(-5i32..=5), seed).current();
            assert!((-5..=5).contains(&v));
        }
        let full = tree(&(0..=u64::MAX), 3).current();
        let _ = full;
    }

    #[test]
    fn range_trees_shrink_to_the_simplest_value_in_range() {
        for (range, simplest) in [(10u32..100, 10u32), (0..100, 0)] {
            let mut t = tree(&range, 9);
            while t.simplify() {}
            assert_eq!(t.current(), simplest);
        }
        let mut t = tree(&(-100i64..-10), 4);
        while t.simplify() {}
        assert_eq!(t.current(), -11);
        let mut t = tree(&(-50i16..=50), 8);
        while t.simplify() {}
        assert_eq!(t.current(), 0);
    }

    #[test]
    fn binary_search_finds_the_boundary() {
        // The smallest value >= 37 "fails": simplify while failing, complicate while passing.
        let mut t = tree(&(0u32..1000), 11);
        if t.current() < 37 {
            return;
        }
        loop {
            let moved = if t.current() >= 37 {
                t.simplify()
            } else {
                t.complicate()
            };
            if !moved {
                break;
            }
        }
        assert!(t.current() == 37 || t.current() == 36, "{}", t.current());
    }

    #[test]
    fn empty_ranges_are_errors() {
        let mut runner = crate::generate::rng::proptest_runner(1);
        #[allow(clippy::reversed_empty_ranges)]
        let r = 5u8..5;
        assert!(r.draw(&mut Bits::new(None, &mut runner)).is_err());
    }
}
