//! Judges: what decides whether a run failed.
//!
//! Two kinds share one vocabulary, [`FailureKind`]:
//! - the step judge, run on every step by every executor: the system's output against the
//!   model's ([`Model::accept`], which may let the model follow the system's choice), then
//!   [`System::invariant`](crate::System::invariant).
//!   It is always on.
//! - history judges, run on the history of a whole program after it ran: linearizability,
//!   sequential consistency, session guarantees, idempotency. A run selects them with
//!   [`Runner::judge`](crate::Runner::judge); selecting one makes the executor record a history.
//!
//! Each history judge wraps a checker of [`crate::check`], whose bounds differ (`Hash + Eq`
//! models, [`ReadsWrites`] models), so they are built by functions that check those bounds
//! once and return the same boxed [`Judge`]. A violation comes back with its operations named
//! by step id; a checker that runs out of budget answers [`Verdict::Unknown`], which is not a
//! failure but is counted in the report ([`Stats::undecided`](crate::Stats::undecided)).
//!
//! In a sequential run the order of a history is forced (each step returns before the next
//! starts), so linearizability there asks no more than the step judge does; history judges pay
//! off with executors that overlap operations, and, in any run, for properties the step judge
//! does not express (session guarantees read values through [`ReadsWrites`], not through
//! `outputs_match`).

pub(crate) mod step;

use crate::check::{self, CheckConfig, Guarantee, IdempotencyViolation, ReadsWrites, Verdict};
use crate::failure::{Failure, FailureKind, HistoryViolation, IdempotencyProblem};
use crate::history::History;
use crate::program::StepId;
use crate::report::Undecided;
use crate::spec::Model;
use std::fmt::Debug;
use std::hash::Hash;

type Check<M> = dyn Fn(&M, &History<<M as Model>::Op, <M as Model>::Output>, &CheckConfig) -> Verdict<FailureKind>
    + Send
    + Sync;

/// A history judge, built by [`linearizable`], [`linearizable_by`],
/// [`sequentially_consistent`], [`session_guarantees`] or [`idempotent`] and given to
/// [`Runner::judge`](crate::Runner::judge).
pub struct Judge<M: Model> {
    name: &'static str,
    budget: CheckConfig,
    check: Box<Check<M>>,
    /// Its incremental form, for executors that can stop a run at the step that broke it.
    monitor: Option<check::session::MonitorFactory<M>>,
}

impl<M: Model> Judge<M> {
    fn new(name: &'static str, check: Box<Check<M>>) -> Self {
        Judge {
            name,
            budget: CheckConfig::default(),
            check,
            monitor: None,
        }
    }

    /// What builds the judge's incremental form for each run, if it has one (the session
    /// judge's [`SessionMonitor`](check::session::SessionMonitor)).
    pub(crate) fn monitor(&self) -> Option<check::session::MonitorFactory<M>> {
        self.monitor.clone()
    }

    /// `linearizable`, `sequentially-consistent`, `session-guarantees` or `idempotent`.
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// The checker's budget for each history (time, memory, steps); running out of it is
    /// [`Verdict::Unknown`]. The default is [`CheckConfig::default`].
    pub fn budget(mut self, budget: CheckConfig) -> Self {
        self.budget = budget;
        self
    }

    /// Judges `history`, recorded from a program that started from `initial`: the checkers'
    /// own [`Verdict`], whose violation is a failure cause naming the steps involved.
    /// `Unknown` (the budget ran out, the model panicked) is not a failure, but it is reported.
    pub fn judge(&self, initial: &M, history: &History<M::Op, M::Output>) -> Verdict<FailureKind> {
        (self.check)(initial, history, &self.budget)
    }
}

impl<M: Model> Debug for Judge<M> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Judge")
            .field("name", &self.name)
            .field("budget", &self.budget)
            .finish()
    }
}

fn violated(violation: HistoryViolation) -> Verdict<FailureKind> {
    Verdict::Violated(FailureKind::History(Box::new(violation)))
}

/// The step operation `index` of `history` ran; a history not recorded from a program names
/// its operations by position.
fn step_of<Op, Out>(history: &History<Op, Out>, index: usize) -> StepId {
    history.step(index).unwrap_or(StepId::prefix(index))
}

fn steps_of<Op, Out>(history: &History<Op, Out>, indices: &[usize]) -> Vec<StepId> {
    indices.iter().map(|&i| step_of(history, i)).collect()
}

/// Linearizability against the model ([`check::check_linearizable`]).
pub fn linearizable<M>() -> Judge<M>
where
    M: Model + Hash + Eq,
{
    Judge::new(
        "linearizable",
        Box::new(|initial: &M, history: &History<M::Op, M::Output>, budget| {
            linearizability(history, check::check_linearizable(history, initial, budget))
        }),
    )
}

/// Linearizability, each part of the history split by `partition` checked on its own
/// ([`check::check_linearizable_by`]; only sound when parts never affect each other).
pub fn linearizable_by<M, K, P>(partition: P) -> Judge<M>
where
    M: Model + Hash + Eq,
    K: Hash + Eq + Debug,
    P: Fn(&M::Op) -> K + Send + Sync + 'static,
{
    Judge::new(
        "linearizable",
        Box::new(
            move |initial: &M, history: &History<M::Op, M::Output>, budget| {
                let report = check::check_linearizable_by(history, initial, budget, &partition);
                linearizability(history, report)
            },
        ),
    )
}

fn linearizability<Op, Out>(
    history: &History<Op, Out>,
    report: check::Report,
) -> Verdict<FailureKind> {
    match report.verdict {
        Verdict::Holds => Verdict::Holds,
        Verdict::Unknown(reason) => Verdict::Unknown(reason),
        Verdict::Violated(v) => violated(HistoryViolation::NotLinearizable {
            partition: v.partition,
            linearized: steps_of(history, &v.linearized),
            blocked: step_of(history, v.blocked),
            state: v.state,
            expected: v.expected,
            actual: v.actual,
        }),
    }
}

/// Sequential consistency against the model ([`check::check_sequentially_consistent`]).
pub fn sequentially_consistent<M>() -> Judge<M>
where
    M: Model + Hash + Eq,
{
    Judge::new(
        "sequentially-consistent",
        Box::new(|initial: &M, history: &History<M::Op, M::Output>, budget| {
            match check::check_sequentially_consistent(history, initial, budget).verdict {
                Verdict::Holds => Verdict::Holds,
                Verdict::Unknown(reason) => Verdict::Unknown(reason),
                Verdict::Violated(v) => violated(HistoryViolation::NotSequentiallyConsistent {
                    ordered: steps_of(history, &v.ordered),
                    blocked: steps_of(history, &v.blocked),
                    state: v.state,
                }),
            }
        }),
    )
}

/// The session `guarantees` for every client ([`check::check_session_guarantees`]); a failure
/// names the first violation and counts the others.
pub fn session_guarantees<M>(guarantees: &[Guarantee]) -> Judge<M>
where
    M: ReadsWrites,
{
    let monitor = check::session::monitor_factory(guarantees);
    let guarantees = guarantees.to_vec();
    let mut judge = Judge::new(
        "session-guarantees",
        Box::new(move |initial: &M, history: &History<M::Op, M::Output>, _| {
            match check::check_session_guarantees(history, initial, &guarantees).verdict {
                Verdict::Holds => Verdict::Holds,
                Verdict::Unknown(reason) => Verdict::Unknown(reason),
                Verdict::Violated(found) => match found.first() {
                    Some(v) => violated(HistoryViolation::SessionGuarantee {
                        guarantee: v.guarantee,
                        session: v.session,
                        earlier: step_of(history, v.earlier),
                        later: step_of(history, v.later),
                        involved: steps_of(history, &v.ops()),
                        others: found.len() - 1,
                    }),
                    None => Verdict::Holds,
                },
            }
        }),
    );
    judge.monitor = monitor;
    judge
}

/// Idempotency ([`check::check_idempotent`]): `request_id` gives each step's request id (the
/// attempts of one request share it).
pub fn idempotent<M, R>(request_id: R) -> Judge<M>
where
    M: Model + Hash + Eq,
    M::Op: PartialEq,
    R: Fn(StepId, &M::Op) -> u64 + Send + Sync + 'static,
{
    Judge::new(
        "idempotent",
        Box::new(
            move |initial: &M, history: &History<M::Op, M::Output>, budget| {
                let ids: Vec<u64> = history
                    .ops
                    .iter()
                    .enumerate()
                    .map(|(i, op)| request_id(step_of(history, i), &op.op))
                    .collect();
                match check::check_idempotent(history, &ids, initial, budget).verdict {
                    Verdict::Holds => Verdict::Holds,
                    Verdict::Unknown(reason) => Verdict::Unknown(reason),
                    Verdict::Violated(v) => {
                        let (problem, request) = match &v {
                            IdempotencyViolation::ConflictingRequest { request, .. } => {
                                (IdempotencyProblem::ConflictingRequest, Some(*request))
                            }
                            IdempotencyViolation::AppliedTwice { request, .. } => {
                                (IdempotencyProblem::AppliedTwice, Some(*request))
                            }
                            _ => (IdempotencyProblem::Unexplained, None),
                        };
                        violated(HistoryViolation::NotIdempotent {
                            problem,
                            request,
                            involved: steps_of(history, &v.ops()),
                        })
                    }
                }
            },
        ),
    )
}

/// Runs `judges` in order on the history of one program; the first violation is the failure.
/// Judges that give no verdict are counted in `undecided` (one entry per judge).
pub(crate) fn judge_history<M: Model>(
    judges: &[Judge<M>],
    initial: &M,
    history: &History<M::Op, M::Output>,
    undecided: &mut Vec<Undecided>,
) -> Option<Failure> {
    for judge in judges {
        match judge.judge(initial, history) {
            Verdict::Holds => {}
            Verdict::Violated(kind) => {
                return Some(Failure {
                    step: None,
                    op: None,
                    kind,
                })
            }
            Verdict::Unknown(reason) => {
                match undecided.iter_mut().find(|u| u.judge == judge.name) {
                    Some(u) => u.histories += 1,
                    None => undecided.push(Undecided {
                        judge: judge.name.to_string(),
                        reason,
                        histories: 1,
                    }),
                }
            }
        }
    }
    None
}
