//! Which earlier results a `#[consumes]` field has used up, so no later step may name them.

use crate::program::StepId;

/// The results of earlier steps that a `#[consumes]` `Var` field has used up (a closed handle),
/// by their position among the outputs a step sees: a prefix step's index, then (in a branch)
/// the prefix's length plus the index within the branch — the positions [`Gen`](crate::generate::Gen)
/// and [`StateMachine::enabled`](crate::StateMachine::enabled) number outputs by.
///
/// Generation, validation and the shrinker's repair keep one per sequence they replay; a
/// derived machine reads it in
/// [`StateMachine::enabled_among`](crate::StateMachine::enabled_among).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Consumed {
    bits: Vec<u64>,
}

impl Consumed {
    /// Nothing consumed: what a machine without `#[consumes]` fields always sees.
    pub const NONE: &'static Consumed = &Consumed { bits: Vec::new() };

    /// Whether the output at `position` is used up.
    #[inline]
    pub fn contains(&self, position: usize) -> bool {
        self.bits
            .get(position / 64)
            .is_some_and(|word| (word >> (position % 64)) & 1 == 1)
    }

    /// Marks the output at `position` used up.
    pub fn insert(&mut self, position: usize) {
        let word = position / 64;
        if self.bits.len() <= word {
            self.bits.resize(word + 1, 0);
        }
        self.bits[word] |= 1 << (position % 64);
    }

    /// Whether nothing is used up.
    pub fn is_empty(&self) -> bool {
        self.bits.iter().all(|&w| w == 0)
    }

    /// The position of step `id` among the outputs a step sees, where the prefix has `prefix`
    /// steps (a prefix step's index; a branch step's index after the prefix).
    #[inline]
    pub(crate) fn position(id: StepId, prefix: usize) -> usize {
        match id.branch {
            None => id.index as usize,
            Some(_) => prefix.saturating_add(id.index as usize),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_past_one_word_are_kept_apart() {
        let mut c = Consumed::default();
        assert!(c.is_empty() && !c.contains(0) && !c.contains(200));
        c.insert(3);
        c.insert(130);
        assert!(c.contains(3) && c.contains(130));
        assert!(!c.contains(2) && !c.contains(66) && !c.contains(131) && !c.contains(4000));
        assert!(!c.is_empty());
        assert_eq!(Consumed::position(StepId::in_branch(1, 2), 5), 7);
        assert_eq!(Consumed::position(StepId::prefix(4), 5), 4);
    }
}
