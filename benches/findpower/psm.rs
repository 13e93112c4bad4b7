//! The bug zoo's machines driven by proptest-state-machine 0.9, the way a user of that crate
//! would: a `ReferenceStateMachine` generating transitions of each rule with its weight, and a
//! `StateMachineTest` applying them to the same systems under test.
//!
//! One generic adapter serves every bug, so the twins cannot drift from the zoo: rule weights and
//! preconditions come from the derived machine (`StateMachine::rules`, `enabled`, `admits`), the
//! postcondition and invariant from the same `Model` and `System`. Only the argument strategies
//! are written here again ([`Twin`]), since p-s-m needs proptest strategies with value trees to
//! shrink arguments; they are the zoo's `#[strategy]`s, and `any::<T>()` where the zoo uses the
//! type's default.

use proptest::prelude::{any, Just, Strategy};
use proptest::strategy::{BoxedStrategy, Union};
use proptest::test_runner::{
    Config as ProptestConfig, RngAlgorithm, TestCaseError, TestError, TestRng, TestRunner,
};
use proptest_state_machine::{ReferenceStateMachine, StateMachineTest};
use stateprop::{Model, StateMachine, System};
use std::cell::Cell;
use std::marker::PhantomData;
use std::panic::{self, AssertUnwindSafe};

use crate::{all_rules, boundary, canonical, invariant, long, precondition, zoo_panic};
use crate::{rare_rule, simplest_value, three_steps, ties};

/// An operations enum whose rules p-s-m can generate: one proptest strategy per rule.
pub trait Twin: StateMachine {
    /// The arguments of rule `rule` (declaration order), as a strategy for the whole operation.
    fn rule(rule: usize) -> BoxedStrategy<Self>;
}

/// p-s-m's reference machine over the zoo model `M`.
pub struct Reference<M>(PhantomData<M>);

impl<M> ReferenceStateMachine for Reference<M>
where
    M: Model + Default,
    M::Op: Twin,
{
    type State = M;
    type Transition = M::Op;

    fn init_state() -> BoxedStrategy<M> {
        Just(M::default()).boxed()
    }

    /// The enabled rules, each with its derived weight.
    fn transitions(state: &M) -> BoxedStrategy<M::Op> {
        let rules = <M::Op as StateMachine>::rules();
        let choices: Vec<(u32, BoxedStrategy<M::Op>)> = (0..rules.len())
            .filter(|&rule| <M::Op as StateMachine>::enabled(rule, state, &[]))
            .map(|rule| (rules[rule].weight, <M::Op as Twin>::rule(rule)))
            .collect();
        Union::new_weighted(choices).boxed()
    }

    fn apply(mut state: M, transition: &M::Op) -> M {
        state.step(transition);
        state
    }

    /// The derived preconditions, re-checked by p-s-m while it shrinks.
    fn preconditions(state: &M, transition: &M::Op) -> bool {
        <M::Op as StateMachine>::enabled(transition.rule_index(), state, &[])
            && transition.admits(state)
    }
}

/// The system under test beside its own copy of the model, which judges each output through
/// `Model::accept` as stateprop does (the reference state cannot see the system's outputs, so
/// a model that follows the system's choice among ties needs a copy that can).
pub struct Judged<M, S> {
    model: M,
    system: S,
}

pub struct Test<M, S>(PhantomData<(M, S)>);

thread_local! {
    /// Systems built in this thread (p-s-m runs in the calling thread).
    static BUILT: Cell<u64> = const { Cell::new(0) };
}

impl<M, S> StateMachineTest for Test<M, S>
where
    M: Model + Default,
    M::Op: Twin,
    S: System<M> + Default,
{
    type SystemUnderTest = Judged<M, S>;
    type Reference = Reference<M>;

    fn init_test(_: &M) -> Judged<M, S> {
        BUILT.with(|b| b.set(b.get() + 1));
        Judged {
            model: M::default(),
            system: S::default(),
        }
    }

    fn apply(mut sut: Judged<M, S>, _: &M, transition: M::Op) -> Judged<M, S> {
        let expected = sut.model.step(&transition);
        let actual = sut.system.apply(&transition);
        if let Err(expected) = sut.model.accept(&transition, expected, &actual) {
            panic!("postcondition of {transition:?}: expected {expected:?}, got {actual:?}");
        }
        sut
    }

    fn check_invariants(sut: &Judged<M, S>, _: &M) {
        if let Err(message) = sut.system.invariant(&sut.model) {
            panic!("invariant: {message}");
        }
    }
}

/// What one p-s-m run ended with.
pub struct Outcome<Op> {
    /// The shrunk failing program, if the bug was found.
    pub minimal: Option<Vec<Op>>,
    /// Systems built after the first failing case: the shrink's executions.
    pub shrink_runs: u64,
    /// Why proptest gave up, if it did.
    pub aborted: Option<String>,
}

/// p-s-m's defaults (cases, shrink iterations), no persistence, seeded like benches/throughput.rs.
pub fn runner(seed: u64) -> TestRunner {
    let config = ProptestConfig {
        failure_persistence: None,
        ..ProptestConfig::default()
    };
    let mut bytes = [0u8; 32];
    for (i, chunk) in bytes.chunks_mut(8).enumerate() {
        chunk.copy_from_slice(&crate::splitmix(seed.wrapping_add(i as u64)).to_le_bytes());
    }
    TestRunner::new_with_rng(config, TestRng::from_seed(RngAlgorithm::ChaCha, &bytes))
}

/// Runs `S` against `M` as `prop_state_machine!` does, program lengths `steps`.
pub fn run<M, S>(seed: u64, steps: std::ops::RangeInclusive<usize>) -> Outcome<M::Op>
where
    M: Model + Default,
    M::Op: Twin,
    S: System<M> + Default,
{
    let mut runner = runner(seed);
    let config = runner.config().clone();
    let strategy = Reference::<M>::sequential_strategy(steps);
    let first_failure = Cell::new(None);
    let built = || BUILT.with(Cell::get);
    let outcome = runner.run(&strategy, |(state, transitions, seen)| {
        let config = config.clone();
        let ran = panic::catch_unwind(AssertUnwindSafe(|| {
            Test::<M, S>::test_sequential(config, state, transitions, seen)
        }));
        match ran {
            Ok(()) => Ok(()),
            Err(_) => {
                if first_failure.get().is_none() {
                    first_failure.set(Some(built()));
                }
                Err(TestCaseError::fail("the case failed"))
            }
        }
    });
    let shrink_runs = first_failure.get().map_or(0, |at| built() - at);
    match outcome {
        Ok(()) => Outcome {
            minimal: None,
            shrink_runs,
            aborted: None,
        },
        Err(TestError::Fail(_, (_, transitions, _))) => Outcome {
            minimal: Some(transitions),
            shrink_runs,
            aborted: None,
        },
        Err(TestError::Abort(reason)) => Outcome {
            minimal: None,
            shrink_runs,
            aborted: Some(reason.to_string()),
        },
    }
}

/// The zoo's argument strategies, rule by rule (panics on a rule index the enum lacks).
macro_rules! twin {
    ($op:ty { $($rule:pat => $strategy:expr),+ $(,)? }) => {
        impl Twin for $op {
            fn rule(rule: usize) -> BoxedStrategy<Self> {
                match rule {
                    $($rule => $strategy.boxed(),)+
                    _ => unreachable!("{} has no rule {rule}", stringify!($op)),
                }
            }
        }
    };
}

use all_rules::Key;
twin!(Key {
    0 => Just(Key::A),
    1 => Just(Key::B),
    2 => Just(Key::C),
});

use boundary::MapOp;
twin!(MapOp {
    0 => (any::<u8>(), any::<u32>()).prop_map(|(key, value)| MapOp::Put { key, value }),
    1 => any::<u8>().prop_map(|key| MapOp::Get { key }),
});

use canonical::{AccountOp, KvOp};
twin!(KvOp {
    0 => (0..8u8, 0..4u32).prop_map(|(key, value)| KvOp::Put { key, value }),
    1 => (0..8u8).prop_map(|key| KvOp::Get { key }),
    2 => (0..8u8).prop_map(|key| KvOp::Delete { key }),
});
twin!(AccountOp {
    0 => (0..20u32).prop_map(|amount| AccountOp::Deposit { amount }),
    1 => (0..20u32).prop_map(|amount| AccountOp::Withdraw { amount }),
});

use invariant::SetOp;
twin!(SetOp {
    0 => (0..1000u16).prop_map(|x| SetOp::Insert { x }),
    1 => (0..1000u16).prop_map(|x| SetOp::Remove { x }),
    2 => (0..1000u16).prop_map(|x| SetOp::Contains { x }),
});

use long::LogOp;
twin!(LogOp {
    0 => any::<u8>().prop_map(|byte| LogOp::Append { byte }),
    1 => Just(LogOp::Len),
    2 => Just(LogOp::Clear),
});

use zoo_panic::Op as PanicOp;
twin!(PanicOp {
    0 => any::<u8>().prop_map(|value| PanicOp::Push { value }),
    1 => Just(PanicOp::Pop),
    2 => Just(PanicOp::Clear),
});

use precondition::ItemOp;
twin!(ItemOp {
    0 => any::<u8>().prop_map(|value| ItemOp::Push { value }),
    1 => Just(ItemOp::Pop),
    2 => Just(ItemOp::Compact),
});

use rare_rule::CountOp;
twin!(CountOp {
    0 => Just(CountOp::Inc),
    1 => Just(CountOp::Get),
    2 => Just(CountOp::Reset),
});

use simplest_value::{Mode, StoreOp};
twin!(StoreOp {
    0 => (0..8u8, 0..100u32, any::<bool>(), proptest::prop_oneof![Just(Mode::WriteThrough), Just(Mode::Lazy)])
        .prop_map(|(key, value, sync, mode)| StoreOp::Put { key, value, sync, mode }),
    1 => (0..8u8).prop_map(|key| StoreOp::Get { key }),
});

use three_steps::StackOp;
twin!(StackOp {
    0 => any::<u32>().prop_map(|value| StackOp::Push { value }),
    1 => Just(StackOp::Pop),
});

use ties::PqOp;
twin!(PqOp {
    0 => (0..3u8, 0..4u8).prop_map(|(prio, value)| PqOp::Push { prio, value }),
    1 => Just(PqOp::Pop),
});
