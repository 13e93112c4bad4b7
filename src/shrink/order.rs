//! The order of simplicity shrinking descends in. A candidate that changes what a step holds (an
//! argument, a `Var`) is adopted only if it is simpler than the current program, so value trees
//! started afresh from the original values cannot wander back up, and the passes cannot undo one
//! another in a cycle.
//!
//! Shortlex over the program, then over its arguments. Program `a` is simpler than `b` when,
//! compared in this order, the first measure that differs is smaller for `a`:
//!
//! 1. steps in all;
//! 2. steps in branches (a step that can run before the branches start is one less step racing);
//! 3. arguments away from their strategy's simplest value: the value the argument's value tree
//!    reaches by `simplify` alone. This is the strategies' own notion of simpler, not the text's:
//!    `false` is simpler than `true`, and an enum's first variant simpler than the others, however
//!    long their names;
//!    3b. then, for arguments that are not integers, rungs up their ladders: the values a fresh
//!    value tree walked through on its way to the simplest one (see `values`). An enum's union
//!    walks one variant at a time, so its second variant is a rung below its third whatever
//!    their names; a value the walk never passed through counts for nothing here (the text
//!    decides), so arguments whose trees jump (strings, collections) shrink as before;
//! 4. the length of the program's `Debug` text;
//! 5. the `Debug` text itself.
//!
//! Measures 4 and 5 order what the strategies do not: numbers shrink toward 0 ("7" before "12"),
//! and between two programs holding the same values in different places the one whose smaller
//! values come first wins (keys `0, 1, 0` before `1, 0, 1`), which is what canonical arguments
//! are. Every measure is a natural number or a finite text, so the order is well founded and
//! shrinking ends.
//!
//! Measure 3 needs each argument's value and its simplest one, which the shrinker tracks (see
//! `values`); [`simpler_program`] (used where those are not at hand, between programs of
//! different searches) skips it.

use crate::program::Program;

/// Shortlex order on the programs' `Debug` text: fewer steps, then shorter text, then smaller
/// text. Numbers shrink toward 0 under it ("7" before "12"), as do strings and collections.
pub(crate) fn simpler<Op: std::fmt::Debug>(candidate: &[Op], current: &[Op]) -> bool {
    if candidate.len() != current.len() {
        return candidate.len() < current.len();
    }
    let a = format!("{candidate:?}");
    let b = format!("{current:?}");
    (a.len(), a) < (b.len(), b)
}

/// The order of the module doc without measure 3: fewer steps in total; then fewer steps in
/// branches; then [`simpler`]'s shortlex order on the `Debug` text. On sequential programs it
/// is exactly [`simpler`].
pub(crate) fn simpler_program<Op: std::fmt::Debug>(
    candidate: &Program<Op>,
    current: &Program<Op>,
) -> bool {
    simpler_by_values(candidate, current, 0)
}

/// The order of the module doc, given measure 3 as a difference: `away` is how many more
/// arguments of `candidate` than of `current` are away from their simplest value (negative
/// when fewer), or, when as many are, the sign of the rungs climbed (measure 3b).
pub(super) fn simpler_by_values<Op: std::fmt::Debug>(
    candidate: &Program<Op>,
    current: &Program<Op>,
    away: i64,
) -> bool {
    let size = |p: &Program<Op>| (p.len(), p.len() - p.prefix.len());
    if size(candidate) != size(current) {
        return size(candidate) < size(current);
    }
    if away != 0 {
        return away < 0;
    }
    if candidate.branches.is_empty() && current.branches.is_empty() {
        return simpler(&candidate.prefix, &current.prefix);
    }
    let a = format!("{candidate:?}");
    let b = format!("{current:?}");
    (a.len(), a) < (b.len(), b)
}
