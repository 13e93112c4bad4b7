//! The bug zoo's machines driven by proptest-state-machine 0.9, the way a user of that crate
//! would: a `ReferenceStateMachine` generating transitions of each rule with its weight, and a
//! `StateMachineTest` applying them to the same systems under test.
//!
//! One generic adapter serves every bug, so the twins cannot drift from the zoo: rule weights and
//! preconditions come from the derived machine (`StateMachine::rules`, `enabled_among`, `admits`,
//! `consumed_vars`, `follow_model`), the postcondition and invariant from the same `Model` and
//! `System`. Only the argument strategies are written here again ([`Twin`]), since p-s-m needs
//! proptest strategies with value trees to shrink arguments; they are the zoo's `#[strategy]`s
//! (a `pick` from the model becomes a `select` over the reference state's model), and
//! `any::<T>()` where the zoo uses the type's default.

use proptest::prelude::{any, Just, Strategy};
use proptest::sample::select;
use proptest::strategy::{BoxedStrategy, Union};
use proptest::test_runner::{
    Config as ProptestConfig, RngAlgorithm, TestCaseError, TestError, TestRng, TestRunner,
};
use proptest_state_machine::{ReferenceStateMachine, StateMachineTest};
use stateprop::{Consumed, FromOutput, Model, StateMachine, System, Var};
use std::cell::Cell;
use std::marker::PhantomData;
use std::panic::{self, AssertUnwindSafe};

use crate::{all_rules, boundary, canonical, invariant, long, precondition, zoo_panic};
use crate::{colours, consumed, inverse, picked_key, repeat};
use crate::{descriptors, merge, rare_rule, simplest_value, three_steps, ties, var_reference};

/// An operations enum whose rules p-s-m can generate: one proptest strategy per rule.
pub trait Twin: StateMachine {
    /// The arguments of rule `rule` (declaration order), as a strategy for the whole operation,
    /// given the reference state (its model, for strategies that pick from it, and its outputs,
    /// where `Var` fields find the steps they may name).
    fn rule(rule: usize, state: &State<Self::Model>) -> BoxedStrategy<Self>;
}

type Output<Op> = <<Op as StateMachine>::Model as Model>::Output;

/// A `Var<T>` naming one of the earlier steps whose output holds a `T` and that no
/// `#[consumes]` field used up, by step index: how a p-s-m user refers to a handle the system
/// made (p-s-m has no symbolic references, and its shrinker does not renumber them when it
/// deletes a step).
fn var<T, M>(state: &State<M>) -> BoxedStrategy<Var<T>>
where
    M: Model,
    T: FromOutput<M::Output> + std::fmt::Debug + Clone + 'static,
{
    let steps: Vec<usize> = (0..state.outputs.len())
        .filter(|&i| !state.consumed.contains(i) && T::from_output(&state.outputs[i]).is_some())
        .collect();
    select(steps).prop_map(Var::at).boxed()
}

/// p-s-m's reference state: the zoo model, its outputs so far, which `Var`s bind to, and the
/// steps whose outputs a `#[consumes]` field used up (a closed descriptor), which no later step
/// may name.
#[derive(Debug)]
pub struct State<M: Model> {
    model: M,
    outputs: Vec<M::Output>,
    consumed: Consumed,
}

impl<M: Model> Clone for State<M> {
    fn clone(&self) -> Self {
        State {
            model: self.model.clone(),
            outputs: self.outputs.clone(),
            consumed: self.consumed.clone(),
        }
    }
}

/// Whether one of `op`'s `Var`s names an output in `consumed`.
fn names_consumed<Op: StateMachine>(op: &Op, consumed: &Consumed) -> bool {
    let mut named = false;
    let mut op = op.clone();
    op.remap_vars(&mut |id| {
        named |= id.prefix_index().is_some_and(|i| consumed.contains(i));
        Some(id)
    });
    named
}

/// Whether every argument of `op` (its `Var`s bound) is one its `#[strategy]` could draw in
/// `model`: a key `pick`ed from the model must still be there. stateprop's shrinker repairs
/// such an argument (`follow_model`); p-s-m cannot, so its twin rejects the transition, as a
/// p-s-m user's precondition would (benches/throughput.rs keeps the same contract).
fn follows_model<Op: StateMachine>(op: &Op, model: &Op::Model) -> bool {
    let mut followed = op.clone();
    followed.follow_model(model) && format!("{followed:?}") == format!("{op:?}")
}

/// `op` with its `Var`s bound to `outputs`; `None` if one names a step without such a value.
fn bound<Op: StateMachine>(op: &Op, outputs: &[Output<Op>]) -> Option<Op> {
    let mut op = op.clone();
    op.bind_vars(outputs).then_some(op)
}

/// p-s-m's reference machine over the zoo model `M`.
pub struct Reference<M>(PhantomData<M>);

impl<M> ReferenceStateMachine for Reference<M>
where
    M: Model + Default,
    M::Op: Twin,
{
    type State = State<M>;
    type Transition = M::Op;

    fn init_state() -> BoxedStrategy<State<M>> {
        Just(State {
            model: M::default(),
            outputs: Vec::new(),
            consumed: Consumed::default(),
        })
        .boxed()
    }

    /// The enabled rules, each with its derived weight.
    fn transitions(state: &State<M>) -> BoxedStrategy<M::Op> {
        let rules = <M::Op as StateMachine>::rules();
        let choices: Vec<(u32, BoxedStrategy<M::Op>)> = (0..rules.len())
            .filter(|&rule| {
                <M::Op as StateMachine>::enabled_among(
                    rule,
                    &state.model,
                    &state.outputs,
                    &state.consumed,
                )
            })
            .map(|rule| (rules[rule].weight, <M::Op as Twin>::rule(rule, state)))
            .collect();
        Union::new_weighted(choices).boxed()
    }

    fn apply(mut state: State<M>, transition: &M::Op) -> State<M> {
        let op = bound(transition, &state.outputs).expect("preconditions bind every Var");
        let output = state.model.step(&op);
        state.outputs.push(output);
        let consumed = &mut state.consumed;
        transition.consumed_vars(&mut |id| {
            consumed.insert(id.prefix_index().expect("a sequential step"))
        });
        state
    }

    /// The derived preconditions (rules, `Var`s that resolve to outputs not used up,
    /// preconditions over arguments, arguments the strategies could draw here), re-checked by
    /// p-s-m while it shrinks.
    fn preconditions(state: &State<M>, transition: &M::Op) -> bool {
        <M::Op as StateMachine>::enabled_among(
            transition.rule_index(),
            &state.model,
            &state.outputs,
            &state.consumed,
        ) && !names_consumed(transition, &state.consumed)
            && bound(transition, &state.outputs)
                .is_some_and(|op| op.admits(&state.model) && follows_model(&op, &state.model))
    }
}

/// The system under test beside its own copy of the model, which judges each output through
/// `Model::accept` as stateprop does (the reference state cannot see the system's outputs, so
/// a model that follows the system's choice among ties needs a copy that can). `Var`s bind to
/// each side's own outputs, as in stateprop's sequential executor.
pub struct Judged<M: Model, S> {
    model: M,
    model_outputs: Vec<M::Output>,
    system: S,
    system_outputs: Vec<M::Output>,
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

    fn init_test(_: &State<M>) -> Judged<M, S> {
        BUILT.with(|b| b.set(b.get() + 1));
        Judged {
            model: M::default(),
            model_outputs: Vec::new(),
            system: S::default(),
            system_outputs: Vec::new(),
        }
    }

    fn apply(mut sut: Judged<M, S>, _: &State<M>, transition: M::Op) -> Judged<M, S> {
        let for_model = bound(&transition, &sut.model_outputs).expect("the model's Vars bind");
        let Some(for_system) = bound(&transition, &sut.system_outputs) else {
            panic!("{transition:?} names a step whose system output holds no such value");
        };
        let expected = sut.model.step(&for_model);
        let actual = sut.system.apply(&for_system);
        match sut.model.accept(&for_model, expected, &actual) {
            Ok(kept) => sut.model_outputs.push(kept),
            Err(expected) => {
                panic!("postcondition of {transition:?}: expected {expected:?}, got {actual:?}")
            }
        }
        sut.system_outputs.push(actual);
        sut
    }

    fn check_invariants(sut: &Judged<M, S>, _: &State<M>) {
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
    ($op:ty, $state:ident { $($rule:pat => $strategy:expr),+ $(,)? }) => {
        impl Twin for $op {
            fn rule(rule: usize, $state: &State<Self::Model>) -> BoxedStrategy<Self> {
                let _ = $state;
                match rule {
                    $($rule => $strategy.boxed(),)+
                    _ => unreachable!("{} has no rule {rule}", stringify!($op)),
                }
            }
        }
    };
}

use all_rules::Key;
twin!(Key, state {
    0 => Just(Key::A),
    1 => Just(Key::B),
    2 => Just(Key::C),
});

use boundary::MapOp;
twin!(MapOp, state {
    0 => (any::<u8>(), any::<u32>()).prop_map(|(key, value)| MapOp::Put { key, value }),
    1 => any::<u8>().prop_map(|key| MapOp::Get { key }),
});

use canonical::{AccountOp, KvOp};
twin!(KvOp, state {
    0 => (0..8u8, 0..4u32).prop_map(|(key, value)| KvOp::Put { key, value }),
    1 => (0..8u8).prop_map(|key| KvOp::Get { key }),
    2 => (0..8u8).prop_map(|key| KvOp::Delete { key }),
});
twin!(AccountOp, state {
    0 => (0..20u32).prop_map(|amount| AccountOp::Deposit { amount }),
    1 => (0..20u32).prop_map(|amount| AccountOp::Withdraw { amount }),
});

use invariant::SetOp;
twin!(SetOp, state {
    0 => (0..1000u16).prop_map(|x| SetOp::Insert { x }),
    1 => (0..1000u16).prop_map(|x| SetOp::Remove { x }),
    2 => (0..1000u16).prop_map(|x| SetOp::Contains { x }),
});

use long::LogOp;
twin!(LogOp, state {
    0 => any::<u8>().prop_map(|byte| LogOp::Append { byte }),
    1 => Just(LogOp::Len),
    2 => Just(LogOp::Clear),
});

use zoo_panic::Op as PanicOp;
twin!(PanicOp, state {
    0 => any::<u8>().prop_map(|value| PanicOp::Push { value }),
    1 => Just(PanicOp::Pop),
    2 => Just(PanicOp::Clear),
});

use precondition::ItemOp;
twin!(ItemOp, state {
    0 => any::<u8>().prop_map(|value| ItemOp::Push { value }),
    1 => Just(ItemOp::Pop),
    2 => Just(ItemOp::Compact),
});

use rare_rule::CountOp;
twin!(CountOp, state {
    0 => Just(CountOp::Inc),
    1 => Just(CountOp::Get),
    2 => Just(CountOp::Reset),
});

use simplest_value::{Mode, StoreOp};
twin!(StoreOp, state {
    0 => (0..8u8, 0..100u32, any::<bool>(), proptest::prop_oneof![Just(Mode::WriteThrough), Just(Mode::Lazy)])
        .prop_map(|(key, value, sync, mode)| StoreOp::Put { key, value, sync, mode }),
    1 => (0..8u8).prop_map(|key| StoreOp::Get { key }),
});

use three_steps::StackOp;
twin!(StackOp, state {
    0 => any::<u32>().prop_map(|value| StackOp::Push { value }),
    1 => Just(StackOp::Pop),
});

use ties::PqOp;
twin!(PqOp, state {
    0 => (0..3u8, 0..4u8).prop_map(|(prio, value)| PqOp::Push { prio, value }),
    1 => Just(PqOp::Pop),
});

use var_reference::{Id, RegOp};
twin!(RegOp, state {
    0 => any::<u32>().prop_map(|value| RegOp::Create { value }),
    1 => var::<Id, _>(state).prop_map(|id| RegOp::Delete { id }),
    2 => var::<Id, _>(state).prop_map(|id| RegOp::Get { id }),
});

use descriptors::{Fd, FdOp};
twin!(FdOp, state {
    0 => Just(FdOp::Open),
    1 => (var::<Fd, _>(state), any::<u8>()).prop_map(|(fd, byte)| FdOp::Write { fd, byte }),
    2 => var::<Fd, _>(state).prop_map(|fd| FdOp::Read { fd }),
    3 => var::<Fd, _>(state).prop_map(|fd| FdOp::Close { fd }),
});

use merge::{LogOp as MergeOp, Obj};
twin!(MergeOp, state {
    0 => Just(MergeOp::Create),
    1 => (var::<Obj, _>(state), 0..4u32).prop_map(|(obj, value)| MergeOp::Write { obj, value }),
    2 => var::<Obj, _>(state).prop_map(|obj| MergeOp::Read { obj }),
});

use picked_key::MapOp as PickedOp;
twin!(PickedOp, state {
    0 => (0..16u8, any::<u8>()).prop_map(|(key, value)| PickedOp::Put { key, value }),
    1 => (0..16u8).prop_map(|key| PickedOp::Get { key }),
    // The zoo's `pick` from the model's keys; the rule's precondition makes them non-empty.
    2 => select(state.model.0.keys().copied().collect::<Vec<u8>>())
        .prop_map(|key| PickedOp::Delete { key }),
});

use consumed::FdOp as ConsumedOp;
twin!(ConsumedOp, state {
    0 => Just(ConsumedOp::Open),
    1 => (var::<consumed::Fd, _>(state), any::<u8>())
        .prop_map(|(fd, byte)| ConsumedOp::Write { fd, byte }),
    2 => var::<consumed::Fd, _>(state).prop_map(|fd| ConsumedOp::Read { fd }),
    3 => var::<consumed::Fd, _>(state).prop_map(|fd| ConsumedOp::Close { fd }),
});

use inverse::StackOp as InverseOp;
twin!(InverseOp, state {
    0 => (0..4u8).prop_map(|value| InverseOp::Push { value }),
    1 => Just(InverseOp::Pop),
    2 => Just(InverseOp::Top),
});

use repeat::{Account, PayOp};
twin!(PayOp, state {
    0 => (any::<Account>(), 1..5u32).prop_map(|(account, amount)| PayOp::Charge { account, amount }),
    1 => any::<Account>().prop_map(|account| PayOp::Balance { account }),
});

use colours::{Colour, NamesOp, PaletteOp};
twin!(PaletteOp, state {
    0 => (any::<Colour>(), 0..4u32).prop_map(|(colour, value)| PaletteOp::Put { colour, value }),
    1 => any::<Colour>().prop_map(|colour| PaletteOp::Get { colour }),
    2 => any::<Colour>().prop_map(|colour| PaletteOp::Delete { colour }),
});
twin!(NamesOp, state {
    0 => ("[a-d]", 0..4u32).prop_map(|(name, value)| NamesOp::Put { name, value }),
    1 => "[a-d]".prop_map(|name| NamesOp::Get { name }),
    2 => "[a-d]".prop_map(|name| NamesOp::Delete { name }),
});
