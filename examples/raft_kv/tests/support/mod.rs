//! What the test files share: the pinned configuration and the coverage checks that keep a
//! passing campaign from being a hollow one.

#![allow(dead_code)]

use raft_kv::{Kv, KvOp};
use stateprop::sim::{Sim, SimStep};
use stateprop::Report;
use stateprop::{Config, Runner};

/// A pinned configuration: the environment cannot change what these tests assert.
pub fn config(seed: u64) -> Config {
    Config::default()
        .ignore_env()
        .seed(seed)
        .cases(150)
        .steps(1..60)
        .persist(false)
}

/// A client request reaching the cluster while a partition is on.
pub const DURING_PARTITION: &str = "a request during a partition";
/// A client request while some node is down.
pub const DURING_CRASH: &str = "a request while a node is down";

/// Labels cases by the faults their requests met, for [`assert_faults_exercised`].
pub fn labelled(runner: Runner<Sim<Kv>>) -> Runner<Sim<Kv>> {
    let is_request = |op: &SimStep<KvOp>| matches!(op, SimStep::Request { .. });
    runner
        .label(DURING_PARTITION, move |m: &Sim<Kv>, op| {
            m.is_partitioned() && is_request(op)
        })
        .label(DURING_CRASH, move |m: &Sim<Kv>, op| {
            m.crashed_nodes().next().is_some() && is_request(op)
        })
}

/// How many steps of rule `name` the run generated.
pub fn generated(report: &Report, name: &str) -> u64 {
    report
        .stats
        .rules
        .iter()
        .find(|(rule, _)| *rule == name)
        .map_or(0, |&(_, n)| n)
}

/// In how many cases the label held at some step.
pub fn labelled_cases(report: &Report, label: &str) -> u64 {
    report
        .stats
        .labels
        .iter()
        .find(|(l, _)| l == label)
        .map_or(0, |(_, n)| *n)
}

/// The run generated every fault kind, at least `min` steps of each, and requests met
/// partitions and crashed nodes in at least `min_cases` cases each: faults were really there.
pub fn assert_faults_exercised(report: &Report, min: u64, min_cases: u64) {
    for kind in [
        "Partition",
        "Heal",
        "Drop",
        "Duplicate",
        "Delay",
        "Crash",
        "Restart",
        "ClockSkew",
        "Deliver",
        "Request(Put)",
        "Request(Get)",
        "Request(Cas)",
    ] {
        let n = generated(report, kind);
        assert!(n >= min, "only {n} {kind} steps: {:?}", report.stats.rules);
    }
    for label in [DURING_PARTITION, DURING_CRASH] {
        let n = labelled_cases(report, label);
        assert!(
            n >= min_cases,
            "{label}: only {n} cases: {:?}",
            report.stats.labels
        );
    }
    // Every history got a verdict: none was left undecided by a budget.
    assert!(
        report.stats.undecided.is_empty(),
        "{:?}",
        report.stats.undecided
    );
}
