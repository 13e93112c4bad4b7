//! Registers: one value, read and written (and compared-and-set).

use crate::check::session::{Access, ReadsWrites};
use crate::{Model, StateMachine};
use serde::{Deserialize, Serialize};

/// An operation on a register. `Cas { from, to }` sets `to` if the value is `from`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, StateMachine, Serialize, Deserialize)]
#[state_machine(model = CasRegister)]
pub enum RegisterOp {
    /// Read the value.
    Read,
    /// Write a value.
    Write {
        /// The value.
        #[strategy(0..5i64)]
        value: i64,
    },
    /// Compare and set.
    Cas {
        /// The expected value.
        #[strategy(0..5i64)]
        from: i64,
        /// The new value.
        #[strategy(0..5i64)]
        to: i64,
    },
}

/// What a register operation returns.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum RegisterOut {
    /// A read's value (`None`: never written, `nil` in Jepsen's histories).
    Value(Option<i64>),
    /// A write took effect.
    Written,
    /// Whether a compare-and-set took effect (a failed one still observed a different value).
    Cas(bool),
}

/// A compare-and-set register (a plain register is the same without `Cas` operations).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct CasRegister {
    /// The value; `None` until written.
    pub value: Option<i64>,
}

impl CasRegister {
    /// A register holding `value` (`None`: nil).
    pub fn new(value: Option<i64>) -> Self {
        CasRegister { value }
    }
}

impl Model for CasRegister {
    type Op = RegisterOp;
    type Output = RegisterOut;

    fn step(&mut self, op: &RegisterOp) -> RegisterOut {
        match *op {
            RegisterOp::Read => RegisterOut::Value(self.value),
            RegisterOp::Write { value } => {
                self.value = Some(value);
                RegisterOut::Written
            }
            RegisterOp::Cas { from, to } => {
                if self.value == Some(from) {
                    self.value = Some(to);
                    RegisterOut::Cas(true)
                } else {
                    RegisterOut::Cas(false)
                }
            }
        }
    }

    fn is_read_only(op: &RegisterOp) -> bool {
        matches!(op, RegisterOp::Read)
    }

    fn is_observation(op: &RegisterOp, output: &RegisterOut) -> bool {
        matches!(
            (op, output),
            (RegisterOp::Read, _) | (RegisterOp::Cas { .. }, RegisterOut::Cas(false))
        )
    }
}

/// For the session-guarantee checkers.
impl ReadsWrites for CasRegister {
    type Key = ();
    type Value = Option<i64>;

    /// A read is a read of the register; a write, or a compare-and-set that succeeded (or whose
    /// outcome is unknown, so it may have), writes. A failed compare-and-set only tells that the
    /// value differed from `from`, which is not a value: it is `Other`.
    fn access(op: &RegisterOp, output: Option<&RegisterOut>) -> Access<(), Option<i64>> {
        match (op, output) {
            (RegisterOp::Read, Some(RegisterOut::Value(v))) => Access::Read { key: (), value: *v },
            (RegisterOp::Write { value }, _) => Access::Write {
                key: (),
                value: Some(*value),
            },
            (RegisterOp::Cas { to, .. }, None | Some(RegisterOut::Cas(true))) => Access::Write {
                key: (),
                value: Some(*to),
            },
            _ => Access::Other,
        }
    }

    fn initial_value(&self, _: &()) -> Option<i64> {
        self.value
    }
}
