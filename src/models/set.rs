//! A set of integers: insert, remove, membership, and a read of the whole set.

use crate::{Model, StateMachine};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// An operation on a set.
#[derive(Debug, Clone, PartialEq, Eq, Hash, StateMachine, Serialize, Deserialize)]
#[state_machine(model = SetModel)]
pub enum SetOp {
    /// Insert a value; answers whether it was newly inserted.
    Insert {
        /// The value.
        #[strategy(0..5i64)]
        value: i64,
    },
    /// Remove a value; answers whether it was present.
    Remove {
        /// The value.
        #[strategy(0..5i64)]
        value: i64,
    },
    /// Whether a value is present.
    Contains {
        /// The value.
        #[strategy(0..5i64)]
        value: i64,
    },
    /// Read every value, in increasing order.
    Read,
}

/// What a set operation returns.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum SetOut {
    /// An insert's "newly inserted", a remove's "was present", a contains' "is present".
    Bool(bool),
    /// A read's values, in increasing order.
    Values(Vec<i64>),
}

/// A set of integers, empty by default.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct SetModel {
    /// The values.
    pub values: BTreeSet<i64>,
}

impl SetModel {
    /// A set holding `values`.
    pub fn new(values: impl IntoIterator<Item = i64>) -> Self {
        SetModel {
            values: values.into_iter().collect(),
        }
    }
}

impl Model for SetModel {
    type Op = SetOp;
    type Output = SetOut;

    fn step(&mut self, op: &SetOp) -> SetOut {
        match *op {
            SetOp::Insert { value } => SetOut::Bool(self.values.insert(value)),
            SetOp::Remove { value } => SetOut::Bool(self.values.remove(&value)),
            SetOp::Contains { value } => SetOut::Bool(self.values.contains(&value)),
            SetOp::Read => SetOut::Values(self.values.iter().copied().collect()),
        }
    }

    fn is_read_only(op: &SetOp) -> bool {
        matches!(op, SetOp::Contains { .. } | SetOp::Read)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::{check_linearizable, CheckConfig, Verdict};
    use crate::history::History;

    #[test]
    fn set_semantics() {
        let mut s = SetModel::default();
        assert_eq!(s.step(&SetOp::Insert { value: 3 }), SetOut::Bool(true));
        assert_eq!(s.step(&SetOp::Insert { value: 3 }), SetOut::Bool(false));
        assert_eq!(s.step(&SetOp::Insert { value: 1 }), SetOut::Bool(true));
        assert_eq!(s.step(&SetOp::Contains { value: 1 }), SetOut::Bool(true));
        assert_eq!(s.step(&SetOp::Contains { value: 2 }), SetOut::Bool(false));
        assert_eq!(s.step(&SetOp::Read), SetOut::Values(vec![1, 3]));
        assert_eq!(s.step(&SetOp::Remove { value: 3 }), SetOut::Bool(true));
        assert_eq!(s.step(&SetOp::Remove { value: 3 }), SetOut::Bool(false));
        assert_eq!(s.step(&SetOp::Read), SetOut::Values(vec![1]));
        assert_eq!(s, SetModel::new([1]));
    }

    #[test]
    fn concurrent_inserts_of_one_value_one_wins() {
        // Both inserts overlap: exactly one may say "newly inserted".
        let mut h = History::new();
        h.push(0, SetOp::Insert { value: 1 }, 0, 5, SetOut::Bool(false));
        h.push(1, SetOp::Insert { value: 1 }, 1, 4, SetOut::Bool(true));
        h.push(1, SetOp::Read, 6, 7, SetOut::Values(vec![1]));
        let report = check_linearizable(&h, &SetModel::default(), &CheckConfig::default());
        assert_eq!(report.verdict, Verdict::Holds);
        assert_eq!(report.orders[0].ops, vec![1, 0, 2]);
    }

    #[test]
    fn two_winners_are_not_linearizable() {
        let mut h = History::new();
        h.push(0, SetOp::Insert { value: 1 }, 0, 5, SetOut::Bool(true));
        h.push(1, SetOp::Insert { value: 1 }, 1, 4, SetOut::Bool(true));
        let report = check_linearizable(&h, &SetModel::default(), &CheckConfig::default());
        let Verdict::Violated(v) = report.verdict else {
            panic!("expected a violation, got {:?}", report.verdict);
        };
        assert_eq!(v.linearized, vec![0]);
        assert_eq!(v.blocked, 1);
        assert_eq!(v.expected.as_deref(), Some("Bool(false)"));
        assert_eq!(v.actual.as_deref(), Some("Bool(true)"));
    }
}
