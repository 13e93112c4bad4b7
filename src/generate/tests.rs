//! The rule choice must not change with its representation: programs from a seed are part of
//! the contract (saved seeds, byte-checked reports), so these pin the masks and choices against
//! the table-based formulation they replaced.

use super::rng::{below, mix};
use super::{CaseGenerator, GenError};
use crate::{Model, StateMachine};

/// The swarm drawn with one `bool` per rule, as it was before it became a mask (plus the coin
/// that keeps every rule in half the swarm cases): the case's length, the mask, and the state the
/// choice generator starts from.
fn swarm_as_table(
    seed: u64,
    steps: (usize, usize),
    swarm: bool,
    rules: usize,
) -> (usize, Vec<bool>, u64) {
    let mut state = mix(seed ^ 0x5EED);
    let mut next = || {
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        mix(state)
    };
    let len = steps.0 + below(next(), (steps.1 - steps.0 + 1) as u64) as usize;
    let mut mask = vec![true; rules];
    // Half the swarm cases keep every rule: the first draw's low bit says which.
    if swarm && rules > 1 && next() & 1 == 1 {
        loop {
            let bits = next();
            for (i, m) in mask.iter_mut().enumerate() {
                *m = (bits >> (i % 64)) & 1 == 1;
            }
            if mask.iter().any(|&m| m) {
                break;
            }
        }
    }
    (len, mask, next())
}

#[test]
fn swarm_masks_are_the_per_rule_draws() {
    let mut partial = 0;
    let (mut swarm_cases, mut full) = (0, 0);
    for rules in [1, 2, 3, 7, 63, 64, 65, 130] {
        for seed in 0..300 {
            for swarm in [false, true] {
                let plan = CaseGenerator::for_rules(seed, (1, 50), swarm, rules);
                let (len, mask, choices) = swarm_as_table(seed, (1, 50), swarm, rules);
                assert_eq!(plan.len, len, "{rules} rules, seed {seed}");
                for (rule, &on) in mask.iter().enumerate() {
                    assert_eq!(
                        plan.in_swarm(rule),
                        on,
                        "{rules} rules, seed {seed}, {rule}"
                    );
                }
                assert_eq!(plan.choices, Some(choices), "{rules} rules, seed {seed}");
                let left_out = mask.iter().any(|&m| !m);
                partial += usize::from(left_out);
                if swarm && rules > 1 {
                    swarm_cases += 1;
                    full += usize::from(!left_out);
                }
            }
        }
    }
    // Not vacuous: swarm left rules out of many cases.
    assert!(partial > 1000, "{partial}");
    // At least half the swarm cases (about half, plus the subsets that drew every rule) keep every
    // rule: no bug is less than half as likely per case as without swarm.
    assert!(
        full * 100 >= swarm_cases * 48 && full * 100 <= swarm_cases * 62,
        "{full} of {swarm_cases} swarm cases kept every rule"
    );
}

#[derive(Debug, Clone, Default)]
struct Dial {
    n: u8,
}

/// Weighted rules whose preconditions switch on and off with the dial; at 5 none holds.
#[derive(Debug, Clone, StateMachine)]
#[state_machine(model = Dial)]
enum DialOp {
    #[rule(weight = 3, precondition = |m: &Dial| m.n < 10 && m.n != 5)]
    Up,
    #[rule(precondition = |m: &Dial| m.n > 0 && m.n != 5)]
    Down,
    #[rule(weight = 2, precondition = |m: &Dial| m.n % 2 == 1 && m.n != 5)]
    Odd,
    #[rule(precondition = |m: &Dial| m.n != 5)]
    Any,
}

impl Model for Dial {
    type Op = DialOp;
    type Output = u8;

    fn step(&mut self, op: &DialOp) -> u8 {
        match op {
            DialOp::Up => self.n += 1,
            DialOp::Down => self.n -= 1,
            DialOp::Odd | DialOp::Any => {}
        }
        self.n
    }
}

#[test]
fn mask_and_table_choose_the_same_rules() {
    let mut chosen = [0u32; 4];
    let mut none_enabled = 0;
    for seed in 0..200 {
        for swarm in [false, true] {
            let mut mask = CaseGenerator::new::<DialOp>(seed, (1, 50), swarm);
            let mut table = CaseGenerator::new::<DialOp>(seed, (1, 50), swarm);
            for n in (0..=12).cycle().take(40) {
                let model = Dial { n };
                let weight = CaseGenerator::weight::<Dial>;
                let a = mask.draw_rule_small(&model, &[], |_| true, weight);
                let b = table.draw_rule_large(&model, &[], |_| true, weight);
                match (a, b) {
                    (Ok(a), Ok(b)) => {
                        assert_eq!(a, b, "seed {seed}, swarm {swarm}, n {n}");
                        assert!(DialOp::enabled(a, &model, &[]), "rule {a} at n {n}");
                        chosen[a] += 1;
                    }
                    (Err(GenError::NoRuleEnabled(_)), Err(GenError::NoRuleEnabled(_))) => {
                        assert_eq!(n, 5);
                        none_enabled += 1;
                    }
                    (a, b) => panic!("seed {seed}, swarm {swarm}, n {n}: {a:?} against {b:?}"),
                }
                // The same bits drawn: the next choice starts from the same state.
                assert_eq!(mask.choices, table.choices, "seed {seed}, n {n}");
            }
        }
    }
    assert!(chosen.iter().all(|&c| c > 100), "{chosen:?}");
    assert!(none_enabled > 0);
}

/// Handles that a close uses up (`#[consumes]`), for the parallel generation tests below (and
/// the shrinker's repair tests).
#[derive(Debug, Clone, Default)]
pub(crate) struct Handles {
    next: u32,
}

#[derive(Debug, Clone, PartialEq, crate::StateMachine)]
#[state_machine(model = Handles)]
pub(crate) enum HandleOp {
    Open,
    Use {
        h: crate::Var<u32>,
    },
    Close {
        #[consumes]
        h: crate::Var<u32>,
    },
}

impl Model for Handles {
    type Op = HandleOp;
    type Output = Option<u32>;
    fn step(&mut self, op: &HandleOp) -> Option<u32> {
        match op {
            HandleOp::Open => {
                self.next += 1;
                Some(self.next)
            }
            HandleOp::Use { .. } | HandleOp::Close { .. } => None,
        }
    }
}

#[test]
fn a_prefix_result_one_branch_consumes_is_named_by_no_other_branch() {
    use crate::program::StepId;
    let var = |op: &HandleOp| match op {
        HandleOp::Use { h } | HandleOp::Close { h } => Some(h.id()),
        HandleOp::Open => None,
    };
    // Not vacuous: branches do close prefix handles, and do share the ones nobody closes.
    let (mut closed_in_branch, mut shared_uses) = (0, 0);
    for seed in 0..300 {
        let mut plan = CaseGenerator::new::<HandleOp>(seed, (1, 1), false);
        let program =
            super::generate_parallel(&Handles::default(), &mut plan, 4, 3, 6, None).unwrap();
        let mut prefix_closed = Vec::new();
        for op in &program.prefix {
            assert!(
                !var(op).is_some_and(|id| prefix_closed.contains(&id)),
                "{program:?}"
            );
            if let HandleOp::Close { h } = op {
                prefix_closed.push(h.id());
            }
        }
        // Within a branch, as in a sequence: nothing names what an earlier step closed.
        for ops in &program.branches {
            let mut closed = prefix_closed.clone();
            for op in ops {
                assert!(
                    !var(op).is_some_and(|id| closed.contains(&id)),
                    "{program:?}"
                );
                if let HandleOp::Close { h } = op {
                    closed.push(h.id());
                }
            }
        }
        // Across branches: a prefix handle one branch closes appears in no other branch.
        let names = |b: usize, id: StepId| program.branches[b].iter().any(|op| var(op) == Some(id));
        for (b, ops) in program.branches.iter().enumerate() {
            for op in ops {
                let HandleOp::Close { h } = op else { continue };
                if h.id().branch.is_some() {
                    continue;
                }
                closed_in_branch += 1;
                for other in (0..program.branches.len()).filter(|&o| o != b) {
                    assert!(
                        !names(other, h.id()),
                        "branch {b} closes {} which branch {other} names: {program:?}",
                        h.id()
                    );
                }
            }
        }
        let prefix_ids = (0..program.prefix.len()).map(StepId::prefix);
        shared_uses += prefix_ids
            .filter(|&id| {
                (0..program.branches.len())
                    .filter(|&b| names(b, id))
                    .count()
                    >= 2
            })
            .count();
        super::check_program(&Handles::default(), &program).unwrap();
    }
    assert!(closed_in_branch > 100, "{closed_in_branch} prefix closes");
    assert!(
        shared_uses > 50,
        "{shared_uses} prefix handles used by two branches"
    );
}

#[test]
fn validation_refuses_a_prefix_handle_consumed_in_one_branch_and_named_in_another() {
    use super::validate::Reason;
    use crate::{Program, StepId, Var};
    let (open, close, use_) = (
        HandleOp::Open,
        |at| HandleOp::Close { h: Var::at(at) },
        |at| HandleOp::Use { h: Var::at(at) },
    );
    let refused = |branches: Vec<Vec<HandleOp>>| {
        let program = Program::parallel(vec![open.clone(), open.clone()], branches);
        super::check_program(&Handles::default(), &program).unwrap_err()
    };
    // Closed in branch 0, used in branch 1.
    let invalid = refused(vec![vec![close(0)], vec![use_(1), use_(0)]]);
    assert_eq!(invalid.step, StepId::in_branch(1, 1), "{invalid}");
    assert!(
        matches!(invalid.reason, Reason::ConsumedElsewhere { var, other, consumes: false }
            if var == StepId::prefix(0) && other == StepId::in_branch(0, 0)),
        "{invalid}"
    );
    let message = invalid.to_string();
    assert!(
        message.starts_with("branch 1 step 1, HandleOp::Use { h: Var::at(0) }, has a `Var` naming step 0, whose result branch 0 step 0"),
        "{message}"
    );
    // Used in branch 0, closed in branch 1; closed in both.
    let invalid = refused(vec![vec![use_(0)], vec![close(0)]]);
    assert!(
        matches!(
            invalid.reason,
            Reason::ConsumedElsewhere { consumes: true, .. }
        ),
        "{invalid}"
    );
    assert!(
        invalid.to_string().contains("uses up the result of step 0"),
        "{invalid}"
    );
    let invalid = refused(vec![vec![close(0)], vec![close(0)]]);
    assert_eq!(invalid.step, StepId::in_branch(1, 0), "{invalid}");
    // Different handles, or one branch both using and closing: fine.
    for branches in [
        vec![vec![close(0)], vec![use_(1), close(1)]],
        vec![vec![use_(0), close(0)], vec![use_(1)]],
        vec![vec![use_(0)], vec![use_(0)]],
    ] {
        let program = Program::parallel(vec![open.clone(), open.clone()], branches);
        super::check_program(&Handles::default(), &program).unwrap();
    }
}

mod interleavings;
pub(crate) use interleavings::{Pile, PileOp};

#[test]
fn a_mix_replaces_the_weights_and_a_zero_weight_is_never_chosen() {
    let mut plan = CaseGenerator::new::<DialOp>(3, (1, 50), false);
    let rules = DialOp::rules().len();
    // Only the last rule weighs anything: every draw where it is enabled picks it.
    let mut mix = vec![0u32; rules];
    mix[rules - 1] = 1;
    let mut picked = 0;
    for n in (0..=12).cycle().take(200) {
        let model = Dial { n };
        if !DialOp::enabled(rules - 1, &model, &[]) {
            continue;
        }
        let op = plan.next_op_mixed(&model, &[], &mix, |_| true).unwrap();
        assert_eq!(op.rule_index(), rules - 1, "at n {n}");
        picked += 1;
    }
    assert!(picked > 0);
}
