//! The simulated executor's own tests: step keys, failures at their steps, the liveness tail
//! and the reads after it.

use super::{step_keys, Simulated};
use crate::exec::watchdog::Heartbeat;
use crate::exec::{Executor, Recording};
use crate::failure::FailureKind;
use crate::models::{CasRegister, RegisterOp, RegisterOut};
use crate::program::{Program, StepId};
use crate::sim::__engine::{Cluster, Settings};
use crate::sim::{Context, Node, NodeId, RequestId, Sim, SimOut, SimStep, TimerId};

/// Writes are sent on to every peer, which keeps the last value it heard. A write of 4
/// panics; a node that hears 3 breaks the cluster invariant.
struct Echo {
    heard: Option<i64>,
}

impl Node for Echo {
    type Message = i64;
    type Request = RegisterOp;
    type Response = RegisterOut;
    type Durable = ();

    fn start(_: &mut Context<'_, Self>, _: ()) -> Self {
        Echo { heard: None }
    }

    fn on_request(&mut self, ctx: &mut Context<'_, Self>, request: RequestId, op: RegisterOp) {
        match op {
            RegisterOp::Read => ctx.reply(request, RegisterOut::Value(self.heard)),
            RegisterOp::Write { value } => {
                assert!(value != 4, "four");
                for peer in ctx.peers() {
                    ctx.send(peer, value);
                }
                ctx.reply(request, RegisterOut::Written);
            }
            RegisterOp::Cas { .. } => ctx.reject(request),
        }
    }

    fn on_message(&mut self, _: &mut Context<'_, Self>, _: NodeId, value: i64) {
        self.heard = Some(value);
    }

    fn on_timer(&mut self, _: &mut Context<'_, Self>, _: TimerId) {}

    fn durable(&self) {}

    fn cluster_invariant(nodes: &[Option<&Self>]) -> Result<(), String> {
        match nodes
            .iter()
            .position(|n| n.is_some_and(|n| n.heard == Some(3)))
        {
            Some(i) => Err(format!("n{i} heard 3")),
            None => Ok(()),
        }
    }
}

fn write(node: NodeId, value: i64) -> SimStep<RegisterOp> {
    SimStep::Request {
        client: 0,
        node,
        op: RegisterOp::Write { value },
    }
}

fn run(steps: Vec<SimStep<RegisterOp>>, trace: bool) -> crate::exec::Execution<Sim<CasRegister>> {
    let executor: Simulated<CasRegister, Echo> = Simulated::new(
        Sim::new(CasRegister::default(), 3, 1),
        9,
        Settings::default(),
    );
    let recording = Recording {
        history: true,
        trace,
        linearized: true,
    };
    executor.execute(
        &Program::sequential(steps),
        recording,
        &Heartbeat::default(),
    )
}

/// The trace lines that say when each message sent arrives.
fn arrivals(lines: &[String]) -> Vec<String> {
    lines
        .iter()
        .filter(|l| l.contains("arrives at"))
        .cloned()
        .collect()
}

#[test]
fn deleting_an_unrelated_earlier_step_keeps_the_later_delays() {
    let full = vec![
        SimStep::ClockSkew { node: 2, ms: 5 },
        write(0, 1),
        SimStep::Advance { ms: 50 },
    ];
    let before = arrivals(&run(full.clone(), true).trace);
    let after = arrivals(&run(full[1..].to_vec(), true).trace);
    assert_eq!(before.len(), 2, "{before:?}");
    assert_eq!(before, after);
    // Keyed by position instead, the write's draws move with it: the test above would
    // see that.
    let positional = |steps: &[SimStep<RegisterOp>]| {
        let mut cluster = Cluster::<Echo>::new(3, 9, Settings::default());
        for (i, step) in steps.iter().enumerate() {
            cluster.apply(i as u64, step).expect("no invariant breaks");
        }
        arrivals(cluster.trace())
    };
    assert_ne!(positional(&full), positional(&full[1..]));
}

#[test]
fn a_step_keeps_its_key_when_an_earlier_step_goes() {
    let full = [
        SimStep::Heal,
        SimStep::Advance { ms: 5 },
        write(0, 1),
        SimStep::Advance { ms: 5 },
    ];
    let keys = step_keys(7, &full);
    let shrunk = step_keys(7, &full[1..]);
    assert_eq!(keys[1..], shrunk[..]);
    // Identical steps draw apart, and another seed draws elsewhere.
    assert_ne!(keys[1], keys[3]);
    assert_ne!(step_keys(8, &full), keys);
    // Deleting an identical earlier step renumbers the later copy: the one case where a
    // key moves, as the copies cannot be told apart.
    let without_first = step_keys(7, &[SimStep::Heal, write(0, 1), SimStep::Advance { ms: 5 }]);
    assert_eq!(without_first[2], keys[1]);
}

#[test]
fn a_broken_cluster_invariant_fails_the_step_it_broke_at() {
    let run = run(
        vec![write(0, 1), write(0, 3), SimStep::Advance { ms: 50 }],
        false,
    );
    let failure = run.failure.expect("the invariant breaks");
    assert_eq!(failure.step, Some(StepId::prefix(2)));
    assert!(
        matches!(&failure.kind, FailureKind::Invariant { message } if message.contains("heard 3")),
        "{failure:?}"
    );
}

#[test]
fn a_panicking_handler_fails_its_step() {
    let run = run(vec![write(0, 1), write(1, 4), write(0, 2)], false);
    let failure = run.failure.expect("the node panics");
    assert_eq!(failure.step, Some(StepId::prefix(1)));
    assert!(
        matches!(&failure.kind, FailureKind::Panic { message } if message.contains("four")),
        "{failure:?}"
    );
}

/// Pings its peers every 10 ms, forever: it never goes quiet.
struct Chatty;

impl Node for Chatty {
    type Message = ();
    type Request = RegisterOp;
    type Response = RegisterOut;
    type Durable = ();

    fn start(ctx: &mut Context<'_, Self>, _: ()) -> Self {
        ctx.set_timer(10);
        Chatty
    }

    fn on_request(&mut self, ctx: &mut Context<'_, Self>, request: RequestId, _: RegisterOp) {
        ctx.reject(request);
    }

    fn on_message(&mut self, _: &mut Context<'_, Self>, _: NodeId, _: ()) {}

    fn on_timer(&mut self, ctx: &mut Context<'_, Self>, _: TimerId) {
        for peer in ctx.peers() {
            ctx.send(peer, ());
        }
        ctx.set_timer(10);
    }

    fn durable(&self) {}
}

#[test]
fn a_cluster_that_never_goes_quiet_fails_the_liveness_tail() {
    let executor: Simulated<CasRegister, Chatty> = Simulated::new(
        Sim::new(CasRegister::default(), 2, 1),
        9,
        Settings::default(),
    );
    let program = Program::sequential(vec![SimStep::Heal, SimStep::Advance { ms: 5 }]);
    let run = executor.execute(&program, Recording::default(), &Heartbeat::default());
    let failure = run.failure.expect("the tail does not go quiet");
    assert_eq!(failure.step, Some(StepId::prefix(1)));
    assert!(
        matches!(&failure.kind, FailureKind::Invariant { message } if message.contains("did not go quiet")),
        "{failure:?}"
    );
    // The register's echo goes quiet once its messages land.
    assert_eq!(run_echo_quietly(), None);
}

fn run_echo_quietly() -> Option<crate::failure::Failure> {
    run(vec![write(0, 1), write(1, 2)], false).failure
}

#[test]
fn the_history_names_the_request_steps() {
    let read = SimStep::Request {
        client: 0,
        node: 1,
        op: RegisterOp::Read,
    };
    let run = run(
        vec![
            SimStep::Heal,
            write(0, 1),
            SimStep::Advance { ms: 50 },
            read.clone(),
        ],
        true,
    );
    assert_eq!(run.failure, None);
    let history = run.history.expect("recorded");
    assert_eq!(history.steps[..2], [StepId::prefix(1), StepId::prefix(3)]);
    assert_eq!(history.ops[0].op, write(0, 1));
    assert_eq!(history.ops[1].op, read);
    assert_eq!(
        history.ops[1].output,
        Some(SimOut::Answer(RegisterOut::Value(Some(1))))
    );
    // Then the program's one read again at every node, each from a client of its own (the
    // program used client 0), named as steps after the program's last.
    assert_eq!(
        history.steps[2..],
        [StepId::prefix(4), StepId::prefix(5), StepId::prefix(6)]
    );
    for (node, op) in history.ops[2..].iter().enumerate() {
        let again = SimStep::Request {
            client: 1 + node as u8,
            node: node as u8,
            op: RegisterOp::Read,
        };
        assert_eq!(op.op, again);
        assert_eq!(op.client, 1 + node as u64);
    }
    // Node 0 wrote the value without hearing it: Echo is no register, and the final read
    // there shows it.
    assert_eq!(
        history.ops[2].output,
        Some(SimOut::Answer(RegisterOut::Value(None)))
    );
    assert!(
        run.trace
            .iter()
            .any(|l| l.contains("ms read 4 after the tail: ")),
        "{:?}",
        run.trace
    );
    // The trace names steps by position, and the tail for what it is.
    assert!(
        run.trace.iter().any(|l| l.contains("ms step 3: ")),
        "{:?}",
        run.trace
    );
    assert!(run
        .trace
        .iter()
        .any(|l| l.contains("after the program: liveness tail")));
}

/// A register on one node that keeps nothing across a crash: a write it acknowledged is
/// gone after the restart.
struct Forgetful {
    value: Option<i64>,
}

impl Node for Forgetful {
    type Message = ();
    type Request = RegisterOp;
    type Response = RegisterOut;
    type Durable = ();

    fn start(_: &mut Context<'_, Self>, _: ()) -> Self {
        Forgetful { value: None }
    }

    fn on_request(&mut self, ctx: &mut Context<'_, Self>, request: RequestId, op: RegisterOp) {
        let mut model = CasRegister { value: self.value };
        let out = crate::spec::Model::step(&mut model, &op);
        self.value = model.value;
        ctx.reply(request, out);
    }

    fn on_message(&mut self, _: &mut Context<'_, Self>, _: NodeId, _: ()) {}

    fn on_timer(&mut self, _: &mut Context<'_, Self>, _: TimerId) {}

    fn durable(&self) {}
}

#[test]
fn a_write_lost_after_it_was_acknowledged_is_caught_by_the_reads_after_the_tail() {
    use crate::failure::HistoryViolation;
    use crate::judge::{judge_history, linearizable};
    let executor: Simulated<CasRegister, Forgetful> = Simulated::new(
        Sim::new(CasRegister::default(), 1, 1),
        9,
        Settings::default(),
    );
    let read = SimStep::Request {
        client: 0,
        node: 0,
        op: RegisterOp::Read,
    };
    // The program alone is linearizable: the read ran before the write, and nothing reads
    // after the crash.
    let program = Program::sequential(vec![read, write(0, 1), SimStep::Crash { node: 0 }]);
    let recording = Recording {
        history: true,
        trace: false,
        linearized: true,
    };
    let run = executor.execute(&program, recording, &Heartbeat::default());
    assert_eq!(run.failure, None);
    let history = run.history.expect("recorded");
    assert_eq!(history.ops.len(), 3, "{history:?}");
    let failure = judge_history(
        &[linearizable()],
        executor.initial(),
        &history,
        &mut Vec::new(),
    )
    .expect("the write is lost");
    let FailureKind::History(violation) = failure.kind else {
        panic!("{failure:?}");
    };
    assert!(
        matches!(
            *violation,
            HistoryViolation::NotLinearizable { blocked, .. } if blocked == StepId::prefix(3)
        ),
        "{violation:?}"
    );
}

#[test]
fn a_session_judge_stops_the_run_at_the_step_that_broke_read_your_writes() {
    use crate::check::Guarantee;
    use crate::failure::HistoryViolation;
    let judges = [crate::judge::session_guarantees::<Sim<CasRegister>>(&[
        Guarantee::ReadYourWrites,
        Guarantee::MonotonicReads,
    ])];
    let executor: Simulated<CasRegister, Echo> = Simulated::new(
        Sim::new(CasRegister::default(), 3, 1),
        9,
        Settings::default(),
    )
    .judged_after_every_step(&judges);
    let read = |node| SimStep::Request {
        client: 0,
        node,
        op: RegisterOp::Read,
    };
    // Step 2 reads at node 1 before the write's message reached it: a stale read.
    let steps = vec![
        SimStep::Advance { ms: 1 },
        write(0, 1),
        read(1),
        SimStep::Advance { ms: 50 },
        write(0, 2),
        read(2),
    ];
    let recording = Recording {
        history: true,
        trace: false,
        linearized: false,
    };
    let run = executor.execute(
        &Program::sequential(steps),
        recording,
        &Heartbeat::default(),
    );
    let failure = run.failure.expect("the stale read");
    assert_eq!(failure.step, Some(StepId::prefix(2)));
    let FailureKind::History(v) = &failure.kind else {
        panic!("{failure:?}")
    };
    assert_eq!(
        **v,
        HistoryViolation::SessionGuarantee {
            guarantee: Guarantee::ReadYourWrites,
            session: 0,
            earlier: StepId::prefix(1),
            later: StepId::prefix(2),
            involved: vec![StepId::prefix(1), StepId::prefix(2)],
            others: 0,
        }
    );
    // The run stopped there: the later requests never went out.
    assert_eq!(run.history.expect("recorded").ops.len(), 2);
}

/// Each node keeps its own value: writes and reads answer at once; a compare-and-set asks a
/// peer first, and fails without writing when the peer answers.
struct Asks {
    value: Option<i64>,
}

impl Node for Asks {
    /// (whether it is the answer, the compare-and-set it is about)
    type Message = (bool, RequestId);
    type Request = RegisterOp;
    type Response = RegisterOut;
    type Durable = ();

    fn start(_: &mut Context<'_, Self>, _: ()) -> Self {
        Asks { value: None }
    }

    fn on_request(&mut self, ctx: &mut Context<'_, Self>, request: RequestId, op: RegisterOp) {
        match op {
            RegisterOp::Read => ctx.reply(request, RegisterOut::Value(self.value)),
            RegisterOp::Write { value } => {
                self.value = Some(value);
                ctx.reply(request, RegisterOut::Written);
            }
            RegisterOp::Cas { .. } => {
                let peer = ctx.peers().next().expect("a peer");
                ctx.send(peer, (false, request));
            }
        }
    }

    fn on_message(
        &mut self,
        ctx: &mut Context<'_, Self>,
        from: NodeId,
        (answer, request): (bool, RequestId),
    ) {
        if answer {
            ctx.reply(request, RegisterOut::Cas(false));
        } else {
            ctx.send(from, (true, request));
        }
    }

    fn on_timer(&mut self, _: &mut Context<'_, Self>, _: TimerId) {}

    fn durable(&self) {}
}

#[test]
fn a_read_that_may_show_a_write_in_flight_fails_the_step_that_ends_it() {
    use crate::check::Guarantee;
    use crate::failure::HistoryViolation;
    let judges = [crate::judge::session_guarantees::<Sim<CasRegister>>(&[
        Guarantee::ReadYourWrites,
    ])];
    let executor: Simulated<CasRegister, Asks> = Simulated::new(
        Sim::new(CasRegister::default(), 2, 3),
        9,
        Settings::default(),
    )
    .judged_after_every_step(&judges);
    let request = |client, node, op| SimStep::Request { client, node, op };
    let steps = vec![
        request(1, 1, RegisterOp::Write { value: 9 }),
        // In flight until its peer answers: it may yet write 9.
        request(2, 0, RegisterOp::Cas { from: 0, to: 9 }),
        request(0, 0, RegisterOp::Write { value: 1 }),
        // 9 is older than the client's own write, unless the compare-and-set wrote it.
        request(0, 1, RegisterOp::Read),
        SimStep::Advance { ms: 50 },
        request(0, 1, RegisterOp::Read),
    ];
    let recording = Recording {
        history: true,
        trace: false,
        linearized: false,
    };
    let run = executor.execute(
        &Program::sequential(steps),
        recording,
        &Heartbeat::default(),
    );
    let failure = run.failure.expect("the stale read");
    // Proven when the compare-and-set failed, in step 4; the run stopped there.
    assert_eq!(failure.step, Some(StepId::prefix(4)));
    let FailureKind::History(v) = &failure.kind else {
        panic!("{failure:?}")
    };
    let HistoryViolation::SessionGuarantee {
        earlier,
        later,
        ref involved,
        ..
    } = **v
    else {
        panic!("{v:?}")
    };
    assert_eq!((earlier, later), (StepId::prefix(2), StepId::prefix(3)));
    assert_eq!(involved, &[0, 2, 3].map(StepId::prefix));
    assert_eq!(run.history.expect("recorded").ops.len(), 4);
}
