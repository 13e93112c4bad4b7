//! A non-idempotent retry: a counter whose backups forward each addition to the primary and
//! resend it until it is confirmed, while the primary applies every copy it receives. A slow
//! confirmation, or a duplicated message, adds twice; the run finds it and shrinks it.

use stateprop::models::{Counter, CounterOp, CounterOut};
use stateprop::sim::{Context, Node, NodeId, RequestId, Sim, SimStep, TimerId};
use stateprop::{Config, FailureKind, HistoryViolation, Runner};
use std::collections::BTreeMap;

/// Resends sooner than the slowest round trip (messages take 1 to 10 ms each way).
const RETRY_MS: u64 = 5;

#[derive(Clone, Debug)]
enum Msg {
    Forward { request: RequestId, op: CounterOp },
    Done { request: RequestId, out: CounterOut },
}

/// With `DEDUPE`, the primary remembers what it answered and applies each request once.
struct Retrying<const DEDUPE: bool> {
    id: NodeId,
    value: i64,
    answered: BTreeMap<RequestId, CounterOut>,
    /// A backup's forwarded requests not yet confirmed, by the timer that resends each.
    waiting: BTreeMap<TimerId, (RequestId, CounterOp)>,
}

impl<const DEDUPE: bool> Retrying<DEDUPE> {
    fn apply(&mut self, request: RequestId, op: &CounterOp) -> CounterOut {
        if let Some(out) = self.answered.get(&request).filter(|_| DEDUPE) {
            return out.clone();
        }
        let out = match *op {
            // The bug without `DEDUPE`: a resent addition is added again.
            CounterOp::Add { by } => {
                self.value += by;
                CounterOut::Done
            }
            CounterOp::Read => CounterOut::Value(self.value),
        };
        self.answered.insert(request, out.clone());
        out
    }
}

impl<const DEDUPE: bool> Node for Retrying<DEDUPE> {
    type Message = Msg;
    type Request = CounterOp;
    type Response = CounterOut;
    type Durable = (i64, BTreeMap<RequestId, CounterOut>);

    fn start(ctx: &mut Context<'_, Self>, (value, answered): Self::Durable) -> Self {
        Retrying {
            id: ctx.id(),
            value,
            answered,
            waiting: BTreeMap::new(),
        }
    }

    fn on_request(&mut self, ctx: &mut Context<'_, Self>, request: RequestId, op: CounterOp) {
        if self.id == 0 {
            let out = self.apply(request, &op);
            ctx.reply(request, out);
            return;
        }
        ctx.send(
            0,
            Msg::Forward {
                request,
                op: op.clone(),
            },
        );
        let timer = ctx.set_timer(RETRY_MS);
        self.waiting.insert(timer, (request, op));
    }

    fn on_message(&mut self, ctx: &mut Context<'_, Self>, from: NodeId, message: Msg) {
        match message {
            Msg::Forward { request, op } => {
                let out = self.apply(request, &op);
                ctx.send(from, Msg::Done { request, out });
            }
            Msg::Done { request, out } => {
                let timers: Vec<TimerId> = self
                    .waiting
                    .iter()
                    .filter(|(_, (r, _))| *r == request)
                    .map(|(&t, _)| t)
                    .collect();
                if !timers.is_empty() {
                    ctx.reply(request, out);
                }
                for timer in timers {
                    ctx.cancel_timer(timer);
                    self.waiting.remove(&timer);
                }
            }
        }
    }

    fn on_timer(&mut self, ctx: &mut Context<'_, Self>, timer: TimerId) {
        if let Some((request, op)) = self.waiting.remove(&timer) {
            ctx.send(
                0,
                Msg::Forward {
                    request,
                    op: op.clone(),
                },
            );
            let again = ctx.set_timer(RETRY_MS);
            self.waiting.insert(again, (request, op));
        }
    }

    fn durable(&self) -> Self::Durable {
        (self.value, self.answered.clone())
    }
}

fn config(seed: u64) -> Config {
    Config::default()
        .ignore_env()
        .seed(seed)
        .cases(200)
        .steps(1..30)
        .persist(false)
}

#[test]
fn an_addition_applied_twice_is_found_and_shrunk() {
    let result = Runner::with_initial(config(5), Sim::new(Counter::default(), 2, 2))
        .run_simulated::<Retrying<false>>();
    assert!(result.failed(), "{}", result.report.text());
    let failure = result.report.failure.as_ref().expect("a failure");
    assert!(
        matches!(&failure.kind, FailureKind::History(v)
            if matches!(**v, HistoryViolation::NotLinearizable { .. })),
        "{failure:?}"
    );
    // An addition sent to the backup, time for a resend to land, and a read that sees it
    // twice: nothing less shows the bug.
    let minimal = &result.minimal;
    assert!(minimal.len() <= 4, "{minimal:?}");
    assert!(
        minimal.iter().any(|s| matches!(
            s,
            SimStep::Request { node: 1, op: CounterOp::Add { by }, .. } if *by != 0
        )),
        "{minimal:?}"
    );
    assert!(
        minimal.iter().any(|s| matches!(
            s,
            SimStep::Request {
                op: CounterOp::Read,
                ..
            }
        )),
        "{minimal:?}"
    );
}

#[test]
fn the_deduplicating_counter_passes() {
    let result = Runner::with_initial(config(5), Sim::new(Counter::default(), 2, 2))
        .run_simulated::<Retrying<true>>();
    assert!(!result.failed(), "{}", result.report.text());
}
