//! The specification: a reference [`Model`], the operations it understands (a
//! [`StateMachine`], usually derived), and the [`System`] under test.

mod consumed;
mod gen;
mod rust;
mod var;

pub use consumed::Consumed;
pub use gen::{ArgTree, Gen};
pub(crate) use gen::{RunnerSource, Scope};
pub use rust::ToRust;
pub use var::{FromOutput, Var};

#[doc(hidden)]
pub use rust::{DebugFallback, RustFallback, RustWrap};

use crate::program::{Outputs, StepId};
use std::fmt::Debug;

/// The sequential specification of a system: its state and what every operation returns.
///
/// Keep it obviously correct — a `BTreeMap` for a key-value store, a `u64` for a counter.
/// The runner clones the model rarely (never on the hot path) but builds a fresh one per case,
/// so `Default` (or the initial value given to [`Runner::with_initial`](crate::Runner::with_initial))
/// should be cheap.
pub trait Model: Clone + Debug + 'static {
    /// The operations enum, with `#[derive(StateMachine)]`.
    type Op: StateMachine<Model = Self>;
    /// What an operation returns, from the model and from the system under test alike.
    type Output: Clone + Debug + PartialEq + 'static;

    /// Applies `op` to the model and returns what a correct system returns.
    fn step(&mut self, op: &Self::Op) -> Self::Output;

    /// Decides whether the system's output `actual` is acceptable when the model says `expected`.
    ///
    /// `self` is the model *after* the step. The default is equality; override it where outputs
    /// carry values the model cannot predict (ids, timestamps) or where several answers are right.
    fn outputs_match(&self, op: &Self::Op, expected: &Self::Output, actual: &Self::Output) -> bool {
        let _ = op;
        expected == actual
    }

    /// Judges the system's output `actual` where the model, just stepped on `op`, said
    /// `expected`, and lets the model follow the system where the specification allows a choice.
    ///
    /// `self` is the model *after* [`step`](Model::step). `Ok` carries the output the model
    /// stands by (the one later `Var`s of the model bind to); `Err` gives `expected` back and
    /// fails the step. The default accepts what [`outputs_match`](Model::outputs_match) accepts
    /// and keeps the model's own output and state: ids and timestamps the model cannot predict
    /// stay the model's own.
    ///
    /// Override it where several answers are right *and the choice changes the state*: a
    /// priority queue whose equal-priority elements may pop in any order, a set whose "remove
    /// any" may remove any element. There `outputs_match` alone accepts the system's choice
    /// but leaves the model holding its own, and the two drift apart. The override checks that
    /// `actual` was allowed in the state before the step, swaps the model's choice for the
    /// system's (put back what `step` took, take what the system took) and returns
    /// `Ok(actual.clone())`. When it returns `Err`, the state is left as `step` left it.
    ///
    /// It runs after `step`, not instead of it, so the model still steps before the system is
    /// called (a model that panics never reaches the system) and a model that does not override
    /// it pays nothing. The step judge, the history checkers and their reports all judge and
    /// advance the model through it, so a choice followed in one is followed in all.
    ///
    /// ```
    /// # use stateprop::prelude::*;
    /// # use std::collections::BTreeSet;
    /// #[derive(Debug, Clone, Default)]
    /// struct Bag { items: BTreeSet<u8> }
    ///
    /// #[derive(Debug, Clone, StateMachine)]
    /// #[state_machine(model = Bag)]
    /// enum BagOp {
    ///     Insert { #[strategy(0..8u8)] item: u8 },
    ///     /// Removes and returns any element.
    ///     TakeAny,
    /// }
    ///
    /// impl Model for Bag {
    ///     type Op = BagOp;
    ///     type Output = Option<u8>;
    ///     fn step(&mut self, op: &BagOp) -> Option<u8> {
    ///         match *op {
    ///             BagOp::Insert { item } => { self.items.insert(item); None }
    ///             BagOp::TakeAny => self.items.pop_first(),
    ///         }
    ///     }
    ///     fn accept(&mut self, op: &BagOp, expected: Option<u8>, actual: &Option<u8>)
    ///         -> Result<Option<u8>, Option<u8>>
    ///     {
    ///         match (op, expected, *actual) {
    ///             // The system took another element that was there: take it instead.
    ///             (BagOp::TakeAny, Some(mine), Some(theirs)) if self.items.remove(&theirs) => {
    ///                 self.items.insert(mine);
    ///                 Ok(Some(theirs))
    ///             }
    ///             (_, expected, actual) if expected == actual => Ok(expected),
    ///             (_, expected, _) => Err(expected),
    ///         }
    ///     }
    /// }
    /// ```
    #[inline]
    fn accept(
        &mut self,
        op: &Self::Op,
        expected: Self::Output,
        actual: &Self::Output,
    ) -> Result<Self::Output, Self::Output> {
        if self.outputs_match(op, &expected, actual) {
            Ok(expected)
        } else {
            Err(expected)
        }
    }

    /// Whether `op`, in any state where it returns `output`, leaves the state unchanged: a
    /// read, a compare-and-set that failed. The linearizability checker linearizes such
    /// operations eagerly and prunes the alternatives, which can shrink its search by orders of
    /// magnitude. The default, `false`, is always correct; answering `true` for an operation
    /// that can change the state makes the checker unsound.
    fn is_observation(op: &Self::Op, output: &Self::Output) -> bool {
        let _ = (op, output);
        false
    }

    /// Whether `op` never changes the state, whatever it returns and whatever the state: a read.
    /// The history checkers drop such operations when their outcome is unknown (a read that
    /// timed out), since they can neither change what later operations see nor fail a check;
    /// left in, each one multiplies the orders a search must try. The default, `false`, is
    /// always correct; answering `true` for an operation that can change the state makes the
    /// checkers unsound. (Unlike [`is_observation`](Model::is_observation), it cannot depend
    /// on the output, which an unknown outcome lacks.)
    fn is_read_only(op: &Self::Op) -> bool {
        let _ = op;
        false
    }

    /// Whether the observation `op` returns `output` in this state. The default steps a copy of
    /// the model; a model whose reads build their outputs (strings, collections) can answer
    /// without copying or allocating, which the checker does for every candidate read.
    fn observes(&self, op: &Self::Op, output: &Self::Output) -> bool {
        let mut copy = self.clone();
        let expected = copy.step(op);
        copy.accept(op, expected, output).is_ok()
    }
}

/// Steps `model` on `op` and, when the system's output is known, judges it and follows the
/// system's choice ([`Model::accept`]); `Ok` carries the output the model stands by. Every
/// checker that places an operation with a recorded output steps the model through this.
#[inline]
pub(crate) fn step_on<M: Model>(
    model: &mut M,
    op: &M::Op,
    actual: Option<&M::Output>,
) -> Result<M::Output, M::Output> {
    let expected = model.step(op);
    match actual {
        Some(actual) => model.accept(op, expected, actual),
        None => Ok(expected),
    }
}

/// The system under test, driven one operation at a time.
///
/// The runner builds a fresh system for every case (with `Default`, or the factory given to
/// [`check_sequential_with`](crate::check_sequential_with)), applies each operation, compares the
/// output with the model's and checks [`invariant`](System::invariant) after every step.
/// A panic anywhere in here is reported as a failure at that step.
pub trait System<M: Model> {
    /// Applies `op` to the real system and returns its answer.
    fn apply(&mut self, op: &M::Op) -> M::Output;

    /// Checks the system's internal consistency against the model after every step.
    ///
    /// Return `Err` with a message that says what is broken.
    fn invariant(&self, model: &M) -> Result<(), String> {
        let _ = model;
        Ok(())
    }

    /// Runs after every case, passed or failed (close files, stop threads).
    fn teardown(&mut self) {}
}

/// One rule of a state machine: a variant of the operations enum.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RuleInfo {
    /// The variant's name.
    pub name: &'static str,
    /// Relative weight when choosing among enabled rules.
    pub weight: u32,
    /// The precondition's source text, if the rule has one (for error messages).
    pub precondition: Option<&'static str>,
    /// Names of the `Var<T>` fields, which need an earlier result of type `T`.
    pub var_fields: &'static [&'static str],
}

/// An operations enum turned into a state machine by `#[derive(StateMachine)]`.
///
/// Everything here is generated; users implement [`Model`] and [`System`] instead. The methods
/// are public so runners and tools outside this crate can drive any derived machine.
pub trait StateMachine: Clone + Debug + Sized + 'static {
    /// The reference model the operations act on.
    type Model: Model<Op = Self>;

    /// The rules, one per variant, in declaration order.
    fn rules() -> &'static [RuleInfo];

    /// Which rule (variant index) this operation belongs to.
    fn rule_index(&self) -> usize;

    /// Whether `rule` may run now: its precondition holds in `model` and every `Var` field has an
    /// earlier result of its type among `outputs` (the model's outputs of the steps so far).
    fn enabled(
        rule: usize,
        model: &Self::Model,
        outputs: &[<Self::Model as Model>::Output],
    ) -> bool;

    /// [`enabled`](StateMachine::enabled) where the outputs at the positions in `consumed` (used
    /// up by a `#[consumes]` field of an earlier step) cannot feed a `Var` field. The default,
    /// for a machine without `#[consumes]` fields, ignores `consumed`.
    fn enabled_among(
        rule: usize,
        model: &Self::Model,
        outputs: &[<Self::Model as Model>::Output],
        consumed: &Consumed,
    ) -> bool {
        let _ = consumed;
        Self::enabled(rule, model, outputs)
    }

    /// Whether any rule has a `#[consumes]` `Var` field (callers skip the bookkeeping of
    /// consumed results otherwise).
    fn consumes_vars() -> bool {
        false
    }

    /// Calls `visit` with the step of every `#[consumes]` `Var` field of this operation: the
    /// results it uses up, which no later step may name.
    fn consumed_vars(&self, visit: &mut dyn FnMut(StepId)) {
        let _ = visit;
    }

    /// Generates an operation of `rule` for the current state; `Err` says which strategy gave up.
    fn generate(
        rule: usize,
        model: &Self::Model,
        gen: &mut Gen<'_, Self::Model>,
    ) -> Result<Self, String>;

    /// Sets the `index`-th generated argument (fields in declaration order, `Var` fields not
    /// counted) to the current value of `tree`, which was made by the same field's strategy.
    fn set_arg(&mut self, index: usize, tree: &dyn ArgTree);

    /// Resolves every `Var` field against `outputs`, looked up by step id (for a sequential
    /// program, a slice of the outputs so far); `false` if one does not resolve.
    fn bind_vars<L>(&mut self, outputs: &L) -> bool
    where
        L: Outputs<<Self::Model as Model>::Output> + ?Sized;

    /// Renames the step of every `Var` field with `map` (old id to new); `false` if one maps to
    /// `None`. Every field is renamed even after one fails.
    fn remap_vars(&mut self, map: &mut dyn FnMut(StepId) -> Option<StepId>) -> bool;

    /// Whether any rule has a `Var` field (runners skip output bookkeeping otherwise).
    fn uses_vars() -> bool;

    /// Whether this operation's arguments satisfy its rule's precondition over arguments
    /// (`#[rule(precondition = |m: &M, fd: &Var<Fd>| ...)]`) in `model`. Call it on an operation
    /// whose `Var`s are bound. Generation makes only operations that pass; validation and the
    /// shrinker's repair call it so a rearranged or shrunk program never holds one that does not.
    fn admits(&self, model: &Self::Model) -> bool {
        let _ = model;
        true
    }

    /// Whether any rule has a precondition over its arguments (callers skip
    /// [`admits`](StateMachine::admits) otherwise).
    fn checks_args() -> bool {
        false
    }

    /// Makes the arguments drawn from `#[strategy]`s follow `model`: one its strategy does not
    /// make there (a deleted key, after the key it was picked from changed; an amount outside
    /// its range) becomes the strategy's simplest value there. `false` if such a strategy makes
    /// nothing in `model` (a `pick` from an empty collection). Strategies that cannot tell what
    /// they make leave their arguments alone (see [`Makes`](crate::strategy::Makes)). The
    /// shrinker's repair calls it, so a shrunk program holds only arguments the generator could
    /// have drawn where the step now runs.
    fn follow_model(&mut self, model: &Self::Model) -> bool {
        let _ = model;
        true
    }

    /// Whether any rule has an argument with a `#[strategy]` (callers skip
    /// [`follow_model`](StateMachine::follow_model) otherwise).
    fn follows_model() -> bool {
        false
    }

    /// Whether argument `arg` (counting the fields drawn from strategies, `Var`s left out) of
    /// rule `rule` is drawn from a strategy that reads the model. The shrinker moves such
    /// arguments along with the values they were picked from, rather than on their own.
    fn arg_follows_model(rule: usize, arg: usize) -> bool {
        let _ = (rule, arg);
        false
    }

    /// Argument `arg`'s type and `Debug` text (counting as
    /// [`arg_follows_model`](StateMachine::arg_follows_model) does), as the shrinker compares
    /// values; derived where [`follows_model`](StateMachine::follows_model) holds, since the
    /// repair may then change values.
    fn arg_key(&self, arg: usize) -> Option<(std::any::TypeId, String)> {
        let _ = arg;
        None
    }

    /// This machine's own swarm, drawn once per case from `draw`'s random bits: the rules the
    /// case may use (rule `i` when bit `i % 64` is set), and how often, by changing `weights`
    /// (the rules' [`weight`](RuleInfo::weight)s on entry, indexed by rule). `None` keeps the
    /// engine's swarm (every rule in half the cases, each rule with probability 1/2 in the
    /// others). Called only when [`own_swarm`](StateMachine::own_swarm) holds and swarm testing
    /// is on. A simulated program's steps use it to switch fault kinds on and off, and set
    /// their rates, by kind.
    fn swarm_mask(draw: &mut dyn FnMut() -> u64, weights: &mut [u32]) -> Option<u64> {
        let _ = (draw, weights);
        None
    }

    /// Whether [`swarm_mask`](StateMachine::swarm_mask) is this machine's own. Derived machines
    /// answer `false`, and generation then reads the rules' weights as it always did.
    fn own_swarm() -> bool {
        false
    }

    /// The operation as a Rust expression, e.g. `KvOp::Put { key: 1, value: 7 }`.
    fn to_rust(&self) -> String;

    /// The operation as JSON (serde's externally tagged form: `{"Put": {"key": 1, ...}}`).
    fn to_json(&self) -> serde_json::Value;

    /// Reads an operation written by [`to_json`](StateMachine::to_json).
    fn from_json(value: &serde_json::Value) -> Result<Self, String>;
}
