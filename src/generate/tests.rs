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
                let a = mask.draw_rule_small(&model, &[], |_| true);
                let b = table.draw_rule_large(&model, &[], |_| true);
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

/// A stack whose `Pop` needs an element, and whose model trusts that it has one (the shrinker's
/// repair tests use it too).
#[derive(Debug, Clone, Default)]
pub(crate) struct Pile {
    items: Vec<u8>,
}

#[derive(Debug, Clone, PartialEq, StateMachine)]
#[state_machine(model = Pile)]
pub(crate) enum PileOp {
    Push {
        #[strategy(0..3u8)]
        value: u8,
    },
    #[rule(weight = 3, precondition = |m: &Pile| !m.items.is_empty())]
    Pop,
}

impl Model for Pile {
    type Op = PileOp;
    type Output = Option<u8>;
    fn step(&mut self, op: &PileOp) -> Option<u8> {
        match *op {
            PileOp::Push { value } => {
                self.items.push(value);
                None
            }
            PileOp::Pop => Some(self.items.pop().expect("an element")),
        }
    }
}

/// Files opened by number, used and closed through `Var`s with a precondition over the `Var`:
/// a branch closing a prefix file breaks another branch's use of it in some interleavings.
#[derive(Debug, Clone, Default)]
struct Files {
    next: u32,
    open: std::collections::BTreeSet<u32>,
}

#[derive(Debug, Clone, PartialEq, StateMachine)]
#[state_machine(model = Files)]
enum FileOp {
    Open,
    #[rule(weight = 2, precondition = |m: &Files, f: &crate::Var<u32>| m.open.contains(&**f))]
    Use {
        f: crate::Var<u32>,
    },
    #[rule(precondition = |m: &Files, f: &crate::Var<u32>| m.open.contains(&**f))]
    Close {
        f: crate::Var<u32>,
    },
}

impl Model for Files {
    type Op = FileOp;
    type Output = Option<u32>;
    fn step(&mut self, op: &FileOp) -> Option<u32> {
        match op {
            FileOp::Open => {
                self.next += 1;
                self.open.insert(self.next);
                Some(self.next)
            }
            FileOp::Use { f } => {
                assert!(self.open.contains(&**f), "used a closed file");
                None
            }
            FileOp::Close { f } => {
                assert!(self.open.remove(&**f), "closed a closed file");
                None
            }
        }
    }
}

/// The first interleaving of `program`'s branches (as the order of its step ids) in which a step
/// is not `runnable` (given the model and the step with its `Var`s bound) or its `Var` names no
/// output, found by trying every interleaving: the oracle the search must agree with.
fn broken_interleaving<M: Model>(
    initial: &M,
    program: &crate::Program<M::Op>,
    runnable: &dyn Fn(&M, &M::Op) -> bool,
) -> Option<Vec<crate::StepId>> {
    let mut model = initial.clone();
    let mut prefix = Vec::new();
    for op in &program.prefix {
        let mut bound = op.clone();
        assert!(
            bound.bind_vars(&prefix) && runnable(&model, &bound),
            "prefix"
        );
        prefix.push(model.step(&bound));
    }
    let mut own = vec![Vec::new(); program.branches.len()];
    let mut order = Vec::new();
    walk(&model, &prefix, program, &mut own, &mut order, runnable).then_some(order)
}

/// Whether some completion of `order` breaks: true leaves the breaking order in `order`.
fn walk<M: Model>(
    model: &M,
    prefix: &[M::Output],
    program: &crate::Program<M::Op>,
    own: &mut Vec<Vec<M::Output>>,
    order: &mut Vec<crate::StepId>,
    runnable: &dyn Fn(&M, &M::Op) -> bool,
) -> bool {
    for (b, ops) in program.branches.iter().enumerate() {
        let Some(op) = ops.get(own[b].len()) else {
            continue;
        };
        let id = crate::StepId::in_branch(b as u16, own[b].len());
        order.push(id);
        let mut bound = op.clone();
        let outputs = crate::program::BranchOutputs {
            prefix,
            branch: b as u16,
            own: &own[b],
        };
        if !bound.bind_vars(&outputs) || !runnable(model, &bound) {
            return true;
        }
        let mut next = model.clone();
        let out = next.step(&bound);
        own[b].push(out);
        if walk(&next, prefix, program, own, order, runnable) {
            return true;
        }
        own[b].pop();
        order.pop();
    }
    false
}

fn pile_runnable(m: &Pile, op: &PileOp) -> bool {
    !matches!(op, PileOp::Pop) || !m.items.is_empty()
}

fn file_runnable(m: &Files, op: &FileOp) -> bool {
    match op {
        FileOp::Open => true,
        FileOp::Use { f } | FileOp::Close { f } => m.open.contains(&**f),
    }
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig {
        cases: 128, ..proptest::prelude::ProptestConfig::default()
    })]

    /// Every generated parallel program keeps every precondition (over the model, and over a
    /// `Var`) in every interleaving of its branches, by trying them all; and regenerates exactly.
    #[test]
    fn generated_branches_run_in_every_interleaving(
        seed in proptest::prelude::any::<u64>(),
        prefix in 0..4usize,
        branches in 2..=3usize,
        len in 1..=3usize,
    ) {
        let gen = |initial: &Pile| {
            let mut plan = CaseGenerator::new::<PileOp>(seed, (1, 1), true);
            super::generate_parallel(initial, &mut plan, prefix, branches, len, None).unwrap()
        };
        let pile = gen(&Pile::default());
        proptest::prop_assert_eq!(&pile, &gen(&Pile::default()));
        let broken = broken_interleaving(&Pile::default(), &pile, &pile_runnable);
        proptest::prop_assert!(broken.is_none(), "{:?} breaks {:?}", broken, pile);
        proptest::prop_assert!(super::check_program(&Pile::default(), &pile).is_ok());

        let mut plan = CaseGenerator::new::<FileOp>(seed, (1, 1), true);
        let files =
            super::generate_parallel(&Files::default(), &mut plan, prefix, branches, len, None)
                .unwrap();
        let broken = broken_interleaving(&Files::default(), &files, &file_runnable);
        proptest::prop_assert!(broken.is_none(), "{:?} breaks {:?}", broken, files);
        proptest::prop_assert!(super::check_program(&Files::default(), &files).is_ok());
    }
}

/// The search is not vacuous: branches still pop and close what other branches could reach, and
/// most steps asked for are generated (a branch ends early only where every rule breaks some
/// interleaving).
#[test]
fn branches_still_compete_for_shared_state() {
    let (mut contested, mut asked, mut made) = (0, 0, 0);
    for seed in 0..300 {
        let mut plan = CaseGenerator::new::<PileOp>(seed, (1, 1), false);
        let program = super::generate_parallel(&Pile::default(), &mut plan, 3, 3, 3, None).unwrap();
        let pops = program
            .branches
            .iter()
            .filter(|b| b.contains(&PileOp::Pop))
            .count();
        contested += usize::from(pops >= 2);
        asked += 9;
        made += program.branches.iter().map(Vec::len).sum::<usize>();
        assert!(broken_interleaving(&Pile::default(), &program, &pile_runnable).is_none());
    }
    assert!(
        contested > 50,
        "{contested} of 300 cases pop in two branches"
    );
    assert!(made * 10 > asked * 8, "{made} of {asked} steps generated");
}

#[test]
fn validation_refuses_a_use_another_branch_may_close_first() {
    use crate::{Program, Var};
    let program = Program::parallel(
        vec![FileOp::Open],
        vec![
            vec![FileOp::Close { f: Var::at(0) }],
            vec![FileOp::Use { f: Var::at(0) }],
        ],
    );
    // Each branch alone is fine.
    for b in 0..2 {
        let alone = Program::parallel(program.prefix.clone(), vec![program.branches[b].clone()]);
        super::check_program(&Files::default(), &alone).unwrap();
    }
    let invalid = super::check_program(&Files::default(), &program).unwrap_err();
    assert_eq!(invalid.step, crate::StepId::in_branch(1, 0), "{invalid}");
    assert!(
        matches!(&invalid.reason, super::validate::Reason::Interleaving { order, panic: None, .. }
            if *order == [crate::StepId::in_branch(0, 0)]),
        "{invalid}"
    );
}

/// Generation figures, not a check (a benchmark: run it in release and read the numbers):
/// `cargo test --release --lib generate::tests::parallel_generation_figures -- --ignored
/// --nocapture`. For branches of 4 steps after a prefix of 2: the share of the branch steps
/// asked for that generation keeps, and the generation time per case.
#[test]
#[ignore = "a benchmark printing figures; run in release"]
fn parallel_generation_figures() {
    fn measure<M: Model + Default>(name: &str, branches: usize) {
        let cases = 200;
        let (mut asked, mut made) = (0, 0);
        let start = std::time::Instant::now();
        for seed in 0..cases {
            let mut plan = CaseGenerator::new::<M::Op>(seed, (1, 1), false);
            let program =
                super::generate_parallel(&M::default(), &mut plan, 2, branches, 4, None).unwrap();
            asked += branches * 4;
            made += program.branches.iter().map(Vec::len).sum::<usize>();
        }
        let ms = start.elapsed().as_secs_f64() * 1e3 / cases as f64;
        println!(
            "stateprop: {name:6} {branches} branches x 4 steps: kept {:5.1}% of the steps asked \
             for, {ms:6.2} ms per case",
            made as f64 * 100.0 / asked as f64
        );
    }
    for branches in [3, 5, 8] {
        measure::<Pile>("stack", branches);
        measure::<Files>("files", branches);
    }
}
