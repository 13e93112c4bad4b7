//! Deterministic simulation of multi-node systems: every node in one process, a simulated
//! network and clock, every random choice from the seed.
//! `docs/simulation.md` gives the semantics of each step and the rules for node authors.

mod clients;
mod clock;
mod cluster;
mod determinism;
mod model;
mod network;
mod node;
mod program;
mod settings;
mod step;
#[cfg(test)]
mod tests;
mod trace;

pub use determinism::{check_determinism, Divergence};
pub use model::{Sim, SimOut, MAX_NODES};
pub use node::{Context, Node, NodeId, RequestId, TimerId};
pub use program::{FAULT_RULES, REQUEST_WEIGHT};
pub use settings::Settings;
pub use step::SimStep;

/// The simulator's engine, for the benchmark program only: not public API (the simulated
/// executor, behind `check_simulated`, wraps it).
#[doc(hidden)]
pub mod __engine {
    pub use super::cluster::{
        Cluster, HistoryChange, InvariantBroken, Settings, Settled, SimStats,
    };
    pub use super::determinism::{check_determinism, run, Divergence};
}
