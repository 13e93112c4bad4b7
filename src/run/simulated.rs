//! The simulated runner: the same run loop as the sequential one, driving the simulated
//! executor. Each case is a program of [`SimStep`]s (client requests, deliveries, time and
//! faults) generated against [`Sim<M>`], carried out on a fresh cluster of `N` nodes whose every
//! random choice comes from [`Config::schedule_seed`] and the steps; its client history is
//! judged for linearizability unless other judges were chosen. Failures shrink like any
//! sequential program (faults included), and the report's pasted test calls
//! [`replay_simulated`] with the cluster's shape and the seed.

use super::{conclude, fail_replay_drawn, outcome, RunResult, Runner};
use crate::check::{Access, ReadsWrites};
use crate::config::Config;
use crate::exec::simulated::Simulated;
use crate::exec::watchdog::{run_watched, Activity};
use crate::exec::{Executor, Recording};
use crate::judge::{self, judge_history, Judge};
use crate::program::Program;
use crate::sim::{Node, Sim, SimOut, SimStep};
use crate::spec::{Model, StateMachine};
use std::hash::Hash;
use std::panic::Location;

impl<M: Model + Default + Hash + Eq + Send> Runner<Sim<M>> {
    /// Runs simulated programs against clusters of `N` nodes (as many as the initial
    /// [`Sim`] says): each case's steps on a fresh cluster seeded by [`Config::schedule_seed`],
    /// then the liveness tail (every fault healed, every node restarted, run until quiet, or
    /// for the tail's bound with [`Settings::never_quiet`](crate::sim::Settings::never_quiet)),
    /// with the world's [`Settings`](crate::sim::Settings) taken from the initial `Sim`
    /// ([`Sim::settings`]). A case fails when a node panics, the cluster invariant breaks, the
    /// tail does not go quiet when it must, the nodes have not
    /// [`converged`](crate::sim::Node::converged) after it, or a history judge rejects the
    /// client history (with no judge chosen, [`judge::linearizable`](crate::judge::linearizable)).
    ///
    /// ```no_run
    /// # use stateprop::{Config, Runner};
    /// # use stateprop::models::CasRegister;
    /// # use stateprop::sim::{Node, Sim};
    /// # fn demo<N: Node<Request = stateprop::models::RegisterOp,
    /// #     Response = stateprop::models::RegisterOut>>() {
    /// let initial = Sim::new(CasRegister::default(), 3, 2);
    /// let result = Runner::with_initial(Config::default(), initial).run_simulated::<N>();
    /// assert!(!result.failed(), "{}", result.report.text());
    /// # }
    /// ```
    #[track_caller]
    pub fn run_simulated<N>(mut self) -> RunResult<SimStep<M::Op>>
    where
        M::Op: Send,
        N: Node<Request = M::Op, Response = M::Output>,
    {
        let source = Location::caller().file();
        self.world_seeded = true;
        if self.judges.is_empty() {
            self.judges.push(judge::linearizable());
        }
        if self.replay_call.is_none() {
            // The seed the run will use (the environment may set it; a bad one is reported by
            // `start`).
            let seed = self
                .config
                .clone()
                .with_env()
                .map_or(self.config.schedule_seed, |c| c.schedule_seed);
            let mut call = replay_call::<M, N>(&self.initial, seed);
            // The pasted replay judges linearizability. A run judged only by weaker judges
            // (session guarantees, sequential consistency) may be checking a system that is
            // not meant to be linearizable: say so in the test rather than hand over one that
            // would still fail once the bug it keeps is fixed.
            if !self.judges.iter().any(|j| j.name() == "linearizable") {
                let names: Vec<&str> = self.judges.iter().map(|j| j.name()).collect();
                call = format!(
                    "// stateprop: this replay judges linearizability, stricter than the run's \
                     judges ({}); keep it only if the system must be linearizable.\n    {call}",
                    names.join(", ")
                );
            }
            self.replay_call = Some(call);
        }
        let unused = |_: &str, _: &str| String::new();
        self.start::<N>(source, false, unused, move |job, hb| {
            let settings = job.initial.sim_settings().clone();
            let executor =
                Simulated::<M, N>::new(job.initial.clone(), job.config.schedule_seed, settings)
                    .judged_after_every_step(&job.judges);
            job.work(&executor, hb)
        })
    }
}

/// The start of the pasted test's call, up to its list of steps: the service model and node
/// types, the schedule seed, and the cluster's shape.
fn replay_call<M: Model + Default + Eq, N>(initial: &Sim<M>, seed: u64) -> String {
    let short = |name| super::short_type_name(name);
    let m = short(std::any::type_name::<M>());
    let n = short(std::any::type_name::<N>());
    // The service's starting state as Rust: only the default one can be written here.
    let inner = if initial.inner == M::default() {
        format!("{m}::default()")
    } else {
        "todo!(\"the service model's initial state, as the test builds it\")".to_string()
    };
    // Settings other than the default ones travel with the `Sim`, so the replay runs the
    // same world.
    let settings = initial
        .sim_settings()
        .to_rust()
        .map_or(String::new(), |s| format!("\n            .settings({s})"));
    format!(
        "stateprop::replay_simulated::<{m}, {n}>(\n        \
         stateprop::Config::default().schedule_seed({seed:#x}),\n        \
         stateprop::sim::Sim::new({inner}, {}, {}){settings},\n        ",
        initial.nodes(),
        initial.clients()
    )
}

/// Checks a simulated distributed system against the model of its service: generated programs
/// of client requests, network events and faults run on clusters of `N` nodes shaped as
/// `initial` says, each client history judged for linearizability; on failure, panics with the
/// report (cause, the minimal program with its faults, the history, a test to paste).
///
/// The environment (`STATEPROP_SEED`, `STATEPROP_CASES`, `STATEPROP_SCHEDULE_SEED`, ...)
/// overrides `config`.
#[track_caller]
pub fn check_simulated<M, N>(config: Config, initial: Sim<M>)
where
    M: Model + Default + Hash + Eq + Send,
    M::Op: Send,
    N: Node<Request = M::Op, Response = M::Output>,
{
    let result = Runner::with_initial(config, initial).run_simulated::<N>();
    conclude(&result.report);
}

/// Replays a simulated program (a pasted regression test) on a cluster of `N` nodes shaped as
/// `initial` says, seeded by `config`'s [`Config::schedule_seed`] (the environment overrides
/// it unless [`Config::ignore_env`]): panics with a report if a node panics, the cluster
/// invariant breaks, the liveness tail does not go quiet when it must, the nodes have not
/// converged after it, or the client history is not linearizable. The world's settings are
/// `initial`'s ([`Sim::settings`]).
#[track_caller]
pub fn replay_simulated<M, N>(config: Config, initial: Sim<M>, steps: &[SimStep<M::Op>])
where
    M: Model + Hash + Eq + Send,
    M::Op: Send,
    N: Node<Request = M::Op, Response = M::Output>,
{
    let config = match config.with_env() {
        Ok(c) => c,
        Err(e) => panic!("stateprop: bad environment: {e}"),
    };
    // Check the program is one the generator could have made before running the cluster.
    if let Err(invalid) = crate::generate::validate(&initial, steps) {
        panic!("stateprop: the replayed program is not valid: {invalid}");
    }
    let program = Program::sequential(steps.to_vec());
    let owned = program.clone();
    let (seed, verbose) = (config.schedule_seed, config.verbose > 0);
    let outcome = run_watched(config.step_timeout, move |hb| {
        hb.begin(Activity::Program(
            owned.prefix.iter().map(StateMachine::to_rust).collect(),
        ));
        let settings = initial.sim_settings().clone();
        let executor = Simulated::<M, N>::new(initial, seed, settings);
        // The trace is always kept: the report draws the failing run's timeline from it, and
        // prints the trace itself only when verbose.
        let recording = Recording {
            history: true,
            trace: true,
            linearized: true,
        };
        let mut run = executor.execute(&owned, recording, hb);
        if run.failure.is_none() {
            let judges: Vec<Judge<Sim<M>>> = vec![judge::linearizable()];
            if let Some(history) = &run.history {
                run.failure = judge_history(&judges, executor.initial(), history, &mut Vec::new());
            }
        }
        let history = run.history.map(|h| outcome::recorded::<Sim<M>>(&owned, &h));
        run.failure.map(|failure| (failure, run.trace, history))
    });
    let shown = match outcome {
        Ok(shown) => shown,
        Err(hung) => Some((
            hung.failure(&program, config.step_timeout),
            Vec::new(),
            None,
        )),
    };
    if let Some((failure, trace, history)) = shown {
        let timeline = crate::report::timeline::build(&trace);
        let trace = if verbose { trace } else { Vec::new() };
        fail_replay_drawn(&config, program, failure, trace, timeline, history, None);
    }
}

/// The session-guarantee judges see a simulated program's requests as the service's reads
/// and writes; its other steps are no operations of the history.
impl<M: ReadsWrites> ReadsWrites for Sim<M> {
    type Key = M::Key;
    type Value = M::Value;

    fn access(op: &SimStep<M::Op>, output: Option<&SimOut<M::Output>>) -> Access<M::Key, M::Value> {
        match (op, output) {
            (SimStep::Request { op, .. }, None) => M::access(op, None),
            (SimStep::Request { op, .. }, Some(SimOut::Answer(out))) => M::access(op, Some(out)),
            _ => Access::Other,
        }
    }

    fn initial_value(&self, key: &M::Key) -> M::Value {
        self.inner.initial_value(key)
    }

    fn read_may_follow(write: &SimStep<M::Op>, written: &M::Value, read: &M::Value) -> bool {
        match write {
            SimStep::Request { op, .. } => M::read_may_follow(op, written, read),
            _ => written == read,
        }
    }

    fn shown_at(write: &SimStep<M::Op>, written: &M::Value, read: &M::Value) -> Option<usize> {
        match write {
            SimStep::Request { op, .. } => M::shown_at(op, written, read),
            _ => None,
        }
    }
}
