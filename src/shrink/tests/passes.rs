//! Passes past 1-minimal and canonical arguments, on a machine with integer, bool and `Var`
//! arguments. Each test builds the program and its value trees by hand, and most run one pass
//! alone, so what is tested is that pass.

use super::{failure, Judgement};
use crate::generate::check_program;
use crate::generate::{ArgTree, ProgramTrees, TreeBox};
use crate::program::Program;
use crate::shrink::{simpler_program, Current, Shrinker, Shrunk};
use crate::{Model, StateMachine, Var};
use proptest::prelude::*;
use std::time::Duration;

#[derive(Debug, Clone, Default)]
struct Shelf {
    made: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, StateMachine)]
#[state_machine(model = Shelf)]
enum ShelfOp {
    Put {
        #[strategy(0..10u8)]
        key: u8,
        flag: bool,
    },
    Make,
    Use {
        h: Var<u32>,
    },
}

impl Model for Shelf {
    type Op = ShelfOp;
    type Output = Option<u32>;

    fn step(&mut self, op: &ShelfOp) -> Option<u32> {
        match op {
            ShelfOp::Make => {
                self.made += 1;
                Some(self.made)
            }
            _ => None,
        }
    }
}

fn put(key: u8, flag: bool) -> ShelfOp {
    ShelfOp::Put { key, flag }
}

fn use_(step: usize) -> ShelfOp {
    ShelfOp::Use { h: Var::at(step) }
}

fn keys(p: &Program<ShelfOp>) -> Vec<u8> {
    p.prefix
        .iter()
        .filter_map(|op| match op {
            ShelfOp::Put { key, .. } => Some(*key),
            _ => None,
        })
        .collect()
}

/// Value trees of a `Put`'s arguments at `key` and `flag`, shrinking as the strategies' do.
fn put_trees(key: u8, flag: bool) -> Vec<Box<dyn ArgTree>> {
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let flag_tree = proptest::bool::weighted(if flag { 1.0 } else { 0.0 })
        .new_tree(&mut runner)
        .expect("a bool tree");
    vec![
        Box::new(TreeBox::<u8>(Box::new(
            proptest::num::u8::BinarySearch::new(key),
        ))),
        Box::new(TreeBox::<bool>(Box::new(flag_tree))),
    ]
}

/// The trees of every step of a sequential `program` (none for steps other than `Put`).
fn shelf_trees(program: &[ShelfOp]) -> ProgramTrees {
    Program::sequential(
        program
            .iter()
            .map(|op| match op {
                ShelfOp::Put { key, flag } => put_trees(*key, *flag),
                _ => Vec::new(),
            })
            .collect(),
    )
}

fn shelf_judge(
    fails: impl Fn(&Program<ShelfOp>) -> bool,
) -> impl Fn(&Program<ShelfOp>) -> Judgement {
    move |p| {
        if let Err(invalid) = check_program(&Shelf::default(), p) {
            panic!("the shrinker ran an ill-formed candidate: {invalid}\n{p:?}");
        }
        Judgement::once(fails(p).then(failure))
    }
}

/// Shrinks the sequential `program` to the end, with fresh trees made as the runner would.
fn shrink_shelf(
    fails: impl Fn(&Program<ShelfOp>) -> bool,
    program: Vec<ShelfOp>,
) -> Shrunk<ShelfOp> {
    let property = shelf_judge(fails);
    let never = || false;
    let original = program.clone();
    let regenerate = move || shelf_trees(&original);
    let trees = shelf_trees(&program);
    Shrinker::new(
        &Shelf::default(),
        &property,
        &never,
        Duration::from_secs(60),
        100_000,
    )
    .shrink_program(
        Program::sequential(program),
        trees,
        Some(&regenerate),
        failure(),
    )
}

/// Runs one pass on the sequential `program`, as the shrinker would once the cheap passes stop;
/// returns whether it adopted a candidate, the program after it, and the runs it made.
fn one_pass(
    fails: impl Fn(&Program<ShelfOp>) -> bool,
    program: Vec<ShelfOp>,
    pass: impl FnOnce(&mut Shrinker<'_, Shelf>, &mut Current<ShelfOp>) -> bool,
) -> (bool, Program<ShelfOp>, u64) {
    let property = shelf_judge(fails);
    let never = || false;
    let initial = Shelf::default();
    let mut shrinker = Shrinker::new(
        &initial,
        &property,
        &never,
        Duration::from_secs(60),
        100_000,
    );
    shrinker.simplest = shelf_trees(&program).map(|trees| {
        trees
            .into_iter()
            .map(crate::shrink::values::simplest_of)
            .collect()
    });
    let trees = shelf_trees(&program);
    let program = Program::sequential(program);
    let mut cur = Current {
        origin: program.ids(),
        values: trees.ids().map(|id| {
            trees
                .get(id)
                .map(|t| t.iter().map(|t| t.key()).collect())
                .unwrap_or_default()
        }),
        program,
        trees,
        failure: failure(),
    };
    let adopted = pass(&mut shrinker, &mut cur);
    (adopted, cur.program, shrinker.stats.runs)
}

#[test]
fn a_bool_nothing_needs_ends_false_though_false_is_the_longer_text() {
    // Fails while some key is at least 3; the flag does not matter.
    let fails = |p: &Program<ShelfOp>| keys(p).iter().any(|&k| k >= 3);
    let shrunk = shrink_shelf(fails, vec![put(7, true), ShelfOp::Make, put(1, true)]);
    assert_eq!(shrunk.program, Program::sequential(vec![put(3, false)]));
}

#[test]
fn the_order_counts_arguments_away_from_their_simplest_value_before_text() {
    let a = Program::sequential(vec![put(3, false)]);
    let b = Program::sequential(vec![put(3, true)]);
    // By text alone `true` is simpler; one argument fewer away from its simplest value decides.
    assert!(simpler_program(&b, &a));
    assert!(crate::shrink::order::simpler_by_values(&a, &b, -1));
    assert!(!crate::shrink::order::simpler_by_values(&b, &a, 1));
    // Fewer steps come first, whatever the values.
    let short = Program::sequential(vec![put(9, true)]);
    let long = Program::sequential(vec![put(0, false), put(0, false)]);
    assert!(crate::shrink::order::simpler_by_values(&short, &long, 2));
}

#[test]
fn renumbering_puts_keys_in_first_use_order() {
    // Fails when the first and last keys are equal and the middle one differs: 5, 2, 5.
    let fails = |p: &Program<ShelfOp>| {
        let k = keys(p);
        k.len() == 3 && k[0] == k[2] && k[0] != k[1]
    };
    let (adopted, program, runs) = one_pass(
        fails,
        vec![put(5, false), put(2, false), put(5, false)],
        |s, c| s.renumber(c),
    );
    assert!(adopted);
    assert_eq!(keys(&program), [0, 1, 0]);
    assert_eq!(runs, 1, "one candidate renumbers every key at once");
}

#[test]
fn lowering_jointly_keeps_two_keys_one_apart() {
    // Fails when the first key is exactly one above the second: neither can drop alone.
    let fails = |p: &Program<ShelfOp>| {
        let k = keys(p);
        k.len() == 2 && k[0] == k[1] + 1
    };
    let start = vec![put(9, false), put(8, false)];
    let (adopted, program, _) = one_pass(fails, start.clone(), |s, c| s.lower_jointly(c));
    assert!(adopted);
    assert_eq!(keys(&program), [1, 0]);
    // The passes of one argument at a time cannot get there.
    let (adopted, _, _) = one_pass(fails, start, |s, c| s.shrink_args(c, None));
    assert!(!adopted);
}

#[test]
fn swapping_puts_the_smaller_value_first() {
    let fails = |p: &Program<ShelfOp>| {
        let k = keys(p);
        k.len() == 2 && k[0] != k[1]
    };
    let (adopted, program, _) = one_pass(fails, vec![put(1, false), put(0, false)], |s, c| {
        s.swap_values(c)
    });
    assert!(adopted);
    assert_eq!(keys(&program), [0, 1]);
}

/// How many `Use`s name each step of `p`.
fn uses(p: &Program<ShelfOp>) -> Vec<usize> {
    let mut n = vec![0; p.prefix.len()];
    for op in &p.prefix {
        if let ShelfOp::Use { h } = op {
            n[h.id().index as usize] += 1;
        }
    }
    n
}

#[test]
fn merging_producers_points_every_use_at_one_handle_and_deletes_the_other() {
    // Fails with one handle used three times, or with two handles, the first used once and the
    // second twice; moving one use at a time, or deleting one step, loses it.
    let fails = |p: &Program<ShelfOp>| {
        let makes = p.prefix.iter().filter(|op| **op == ShelfOp::Make).count();
        let u = uses(p);
        (makes == 1 && u[0] == 3) || (makes == 2 && u[0] == 1 && u[1] == 2)
    };
    let start = vec![ShelfOp::Make, ShelfOp::Make, use_(0), use_(1), use_(1)];
    let (adopted, _, _) = one_pass(fails, start.clone(), |s, c| s.shrink_vars(c));
    assert!(
        !adopted,
        "a single redirection must not be enough for this test"
    );
    let (adopted, _, _) = one_pass(fails, start.clone(), |s, c| s.delete_chunks(c));
    assert!(!adopted, "the program must be 1-minimal for this test");
    let (adopted, program, _) = one_pass(fails, start.clone(), |s, c| s.merge_producers(c));
    assert!(adopted);
    assert_eq!(
        program,
        Program::sequential(vec![ShelfOp::Make, use_(0), use_(0), use_(0)])
    );
    let shrunk = shrink_shelf(fails, start);
    assert_eq!(shrunk.program, program);
}

#[test]
fn deleting_pairs_removes_an_operation_and_its_inverse() {
    // Fails when key 1 is put and the puts outnumber the makes by one: the `Make` undoes the
    // put of key 0, and neither goes without the other.
    let fails = |p: &Program<ShelfOp>| {
        let makes = p.prefix.iter().filter(|op| **op == ShelfOp::Make).count();
        keys(p).contains(&1) && keys(p).len() == makes + 1
    };
    let start = vec![put(1, false), put(0, false), ShelfOp::Make];
    let (adopted, _, _) = one_pass(fails, start.clone(), |s, c| s.delete_chunks(c));
    assert!(!adopted, "the program must be 1-minimal for this test");
    let (adopted, program, runs) = one_pass(fails, start.clone(), |s, c| s.delete_pairs(c));
    assert!(adopted);
    assert_eq!(program, Program::sequential(vec![put(1, false)]));
    // Steps 0 and 1, both puts, are not a pair to try; steps 0 and 2 are, and pass.
    assert_eq!(runs, 2);
    assert_eq!(shrink_shelf(fails, start).program, program);
}

#[test]
fn copying_an_earlier_step_escapes_where_no_argument_can_move_alone() {
    // Fails when two puts are the same, or when their keys sum to 8 with different flags: from
    // `Put(3, false), Put(5, true)` no argument can change alone, and the canonical passes keep
    // the keys apart, but the second put can become a copy of the first.
    let fails = |p: &Program<ShelfOp>| {
        let puts: Vec<(u8, bool)> = p
            .prefix
            .iter()
            .filter_map(|op| match op {
                ShelfOp::Put { key, flag } => Some((*key, *flag)),
                _ => None,
            })
            .collect();
        puts.iter().enumerate().any(|(i, a)| {
            puts[i + 1..]
                .iter()
                .any(|b| a == b || (a.0 + b.0 == 8 && a.1 != b.1))
        })
    };
    let start = vec![put(3, false), put(5, true)];
    for stuck in [
        one_pass(fails, start.clone(), |s, c| s.canonicalize(c)),
        one_pass(fails, start.clone(), |s, c| s.shrink_equal_args(c)),
        one_pass(fails, start.clone(), |s, c| s.delete_pairs(c)),
        one_pass(fails, start.clone(), |s, c| s.merge_producers(c)),
    ] {
        assert!(
            !stuck.0,
            "the program must be stuck for this test: {:?}",
            stuck.1
        );
    }
    let (adopted, program, runs) = one_pass(fails, start.clone(), |s, c| s.copy_earlier(c));
    assert!(adopted);
    assert_eq!(
        program,
        Program::sequential(vec![put(3, false), put(3, false)])
    );
    assert_eq!(runs, 1);
    assert_eq!(
        shrink_shelf(fails, start).program,
        Program::sequential(vec![put(0, false), put(0, false)])
    );
}

#[test]
fn a_copy_that_is_not_simpler_is_never_run() {
    // The first put is the less simple one (its flag is set): copying it over the second would
    // climb, so only the copy of the second over the first runs (and passes: the keys must
    // differ).
    let fails = |p: &Program<ShelfOp>| {
        let k = keys(p);
        k.len() == 2 && k[0] != k[1]
    };
    let (adopted, _, runs) = one_pass(fails, vec![put(5, true), put(3, false)], |s, c| {
        s.copy_earlier(c)
    });
    assert!(!adopted);
    assert_eq!(runs, 1);
}

/// Runs `pass` with the failure placed at the program's last step, as a postcondition's is.
fn at_last_step(
    pass: impl FnOnce(&mut Shrinker<'_, Shelf>, &mut Current<ShelfOp>) -> bool,
) -> impl FnOnce(&mut Shrinker<'_, Shelf>, &mut Current<ShelfOp>) -> bool {
    move |shrinker, cur| {
        let last = cur.program.prefix.len() - 1;
        cur.failure.step = Some(crate::program::StepId::prefix(last));
        pass(shrinker, cur)
    }
}

#[test]
fn folding_adds_a_deleted_steps_integers_to_another_step() {
    // Fails while the keys add up to 18 and something was made: no one put can go alone.
    let fails = |p: &Program<ShelfOp>| {
        p.prefix.contains(&ShelfOp::Make)
            && keys(p).iter().map(|&k| u32::from(k)).sum::<u32>() == 18
    };
    let program = vec![put(3, false), ShelfOp::Make, put(6, false), put(9, false)];
    let (adopted, program, runs) = one_pass(fails, program, |s, cur| s.fold_steps(cur));
    assert!(adopted);
    assert_eq!(
        program,
        Program::sequential(vec![ShelfOp::Make, put(9, false), put(9, false)])
    );
    assert_eq!(runs, 1);
}

#[test]
fn folding_two_steps_of_one_rule_may_pass_the_largest_value_in_the_program() {
    // Two clock advances that only together last long enough: one advance as long as both.
    // Across rules a fold stays at most the program's largest value; within a rule it may not.
    let fails = |p: &Program<ShelfOp>| {
        p.prefix.contains(&ShelfOp::Make) && keys(p).iter().map(|&k| u32::from(k)).sum::<u32>() == 9
    };
    let program = vec![ShelfOp::Make, put(4, false), put(5, false)];
    let (adopted, program, runs) = one_pass(fails, program, |s, cur| s.fold_steps(cur));
    assert!(adopted);
    assert_eq!(
        program,
        Program::sequential(vec![ShelfOp::Make, put(9, false)])
    );
    assert_eq!(runs, 1);
}

#[test]
fn folding_leaves_programs_of_one_rule_alone() {
    // Six puts that must all be there are the failure; sums of their keys would cost runs.
    let fails = |p: &Program<ShelfOp>| keys(p).iter().map(|&k| u32::from(k)).sum::<u32>() == 18;
    let program = vec![put(3, false), put(6, false), put(9, false)];
    let (adopted, _, runs) = one_pass(fails, program, |s, cur| s.fold_steps(cur));
    assert!(!adopted);
    assert_eq!(runs, 0);
}

#[test]
fn a_step_deleted_with_the_failing_steps_var_pointed_elsewhere() {
    // Fails with exactly two makes and a use of the first: from three makes and a use of the
    // third, neither deleting a make nor pointing the use elsewhere alone fails.
    let fails = |p: &Program<ShelfOp>| {
        let makes = p.prefix.iter().filter(|op| **op == ShelfOp::Make).count();
        makes == 2 && p.prefix.last() == Some(&use_(0))
    };
    let program = vec![ShelfOp::Make, ShelfOp::Make, ShelfOp::Make, use_(2)];
    let (adopted, program, _) = one_pass(
        fails,
        program,
        at_last_step(|s, cur| s.delete_and_redirect(cur)),
    );
    assert!(adopted);
    assert_eq!(
        program,
        Program::sequential(vec![ShelfOp::Make, ShelfOp::Make, use_(0)])
    );
}

#[test]
fn the_failing_step_becomes_a_simpler_operation_of_another_rule() {
    // Fails when a make is followed by a put or a use: a use of the made value holds fewer
    // arguments away from their simplest values than `Put(5, true)`.
    let fails = |p: &Program<ShelfOp>| {
        p.prefix.len() == 2
            && p.prefix[0] == ShelfOp::Make
            && matches!(p.prefix[1], ShelfOp::Put { .. } | ShelfOp::Use { .. })
    };
    let program = vec![ShelfOp::Make, put(5, true)];
    let (adopted, program, runs) = one_pass(
        fails,
        program,
        at_last_step(|s, cur| s.replace_failing(cur)),
    );
    assert!(adopted, "{program:?} after {runs} runs");
    assert_eq!(program, Program::sequential(vec![ShelfOp::Make, use_(0)]));
    // `Make` in its place was tried first and passed; nothing else ran.
    assert_eq!(runs, 2);
}
