//! How fast the simulator runs: a benchmark program, not a test (issue 10, "Speed and the
//! peers").
//!
//! The system is the issue's: a primary-backup register whose primary sends a heartbeat (with
//! its current version and value) to every backup every 10 ms, and whose backups answer it; one
//! client writes at the primary and reads at the backups. The program alternates requests with
//! `Advance` steps, so most of the work is the heartbeat traffic, as in the peers' measurement.
//!
//! Run it optimized: `cargo run --release --example sim_speed [nodes] [steps]` (defaults: 6
//! nodes, 200,000 steps). It prints simulated time over wall time, messages delivered per wall
//! second, steps per second, and cases per minute for 100-step cases with a liveness tail, then
//! the same cases with read your writes and monotonic reads checked after every step (as a run
//! with the session judge does), and the cost of that checking per operation.

use stateprop::check::session::SessionMonitor;
use stateprop::check::Guarantee;
use stateprop::models::{CasRegister, RegisterOp, RegisterOut};
use stateprop::sim::__engine::{Cluster, HistoryChange, Settings};
use stateprop::sim::{Context, Node, NodeId, RequestId, SimStep, TimerId};
use std::time::Instant;

const HEARTBEAT_MS: u64 = 10;

#[derive(Clone, Debug)]
enum Msg {
    Heartbeat { version: u64, value: i64 },
    HeartbeatAck { version: u64 },
}

struct Register {
    id: NodeId,
    version: u64,
    value: Option<i64>,
    acked: Vec<u64>,
}

impl Node for Register {
    type Message = Msg;
    type Request = RegisterOp;
    type Response = RegisterOut;
    type Durable = (u64, Option<i64>);

    fn start(ctx: &mut Context<'_, Self>, (version, value): (u64, Option<i64>)) -> Self {
        if ctx.id() == 0 {
            ctx.set_timer(HEARTBEAT_MS);
        }
        Register {
            id: ctx.id(),
            version,
            value,
            acked: vec![0; ctx.nodes()],
        }
    }

    fn on_request(&mut self, ctx: &mut Context<'_, Self>, request: RequestId, op: RegisterOp) {
        match op {
            RegisterOp::Read => ctx.reply(request, RegisterOut::Value(self.value)),
            RegisterOp::Write { value } if self.id == 0 => {
                self.version += 1;
                self.value = Some(value);
                ctx.reply(request, RegisterOut::Written);
            }
            _ => ctx.reject(request),
        }
    }

    fn on_message(&mut self, ctx: &mut Context<'_, Self>, from: NodeId, message: Msg) {
        match message {
            Msg::Heartbeat { version, value } => {
                if version > self.version {
                    self.version = version;
                    self.value = Some(value);
                }
                ctx.send(from, Msg::HeartbeatAck { version });
            }
            Msg::HeartbeatAck { version } => {
                let acked = &mut self.acked[usize::from(from)];
                *acked = (*acked).max(version);
            }
        }
    }

    fn on_timer(&mut self, ctx: &mut Context<'_, Self>, _: TimerId) {
        let (version, value) = (self.version, self.value.unwrap_or(0));
        for peer in ctx.peers() {
            ctx.send(peer, Msg::Heartbeat { version, value });
        }
        ctx.set_timer(HEARTBEAT_MS);
    }

    fn durable(&self) -> (u64, Option<i64>) {
        (self.version, self.value)
    }
}

/// Step `i` of the program: a write, then reads at the backups in turn, each followed by time.
fn step(i: u64, nodes: usize) -> SimStep<RegisterOp> {
    match i % 4 {
        0 => SimStep::Request {
            client: 0,
            node: 0,
            op: RegisterOp::Write {
                value: (i % 7) as i64,
            },
        },
        2 => SimStep::Request {
            client: 0,
            node: (1 + (i / 4) % (nodes as u64 - 1)) as NodeId,
            op: RegisterOp::Read,
        },
        _ => SimStep::Advance { ms: 25 },
    }
}

fn long_run(nodes: usize, steps: u64, keep_trace: bool) {
    let settings = Settings::default().keep_trace(keep_trace);
    let started = Instant::now();
    let mut cluster: Cluster<Register> = Cluster::new(nodes, 1, settings);
    for i in 0..steps {
        cluster.apply(i, &step(i, nodes)).expect("no invariant");
    }
    let wall = started.elapsed().as_secs_f64();
    let stats = cluster.stats();
    let sim = cluster.now_ms() as f64 / 1000.0;
    println!(
        "stateprop: {nodes} nodes, {steps} steps, trace lines {}: {sim:.0} s simulated in {wall:.2} s \
         wall = {:.0}x real time; {:.0} messages/s, {:.0} steps/s, {:.0} handlers/s \
         ({} messages delivered, {} history operations)",
        if keep_trace { "kept" } else { "hashed only" },
        sim / wall,
        stats.delivered as f64 / wall,
        steps as f64 / wall,
        stats.handlers as f64 / wall,
        stats.delivered,
        cluster.history().len(),
    );
}

/// Feeds `monitor` what the last step changed in the client history, as the simulated executor
/// does when a session judge is among the run's judges; returns how many violations it proved.
fn feed(
    cluster: &mut Cluster<Register>,
    monitor: &mut SessionMonitor<CasRegister>,
    changes: &mut Vec<HistoryChange>,
) -> usize {
    cluster.take_history_changes(changes);
    for change in changes.drain(..) {
        match change {
            HistoryChange::Invoked(id) => {
                let (op, _, _) = cluster.request(id);
                monitor.invoke(op.client, op.op.clone(), op.call);
            }
            HistoryChange::Ended(id) => match cluster.request(id) {
                (_, _, true) => monitor.withdraw(id),
                (op, _, false) => match (op.ret, &op.output) {
                    (Some(ret), Some(out)) => monitor.returned(id, ret, out.clone()),
                    _ => monitor.unknown(id),
                },
            },
        }
    }
    monitor.take_violations().len()
}

/// `watched`: the client history checked for read your writes and monotonic reads after
/// every step (the backups' stale reads are violations; the run goes on to measure the cost).
fn cases(nodes: usize, cases: u64, watched: bool) {
    let settings = Settings::default().keep_trace(false);
    let started = Instant::now();
    let mut delivered = 0;
    let mut found = 0;
    let mut changes = Vec::new();
    let guarantees = [Guarantee::ReadYourWrites, Guarantee::MonotonicReads];
    for seed in 0..cases {
        let mut cluster: Cluster<Register> = Cluster::new(nodes, seed, settings.clone());
        let mut monitor = SessionMonitor::new(&CasRegister::default(), &guarantees);
        if watched {
            cluster.watch_history();
        }
        for i in 0..100 {
            cluster.apply(i, &step(i, nodes)).expect("no invariant");
            if watched {
                found += feed(&mut cluster, &mut monitor, &mut changes);
            }
        }
        // Heartbeats never stop, so the tail runs to its bound.
        cluster.settle(100, 1_000).expect("no invariant");
        delivered += cluster.stats().delivered;
        std::hint::black_box(cluster.history());
    }
    let wall = started.elapsed().as_secs_f64();
    let how = if watched {
        format!(", session guarantees checked after every step ({found} violations proven)")
    } else {
        String::new()
    };
    println!(
        "stateprop: {cases} cases of 100 steps + a 1 s liveness tail on {nodes} nodes in {wall:.2} s{how}: \
         {:.0} cases/minute, {:.0} messages/s",
        cases as f64 / wall * 60.0,
        delivered as f64 / wall,
    );
}

/// The cost of the incremental session checks alone: cases of 100 steps that are all requests
/// from three sessions (no time passes, so the simulator does little), each step's changes fed
/// to the monitor.
fn monitor_only(nodes: usize, cases: u64) {
    let settings = Settings::default().keep_trace(false);
    let guarantees = [Guarantee::ReadYourWrites, Guarantee::MonotonicReads];
    // Writes and reads at the primary: every read is fresh, so what is measured is the
    // checking, not the writing of violations (a real run stops at its first).
    let request = |i: u64| SimStep::Request {
        client: (i % 3) as u8,
        node: 0,
        op: if i.is_multiple_of(2) {
            RegisterOp::Write {
                value: (i % 7) as i64,
            }
        } else {
            RegisterOp::Read
        },
    };
    let run = |watched: bool| {
        let started = Instant::now();
        let (mut found, mut ops) = (0, 0);
        let mut changes = Vec::new();
        for seed in 0..cases {
            let mut cluster: Cluster<Register> = Cluster::new(nodes, seed, settings.clone());
            let mut monitor = SessionMonitor::new(&CasRegister::default(), &guarantees);
            if watched {
                cluster.watch_history();
            }
            for i in 0..100 {
                cluster.apply(i, &request(i)).expect("no invariant");
                if watched {
                    found += feed(&mut cluster, &mut monitor, &mut changes);
                }
            }
            ops += cluster.history().len();
        }
        (started.elapsed().as_secs_f64(), found, ops)
    };
    let (bare, _, _) = run(false);
    let (watched, found, ops) = run(true);
    println!(
        "stateprop: {cases} cases of 100 request steps: {:.0} ns/step bare, {:.0} ns/step with \
         session guarantees checked after each ({found} violations proven): {:.0} ns per \
         operation checked",
        bare / (cases * 100) as f64 * 1e9,
        watched / (cases * 100) as f64 * 1e9,
        (watched - bare) / ops as f64 * 1e9,
    );
}

fn main() {
    let mut args = std::env::args().skip(1);
    let nodes: usize = args
        .next()
        .map_or(6, |a| a.parse().expect("nodes: a number"));
    let steps: u64 = args
        .next()
        .map_or(200_000, |a| a.parse().expect("steps: a number"));
    assert!(
        nodes >= 2,
        "stateprop: the benchmark needs a primary and a backup"
    );
    long_run(nodes, steps, false);
    long_run(nodes, steps, true);
    cases(nodes, 2_000, false);
    cases(nodes, 2_000, true);
    monitor_only(nodes, 5_000);
}
