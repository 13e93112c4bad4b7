//! Ready models of common objects, usable as specifications for histories recorded anywhere
//! and as models for state machines: registers, a key-value store.

mod kv;
mod register;

pub use kv::{KvModel, KvOp, KvOut};
pub use register::{CasRegister, RegisterOp, RegisterOut};

mod counter;
mod queue;
mod set;

pub use counter::{Counter, CounterOp, CounterOut};
pub use queue::{QueueModel, QueueOp, QueueOut};
pub use set::{SetModel, SetOp, SetOut};
