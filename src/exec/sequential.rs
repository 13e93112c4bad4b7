//! Running operations against the model and the system under test, checking every step.

use super::watchdog::Heartbeat;
use crate::catch::catch;
use crate::failure::{Failure, FailureKind};
use crate::program::StepId;
use crate::spec::{Model, StateMachine, System};

/// One case in progress: a model, a system, and the outputs `Var`s bind to.
pub(crate) struct Case<M: Model, S> {
    pub(crate) model: M,
    sut: S,
    pub(crate) model_outputs: Vec<M::Output>,
    sut_outputs: Vec<M::Output>,
    track_vars: bool,
    /// Step-by-step lines for verbose reports, when asked for.
    pub(crate) trace: Option<Vec<String>>,
    /// Whether a `tracing` subscriber wants TRACE events (read once per case: one atomic load
    /// instead of a callsite check every step).
    trace_steps: bool,
}

impl<M: Model, S: System<M>> Case<M, S> {
    /// Builds the system; a panic in the factory is a failure "while setting up".
    pub(crate) fn start(model: M, factory: &dyn Fn() -> S, trace: bool) -> Result<Self, Failure> {
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
            trace: trace.then(Vec::new),
            trace_steps: tracing::level_enabled!(tracing::Level::TRACE),
        })
    }

    /// Applies `op` (step `index`) to both sides and checks output and invariant.
    #[inline]
    pub(crate) fn step(&mut self, index: usize, op: &M::Op, hb: &Heartbeat) -> Result<(), Failure> {
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
            if !m.bind_vars(&self.model_outputs) {
                // Generation and shrinking only produce resolvable vars; a hand-written replay may not.
                return Err(fail(FailureKind::ModelPanic {
                    message: "a `Var` names a step whose model output holds no such value".into(),
                }));
            }
            if !s.bind_vars(&self.sut_outputs) {
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
        let actual = catch(|| sut.apply(sut_op));
        hb.leave_step();
        let actual = actual.map_err(|message| fail(FailureKind::Panic { message }))?;
        if let Some(trace) = &mut self.trace {
            trace.push(format!(
                "step {index}: {} -> system {actual:?}, model {expected:?}",
                op.to_rust()
            ));
        }
        if !self.model.outputs_match(model_op, &expected, &actual) {
            return Err(fail(FailureKind::Postcondition {
                expected: format!("{expected:?}"),
                actual: format!("{actual:?}"),
            }));
        }
        let (sut, model) = (&self.sut, &self.model);
        match catch(|| sut.invariant(model)) {
            Ok(Ok(())) => {}
            Ok(Err(message)) => return Err(fail(FailureKind::Invariant { message })),
            Err(message) => return Err(fail(FailureKind::Panic { message })),
        }
        if self.track_vars {
            self.model_outputs.push(expected);
            self.sut_outputs.push(actual);
        }
        Ok(())
    }

    /// Tears the system down; a panic there fails the case at its last step.
    pub(crate) fn finish(mut self, last: Option<(usize, &M::Op)>) -> Result<(), Failure> {
        let sut = &mut self.sut;
        catch(|| sut.teardown()).map_err(|message| Failure {
            step: last.map(|(i, _)| StepId::prefix(i)),
            op: last.map(|(_, op)| op.to_rust()),
            kind: FailureKind::Panic {
                message: format!("in teardown: {message}"),
            },
        })
    }
}

/// The result of running a fixed program.
pub(crate) struct Outcome {
    pub(crate) failure: Option<Failure>,
    pub(crate) trace: Vec<String>,
}

/// Runs `ops` from a fresh model and system; stops at the first failure.
pub(crate) fn execute<M: Model, S: System<M>>(
    initial: &M,
    factory: &dyn Fn() -> S,
    ops: &[M::Op],
    hb: &Heartbeat,
    trace: bool,
) -> Outcome {
    let mut exec = match Case::start(initial.clone(), factory, trace) {
        Ok(exec) => exec,
        Err(failure) => {
            return Outcome {
                failure: Some(failure),
                trace: Vec::new(),
            }
        }
    };
    let mut failure = None;
    for (i, op) in ops.iter().enumerate() {
        if let Err(f) = exec.step(i, op, hb) {
            failure = Some(f);
            break;
        }
    }
    let trace = exec.trace.take().unwrap_or_default();
    let last = ops.len().checked_sub(1).map(|i| (i, &ops[i]));
    let teardown = exec.finish(last);
    Outcome {
        failure: failure.or(teardown.err()),
        trace,
    }
}
