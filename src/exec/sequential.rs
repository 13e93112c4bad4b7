//! The sequential executor: the prefix, one step at a time, on `&mut` system, every step judged
//! inline by the step judge.

use super::watchdog::Heartbeat;
use super::{Execution, Executor, Generated, Recording};
use crate::catch::catch;
use crate::failure::{Failure, FailureKind};
use crate::generate::{CaseGenerator, GenError};
use crate::history::History;
use crate::judge::step;
use crate::program::{Program, StepId};
use crate::spec::{Model, StateMachine, System};
use std::cell::Cell;

/// One case in progress: a model, a system, and the outputs `Var`s bind to.
pub(crate) struct Case<M: Model, S> {
    pub(crate) model: M,
    sut: S,
    pub(crate) model_outputs: Vec<M::Output>,
    sut_outputs: Vec<M::Output>,
    track_vars: bool,
    /// The step id of the first output kept: 0 unless a window drops the oldest ones.
    outputs_base: usize,
    /// Keep at least this many latest outputs, and fewer than twice as many (a stress run).
    outputs_window: Option<usize>,
    /// Step-by-step lines for verbose reports, when asked for.
    pub(crate) trace: Option<Vec<String>>,
    /// The history, when asked for. Operations are recorded as the model ran them (a `Var`
    /// bound to the model's result, not the system's): the order of a sequential history is
    /// forced, so judging it against the model then agrees with the step judge on values the
    /// system is free to choose differently (ids), instead of failing a correct system.
    pub(crate) history: Option<History<M::Op, M::Output>>,
    /// Whether a `tracing` subscriber wants TRACE events (read once per case: one atomic load
    /// instead of a callsite check every step).
    trace_steps: bool,
}

impl<M: Model, S: System<M>> Case<M, S> {
    /// Builds the system; a panic in the factory is a failure "while setting up".
    pub(crate) fn start(
        model: M,
        factory: &dyn Fn() -> S,
        recording: Recording,
    ) -> Result<Self, Failure> {
        let sut = catch(factory).map_err(|message| Failure {
            step: None,
            op: None,
            kind: FailureKind::Panic { message },
        })?;
        Ok(Case {
            model,
            sut,
            model_outputs: Vec::new(),
            sut_outputs: Vec::new(),
            track_vars: M::Op::uses_vars(),
            outputs_base: 0,
            outputs_window: None,
            trace: recording.trace.then(Vec::new),
            history: recording.history.then(History::new),
            trace_steps: tracing::level_enabled!(tracing::Level::TRACE),
        })
    }

    /// Applies `op` (step `index`) to both sides and judges the step: output, then invariant.
    #[inline]
    pub(crate) fn step(&mut self, index: usize, op: &M::Op, hb: &Heartbeat) -> Result<(), Failure> {
        self.step_timed(index, op, hb, &mut ())
    }

    /// The system under test, for a stress run's memory gauge.
    pub(crate) fn system(&self) -> &S {
        &self.sut
    }

    /// Stops keeping the outputs `Var`s bind to: a stress run that generates no `Var` (it shows
    /// the generator no earlier outputs) would otherwise keep them without bound.
    pub(crate) fn without_vars(mut self) -> Self {
        self.track_vars = false;
        self
    }

    /// Keeps only the latest outputs, at least `window` of them: a stress run's `Var`s name
    /// only those (older ones are dropped in batches, so a step costs O(1) amortized).
    pub(crate) fn with_var_window(mut self, window: usize) -> Self {
        self.outputs_window = Some(window.max(1));
        self
    }

    /// The latest outputs, at most `n` of them, and the step id of the first.
    pub(crate) fn latest_outputs(&self, n: usize) -> (&[M::Output], usize) {
        let start = self.model_outputs.len().saturating_sub(n);
        (&self.model_outputs[start..], self.outputs_base + start)
    }

    /// [`step`](Self::step) with the system's call (only it, not the model) bracketed by
    /// `call`: a stress run times it; every other caller passes `()`, which costs nothing.
    #[inline(always)]
    pub(crate) fn step_timed<C: SystemCall>(
        &mut self,
        index: usize,
        op: &M::Op,
        hb: &Heartbeat,
        call: &mut C,
    ) -> Result<(), Failure> {
        let _span = self.trace_steps.then(|| {
            let span = tracing::trace_span!("stateprop_step", step = index).entered();
            tracing::trace!(op = ?op, "apply");
            span
        });
        let fail = |kind| Failure {
            step: Some(StepId::prefix(index)),
            op: Some(op.to_rust()),
            kind,
        };
        // Vars bind to each side's own outputs: the model sees the ids it made, the system its own.
        let bound;
        let (model_op, sut_op) = if self.track_vars {
            let mut m = op.clone();
            let mut s = op.clone();
            let bound_model = if self.outputs_base == 0 {
                m.bind_vars(&self.model_outputs)
            } else {
                m.bind_vars(&Windowed {
                    base: self.outputs_base,
                    outputs: &self.model_outputs,
                })
            };
            if !bound_model {
                // Generation and shrinking only produce resolvable vars; a hand-written replay may not.
                return Err(fail(FailureKind::ModelPanic {
                    message: "a `Var` names a step whose model output holds no such value".into(),
                }));
            }
            let bound_sut = if self.outputs_base == 0 {
                s.bind_vars(&self.sut_outputs)
            } else {
                s.bind_vars(&Windowed {
                    base: self.outputs_base,
                    outputs: &self.sut_outputs,
                })
            };
            if !bound_sut {
                return Err(fail(FailureKind::UnboundVar));
            }
            bound = (m, s);
            (&bound.0, &bound.1)
        } else {
            (op, op)
        };
        let model = &mut self.model;
        let expected = catch(|| model.step(model_op))
            .map_err(|message| fail(FailureKind::ModelPanic { message }))?;
        hb.enter_step();
        let sut = &mut self.sut;
        call.before();
        let actual = catch(|| sut.apply(sut_op));
        call.after();
        hb.leave_step();
        if let Some(history) = &mut self.history {
            record(history, index, model_op, actual.as_ref().ok());
        }
        let actual = actual.map_err(|message| fail(FailureKind::Panic { message }))?;
        if let Some(trace) = &mut self.trace {
            trace.push(format!(
                "step {index}: {} -> system {actual:?}, model {expected:?}",
                op.to_rust()
            ));
        }
        // The model may follow the system's choice here; its Vars bind to the output it keeps.
        let kept =
            step::postcondition(&mut self.model, model_op, expected, &actual).map_err(fail)?;
        hb.main().enter_invariant();
        let invariant = step::invariant(&self.sut, &self.model);
        hb.main().leave_invariant();
        invariant.map_err(fail)?;
        if self.track_vars {
            self.model_outputs.push(kept);
            self.sut_outputs.push(actual);
            if let Some(window) = self.outputs_window {
                if self.model_outputs.len() >= 2 * window {
                    self.drop_old_outputs(window);
                }
            }
        }
        Ok(())
    }

    /// Drops the oldest outputs but the latest `window`.
    #[cold]
    fn drop_old_outputs(&mut self, window: usize) {
        let drop = self.model_outputs.len() - window;
        self.model_outputs.drain(..drop);
        self.sut_outputs.drain(..drop);
        self.outputs_base += drop;
    }

    /// Whether nothing but the verdict is wanted of a step: no `Var`s to bind, nothing recorded
    /// or traced. Such a step can run under one unwind guard ([`generate_and_step`]).
    ///
    /// [`generate_and_step`]: Self::generate_and_step
    fn plain(&self) -> bool {
        !self.track_vars && self.history.is_none() && self.trace.is_none() && !self.trace_steps
    }

    /// Generates step `index` into `slot` and runs it, judged as [`step`](Self::step) judges it,
    /// with one unwind guard around all of the step's user code instead of four: a panic is
    /// told apart by the part of the step that was running. Only for a [`plain`](Self::plain)
    /// case.
    #[inline(always)]
    fn generate_and_step(
        &mut self,
        index: usize,
        plan: &mut CaseGenerator,
        slot: &mut Option<M::Op>,
        rules: &mut [(&'static str, u64)],
        hb: &Heartbeat,
    ) -> Result<(), Stop> {
        // A `Cell`: the closure sets it, and only the unwinding path reads it afterwards.
        let part = Cell::new(Part::Generate);
        let model = &mut self.model;
        let sut = &mut self.sut;
        let outputs = &self.model_outputs;
        let ran = catch(|| {
            let op = plan
                .next_op_unguarded(&*model, outputs)
                .map_err(Stop::Gen)?;
            let op = &*slot.insert(op);
            rules[op.rule_index()].1 += 1;
            part.set(Part::Model);
            let expected = model.step(op);
            part.set(Part::System);
            hb.enter_step();
            let actual = sut.apply(op);
            hb.leave_step();
            part.set(Part::Postcondition);
            step::postcondition(&mut *model, op, expected, &actual)
                .and_then(|_| {
                    part.set(Part::Invariant);
                    step::invariant_unguarded(&*sut, &*model)
                })
                .map_err(|kind| Stop::Failed(step_failure(index, op, kind)))
        });
        match ran {
            Ok(judged) => judged,
            Err(message) => Err(self.panicked(index, part.get(), slot.as_ref(), message, hb)),
        }
    }

    /// What a panic in `part` of step `index` means, as [`step`](Self::step) reports it.
    #[cold]
    #[inline(never)]
    fn panicked(
        &self,
        index: usize,
        part: Part,
        op: Option<&M::Op>,
        message: String,
        hb: &Heartbeat,
    ) -> Stop {
        let kind = match part {
            Part::Generate => return Stop::Gen(GenError::panicked(message)),
            Part::Model => FailureKind::ModelPanic { message },
            Part::System => {
                hb.leave_step();
                FailureKind::Panic { message }
            }
            Part::Invariant => FailureKind::Panic { message },
            // `step` does not guard the postcondition: its panic goes on unwinding, as there.
            Part::Postcondition => std::panic::resume_unwind(Box::new(message)),
        };
        let op = op.expect("an operation was generated before the step ran");
        Stop::Failed(step_failure(index, op, kind))
    }

    /// Tears the system down; a panic there fails the case at its last step.
    pub(crate) fn finish(mut self, last: Option<(usize, &M::Op)>) -> Result<(), Failure> {
        let sut = &mut self.sut;
        catch(|| sut.teardown()).map_err(|message| {
            super::teardown_failure(last.map(|(i, op)| (StepId::prefix(i), op)), message)
        })
    }

    /// What the case leaves behind, its system torn down.
    fn end(mut self, failure: Option<Failure>, last: Option<(usize, &M::Op)>) -> Execution<M> {
        let trace = self.trace.take().unwrap_or_default();
        let history = self.history.take();
        let teardown = self.finish(last);
        Execution {
            failure: failure.or(teardown.err()),
            history,
            trace,
        }
    }
}

/// Outputs kept from step `base` on, looked up by step id (a stress run's window).
pub(crate) struct Windowed<'a, O> {
    pub(crate) base: usize,
    pub(crate) outputs: &'a [O],
}

impl<O> crate::program::Outputs<O> for Windowed<'_, O> {
    fn output(&self, id: StepId) -> Option<&O> {
        match id.branch {
            None => (id.index as usize)
                .checked_sub(self.base)
                .and_then(|i| self.outputs.get(i)),
            Some(_) => None,
        }
    }
}

/// Brackets the system's call in [`Case::step_timed`].
pub(crate) trait SystemCall {
    /// Just before the system's call.
    fn before(&mut self) {}
    /// Just after it returned (or panicked).
    fn after(&mut self) {}
}

impl SystemCall for () {}

/// Which part of a step was running, for a panic caught around the whole step.
#[derive(Clone, Copy)]
enum Part {
    Generate,
    Model,
    System,
    Postcondition,
    Invariant,
}

/// Why a generated case stopped before its last step.
enum Stop {
    /// No operation could be generated: the run's error, not the system's.
    Gen(GenError),
    /// The step failed.
    Failed(Failure),
}

#[cold]
#[inline(never)]
fn step_failure<Op: StateMachine>(index: usize, op: &Op, kind: FailureKind) -> Failure {
    Failure {
        step: Some(StepId::prefix(index)),
        op: Some(op.to_rust()),
        kind,
    }
}

/// Adds step `index` to a sequential history: `output` is `None` when the system panicked (the
/// step may have taken effect, or not: an unknown outcome). Kept out of line so the step the
/// runner inlines into its hot loop stays small when nothing is recorded.
#[inline(never)]
fn record<Op: Clone, Out: Clone>(
    history: &mut History<Op, Out>,
    index: usize,
    op: &Op,
    output: Option<&Out>,
) {
    // Logical times: each step returns before the next is invoked.
    let call = 2 * index as u64;
    match output {
        Some(out) => history.push(0, op.clone(), call, call + 1, out.clone()),
        None => history.push_unknown(0, op.clone(), call),
    }
    history.steps.push(StepId::prefix(index));
}

/// Runs sequential programs against systems from `factory`.
pub(crate) struct Sequential<'a, M: Model, S> {
    pub(crate) initial: &'a M,
    pub(crate) factory: &'a dyn Fn() -> S,
}

impl<M: Model, S: System<M>> Executor<M> for Sequential<'_, M, S> {
    fn initial(&self) -> &M {
        self.initial
    }

    /// Runs the prefix; the sequential executor runs no branches (the runner never gives it a
    /// program with some).
    fn execute(
        &self,
        program: &Program<M::Op>,
        recording: Recording,
        hb: &Heartbeat,
    ) -> Execution<M> {
        debug_assert!(program.branches.is_empty());
        let ops = &program.prefix;
        let mut case = match Case::start(self.initial.clone(), self.factory, recording) {
            Ok(case) => case,
            Err(failure) => return Execution::failed(failure),
        };
        let mut failure = None;
        for (i, op) in ops.iter().enumerate() {
            if let Err(f) = case.step(i, op, hb) {
                failure = Some(f);
                break;
            }
        }
        let last = ops.len().checked_sub(1).map(|i| (i, &ops[i]));
        case.end(failure, last)
    }

    /// Generates each step from the model's state as the case runs, and stops at the first
    /// failing step: no program is built ahead, and none of a failing case is generated past
    /// its failure. The runner's hot loop.
    // `inline` gives the run loop its own copy to inline, as it was before the loop moved here
    // (measured by `cargo bench --bench throughput`: about 10% of throughput without it).
    #[inline]
    fn execute_generated(
        &self,
        plan: &mut CaseGenerator,
        recording: Recording,
        hb: &Heartbeat,
        rules: &mut [(&'static str, u64)],
    ) -> Result<Generated<M>, (GenError, usize)> {
        let mut case = match Case::start(self.initial.clone(), self.factory, recording) {
            Ok(case) => case,
            Err(failure) => {
                return Ok(Generated {
                    execution: Execution::failed(failure),
                    ran: 0,
                })
            }
        };
        let mut failure = None;
        // The step's operation; after the loop, the last one run (for teardown's failure).
        let mut slot = None;
        let mut ran = 0;
        let plain = case.plain();
        for i in 0..plan.len {
            let step = if plain {
                case.generate_and_step(i, plan, &mut slot, rules, hb)
            } else {
                match plan.next_op_inline(&case.model, &case.model_outputs) {
                    Ok(op) => {
                        let op = &*slot.insert(op);
                        rules[op.rule_index()].1 += 1;
                        case.step(i, op, hb).map_err(Stop::Failed)
                    }
                    Err(e) => Err(Stop::Gen(e)),
                }
            };
            match step {
                Ok(()) => ran = i + 1,
                Err(Stop::Gen(e)) => return Err((e, i)),
                Err(Stop::Failed(f)) => {
                    ran = i + 1;
                    failure = Some(f);
                    break;
                }
            }
        }
        let last = slot.as_ref().map(|op| (ran - 1, op));
        let execution = case.end(failure, last);
        Ok(Generated { execution, ran })
    }
}

#[cfg(test)]
mod tests;
