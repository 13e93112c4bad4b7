//! The bug zoo: planted bugs of different shapes. Each test asserts that stateprop finds the bug
//! *and* that the shrunk program is exactly the known minimal one, for several seeds, and checks
//! that the result is 1-minimal by deleting each step in turn. Each zoo system also has a correct
//! twin that must pass thousands of cases.

mod all_rules;
mod boundary;
mod canonical;
mod colours;
mod consumed;
mod descriptors;
mod invariant;
mod inverse;
mod long;
mod merge;
mod panic;
mod picked_key;
mod precondition;
mod rare_rule;
mod repeat;
mod simplest_value;
mod three_steps;
mod ties;
mod var_reference;

use stateprop::{
    run_program, Config, FailureKind, Model, RunResult, Runner, StateMachine, StepId, System,
};

/// Seeds every zoo test runs with: the expected program must not depend on luck.
pub const SEEDS: [u64; 5] = [1, 2, 3, 0xDEAD_BEEF, 20261121];

/// Runs `S` against `M` with `config` (persistence off) and the given seed.
pub fn run<M, S>(config: Config, seed: u64) -> RunResult<M::Op>
where
    M: Model + Default + Send,
    M::Op: Send,
    S: System<M> + Default + 'static,
{
    Runner::<M>::new(config.seed(seed).persist(false)).run_default::<S>()
}

/// Asserts the bug is found for every seed, with exactly `expected` as the minimal program
/// (Rust source of each step), a failure of kind `kind`, and 1-minimality.
pub fn assert_finds<M, S>(config: Config, expected: &[&str], kind: &str)
where
    M: Model + Default + Send,
    M::Op: Send,
    S: System<M> + Default + 'static,
{
    for seed in SEEDS {
        let result = run::<M, S>(config.clone(), seed);
        assert!(result.failed(), "seed {seed}: the bug was not found");
        assert_eq!(
            result.report.minimal_rust.prefix,
            expected,
            "seed {seed}: unexpected minimal program\n{}",
            result.report.text()
        );
        let failure = result.report.failure.as_ref().expect("failure");
        assert_eq!(
            failure.kind.name(),
            kind,
            "seed {seed}: {}",
            result.report.text()
        );
        assert_one_minimal::<M, S>(&result.minimal);
    }
}

/// Deleting any single step either makes the program invalid or makes the failure go away.
pub fn assert_one_minimal<M, S>(ops: &[M::Op])
where
    M: Model + Default,
    S: System<M> + Default,
{
    let factory = S::default;
    let full = run_program(&M::default(), &factory, ops).expect("the minimal program is valid");
    assert!(
        full.is_some(),
        "the minimal program does not fail on its own"
    );
    for i in 0..ops.len() {
        let mut shorter = ops.to_vec();
        shorter.remove(i);
        // Deleting a step renumbers later vars, as the shrinker does.
        let shorter: Vec<M::Op> = shorter
            .into_iter()
            .filter_map(|mut op| {
                op.remap_vars(&mut |v| match v.prefix_index()? {
                    v if v < i => Some(StepId::prefix(v)),
                    v if v == i => None,
                    v => Some(StepId::prefix(v - 1)),
                })
                .then_some(op)
            })
            .collect();
        if let Ok(outcome) = run_program(&M::default(), &factory, &shorter) {
            assert!(
                outcome.is_none(),
                "deleting step {i} still fails: not 1-minimal: {shorter:?}"
            );
        }
    }
}

/// Asserts the correct twin passes `cases` cases.
pub fn assert_passes<M, S>(config: Config, cases: u64)
where
    M: Model + Default + Send,
    M::Op: Send,
    S: System<M> + Default + 'static,
{
    let result = run::<M, S>(config.cases(cases), 99);
    assert!(!result.failed(), "false alarm:\n{}", result.report.text());
    assert_eq!(result.report.stats.cases, cases);
}

#[allow(dead_code)]
fn _kinds_exist(k: FailureKind) -> &'static str {
    k.name()
}
