//! Rounds of a concurrent stress run drawn at the barrier as parallel programs, for a mix with
//! rules that are not valid in every state (a precondition, a `Var` field, a precondition over
//! arguments).
//!
//! A thread drawing on its own cannot know the state its operation will meet. The coordinator
//! can: at the barrier it knows the states the previous round may have ended in (`starts`), so
//! it draws the round as the engine draws a parallel program (no prefix, one branch per thread),
//! every step running in every interleaving of the branches, from the first of them, and then
//! checks the others with the same interleaving search, cutting a branch at the first step not
//! shown safe (never guessing). A `Var` names an earlier step of its own branch in the same
//! round: its result is in the round's history, which is what the round's judge sees.
//!
//! The search's state budgets end branches early; to keep the branches about equal (rather than
//! the first ones long and the last ones empty), the asked branch length adapts from round to
//! round: it halves toward what the last round managed when a branch came out short, and
//! doubles back up to the plan's `round` when all came out whole. It depends only on earlier
//! draws, so the rounds still follow from the seed and the start states.

use crate::generate::interleave::{self, Interleaved};
use crate::generate::{generate_parallel_mixed, CaseGenerator, GenError};
use crate::hash::mix;
use crate::program::Program;
use crate::spec::{Model, StateMachine};

/// Rounds in a row that may draw nothing before the run gives up: each is drawn from other
/// bits, so a few empty ones can be luck, many mean nothing is safe there.
const EMPTY_ROUNDS: u32 = 64;

/// Keeps the bits between rounds' generators apart from the threads' own streams.
const ROUND_SALT: u64 = 0x524F_554E_4453;

/// Draws the rounds of one run and counts what it drew against what the plan asked.
pub(super) struct Drawer {
    weights: Vec<u32>,
    seed: u64,
    threads: usize,
    /// The branch length asked of the generator next (at most the plan's `round`).
    len: u64,
    /// The plan's `round`.
    most: u64,
    empty: u32,
    /// Operations the plan asked for in the rounds drawn so far, and those drawn.
    pub(super) asked: u64,
    pub(super) drawn: u64,
    pub(super) rounds: u64,
}

impl Drawer {
    pub(super) fn new(weights: Vec<u32>, seed: u64, threads: usize, round: u32) -> Self {
        Drawer {
            weights,
            seed,
            threads,
            len: u64::from(round).max(1),
            most: u64::from(round).max(1),
            empty: 0,
            asked: 0,
            drawn: 0,
            rounds: 0,
        }
    }

    /// Draws round `round`: branch `t` gets at most `quotas[t]` steps, each safe in every
    /// interleaving from every state of `starts` (not empty).
    pub(super) fn draw<M: Model>(
        &mut self,
        round: u64,
        starts: &[M],
        quotas: &[u64],
    ) -> Result<Program<M::Op>, GenError> {
        let most = quotas.iter().copied().max().unwrap_or(0);
        let len = self.len.min(most);
        let mut plan =
            CaseGenerator::new::<M::Op>(mix(self.seed ^ ROUND_SALT ^ mix(round)), (0, 0), false);
        let mut program = generate_parallel_mixed(
            &starts[0],
            &mut plan,
            0,
            self.threads,
            len as usize,
            None,
            Some(&self.weights),
        )?;
        // Cutting a branch's tail keeps every step left safe: any interleaving of the shorter
        // branches extends to one of the longer ones, with the cut steps last.
        for (branch, &q) in program.branches.iter_mut().zip(quotas) {
            branch.truncate(q as usize);
        }
        for start in &starts[1..] {
            safe_from(start, &mut program.branches);
        }
        let drawn: u64 = program.branches.iter().map(|b| b.len() as u64).sum();
        self.asked += quotas.iter().sum::<u64>();
        self.drawn += drawn;
        self.rounds += 1;
        let short =
            (program.branches.iter().zip(quotas)).any(|(b, &q)| (b.len() as u64) < q.min(len));
        self.len = if short {
            (drawn / self.threads as u64).clamp(1, len.max(1))
        } else {
            (len * 2).min(self.most)
        };
        if drawn == 0 {
            self.empty += 1;
            if self.empty >= EMPTY_ROUNDS {
                return Err(GenError::Strategy(format!(
                    "{EMPTY_ROUNDS} rounds in a row drew no operation that runs in every \
                     interleaving from the states the round may start in"
                )));
            }
        } else {
            self.empty = 0;
        }
        Ok(program)
    }

    /// The result's note: how much of the asked rounds was drawn.
    pub(super) fn note(&self) -> String {
        format!(
            "stateprop: {} rounds drawn at the barrier as parallel programs (the mix has rules \
             with a precondition or a `Var` field): {} of the {} operations asked ({:.0}%); the \
             interleaving search's state budget ends branches early",
            self.rounds,
            self.drawn,
            self.asked,
            100.0 * self.drawn as f64 / self.asked.max(1) as f64
        )
    }
}

/// Cuts `branches` until every interleaving runs from `start`: at the step that breaks, or,
/// when the search runs past its budget, the longest branch by half. Each pass shortens a
/// branch, and no branches at all are safe, so it ends.
fn safe_from<M: Model>(start: &M, branches: &mut [Vec<M::Op>]) {
    loop {
        let views: Vec<&[M::Op]> = branches.iter().map(Vec::as_slice).collect();
        match interleave::explore(start, &[], &views, interleave::STATE_BUDGET) {
            Interleaved::Safe => return,
            Interleaved::Broken(at) | Interleaved::Panicked(at, _) => match at.step.branch {
                Some(b) => branches[usize::from(b)].truncate(at.step.index as usize),
                // No prefix: a step outside the branches cannot break; be safe regardless.
                None => branches.iter_mut().for_each(Vec::clear),
            },
            Interleaved::TooMany => {
                let longest = (0..branches.len())
                    .max_by_key(|&b| (branches[b].len(), std::cmp::Reverse(b)))
                    .expect("a search over no branch stays within any budget");
                let half = branches[longest].len() / 2;
                branches[longest].truncate(half);
            }
        }
    }
}

/// Whether a run must draw its rounds here: some rule of the mix is not valid in every state.
pub(super) fn needed<Op: StateMachine>(weights: &[u32]) -> bool {
    Op::checks_args()
        || (Op::rules().iter().zip(weights))
            .any(|(r, &w)| w > 0 && (r.precondition.is_some() || !r.var_fields.is_empty()))
}
