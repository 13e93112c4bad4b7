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

use stateprop::prelude::*;
use stateprop::{ConcurrentSystem, Runner};
use std::sync::atomic::{AtomicU64, Ordering};

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
        std::thread::yield_now();
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
/// instructions (used by `measure` only, to show what the repeats are for).
#[derive(Default)]
pub struct TightDispenser(AtomicU64);

impl ConcurrentSystem<Tickets> for TightDispenser {
    fn apply(&self, _: &TicketOp) -> u64 {
        let ticket = self.0.load(Ordering::SeqCst);
        self.0.store(ticket + 1, Ordering::SeqCst);
        ticket
    }
}

fn main() {
    if std::env::args().nth(1).as_deref() == Some("measure") {
        return measure();
    }
    let racy = Runner::<Tickets>::new(Config::default().persist(false).name("ticket_dispenser"))
        .run_concurrent_default::<RacyDispenser>();
    println!("{}", racy.report.text());
    let fixed = Runner::<Tickets>::new(Config::default().persist(false).name("fixed_dispenser"))
        .run_concurrent_default::<AtomicDispenser>();
    println!("{}", fixed.report.text());
    assert!(racy.failed() && !fixed.failed());
}

/// `cargo run --release --example ticket_dispenser -- measure`: for each number of repeats,
/// 20 seeds of the racy dispensers: how many runs found the race, in how many cases, how long
/// finding and shrinking took, how many shrank to exactly `[] ; [Take] ; [Take]`, and the
/// minimal program's reproduction rate.
fn measure() {
    fn one<S: ConcurrentSystem<Tickets> + Default + 'static>(name: &str) {
        for repeats in [1, 2, 5, 10, 20, 50] {
            let (mut found, mut exact, mut cases) = (0, 0, 0);
            let (mut failed_runs, mut runs) = (0, 0);
            let (mut find, mut shrink) = (0.0, 0.0);
            for seed in 0..20 {
                let config = Config::default()
                    .ignore_env()
                    .persist(false)
                    .seed(seed)
                    .repeats(repeats)
                    .name("measure");
                let result = Runner::<Tickets>::new(config).run_concurrent_default::<S>();
                let report = &result.report;
                find += report.stats.time.as_secs_f64();
                shrink += report.shrink.time.as_secs_f64();
                cases += report.stats.cases;
                if result.failed() {
                    found += 1;
                    let two = stateprop::Program::parallel(
                        vec![],
                        vec![vec![TicketOp::Take], vec![TicketOp::Take]],
                    );
                    exact += u32::from(result.minimal_program == two);
                    if let Some((f, r)) = report.reproduction {
                        failed_runs += f;
                        runs += r;
                    }
                }
            }
            println!(
                "stateprop: {name}: repeats {repeats:>2}: found in {found}/20 seeds ({cases} \
                 cases run), shrunk to [] ; [Take] ; [Take] in {exact}/{found}; finding {find:.2} \
                 s, shrinking {shrink:.2} s over the 20 seeds; reproduced {failed_runs} of {runs} \
                 runs of the minimal programs"
            );
        }
    }
    one::<RacyDispenser>("load, yield, store");
    one::<TightDispenser>("load, store");
}
