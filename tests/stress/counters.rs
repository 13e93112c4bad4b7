//! Counters the concurrent stress tests share: a correct one and one that races.

use stateprop::models::{Counter, CounterOp, CounterOut};
use stateprop::ConcurrentSystem;
use std::sync::atomic::{AtomicI64, Ordering};

/// A correct counter.
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

/// A counter whose `Add` loads, then stores: two adds at once lose one.
#[derive(Default)]
pub struct RacyCounter(AtomicI64);

impl ConcurrentSystem<Counter> for RacyCounter {
    fn apply(&self, op: &CounterOp) -> CounterOut {
        match *op {
            CounterOp::Add { by } => {
                let v = self.0.load(Ordering::SeqCst);
                // Widens the window between the load and the store, as a real read-modify-write
                // over a network or a lock-free retry would.
                std::thread::yield_now();
                self.0.store(v + by, Ordering::SeqCst);
                CounterOut::Done
            }
            CounterOp::Read => CounterOut::Value(self.0.load(Ordering::SeqCst)),
        }
    }
}
