//! The workload in stateprop's simulator: the register node of `examples/sim_speed.rs`
//! (copied: an example is not a library), five nodes and one client session, driven by a
//! program of requests and `Advance` steps. The simulator jumps from event to event.

use crate::workload::{self, Measured, BACKUPS, HALF_CYCLE, HEARTBEAT};
use stateprop::models::{RegisterOp, RegisterOut};
use stateprop::sim::__engine::{Cluster, Settings};
use stateprop::sim::{Context, Node, NodeId, RequestId, SimStep, TimerId};
use std::time::Instant;

const NODES: usize = 1 + BACKUPS;

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

fn heartbeat_ms() -> u64 {
    HEARTBEAT.as_millis() as u64
}

impl Node for Register {
    type Message = Msg;
    type Request = RegisterOp;
    type Response = RegisterOut;
    type Durable = (u64, Option<i64>);

    fn start(ctx: &mut Context<'_, Self>, (version, value): (u64, Option<i64>)) -> Self {
        if ctx.id() == 0 {
            ctx.set_timer(heartbeat_ms());
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
        ctx.set_timer(heartbeat_ms());
    }

    fn durable(&self) -> (u64, Option<i64>) {
        (self.version, self.value)
    }
}

/// Step `i`: a write at the primary, time, a read at the next backup, time (one 50 ms cycle
/// every four steps, as the other simulators' client does it).
fn step(i: u64) -> SimStep<RegisterOp> {
    let half = HALF_CYCLE.as_millis() as u16;
    match i % 4 {
        0 => SimStep::Request {
            client: 0,
            node: 0,
            op: RegisterOp::Write {
                value: workload::value(i / 4),
            },
        },
        2 => SimStep::Request {
            client: 0,
            node: (1 + (i / 4) % BACKUPS as u64) as NodeId,
            op: RegisterOp::Read,
        },
        _ => SimStep::Advance { ms: half },
    }
}

fn settings() -> Settings {
    let (lo, hi) = (workload::MIN_LATENCY, workload::MAX_LATENCY);
    Settings::default().delay(lo.as_millis() as u64, hi.as_millis() as u64)
}

/// One long run of `sim_secs` simulated seconds; with the trace kept as text or only hashed.
pub fn run(sim_secs: u64, keep_trace: bool) -> Measured {
    let steps = sim_secs * 1000 / (2 * HALF_CYCLE.as_millis() as u64) * 4;
    let started = Instant::now();
    let mut cluster: Cluster<Register> = Cluster::new(NODES, 1, settings().keep_trace(keep_trace));
    for i in 0..steps {
        cluster.apply(i, &step(i)).expect("no invariant");
    }
    let wall_secs = started.elapsed().as_secs_f64();
    // Node-to-node messages, plus each request and its answer, as the others count them.
    let messages = cluster.stats().delivered + 2 * cluster.history().len() as u64;
    Measured {
        sim_secs: cluster.now_ms() as f64 / 1000.0,
        wall_secs,
        messages,
        steps: Some(steps),
    }
}

/// Test cases as the runner generates them: 100 steps, then a 1 s liveness tail, each case a
/// fresh cluster from its own seed.
pub fn cases(count: u64) {
    let started = Instant::now();
    let mut messages = 0;
    let mut simulated_ms = 0;
    for seed in 0..count {
        let mut cluster: Cluster<Register> =
            Cluster::new(NODES, seed, settings().keep_trace(false));
        for i in 0..100 {
            cluster.apply(i, &step(i)).expect("no invariant");
        }
        // Heartbeats never stop, so the tail runs to its bound.
        cluster.settle(100, 1_000).expect("no invariant");
        messages += cluster.stats().delivered + 2 * cluster.history().len() as u64;
        simulated_ms += cluster.now_ms();
    }
    let wall = started.elapsed().as_secs_f64();
    println!(
        "stateprop {count} cases of 100 steps + a 1 s liveness tail in {wall:.3} s wall: \
         {:.0} cases/minute, {:.0}x real time, {:.0} messages/s",
        count as f64 / wall * 60.0,
        simulated_ms as f64 / 1000.0 / wall,
        messages as f64 / wall,
    );
}
