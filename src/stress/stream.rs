//! The operation stream of a seed: drawn one operation at a time against the model's state and
//! judged step by step on a fresh system, the same operations every time for a deterministic
//! system. The measured run, the failing-prefix search and the shrinker's input all drive it.

use crate::catch::{catch, catch_quietly};
use crate::exec::sequential::{Case, SystemCall, Windowed};
use crate::exec::watchdog::Heartbeat;
use crate::exec::Recording;
use crate::failure::Failure;
use crate::generate::{CaseGenerator, GenError};
use crate::program::StepId;
use crate::spec::{Model, StateMachine, System};
use std::collections::VecDeque;
use std::sync::atomic::{AtomicU8, Ordering};

/// How a stream of operations ended.
pub(crate) enum End<M: Model> {
    /// Every operation asked for (or that the duration allowed) ran and matched: how many.
    Completed(u64),
    /// Operation `at` (0-based), `op`, failed; or the system could not be built (`at` 0, no
    /// operation).
    Failed {
        at: u64,
        failure: Failure,
        op: Option<M::Op>,
    },
    /// No operation could be generated at operation `at`.
    Gen { at: u64, error: GenError },
}

/// Which of the system's code a watched run is in, for a hang's report: its calls are the
/// steps; building it, gauging its memory and tearing it down are not, and a hang there must
/// say so rather than blame an operation.
#[derive(Default)]
pub(crate) struct Phase(AtomicU8);

/// A part of a run [`Phase`] tells apart.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Stage {
    Steps,
    Factory,
    Gauge,
    Teardown,
}

impl Phase {
    /// The stage the run is in (or was in when it stopped).
    pub(crate) fn get(&self) -> Stage {
        match self.0.load(Ordering::SeqCst) {
            1 => Stage::Factory,
            2 => Stage::Gauge,
            3 => Stage::Teardown,
            _ => Stage::Steps,
        }
    }

    /// Runs `f`, the system's code of `stage`, watched on `hb` like a step but not counted as
    /// one: the watchdog's timeout applies to it too.
    pub(crate) fn watch<R>(&self, hb: &Heartbeat, stage: Stage, f: impl FnOnce() -> R) -> R {
        self.0.store(stage as u8, Ordering::SeqCst);
        hb.main().enter_step();
        let r = f();
        hb.main().leave_set_up();
        self.0.store(Stage::Steps as u8, Ordering::SeqCst);
        r
    }
}

/// The operation stream of `seed`: the same operations in the same order every time it is
/// driven from a fresh system (for a deterministic system), which is what lets a failure be
/// replayed and bisected without keeping the operations.
pub(crate) struct Stream<'a, M: Model, S> {
    pub(crate) initial: &'a M,
    pub(crate) factory: &'a dyn Fn() -> S,
    pub(crate) seed: u64,
    pub(crate) weights: &'a [u32],
    /// The latest outputs a `Var` may name; 0 generates no `Var`.
    pub(crate) var_window: usize,
}

impl<M: Model, S: System<M>> Stream<'_, M, S> {
    /// Runs up to `max` operations (all the stream has, if `None`) on a fresh system, timing
    /// each system call with `call`, beating on `hb` around the factory, each call, the
    /// invariant and the teardown (for a watchdog, when one bounds the replay);
    /// `observe(index, op, call, case)` after each step that matched returns whether to go on.
    #[inline(always)]
    pub(crate) fn drive<C: SystemCall>(
        &self,
        hb: &Heartbeat,
        max: Option<u64>,
        call: &mut C,
        observe: impl FnMut(u64, &M::Op, &C, &Case<M, S>) -> bool,
    ) -> End<M> {
        // Replays run on the caller's thread, where a panic of the system's (caught, and
        // reported as the failure) would otherwise also print raw over the report. Anything
        // else that unwinds out of here is stateprop's own and is raised again, aloud.
        let phase = Phase::default();
        let quiet = catch_quietly(|| self.drive_watched(hb, &phase, max, call, |_, _| {}, observe));
        quiet.unwrap_or_else(|message| panic!("{message}"))
    }

    /// [`drive`](Self::drive) beating on `hb` around each system call, and around the factory
    /// and the teardown (told apart in `phase`), for a watchdog on another thread;
    /// `before(index, op)` runs before each step, so a call that never returns is still known
    /// to the caller.
    #[inline(always)]
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn drive_watched<C: SystemCall>(
        &self,
        hb: &Heartbeat,
        phase: &Phase,
        max: Option<u64>,
        call: &mut C,
        mut before: impl FnMut(u64, &M::Op),
        mut observe: impl FnMut(u64, &M::Op, &C, &Case<M, S>) -> bool,
    ) -> End<M> {
        let case = phase.watch(hb, Stage::Factory, || {
            Case::start(self.initial.clone(), self.factory, Recording::default())
        });
        let vars = self.var_window > 0 && M::Op::uses_vars() && !M::Op::consumes_vars();
        let mut case = match case {
            Ok(case) if vars => case.with_var_window(self.var_window),
            Ok(case) => case.without_vars(),
            Err(failure) => {
                return End::Failed {
                    at: 0,
                    failure,
                    op: None,
                }
            }
        };
        let mut plan = CaseGenerator::new::<M::Op>(self.seed, (0, 0), false);
        // Step ids are 32-bit: a run stops at u32::MAX operations.
        let max = max.unwrap_or(u64::MAX).min(u64::from(u32::MAX));
        let mut last: Option<M::Op> = None;
        let mut i = 0u64;
        let mut end = None;
        while i < max {
            let drawn = match vars {
                true => self.draw_in_window(&mut plan, &case),
                // No earlier outputs shown: a rule with a `Var` field is never enabled.
                false => plan.next_op_mixed(&case.model, &[], self.weights, |_| true),
            };
            let op = match drawn {
                Ok(op) => op,
                Err(error) => {
                    end = Some(End::Gen { at: i, error });
                    break;
                }
            };
            let op = &*last.insert(op);
            before(i, op);
            if let Err(failure) = case.step_timed(i as usize, op, hb, call) {
                end = Some(End::Failed {
                    at: i,
                    failure,
                    op: Some(op.clone()),
                });
                break;
            }
            i += 1;
            if !observe(i - 1, op, call, &case) {
                break;
            }
        }
        let ended = last.as_ref().map(|op| (i.saturating_sub(1) as usize, op));
        let teardown = phase.watch(hb, Stage::Teardown, || case.finish(ended));
        match (end, teardown) {
            (Some(end), _) => end,
            (None, Err(failure)) => End::Failed {
                at: i.saturating_sub(1),
                failure,
                op: None,
            },
            (None, Ok(())) => End::Completed(i),
        }
    }

    /// Draws an operation whose `Var`s name only the latest `var_window` steps.
    ///
    /// The generator numbers the outputs it is shown from 0; the drawn `Var`s are renamed to the
    /// steps those outputs belong to. A precondition over a `Var` was judged on the generator's
    /// numbering, so a rule that has one is judged again on the real step ids; if it fails
    /// there, the step is drawn again among the rules without `Var` fields (deterministically:
    /// the same stream every time).
    fn draw_in_window(
        &self,
        plan: &mut CaseGenerator,
        case: &Case<M, S>,
    ) -> Result<M::Op, GenError> {
        let (visible, base) = case.latest_outputs(self.var_window);
        let mut op = plan.next_op_mixed(&case.model, visible, self.weights, |_| true)?;
        let rules = M::Op::rules();
        if rules[op.rule_index()].var_fields.is_empty() {
            return Ok(op);
        }
        if base > 0 {
            op.remap_vars(&mut |id| Some(StepId::prefix(base + id.index as usize)));
        }
        if !M::Op::checks_args() {
            return Ok(op);
        }
        let admitted = catch(|| {
            let mut bound = op.clone();
            let window = Windowed {
                base,
                outputs: visible,
            };
            bound.bind_vars(&window) && bound.admits(&case.model)
        });
        if admitted == Ok(true) {
            return Ok(op);
        }
        let plain = |rule: usize| rules[rule].var_fields.is_empty();
        plan.next_op_mixed(&case.model, visible, self.weights, plain)
    }

    /// The last `keep` of the first `n` operations of the stream (the failing one included, if
    /// it is among them), regenerated on a fresh system in memory bounded by `keep`.
    pub(crate) fn tail(&self, hb: &Heartbeat, n: u64, keep: usize) -> Vec<M::Op> {
        let mut ops = VecDeque::with_capacity(keep + 1);
        let mut push = |op: M::Op| {
            if ops.len() == keep {
                ops.pop_front();
            }
            ops.push_back(op);
        };
        let end = self.drive(hb, Some(n), &mut (), |_, op, _, _| {
            push(op.clone());
            true
        });
        if let End::Failed { op: Some(op), .. } = end {
            push(op);
        }
        ops.into()
    }

    /// The first `n` operations of the stream, as a program (regenerated on a fresh system).
    pub(crate) fn prefix(&self, hb: &Heartbeat, n: u64) -> Vec<M::Op> {
        let mut ops = Vec::with_capacity(n as usize);
        let end = self.drive(hb, Some(n), &mut (), |_, op, _, _| {
            ops.push(op.clone());
            true
        });
        // The failing step is not observed; it ends the program.
        if let End::Failed { op: Some(op), .. } = end {
            ops.push(op);
        }
        ops
    }
}
