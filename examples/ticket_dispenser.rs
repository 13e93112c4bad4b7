//! The ticket dispenser: the classic race, found on real threads and shrunk to two takes.
//!
//! A dispenser hands out numbered tickets; `take` must give every caller a different number. The
//! buggy one reads the next number, then stores it plus one: two callers that interleave between
//! the load and the store get the same ticket. No sequential test can see it. The concurrent
//! runner runs a prefix, then two branches on threads released together, each case many times,
//! and checks every recorded history for linearizability against the obviously-correct model
//! (a counter); the failure shrinks to `prefix [] ; branch 0 [Take] ; branch 1 [Take]`.
//!
//! Run it with `cargo run --example ticket_dispenser`: it prints the report, with the history of
//! a failing run, its reproduction rate, and a pasteable `replay_concurrent` test.
//!
//! The systems are written against `stateprop::sync`, so the same source runs in both modes:
//! on real threads in a normal build, and under the controlled scheduler with
//! `cargo run --features shuttle --example ticket_dispenser`, where the interleaving comes from
//! a seed and the pasted test replays it (`replay_concurrent_scheduled`).

use stateprop::models::{Counter, CounterOp, CounterOut};
use stateprop::prelude::*;
use stateprop::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use stateprop::{ConcurrentSystem, Runner, Scheduler};

/// The reference model: the next ticket to hand out.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Tickets {
    pub next: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, StateMachine)]
#[state_machine(model = Tickets)]
pub enum TicketOp {
    /// Take a ticket; the answer is its number.
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

/// The buggy dispenser: a load, then a store, where one atomic read-modify-write was needed.
#[derive(Default)]
pub struct RacyDispenser(AtomicU64);

impl ConcurrentSystem<Tickets> for RacyDispenser {
    fn apply(&self, _: &TicketOp) -> u64 {
        let ticket = self.0.load(Ordering::SeqCst);
        // Lets another thread in between the load and the store, as a preemption would; on a
        // machine with few cores the race is rare without it, but it is there all the same.
        stateprop::sync::thread::yield_now();
        self.0.store(ticket + 1, Ordering::SeqCst); // the fix: `self.0.fetch_add(1, SeqCst)`
        ticket
    }
}

/// The fixed dispenser.
#[derive(Default)]
pub struct AtomicDispenser(AtomicU64);

impl ConcurrentSystem<Tickets> for AtomicDispenser {
    fn apply(&self, _: &TicketOp) -> u64 {
        self.0.fetch_add(1, Ordering::SeqCst)
    }
}

/// The buggy dispenser without the `yield_now`: the same race, with a window of a few
/// instructions, which real threads hit rarely and the controlled scheduler every time.
#[derive(Default)]
pub struct TightDispenser(AtomicU64);

impl ConcurrentSystem<Tickets> for TightDispenser {
    fn apply(&self, _: &TicketOp) -> u64 {
        let ticket = self.0.load(Ordering::SeqCst);
        self.0.store(ticket + 1, Ordering::SeqCst);
        ticket
    }
}

/// A counter that loses updates: a load, then a store of the sum, where one `fetch_add` was
/// needed. Two adds that interleave leave one of them undone, which a later read shows.
#[derive(Default)]
pub struct LostUpdateCounter(AtomicI64);

impl ConcurrentSystem<Counter> for LostUpdateCounter {
    fn apply(&self, op: &CounterOp) -> CounterOut {
        match *op {
            CounterOp::Add { by } => {
                let value = self.0.load(Ordering::SeqCst);
                self.0.store(value.wrapping_add(by), Ordering::SeqCst); // the fix: `fetch_add`
                CounterOut::Done
            }
            CounterOp::Read => CounterOut::Value(self.0.load(Ordering::SeqCst)),
        }
    }
}

/// A correct counter: atomic adds, reads by a sequentially consistent load (a checker that took
/// its scheduler's step order for real time would report it).
#[derive(Default)]
pub struct AtomicCounter(AtomicI64);

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

/// The scheduler this build runs `stateprop::sync` systems under: shuttle's types need its
/// scheduler, std's need real threads.
pub fn scheduler() -> Scheduler {
    if stateprop::sync::CONTROLLED {
        Scheduler::Pct
    } else {
        Scheduler::Threads
    }
}

fn main() {
    if std::env::args().nth(1).as_deref() == Some("measure") {
        return measure();
    }
    let config = |name: &str| {
        Config::default()
            .persist(false)
            .name(name)
            .scheduler(scheduler())
    };
    let racy = Runner::<Tickets>::new(config("ticket_dispenser"))
        .run_concurrent_default::<RacyDispenser>();
    println!("{}", racy.report.text());
    let fixed = Runner::<Tickets>::new(config("fixed_dispenser"))
        .run_concurrent_default::<AtomicDispenser>();
    println!("{}", fixed.report.text());
    assert!(racy.failed() && !fixed.failed());
}

/// `cargo run --release --example ticket_dispenser -- measure [repeats,...] [perturb]` (real
/// threads; `perturb` turns `Config::perturb` on), and
/// the same with `--features shuttle` (the random, PCT and dfs schedulers): for each race, over 20
/// seeds, in how many it was found, the median and slowest wall time to find it (generating
/// and running cases until the first failure), how many steps the minimal program has and in how
/// many seeds it was the smallest (`[] ; [Take] ; [Take]`, or `[] ; [Add] ; [Add, Read]` in some
/// order), and the minimal program's reproduction rate.
fn measure() {
    let repeats: Vec<u32> = match std::env::args().nth(2) {
        Some(list) => list
            .split(',')
            .map(|r| {
                r.trim()
                    .parse()
                    .expect("repeats: numbers separated by commas")
            })
            .collect(),
        None => vec![20],
    };
    let modes: &[Scheduler] = if stateprop::sync::CONTROLLED {
        &[Scheduler::Random, Scheduler::Pct, Scheduler::Dfs]
    } else {
        &[Scheduler::Threads]
    };
    for &mode in modes {
        for &r in &repeats {
            one::<Tickets, TightDispenser>("dispenser: load, store", mode, r, 2);
            one::<Tickets, RacyDispenser>("dispenser: load, yield, store", mode, r, 2);
            one::<Counter, LostUpdateCounter>("counter: load, store(v+by)", mode, r, 3);
        }
        correct::<Tickets, AtomicDispenser>("dispenser: fetch_add", mode);
        correct::<Counter, AtomicCounter>("counter: fetch_add, load(SeqCst)", mode);
    }
}

/// Whether `measure`'s third argument asks for pauses before branch steps (`Config::perturb`).
fn perturbed() -> bool {
    std::env::args().nth(3).as_deref() == Some("perturb")
}

/// A correct system over 10,000 cases: any failure is a false report.
fn correct<M, S>(name: &str, mode: Scheduler)
where
    M: Model + Default + std::hash::Hash + Eq + Send,
    M::Op: Send + Sync,
    M::Output: Send + Sync,
    S: ConcurrentSystem<M> + Default + 'static,
{
    let config = Config::default()
        .ignore_env()
        .persist(false)
        .seed(1)
        .cases(10_000)
        .scheduler(mode)
        .perturb(perturbed())
        .name("measure");
    let start = std::time::Instant::now();
    let result = Runner::<M>::new(config).run_concurrent_default::<S>();
    println!(
        "stateprop: {name:<30} | {:<7} | {} cases, {} | {:.1} s",
        mode.name(),
        result.report.stats.cases,
        if result.failed() {
            "FAILED (a false report)"
        } else {
            "no failure"
        },
        start.elapsed().as_secs_f64()
    );
}

fn one<M, S>(name: &str, mode: Scheduler, repeats: u32, minimal: usize)
where
    M: Model + Default + std::hash::Hash + Eq + Send,
    M::Op: Send + Sync,
    M::Output: Send + Sync,
    S: ConcurrentSystem<M> + Default + 'static,
{
    let (mut found, mut smallest, mut sizes) = (0, 0, Vec::new());
    let (mut failed_runs, mut runs) = (0, 0);
    let mut times = Vec::new();
    for seed in 0..20 {
        let config = Config::default()
            .ignore_env()
            .persist(false)
            .seed(seed)
            .repeats(repeats)
            .scheduler(mode)
            .perturb(perturbed())
            .name("measure");
        let result = Runner::<M>::new(config).run_concurrent_default::<S>();
        let report = &result.report;
        if result.failed() {
            found += 1;
            times.push(report.stats.time.as_secs_f64());
            let size = result.minimal_program.len();
            sizes.push(size);
            smallest += u32::from(size == minimal && result.minimal_program.branches.len() == 2);
            if let Some((f, r)) = report.reproduction {
                failed_runs += f;
                runs += r;
            }
        }
    }
    times.sort_by(f64::total_cmp);
    let median = times.get(times.len() / 2).copied().unwrap_or(f64::NAN);
    let slowest = times.last().copied().unwrap_or(f64::NAN);
    sizes.sort_unstable();
    println!(
        "stateprop: {name:<30} | {:<7} | repeats {repeats:>2} | found {found:>2}/20 | median \
         {:>8.1} ms, slowest {:>8.1} ms | minimal size {:?}, smallest in {smallest}/{found} | \
         reproduced {failed_runs}/{runs}",
        mode.name(),
        median * 1e3,
        slowest * 1e3,
        sizes
    );
}
