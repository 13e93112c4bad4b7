//! A counter: add to it, read it.

use crate::{Model, StateMachine};
use serde::{Deserialize, Serialize};

/// An operation on a counter.
#[derive(Debug, Clone, PartialEq, Eq, Hash, StateMachine, Serialize, Deserialize)]
#[state_machine(model = Counter)]
pub enum CounterOp {
    /// Add `by` to the value (a negative `by` subtracts).
    Add {
        /// The amount.
        #[strategy(-2..5i64)]
        by: i64,
    },
    /// Read the value.
    Read,
}

/// What a counter operation returns.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum CounterOut {
    /// An addition took effect.
    Done,
    /// A read's value.
    Value(i64),
}

/// A counter, 0 by default. Additions wrap around on overflow, as two's-complement hardware
/// counters do, so the model never panics.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Counter {
    /// The value.
    pub value: i64,
}

impl Counter {
    /// A counter holding `value`.
    pub fn new(value: i64) -> Self {
        Counter { value }
    }
}

impl Model for Counter {
    type Op = CounterOp;
    type Output = CounterOut;

    fn step(&mut self, op: &CounterOp) -> CounterOut {
        match *op {
            CounterOp::Add { by } => {
                self.value = self.value.wrapping_add(by);
                CounterOut::Done
            }
            CounterOp::Read => CounterOut::Value(self.value),
        }
    }

    fn is_read_only(op: &CounterOp) -> bool {
        matches!(op, CounterOp::Read)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::{check_linearizable, CheckConfig, Verdict};
    use crate::history::History;

    #[test]
    fn adds_and_reads() {
        let mut c = Counter::default();
        assert_eq!(c.step(&CounterOp::Read), CounterOut::Value(0));
        assert_eq!(c.step(&CounterOp::Add { by: 3 }), CounterOut::Done);
        assert_eq!(c.step(&CounterOp::Add { by: -5 }), CounterOut::Done);
        assert_eq!(c.step(&CounterOp::Read), CounterOut::Value(-2));
        assert_eq!(c, Counter::new(-2));
    }

    #[test]
    fn additions_wrap() {
        let mut c = Counter::new(i64::MAX);
        c.step(&CounterOp::Add { by: 1 });
        assert_eq!(c.value, i64::MIN);
    }

    #[test]
    fn read_concurrent_with_add_may_see_either_value() {
        // Two adds overlap a read that sees only one of them: fine, it ran between them.
        let mut h = History::new();
        h.push(0, CounterOp::Add { by: 1 }, 0, 10, CounterOut::Done);
        h.push(1, CounterOp::Add { by: 2 }, 1, 11, CounterOut::Done);
        h.push(2, CounterOp::Read, 2, 3, CounterOut::Value(2));
        h.push(2, CounterOp::Read, 12, 13, CounterOut::Value(3));
        let report = check_linearizable(&h, &Counter::default(), &CheckConfig::default());
        assert_eq!(report.verdict, Verdict::Holds);
        assert_eq!(report.orders[0].ops, vec![1, 2, 0, 3]);
    }

    #[test]
    fn read_going_back_is_not_linearizable() {
        // Op 1 saw the add; op 2 starts after op 1 returned and does not.
        let mut h = History::new();
        h.push(0, CounterOp::Add { by: 1 }, 0, 10, CounterOut::Done);
        h.push(1, CounterOp::Read, 1, 2, CounterOut::Value(1));
        h.push(1, CounterOp::Read, 3, 4, CounterOut::Value(0));
        let report = check_linearizable(&h, &Counter::default(), &CheckConfig::default());
        let Verdict::Violated(v) = report.verdict else {
            panic!("expected a violation, got {:?}", report.verdict);
        };
        assert_eq!(v.linearized, vec![0, 1]);
        assert_eq!(v.blocked, 2);
        assert_eq!(v.expected.as_deref(), Some("Value(1)"));
        assert_eq!(v.actual.as_deref(), Some("Value(0)"));
    }
}
