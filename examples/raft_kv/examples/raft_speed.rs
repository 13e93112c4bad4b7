//! How fast a real Raft runs in the simulator: a benchmark program, not a test (issue 10,
//! "Speed and the peers": at least 1,000 times faster than real time and 1 M messages per wall
//! second on raft_kv with 5 nodes).
//!
//! Five raft-rs nodes tick every 10 ms of simulated time; the leader heartbeats every 20 ms.
//! One client writes at the leader and reads there through ReadIndex, each request followed by
//! 25 ms of time, so most of the work is raft's own traffic (heartbeats, appends, their
//! answers), as in the peers' measurement.
//!
//! Run it optimized: `cargo run --release -p raft_kv --example raft_speed [nodes] [steps]`
//! (defaults: 5 nodes, 100,000 steps). It prints simulated time over wall time, messages
//! delivered per wall second, steps per second, and cases per minute, both for fixed 100-step
//! cases with a 1 s liveness tail and for a generated campaign with faults, judged for
//! linearizability and shrunk like any test.

use raft_kv::{cluster, KvOp, RaftKv, ReadIndexReads};
use stateprop::sim::__engine::{Cluster, Settings};
use stateprop::sim::{NodeId, SimStep};
use stateprop::{Config, Runner};
use std::time::Instant;

type N = RaftKv<ReadIndexReads>;

/// The CPU time this thread has run, in seconds, where Linux tells it: on a machine shared with
/// other work the wall clock measures the neighbours too, so both are printed.
fn thread_cpu_seconds() -> Option<f64> {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let ns: f64 = text.split_whitespace().next()?.parse().ok()?;
    Some(ns / 1e9)
}

/// `figure`, measured over `wall` seconds, measured again over the CPU seconds since
/// `cpu_start` when they are known, as the text to print after it.
fn per_cpu(figure: f64, wall: f64, cpu_start: Option<f64>) -> String {
    match (cpu_start, thread_cpu_seconds()) {
        (Some(a), Some(b)) if b > a => format!(" (by CPU time: {:.0})", figure * wall / (b - a)),
        _ => String::new(),
    }
}

/// The node that leads, if one does: requests go there.
fn leader(cluster: &Cluster<N>) -> NodeId {
    (0..cluster.nodes().len() as NodeId)
        .find(|&i| cluster.node(i).is_some_and(|n| n.is_leader()))
        .unwrap_or(0)
}

/// Step `i`: a write, time, a read, time.
fn step(i: u64, leader: NodeId) -> SimStep<KvOp> {
    let key = (i / 4 % 2) as u8;
    match i % 4 {
        0 => SimStep::Request {
            client: 0,
            node: leader,
            op: KvOp::Put {
                key,
                value: (i % 7) as u8,
            },
        },
        2 => SimStep::Request {
            client: 0,
            node: leader,
            op: KvOp::Get { key },
        },
        _ => SimStep::Advance { ms: 25 },
    }
}

fn long_run(nodes: usize, steps: u64, keep_trace: bool) {
    let settings = Settings::default().keep_trace(keep_trace);
    let cpu = thread_cpu_seconds();
    let started = Instant::now();
    let mut cluster: Cluster<N> = Cluster::new(nodes, 1, settings);
    for i in 0..steps {
        let to = leader(&cluster);
        cluster.apply(i, &step(i, to)).expect("no invariant broken");
    }
    let wall = started.elapsed().as_secs_f64();
    let stats = cluster.stats();
    let history = cluster.history();
    let answered = history.ops.iter().filter(|op| op.output.is_some()).count();
    let sim = cluster.now_ms() as f64 / 1000.0;
    let (ratio, messages) = (sim / wall, stats.delivered as f64 / wall);
    println!(
        "stateprop: raft_kv, {nodes} nodes, {steps} steps, trace lines {}: {sim:.0} s simulated \
         in {wall:.2} s wall = {ratio:.0}x real time{}; {messages:.0} messages/s{}, {:.0} \
         steps/s, {:.0} handlers/s ({} messages delivered, {} of {} requests answered)",
        if keep_trace { "kept" } else { "hashed only" },
        per_cpu(ratio, wall, cpu),
        per_cpu(messages, wall, cpu),
        steps as f64 / wall,
        stats.handlers as f64 / wall,
        stats.delivered,
        answered,
        history.ops.len(),
    );
}

fn fixed_cases(nodes: usize, cases: u64) {
    let settings = Settings::default().keep_trace(false).never_quiet();
    let cpu = thread_cpu_seconds();
    let started = Instant::now();
    let mut delivered = 0;
    for seed in 0..cases {
        let mut cluster: Cluster<N> = Cluster::new(nodes, seed, settings.clone());
        for i in 0..100 {
            let to = leader(&cluster);
            cluster.apply(i, &step(i, to)).expect("no invariant broken");
        }
        // Heartbeats never stop, so the tail runs to its bound.
        cluster.settle(100, 1_000).expect("no invariant broken");
        delivered += cluster.stats().delivered;
        std::hint::black_box(cluster.history());
    }
    let wall = started.elapsed().as_secs_f64();
    let (per_minute, messages) = (cases as f64 / wall * 60.0, delivered as f64 / wall);
    println!(
        "stateprop: {cases} fixed cases of 100 steps + a 1 s liveness tail on {nodes} nodes in \
         {wall:.2} s: {per_minute:.0} cases/minute{}, {messages:.0} messages/s{}",
        per_cpu(per_minute, wall, cpu),
        per_cpu(messages, wall, cpu),
    );
}

fn campaign(nodes: u8, cases: u64) {
    let config = Config::default()
        .ignore_env()
        .seed(1)
        .cases(cases)
        .steps(1..60)
        .persist(false);
    let started = Instant::now();
    let result = Runner::with_initial(config, cluster(nodes, 3)).run_simulated::<N>();
    let wall = started.elapsed().as_secs_f64();
    assert!(!result.failed(), "{}", result.report.text());
    println!(
        "stateprop: a generated campaign on {nodes} nodes (1-59 steps with faults, a 2 s \
         liveness tail, linearizability judged): {cases} cases in {wall:.2} s = {:.0} \
         cases/minute",
        cases as f64 / wall * 60.0,
    );
}

fn main() {
    let mut args = std::env::args().skip(1);
    let nodes: usize = args
        .next()
        .map_or(5, |a| a.parse().expect("nodes: a number"));
    let steps: u64 = args
        .next()
        .map_or(100_000, |a| a.parse().expect("steps: a number"));
    assert!(
        (1..=16).contains(&nodes),
        "stateprop: the benchmark runs 1 to 16 nodes"
    );
    long_run(nodes, steps, false);
    long_run(nodes, steps, true);
    fixed_cases(nodes, 500);
    campaign(nodes as u8, 500);
}
