//! The simulated executor: a program of [`SimStep`]s carried out on a fresh deterministic
//! [`Cluster`] of nodes, then the liveness tail, the client history kept for the run's judges.
//!
//! Simulated programs are sequential (a prefix only): the concurrency is inside the cluster,
//! in the order the seed gives messages and timers, not in threads.
//!
//! Randomness must not move when the shrinker deletes a step. The cluster draws each step's
//! randomness (message delays, a node's `Context::random`) from the key it is handed for the
//! step; the key given here is not the step's position but [`step_key`]: the schedule seed, the
//! step's Rust text, and how many identical steps came before it. Deleting an unrelated earlier
//! step then leaves every later step's draws as they were, which is what lets a shrunk program
//! keep the failure it was shrunk for.

use super::watchdog::Heartbeat;
use super::{Execution, Executor, Recording};
use crate::catch::catch;
use crate::check::session::{Monitor, MonitorFactory, SessionViolation};
use crate::failure::{Failure, FailureKind, HistoryViolation};
use crate::hash::mix;
use crate::history::History;
use crate::judge::Judge;
use crate::program::{Program, StepId};
use crate::sim::__engine::HistoryChange;
use crate::sim::__engine::{Cluster, Settings};
use crate::sim::{Node, Sim, SimOut, SimStep};
use crate::spec::{Model, StateMachine};
use std::collections::BTreeMap;
use std::marker::PhantomData;

/// Runs simulated programs over the service model `M` on clusters of `N` nodes.
pub(crate) struct Simulated<M: Model, N> {
    initial: Sim<M>,
    seed: u64,
    settings: Settings,
    /// The incremental judges fed every step's changes to the client history.
    monitors: Vec<MonitorFactory<Sim<M>>>,
    _nodes: PhantomData<fn() -> N>,
}

impl<M: Model, N> Simulated<M, N>
where
    N: Node<Request = M::Op, Response = M::Output>,
{
    /// An executor whose clusters draw from `seed` (`Config::schedule_seed`), with the
    /// cluster shape of `initial`.
    pub(crate) fn new(initial: Sim<M>, seed: u64, settings: Settings) -> Self {
        Simulated {
            initial,
            seed,
            settings,
            monitors: Vec::new(),
            _nodes: PhantomData,
        }
    }

    /// Follows the client history with the incremental forms of these judges (those that have
    /// one: the session judge's read your writes and monotonic reads) and stops each run at the
    /// first step that proves a violation. The judges still judge the whole history after the
    /// run, for what only the end can tell.
    pub(crate) fn judged_after_every_step(mut self, judges: &[Judge<Sim<M>>]) -> Self {
        self.monitors = judges.iter().filter_map(Judge::monitor).collect();
        self
    }
}

/// The key step `step` draws its randomness under: the seed, the step's Rust text, and
/// `repeat`, how many identical steps came before it (two identical `Advance`s still draw
/// apart). Keys are 31 bits, as the cluster's history names a request's step by its key and a
/// [`StepId`] holds a `u32`.
pub(crate) fn step_key(seed: u64, text: &str, repeat: u32) -> u64 {
    let mut h = mix(seed ^ 0x5349_4d53_5445_5053);
    for chunk in text.as_bytes().chunks(8) {
        let mut word = [0u8; 8];
        word[..chunk.len()].copy_from_slice(chunk);
        h = mix(h ^ u64::from_le_bytes(word));
    }
    mix(h ^ u64::from(repeat)) >> 33
}

/// The key of the liveness tail, which comes after every step.
fn tail_key(seed: u64) -> u64 {
    mix(seed ^ 0x5441_494c) >> 33
}

/// The keys of a program's steps, in order.
pub(crate) fn step_keys<Op: StateMachine>(seed: u64, steps: &[Op]) -> Vec<u64> {
    let mut seen: BTreeMap<String, u32> = BTreeMap::new();
    let mut taken = std::collections::BTreeSet::new();
    steps
        .iter()
        .map(|step| {
            let text = step.to_rust();
            let repeat = seen.entry(text.clone()).or_default();
            let mut key = step_key(seed, &text, *repeat);
            *repeat += 1;
            // Two steps must not share a key (the history maps keys back to steps): on the
            // rare collision (about one program in ten million), draw again. Only then does
            // a key depend on the steps before it.
            let mut again = 0;
            while !taken.insert(key) {
                again += 1;
                key = step_key(seed ^ again, &text, *repeat);
            }
            key
        })
        .collect()
}

impl<M: Model, N> Executor<Sim<M>> for Simulated<M, N>
where
    N: Node<Request = M::Op, Response = M::Output>,
{
    fn initial(&self) -> &Sim<M> {
        &self.initial
    }

    fn execute(
        &self,
        program: &Program<SimStep<M::Op>>,
        recording: Recording,
        hb: &Heartbeat,
    ) -> Execution<Sim<M>> {
        debug_assert!(program.branches.is_empty());
        let steps = &program.prefix;
        let keys = step_keys(self.seed, steps);
        // The cluster names steps by the keys it was handed: map them back to positions.
        let position: BTreeMap<u64, usize> =
            keys.iter().enumerate().map(|(i, &k)| (k, i)).collect();
        let settings = self.settings.clone().keep_trace(recording.trace);
        let nodes = usize::from(self.initial.nodes());
        let seed = self.seed;
        hb.enter_step();
        let booted = catch(|| Cluster::<N>::new(nodes, seed, settings));
        hb.main().leave_set_up();
        let mut cluster = match booted {
            Ok(cluster) => cluster,
            Err(message) => return Execution::set_up_failed(message, recording),
        };
        let fail = |i: usize, kind| Failure {
            step: Some(StepId::prefix(i)),
            op: Some(steps[i].to_rust()),
            kind,
        };
        let mut failure = None;
        // Whether a handler panicked: the cluster may be half way through a step, so neither
        // the tail nor the history after it mean anything.
        let mut torn = false;
        let mut watch = Watch::new(&self.monitors, &self.initial, &mut cluster);
        for (i, step) in steps.iter().enumerate() {
            hb.enter_step();
            let applied = catch(|| cluster.apply(keys[i], step));
            hb.leave_step();
            match applied {
                Ok(Ok(())) => {
                    if let Some(found) = watch.step(&mut cluster, i, steps, &position) {
                        failure = Some(found);
                        break;
                    }
                }
                Ok(Err(broken)) => {
                    failure = Some(fail(
                        i,
                        FailureKind::Invariant {
                            message: broken.message,
                        },
                    ));
                    break;
                }
                Err(message) => {
                    failure = Some(fail(i, FailureKind::Panic { message }));
                    torn = true;
                    break;
                }
            }
        }
        if failure.is_none() {
            failure = self.tail(&mut cluster, steps, hb);
            torn = matches!(&failure, Some(f) if matches!(f.kind, FailureKind::Panic { .. }));
        }
        // The final reads only feed the history: without one there is nothing to judge them in.
        let mut reads = Vec::new();
        if failure.is_none() && recording.history {
            match self.final_reads(&mut cluster, steps, &position, hb) {
                Ok(sent) => reads = sent,
                Err(failed) => {
                    torn = matches!(failed.kind, FailureKind::Panic { .. });
                    failure = Some(failed);
                }
            }
        }
        let history = recording
            .history
            .then(|| wrap_history(cluster.history(), program, &position, &reads));
        let mut trace = Vec::new();
        if recording.trace && !torn {
            trace = renumber(cluster.trace(), &keys, tail_key(seed), &reads);
        }
        Execution {
            failure,
            history,
            trace,
        }
    }
}

impl<M: Model, N> Simulated<M, N>
where
    N: Node<Request = M::Op, Response = M::Output>,
{
    /// The liveness tail after the last step: a failure if a handler panics, the cluster
    /// invariant breaks, the cluster does not go quiet within the tail's bound (unless its
    /// settings say it never does), or [`Node::converged`] rejects the nodes after it. It is
    /// blamed on the program's last step, as a teardown's failure is.
    fn tail(
        &self,
        cluster: &mut Cluster<N>,
        steps: &[SimStep<M::Op>],
        hb: &Heartbeat,
    ) -> Option<Failure> {
        let last = steps.len().checked_sub(1);
        let fail = |kind| Failure {
            step: last.map(StepId::prefix),
            op: last.map(|i| steps[i].to_rust()),
            kind,
        };
        let bound = self.settings.tail_bound_ms;
        hb.enter_step();
        let settled = catch(|| cluster.settle(tail_key(self.seed), bound));
        let verdict = match settled {
            Err(message) => Some(FailureKind::Panic {
                message: format!("in the liveness tail: {message}"),
            }),
            Ok(Err(broken)) => Some(FailureKind::Invariant {
                message: format!("in the liveness tail: {}", broken.message),
            }),
            Ok(Ok(settled)) if self.settings.tail_quiet && !settled.quiet => {
                Some(FailureKind::Invariant {
                    message: format!(
                        "the liveness tail (every fault healed, every node up) did not go quiet \
                         within {bound} ms of simulated time: messages or requests were still \
                         in flight (a cluster that heartbeats never goes quiet: say so with \
                         `Settings::never_quiet`)"
                    ),
                })
            }
            // The user's hook runs under `catch` too: a panic in it is a failure, not a crash.
            Ok(Ok(_)) => match catch(|| converged(cluster)) {
                Err(message) => Some(FailureKind::Panic {
                    message: format!("in `Node::converged`: {message}"),
                }),
                Ok(Err(message)) => Some(FailureKind::Invariant {
                    message: format!("did not converge after the liveness tail: {message}"),
                }),
                Ok(Ok(())) => None,
            },
        };
        hb.main().leave_set_up();
        verdict.map(fail)
    }
}

/// A read the executor sends after the liveness tail: the key it ran under, and the step.
type FinalRead<Op> = (u64, SimStep<Op>);

impl<M: Model, N> Simulated<M, N>
where
    N: Node<Request = M::Op, Response = M::Output>,
{
    /// After a liveness tail that passed: every distinct read-only request of the program
    /// ([`Model::is_read_only`]), sent again to every node, each by a client of its own, and
    /// run until each is answered or times out. The answers join the history,
    /// so a write acknowledged during the program but lost by the end (a primary that forgot
    /// it in a crash, a backup never repaired) leaves a read no order of the history explains.
    /// Sound for any judge: a correct system answers these reads as it would any other.
    fn final_reads(
        &self,
        cluster: &mut Cluster<N>,
        steps: &[SimStep<M::Op>],
        position: &BTreeMap<u64, usize>,
        hb: &Heartbeat,
    ) -> Result<Vec<FinalRead<M::Op>>, Failure> {
        let mut distinct: Vec<(String, &M::Op)> = Vec::new();
        for step in steps {
            if let SimStep::Request { op, .. } = step {
                let text = op.to_rust();
                if M::is_read_only(op) && !distinct.iter().any(|(t, _)| *t == text) {
                    distinct.push((text, op));
                }
            }
        }
        if distinct.is_empty() {
            return Ok(Vec::new());
        }
        // Sessions no step of the program used, one per read so they all go out at once (a
        // heartbeating cluster is simulated for every millisecond waited). Session ids are
        // `u8`s: past 255 the reads share sessions and queue, and the wait grows to match.
        let first = u16::from(self.initial.clients());
        let sessions = 256 - first;
        let tail = tail_key(self.seed);
        let mut next_key = tail;
        let mut fresh_key = || loop {
            next_key = (next_key + 1) & 0x7fff_ffff;
            if next_key != tail && !position.contains_key(&next_key) {
                return next_key;
            }
        };
        let mut reads = Vec::new();
        for node in 0..self.initial.nodes() {
            for (_, op) in &distinct {
                let session = first + (reads.len() as u16) % sessions;
                let step = SimStep::Request {
                    client: u8::try_from(session).expect("a session id below 256"),
                    node,
                    op: (*op).clone(),
                };
                reads.push((fresh_key(), step));
            }
        }
        // A read ends within a request timeout of being sent (answered, refused or timed out);
        // a session's next read is sent when its previous one ends.
        let rounds = (reads.len() as u64).div_ceil(u64::from(sessions));
        let wait = self
            .settings
            .request_timeout_ms
            .saturating_add(1)
            .saturating_mul(rounds);
        // Waiting is part of the tail, under its key.
        let advance_key = tail;
        let last = steps.len().checked_sub(1);
        let fail = |kind| Failure {
            step: last.map(StepId::prefix),
            op: last.map(|i| steps[i].to_rust()),
            kind,
        };
        hb.enter_step();
        let ran = catch(|| {
            for (key, step) in &reads {
                cluster.apply(*key, step)?;
            }
            // `Advance` takes at most u16::MAX ms at a time.
            let mut left = wait;
            while left > 0 {
                let ms = left.min(u64::from(u16::MAX));
                left -= ms;
                let ms = u16::try_from(ms).expect("at most u16::MAX");
                cluster.apply(advance_key, &SimStep::Advance { ms })?;
            }
            Ok::<(), crate::sim::__engine::InvariantBroken>(())
        });
        hb.main().leave_set_up();
        match ran {
            Ok(Ok(())) => Ok(reads),
            Ok(Err(broken)) => Err(fail(FailureKind::Invariant {
                message: format!(
                    "during the reads after the liveness tail: {}",
                    broken.message
                ),
            })),
            Err(message) => Err(fail(FailureKind::Panic {
                message: format!("during the reads after the liveness tail: {message}"),
            })),
        }
    }
}

/// The incremental judges of one run and what they need to name steps.
struct Watch<M: Model> {
    monitors: Vec<Box<dyn Monitor<Sim<M>>>>,
    changes: Vec<HistoryChange>,
    /// Per request (the monitors' operation ids): the step that sent it.
    sent_by: Vec<usize>,
}

impl<M: Model> Watch<M> {
    fn new<N>(
        factories: &[MonitorFactory<Sim<M>>],
        initial: &Sim<M>,
        cluster: &mut Cluster<N>,
    ) -> Self
    where
        N: Node<Request = M::Op, Response = M::Output>,
    {
        if !factories.is_empty() {
            cluster.watch_history();
        }
        Watch {
            monitors: factories.iter().map(|make| make(initial)).collect(),
            changes: Vec::new(),
            sent_by: Vec::new(),
        }
    }

    /// Feeds the monitors what step `i` changed in the history; the failure if one of them
    /// proved a violation. The failure is blamed on step `i`, the first step after which the
    /// history proves it: the step during which the stale read reached its client, unless the
    /// read had to wait for a write it may have seen, still in flight then, to end. The run
    /// stops there, and the steps after it are not needed (the shrinker drops them): up to it,
    /// the run is the same without them.
    fn step<N>(
        &mut self,
        cluster: &mut Cluster<N>,
        i: usize,
        steps: &[SimStep<M::Op>],
        position: &BTreeMap<u64, usize>,
    ) -> Option<Failure>
    where
        N: Node<Request = M::Op, Response = M::Output>,
    {
        if self.monitors.is_empty() {
            return None;
        }
        cluster.take_history_changes(&mut self.changes);
        for change in self.changes.drain(..) {
            match change {
                HistoryChange::Invoked(id) => {
                    let (op, key, _) = cluster.request(id);
                    let sent = position[&key];
                    debug_assert_eq!(id, self.sent_by.len(), "requests are invoked in order");
                    self.sent_by.push(sent);
                    for m in &mut self.monitors {
                        m.invoke(op.client, steps[sent].clone(), op.call);
                    }
                }
                HistoryChange::Ended(id) => {
                    let (op, _, rejected) = cluster.request(id);
                    for m in &mut self.monitors {
                        match (rejected, op.ret, &op.output) {
                            (true, ..) => m.withdraw(id),
                            (false, Some(ret), Some(out)) => {
                                m.returned(id, ret, SimOut::Answer(out.clone()));
                            }
                            _ => m.unknown(id),
                        }
                    }
                }
            }
        }
        for m in &mut self.monitors {
            let found = m.take_violations();
            if let Some(v) = found.first() {
                return Some(self.failure(v, found.len() - 1, i, steps));
            }
        }
        None
    }

    fn failure(
        &self,
        v: &SessionViolation,
        others: usize,
        at: usize,
        steps: &[SimStep<M::Op>],
    ) -> Failure {
        let step = |id: usize| StepId::prefix(self.sent_by[id]);
        Failure {
            step: Some(StepId::prefix(at)),
            op: Some(steps[at].to_rust()),
            kind: FailureKind::History(Box::new(HistoryViolation::SessionGuarantee {
                guarantee: v.guarantee,
                session: v.session,
                earlier: step(v.earlier),
                later: step(v.later),
                involved: v.ops().into_iter().map(step).collect(),
                others,
            })),
        }
    }
}

/// Asks [`Node::converged`] about the nodes after the liveness tail, which restarted them all.
fn converged<N: Node>(cluster: &Cluster<N>) -> Result<(), String> {
    let nodes: Vec<&N> = cluster.nodes().into_iter().flatten().collect();
    debug_assert_eq!(
        nodes.len(),
        cluster.nodes().len(),
        "the tail restarts every node"
    );
    N::converged(&nodes)
}

/// The cluster's client history as a history of the program's steps: each operation becomes
/// the `Request` step it came from (so the judges, which know `Sim<M>`, judge it) and each
/// answer a [`SimOut::Answer`]; step ids go from the cluster's keys back to positions.
///
/// The reads after the liveness tail are no steps of the program: each is named as if it came
/// after the program's last step (`len`, `len + 1`, ...), with its own request as its text.
fn wrap_history<Op: Clone, Out: Clone>(
    inner: History<Op, Out>,
    program: &Program<SimStep<Op>>,
    position: &BTreeMap<u64, usize>,
    reads: &[FinalRead<Op>],
) -> History<SimStep<Op>, SimOut<Out>> {
    let mut history = History::new();
    for (op, id) in inner.ops.into_iter().zip(inner.steps) {
        let key = id.prefix_index().expect("the cluster records prefix steps") as u64;
        let (id, step) = match position.get(&key) {
            Some(&i) => {
                let id = StepId::prefix(i);
                (id, program.get(id).expect("a step of the program").clone())
            }
            None => {
                let j = reads
                    .iter()
                    .position(|(k, _)| *k == key)
                    .expect("a read after the tail");
                (StepId::prefix(program.len() + j), reads[j].1.clone())
            }
        };
        history.ops.push(crate::history::Operation {
            client: op.client,
            op: step,
            call: op.call,
            ret: op.ret,
            output: op.output.map(SimOut::Answer),
        });
        history.steps.push(id);
    }
    history
}

/// The trace's lines (`<time>ms step <key>: ...`) with each step named by its position.
fn renumber<Op>(lines: &[String], keys: &[u64], tail: u64, reads: &[FinalRead<Op>]) -> Vec<String> {
    let mut names: BTreeMap<u64, String> = keys
        .iter()
        .enumerate()
        .map(|(i, &k)| (k, format!("step {i}")))
        .collect();
    names.insert(tail, "after the program".to_string());
    for (j, (key, _)) in reads.iter().enumerate() {
        names.insert(*key, format!("read {} after the tail", keys.len() + j));
    }
    lines
        .iter()
        .map(|line| {
            let renamed = line.split_once("ms step ").and_then(|(time, rest)| {
                let (key, body) = rest.split_once(':')?;
                let name = names.get(&key.parse::<u64>().ok()?)?;
                Some(format!("{time}ms {name}:{body}"))
            });
            renamed.unwrap_or_else(|| line.clone())
        })
        .collect()
}

#[cfg(test)]
mod tests;
