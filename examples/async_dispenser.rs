//! The ticket dispenser of `ticket_dispenser.rs`, as an `async` service: each take awaits (a
//! storage round trip, here `yield_now`) between reading the next number and writing it back,
//! so two takes in flight at once can hand out the same ticket. stateprop runs each branch as a
//! task on a multi-threaded tokio runtime (cargo feature `tokio`), finds the race and shrinks it
//! to one take on each of two branches; the fixed service passes.
//!
//! Run it with `cargo run --example async_dispenser --features tokio`.

#[path = "ticket_dispenser.rs"]
#[allow(dead_code)]
mod tickets;

use stateprop::{AsyncSystem, Config, Runner};
use std::sync::atomic::{AtomicU64, Ordering};
pub use tickets::{TicketOp, Tickets};

/// The buggy service: read, await, write back.
#[derive(Default)]
pub struct AsyncRacyDispenser(AtomicU64);

impl AsyncSystem<Tickets> for AsyncRacyDispenser {
    async fn apply(&self, _: &TicketOp) -> u64 {
        let ticket = self.0.load(Ordering::SeqCst);
        // Another task may run here, as it would while a real service awaits its storage.
        tokio::task::yield_now().await;
        self.0.store(ticket + 1, Ordering::SeqCst); // the fix: one `fetch_add`
        ticket
    }
}

/// The fixed service.
#[derive(Default)]
pub struct AsyncAtomicDispenser(AtomicU64);

impl AsyncSystem<Tickets> for AsyncAtomicDispenser {
    async fn apply(&self, _: &TicketOp) -> u64 {
        let ticket = self.0.fetch_add(1, Ordering::SeqCst);
        tokio::task::yield_now().await;
        ticket
    }
}

fn main() {
    let racy = Runner::<Tickets>::new(Config::default().persist(false).name("async_dispenser"))
        .run_async_default::<AsyncRacyDispenser>();
    println!("{}", racy.report.text());
    let fixed = Runner::<Tickets>::new(Config::default().persist(false).name("fixed_async"))
        .run_async_default::<AsyncAtomicDispenser>();
    println!("{}", fixed.report.text());
    assert!(racy.failed() && !fixed.failed());
}
