//! The scheduled executor (feature `shuttle`): the threads executor's program, run inside one
//! execution of shuttle's controlled scheduler, so the interleaving of the branches comes from a
//! seed instead of the operating system.
//!
//! Each run builds the system, runs the prefix, then each branch as a shuttle thread; shuttle
//! runs one thread at a time and picks which one runs on at every point where the system touches
//! a [`crate::sync`] type. The history is recorded exactly as the threads executor records it
//! (the same lanes, the same logical clock advanced before each call and after it returns), so
//! the judges, the shrinker and the report take it unchanged. Because the scheduler switches
//! only at those points, recording adds no switch of its own: the intervals bound the real
//! calls and no real-time order is invented.
//!
//! # Which schedule a run gets
//!
//! Run `r` of a program (counted `0..repeats` over consecutive runs of the same program, then
//! again from 0) is scheduled from a seed mixed from [`Config::schedule_seed`], a fingerprint
//! of the program (its steps as Rust) and `r`. So `repeats` consecutive runs of a program always
//! try the same `repeats` schedules: a shrink candidate that failed once fails again, a rerun
//! reproduces the same rate, a saved program replays its schedules in a later run whatever that
//! run's seed, and a pasted test needs only the scheduler and the schedule seed.
//!
//! Under [`Scheduler::Dfs`] there is no seed: run `r` takes the `r`-th schedule of the
//! program's exhaustive walk (see `dfs`), which the executor keeps from one run to the next and
//! starts afresh with `r = 0`; the same consequences follow.
//!
//! # What becomes a failure
//!
//! A panic in the system is an unknown outcome, as on threads. What shuttle itself stops a run
//! for (a deadlock among the branches, a run past its step bound, a thread left blocked) is
//! caught around the execution and reported as that run's failure, with shuttle's message.

use super::client::ClientSystem;
use super::dfs::{DfsScheduler, Record, Walk};
use super::parallel::ParallelShape;
use super::threads::{merge, run_with_client, Lane};
use super::watchdog::{Beat, Heartbeat};
use super::{Execution, Executor, Generated, Recording};
use crate::catch::catch;
use crate::config::{Config, Scheduler};
use crate::failure::{Failure, FailureKind};
use crate::generate::{CaseGenerator, GenError};
use crate::hash::mix;
use crate::history::History;
use crate::program::Program;
use crate::spec::{Model, StateMachine};
use std::cell::{Cell, RefCell};
use std::marker::PhantomData;
use std::rc::Rc;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex};

/// Runs every program under shuttle, one controlled execution per run (two for PCT, whose first
/// only measures the run; under dfs, one more for each schedule of an earlier round it meets).
pub(crate) struct Scheduled<M, S, F> {
    initial: M,
    /// Called inside the execution, so the system's `stateprop::sync` types belong to it; behind
    /// a lock because shuttle asks for a body it could share between threads.
    factory: Arc<Mutex<F>>,
    shape: ParallelShape,
    scheduler: Scheduler,
    schedule_seed: u64,
    repeats: u32,
    /// The fingerprint of the program run last, and the index its next run gets.
    next: Cell<Option<(u64, u32)>>,
    /// Under [`Scheduler::Dfs`], the walk over the schedules of the program run last, restarted
    /// with its index.
    walk: Rc<RefCell<Walk>>,
    system: PhantomData<fn() -> S>,
}

impl<M, S, F> Scheduled<M, S, F> {
    /// An executor of programs of `config`'s shape under `config.scheduler`, building a fresh
    /// system with `factory` for every run.
    pub(crate) fn new(initial: M, factory: F, config: &Config) -> Self {
        Scheduled {
            initial,
            factory: Arc::new(Mutex::new(factory)),
            shape: ParallelShape::of(config),
            scheduler: config.scheduler,
            schedule_seed: config.schedule_seed,
            repeats: config.repeats.max(1),
            next: Cell::new(None),
            walk: Rc::new(RefCell::new(Walk::default())),
            system: PhantomData,
        }
    }

    /// The schedule seed of the next run of `program`, counting the run.
    fn next_schedule<Op: StateMachine>(&self, program: &Program<Op>) -> (u32, u64) {
        let print = fingerprint(program);
        let index = match self.next.get() {
            Some((last, index)) if last == print => index % self.repeats,
            _ => 0,
        };
        self.next.set(Some((print, index + 1)));
        (index, schedule_of(self.schedule_seed, print, index))
    }
}

thread_local! {
    /// Whether this thread is running a controlled execution (all its shuttle threads run on
    /// it, one at a time).
    static INSIDE: Cell<bool> = const { Cell::new(false) };
}

/// Marks the thread as inside a controlled execution until dropped.
struct Inside(bool);

impl Inside {
    fn enter() -> Self {
        Inside(INSIDE.with(|i| i.replace(true)))
    }
}

impl Drop for Inside {
    fn drop(&mut self) {
        INSIDE.with(|i| i.set(self.0));
    }
}

/// shuttle's panic hook prints a line for every panic inside an execution, even one the
/// executor catches as the system's unknown outcome; over it goes a hook that, inside an
/// execution on a capturing thread, only keeps the message for the report.
fn quiet_shuttle_hook() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let _ = crate::catch::catch_quietly(|| ());
        // shuttle installs its hook at its first execution: have it do so now, beneath ours.
        let empty = shuttle::scheduler::RandomScheduler::new_from_seed(0, 1);
        shuttle::Runner::new(empty, shuttle::Config::new()).run(|| {});
        let below = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !(INSIDE.with(Cell::get) && crate::catch::capture(info)) {
                below(info);
            }
        }));
    });
}

/// A program's steps as Rust, hashed: the same in every process and every run.
pub(crate) fn fingerprint<Op: StateMachine>(program: &Program<Op>) -> u64 {
    let mut h = 0xC0FF_EE00_u64;
    for (id, op) in program.steps() {
        for b in format!("{id}:{};", op.to_rust()).bytes() {
            h = mix(h ^ u64::from(b));
        }
    }
    h
}

/// The seed of run `index` of the program with fingerprint `print`.
pub(crate) fn schedule_of(schedule_seed: u64, print: u64, index: u32) -> u64 {
    mix(mix(schedule_seed ^ mix(print)) ^ u64::from(index))
}

/// What the body of an execution hands back.
struct Ran<M: Model> {
    lanes: Vec<Lane<M>>,
    failure: Option<Failure>,
}

/// The depth shuttle's PCT scheduler is given: most races between a few operations need one or
/// two priority changes, and each extra one lowers the chance of every other schedule.
const PCT_DEPTH: usize = 3;

/// A shuttle thread's stack: as large as the threads executor's, so a system that recurses
/// deeply fails the same way in both modes (shuttle's default is 32 KiB).
const STACK_SIZE: usize = 1 << 20;

impl<M, S, F> Executor<M> for Scheduled<M, S, F>
where
    M: Model + std::hash::Hash + Eq + Send + 'static,
    M::Op: Send + Sync + 'static,
    M::Output: Send + Sync + 'static,
    S: ClientSystem<M> + 'static,
    F: Fn() -> S + Send + 'static,
{
    fn initial(&self) -> &M {
        &self.initial
    }

    fn execute(
        &self,
        program: &Program<M::Op>,
        recording: Recording,
        hb: &Heartbeat,
    ) -> Execution<M> {
        hb.restart_steps();
        let (index, seed) = self.next_schedule(program);
        if self.scheduler == Scheduler::Dfs && index == 0 {
            *self.walk.borrow_mut() = Walk::default();
        }
        let beats = hb.watch_branches(program.branches.len());
        let slot: Arc<Mutex<Option<Ran<M>>>> = Arc::new(Mutex::new(None));
        let body = {
            let factory = Arc::clone(&self.factory);
            let program = Arc::new(program.clone());
            let beats = Arc::clone(&beats);
            let slot = Arc::clone(&slot);
            // Behind a lock: the body must be `Sync`, and a model need only be `Send`.
            let initial = Mutex::new(self.initial.clone());
            Arc::new(move || {
                // Under dfs one call may run several executions: only the last one's counts,
                // and it may be stopped before it sets its own.
                *slot.lock().unwrap_or_else(|e| e.into_inner()) = None;
                let initial = initial.lock().unwrap_or_else(|e| e.into_inner()).clone();
                let ran = run_program::<M, S, F>(&factory, &program, &initial, recording, &beats);
                *slot.lock().unwrap_or_else(|e| e.into_inner()) = Some(ran);
            })
        };
        let mut config = shuttle::Config::new();
        config.stack_size = STACK_SIZE;
        // The failing schedule is ours to report (as a seed); shuttle's own text for a panic
        // would print past the report.
        config.failure_persistence = shuttle::FailurePersistence::None;
        config.silence_warnings = true;
        quiet_shuttle_hook();
        let _inside = Inside::enter();
        let record = Rc::new(RefCell::new(Record::default()));
        let handed = Rc::new(Cell::new(None));
        let (stopped, at) = loop {
            *slot.lock().unwrap_or_else(|e| e.into_inner()) = None;
            let body = {
                let body = Arc::clone(&body);
                move || body()
            };
            let config = config.clone();
            let stopped = catch(|| match self.scheduler {
                Scheduler::Dfs => {
                    let walk = Rc::clone(&self.walk);
                    let dfs = DfsScheduler::new(walk, Rc::clone(&record), Rc::clone(&handed));
                    shuttle::Runner::new(dfs, config).run(body)
                }
                Scheduler::Pct => {
                    // shuttle's PCT learns how many scheduling decisions a run makes from a
                    // first run in oldest-thread-first order, and places its priority changes
                    // among them from the second run on: without that first run it never
                    // preempts anything. Both runs are deterministic; the second one's result
                    // is kept.
                    let pct = shuttle::scheduler::PctScheduler::new_from_seed(seed, PCT_DEPTH, 2);
                    shuttle::Runner::new(pct, config).run(body)
                }
                _ => {
                    let random = shuttle::scheduler::RandomScheduler::new_from_seed(seed, 1);
                    shuttle::Runner::new(random, config).run(body)
                }
            })
            .err();
            if self.scheduler != Scheduler::Dfs {
                break (stopped, None);
            }
            if let Some(at) = handed.take() {
                break (stopped, Some(at));
            }
            // shuttle stopped an execution (a deadlock, say) before the scheduler could place
            // it: it counts by the decisions it made. If the walk had handed it out before (it
            // preempted no more than the round before allowed), it is run past, as the
            // scheduler does, with a runner of its own.
            if let Some(at) = self.walk.borrow_mut().finish(&record.borrow()) {
                break (stopped, Some(at));
            }
        };
        hb.unwatch_branches();
        let ran = slot.lock().unwrap_or_else(|e| e.into_inner()).take();
        let schedule = match at {
            Some(at) => {
                let preempting = match at.preemptions {
                    1 => "1 preemption".to_string(),
                    n => format!("{n} preemptions"),
                };
                // The count is known once the walk has run out, so from the first repeat on.
                let of = match at.total {
                    Some(total) => format!("again (all {total} tried, the walk started over)"),
                    None => "in the walk".to_string(),
                };
                format!(
                    "schedule: dfs scheduler, run {index}, schedule {} {of}, {preempting}",
                    at.schedule
                )
            }
            None => format!(
                "schedule: {} scheduler, run {index}, seed {seed:#x}",
                self.scheduler.name()
            ),
        };
        let Some(Ran { mut lanes, failure }) = ran else {
            let message = stopped.unwrap_or_else(|| "the execution ended early".to_string());
            let last = program.steps().last();
            return Execution {
                failure: Some(Failure {
                    step: last.map(|(id, _)| id),
                    op: last.map(|(_, op)| op.to_rust()),
                    kind: FailureKind::Panic {
                        message: format!("the controlled scheduler stopped the run: {message}"),
                    },
                }),
                history: recording.history.then(History::new),
                trace: if recording.trace {
                    vec![schedule]
                } else {
                    Vec::new()
                },
            };
        };
        let mut trace = Vec::new();
        if recording.trace {
            trace.push(schedule);
        }
        trace.extend(lanes.iter_mut().flat_map(|l| l.trace.drain(..)));
        Execution {
            failure,
            history: recording.history.then(|| merge(&mut lanes)),
            trace,
        }
    }

    /// As the threads executor: the whole parallel program is generated first, then run once
    /// (the run loop repeats it).
    fn execute_generated(
        &self,
        plan: &mut CaseGenerator,
        recording: Recording,
        hb: &Heartbeat,
        rules: &mut [(&'static str, u64)],
    ) -> Result<Generated<M>, (GenError, usize)> {
        super::parallel::generate_then_execute(self, &self.shape, plan, recording, hb, rules)
    }
}

/// One run, inside a shuttle execution: build the system, the prefix on the main thread, the
/// branches on shuttle threads, then teardown.
fn run_program<M, S, F>(
    factory: &Mutex<F>,
    program: &Program<M::Op>,
    initial: &M,
    recording: Recording,
    beats: &[Beat],
) -> Ran<M>
where
    M: Model + std::hash::Hash + Eq,
    M::Op: Send + Sync,
    M::Output: Send + Sync,
    S: ClientSystem<M>,
    F: Fn() -> S,
{
    let build = || (factory.lock().unwrap_or_else(|e| e.into_inner()))();
    let mut sut = match catch(build) {
        Ok(sut) => sut,
        Err(message) => {
            let failure = Failure {
                step: None,
                op: None,
                kind: FailureKind::Panic { message },
            };
            return Ran {
                lanes: Vec::new(),
                failure: Some(failure),
            };
        }
    };
    let clock = AtomicU64::new(0);
    // The prefix's steps are not watched for hangs here (the worker's beat cannot enter the
    // execution); a deadlock or a spin among them is shuttle's to stop.
    let prefix_beat = Beat::default();
    let mut prefix = Lane::<M>::new(0, recording);
    if !program.prefix.is_empty() {
        let ops = &program.prefix;
        run_with_client(&mut prefix, &sut, ops, &[], &clock, &prefix_beat, || true);
    }
    let failure = prefix.failure.take().map(|(_, f)| f);
    let invariant = |m: &M| sut.invariant(m);
    let (failure, lanes) = super::joined::after_the_prefix(
        prefix,
        failure,
        invariant,
        initial,
        program,
        recording,
        |outputs| {
            let (sut_ref, clock_ref) = (&sut, &clock);
            shuttle::thread::scope(|scope| {
                let handles: Vec<_> = program
                    .branches
                    .iter()
                    .enumerate()
                    .map(|(b, ops)| {
                        let beat = &beats[b];
                        scope.spawn(move || {
                            // `Program::parallel` keeps the count within u16.
                            let mut lane = Lane::new(b as u64 + 1, recording);
                            let clock = clock_ref;
                            run_with_client(&mut lane, sut_ref, ops, outputs, clock, beat, || true);
                            lane
                        })
                    })
                    .collect();
                // A branch catches the system's panics; one that escapes is stateprop's own.
                handles
                    .into_iter()
                    .map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
                    .collect()
            })
        },
    );
    let teardown = catch(|| sut.teardown())
        .map_err(|message| super::teardown_failure(program.steps().last(), message));
    Ran {
        lanes,
        failure: failure.or(teardown.err()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::{Counter, CounterOp, CounterOut};
    use crate::sync::atomic::{AtomicI64, Ordering};
    use crate::ConcurrentSystem;

    fn program(by: i64) -> Program<CounterOp> {
        Program::parallel(
            vec![],
            vec![vec![CounterOp::Add { by }], vec![CounterOp::Read]],
        )
    }

    #[test]
    fn consecutive_runs_of_a_program_cycle_through_its_schedules() {
        let config = Config::default().repeats(3).schedule_seed(9);
        let executor = Scheduled::<Counter, (), _>::new(Counter::default(), || (), &config);
        let (a, b) = (program(1), program(2));
        let runs: Vec<_> = [&a, &a, &a, &a, &b, &a]
            .iter()
            .map(|p| executor.next_schedule(p))
            .collect();
        let indices: Vec<u32> = runs.iter().map(|r| r.0).collect();
        // Three schedules, then the first again; another program starts afresh, and so does
        // the first one after it.
        assert_eq!(indices, [0, 1, 2, 0, 0, 0]);
        assert_eq!(runs[0].1, runs[3].1);
        assert_eq!(runs[0].1, runs[5].1);
        assert_ne!(runs[0].1, runs[1].1);
        assert_ne!(runs[0].1, runs[4].1, "another program, other schedules");
        let seed = |s| schedule_of(s, fingerprint(&a), 0);
        assert_eq!(runs[0].1, seed(9));
        assert_ne!(
            seed(9),
            seed(10),
            "the schedule seed changes every schedule"
        );
    }

    /// An access of a run: the add's amount, and whether it stored (else loaded).
    type Access = (i64, bool);

    /// The accesses of every run, a line a run.
    type Log = Mutex<Vec<Vec<Access>>>;

    /// A counter whose add loads then stores, writing each access (the add's amount, and
    /// whether it loaded or stored) to a log shared by every run, one line a run.
    struct Logged {
        value: AtomicI64,
        log: Arc<Log>,
    }

    impl ConcurrentSystem<Counter> for Logged {
        fn apply(&self, op: &CounterOp) -> CounterOut {
            let CounterOp::Add { by } = *op else {
                return CounterOut::Value(self.value.load(Ordering::SeqCst));
            };
            let push = |stored| {
                self.log
                    .lock()
                    .unwrap()
                    .last_mut()
                    .unwrap()
                    .push((by, stored))
            };
            let v = self.value.load(Ordering::SeqCst);
            push(false);
            self.value.store(v + by, Ordering::SeqCst);
            push(true);
            CounterOut::Done
        }
    }

    /// A run of a walk: the order in which its accesses ran, its schedule (its round and
    /// decisions), and its trace's schedule line.
    type Walked = (Vec<Access>, (usize, Vec<super::super::dfs::Choice>), String);

    fn walk_runs(
        executor: &Scheduled<Counter, Logged, impl Fn() -> Logged + Send + 'static>,
        log: &Log,
        program: &Program<CounterOp>,
        runs: usize,
    ) -> Vec<Walked> {
        let recording = Recording {
            history: false,
            trace: true,
            linearized: true,
        };
        (0..runs)
            .map(|_| {
                let run = executor.execute(program, recording, &Heartbeat::default());
                assert!(run.failure.is_none(), "{:?}", run.failure);
                let order = log.lock().unwrap().last().unwrap().clone();
                (order, executor.walk.borrow().last(), run.trace[0].clone())
            })
            .collect()
    }

    /// The number of ways to merge sequences of `a` and `b` pieces with `switches` switches from
    /// one to the other while both have pieces left (a preemption each).
    fn merges(a: u64, b: u64, switches: u64) -> u64 {
        // `last`: whose piece ran last (true for a's), if any did.
        fn count(a: u64, b: u64, last: Option<bool>, switches: u64) -> u64 {
            if a == 0 && b == 0 {
                return u64::from(switches == 0);
            }
            let mut n = 0;
            for (take_a, left) in [(true, a), (false, b)] {
                if left == 0 {
                    continue;
                }
                let preempts = match last {
                    Some(l) => l != take_a && (if l { a } else { b }) > 0,
                    None => false,
                };
                if preempts && switches == 0 {
                    continue;
                }
                let (na, nb) = if take_a { (a - 1, b) } else { (a, b - 1) };
                n += count(na, nb, Some(take_a), switches - u64::from(preempts));
            }
            n
        }
        count(a, b, None, switches)
    }

    #[test]
    fn dfs_runs_enumerate_every_interleaving_of_two_one_step_branches_then_start_over() {
        let log = Arc::new(Mutex::new(Vec::new()));
        let make = || {
            let log = Arc::clone(&log);
            move || {
                log.lock().unwrap().push(Vec::new());
                Logged {
                    value: AtomicI64::new(0),
                    log: Arc::clone(&log),
                }
            }
        };
        let config = Config::default().scheduler(Scheduler::Dfs).repeats(1_000);
        let executor = Scheduled::<Counter, Logged, _>::new(Counter::default(), make(), &config);
        let program = Program::parallel(
            vec![],
            vec![
                vec![CounterOp::Add { by: 1 }],
                vec![CounterOp::Add { by: 2 }],
            ],
        );
        // shuttle may switch before and after each atomic access, so each branch runs as five
        // pieces (to its load, the load, to its store, the store, to its end), and a schedule
        // is a merge of the two branches' pieces: C(10, 5) = 252 of them. (The executor's own
        // thread only spawns and joins, and never competes.)
        let total = 252;
        let walked = walk_runs(&executor, &log, &program, total + 1);
        let restart = &walked[total];
        assert!(
            restart
                .2
                .contains("schedule 0 again (all 252 tried, the walk started over)"),
            "{}",
            restart.2
        );
        let mut schedules: Vec<_> = walked[..total].iter().map(|w| &w.1).collect();
        schedules.sort();
        schedules.dedup();
        assert_eq!(schedules.len(), total, "a schedule ran twice");
        // Fewest preemptions first, as many with each count as there are such merges: none,
        // one, two, and so on.
        let preemptions: Vec<u64> = walked[..total]
            .iter()
            .enumerate()
            .map(|(k, (_, _, trace))| {
                let head = format!("schedule: dfs scheduler, run {k}, schedule {k} in the walk, ");
                let tail = trace
                    .strip_prefix(&head)
                    .unwrap_or_else(|| panic!("{trace}"));
                tail.split(' ').next().unwrap().parse().unwrap()
            })
            .collect();
        let mut at = 0;
        for p in 0..=2 {
            let n = merges(5, 5, p) as usize;
            assert!(
                preemptions[at..at + n].iter().all(|&q| q == p),
                "{preemptions:?}"
            );
            at += n;
        }
        for p in 3..=8 {
            let n = preemptions[at..].iter().filter(|&&q| q == p).count();
            assert_eq!(n as u64, merges(5, 5, p), "{p} preemptions");
        }
        assert_eq!(at, 42);
        // Each branch loads then stores: C(4, 2) = 6 orders of the four accesses, all reached,
        // the racing ones among the first dozen schedules.
        let mut orders: Vec<_> = walked[..total].iter().map(|w| &w.0).collect();
        orders.sort();
        orders.dedup();
        assert_eq!(orders.len(), 6, "{orders:?}");
        for order in &orders {
            let of = |by| {
                order
                    .iter()
                    .filter(|a| a.0 == by)
                    .map(|a| a.1)
                    .collect::<Vec<_>>()
            };
            assert_eq!((of(1), of(2)), (vec![false, true], vec![false, true]));
        }
        assert!(walked[..12].iter().any(|w| !w.0[1].1), "no race early");
        // The walk started over with the first schedule, and goes on in the same order.
        let ran = |w: &[Walked]| {
            w.iter()
                .map(|r| (r.0.clone(), r.1.clone()))
                .collect::<Vec<_>>()
        };
        assert_eq!(ran(&walked[total..]), ran(&walked[..1]));
        let again = walk_runs(&executor, &log, &program, 5);
        assert_eq!(ran(&again), ran(&walked[1..6]));
        // A fresh executor walks the same schedules in the same order.
        let fresh = Scheduled::<Counter, Logged, _>::new(Counter::default(), make(), &config);
        let first = walk_runs(&fresh, &log, &program, total);
        assert_eq!(ran(&first), ran(&walked[..total]));
    }
}
