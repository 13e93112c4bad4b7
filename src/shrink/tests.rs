//! The shrinker on parallel programs, judged by synthetic properties over the program's shape
//! (no system runs: what is tested is which candidates the passes make and keep).

use super::repair::repair;
use super::{Judgement, Shrinker, Shrunk};
use crate::failure::{Failure, FailureKind};
use crate::generate::check_program;
use crate::generate::{generate_parallel, CaseGenerator, ProgramTrees};
use crate::program::{Program, StepId};
use crate::{Model, StateMachine, Var};
use proptest::prelude::*;
use std::cell::Cell;
use std::time::Duration;

mod passes;

#[derive(Debug, Clone, Default)]
struct Tally {
    opened: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, StateMachine)]
#[state_machine(model = Tally)]
enum TallyOp {
    #[rule(weight = 2)]
    Incr,
    Setup,
    #[rule(weight = 3)]
    Noise {
        #[strategy(0..50u32)]
        n: u32,
    },
    Open,
    Use {
        id: Var<u32>,
    },
}

impl Model for Tally {
    type Op = TallyOp;
    type Output = Option<u32>;

    fn step(&mut self, op: &TallyOp) -> Option<u32> {
        match op {
            TallyOp::Open => {
                self.opened += 1;
                Some(self.opened)
            }
            _ => None,
        }
    }
}

use TallyOp::{Incr, Noise, Open, Setup, Use};

fn has(ops: &[TallyOp], op: &TallyOp) -> bool {
    ops.iter().any(|o| o == op)
}

/// The race of the tests: branches 0 and 1 each increment.
fn both_incr(p: &Program<TallyOp>) -> bool {
    p.branches.len() >= 2 && has(&p.branches[0], &Incr) && has(&p.branches[1], &Incr)
}

fn failure() -> Failure {
    Failure {
        step: None,
        op: None,
        kind: FailureKind::Invariant {
            message: "the race".to_string(),
        },
    }
}

/// A property that fails where `fails` says, after checking that the candidate is one the
/// generator could have made (the shrinker must never hand out anything else).
fn judge(fails: impl Fn(&Program<TallyOp>) -> bool) -> impl Fn(&Program<TallyOp>) -> Judgement {
    move |p| {
        if let Err(invalid) = check_program(&Tally::default(), p) {
            panic!("the shrinker ran an ill-formed candidate: {invalid}\n{p:?}");
        }
        Judgement::once(fails(p).then(failure))
    }
}

/// A generated program (and its trees) of the first seed from `seed` on for which `keep` holds.
fn generated(
    first: u64,
    shape: (usize, usize, usize),
    keep: impl Fn(&Program<TallyOp>) -> bool,
) -> (Program<TallyOp>, ProgramTrees) {
    for seed in first..first + 10_000 {
        let (prefix, branches, len) = shape;
        let mut plan = CaseGenerator::new::<TallyOp>(seed, (1, 1), false);
        let mut trees = Program::sequential(Vec::new());
        let program = generate_parallel(
            &Tally::default(),
            &mut plan,
            prefix,
            branches,
            len,
            Some(&mut trees),
        )
        .expect("generates");
        if keep(&program) {
            return (program, trees);
        }
    }
    panic!("no seed of 10000 from {first} generates the program the test needs");
}

fn shrink(
    property: &dyn Fn(&Program<TallyOp>) -> Judgement,
    reruns: u32,
    program: Program<TallyOp>,
    trees: ProgramTrees,
) -> Shrunk<TallyOp> {
    let never = || false;
    Shrinker::new(
        &Tally::default(),
        property,
        &never,
        Duration::from_secs(60),
        100_000,
    )
    .reruns(reruns)
    .shrink_program(program, trees, None, failure())
}

/// Asserts that no single deletion of `p` still fails `fails` (after repair, as the shrinker
/// would run it).
fn assert_one_minimal(p: &Program<TallyOp>, fails: impl Fn(&Program<TallyOp>) -> bool) {
    for (id, _) in p.steps() {
        let mut plan = p.ids();
        match id.branch {
            None => plan.prefix.retain(|&s| s != id),
            Some(b) => plan.branches[usize::from(b)].retain(|&s| s != id),
        }
        let smaller = repair(&Tally::default(), p, &plan, &[]).program;
        assert!(!fails(&smaller), "deleting {id} of {p:?} still fails");
    }
}

#[test]
fn a_three_branch_race_shrinks_to_one_incr_in_each_of_two_branches() {
    let (program, trees) = generated(1, (25, 3, 8), |p| {
        both_incr(p) && has(&p.branches[2], &Incr) && has(&p.prefix, &Incr)
    });
    assert!(program.len() > 40, "{program:?}");
    let property = judge(both_incr);
    let shrunk = shrink(&property, 1, program, trees);
    assert_eq!(
        shrunk.program,
        Program::parallel(vec![], vec![vec![Incr], vec![Incr]])
    );
    assert_one_minimal(&shrunk.program, both_incr);
    assert_eq!(shrunk.stats.steps_after, 2);
    assert!(!shrunk.stats.budget_exhausted);
}

#[test]
fn a_step_both_branches_need_moves_into_the_prefix() {
    // Fails once a `Setup` has run anywhere and each of two branches increments; the generated
    // program has no prefix, so the `Setup` starts in a branch.
    let fails = |p: &Program<TallyOp>| both_incr(p) && p.steps().any(|(_, op)| *op == Setup);
    let (program, trees) = generated(7, (0, 3, 10), |p| {
        fails(p) && !has(&p.branches[0], &Setup) && !has(&p.branches[1], &Setup)
    });
    let property = judge(fails);
    let shrunk = shrink(&property, 1, program, trees);
    assert_eq!(
        shrunk.program,
        Program::parallel(vec![Setup], vec![vec![Incr], vec![Incr]])
    );
    assert_one_minimal(&shrunk.program, fails);
}

#[test]
fn a_race_that_fails_every_other_run_still_shrinks_with_four_reruns_and_gives_its_rate() {
    let calls = Cell::new(0u32);
    let judged = judge(both_incr);
    let flaky = |p: &Program<TallyOp>| {
        calls.set(calls.get() + 1);
        let mut j = judged(p);
        if calls.get() % 2 == 1 {
            j = Judgement::once(None);
        }
        j
    };
    let (program, trees) = generated(3, (10, 3, 6), both_incr);
    let shrunk = shrink(&flaky, 4, program, trees);
    assert_eq!(
        shrunk.program,
        Program::parallel(vec![], vec![vec![Incr], vec![Incr]])
    );
    let (failures, runs) = shrunk.reproduced.expect("the final program ran");
    assert_eq!(runs, 4);
    // Consecutive runs alternate: of four, two fail, or three if the first of them did.
    assert!((2..=3).contains(&failures), "{failures} of {runs}");
    assert_eq!(shrunk.stats.runs, u64::from(calls.get()));
}

#[test]
fn judgements_of_several_runs_count_every_run() {
    let calls = Cell::new(0u64);
    let judged = judge(both_incr);
    // An executor that repeats each program three times itself, failing two of them.
    let repeated = |p: &Program<TallyOp>| {
        calls.set(calls.get() + 1);
        let j = judged(p);
        let failures = if j.failure.is_some() { 2 } else { 0 };
        Judgement {
            failure: j.failure,
            runs: 3,
            failures,
        }
    };
    let (program, trees) = generated(3, (10, 3, 6), both_incr);
    // Reruns 6: a passing candidate is judged twice (3 + 3 runs), a failing one once.
    let shrunk = shrink(&repeated, 6, program, trees);
    assert_eq!(
        shrunk.program,
        Program::parallel(vec![], vec![vec![Incr], vec![Incr]])
    );
    assert_eq!(shrunk.stats.runs, 3 * calls.get());
    assert_eq!(shrunk.reproduced, Some((4, 6)));
}

#[test]
fn deleting_a_step_renames_only_its_own_sequence_and_drops_what_named_it() {
    let program = Program::parallel(
        vec![Open],
        vec![
            vec![
                Open,
                Use {
                    id: Var::in_branch(0, 0),
                },
                Noise { n: 1 },
            ],
            vec![
                Noise { n: 2 },
                Open,
                Use {
                    id: Var::in_branch(1, 1),
                },
                Use { id: Var::at(0) },
            ],
        ],
    );
    check_program(&Tally::default(), &program).expect("well formed");
    // Delete branch 0's `Open` and branch 1's first `Noise`.
    let mut plan = program.ids();
    plan.branches[0].remove(0);
    plan.branches[1].remove(0);
    let repaired = repair(&Tally::default(), &program, &plan, &[]);
    assert_eq!(
        repaired.program,
        Program::parallel(
            vec![Open],
            vec![
                // The `Use` naming the deleted `Open` is gone with it.
                vec![Noise { n: 1 }],
                vec![
                    Open,
                    Use {
                        id: Var::in_branch(1, 0)
                    },
                    Use { id: Var::at(0) }
                ],
            ],
        )
    );
    check_program(&Tally::default(), &repaired.program).expect("still well formed");
    // Each kept step says where it came from.
    assert_eq!(repaired.kept.branches[0], vec![StepId::in_branch(0, 2)]);
    // Dropping branch 0 renumbers branch 1 and the vars naming its steps.
    let mut plan = program.ids();
    plan.branches.remove(0);
    let repaired = repair(&Tally::default(), &program, &plan, &[]);
    assert_eq!(
        repaired.program.branches,
        vec![vec![
            Noise { n: 2 },
            Open,
            Use {
                id: Var::in_branch(0, 1)
            },
            Use { id: Var::at(0) }
        ]]
    );
    // Moving branch 1's `Open` to the prefix turns the var naming it into a prefix var.
    let mut plan = program.ids();
    let moved = plan.branches[1].remove(1);
    plan.prefix.push(moved);
    let repaired = repair(&Tally::default(), &program, &plan, &[]);
    assert_eq!(repaired.program.prefix, vec![Open, Open]);
    assert_eq!(
        repaired.program.branches[1],
        vec![
            Noise { n: 2 },
            Use { id: Var::at(1) },
            Use { id: Var::at(0) }
        ]
    );
    check_program(&Tally::default(), &repaired.program).expect("still well formed");
}

#[test]
fn vars_in_branches_stay_valid_while_other_branches_shrink() {
    // Fails when each of branches 0 and 1 uses a result its own branch opened.
    let uses_own = |ops: &[TallyOp]| {
        ops.iter()
            .any(|op| matches!(op, Use { id } if id.id().branch.is_some()))
    };
    let fails = |p: &Program<TallyOp>| {
        p.branches.len() >= 2 && uses_own(&p.branches[0]) && uses_own(&p.branches[1])
    };
    let (program, trees) = generated(11, (6, 3, 12), |p| {
        fails(p) && p.branches.iter().all(|b| b.len() == 12)
    });
    let property = judge(fails);
    let shrunk = shrink(&property, 1, program, trees);
    assert_eq!(
        shrunk.program,
        Program::parallel(
            vec![],
            vec![
                vec![
                    Open,
                    Use {
                        id: Var::in_branch(0, 0)
                    }
                ],
                vec![
                    Open,
                    Use {
                        id: Var::in_branch(1, 0)
                    }
                ],
            ]
        )
    );
    assert_one_minimal(&shrunk.program, fails);
}

#[test]
fn arguments_of_branch_steps_shrink_through_their_trees() {
    // Fails when branch 0 increments while branch 1 makes noise of at least 10.
    let loud = |ops: &[TallyOp]| ops.iter().any(|op| matches!(op, Noise { n } if *n >= 10));
    let fails = |p: &Program<TallyOp>| {
        p.branches.len() >= 2 && has(&p.branches[0], &Incr) && loud(&p.branches[1])
    };
    let shape = (5, 3, 8);
    let (program, trees) = generated(21, shape, |p| {
        fails(p)
            && p.branches[1]
                .iter()
                .all(|op| !matches!(op, Noise { n: 10 }))
    });
    let seed = (21..)
        .find(|&s| generated(s, shape, |_| true).0 == program)
        .expect("found above");
    // Fresh trees of the original program, as the runner makes them from the case's seed.
    let regenerate = || generated(seed, shape, |_| true).1;
    let property = judge(fails);
    let never = || false;
    let shrunk = Shrinker::new(
        &Tally::default(),
        &property,
        &never,
        Duration::from_secs(60),
        100_000,
    )
    .shrink_program(program, trees, Some(&regenerate), failure());
    assert_eq!(
        shrunk.program,
        Program::parallel(vec![], vec![vec![Incr], vec![Noise { n: 10 }]])
    );
}

#[test]
fn vars_of_branch_steps_are_pointed_at_earlier_results() {
    // Fails when branches 0 and 1 each use a result of the prefix: with both pointed at the
    // same `Open`, the other `Open` can go.
    let uses_prefix = |ops: &[TallyOp]| {
        ops.iter()
            .any(|op| matches!(op, Use { id } if id.id().branch.is_none()))
    };
    let fails = |p: &Program<TallyOp>| {
        p.branches.len() >= 2 && uses_prefix(&p.branches[0]) && uses_prefix(&p.branches[1])
    };
    let program = Program::parallel(
        vec![Open, Noise { n: 3 }, Open],
        vec![
            vec![Incr, Use { id: Var::at(0) }],
            vec![Use { id: Var::at(2) }, Setup],
        ],
    );
    let trees = program.ids().map(|_| Vec::new());
    let property = judge(fails);
    let shrunk = shrink(&property, 1, program, trees);
    assert_eq!(
        shrunk.program,
        Program::parallel(
            vec![Open],
            vec![vec![Use { id: Var::at(0) }], vec![Use { id: Var::at(0) }]]
        )
    );
    assert_one_minimal(&shrunk.program, fails);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn generated_branches_name_only_the_prefix_and_their_own_earlier_steps(
        seed in any::<u64>(),
        prefix in 0..6usize,
        branches in 1..5usize,
        len in 1..8usize,
    ) {
        let mut plan = CaseGenerator::new::<TallyOp>(seed, (1, 1), true);
        let mut trees = Program::sequential(Vec::new());
        let program = generate_parallel(
            &Tally::default(), &mut plan, prefix, branches, len, Some(&mut trees),
        ).expect("generates");
        prop_assert_eq!(program.prefix.len(), prefix);
        prop_assert_eq!(program.branches.len(), branches);
        prop_assert!(trees.same_shape(&program));
        for (at, op) in program.steps() {
            if let Use { id } = op {
                let id = id.id();
                let visible = match (at.branch, id.branch) {
                    (_, None) => (id.index as usize) < prefix,
                    (Some(b), Some(v)) => b == v && id.index < at.index,
                    (None, Some(_)) => false,
                };
                prop_assert!(visible, "{} names {}", at, id);
            }
        }
        prop_assert!(check_program(&Tally::default(), &program).is_ok());
    }
}

/// Handles a close uses up (`#[consumes]`), for the repair tests below.
#[derive(Debug, Clone, Default)]
struct Slots {
    next: u32,
}

#[derive(Debug, Clone, PartialEq, crate::StateMachine)]
#[state_machine(model = Slots)]
enum SlotOp {
    Open,
    Use {
        h: Var<u32>,
    },
    Close {
        #[consumes]
        h: Var<u32>,
    },
}

impl Model for Slots {
    type Op = SlotOp;
    type Output = Option<u32>;
    fn step(&mut self, op: &SlotOp) -> Option<u32> {
        match op {
            SlotOp::Open => {
                self.next += 1;
                Some(self.next)
            }
            SlotOp::Use { .. } | SlotOp::Close { .. } => None,
        }
    }
}

#[test]
fn repair_drops_a_step_naming_a_consumed_result_and_keeps_it_once_the_consumer_goes() {
    use SlotOp::{Close as Shut, Open as Make, Use as Touch};
    let program = Program::sequential(vec![
        Make,
        Shut { h: Var::at(0) },
        Make,
        Touch { h: Var::at(2) },
    ]);
    // Pointing the use at the closed handle: the repair drops it.
    let redirect = [(StepId::prefix(3), Touch { h: Var::at(0) })];
    let repaired = repair(&Slots::default(), &program, &program.ids(), &redirect);
    assert_eq!(
        repaired.program.prefix,
        vec![Make, Shut { h: Var::at(0) }, Make]
    );
    // Without the close, the handle is usable again.
    let mut plan = program.ids();
    plan.prefix.retain(|&s| s != StepId::prefix(1));
    let repaired = repair(&Slots::default(), &program, &plan, &redirect);
    assert_eq!(
        repaired.program.prefix,
        vec![Make, Make, Touch { h: Var::at(0) }]
    );
    check_program(&Slots::default(), &repaired.program).expect("well formed");
}

#[test]
fn a_close_moved_into_the_prefix_consumes_for_every_branch() {
    use SlotOp::{Close as Shut, Open as Make, Use as Touch};
    let program = Program::parallel(
        vec![Make],
        vec![vec![Shut { h: Var::at(0) }], vec![Touch { h: Var::at(0) }]],
    );
    // Not a program generation makes (a prefix handle one branch closes is named by no other
    // branch), but one a plan may start from: the repair must still make it well formed.
    assert!(check_program(&Slots::default(), &program).is_err());
    // Branch 0's close moves to the end of the prefix; branch 1 can no longer use the handle.
    let plan = Program::parallel(
        vec![StepId::prefix(0), StepId::in_branch(0, 0)],
        vec![vec![StepId::in_branch(1, 0)]],
    );
    let repaired = repair(&Slots::default(), &program, &plan, &[]);
    assert_eq!(repaired.program.prefix, vec![Make, Shut { h: Var::at(0) }]);
    assert!(
        repaired.program.branches.is_empty(),
        "{:?}",
        repaired.program
    );
    check_program(&Slots::default(), &repaired.program).expect("well formed");
}

#[test]
fn branches_end_in_the_simpler_order_when_both_orders_fail() {
    // Fails when one branch increments and another sets up, in whichever order: the report
    // should not depend on which branch the generator put first.
    let fails = |p: &Program<TallyOp>| {
        p.branches.len() == 2
            && p.branches.iter().any(|b| has(b, &Incr))
            && p.branches.iter().any(|b| has(b, &Setup))
    };
    let property = judge(fails);
    let program = Program::parallel(vec![], vec![vec![Setup], vec![Incr]]);
    let trees = program.ids().map(|_| Vec::new());
    let shrunk = shrink(&property, 1, program, trees);
    // `Incr` is the shorter text, so its branch comes first.
    assert_eq!(
        shrunk.program,
        Program::parallel(vec![], vec![vec![Incr], vec![Setup]])
    );
    // Where only one order fails, that order stays.
    let only_setup_first = |p: &Program<TallyOp>| {
        p.branches.len() == 2 && has(&p.branches[0], &Setup) && has(&p.branches[1], &Incr)
    };
    let property = judge(only_setup_first);
    let program = Program::parallel(vec![], vec![vec![Setup], vec![Incr]]);
    let trees = program.ids().map(|_| Vec::new());
    let shrunk = shrink(&property, 1, program.clone(), trees);
    assert_eq!(shrunk.program, program);
}

#[test]
fn ordering_branches_copes_with_a_swap_that_loses_an_empty_branch() {
    // The repair drops the empty third branch from the swapped candidate, so the program has
    // one branch fewer after the swap than when the pass began.
    let start = Program::parallel(vec![], vec![vec![Setup], vec![Incr], vec![]]);
    let end = Program::parallel(vec![], vec![vec![Incr], vec![Setup]]);
    let (a, b) = (start.clone(), end.clone());
    let property = move |p: &Program<TallyOp>| Judgement::once((*p == a || *p == b).then(failure));
    let trees = start.ids().map(|_| Vec::new());
    let shrunk = shrink(&property, 1, start, trees);
    assert_eq!(shrunk.program, end);
}
