//! Deterministic simulation of multi-node systems (issue 10, in progress): every node in one
//! process, a simulated network and clock, every random choice from the seed.

mod model;
mod node;
mod program;
mod step;

pub use model::{Sim, SimOut, MAX_NODES};
pub use node::{Context, Node, NodeId, RequestId, TimerId};
pub use program::{FAULT_RULES, REQUEST_WEIGHT};
pub use step::SimStep;
