//! The order shrinking descends in: a candidate that replaces a step must be simpler than the
//! current program under it, so fresh value trees cannot wander back up.

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

/// The order candidates must descend in, for programs of any shape: fewer steps in total; then
/// fewer steps in branches (a step that can run before the branches start is one less step
/// racing, and one less interleaving to read); then [`simpler`]'s shortlex order on the `Debug`
/// text. On sequential programs it is exactly [`simpler`].
pub(crate) fn simpler_program<Op: std::fmt::Debug>(
    candidate: &Program<Op>,
    current: &Program<Op>,
) -> bool {
    if candidate.branches.is_empty() && current.branches.is_empty() {
        return simpler(&candidate.prefix, &current.prefix);
    }
    let size = |p: &Program<Op>| (p.len(), p.len() - p.prefix.len());
    if size(candidate) != size(current) {
        return size(candidate) < size(current);
    }
    let a = format!("{candidate:?}");
    let b = format!("{current:?}");
    (a.len(), a) < (b.len(), b)
}
