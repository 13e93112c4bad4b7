//! Deterministic simulation of multi-node systems (issue 10, in progress): every node in one
//! process, a simulated network and clock, every random choice from the seed.

mod node;
mod step;

pub use node::{Context, Node, NodeId, RequestId, TimerId};
pub use step::SimStep;
