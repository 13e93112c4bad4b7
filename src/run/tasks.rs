//! The async runner (cargo feature `tokio`): the concurrent runner's loop with the tasks
//! executor, for systems whose operations are `async` ([`AsyncSystem`]). Everything but the
//! executor is the concurrent runner's: parallel programs of [`Config::branches`] branches,
//! [`Config::repeats`] runs per case, linearizability unless other judges are chosen, shrinking,
//! regression files and the report; its pasteable test calls [`replay_async`].

use super::concurrent::{replay_parallel, replay_runs};
use super::{conclude, RunResult, Runner};
use crate::config::Config;
use crate::exec::parallel::ParallelShape;
use crate::exec::tasks::{AsyncSystem, Tasks};
use crate::judge;
use crate::program::Program;
use crate::spec::Model;
use std::hash::Hash;
use std::panic::Location;

impl<M: Model> Runner<M> {
    /// Runs parallel programs against `async` systems from `factory`: each case's prefix
    /// awaited in order, then [`Config::branches`] branches at once as tasks on a
    /// multi-threaded tokio runtime, each case [`Config::repeats`] times; histories are judged
    /// as [`run_concurrent`](Runner::run_concurrent) judges them.
    #[track_caller]
    pub fn run_async<S, F>(mut self, factory: F) -> RunResult<M::Op>
    where
        M: Hash + Eq + Send,
        M::Op: Send + Sync,
        M::Output: Send + Sync,
        S: AsyncSystem<M> + 'static,
        F: Fn() -> S + Send + 'static,
    {
        let source = Location::caller().file();
        if self.judges.is_empty() {
            self.judges.push(judge::linearizable());
        }
        let replay_call = |m: &str, s: &str| super::factory_replay_call("replay_async_with", m, s);
        self.start::<S>(source, true, replay_call, move |job, hb| {
            let shape = job.shape.expect("a concurrent run has a shape");
            let executor = Tasks::new(job.initial.clone(), factory, shape);
            job.work(&executor, hb)
        })
    }

    /// [`run_async`](Runner::run_async) with `S::default()` as the factory; the pasteable
    /// test calls [`replay_async`].
    #[track_caller]
    pub fn run_async_default<S>(mut self) -> RunResult<M::Op>
    where
        M: Hash + Eq + Send,
        M::Op: Send + Sync,
        M::Output: Send + Sync,
        S: AsyncSystem<M> + Default + 'static,
    {
        if self.replay_call.is_none() {
            self.replay_call = Some(format!(
                "stateprop::replay_async::<{}, {}>(",
                super::short_type_name(std::any::type_name::<M>()),
                super::short_type_name(std::any::type_name::<S>())
            ));
        }
        self.run_async(S::default)
    }
}

/// Checks an `async` system against its model as [`check_concurrent`](crate::check_concurrent)
/// checks a threaded one, its branches as tasks on a tokio runtime; panics with the report on
/// failure. `S::default()` builds a fresh system for each run.
#[track_caller]
pub fn check_async<M, S>(config: Config)
where
    M: Model + Default + Hash + Eq + Send,
    M::Op: Send + Sync,
    M::Output: Send + Sync,
    S: AsyncSystem<M> + Default + 'static,
{
    let result = Runner::<M>::new(config).run_async_default::<S>();
    conclude(&result.report);
}

/// [`check_async`] with a factory that builds each run's system.
#[track_caller]
pub fn check_async_with<M, S, F>(config: Config, factory: F)
where
    M: Model + Default + Hash + Eq + Send,
    M::Op: Send + Sync,
    M::Output: Send + Sync,
    S: AsyncSystem<M> + 'static,
    F: Fn() -> S + Send + 'static,
{
    let result = Runner::<M>::new(config).run_async(factory);
    conclude(&result.report);
}

/// Replays a parallel program against `async` systems (a pasted regression test), as
/// [`replay_concurrent`](crate::replay_concurrent) does for threaded ones.
#[track_caller]
pub fn replay_async<M, S>(program: &Program<M::Op>)
where
    M: Model + Default + Hash + Eq + Send,
    M::Op: Send + Sync,
    M::Output: Send + Sync,
    S: AsyncSystem<M> + Default + 'static,
{
    replay_async_with::<M, S>(M::default(), S::default, program)
}

/// [`replay_async`] from an initial model and a factory for the system.
#[track_caller]
pub fn replay_async_with<M, S>(
    initial: M,
    factory: impl Fn() -> S + Send + 'static,
    program: &Program<M::Op>,
) where
    M: Model + Hash + Eq + Send,
    M::Op: Send + Sync,
    M::Output: Send + Sync,
    S: AsyncSystem<M> + 'static,
{
    replay_parallel(
        Config::default(),
        initial,
        program,
        move |start, config, owned, hb| {
            // A worker thread for each of the program's branches, whatever the settings say.
            let mut shape = ParallelShape::of(config);
            shape.branches = shape.branches.max(owned.branches.len());
            let executor = Tasks::new(start, factory, shape);
            replay_runs(&executor, owned, config.repeats, config.verbose > 0, hb)
        },
    );
}
