//! Clock drift (`SimStep::ClockDrift`): a node's clock runs fast or slow, its timers fire early
//! or late in simulation time, and a lease that trusts the follower's clock to run as fast as
//! the leader's is found broken and shrunk to a program with the drift in it.

use stateprop::models::{CasRegister, RegisterOp, RegisterOut};
use stateprop::sim::__engine::{Cluster, Settings};
use stateprop::sim::{Context, Node, NodeId, RequestId, Sim, SimStep, TimerId};
use stateprop::{Config, Runner};

/// Sets one timer at boot and notes the node time it fired at.
struct Alarm {
    fired_at: Option<u64>,
}

impl Node for Alarm {
    type Message = ();
    type Request = RegisterOp;
    type Response = RegisterOut;
    type Durable = ();

    fn start(ctx: &mut Context<'_, Self>, _: ()) -> Self {
        ctx.set_timer(100);
        Alarm { fired_at: None }
    }
    fn on_request(&mut self, ctx: &mut Context<'_, Self>, request: RequestId, _: RegisterOp) {
        ctx.reject(request);
    }
    fn on_message(&mut self, _: &mut Context<'_, Self>, _: NodeId, _: ()) {}
    fn on_timer(&mut self, ctx: &mut Context<'_, Self>, _: TimerId) {
        self.fired_at = Some(ctx.now());
    }
    fn durable(&self) {}
}

fn fired(cluster: &Cluster<Alarm>) -> Vec<Option<u64>> {
    let nodes = cluster.nodes();
    nodes.iter().map(|n| n.and_then(|n| n.fired_at)).collect()
}

#[test]
fn a_drifting_clock_reads_fast_or_slow_and_fires_its_timers_early_or_late() {
    let mut c: Cluster<Alarm> = Cluster::new(3, 1, Settings::default());
    c.apply(0, &SimStep::ClockDrift { node: 1, rate: 250 })
        .unwrap();
    c.apply(
        1,
        &SimStep::ClockDrift {
            node: 2,
            rate: -500,
        },
    )
    .unwrap();
    c.apply(2, &SimStep::Advance { ms: 79 }).unwrap();
    assert_eq!(
        [c.node_time(0), c.node_time(1), c.node_time(2)],
        [79, 98, 39]
    );
    assert_eq!(fired(&c), [None, None, None]);
    // 100 ms of node 1's time is 80 ms of the simulation's.
    c.apply(3, &SimStep::Advance { ms: 1 }).unwrap();
    assert_eq!(fired(&c), [None, Some(100), None]);
    c.apply(4, &SimStep::Advance { ms: 20 }).unwrap();
    assert_eq!(fired(&c), [Some(100), Some(100), None]);
    // Node 2 runs at half speed: its 100 ms take 200.
    c.apply(5, &SimStep::Advance { ms: 99 }).unwrap();
    assert_eq!(fired(&c)[2], None);
    c.apply(6, &SimStep::Advance { ms: 1 }).unwrap();
    assert_eq!(fired(&c)[2], Some(100));
    // A drift set again to the rate the clock already runs at does nothing.
    let trace_before = c.trace().len();
    c.apply(
        7,
        &SimStep::ClockDrift {
            node: 2,
            rate: -500,
        },
    )
    .unwrap();
    assert!(
        c.trace()[trace_before..]
            .iter()
            .any(|l| l.contains("no-op")),
        "{:?}",
        c.trace()
    );
}

/// How long a lease lasts, and how long the follower waits without hearing from the leader
/// before taking over, each in ms of the node's own clock.
const LEASE_MS: u64 = 300;
/// How often the follower checks whether to take over, in ms of its own clock.
const TICK_MS: u64 = 10;

#[derive(Clone, Debug)]
enum Msg {
    /// The leader asks for a lease, with its clock when it asked.
    Heartbeat { sent: u64 },
    /// The follower heard the heartbeat sent at `sent`.
    Ack { sent: u64 },
    /// A write to copy, numbered by the leader.
    Replicate {
        seq: u64,
        value: i64,
        request: RequestId,
    },
    /// The follower holds the write.
    Replicated {
        seq: u64,
        value: i64,
        request: RequestId,
    },
}

/// What survives a crash: the newest write (its number and value), the leader's write counter,
/// and whether the follower has taken over.
#[derive(Clone, Copy, Debug, Default)]
struct Disk {
    seq: u64,
    value: Option<i64>,
    next_seq: u64,
    took_over: bool,
}

/// Two nodes. Node 0 leads: it serves reads from its own copy while it holds a lease, and a
/// request that finds it without one is refused and makes it ask the follower for one (a
/// heartbeat); the follower's answer grants the lease until the heartbeat's send time plus
/// `LEASE_MS` of the leader's clock. Writes are acknowledged once the follower holds them.
/// Node 1 follows: on each heartbeat it promises not to take over for `LEASE_MS` of its own
/// clock, and after that long without one (or a write to copy) it takes over and serves
/// everything itself. Correct while the clocks run at the same rate, whatever the network
/// does (the promise starts when the heartbeat arrives, after the lease started); a follower
/// clock that runs fast, or a leader clock that runs slow, ends the promise before the lease,
/// and the old leader serves a stale read.
struct Lease {
    disk: Disk,
    /// Leader: its clock when the lease ends. Follower: its clock when it last heard the leader.
    until: u64,
}

impl Lease {
    fn leader_serves(&self, ctx: &Context<'_, Self>) -> bool {
        match ctx.id() {
            0 => ctx.now() < self.until,
            _ => self.disk.took_over,
        }
    }
}

impl Node for Lease {
    type Message = Msg;
    type Request = RegisterOp;
    type Response = RegisterOut;
    type Durable = Disk;

    fn start(ctx: &mut Context<'_, Self>, disk: Disk) -> Self {
        ctx.set_timer(TICK_MS);
        // A leader starts without a lease; a follower waits a full lease from now.
        let until = if ctx.id() == 0 { 0 } else { ctx.now() };
        Lease { disk, until }
    }

    fn on_request(&mut self, ctx: &mut Context<'_, Self>, request: RequestId, op: RegisterOp) {
        if !self.leader_serves(ctx) {
            // The leader renews its lease when it needs one: this request is refused, a later
            // one may be served.
            if ctx.id() == 0 {
                ctx.send(1, Msg::Heartbeat { sent: ctx.now() });
            }
            return ctx.reject(request);
        }
        match op {
            RegisterOp::Read => ctx.reply(request, RegisterOut::Value(self.disk.value)),
            RegisterOp::Write { value } if ctx.id() == 0 => {
                self.disk.next_seq += 1;
                let seq = self.disk.next_seq;
                ctx.send(
                    1,
                    Msg::Replicate {
                        seq,
                        value,
                        request,
                    },
                );
            }
            RegisterOp::Write { value } => {
                self.disk.seq += 1;
                self.disk.value = Some(value);
                ctx.reply(request, RegisterOut::Written);
            }
            RegisterOp::Cas { .. } => ctx.reject(request),
        }
    }

    fn on_message(&mut self, ctx: &mut Context<'_, Self>, from: NodeId, message: Msg) {
        match message {
            // A follower that took over hears nobody: the old leader's lease runs out.
            _ if ctx.id() == 1 && self.disk.took_over => {}
            Msg::Heartbeat { sent } => {
                self.until = ctx.now();
                ctx.send(from, Msg::Ack { sent });
            }
            Msg::Ack { sent } => self.until = self.until.max(sent + LEASE_MS),
            Msg::Replicate {
                seq,
                value,
                request,
            } => {
                self.until = ctx.now();
                if seq > self.disk.seq {
                    self.disk.seq = seq;
                    self.disk.value = Some(value);
                }
                ctx.send(
                    from,
                    Msg::Replicated {
                        seq,
                        value,
                        request,
                    },
                );
            }
            Msg::Replicated {
                seq,
                value,
                request,
            } => {
                if seq > self.disk.seq {
                    self.disk.seq = seq;
                    self.disk.value = Some(value);
                }
                ctx.reply(request, RegisterOut::Written);
            }
        }
    }

    fn on_timer(&mut self, ctx: &mut Context<'_, Self>, _: TimerId) {
        ctx.set_timer(TICK_MS);
        if ctx.id() == 1 && !self.disk.took_over && ctx.now() >= self.until + LEASE_MS {
            self.disk.took_over = true;
        }
    }

    fn durable(&self) -> Disk {
        self.disk
    }
}

fn lease_cluster(max_drift_ppt: u16) -> Sim<CasRegister> {
    // Clock skew is off: a clock stepped forward ends any promise at once. The lease is meant
    // to survive clocks that run at the same rate: it is tested with every other fault, then
    // with drift up to twice (or half) the speed. Short request timeouts keep sessions free.
    let settings = Settings::default()
        .never_quiet()
        .tail(500)
        .request_timeout(50)
        .clock_faults(0, max_drift_ppt);
    Sim::new(CasRegister::default(), 2, 2).settings(settings)
}

fn config(seed: u64, cases: u64) -> Config {
    Config::default()
        .ignore_env()
        .seed(seed)
        .cases(cases)
        .steps(1..40)
        .persist(false)
}

#[test]
fn the_lease_holds_when_clocks_run_at_the_same_rate() {
    for seed in [1, 2] {
        let result =
            Runner::with_initial(config(seed, 1_000), lease_cluster(0)).run_simulated::<Lease>();
        assert!(!result.failed(), "{}", result.report.text());
        assert_eq!(result.report.stats.cases, 1_000);
    }
}

#[test]
fn clock_drift_breaks_the_lease_and_shrinks_to_a_program_with_the_drift() {
    // Found within a few hundred cases: a follower clock that runs fast, or a leader clock
    // that runs slow (seed 1 finds the first, seeds 2 and 3 the second).
    for seed in [1, 2, 3] {
        let result =
            Runner::with_initial(config(seed, 3_000), lease_cluster(1000)).run_simulated::<Lease>();
        assert!(result.failed(), "seed {seed}: not found");
        eprintln!(
            "seed {seed}: cases {} minimal {:?}",
            result.report.stats.cases, result.minimal
        );
        let text = result.report.text();
        assert!(text.contains("not linearizable"), "seed {seed}: {text}");
        let minimal = &result.minimal;
        let drift = minimal
            .iter()
            .position(|s| matches!(s, SimStep::ClockDrift { .. }))
            .unwrap_or_else(|| panic!("seed {seed}: no drift in {minimal:?}"));
        assert!(minimal.len() <= 8, "seed {seed}: {minimal:?}");
        assert!(text.contains("SimStep::ClockDrift {"), "{text}");
        // The drift is what breaks it: without that step the same program passes.
        let mut without = minimal.clone();
        without.remove(drift);
        stateprop::replay_simulated::<_, Lease>(
            Config::default().ignore_env(),
            lease_cluster(1000),
            &without,
        );
    }
}
