//! The threads executor alone: histories it records, races it exposes, panics and hangs per
//! thread, `Var`s bound to the system's own outputs.

use super::*;
use crate::check::{check_linearizable, CheckConfig, Verdict};
use crate::exec::watchdog::{run_watched, Heartbeat};
use crate::generate::{generate_program, CaseGenerator};
use crate::models::{Counter, CounterOp, CounterOut};
use crate::{FromOutput, Var};
use serde::{Deserialize, Serialize};
use std::sync::atomic::{AtomicI64, AtomicU64, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

fn with_history() -> Recording {
    Recording {
        history: true,
        trace: false,
        linearized: true,
    }
}

fn run<M, S>(factory: impl Fn() -> S, program: &Program<M::Op>) -> Execution<M>
where
    M: Model + Default + std::hash::Hash + Eq,
    M::Op: Send + Sync,
    M::Output: Send + Sync,
    S: ConcurrentSystem<M> + 'static,
{
    Threads::new(M::default(), factory).execute(program, with_history(), &Heartbeat::default())
}

/// Every recorded operation is the program step its id names (vars aside), on the right client.
fn assert_steps_match(history: &History<CounterOp, CounterOut>, program: &Program<CounterOp>) {
    assert_eq!(history.steps.len(), history.ops.len());
    for (op, id) in history.ops.iter().zip(&history.steps) {
        assert_eq!(program.get(*id), Some(&op.op), "{id}");
        let client = id.branch.map_or(0, |b| u64::from(b) + 1);
        assert_eq!(op.client, client, "{id}");
        assert!(op.call < op.ret.expect("every call returned"));
    }
}

// ---- a correct and a racy system ----

#[derive(Default)]
struct AtomicCounter(AtomicI64);

impl ConcurrentSystem<Counter> for AtomicCounter {
    fn apply(&self, op: &CounterOp) -> CounterOut {
        match *op {
            CounterOp::Add { by } => {
                self.0.fetch_add(by, Ordering::SeqCst);
                CounterOut::Done
            }
            CounterOp::Read => CounterOut::Value(self.0.load(Ordering::SeqCst)),
        }
    }
}

/// A program from the generator, cut into a prefix and 2 to 4 branches at seeded places.
fn split_program(seed: u64) -> Program<CounterOp> {
    let mut plan = CaseGenerator::new::<CounterOp>(seed, (2, 40), false);
    let ops = generate_program(&Counter::default(), &mut plan, 40, None).expect("generates");
    let mut bits = crate::generate::rng::mix(seed);
    let mut below = |n: usize| {
        bits = crate::generate::rng::mix(bits);
        (bits % n as u64) as usize
    };
    let branches = 2 + below(3);
    let prefix_len = below(4);
    let mut rest = ops.into_iter();
    let prefix: Vec<_> = rest.by_ref().take(prefix_len).collect();
    let mut split = vec![Vec::new(); branches];
    for op in rest {
        split[below(branches)].push(op);
    }
    Program::parallel(prefix, split)
}

#[test]
fn a_correct_counter_gives_linearizable_histories() {
    let mut overlapping = 0;
    // One executor for every run, as the run loop has: its branch threads serve them all.
    let executor = Threads::new(Counter::default(), AtomicCounter::default);
    for seed in 0..300 {
        let program = split_program(seed);
        let execution = executor.execute(&program, with_history(), &Heartbeat::default());
        assert_eq!(execution.failure, None);
        let history = execution.history.expect("recorded");
        assert_eq!(history.len(), program.len());
        assert_steps_match(&history, &program);
        let report = check_linearizable(&history, &Counter::default(), &CheckConfig::default());
        assert!(
            matches!(report.verdict, Verdict::Holds),
            "seed {seed}: {:?}\n{history:?}",
            report.verdict
        );
        // Branch operations overlapping in time show that the branches really ran together.
        let ops = &history.ops;
        overlapping += ops.iter().any(|a| {
            ops.iter()
                .any(|b| a.client != b.client && a.call < b.ret.unwrap() && b.call < a.ret.unwrap())
        }) as usize;
    }
    assert!(overlapping > 0, "no two branches ever overlapped");
}

/// The ticket dispenser: `Take` hands out the next number.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
struct Tickets {
    next: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, crate::StateMachine, Serialize, Deserialize)]
#[state_machine(model = Tickets)]
enum TicketOp {
    Take,
}

impl Model for Tickets {
    type Op = TicketOp;
    type Output = u64;
    fn step(&mut self, _: &TicketOp) -> u64 {
        self.next += 1;
        self.next - 1
    }
}

/// Loads, then stores: two takes that interleave hand out the same ticket.
#[derive(Default)]
struct RacyDispenser(AtomicU64);

impl ConcurrentSystem<Tickets> for RacyDispenser {
    fn apply(&self, _: &TicketOp) -> u64 {
        let ticket = self.0.load(Ordering::SeqCst);
        // Widens the window on a machine with few cores; the race is there without it.
        std::thread::yield_now();
        self.0.store(ticket + 1, Ordering::SeqCst);
        ticket
    }
}

#[test]
fn a_racy_dispenser_gives_a_history_the_checker_rejects() {
    let program = Program::parallel(
        vec![TicketOp::Take],
        vec![vec![TicketOp::Take; 3], vec![TicketOp::Take; 3]],
    );
    let mut rejected = None;
    for attempt in 0..2000 {
        let execution = run(RacyDispenser::default, &program);
        assert_eq!(execution.failure, None);
        let history = execution.history.expect("recorded");
        let report = check_linearizable(&history, &Tickets::default(), &CheckConfig::default());
        match report.verdict {
            Verdict::Holds => {}
            Verdict::Violated(_) => {
                rejected = Some((attempt, history));
                break;
            }
            other => panic!("{other:?}"),
        }
    }
    let (_, history) = rejected.expect("2000 runs never showed the race");
    // The race shows as a ticket handed out twice, to different branches.
    let mut tickets: Vec<_> = history.ops.iter().map(|o| o.output.unwrap()).collect();
    tickets.sort_unstable();
    tickets.dedup();
    assert!(tickets.len() < history.len(), "{history:?}");
}

#[test]
fn repeats_stop_at_the_first_rejected_history() {
    let judge = |history: &History<TicketOp, u64>| {
        let report = check_linearizable(history, &Tickets::default(), &CheckConfig::default());
        match report.verdict {
            Verdict::Holds => None,
            other => Some(other),
        }
    };
    let program = Program::parallel(vec![], vec![vec![TicketOp::Take; 2]; 2]);
    let hb = Heartbeat::default();
    crate::catch::capture_on_this_thread();
    let racy = Threads::new(Tickets::default(), RacyDispenser::default).execute_repeated(
        &program,
        Recording::default(),
        &hb,
        2000,
        judge,
    );
    assert!(matches!(racy.rejected, Some(Verdict::Violated(_))));
    assert!(racy.runs < 2000);
    // The history returned is the one the judge rejected.
    assert!(judge(&racy.execution.history.unwrap()).is_some());

    /// The same dispenser, taking its ticket atomically.
    #[derive(Default)]
    struct Dispenser(AtomicU64);
    impl ConcurrentSystem<Tickets> for Dispenser {
        fn apply(&self, _: &TicketOp) -> u64 {
            self.0.fetch_add(1, Ordering::SeqCst)
        }
    }
    let correct = Threads::new(Tickets::default(), Dispenser::default).execute_repeated(
        &program,
        Recording::default(),
        &hb,
        50,
        judge,
    );
    assert!(correct.rejected.is_none());
    assert_eq!(correct.execution.failure, None);
    assert_eq!(correct.runs, 50);
}

// ---- panics, vars, hangs: a store of cells handing out its own ids ----

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
struct Id(u64);

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Out {
    Created(Id),
    Value(u32),
}

impl FromOutput<Out> for Id {
    fn from_output(output: &Out) -> Option<Id> {
        match output {
            Out::Created(id) => Some(*id),
            Out::Value(_) => None,
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
struct Cells {
    cells: Vec<u32>,
}

#[derive(Debug, Clone, crate::StateMachine)]
#[state_machine(model = Cells)]
enum CellOp {
    Create { value: u32 },
    Read { cell: Var<Id> },
}

impl Model for Cells {
    type Op = CellOp;
    type Output = Out;
    fn step(&mut self, op: &CellOp) -> Out {
        match op {
            CellOp::Create { value } => {
                self.cells.push(*value);
                Out::Created(Id(self.cells.len() as u64 - 1))
            }
            CellOp::Read { cell } => Out::Value(self.cells[cell.0 as usize]),
        }
    }
}

/// Numbers cells its own way (1000, 1007, ...); panics creating 13; blocks forever creating 99.
struct CellStore {
    cells: Mutex<Vec<(Id, u32)>>,
    never: Mutex<mpsc::Receiver<()>>,
    _keep: mpsc::Sender<()>,
    created: Arc<AtomicUsize>,
}

impl CellStore {
    fn new() -> Self {
        let (tx, rx) = mpsc::channel();
        CellStore {
            cells: Mutex::new(Vec::new()),
            never: Mutex::new(rx),
            _keep: tx,
            created: Arc::default(),
        }
    }
}

impl ConcurrentSystem<Cells> for CellStore {
    fn apply(&self, op: &CellOp) -> Out {
        match op {
            CellOp::Create { value: 13 } => panic!("unlucky"),
            CellOp::Create { value: 99 } => {
                let _ = self.never.lock().unwrap().recv();
                unreachable!("the sender lives as long as the store")
            }
            CellOp::Create { value } => {
                let mut cells = self.cells.lock().unwrap();
                let id = Id(1000 + 7 * cells.len() as u64);
                cells.push((id, *value));
                self.created.fetch_add(1, Ordering::SeqCst);
                Out::Created(id)
            }
            CellOp::Read { cell } => {
                let cells = self.cells.lock().unwrap();
                Out::Value(cells.iter().find(|(id, _)| id == &**cell).unwrap().1)
            }
        }
    }
}

fn outcome(history: &History<CellOp, Out>, id: StepId) -> Option<&Operation<CellOp, Out>> {
    let at = history.steps.iter().position(|s| *s == id)?;
    Some(&history.ops[at])
}

#[test]
fn vars_bind_to_the_systems_outputs_of_the_prefix_and_the_own_branch() {
    let program = Program::parallel(
        vec![CellOp::Create { value: 5 }],
        vec![
            vec![CellOp::Read { cell: Var::at(0) }],
            vec![
                CellOp::Create { value: 9 },
                CellOp::Read {
                    cell: Var::in_branch(1, 0),
                },
                CellOp::Read { cell: Var::at(0) },
            ],
        ],
    );
    let execution = run(CellStore::new, &program);
    assert_eq!(execution.failure, None);
    let history = execution.history.unwrap();
    assert_eq!(history.len(), 5);
    let read = |id| outcome(&history, id).unwrap();
    assert_eq!(read(StepId::in_branch(0, 0)).output, Some(Out::Value(5)));
    assert_eq!(read(StepId::in_branch(1, 1)).output, Some(Out::Value(9)));
    assert_eq!(read(StepId::in_branch(1, 2)).output, Some(Out::Value(5)));
    // The recorded operation carries the value the system was called with.
    let CellOp::Read { cell } = &read(StepId::in_branch(0, 0)).op else {
        panic!("not a read")
    };
    assert_eq!(cell.try_get(), Some(&Id(1000)));
}

#[test]
fn a_var_that_does_not_resolve_fails_its_step_and_the_other_branch_runs() {
    let program = Program::parallel(
        vec![CellOp::Create { value: 5 }],
        vec![
            vec![CellOp::Create { value: 1 }, CellOp::Create { value: 2 }],
            vec![
                CellOp::Read { cell: Var::at(0) },
                // A read's output holds no id.
                CellOp::Read {
                    cell: Var::in_branch(1, 0),
                },
                CellOp::Create { value: 3 },
            ],
        ],
    );
    let execution = run(CellStore::new, &program);
    let failure = execution.failure.expect("fails");
    assert_eq!(failure.step, Some(StepId::in_branch(1, 1)));
    assert_eq!(failure.kind, FailureKind::UnboundVar);
    let history = execution.history.unwrap();
    // Never invoked, so not in the history; nor is anything after it in its branch.
    assert!(outcome(&history, StepId::in_branch(1, 1)).is_none());
    assert!(outcome(&history, StepId::in_branch(1, 2)).is_none());
    assert!(outcome(&history, StepId::in_branch(0, 1)).is_some());
}

#[test]
fn a_var_naming_another_branch_does_not_resolve() {
    let program = Program::parallel(
        vec![],
        vec![
            vec![CellOp::Create { value: 1 }],
            vec![CellOp::Read {
                cell: Var::in_branch(0, 0),
            }],
        ],
    );
    // Even when branch 0 happens to have run first, its outputs are not branch 1's to read.
    for _ in 0..20 {
        let execution = run(CellStore::new, &program);
        let failure = execution.failure.expect("fails");
        assert_eq!(failure.step, Some(StepId::in_branch(1, 0)));
        assert_eq!(failure.kind, FailureKind::UnboundVar);
    }
}

#[test]
fn a_panicking_branch_step_is_an_unknown_outcome_and_the_other_branch_finishes() {
    let program = Program::parallel(
        vec![CellOp::Create { value: 5 }],
        vec![
            vec![
                CellOp::Create { value: 1 },
                CellOp::Create { value: 13 },
                CellOp::Create { value: 2 },
            ],
            vec![CellOp::Create { value: 3 }, CellOp::Create { value: 4 }],
        ],
    );
    let execution = run(CellStore::new, &program);
    let failure = execution.failure.expect("fails");
    assert_eq!(failure.step, Some(StepId::in_branch(0, 1)));
    assert_eq!(failure.op.as_deref(), Some("CellOp::Create { value: 13 }"));
    let FailureKind::Panic { message } = &failure.kind else {
        panic!("{failure:?}")
    };
    // The location comes from stateprop's panic hook, which only records (and keeps quiet)
    // on a capturing thread: the branch thread was one.
    assert!(message.starts_with("unlucky (at "), "{message}");
    assert!(
        failure.to_string().contains("panicked at branch 0 step 1"),
        "{failure}"
    );
    let history = execution.history.unwrap();
    let panicked = outcome(&history, StepId::in_branch(0, 1)).unwrap();
    assert!(panicked.is_unknown() && panicked.ret.is_none());
    assert!(outcome(&history, StepId::in_branch(0, 2)).is_none());
    for i in 0..2 {
        let op = outcome(&history, StepId::in_branch(1, i)).expect("the other branch ran");
        assert!(matches!(op.output, Some(Out::Created(_))));
    }
    assert_eq!(history.len(), 5);
}

#[test]
fn a_panicking_prefix_step_stops_the_run_before_the_branches() {
    let program = Program::parallel(
        vec![CellOp::Create { value: 1 }, CellOp::Create { value: 13 }],
        vec![vec![CellOp::Create { value: 2 }]; 2],
    );
    let execution = run(CellStore::new, &program);
    let failure = execution.failure.expect("fails");
    assert_eq!(failure.step, Some(StepId::prefix(1)));
    assert!(matches!(failure.kind, FailureKind::Panic { .. }));
    let history = execution.history.unwrap();
    assert_eq!(history.steps, [StepId::prefix(0), StepId::prefix(1)]);
    assert!(history.ops[1].is_unknown());
    assert_eq!(history.ops[1].client, 0);
}

#[test]
fn a_panicking_teardown_fails_the_run_after_every_branch_ran() {
    struct Grumpy(AtomicCounter);
    impl ConcurrentSystem<Counter> for Grumpy {
        fn apply(&self, op: &CounterOp) -> CounterOut {
            self.0.apply(op)
        }
        fn teardown(&mut self) {
            panic!("will not close");
        }
    }
    let program = Program::parallel(vec![], vec![vec![CounterOp::Read]; 2]);
    let execution = run(|| Grumpy(AtomicCounter::default()), &program);
    let failure = execution.failure.expect("fails");
    let FailureKind::Panic { message } = &failure.kind else {
        panic!("{failure:?}")
    };
    assert!(
        message.starts_with("in teardown: will not close"),
        "{message}"
    );
    assert_eq!(failure.step, Some(StepId::in_branch(1, 0)));
    assert_eq!(execution.history.unwrap().len(), 2);
}

#[test]
fn a_trace_has_a_line_per_step_naming_it_and_its_client() {
    let program = Program::parallel(
        vec![CounterOp::Add { by: 2 }],
        vec![vec![CounterOp::Read], vec![CounterOp::Add { by: 1 }]],
    );
    crate::catch::capture_on_this_thread();
    let recording = Recording {
        history: false,
        trace: true,
        linearized: true,
    };
    let execution = Threads::new(Counter::default(), AtomicCounter::default).execute(
        &program,
        recording,
        &Heartbeat::default(),
    );
    assert!(execution.history.is_none());
    let trace = execution.trace;
    assert_eq!(trace.len(), 3, "{trace:?}");
    assert!(trace[0].starts_with("step 0 (client 0, 0..1): CounterOp::Add { by: 2 } -> Done"));
    assert!(
        trace[1].starts_with("branch 0 step 0 (client 1, "),
        "{trace:?}"
    );
    assert!(
        trace[2].starts_with("branch 1 step 0 (client 2, "),
        "{trace:?}"
    );
}

#[test]
fn a_panicking_factory_fails_the_set_up() {
    let execution = run::<Cells, CellStore>(|| panic!("no store"), &Program::sequential(vec![]));
    let failure = execution.failure.expect("fails");
    assert_eq!(failure.step, None);
    assert!(matches!(failure.kind, FailureKind::Panic { .. }));
}

#[test]
fn a_hanging_branch_step_is_named_while_the_other_branch_still_runs() {
    // Branch 0 keeps returning from steps for far longer than the timeout; a watchdog that only
    // looked for progress anywhere would wait for it to finish.
    let steps = 400;
    let program = Program::parallel(
        vec![CellOp::Create { value: 5 }],
        vec![
            vec![CellOp::Create { value: 1 }; steps],
            vec![
                CellOp::Create { value: 2 },
                CellOp::Create { value: 3 },
                CellOp::Create { value: 99 },
            ],
        ],
    );
    /// Branch 0's steps sleep, so it makes progress slowly.
    struct Slow(CellStore);
    impl ConcurrentSystem<Cells> for Slow {
        fn apply(&self, op: &CellOp) -> Out {
            if let CellOp::Create { value: 1 } = op {
                std::thread::sleep(Duration::from_millis(10));
            }
            self.0.apply(op)
        }
    }
    // The store moves into the run; its count of created cells is shared with the test.
    let created = Arc::new(Mutex::new(None::<Arc<AtomicUsize>>));
    let timeout = Duration::from_millis(300);
    let started = Instant::now();
    let (job_program, job_created) = (program.clone(), Arc::clone(&created));
    let hung = run_watched(timeout, move |hb| {
        let factory = || {
            let store = CellStore::new();
            *job_created.lock().unwrap() = Some(Arc::clone(&store.created));
            Slow(store)
        };
        Threads::new(Cells::default(), factory).execute(&job_program, with_history(), hb)
    })
    .err()
    .expect("the run hangs");
    assert!(started.elapsed() >= timeout);
    assert_eq!(hung.at(), StepId::in_branch(1, 2));
    let failure = hung.failure(&program, timeout);
    assert_eq!(failure.step, Some(StepId::in_branch(1, 2)));
    assert_eq!(failure.op.as_deref(), Some("CellOp::Create { value: 99 }"));
    assert_eq!(failure.kind, FailureKind::Hang { timeout_ms: 300 });
    assert!(
        failure
            .to_string()
            .contains("at branch 1 step 2 did not return"),
        "{failure}"
    );
    let created = created
        .lock()
        .unwrap()
        .clone()
        .expect("the system was built");
    assert!(
        created.load(Ordering::SeqCst) < steps,
        "branch 0 had finished before the hang was reported"
    );
}

#[test]
fn a_hanging_prefix_step_is_named_as_a_prefix_step() {
    let program = Program::parallel(
        vec![CellOp::Create { value: 1 }, CellOp::Create { value: 99 }],
        vec![vec![CellOp::Create { value: 2 }]],
    );
    let job = program.clone();
    let hung = run_watched(Duration::from_millis(100), move |hb| {
        Threads::new(Cells::default(), CellStore::new).execute(&job, with_history(), hb)
    })
    .err()
    .expect("the run hangs");
    assert_eq!(hung.at(), StepId::prefix(1));
}
