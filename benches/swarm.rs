//! Swarm testing's finding power, measured: planted bugs that need `k` of a machine's `n` rules,
//! found with swarm on and off.
//!
//! `cargo bench --bench swarm` prints one row per (n, k): over `SEEDS` run seeds, how many found
//! the bug within 100, 256, 1,000 cases, and the mean number of cases to the first failing one
//! (a run that never fails counts as `CAP`). Nothing is asserted: the table is the result
//! (docs/swarm.md quotes it).
//!
//! The planted bug: the system fails once rules `0, 1, …, k-1` ran back to back, in that order.
//! Every other rule dilutes the program, so leaving rules out (swarm) helps when `k < n`, and
//! only a case with all `n` rules can find it when `k == n`.

use stateprop::prelude::*;
use stateprop::Origin;
use stateprop::{Config, Runner};

/// Run seeds per row.
const SEEDS: u64 = 20;
/// Cases a run may use before it counts as "not found".
const CAP: u64 = 5_000;
/// Case counts the found-rate columns report.
const BUDGETS: [u64; 3] = [100, 256, 1_000];

/// The system: how far into the planted sequence `0, 1, …, k-1` the last steps went.
struct Planted {
    k: usize,
    progress: usize,
}

impl Planted {
    fn step(&mut self, rule: usize) {
        self.progress = if rule == self.progress {
            self.progress + 1
        } else {
            usize::from(rule == 0)
        };
    }

    fn check(&self) -> Result<(), String> {
        if self.progress >= self.k {
            Err(format!("rules 0..{} ran back to back", self.k))
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

/// Cases to the first failure of each seed (`None`: not within `CAP`).
fn cases_to_find<M>(k: usize, swarm: bool) -> Vec<Option<u64>>
where
    M: Model + Default + Send,
    M::Op: Send,
    Planted: System<M>,
{
    (0..SEEDS)
        .map(|seed| {
            let config = Config::default()
                .ignore_env()
                .persist(false)
                .cases(CAP)
                .swarm(swarm)
                .max_shrink_runs(1)
                .seed(0x5A12_0000 + seed);
            let result = Runner::<M>::new(config).run(move || Planted { k, progress: 0 });
            match result.report.origin {
                Some(Origin::Generated { case, .. }) => Some(case + 1),
                _ => None,
            }
        })
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

fn row<M>(n: usize, k: usize)
where
    M: Model + Default + Send,
    M::Op: Send,
    Planted: System<M>,
{
    let off = cases_to_find::<M>(k, false);
    let on = cases_to_find::<M>(k, true);
    println!("{n:>2} {k:>2} |{} |{}", cells(&off), cells(&on));
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
        row::<M>(n, k);
    }
}

fn main() {
    println!(
        "stateprop: swarm bench: a bug needing rules 0..k of n back to back; {SEEDS} seeds, \
         found within 100/256/1000 cases, mean cases to find (cap {CAP})"
    );
    println!(" n  k |   swarm off: 100   256  1000    mean |    swarm on: 100   256  1000    mean");
    rows::<M2>(2);
    rows::<M3>(3);
    rows::<M4>(4);
    rows::<M5>(5);
    rows::<M6>(6);
    rows::<M7>(7);
    rows::<M8>(8);
    rows::<M9>(9);
    rows::<M10>(10);
}
