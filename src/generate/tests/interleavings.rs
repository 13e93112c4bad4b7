//! Parallel generation and the interleaving search: every generated program keeps each step
//! runnable in every interleaving (checked by trying them all), the search with its reduction
//! agrees with trying them all, and the figures of how many steps generation keeps.

use crate::generate::interleave::{explore_counting, explore_unreduced, Interleaved};
use crate::generate::validate::Reason;
use crate::generate::{check_program, generate_parallel, CaseGenerator};
use crate::{Model, StateMachine};

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
            generate_parallel(initial, &mut plan, prefix, branches, len, None).unwrap()
        };
        let pile = gen(&Pile::default());
        proptest::prop_assert_eq!(&pile, &gen(&Pile::default()));
        let broken = broken_interleaving(&Pile::default(), &pile, &pile_runnable);
        proptest::prop_assert!(broken.is_none(), "{:?} breaks {:?}", broken, pile);
        proptest::prop_assert!(check_program(&Pile::default(), &pile).is_ok());

        let mut plan = CaseGenerator::new::<FileOp>(seed, (1, 1), true);
        let files =
            generate_parallel(&Files::default(), &mut plan, prefix, branches, len, None)
                .unwrap();
        let broken = broken_interleaving(&Files::default(), &files, &file_runnable);
        proptest::prop_assert!(broken.is_none(), "{:?} breaks {:?}", broken, files);
        proptest::prop_assert!(check_program(&Files::default(), &files).is_ok());
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
        let program = generate_parallel(&Pile::default(), &mut plan, 3, 3, 3, None).unwrap();
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
        check_program(&Files::default(), &alone).unwrap();
    }
    let invalid = check_program(&Files::default(), &program).unwrap_err();
    assert_eq!(invalid.step, crate::StepId::in_branch(1, 0), "{invalid}");
    assert!(
        matches!(&invalid.reason, Reason::Interleaving { order, panic: None, .. }
            if *order == [crate::StepId::in_branch(0, 0)]),
        "{invalid}"
    );
}

/// Generation figures, not a check (a benchmark: run it in release and read the numbers):
/// `cargo test --release --lib generate::tests::interleavings::parallel_generation_figures -- --ignored
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
                generate_parallel(&M::default(), &mut plan, 2, branches, 4, None).unwrap();
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

/// A register whose steps change it or not depending on its value: `Zero` changes nothing at 0
/// and something elsewhere, so a step the search runs ahead of its turn may turn out to change
/// the model later (and the search must start again without the reduction).
#[derive(Debug, Clone, Default)]
struct Reg {
    v: u8,
}

#[derive(Debug, Clone, PartialEq, StateMachine)]
#[state_machine(model = Reg)]
enum RegOp {
    #[rule(precondition = |m: &Reg| m.v < 3)]
    Inc,
    #[rule(precondition = |m: &Reg| m.v > 0)]
    Dec,
    Zero,
    #[rule(precondition = |m: &Reg| m.v < 2)]
    Low,
    Read,
}

impl Model for Reg {
    type Op = RegOp;
    type Output = u8;
    fn step(&mut self, op: &RegOp) -> u8 {
        match op {
            RegOp::Inc => self.v += 1,
            RegOp::Dec => self.v -= 1,
            RegOp::Zero => self.v = 0,
            RegOp::Low | RegOp::Read => {}
        }
        self.v
    }
}

fn reg_runnable(m: &Reg, op: &RegOp) -> bool {
    RegOp::enabled(op.rule_index(), m, &[])
}

/// Whether `order` then `step` is an interleaving of `program`'s branches (each branch's steps
/// in their order, `step` its branch's next) in which every step of `order` runs and `step`
/// does not.
fn breaks_there<M: Model>(
    initial: &M,
    program: &crate::Program<M::Op>,
    order: &[crate::StepId],
    step: crate::StepId,
    runnable: &dyn Fn(&M, &M::Op) -> bool,
) -> bool {
    let mut model = initial.clone();
    let mut prefix = Vec::new();
    for op in &program.prefix {
        let mut bound = op.clone();
        assert!(bound.bind_vars(&prefix));
        prefix.push(model.step(&bound));
    }
    let mut own = vec![Vec::new(); program.branches.len()];
    let run = |model: &mut M, id: crate::StepId, own: &mut Vec<Vec<M::Output>>| {
        let b = usize::from(id.branch.expect("a branch step"));
        if id.index as usize != own[b].len() {
            return None;
        }
        let op = program.branches[b].get(id.index as usize)?;
        let mut bound = op.clone();
        let outputs = crate::program::BranchOutputs {
            prefix: &prefix,
            branch: b as u16,
            own: &own[b],
        };
        if !bound.bind_vars(&outputs) || !runnable(model, &bound) {
            return Some(false);
        }
        let out = model.step(&bound);
        own[b].push(out);
        Some(true)
    };
    for &id in order {
        if run(&mut model, id, &mut own) != Some(true) {
            return false;
        }
    }
    run(&mut model, step, &mut own) == Some(false)
}

/// The search with the reduction against every interleaving tried one by one (and against the
/// search without it) on small programs, generated or not: `Safe` exactly when no interleaving
/// breaks, and a broken one reported is a real one.
fn agrees_with_brute_force<M: Model>(
    initial: &M,
    program: &crate::Program<M::Op>,
    runnable: &dyn Fn(&M, &M::Op) -> bool,
) -> Result<(usize, usize), String> {
    let mut model = initial.clone();
    let mut prefix = Vec::new();
    for op in &program.prefix {
        let mut bound = op.clone();
        assert!(bound.bind_vars(&prefix) && runnable(&model, &bound));
        prefix.push(model.step(&bound));
    }
    let views: Vec<&[M::Op]> = program.branches.iter().map(Vec::as_slice).collect();
    let (mut reduced, mut plain) = (0, 0);
    let verdict = explore_counting(&model, &prefix, &views, 1_000_000, &mut reduced);
    let unreduced = explore_unreduced(&model, &prefix, &views, 1_000_000, &mut plain);
    let oracle = broken_interleaving(initial, program, runnable);
    match (&verdict, &oracle) {
        (Interleaved::Safe, None) => {}
        (Interleaved::Broken(b), Some(_)) => {
            if !breaks_there(initial, program, &b.order, b.step, runnable) {
                return Err(format!("{b:?} is not a broken interleaving of {program:?}"));
            }
        }
        _ => {
            return Err(format!(
                "{verdict:?}, yet trying them all: {oracle:?}; {program:?}"
            ))
        }
    }
    if matches!(verdict, Interleaved::Safe) != matches!(unreduced, Interleaved::Safe) {
        return Err(format!(
            "{verdict:?} against {unreduced:?} without the reduction"
        ));
    }
    Ok((reduced, plain))
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig {
        cases: 400, ..proptest::prelude::ProptestConfig::default()
    })]

    /// Arbitrary small programs (most of them broken somewhere) on the register, and on files
    /// used and closed through `Var`s: the reduced search answers as trying every interleaving.
    #[test]
    fn the_reduced_search_agrees_with_every_interleaving_tried(
        start in 0..3u8,
        branches in proptest::collection::vec(proptest::collection::vec(0..5usize, 0..=4), 2..=3),
        files in proptest::collection::vec(
            proptest::collection::vec((0..3usize, 0..4usize), 0..=3), 2..=3),
    ) {
        let reg = |i: usize| [RegOp::Inc, RegOp::Dec, RegOp::Zero, RegOp::Low, RegOp::Read][i].clone();
        let program = crate::Program::parallel(
            vec![RegOp::Inc; start as usize],
            branches.iter().map(|b| b.iter().map(|&i| reg(i)).collect()).collect(),
        );
        let agreed = agrees_with_brute_force(&Reg::default(), &program, &reg_runnable);
        proptest::prop_assert!(agreed.is_ok(), "{}", agreed.unwrap_err());

        // A `Var` names one of the prefix's two files, or the branch's own first or second step
        // (binding only if that step opened a file).
        let file = |b: usize, (kind, at): (usize, usize)| {
            let f = match at {
                0 | 1 => crate::Var::at(at),
                own => crate::Var::to(crate::StepId::in_branch(b as u16, own - 2)),
            };
            match kind {
                0 => FileOp::Open,
                1 => FileOp::Use { f },
                _ => FileOp::Close { f },
            }
        };
        let program = crate::Program::parallel(
            vec![FileOp::Open, FileOp::Open],
            files
                .iter()
                .enumerate()
                .map(|(b, ops)| ops.iter().map(|&s| file(b, s)).collect())
                .collect(),
        );
        let agreed = agrees_with_brute_force(&Files::default(), &program, &file_runnable);
        proptest::prop_assert!(agreed.is_ok(), "{}", agreed.unwrap_err());
    }
}

/// The reduction is not vacuous: on generated programs of the files machine (whose uses change
/// nothing) it visits fewer states than the plain search, with the same answer.
#[test]
fn the_reduction_visits_fewer_states_on_generated_programs() {
    let (mut reduced, mut plain) = (0, 0);
    for seed in 0..40 {
        let mut plan = CaseGenerator::new::<FileOp>(seed, (1, 1), false);
        let program = generate_parallel(&Files::default(), &mut plan, 2, 3, 4, None).unwrap();
        let (r, p) = agrees_with_brute_force(&Files::default(), &program, &file_runnable).unwrap();
        reduced += r;
        plain += p;
    }
    assert!(reduced * 10 < plain * 8, "{reduced} states against {plain}");
}

/// The share of the branch steps asked for that generation keeps over `seeds`, after a prefix
/// of 2 steps: `branches` branches of 4 steps.
fn kept_share<M: Model + Default>(seeds: std::ops::Range<u64>, branches: usize) -> f64 {
    let (mut asked, mut made) = (0, 0);
    for seed in seeds {
        let mut plan = CaseGenerator::new::<M::Op>(seed, (1, 1), false);
        let program = generate_parallel(&M::default(), &mut plan, 2, branches, 4, None).unwrap();
        asked += branches * 4;
        made += program.branches.iter().map(Vec::len).sum::<usize>();
    }
    made as f64 / asked as f64
}

/// Many branches keep more of the steps asked for within the same state budget. Eight branches
/// of files used through `Var`s, where uses change nothing: 49.0% without the reductions, 60.9%
/// with them. Five branches of a stack, where every step changes the model and only branches
/// with the same steps left merge: 76.3% without the symmetry, 79.7% with it. (Exact counts
/// over these seeds: generation is deterministic and the budget counts states.)
#[test]
fn many_branches_keep_more_steps() {
    let files = kept_share::<Files>(0..12, 8);
    assert!(
        files >= 0.55,
        "files: kept {:.1}% of the steps",
        files * 100.0
    );
    let stack = kept_share::<Pile>(0..16, 5);
    assert!(
        stack >= 0.78,
        "stack: kept {:.1}% of the steps",
        stack * 100.0
    );
}
