//! What the shrinker learns of a candidate: a judgement per call of the property, and the
//! counts it keeps per candidate.

use crate::failure::Failure;

/// How a program fared when judged: whether it failed (and how, the first failure seen), in how
/// many runs, of how many.
///
/// A sequential executor runs a program once ([`Judgement::once`]); a concurrent one may run it
/// several times in one judgement, since a race shows only sometimes.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Judgement {
    /// The first failure seen, or `None` if every run passed.
    pub(crate) failure: Option<Failure>,
    /// Runs made.
    pub(crate) runs: u32,
    /// Runs that failed (at least 1 when `failure` is set).
    pub(crate) failures: u32,
}

impl Judgement {
    /// The judgement of a single run.
    pub(crate) fn once(failure: Option<Failure>) -> Self {
        let failures = u32::from(failure.is_some());
        Judgement {
            failure,
            runs: 1,
            failures,
        }
    }
}

/// How a candidate fared: runs, and runs that failed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) struct Counts {
    pub(super) runs: u32,
    pub(super) failures: u32,
}

/// Adds a judgement's runs to a candidate's counts.
pub(super) fn add(counts: &mut Counts, judgement: &Judgement) {
    let runs = judgement.runs.max(1);
    counts.runs += runs;
    if judgement.failure.is_some() {
        counts.failures += judgement.failures.clamp(1, runs);
    }
}
