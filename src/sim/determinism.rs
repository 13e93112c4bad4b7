//! The determinism check: run the same program with the same seed twice and compare the traces.
//!
//! Within one process this catches what differs between two runs of the same code: `HashMap`
//! iteration order (each map draws its own hash keys), the wall clock, thread-local randomness,
//! addresses. A difference that is the same within a process but not across processes (a static
//! initialised once) needs the trace hash compared across processes, which the hash allows: it is
//! computed with fixed keys.

use super::cluster::{Cluster, Settings};
use super::node::Node;
use super::step::SimStep;

/// Two runs of one program and seed parted: the first trace line where they differ.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Divergence {
    /// The line's index in the traces (from 0).
    pub line: usize,
    /// The first run's line there (`None`: its trace ended).
    pub first: Option<String>,
    /// The second run's.
    pub second: Option<String>,
}

impl std::fmt::Display for Divergence {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let show = |l: &Option<String>| l.clone().unwrap_or_else(|| "(the trace ended)".into());
        write!(
            f,
            "stateprop: the simulation is not deterministic: two runs of the same program and seed \
             differ at trace line {}:\n  first:  {}\n  second: {}\n(node code must take time, \
             randomness and iteration order only from its Context and ordered collections)",
            self.line,
            show(&self.first),
            show(&self.second)
        )
    }
}

/// Runs `steps` on `nodes` nodes with `seed` (and the liveness tail, bounded by `settle_ms`, if
/// given) from scratch.
pub fn run<N: Node>(
    nodes: usize,
    seed: u64,
    settings: &Settings,
    steps: &[SimStep<N::Request>],
    settle_ms: Option<u64>,
) -> Cluster<N> {
    let mut cluster = Cluster::new(nodes, seed, settings.clone());
    for (i, step) in steps.iter().enumerate() {
        // A broken invariant is in the trace; the check here is only for determinism.
        let _ = cluster.apply(i as u64, step);
    }
    if let Some(bound) = settle_ms {
        let _ = cluster.settle(steps.len() as u64, bound);
    }
    cluster
}

/// Runs the program twice and returns the trace hash if both runs gave the same trace.
pub fn check_determinism<N: Node>(
    nodes: usize,
    seed: u64,
    settings: &Settings,
    steps: &[SimStep<N::Request>],
    settle_ms: Option<u64>,
) -> Result<u64, Divergence> {
    let settings = settings.clone().keep_trace(true);
    let a = run::<N>(nodes, seed, &settings, steps, settle_ms);
    let b = run::<N>(nodes, seed, &settings, steps, settle_ms);
    let (ta, tb) = (a.trace(), b.trace());
    if let Some(line) = (0..ta.len().max(tb.len())).find(|&i| ta.get(i) != tb.get(i)) {
        return Err(Divergence {
            line,
            first: ta.get(line).cloned(),
            second: tb.get(line).cloned(),
        });
    }
    Ok(a.trace_hash())
}
