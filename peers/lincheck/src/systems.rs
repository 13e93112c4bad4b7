//! The systems under test, written once each: the std-atomic ones serve both tools through the
//! same `apply`, the loom-atomic ones serve lincheck only (loom's types work only inside
//! `loom::model`, which stateprop's real threads never enter).

use lincheck::{ConcurrentSpec, SequentialSpec};
use proptest::prelude::*;
pub use stateprop::models::Counter;
use stateprop::models::{CounterOp, CounterOut};
use stateprop::prelude::*;
use stateprop::ConcurrentSystem;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering::SeqCst};

/// The ticket dispenser's model: the next ticket to hand out.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Tickets {
    pub next: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, StateMachine)]
#[state_machine(model = Tickets)]
pub enum TicketOp {
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

/// An operation as lincheck sees it: proptest's `Arbitrary` is needed, and neither it nor
/// stateprop's `CounterOp` is ours, so a wrapper carries the impl.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct L<O>(pub O);

/// Whether an operation can change the state (from the model's `is_read_only`), for counting
/// the threads of a report that write: a lost update needs two of them.
pub trait Writes {
    fn writes(&self) -> bool;
}

impl<O: StateMachine> Writes for O {
    fn writes(&self) -> bool {
        !<O::Model as Model>::is_read_only(self)
    }
}

impl<O: StateMachine> Writes for L<O> {
    fn writes(&self) -> bool {
        self.0.writes()
    }
}

impl Arbitrary for L<TicketOp> {
    type Parameters = ();
    type Strategy = BoxedStrategy<Self>;
    fn arbitrary_with(_: ()) -> Self::Strategy {
        Just(L(TicketOp::Take)).boxed()
    }
}

impl Arbitrary for L<CounterOp> {
    type Parameters = ();
    type Strategy = BoxedStrategy<Self>;
    // The same draw as stateprop's derived strategy: the two rules equally likely, `by` in -2..5.
    fn arbitrary_with(_: ()) -> Self::Strategy {
        prop_oneof![
            (-2..5i64).prop_map(|by| L(CounterOp::Add { by })),
            Just(L(CounterOp::Read)),
        ]
        .boxed()
    }
}

/// Lincheck's sequential specification is the very model stateprop checks against.
#[derive(Default)]
pub struct Spec<M>(M);

impl<M: Model + Default> SequentialSpec for Spec<M> {
    type Op = L<M::Op>;
    type Ret = M::Output;
    fn exec(&mut self, op: L<M::Op>) -> M::Output {
        self.0.step(&op.0)
    }
}

/// Lets lincheck drive a std-atomic system through the same `apply` stateprop calls.
macro_rules! lincheck_through_apply {
    ($system:ty, $model:ty) => {
        impl ConcurrentSpec for $system {
            type Seq = Spec<$model>;
            fn exec(&self, op: L<<$model as Model>::Op>) -> <$model as Model>::Output {
                ConcurrentSystem::<$model>::apply(self, &op.0)
            }
        }
    };
}

/// examples/ticket_dispenser.rs's `RacyDispenser`: load, yield, store.
#[derive(Default)]
pub struct RacyDispenser(AtomicU64);

impl ConcurrentSystem<Tickets> for RacyDispenser {
    fn apply(&self, _: &TicketOp) -> u64 {
        let ticket = self.0.load(SeqCst);
        std::thread::yield_now();
        self.0.store(ticket + 1, SeqCst);
        ticket
    }
}
lincheck_through_apply!(RacyDispenser, Tickets);

/// examples/ticket_dispenser.rs's `TightDispenser`: load, store.
#[derive(Default)]
pub struct TightDispenser(AtomicU64);

impl ConcurrentSystem<Tickets> for TightDispenser {
    fn apply(&self, _: &TicketOp) -> u64 {
        let ticket = self.0.load(SeqCst);
        self.0.store(ticket + 1, SeqCst);
        ticket
    }
}
lincheck_through_apply!(TightDispenser, Tickets);

/// A lost-update counter: an add loads, yields, then stores the sum.
#[derive(Default)]
pub struct RacyCounter(AtomicI64);

impl ConcurrentSystem<Counter> for RacyCounter {
    fn apply(&self, op: &CounterOp) -> CounterOut {
        match *op {
            CounterOp::Add { by } => {
                let v = self.0.load(SeqCst);
                std::thread::yield_now();
                self.0.store(v.wrapping_add(by), SeqCst);
                CounterOut::Done
            }
            CounterOp::Read => CounterOut::Value(self.0.load(SeqCst)),
        }
    }
}
lincheck_through_apply!(RacyCounter, Counter);

/// The same lost update without the yield.
#[derive(Default)]
pub struct TightCounter(AtomicI64);

impl ConcurrentSystem<Counter> for TightCounter {
    fn apply(&self, op: &CounterOp) -> CounterOut {
        match *op {
            CounterOp::Add { by } => {
                let v = self.0.load(SeqCst);
                self.0.store(v.wrapping_add(by), SeqCst);
                CounterOut::Done
            }
            CounterOp::Read => CounterOut::Value(self.0.load(SeqCst)),
        }
    }
}
lincheck_through_apply!(TightCounter, Counter);

/// The correct counter: one atomic add, sequentially consistent reads.
#[derive(Default)]
pub struct AtomicCounter(AtomicI64);

impl ConcurrentSystem<Counter> for AtomicCounter {
    fn apply(&self, op: &CounterOp) -> CounterOut {
        match *op {
            CounterOp::Add { by } => {
                self.0.fetch_add(by, SeqCst);
                CounterOut::Done
            }
            CounterOp::Read => CounterOut::Value(self.0.load(SeqCst)),
        }
    }
}
lincheck_through_apply!(AtomicCounter, Counter);

/// The correct dispenser: one atomic add.
#[derive(Default)]
pub struct AtomicDispenser(AtomicU64);

impl ConcurrentSystem<Tickets> for AtomicDispenser {
    fn apply(&self, _: &TicketOp) -> u64 {
        self.0.fetch_add(1, SeqCst)
    }
}
lincheck_through_apply!(AtomicDispenser, Tickets);

/// The systems again on loom's atomics, the way lincheck's documentation writes them. No yield:
/// loom itself may switch threads at every atomic access.
pub mod on_loom {
    use super::{Counter, CounterOp, CounterOut, Spec, TicketOp, Tickets, L};
    use lincheck::ConcurrentSpec;
    use loom::sync::atomic::{AtomicI64, AtomicU64, Ordering::SeqCst};

    #[derive(Default)]
    pub struct RacyDispenser(AtomicU64);

    impl ConcurrentSpec for RacyDispenser {
        type Seq = Spec<Tickets>;
        fn exec(&self, _: L<TicketOp>) -> u64 {
            let ticket = self.0.load(SeqCst);
            self.0.store(ticket + 1, SeqCst);
            ticket
        }
    }

    #[derive(Default)]
    pub struct AtomicDispenser(AtomicU64);

    impl ConcurrentSpec for AtomicDispenser {
        type Seq = Spec<Tickets>;
        fn exec(&self, _: L<TicketOp>) -> u64 {
            self.0.fetch_add(1, SeqCst)
        }
    }

    #[derive(Default)]
    pub struct RacyCounter(AtomicI64);

    impl ConcurrentSpec for RacyCounter {
        type Seq = Spec<Counter>;
        fn exec(&self, op: L<CounterOp>) -> CounterOut {
            match op.0 {
                CounterOp::Add { by } => {
                    let v = self.0.load(SeqCst);
                    self.0.store(v.wrapping_add(by), SeqCst);
                    CounterOut::Done
                }
                CounterOp::Read => CounterOut::Value(self.0.load(SeqCst)),
            }
        }
    }

    #[derive(Default)]
    pub struct AtomicCounter(AtomicI64);

    impl ConcurrentSpec for AtomicCounter {
        type Seq = Spec<Counter>;
        fn exec(&self, op: L<CounterOp>) -> CounterOut {
            match op.0 {
                CounterOp::Add { by } => {
                    self.0.fetch_add(by, SeqCst);
                    CounterOut::Done
                }
                CounterOp::Read => CounterOut::Value(self.0.load(SeqCst)),
            }
        }
    }
}
