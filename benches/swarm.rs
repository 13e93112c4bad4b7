//! Swarm testing's finding power, measured: planted bugs that need `k` of a machine's `n` rules,
//! found with swarm on and off.
//!
//! `cargo bench --bench swarm` prints one row per (n, k): over `SEEDS` run seeds, how many found
//! the bug within 100, 256, 1,000 cases, and the mean number of cases to the first failing one
//! (a run that never fails counts as `CAP`). Nothing is asserted: the table is the result
//! (docs/swarm.md quotes it).
//!
//! Three tables:
//!
//! * `ordered`: the system fails once rules `0, 1, …, k-1` ran back to back, in that order. Every
//!   other rule dilutes the program; only a case with all `k` rules can find it.
//! * `hidden`: the system fails once rule 0 ran `DEPTH` times with no rule 1 in between (a stack
//!   that overflows unless popped); rule 1 hides the bug, the swarm's home ground.
//! * `bugzoo`: the planted bugs of `tests/bugzoo` (their own files, with the program lengths their
//!   tests use), to choose the default number of cases.

use stateprop::prelude::*;
use stateprop::Origin;
use stateprop::{Config, Runner};

/// Run seeds per row.
const SEEDS: u64 = 20;
/// Cases a run may use before it counts as "not found".
const CAP: u64 = 5_000;
/// Case counts the found-rate columns report.
const BUDGETS: [u64; 3] = [100, 256, 1_000];

/// Pushes without a pop the `hidden` bug needs.
const DEPTH: usize = 8;

/// The system: how far into its planted bug the last steps went.
struct Planted {
    /// `Some(k)`: the `ordered` bug on rules `0..k`; `None`: the `hidden` one.
    k: Option<usize>,
    progress: usize,
}

impl Planted {
    fn step(&mut self, rule: usize) {
        self.progress = match self.k {
            Some(_) if rule == self.progress => self.progress + 1,
            Some(_) => usize::from(rule == 0),
            None if rule == 0 => self.progress + 1,
            None if rule == 1 => 0,
            None => self.progress,
        };
    }

    fn check(&self) -> Result<(), String> {
        if self.progress >= self.k.unwrap_or(DEPTH) {
            Err(format!("planted bug {:?} reached", self.k))
        } else {
            Ok(())
        }
    }
}

/// A machine of `n` rules with no arguments and a model that only counts.
macro_rules! machine {
    ($model:ident, $op:ident, $($rule:ident),+) => {
        #[derive(Debug, Clone, Default)]
        struct $model;

        #[derive(Debug, Clone, StateMachine)]
        #[state_machine(model = $model)]
        enum $op {
            $($rule),+
        }

        impl Model for $model {
            type Op = $op;
            type Output = ();
            fn step(&mut self, _: &$op) {}
        }

        impl System<$model> for Planted {
            fn apply(&mut self, op: &$op) {
                self.step(op.rule_index());
            }
            fn invariant(&self, _: &$model) -> Result<(), String> {
                self.check()
            }
        }
    };
}

machine!(M2, Op2, A, B);
machine!(M3, Op3, A, B, C);
machine!(M4, Op4, A, B, C, D);
machine!(M5, Op5, A, B, C, D, E);
machine!(M6, Op6, A, B, C, D, E, F);
machine!(M7, Op7, A, B, C, D, E, F, G);
machine!(M8, Op8, A, B, C, D, E, F, G, H);
machine!(M9, Op9, A, B, C, D, E, F, G, H, I);
machine!(M10, Op10, A, B, C, D, E, F, G, H, I, J);

/// The configuration of one measured run.
fn config(steps: (usize, usize), swarm: bool, seed: u64) -> Config {
    Config::default()
        .ignore_env()
        .persist(false)
        .cases(CAP)
        .steps(steps.0..=steps.1)
        .swarm(swarm)
        .max_shrink_runs(1)
        .seed(0x5A12_0000 + seed)
}

/// Case number (1-based) of the run's first failure; `None` if it passed.
fn first_failure<Op>(result: stateprop::RunResult<Op>) -> Option<u64> {
    match result.report.origin {
        Some(Origin::Generated { case, .. }) => Some(case + 1),
        _ => None,
    }
}

/// Cases to the first failure of each seed (`None`: not within `CAP`).
fn cases_to_find<M>(k: Option<usize>, swarm: bool) -> Vec<Option<u64>>
where
    M: Model + Default + Send,
    M::Op: Send,
    Planted: System<M>,
{
    (0..SEEDS)
        .map(|seed| {
            let config = config((1, 32), swarm, seed);
            first_failure(Runner::<M>::new(config).run(move || Planted { k, progress: 0 }))
        })
        .collect()
}

/// [`cases_to_find`] for a bugzoo system.
fn zoo_cases<M, S>(steps: (usize, usize), swarm: bool) -> Vec<Option<u64>>
where
    M: Model + Default + Send,
    M::Op: Send,
    S: System<M> + Default + 'static,
{
    (0..SEEDS)
        .map(|seed| first_failure(Runner::<M>::new(config(steps, swarm, seed)).run(S::default)))
        .collect()
}

/// `found/SEEDS` per budget, then the mean cases to find.
fn cells(found: &[Option<u64>]) -> String {
    let mut out = String::new();
    for budget in BUDGETS {
        let hits = found
            .iter()
            .filter(|c| c.is_some_and(|c| c <= budget))
            .count();
        out += &format!(" {hits:>2}/{SEEDS}");
    }
    let mean = found.iter().map(|c| c.unwrap_or(CAP)).sum::<u64>() as f64 / found.len() as f64;
    out + &format!(" {mean:>7.1}")
}

fn row<M>(n: usize, k: Option<usize>)
where
    M: Model + Default + Send,
    M::Op: Send,
    Planted: System<M>,
{
    let off = cases_to_find::<M>(k, false);
    let on = cases_to_find::<M>(k, true);
    let k = k.map_or("-".to_string(), |k| k.to_string());
    println!("{n:>2} {k:>2} |{} |{}", cells(&off), cells(&on));
}

fn zoo_row<M, S>(name: &str, steps: (usize, usize))
where
    M: Model + Default + Send,
    M::Op: Send,
    S: System<M> + Default + 'static,
{
    let off = zoo_cases::<M, S>(steps, false);
    let on = zoo_cases::<M, S>(steps, true);
    println!("{name:>14} |{} |{}", cells(&off), cells(&on));
}

/// The rows for a machine of `n` rules: bugs needing 2, 3 and (for small n) all n rules.
fn rows<M>(n: usize)
where
    M: Model + Default + Send,
    M::Op: Send,
    Planted: System<M>,
{
    let mut ks = vec![2, 3];
    if n <= 5 {
        ks.push(n);
    }
    ks.sort_unstable();
    ks.dedup();
    for k in ks.into_iter().filter(|&k| k <= n) {
        row::<M>(n, Some(k));
    }
}

fn main() {
    const HEADER: &str =
        "|   swarm off: 100   256  1000    mean |    swarm on: 100   256  1000    mean";
    println!(
        "stateprop: swarm bench: {SEEDS} seeds per row; found within 100/256/1000 cases, mean \
         cases to find (a miss counts {CAP})"
    );
    println!("stateprop: ordered: rules 0..k of n back to back");
    println!(" n  k {HEADER}");
    rows::<M2>(2);
    rows::<M3>(3);
    rows::<M4>(4);
    rows::<M5>(5);
    rows::<M6>(6);
    rows::<M7>(7);
    rows::<M8>(8);
    rows::<M9>(9);
    rows::<M10>(10);
    println!("stateprop: hidden: rule 0 {DEPTH} times with no rule 1 between");
    println!(" n  - {HEADER}");
    row::<M2>(2, None);
    row::<M3>(3, None);
    row::<M4>(4, None);
    row::<M6>(6, None);
    row::<M8>(8, None);
    row::<M10>(10, None);
    println!("stateprop: bugzoo");
    println!("           bug {HEADER}");
    zoo_row::<all_rules::Lock, all_rules::Keypad<true>>("all_rules", (1, 32));
    zoo_row::<boundary::Map, boundary::Table<true>>("boundary", (1, 32));
    zoo_row::<invariant::SetModel, invariant::CountedSet<true>>("invariant", (1, 59));
    zoo_row::<long::LogModel, long::Ring<true>>("long", (1, 120));
    zoo_row::<panic::Model2, panic::LenStack<true>>("panic", (1, 32));
    zoo_row::<precondition::Items, precondition::Compactor<true>>("precondition", (1, 32));
    zoo_row::<rare_rule::Count, rare_rule::Counter<true>>("rare_rule", (1, 32));
    zoo_row::<three_steps::StackModel, three_steps::Stack<true>>("three_steps", (1, 32));
    zoo_row::<var_reference::RegistryModel, var_reference::Registry<true>>(
        "var_reference",
        (1, 32),
    );
}

// The bugzoo's systems, from their own files; their tests are not compiled here, so the helpers
// they import only need to exist.
#[path = "../tests/bugzoo/all_rules.rs"]
#[allow(dead_code, unused_imports)]
mod all_rules;
#[path = "../tests/bugzoo/boundary.rs"]
#[allow(dead_code, unused_imports)]
mod boundary;
#[path = "../tests/bugzoo/invariant.rs"]
#[allow(dead_code, unused_imports)]
mod invariant;
#[path = "../tests/bugzoo/long.rs"]
#[allow(dead_code, unused_imports)]
mod long;
#[path = "../tests/bugzoo/panic.rs"]
#[allow(dead_code, unused_imports)]
mod panic;
#[path = "../tests/bugzoo/precondition.rs"]
#[allow(dead_code, unused_imports)]
mod precondition;
#[path = "../tests/bugzoo/rare_rule.rs"]
#[allow(dead_code, unused_imports)]
mod rare_rule;
#[path = "../tests/bugzoo/three_steps.rs"]
#[allow(dead_code, unused_imports)]
mod three_steps;
#[path = "../tests/bugzoo/var_reference.rs"]
#[allow(dead_code, unused_imports)]
mod var_reference;

#[allow(dead_code, clippy::extra_unused_type_parameters)]
fn assert_finds<M, S>(_: Config, _: &[&str], _: &str) {}
#[allow(dead_code, clippy::extra_unused_type_parameters)]
fn assert_passes<M, S>(_: Config, _: u64) {}
#[allow(dead_code, clippy::extra_unused_type_parameters)]
fn assert_one_minimal<M, S>(_: &[M::Op])
where
    M: Model,
{
}
#[allow(dead_code, clippy::extra_unused_type_parameters)]
fn run<M: Model, S>(_: Config, _: u64) -> stateprop::RunResult<M::Op> {
    unreachable!("the bugzoo's tests do not run in the bench")
}
