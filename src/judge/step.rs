//! The judge of one step: the system's output against the model's, then the invariant.
//!
//! Every executor calls these two, and the sequential fast path calls them inline on every
//! step, so they take references and allocate only when the step fails.

use crate::catch::catch;
use crate::failure::FailureKind;
use crate::spec::{Model, System};

/// The postcondition: `model` (after the step) accepts `actual` where it says `expected`, and
/// follows the system's choice where its specification allows one ([`Model::accept`]). `Ok`
/// carries the output the model stands by, which its `Var`s bind to.
#[inline]
pub(crate) fn postcondition<M: Model>(
    model: &mut M,
    op: &M::Op,
    expected: M::Output,
    actual: &M::Output,
) -> Result<M::Output, FailureKind> {
    model
        .accept(op, expected, actual)
        .map_err(|expected| mismatch(&expected, actual))
}

/// The failure of a postcondition, out of line: rendering it is rare, and its code kept out of
/// the step keeps the step small enough to inline into the runner's loop.
#[cold]
#[inline(never)]
fn mismatch<Out: std::fmt::Debug>(expected: &Out, actual: &Out) -> FailureKind {
    FailureKind::Postcondition {
        expected: format!("{expected:?}"),
        actual: format!("{actual:?}"),
    }
}

/// `System::invariant` after the step; a panic in it is the system's.
#[inline]
pub(crate) fn invariant<M: Model, S: System<M>>(sut: &S, model: &M) -> Result<(), FailureKind> {
    catch(|| invariant_unguarded(sut, model))
        .unwrap_or_else(|message| Err(FailureKind::Panic { message }))
}

/// [`invariant`] for a caller whose unwind guard covers it (and reports a panic as the
/// system's).
#[inline]
pub(crate) fn invariant_unguarded<M: Model, S: System<M>>(
    sut: &S,
    model: &M,
) -> Result<(), FailureKind> {
    sut.invariant(model)
        .map_err(|message| FailureKind::Invariant { message })
}
