//! A primary-backup register on a simulated faulty network: the stale read found, shrunk and
//! reported twice, as a linearizability violation and as a read-your-writes one.
//!
//! Node 0 is the primary. It applies every write and compare-and-set, answers at once, and
//! replicates the new value to the backups, resending until each acknowledges. A backup
//! forwards writes to the primary, which answers them; a request forwarded twice (the network
//! duplicates, a late copy arrives) is applied once, as the primary remembers what it answered.
//! The bug: a backup answers reads from its own copy, which lags the primary's. The fixed
//! variant forwards reads to the primary too.
//!
//! Run it with `cargo run --example replicated_register`.

use stateprop::check::Guarantee;
use stateprop::models::{CasRegister, RegisterOp, RegisterOut};
use stateprop::sim::{Context, Node, NodeId, RequestId, Sim, TimerId};
use stateprop::{judge, Config, Runner};
use std::collections::BTreeMap;

/// How often the primary resends a value a backup has not acknowledged, in milliseconds.
const RESEND_MS: u64 = 20;

/// The messages between nodes.
#[derive(Clone, Debug)]
pub enum Msg {
    /// The primary's value at `version`.
    Replicate { version: u64, value: Option<i64> },
    /// A backup holds `version`.
    Ack { version: u64 },
    /// A client's request, sent on by the backup it reached.
    Forward { request: RequestId, op: RegisterOp },
}

/// What a node keeps on disk: the value and its version, and (on the primary) the answer to
/// every request it applied, so a request that arrives again is answered, not applied again.
#[derive(Clone, Debug, Default)]
pub struct Disk {
    version: u64,
    value: Option<i64>,
    answered: BTreeMap<RequestId, RegisterOut>,
}

/// One node of the register. With `PRIMARY_READS` every read is answered by the primary (the
/// fix); without, a backup answers from its own copy (the bug).
pub struct Register<const PRIMARY_READS: bool> {
    id: NodeId,
    disk: Disk,
    /// Primary only: the highest version each node acknowledged (volatile: after a restart
    /// the primary resends to everyone).
    acked: Vec<u64>,
    resend: Option<TimerId>,
}

/// The buggy register: backups serve reads.
pub type BackupReads = Register<false>;
/// The fixed register: the primary serves reads.
pub type PrimaryReads = Register<true>;

impl<const PRIMARY_READS: bool> Register<PRIMARY_READS> {
    /// Applies a request at the primary, once per request, and answers it.
    fn apply(&mut self, ctx: &mut Context<'_, Self>, request: RequestId, op: RegisterOp) {
        if let Some(out) = self.disk.answered.get(&request) {
            ctx.reply(request, out.clone());
            return;
        }
        let before = self.disk.value;
        let out = match op {
            RegisterOp::Read => RegisterOut::Value(self.disk.value),
            RegisterOp::Write { value } => {
                self.disk.value = Some(value);
                RegisterOut::Written
            }
            RegisterOp::Cas { from, to } => {
                let hit = self.disk.value == Some(from);
                if hit {
                    self.disk.value = Some(to);
                }
                RegisterOut::Cas(hit)
            }
        };
        if self.disk.value != before || matches!(op, RegisterOp::Write { .. }) {
            self.disk.version += 1;
            self.replicate(ctx);
        }
        self.disk.answered.insert(request, out.clone());
        ctx.reply(request, out);
    }

    /// Sends the primary's value to every backup that has not acknowledged it.
    fn replicate(&mut self, ctx: &mut Context<'_, Self>) {
        let (version, value) = (self.disk.version, self.disk.value);
        let lagging: Vec<NodeId> = ctx
            .peers()
            .filter(|&p| self.acked[usize::from(p)] < version)
            .collect();
        for &peer in &lagging {
            ctx.send(peer, Msg::Replicate { version, value });
        }
        if !lagging.is_empty() && self.resend.is_none() {
            self.resend = Some(ctx.set_timer(RESEND_MS));
        }
    }
}

impl<const PRIMARY_READS: bool> Node for Register<PRIMARY_READS> {
    type Message = Msg;
    type Request = RegisterOp;
    type Response = RegisterOut;
    type Durable = Disk;

    fn start(ctx: &mut Context<'_, Self>, disk: Disk) -> Self {
        let mut node = Register {
            id: ctx.id(),
            disk,
            acked: vec![0; ctx.nodes()],
            resend: None,
        };
        // A primary back from a crash does not know what the backups hold.
        if node.id == 0 && node.disk.version > 0 {
            node.replicate(ctx);
        }
        node
    }

    fn on_request(&mut self, ctx: &mut Context<'_, Self>, request: RequestId, op: RegisterOp) {
        match op {
            _ if self.id == 0 => self.apply(ctx, request, op),
            // The bug: a backup's copy may lag the primary's. (`PRIMARY_READS` is the fix.)
            RegisterOp::Read if !PRIMARY_READS => {
                ctx.reply(request, RegisterOut::Value(self.disk.value))
            }
            op => ctx.send(0, Msg::Forward { request, op }),
        }
    }

    fn on_message(&mut self, ctx: &mut Context<'_, Self>, from: NodeId, message: Msg) {
        match message {
            Msg::Replicate { version, value } => {
                if version > self.disk.version {
                    self.disk.version = version;
                    self.disk.value = value;
                }
                ctx.send(from, Msg::Ack { version });
            }
            Msg::Ack { version } => {
                let acked = &mut self.acked[usize::from(from)];
                *acked = (*acked).max(version);
            }
            Msg::Forward { request, op } if self.id == 0 => self.apply(ctx, request, op),
            Msg::Forward { .. } => {}
        }
    }

    fn on_timer(&mut self, ctx: &mut Context<'_, Self>, timer: TimerId) {
        if self.resend == Some(timer) {
            self.resend = None;
            self.replicate(ctx);
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
            if node.is_some_and(|n| n.disk.version > primary.disk.version) {
                return Err(format!("backup n{i} is ahead of the primary"));
            }
        }
        Ok(())
    }
}

/// Three nodes (a primary, two backups) and two client sessions.
pub fn cluster() -> Sim<CasRegister> {
    Sim::new(CasRegister::default(), 3, 2)
}

/// The example's settings: a fixed seed, so the report is the same on every run. The
/// environment still applies (`STATEPROP_SEED` to explore, `STATEPROP_REPORT` for the JSON
/// report that `stateprop render` draws), so the rerun line the report prints is true.
pub fn example_config() -> Config {
    Config::default()
        .seed(7)
        .cases(200)
        .steps(1..30)
        .persist(false)
}

/// [`example_config`] for the tests that include this file: the environment cannot change
/// what they assert.
pub fn config() -> Config {
    example_config().ignore_env()
}

fn main() {
    println!("stateprop: backups answer reads, judged for linearizability:");
    // Named, so `STATEPROP_REPORT=<dir>/` writes each run's JSON report to a file of its own.
    let found = Runner::with_initial(example_config().name("backup_reads"), cluster())
        .run_simulated::<BackupReads>();
    println!("{}", found.report.text());

    println!("stateprop: backups answer reads, judged for read-your-writes and monotonic reads:");
    let sessions = Runner::with_initial(example_config().name("backup_reads_sessions"), cluster())
        .judge(judge::session_guarantees(&[
            Guarantee::ReadYourWrites,
            Guarantee::MonotonicReads,
        ]))
        .run_simulated::<BackupReads>();
    println!("{}", sessions.report.text());

    println!("stateprop: the primary answers reads:");
    let fixed = Runner::with_initial(example_config().name("primary_reads"), cluster())
        .run_simulated::<PrimaryReads>();
    println!("{}", fixed.report.text());
    assert!(found.failed() && sessions.failed() && !fixed.failed());
}
