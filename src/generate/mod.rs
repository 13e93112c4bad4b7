//! Generation, all of it: the case's random source (`rng`), fast draws from it (`draw`), the
//! generator handed to derived code and the arguments' value trees (`gen`), stateprop's own
//! strategies (`strategy`), and here the programs themselves: choose an enabled rule (weighted,
//! within the case's swarm: all rules in half the cases, a random subset in the others), then its arguments from their strategies. No rejection: a rule whose
//! precondition fails is never chosen.
//!
//! Most of this is plumbing for derived code; what a test writes is in [`strategy`].

mod draw;
mod gen;
pub(crate) mod interleave;
mod parallel;
pub(crate) mod rng;
pub mod strategy;
mod support;
#[cfg(test)]
pub(crate) mod tests;
mod validate;

pub use draw::{Bits, Clamped, Draw};
#[doc(hidden)]
pub use draw::{FastArg, Mismatch, SlowArg, Typed};
pub(crate) use gen::Scope;
#[doc(hidden)]
pub use gen::TreeBox;
pub use gen::{ArgTree, Gen};
#[doc(hidden)]
pub use support::{Follow, FollowKnown, FollowUnknown};
#[cfg(test)]
pub(crate) use validate::check_program;
pub use validate::validate_program;
pub(crate) use validate::{admits_args, consume, names_consumed, validate, Claims};

use crate::catch::catch;
use crate::program::Program;
use crate::spec::{Consumed, Model, RuleInfo, StateMachine};
use rng::CaseRunner;

/// Why no operation could be generated.
#[derive(Debug, Clone)]
pub(crate) enum GenError {
    /// No rule's precondition holds in this state.
    NoRuleEnabled(String),
    /// A strategy gave up, or the model panicked while generating.
    Strategy(String),
}

impl GenError {
    /// A precondition or strategy panicked with `message`.
    #[cold]
    pub(crate) fn panicked(message: String) -> Self {
        model_panic(message)
    }

    pub(crate) fn message(&self) -> &str {
        match self {
            GenError::NoRuleEnabled(m) | GenError::Strategy(m) => m,
        }
    }
}

/// The per-case plan drawn from the case's seed: length and swarm.
pub(crate) struct CaseGenerator {
    pub(crate) runner: CaseRunner,
    pub(crate) len: usize,
    /// Rules this case may use (swarm testing): rule `i` when bit `i % 64` is set; every bit
    /// without swarm, and in half the cases with it (unless the machine draws its own swarm,
    /// [`StateMachine::own_swarm`]). A mask rather than a `Vec<bool>`: a case then allocates nothing to plan.
    swarm: u64,
    /// Scratch space for the weights of the enabled rules of a machine with more than 64 rules
    /// (fewer fit a mask, see [`draw_rule_small`](Self::draw_rule_small)); reused every step.
    weights: Vec<u32>,
    /// State of the generator for rule choices (SplitMix64, cheaper than a call into proptest's
    /// RNG every step), or `None` to draw them from the runner (a fuzzer's bytes steer them).
    choices: Option<u64>,
    /// The outputs, by position, that `#[consumes]` fields of the operations drawn so far used
    /// up: a plan sees every operation it draws, in order, so it keeps the book itself and no
    /// runner has to.
    consumed: Consumed,
    /// The rules' weights in this case, for a machine with its own swarm
    /// ([`StateMachine::own_swarm`]); empty (and never read) for any other.
    pub(crate) case_weights: Vec<u32>,
}

impl CaseGenerator {
    /// The plan of the case with seed `seed`: its length, swarm and choice generator come from
    /// the seed directly; proptest's runner is made only if a strategy needs it.
    pub(crate) fn new<Op: StateMachine>(seed: u64, steps: (usize, usize), swarm: bool) -> Self {
        if !Op::own_swarm() {
            return Self::with_swarm(seed, steps, swarm, Op::rules().len(), |_| None);
        }
        let mut weights = own_weights::<Op>();
        let mut plan = Self::with_swarm(seed, steps, swarm, Op::rules().len(), |draw| {
            Op::swarm_mask(draw, &mut weights)
        });
        plan.case_weights = weights;
        plan
    }

    /// [`new`](Self::new) for a machine of `rules` rules.
    #[cfg(test)]
    fn for_rules(seed: u64, steps: (usize, usize), swarm: bool, rules: usize) -> Self {
        Self::with_swarm(seed, steps, swarm, rules, |_: &mut dyn FnMut() -> u64| None)
    }

    /// [`new`](Self::new) for a machine of `rules` rules whose own swarm draw is `own` (see
    /// [`StateMachine::swarm_mask`]).
    fn with_swarm(
        seed: u64,
        steps: (usize, usize),
        swarm: bool,
        rules: usize,
        own: impl FnOnce(&mut dyn FnMut() -> u64) -> Option<u64>,
    ) -> Self {
        let mut state = crate::generate::rng::mix(seed ^ 0x5EED);
        let mut next = || {
            state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
            crate::generate::rng::mix(state)
        };
        let (lo, hi) = steps;
        let len = lo + crate::generate::rng::below(next(), (hi - lo + 1) as u64) as usize;
        let mut mask = u64::MAX;
        // Half the swarm cases run every rule, so a case is at least half as likely to find any
        // bug as a case without swarm: leaving rules out only pays when some rule hides the bug
        // (a reset, a weight that crowds a rare rule out), while a bug that needs every rule of
        // a small machine is out of reach of a subset (docs/swarm.md has the measurements).
        let own = if swarm { own(&mut next) } else { None };
        if let Some(own) = own {
            mask = own;
        } else if swarm && rules > 1 && next() & 1 == 1 {
            // Each rule is in with probability 1/2; a case with none would be a waste.
            let used = if rules >= 64 {
                u64::MAX
            } else {
                (1u64 << rules) - 1
            };
            loop {
                let bits = next();
                if bits & used != 0 {
                    mask = bits;
                    break;
                }
            }
        }
        let choices = Some(next());
        CaseGenerator {
            runner: CaseRunner::lazy(seed),
            len,
            swarm: mask,
            weights: Vec::new(),
            choices,
            consumed: Consumed::default(),
            case_weights: Vec::new(),
        }
    }

    /// Rule `rule`'s weight in this case: its own unless the machine draws them per case. For
    /// a derived machine `own_swarm` is a constant `false` and this is `info.weight`.
    #[inline(always)]
    fn weight<M: Model>(&self, rule: usize, info: &RuleInfo) -> u32 {
        if M::Op::own_swarm() {
            self.case_weights[rule]
        } else {
            info.weight
        }
    }

    /// 64 random bits for a rule choice.
    #[inline]
    fn choice_bits(&mut self) -> u64 {
        Bits::with(self.choices.as_mut(), &mut self.runner).u64()
    }

    /// Draws the next operation for the current model state.
    pub(crate) fn next_op<M: Model>(
        &mut self,
        model: &M,
        outputs: &[M::Output],
        trees: Option<&mut Vec<Box<dyn ArgTree>>>,
    ) -> Result<M::Op, GenError> {
        self.next_op_in(model, outputs, Scope::SEQUENTIAL, trees)
    }

    /// [`next_op`](Self::next_op) without argument trees, inlined into its caller: the
    /// sequential runner's hot loop, where the call's frame and the moves of its result cost
    /// nearly as much as the drawing (callgrind on `cargo bench --bench throughput`).
    #[inline(always)]
    pub(crate) fn next_op_inline<M: Model>(
        &mut self,
        model: &M,
        outputs: &[M::Output],
    ) -> Result<M::Op, GenError> {
        catch(|| self.draw(model, outputs, Scope::SEQUENTIAL, None))
            .unwrap_or_else(|message| Err(model_panic(message)))
    }

    /// [`next_op`](Self::next_op) without its unwind guard, for a caller whose own guard covers
    /// the whole step and reports a panic while generating with [`GenError::panicked`].
    #[inline(always)]
    pub(crate) fn next_op_unguarded<M: Model>(
        &mut self,
        model: &M,
        outputs: &[M::Output],
    ) -> Result<M::Op, GenError> {
        self.draw(model, outputs, Scope::SEQUENTIAL, None)
    }

    /// [`next_op`](Self::next_op) for a step whose visible `outputs` belong to the steps `scope`
    /// says (a branch sees the prefix's, then its own).
    pub(crate) fn next_op_in<M: Model>(
        &mut self,
        model: &M,
        outputs: &[M::Output],
        scope: Scope,
        trees: Option<&mut Vec<Box<dyn ArgTree>>>,
    ) -> Result<M::Op, GenError> {
        // One unwind guard around all the user code (preconditions, strategies) of a step.
        catch(|| self.draw(model, outputs, scope, trees))
            .unwrap_or_else(|message| Err(model_panic(message)))
    }

    /// [`next_op_in`](Self::next_op_in) choosing only among the rules `allowed` admits, weighed
    /// by `mix` (by rule index, a stress plan's op mix) when given, else as usual.
    fn next_op_among<M: Model>(
        &mut self,
        model: &M,
        outputs: &[M::Output],
        scope: Scope,
        trees: Option<&mut Vec<Box<dyn ArgTree>>>,
        allowed: impl Fn(usize) -> bool + Copy,
        mix: Option<&[u32]>,
    ) -> Result<M::Op, GenError> {
        let weight = |plan: &Self, rule: usize, info: &RuleInfo| match mix {
            Some(mix) => mix[rule],
            None => Self::weight::<M>(plan, rule, info),
        };
        catch(|| self.draw_among(model, outputs, scope, trees, allowed, weight))
            .unwrap_or_else(|message| Err(model_panic(message)))
    }

    #[inline]
    fn draw<M: Model>(
        &mut self,
        model: &M,
        outputs: &[M::Output],
        scope: Scope,
        trees: Option<&mut Vec<Box<dyn ArgTree>>>,
    ) -> Result<M::Op, GenError> {
        // Every rule allowed: the constant closure folds away, the hot loop is what it was.
        self.draw_among(model, outputs, scope, trees, |_| true, Self::weight::<M>)
    }

    /// [`next_op_unguarded`](Self::next_op_unguarded) with the rules' weights given by `mix`
    /// (by rule index) instead of the derive's, choosing only among the rules `allowed` admits:
    /// a stress plan's op mix. A rule of weight 0 is never chosen.
    #[inline]
    pub(crate) fn next_op_mixed<M: Model>(
        &mut self,
        model: &M,
        outputs: &[M::Output],
        mix: &[u32],
        allowed: impl Fn(usize) -> bool + Copy,
    ) -> Result<M::Op, GenError> {
        let weight = |_: &Self, rule: usize, _: &RuleInfo| mix[rule];
        catch(|| self.draw_among(model, outputs, Scope::SEQUENTIAL, None, allowed, weight))
            .unwrap_or_else(|message| Err(model_panic(message)))
    }

    /// [`draw`](Self::draw) choosing only among the rules `allowed` admits (a parallel branch
    /// leaves out the rules some interleaving would disable), each rule weighing what `weight`
    /// says (a function, not a table, so the usual [`weight`](Self::weight) inlines as before).
    #[inline]
    fn draw_among<M: Model>(
        &mut self,
        model: &M,
        outputs: &[M::Output],
        scope: Scope,
        trees: Option<&mut Vec<Box<dyn ArgTree>>>,
        allowed: impl Fn(usize) -> bool + Copy,
        weight: impl Fn(&Self, usize, &RuleInfo) -> u32 + Copy,
    ) -> Result<M::Op, GenError> {
        let rules = M::Op::rules();
        let rule = if rules.len() <= 64 {
            self.draw_rule_small::<M>(model, outputs, allowed, weight)
        } else {
            self.draw_rule_large::<M>(model, outputs, allowed, weight)
        }?;
        let mut gen = Gen::<M>::lazy(
            &mut self.runner,
            outputs,
            scope,
            &self.consumed,
            trees,
            self.choices.as_mut(),
        );
        let op = M::Op::generate(rule, model, &mut gen).map_err(|e| {
            GenError::Strategy(format!("could not generate `{}`: {e}", rules[rule].name))
        })?;
        if M::Op::consumes_vars() {
            let consumed = &mut self.consumed;
            op.consumed_vars(&mut |id| consumed.insert(Consumed::position(id, scope.prefix)));
        }
        Ok(op)
    }

    /// What the operations drawn so far used up; [`restore_consumed`](Self::restore_consumed)
    /// puts it back, so each branch starts from what the prefix used up, not from another
    /// branch's uses.
    fn consumed(&self) -> Consumed {
        self.consumed.clone()
    }

    fn restore_consumed(&mut self, consumed: &Consumed) {
        self.consumed.clone_from(consumed);
    }

    /// Whether rule `rule` is in this case's swarm.
    #[inline]
    pub(crate) fn in_swarm(&self, rule: usize) -> bool {
        (self.swarm >> (rule % 64)) & 1 == 1
    }

    /// Chooses a rule among the enabled ones of a machine of at most 64 rules, the enabled set a
    /// bit mask: no table written per step, and with the derive's constant rule list inlined the
    /// loops unroll. Makes exactly the choices of [`draw_rule_large`](Self::draw_rule_large)
    /// (the same precondition calls in the same order, the same bits drawn, the same rule).
    #[inline]
    fn draw_rule_small<M: Model>(
        &mut self,
        model: &M,
        outputs: &[M::Output],
        allowed: impl Fn(usize) -> bool,
        weight: impl Fn(&Self, usize, &RuleInfo) -> u32,
    ) -> Result<usize, GenError> {
        let rules = M::Op::rules();
        let mut on = 0u64;
        let mut total = 0u64;
        for (rule, info) in rules.iter().enumerate() {
            if self.in_swarm(rule)
                && allowed(rule)
                && enabled::<M>(rule, info, model, outputs, &self.consumed)
            {
                on |= 1 << rule;
                total += u64::from(weight(self, rule, info));
            }
        }
        if total == 0 {
            // The swarm left no enabled rule here; fall back to every rule rather than stop.
            for (rule, info) in rules.iter().enumerate() {
                if !self.in_swarm(rule)
                    && allowed(rule)
                    && enabled::<M>(rule, info, model, outputs, &self.consumed)
                {
                    on |= 1 << rule;
                    total += u64::from(weight(self, rule, info));
                }
            }
        }
        if total == 0 {
            return Err(no_rule_enabled(model));
        }
        let mut pick = crate::generate::rng::below(self.choice_bits(), total);
        for (rule, info) in rules.iter().enumerate() {
            if (on >> rule) & 1 == 0 {
                continue;
            }
            let w = u64::from(weight(self, rule, info));
            if pick < w {
                return Ok(rule);
            }
            pick -= w;
        }
        unreachable!("the pick is below the total weight of the enabled rules")
    }

    /// [`draw_rule_small`](Self::draw_rule_small) for a machine of more than 64 rules, the
    /// enabled rules' weights in a table.
    fn draw_rule_large<M: Model>(
        &mut self,
        model: &M,
        outputs: &[M::Output],
        allowed: impl Fn(usize) -> bool,
        weight: impl Fn(&Self, usize, &RuleInfo) -> u32,
    ) -> Result<usize, GenError> {
        let rules = M::Op::rules();
        let mut weights = std::mem::take(&mut self.weights);
        weights.clear();
        weights.resize(rules.len(), 0);
        let mut total = 0u64;
        for (rule, info) in rules.iter().enumerate() {
            if self.in_swarm(rule)
                && allowed(rule)
                && enabled::<M>(rule, info, model, outputs, &self.consumed)
            {
                weights[rule] = weight(self, rule, info);
                total += u64::from(weights[rule]);
            }
        }
        if total == 0 {
            for (rule, info) in rules.iter().enumerate() {
                if !self.in_swarm(rule)
                    && allowed(rule)
                    && enabled::<M>(rule, info, model, outputs, &self.consumed)
                {
                    weights[rule] = weight(self, rule, info);
                    total += u64::from(weights[rule]);
                }
            }
        }
        let chosen = if total == 0 {
            Err(no_rule_enabled(model))
        } else {
            let mut pick = crate::generate::rng::below(self.choice_bits(), total);
            let mut chosen = 0;
            for (rule, &weight) in weights.iter().enumerate() {
                if pick < u64::from(weight) {
                    chosen = rule;
                    break;
                }
                pick -= u64::from(weight);
            }
            Ok(chosen)
        };
        self.weights = weights;
        chosen
    }
}

/// The rules' own weights, which a machine with its own swarm may change per case.
fn own_weights<Op: StateMachine>() -> Vec<u32> {
    Op::rules().iter().map(|info| info.weight).collect()
}

/// Whether `rule` may run now. A rule with no precondition and no `Var` field is always
/// enabled: no call needed.
#[inline]
fn enabled<M: Model>(
    rule: usize,
    info: &RuleInfo,
    model: &M,
    outputs: &[M::Output],
    consumed: &Consumed,
) -> bool {
    (info.precondition.is_none() && info.var_fields.is_empty())
        || if M::Op::consumes_vars() {
            M::Op::enabled_among(rule, model, outputs, consumed)
        } else {
            M::Op::enabled(rule, model, outputs)
        }
}

#[cold]
fn no_rule_enabled<M: Model>(model: &M) -> GenError {
    GenError::NoRuleEnabled(no_rule_message::<M>(model))
}

fn model_panic(message: String) -> GenError {
    GenError::Strategy(format!(
        "a precondition or strategy panicked while generating: {message}"
    ))
}

fn no_rule_message<M: Model>(model: &M) -> String {
    let mut text = format!("no rule is enabled in this state of the model:\n  {model:?}\n");
    text.push_str(
        "check the preconditions (a `Var` field also needs an earlier result of its type):",
    );
    for info in M::Op::rules() {
        let pre = info.precondition.unwrap_or("none");
        text.push_str(&format!("\n  {}: precondition {}", info.name, pre));
        if !info.var_fields.is_empty() {
            text.push_str(&format!(", vars {}", info.var_fields.join(", ")));
        }
    }
    text
}

/// The model's side of a run, without a system: enough to generate or validate programs.
pub(crate) struct ModelRun<M: Model> {
    pub(crate) model: M,
    pub(crate) outputs: Vec<M::Output>,
    /// The outputs `#[consumes]` fields of the steps applied so far used up.
    pub(crate) consumed: Consumed,
    track_vars: bool,
}

impl<M: Model> ModelRun<M> {
    pub(crate) fn new(model: M) -> Self {
        ModelRun {
            model,
            outputs: Vec::new(),
            consumed: Consumed::default(),
            track_vars: M::Op::uses_vars(),
        }
    }

    /// Whether `op` may run now: its rule is enabled, its vars resolve, and none names a result
    /// an earlier step consumed.
    pub(crate) fn admits(&self, op: &M::Op) -> bool {
        let rule = op.rule_index();
        let ok = catch(|| {
            M::Op::enabled(rule, &self.model, &self.outputs)
                && (!self.track_vars || op.clone().bind_vars(&self.outputs))
        });
        ok.unwrap_or(false) && names_consumed(op, &self.consumed, usize::MAX).is_none()
    }

    /// Steps the model; `Err` with the panic message if the model panicked.
    pub(crate) fn apply(&mut self, op: &M::Op) -> Result<(), String> {
        consume(op, &mut self.consumed, usize::MAX);
        let model = &mut self.model;
        if self.track_vars {
            let mut bound = op.clone();
            bound.bind_vars(&self.outputs);
            let out = catch(|| model.step(&bound))?;
            self.outputs.push(out);
        } else {
            catch(|| model.step(op))?;
        }
        Ok(())
    }
}

/// Generates a whole program against the model alone, optionally keeping argument trees.
pub(crate) fn generate_program<M: Model>(
    initial: &M,
    plan: &mut CaseGenerator,
    len: usize,
    trees: Option<&mut Vec<Vec<Box<dyn ArgTree>>>>,
) -> Result<Vec<M::Op>, GenError> {
    generate_sequence(&mut ModelRun::new(initial.clone()), plan, len, false, trees)
}

/// Generates `len` steps in order from `run`'s state, stepping the model on each; on the last
/// only if `apply_last` (what follows needs the state after it; otherwise its effect is not
/// needed, and may be the panic being reported).
fn generate_sequence<M: Model>(
    run: &mut ModelRun<M>,
    plan: &mut CaseGenerator,
    len: usize,
    apply_last: bool,
    mut trees: Option<&mut Vec<Vec<Box<dyn ArgTree>>>>,
) -> Result<Vec<M::Op>, GenError> {
    let mut ops = Vec::with_capacity(len);
    for _ in 0..len {
        let mut step_trees = Vec::new();
        let op = plan.next_op(
            &run.model,
            &run.outputs,
            trees.is_some().then_some(&mut step_trees),
        )?;
        if apply_last || ops.len() + 1 < len {
            run.apply(&op).map_err(model_panic)?;
        }
        if let Some(t) = trees.as_deref_mut() {
            t.push(step_trees);
        }
        ops.push(op);
    }
    Ok(ops)
}

/// Argument value trees, one list per step, kept in the shape of the program they belong to, so
/// the shrinker finds a step's trees by its [`StepId`](crate::StepId).
pub(crate) type ProgramTrees = Program<Vec<Box<dyn ArgTree>>>;

pub(crate) use parallel::{generate_parallel, generate_parallel_mixed};

/// Builds a program from a fuzzer's bytes, so a coverage-guided fuzzer (cargo fuzz, AFL) drives
/// the same state machine as the random runner.
///
/// The bytes replace the random source: the first choose the length (at most `max_steps`), the
/// rest feed rule choices and argument strategies directly, so mutating a byte changes one
/// decision. Generation is precondition-correct as usual; when no rule is enabled the program
/// simply ends. Run the result with [`replay`](crate::replay), which panics on failure (a crash
/// to the fuzzer).
pub fn program_from_unstructured<M: Model>(
    initial: &M,
    u: &mut arbitrary::Unstructured<'_>,
    max_steps: usize,
) -> arbitrary::Result<Vec<M::Op>> {
    let len = u.int_in_range(0..=max_steps)?;
    let data = u.bytes(u.len())?;
    // Past the fuzzer's bytes, a deterministic stream derived from them: an RNG that returned
    // zeros forever would stall rejection sampling (uniform ranges) in an endless loop.
    let mut bytes = data.to_vec();
    let mut state = data.iter().fold(0x5EED_u64, |h, &b| {
        crate::generate::rng::mix(h ^ u64::from(b))
    });
    while bytes.len() < data.len() + 1024 + max_steps * 256 {
        state = crate::generate::rng::mix(state);
        bytes.extend_from_slice(&state.to_le_bytes());
    }
    let mut plan = CaseGenerator {
        runner: CaseRunner::ready(crate::generate::rng::passthrough_runner(&bytes)),
        len,
        swarm: u64::MAX,
        weights: Vec::new(),
        choices: None,
        consumed: Consumed::default(),
        case_weights: if M::Op::own_swarm() {
            own_weights::<M::Op>()
        } else {
            Vec::new()
        },
    };
    let mut run = ModelRun::new(initial.clone());
    let mut ops = Vec::with_capacity(len);
    for _ in 0..len {
        let Ok(op) = plan.next_op(&run.model, &run.outputs, None) else {
            break;
        };
        if run.apply(&op).is_err() {
            break;
        }
        ops.push(op);
    }
    Ok(ops)
}
