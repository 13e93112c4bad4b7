//! A first-in, first-out queue of integers.

use crate::{Model, StateMachine};
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;

/// An operation on a queue.
#[derive(Debug, Clone, PartialEq, Eq, Hash, StateMachine, Serialize, Deserialize)]
#[state_machine(model = QueueModel)]
pub enum QueueOp {
    /// Add a value at the back.
    Enqueue {
        /// The value.
        #[strategy(0..5i64)]
        value: i64,
    },
    /// Take the value at the front, if any.
    Dequeue,
}

/// What a queue operation returns.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum QueueOut {
    /// An enqueue took effect.
    Done,
    /// A dequeue's value (`None`: the queue was empty).
    Value(Option<i64>),
}

/// A FIFO queue, empty by default.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct QueueModel {
    /// The values, front first.
    pub items: VecDeque<i64>,
}

impl QueueModel {
    /// A queue holding `items`, front first.
    pub fn new(items: impl IntoIterator<Item = i64>) -> Self {
        QueueModel {
            items: items.into_iter().collect(),
        }
    }
}

impl Model for QueueModel {
    type Op = QueueOp;
    type Output = QueueOut;

    fn step(&mut self, op: &QueueOp) -> QueueOut {
        match *op {
            QueueOp::Enqueue { value } => {
                self.items.push_back(value);
                QueueOut::Done
            }
            QueueOp::Dequeue => QueueOut::Value(self.items.pop_front()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::{check_linearizable, CheckConfig, Verdict};
    use crate::history::History;

    #[test]
    fn first_in_first_out() {
        let mut q = QueueModel::default();
        assert_eq!(q.step(&QueueOp::Dequeue), QueueOut::Value(None));
        assert_eq!(q.step(&QueueOp::Enqueue { value: 1 }), QueueOut::Done);
        assert_eq!(q.step(&QueueOp::Enqueue { value: 2 }), QueueOut::Done);
        assert_eq!(q, QueueModel::new([1, 2]));
        assert_eq!(q.step(&QueueOp::Dequeue), QueueOut::Value(Some(1)));
        assert_eq!(q.step(&QueueOp::Dequeue), QueueOut::Value(Some(2)));
        assert_eq!(q.step(&QueueOp::Dequeue), QueueOut::Value(None));
    }

    #[test]
    fn concurrent_enqueues_may_land_in_either_order() {
        let mut h = History::new();
        h.push(0, QueueOp::Enqueue { value: 1 }, 0, 4, QueueOut::Done);
        h.push(1, QueueOp::Enqueue { value: 2 }, 1, 3, QueueOut::Done);
        h.push(0, QueueOp::Dequeue, 5, 6, QueueOut::Value(Some(2)));
        h.push(1, QueueOp::Dequeue, 7, 8, QueueOut::Value(Some(1)));
        let report = check_linearizable(&h, &QueueModel::default(), &CheckConfig::default());
        assert_eq!(report.verdict, Verdict::Holds);
        assert_eq!(report.orders[0].ops, vec![1, 0, 2, 3]);
    }

    #[test]
    fn order_of_sequential_enqueues_is_kept() {
        // 1 was enqueued before 2 was invoked, so 2 cannot come out first.
        let mut h = History::new();
        h.push(0, QueueOp::Enqueue { value: 1 }, 0, 1, QueueOut::Done);
        h.push(1, QueueOp::Enqueue { value: 2 }, 2, 3, QueueOut::Done);
        h.push(0, QueueOp::Dequeue, 4, 5, QueueOut::Value(Some(2)));
        let report = check_linearizable(&h, &QueueModel::default(), &CheckConfig::default());
        let Verdict::Violated(v) = report.verdict else {
            panic!("expected a violation, got {:?}", report.verdict);
        };
        assert_eq!(v.linearized, vec![0, 1]);
        assert_eq!(v.blocked, 2);
        assert_eq!(v.expected.as_deref(), Some("Value(Some(1))"));
        assert_eq!(v.actual.as_deref(), Some("Value(Some(2))"));
    }
}
