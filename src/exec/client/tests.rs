//! Clients of a [`ClientSystem`] under the threads executor: one per lane per run, made and
//! used on one thread, numbered as the history numbers its operations; and the branch threads
//! that run them, kept from one run to the next.

use super::*;
use crate::exec::threads::Threads;
use crate::exec::watchdog::Heartbeat;
use crate::exec::{Execution, Executor, Recording};
use crate::failure::FailureKind;
use crate::models::{Counter, CounterOp, CounterOut};
use crate::program::{Program, StepId};
use std::collections::HashSet;
use std::rc::Rc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::ThreadId;

/// A counter that notes, for every client it makes and every call, the thread it is on.
#[derive(Default)]
struct Watched {
    value: AtomicI64,
    /// (client number, thread that made it).
    connected: Mutex<Vec<(u64, ThreadId)>>,
    /// (client number, thread of the call).
    calls: Mutex<Vec<(u64, ThreadId)>>,
}

/// A client that cannot leave its thread.
struct Handle {
    number: u64,
    _not_send: Rc<()>,
}

impl ClientSystem<Counter> for Watched {
    type Client = Handle;

    fn connect(&self, client: u64) -> Handle {
        let here = std::thread::current().id();
        self.connected.lock().unwrap().push((client, here));
        Handle {
            number: client,
            _not_send: Rc::new(()),
        }
    }

    fn call(&self, client: &mut Handle, op: &CounterOp) -> CounterOut {
        let here = std::thread::current().id();
        self.calls.lock().unwrap().push((client.number, here));
        match *op {
            CounterOp::Add { by } => {
                self.value.fetch_add(by, Ordering::SeqCst);
                CounterOut::Done
            }
            CounterOp::Read => CounterOut::Value(self.value.load(Ordering::SeqCst)),
        }
    }
}

fn program() -> Program<CounterOp> {
    Program::parallel(
        vec![CounterOp::Add { by: 1 }],
        vec![
            vec![CounterOp::Add { by: 2 }, CounterOp::Read],
            vec![CounterOp::Read, CounterOp::Add { by: 3 }],
            vec![CounterOp::Read],
        ],
    )
}

fn recording() -> Recording {
    Recording {
        history: true,
        trace: false,
        linearized: true,
    }
}

#[test]
fn every_lane_calls_through_one_client_made_on_its_own_thread() {
    // The factory keeps a handle on every system it builds, to read what each saw.
    let log = Arc::new(Mutex::new(Vec::<Arc<Watched>>::new()));
    let systems = Arc::clone(&log);
    let executor = Threads::new(Counter::default(), move || {
        let system = Arc::new(Watched::default());
        systems.lock().unwrap().push(Arc::clone(&system));
        Shared(system)
    });
    let hb = Heartbeat::default();
    for _ in 0..20 {
        let execution: Execution<Counter> = executor.execute(&program(), recording(), &hb);
        assert_eq!(execution.failure, None);
        let history = execution.history.expect("recorded");
        // The history's client of each operation is its lane's: 0 for the prefix, b + 1.
        for (op, id) in history.ops.iter().zip(&history.steps) {
            assert_eq!(op.client, id.branch.map_or(0, |b| u64::from(b) + 1), "{id}");
        }
    }
    let systems = log.lock().unwrap();
    assert_eq!(systems.len(), 20);
    let mut branch_threads = HashSet::new();
    for system in systems.iter() {
        let connected = system.connected.lock().unwrap().clone();
        let calls = system.calls.lock().unwrap().clone();
        // One client per lane per run: the prefix's and each branch's.
        let mut numbers: Vec<u64> = connected.iter().map(|(n, _)| *n).collect();
        numbers.sort_unstable();
        assert_eq!(numbers, [0, 1, 2, 3]);
        // Every call runs on the thread that made its client.
        for (number, thread) in &calls {
            assert!(connected.contains(&(*number, *thread)), "{number}");
        }
        assert_eq!(calls.len(), program().len());
        branch_threads.extend(connected.iter().filter(|(n, _)| *n > 0).map(|(_, t)| *t));
    }
    // The branches ran on the same three threads in all twenty runs.
    assert_eq!(branch_threads.len(), 3, "{branch_threads:?}");
}

/// A [`Watched`] the test keeps a handle on.
struct Shared(Arc<Watched>);

impl ClientSystem<Counter> for Shared {
    type Client = Handle;

    fn connect(&self, client: u64) -> Handle {
        self.0.connect(client)
    }

    fn call(&self, client: &mut Handle, op: &CounterOp) -> CounterOut {
        self.0.call(client, op)
    }
}

#[test]
fn a_client_that_cannot_be_made_fails_its_lane_at_its_first_step() {
    /// Refuses to make the client of branch 1.
    #[derive(Default)]
    struct Refusing(Watched);

    impl ClientSystem<Counter> for Refusing {
        type Client = Handle;

        fn connect(&self, client: u64) -> Handle {
            assert_ne!(client, 2, "no more connections");
            self.0.connect(client)
        }

        fn call(&self, client: &mut Handle, op: &CounterOp) -> CounterOut {
            self.0.call(client, op)
        }
    }

    let executor = Threads::new(Counter::default(), Refusing::default);
    let execution = executor.execute(&program(), recording(), &Heartbeat::default());
    let failure = execution.failure.expect("the refused client fails the run");
    assert_eq!(failure.step, Some(StepId::in_branch(1, 0)));
    let FailureKind::Panic { message } = &failure.kind else {
        panic!("{failure:?}");
    };
    assert!(message.starts_with("making client 2: "), "{message}");
    assert!(message.contains("no more connections"), "{message}");
    // The other branches ran to their end; branch 1 ran nothing.
    let history = execution.history.expect("recorded");
    assert!(history.steps.iter().all(|id| id.branch != Some(1)));
    assert_eq!(history.len(), program().len() - program().branches[1].len());
}

#[test]
fn a_client_that_is_never_made_is_a_hang_at_its_lane_s_first_step() {
    /// Never finishes making the client of branch 0 (a connection to a server that is down).
    #[derive(Default)]
    struct Unreachable(Watched);

    impl ClientSystem<Counter> for Unreachable {
        type Client = Handle;

        fn connect(&self, client: u64) -> Handle {
            if client == 1 {
                loop {
                    std::thread::sleep(std::time::Duration::from_millis(5));
                }
            }
            self.0.connect(client)
        }

        fn call(&self, client: &mut Handle, op: &CounterOp) -> CounterOut {
            self.0.call(client, op)
        }
    }

    let timeout = std::time::Duration::from_millis(200);
    let hung = crate::exec::watchdog::run_watched(timeout, |hb| {
        Threads::new(Counter::default(), Unreachable::default).execute(&program(), recording(), hb)
    })
    .err()
    .expect("the run hangs, and is reported");
    assert_eq!(hung.at(), StepId::in_branch(0, 0));
}

#[test]
fn a_client_whose_drop_panics_fails_its_lane() {
    /// A client that panics when dropped (a session whose close fails).
    struct Sticky(u64);

    impl Drop for Sticky {
        fn drop(&mut self) {
            if self.0 == 3 {
                panic!("the session would not close");
            }
        }
    }

    #[derive(Default)]
    struct Sessions(Watched);

    impl ClientSystem<Counter> for Sessions {
        type Client = Sticky;

        fn connect(&self, client: u64) -> Sticky {
            Sticky(client)
        }

        fn call(&self, client: &mut Sticky, op: &CounterOp) -> CounterOut {
            let mut handle = self.0.connect(client.0);
            self.0.call(&mut handle, op)
        }
    }

    let executor = Threads::new(Counter::default(), Sessions::default);
    let execution = executor.execute(&program(), recording(), &Heartbeat::default());
    let failure = execution.failure.expect("the panicking drop fails the run");
    assert_eq!(failure.step, Some(StepId::in_branch(2, 0)));
    let FailureKind::Panic { message } = &failure.kind else {
        panic!("{failure:?}");
    };
    assert!(message.starts_with("dropping client 3: "), "{message}");
    // Every step ran: the client is dropped after its lane's last step.
    assert_eq!(execution.history.expect("recorded").len(), program().len());
}
