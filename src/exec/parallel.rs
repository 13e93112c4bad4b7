//! The shape of a concurrent run's programs: how long a prefix, how many branches, how long
//! each, drawn per case from the case's own random source so a case regenerates exactly (for
//! its argument trees, for a hang report) from its seed alone.

use super::watchdog::Heartbeat;
use super::{Executor, Generated, Recording};
use crate::config::Config;
use crate::generate::{generate_parallel, CaseGenerator, GenError, ProgramTrees};
use crate::program::Program;
use crate::spec::{Model, StateMachine};
use proptest::prelude::Rng;

/// The ranges a concurrent case's shape is drawn from (see [`Config::branches`],
/// [`Config::branch_steps`], [`Config::prefix_steps`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct ParallelShape {
    pub(crate) prefix: (usize, usize),
    pub(crate) branches: usize,
    pub(crate) branch_steps: (usize, usize),
}

/// One case's shape.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Drawn {
    pub(crate) prefix: usize,
    pub(crate) branches: usize,
    pub(crate) branch_len: usize,
}

impl ParallelShape {
    pub(crate) fn of(config: &Config) -> Self {
        ParallelShape {
            prefix: config.prefix_steps,
            branches: config.branches,
            branch_steps: config.branch_steps,
        }
    }

    /// Draws a case's shape from its plan, before any step is drawn: regenerating from the same
    /// seed draws the same shape, then the same steps.
    pub(crate) fn draw(&self, plan: &mut CaseGenerator) -> Drawn {
        let rng = plan.runner.get().rng();
        let mut pick = |(lo, hi): (usize, usize)| {
            let span = (hi.saturating_sub(lo) as u64).saturating_add(1);
            lo + crate::generate::rng::below(rng.next_u64(), span) as usize
        };
        let prefix = pick(self.prefix);
        let branch_len = pick(self.branch_steps);
        Drawn {
            prefix,
            branches: self.branches,
            branch_len,
        }
    }

    /// Generates a case of this shape against the model alone, optionally keeping its argument
    /// trees (in the program's shape).
    pub(crate) fn generate<M: Model>(
        &self,
        initial: &M,
        plan: &mut CaseGenerator,
        trees: Option<&mut ProgramTrees>,
    ) -> Result<Program<M::Op>, GenError> {
        let d = self.draw(plan);
        generate_parallel(initial, plan, d.prefix, d.branches, d.branch_len, trees)
    }
}

/// `execute_generated` of every executor of parallel programs: a branch cannot stop early where
/// the model would, so the whole program of `shape` is generated from the case's plan first,
/// its rules counted, then run once through `executor` (the run loop repeats it).
pub(crate) fn generate_then_execute<M: Model, E: Executor<M> + ?Sized>(
    executor: &E,
    shape: &ParallelShape,
    plan: &mut CaseGenerator,
    recording: Recording,
    hb: &Heartbeat,
    rules: &mut [(&'static str, u64)],
) -> Result<Generated<M>, (GenError, usize)> {
    let program = shape
        .generate(executor.initial(), plan, None)
        .map_err(|e| (e, 0))?;
    for (_, op) in program.steps() {
        rules[op.rule_index()].1 += 1;
    }
    let execution = executor.execute(&program, recording, hb);
    Ok(Generated {
        execution,
        ran: program.len(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::{Counter, CounterOp};

    fn shape() -> ParallelShape {
        ParallelShape {
            prefix: (0, 4),
            branches: 3,
            branch_steps: (1, 4),
        }
    }

    #[test]
    fn a_case_regenerates_exactly_from_its_seed() {
        let mut shapes = std::collections::HashSet::new();
        for seed in 0..64 {
            let gen = || {
                let mut plan = CaseGenerator::new::<CounterOp>(seed, (1, 32), true);
                shape().generate(&Counter::default(), &mut plan, None)
            };
            let (a, b) = (gen().unwrap(), gen().unwrap());
            assert_eq!(format!("{a:?}"), format!("{b:?}"));
            assert_eq!(a.branches.len(), 3);
            assert!(a.prefix.len() <= 4);
            let len = a.branches[0].len();
            assert!((1..=4).contains(&len) && a.branches.iter().all(|b| b.len() == len));
            shapes.insert((a.prefix.len(), len));
        }
        // The shape really is drawn per case, over the whole ranges.
        assert!(shapes.len() > 10, "{shapes:?}");
    }
}
