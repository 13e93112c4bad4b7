//! Time that never moves on: nodes that answer each other through messages of no delay would
//! spin the simulator forever at one instant, where a real system would hang. The run stops
//! after a bounded number of events at one instant and reports a livelock at the step that
//! started it, shrunk like any failure, instead of spinning until the watchdog blames a hang.

use stateprop::models::{Counter, CounterOp, CounterOut};
use stateprop::sim::{Context, Node, NodeId, RequestId, Settings, Sim, SimStep, TimerId};
use stateprop::{Config, FailureKind, Runner};
use std::time::Duration;

/// A request starts a ping-pong between node 0 and node 1 that never ends.
struct PingPong;

impl Node for PingPong {
    type Message = u64;
    type Request = CounterOp;
    type Response = CounterOut;
    type Durable = ();

    fn start(_: &mut Context<'_, Self>, _: ()) -> Self {
        PingPong
    }

    fn on_request(&mut self, ctx: &mut Context<'_, Self>, request: RequestId, op: CounterOp) {
        match op {
            CounterOp::Add { .. } => {
                let to = 1 - ctx.id().min(1);
                ctx.send(to, 0);
                ctx.reply(request, CounterOut::Done);
            }
            CounterOp::Read => ctx.reply(request, CounterOut::Value(0)),
        }
    }

    fn on_message(&mut self, ctx: &mut Context<'_, Self>, from: NodeId, n: u64) {
        ctx.send(from, n + 1);
    }

    fn on_timer(&mut self, _: &mut Context<'_, Self>, _: TimerId) {}

    fn durable(&self) {}
}

#[test]
fn messages_of_no_delay_answering_each_other_are_a_livelock_shrunk_to_its_request() {
    let sim = Sim::new(Counter::default(), 2, 1).settings(Settings::default().delay(0, 0));
    let config = Config::default()
        .ignore_env()
        .seed(3)
        .cases(50)
        .persist(false)
        .step_timeout(Duration::from_secs(30));
    let result = Runner::with_initial(config, sim).run_simulated::<PingPong>();
    let text = result.report.text();
    let failure = result
        .report
        .failure
        .as_ref()
        .expect("the livelock is found");
    let FailureKind::Invariant { message } = &failure.kind else {
        panic!("not reported as a livelock:\n{text}");
    };
    assert!(
        message.contains("livelock: more than 100000 events at "),
        "{text}"
    );
    // One request starts it; nothing else is needed.
    assert!(
        matches!(
            result.minimal.as_slice(),
            [SimStep::Request {
                op: CounterOp::Add { .. },
                ..
            }]
        ),
        "{text}"
    );
}
