//! A primary-backup register, the toy system the simulator's tests run.
//!
//! Node 0 is the primary: it applies a write, answers at once, and replicates to the backups by
//! message, resending every `RETRY_MS` to backups that have not acknowledged. A write sent to a
//! backup is forwarded to the primary, which answers it. Backups answer reads from their own
//! copy, so a read at a backup right after a write can be stale: the bug the tests find.

use crate::models::{CasRegister, RegisterOp, RegisterOut};
use crate::sim::cluster::{Cluster, Settings};
use crate::sim::{Context, Node, NodeId, RequestId, SimStep, TimerId};

pub(super) const RETRY_MS: u64 = 20;

#[derive(Clone, Debug)]
pub(super) enum Msg {
    Replicate { version: u64, value: i64 },
    Ack { version: u64 },
    Forward { request: RequestId, value: i64 },
}

/// What a node keeps on disk.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(super) struct Disk {
    pub(super) version: u64,
    pub(super) value: Option<i64>,
}

/// With `STRICT`, the cluster invariant demands every live node hold the primary's value, which
/// asynchronous replication breaks right after every write (a planted invariant breach).
pub(super) struct Pb<const STRICT: bool = false> {
    id: NodeId,
    pub(super) disk: Disk,
    /// Messages received since the node (re)started: volatile, lost in a crash.
    pub(super) received: u64,
    /// The node's clock as its last handler saw it.
    pub(super) clock_seen: u64,
    /// Primary only: the highest version each node acknowledged.
    pub(super) acked: Vec<u64>,
    retry: Option<TimerId>,
}

impl<const STRICT: bool> Pb<STRICT> {
    fn write(&mut self, ctx: &mut Context<'_, Self>, value: i64) {
        self.disk.version += 1;
        self.disk.value = Some(value);
        let version = self.disk.version;
        for peer in ctx.peers() {
            ctx.send(peer, Msg::Replicate { version, value });
        }
        self.arm(ctx);
    }

    fn arm(&mut self, ctx: &mut Context<'_, Self>) {
        if self.retry.is_none() {
            self.retry = Some(ctx.set_timer(RETRY_MS));
        }
    }
}

impl<const STRICT: bool> Node for Pb<STRICT> {
    type Message = Msg;
    type Request = RegisterOp;
    type Response = RegisterOut;
    type Durable = Disk;

    fn start(ctx: &mut Context<'_, Self>, disk: Disk) -> Self {
        let mut node = Pb {
            id: ctx.id(),
            disk,
            received: 0,
            clock_seen: ctx.now(),
            acked: vec![0; ctx.nodes()],
            retry: None,
        };
        // A primary back from a crash does not know what the backups hold: resend.
        if node.id == 0 && node.disk.version > 0 {
            node.arm(ctx);
        }
        node
    }

    fn on_request(&mut self, ctx: &mut Context<'_, Self>, request: RequestId, op: RegisterOp) {
        self.clock_seen = ctx.now();
        match op {
            RegisterOp::Read => ctx.reply(request, RegisterOut::Value(self.disk.value)),
            RegisterOp::Write { value } if self.id == 0 => {
                self.write(ctx, value);
                ctx.reply(request, RegisterOut::Written);
            }
            RegisterOp::Write { value } => ctx.send(0, Msg::Forward { request, value }),
            RegisterOp::Cas { .. } => ctx.reject(request),
        }
    }

    fn on_message(&mut self, ctx: &mut Context<'_, Self>, from: NodeId, message: Msg) {
        self.clock_seen = ctx.now();
        self.received += 1;
        match message {
            Msg::Replicate { version, value } => {
                if version > self.disk.version {
                    self.disk = Disk {
                        version,
                        value: Some(value),
                    };
                }
                ctx.send(from, Msg::Ack { version });
            }
            Msg::Ack { version } => {
                let acked = &mut self.acked[usize::from(from)];
                *acked = (*acked).max(version);
            }
            Msg::Forward { request, value } => {
                self.write(ctx, value);
                ctx.reply(request, RegisterOut::Written);
            }
        }
    }

    fn on_timer(&mut self, ctx: &mut Context<'_, Self>, timer: TimerId) {
        self.clock_seen = ctx.now();
        if self.retry != Some(timer) {
            return;
        }
        self.retry = None;
        let Disk { version, value } = self.disk.clone();
        let Some(value) = value else { return };
        let lagging: Vec<NodeId> = ctx
            .peers()
            .filter(|&p| self.acked[usize::from(p)] < version)
            .collect();
        for &peer in &lagging {
            ctx.send(peer, Msg::Replicate { version, value });
        }
        if !lagging.is_empty() {
            self.arm(ctx);
        }
    }

    fn durable(&self) -> Disk {
        self.disk.clone()
    }

    fn cluster_invariant(nodes: &[Option<&Self>]) -> Result<(), String> {
        let Some(primary) = nodes[0] else {
            return Ok(());
        };
        for (i, node) in nodes.iter().enumerate().skip(1) {
            let Some(node) = node else { continue };
            if node.disk.version > primary.disk.version {
                return Err(format!("backup n{i} is ahead of the primary"));
            }
            if STRICT && node.disk.value != primary.disk.value {
                return Err(format!(
                    "n{i} holds {:?}, the primary {:?}",
                    node.disk.value, primary.disk.value
                ));
            }
        }
        Ok(())
    }
}

pub(super) fn write(client: u8, node: NodeId, value: i64) -> SimStep<RegisterOp> {
    SimStep::Request {
        client,
        node,
        op: RegisterOp::Write { value },
    }
}

pub(super) fn read(client: u8, node: NodeId) -> SimStep<RegisterOp> {
    SimStep::Request {
        client,
        node,
        op: RegisterOp::Read,
    }
}

pub(super) fn advance(ms: u16) -> SimStep<RegisterOp> {
    SimStep::Advance { ms }
}

/// Runs `steps` on a fresh cluster of `nodes` nodes, expecting no invariant to break.
pub(super) fn run(nodes: usize, settings: Settings, steps: &[SimStep<RegisterOp>]) -> Cluster<Pb> {
    let mut cluster = Cluster::new(nodes, 7, settings);
    for (i, step) in steps.iter().enumerate() {
        cluster.apply(i as u64, step).expect("the invariant holds");
    }
    cluster
}

pub(super) fn value(cluster: &Cluster<Pb>, node: NodeId) -> Option<i64> {
    cluster.node(node).expect("the node is up").disk.value
}

/// The history's verdict against a register.
pub(super) fn linearizable(cluster: &Cluster<Pb>) -> bool {
    use crate::check::{check_linearizable, CheckConfig, Verdict};
    let report = check_linearizable(
        &cluster.history(),
        &CasRegister::default(),
        &CheckConfig::default(),
    );
    match report.verdict {
        Verdict::Holds => true,
        Verdict::Violated(_) => false,
        Verdict::Unknown(why) => panic!("no verdict: {why}"),
    }
}
