//! Finding power: every bug of the bug zoo (tests/bugzoo), 20 seeds each, run by stateprop at its
//! default settings and by proptest-state-machine 0.9 at its own.
//!
//! `cargo bench --bench findpower` prints one row per bug and framework: how many seeds found
//! the bug, shrank it to the known minimal length, and to exactly the zoo's expected program
//! (arguments included), the executions spent shrinking (median, max) and the wall time. Then
//! the totals and every stateprop result that missed the simplest form, with its seed and shrunk
//! program. `cargo bench --bench findpower -- quick` runs 5 seeds. Nothing is asserted: the
//! table is the result.
//!
//! The zoo's files are compiled in here as they are, so the bug, its systems and its expected
//! program have one definition for the zoo tests and this bench. Their `#[test]` functions do
//! not compile outside `cfg(test)`; the helpers they import only need to exist (at the end).

#[path = "findpower/psm.rs"]
mod psm;

use psm::Twin;
use stateprop::{Config, Model, Runner, StateMachine, System};
use std::cell::Cell;
use std::ops::RangeInclusive;
use std::panic;
use std::time::{Duration, Instant};

/// stateprop's settings: the defaults, plus only the seed and no persistence.
fn default_config() -> Config {
    Config::default().ignore_env()
}

/// Program lengths for bugs that fit the default (stateprop's default `steps`, given to p-s-m's
/// `sequential` range too).
fn default_steps() -> RangeInclusive<usize> {
    let (lo, hi) = default_config().steps;
    lo..=hi
}

/// One seed's result, for either framework.
struct Seed {
    seed: u64,
    /// The shrunk program, each step as Rust source; `None` when the bug was not found.
    minimal: Option<Vec<String>>,
    shrink_runs: u64,
    /// What else the run said: stateprop's shrink statistics, or why proptest aborted.
    detail: String,
}

/// Runs one bug with one framework: seed and program lengths in, the seed's result out.
type RunSeed = fn(u64, RangeInclusive<usize>) -> Seed;

/// One row of the table.
struct Row {
    bug: &'static str,
    framework: &'static str,
    seeds: Vec<Seed>,
    time: Duration,
    /// Length of the expected program.
    minimal_len: usize,
    /// The expected program (a few bugs accept more than one order).
    expected: Vec<Vec<&'static str>>,
}

impl Row {
    fn found(&self) -> usize {
        self.seeds.iter().filter(|s| s.minimal.is_some()).count()
    }

    fn at_minimal_length(&self) -> usize {
        self.seeds
            .iter()
            .filter(|s| {
                s.minimal
                    .as_ref()
                    .is_some_and(|m| m.len() == self.minimal_len)
            })
            .count()
    }

    fn is_simplest(&self, program: &[String]) -> bool {
        self.expected.iter().any(|e| program == &e[..])
    }

    fn simplest(&self) -> usize {
        self.seeds
            .iter()
            .filter(|s| s.minimal.as_ref().is_some_and(|m| self.is_simplest(m)))
            .count()
    }

    /// Median and max shrink executions over the seeds that found the bug.
    fn shrink_runs(&self) -> Option<(u64, u64)> {
        let mut runs: Vec<u64> = self
            .seeds
            .iter()
            .filter(|s| s.minimal.is_some())
            .map(|s| s.shrink_runs)
            .collect();
        runs.sort_unstable();
        let max = *runs.last()?;
        Some((runs[runs.len() / 2], max))
    }

    fn print(&self) {
        let n = self.seeds.len();
        let runs = match self.shrink_runs() {
            Some((median, max)) => format!("{median:>6} {max:>6}"),
            None => format!("{:>6} {:>6}", "-", "-"),
        };
        println!(
            "stateprop: {:<16} {:<9} {:>2}/{n}  {:>2}/{n}  {:>2}/{n}  {runs}  {:>8.1} ms",
            self.bug,
            self.framework,
            self.found(),
            self.at_minimal_length(),
            self.simplest(),
            self.time.as_secs_f64() * 1e3,
        );
    }
}

/// A bug: its name, expected programs, program lengths, and how each framework runs it.
struct Bug {
    name: &'static str,
    expected: Vec<Vec<&'static str>>,
    /// `Some` when the bug needs longer programs than the default.
    steps: Option<RangeInclusive<usize>>,
    stateprop: RunSeed,
    /// p-s-m's twin against the buggy system, then against the zoo's correct one (a check that
    /// the twin raises no false alarm, so what it finds in the buggy one is the bug); or why
    /// p-s-m cannot run the bug.
    psm: Result<(RunSeed, RunSeed), &'static str>,
}

/// One stateprop run at the default settings: the shrunk program and the report's shrink
/// statistics.
fn stateprop_run<M, S>(seed: u64, steps: RangeInclusive<usize>) -> Seed
where
    M: Model + Default + Send,
    M::Op: Send,
    S: System<M> + Default + 'static,
{
    let config = default_config().seed(seed).persist(false).steps(steps);
    let result = Runner::<M>::new(config).run_default::<S>();
    let stats = &result.report.shrink;
    Seed {
        seed,
        minimal: result
            .failed()
            .then(|| result.report.minimal_rust.prefix.clone()),
        shrink_runs: stats.runs,
        detail: format!(
            "shrunk from {} steps, {} runs, {} skipped as seen, budget exhausted: {}",
            stats.steps_before, stats.runs, stats.skipped, stats.budget_exhausted
        ),
    }
}

/// One proptest-state-machine run, its shrunk transitions printed as stateprop prints them.
fn psm_run<M, S>(seed: u64, steps: RangeInclusive<usize>) -> Seed
where
    M: Model + Default,
    M::Op: Twin,
    S: System<M> + Default,
{
    let outcome = quietly(|| psm::run::<M, S>(seed, steps));
    Seed {
        seed,
        minimal: outcome
            .minimal
            .map(|program| program.iter().map(StateMachine::to_rust).collect()),
        shrink_runs: outcome.shrink_runs,
        detail: outcome.aborted.unwrap_or_default(),
    }
}

fn expected(program: &[&'static str]) -> Vec<Vec<&'static str>> {
    vec![program.to_vec()]
}

/// A bug both frameworks run: `S` has it, `C` is the zoo's correct twin.
fn both<M, S, C>(name: &'static str, expected: Vec<Vec<&'static str>>) -> Bug
where
    M: Model + Default + Send,
    M::Op: Send + Twin,
    S: System<M> + Default + 'static,
    C: System<M> + Default + 'static,
{
    Bug {
        name,
        expected,
        steps: None,
        stateprop: stateprop_run::<M, S>,
        psm: Ok((psm_run::<M, S>, psm_run::<M, C>)),
    }
}

fn zoo() -> Vec<Bug> {
    vec![
        both::<boundary::Map, boundary::Table<true>, boundary::Table<false>>(
            "boundary",
            expected(boundary::EXPECTED),
        ),
        both::<three_steps::StackModel, three_steps::Stack<true>, three_steps::Stack<false>>(
            "three_steps",
            expected(three_steps::EXPECTED),
        ),
        both::<rare_rule::Count, rare_rule::Counter<true>, rare_rule::Counter<false>>(
            "rare_rule",
            expected(rare_rule::EXPECTED),
        ),
        Bug {
            steps: Some(long::STEPS),
            ..both::<long::LogModel, long::Ring<true>, long::Ring<false>>(
                "long",
                expected(&long::expected()),
            )
        },
        both::<invariant::SetModel, invariant::CountedSet<true>, invariant::CountedSet<false>>(
            "invariant",
            expected(invariant::EXPECTED),
        ),
        both::<all_rules::Lock, all_rules::Keypad<true>, all_rules::Keypad<false>>(
            "all_rules",
            expected(all_rules::EXPECTED),
        ),
        both::<simplest_value::Store, simplest_value::Table<true>, simplest_value::Table<false>>(
            "simplest_value",
            expected(simplest_value::EXPECTED),
        ),
        both::<precondition::Items, precondition::Compactor<true>, precondition::Compactor<false>>(
            "precondition",
            expected(precondition::EXPECTED),
        ),
        both::<zoo_panic::Model2, zoo_panic::LenStack<true>, zoo_panic::LenStack<false>>(
            "panic",
            expected(zoo_panic::EXPECTED),
        ),
        both::<canonical::Kv, canonical::FifoKv<true>, canonical::FifoKv<false>>(
            "canonical_fifo",
            expected(canonical::EXPECTED_FIFO),
        ),
        both::<canonical::Account, canonical::Bank<true>, canonical::Bank<false>>(
            "canonical_bank",
            expected(canonical::EXPECTED_BANK),
        ),
        both::<ties::PqModel, ties::Pq<1>, ties::Pq<0>>(
            "ties_stack",
            expected(ties::EXPECTED_STACK),
        ),
        both::<ties::PqModel, ties::Pq<2>, ties::Pq<0>>(
            "ties_lost_tie",
            expected(ties::EXPECTED_LOSES_TIE),
        ),
        Bug {
            name: "ties_bag",
            expected: ties::BAG_MINIMA.iter().map(|m| m.to_vec()).collect(),
            steps: None,
            stateprop: stateprop_run::<ties::BagModel, ties::Bag<true>>,
            // Its twin raised false alarms on the correct bag in every seed tried: a `Restore`
            // generated against the reference's own takes named a step where the system took
            // nothing.
            psm: Err(
                "the model follows the system's choice (Model::accept) and a Var names \
                      what the system took; p-s-m's reference state cannot see system outputs",
            ),
        },
        both::<
            var_reference::RegistryModel,
            var_reference::Registry<true>,
            var_reference::Registry<false>,
        >("var_reference", expected(var_reference::EXPECTED)),
        both::<descriptors::Table, descriptors::Descriptors<true>, descriptors::Descriptors<false>>(
            "descriptors",
            expected(descriptors::EXPECTED),
        ),
        both::<merge::LogModel, merge::LogStore<true>, merge::LogStore<false>>(
            "merge",
            expected(merge::EXPECTED),
        ),
        both::<picked_key::Map, picked_key::CachedMap<true>, picked_key::CachedMap<false>>(
            "picked_key",
            expected(picked_key::EXPECTED),
        ),
        both::<consumed::Table, consumed::Descriptors<true>, consumed::Descriptors<false>>(
            "consumed",
            expected(consumed::EXPECTED),
        ),
        both::<inverse::Stack, inverse::CachedStack<true>, inverse::CachedStack<false>>(
            "inverse",
            expected(inverse::EXPECTED),
        ),
        both::<repeat::Ledger, repeat::Payments<true>, repeat::Payments<false>>(
            "repeat",
            expected(repeat::EXPECTED),
        ),
        both::<colours::Palette, colours::FifoPalette<true>, colours::FifoPalette<false>>(
            "colours_palette",
            expected(colours::EXPECTED_PALETTE),
        ),
        both::<colours::Names, colours::FifoNames<true>, colours::FifoNames<false>>(
            "colours_names",
            expected(colours::EXPECTED_NAMES),
        ),
    ]
}

thread_local! {
    /// Silences the panic hook while p-s-m's cases fail on purpose (in this thread).
    static QUIET: Cell<bool> = const { Cell::new(false) };
}

/// Runs `f` with this thread's panic messages silenced.
fn quietly<T>(f: impl FnOnce() -> T) -> T {
    QUIET.with(|q| q.set(true));
    let out = f();
    QUIET.with(|q| q.set(false));
    out
}

pub(crate) fn splitmix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// Every result of `framework` that is not the simplest form: seed, what the run said, program.
fn print_shortfalls(rows: &[Row], framework: &str) {
    let mut none = true;
    for row in rows.iter().filter(|r| r.framework == framework) {
        for seed in &row.seeds {
            match &seed.minimal {
                Some(program) if row.is_simplest(program) => {}
                Some(program) => {
                    none = false;
                    let detail = if seed.detail.is_empty() {
                        format!("{} shrink runs", seed.shrink_runs)
                    } else {
                        seed.detail.clone()
                    };
                    println!(
                        "stateprop:   {} seed {}: {} steps (expected {}); {detail}:",
                        row.bug,
                        seed.seed,
                        program.len(),
                        row.minimal_len,
                    );
                    for (i, step) in program.iter().enumerate() {
                        println!("stateprop:     {i}. {step}");
                    }
                }
                None => {
                    none = false;
                    println!("stateprop:   {} seed {}: not found", row.bug, seed.seed);
                }
            }
        }
    }
    if none {
        println!("stateprop:   none");
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let quick = args.iter().any(|a| a == "quick");
    let seeds: Vec<u64> = (1..=if quick { 5 } else { 20 }).collect();
    let previous = panic::take_hook();
    panic::set_hook(Box::new(move |info| {
        if !QUIET.with(Cell::get) {
            previous(info);
        }
    }));

    let config = default_config();
    let pc = psm::runner(0).config().clone();
    println!(
        "stateprop: findpower bench: the bug zoo, {} seeds each (seeds 1..={})",
        seeds.len(),
        seeds.len()
    );
    println!(
        "stateprop: stateprop settings: Config::default().ignore_env() + seed + persist(false): \
         {} cases, steps {:?}, swarm {}, failures {}, max_shrink_runs {}",
        config.cases,
        default_steps(),
        config.swarm,
        config.failures,
        config.max_shrink_runs
    );
    println!(
        "stateprop: p-s-m settings: ProptestConfig::default() (no persistence): {} cases, \
         max_shrink_iters {}, sequential {:?}; integers any::<T>() where the zoo uses the \
         default strategy",
        pc.cases,
        pc.max_shrink_iters(),
        default_steps()
    );
    println!(
        "stateprop: both frameworks: steps {:?} for long (its bug needs 42 steps)",
        long::STEPS
    );
    println!(
        "stateprop: minimal = shrunk to the known minimal length; simplest = exactly the zoo's \
         expected program; shrink runs = SUT executions spent shrinking, over found seeds"
    );
    println!(
        "stateprop: {:<16} {:<9} {:>5}  {:>5}  {:>5}  {:>13}  {:>9}",
        "bug", "framework", "found", "min", "simp", "shrink med/max", "time"
    );

    let started = Instant::now();
    let mut rows: Vec<Row> = Vec::new();
    let mut twin_runs = 0;
    let mut false_alarms = Vec::new();
    let mut not_run = Vec::new();
    for bug in zoo() {
        let steps = bug.steps.clone().unwrap_or_else(default_steps);
        let minimal_len = bug.expected[0].len();
        let mut runs = vec![("stateprop", bug.stateprop)];
        match bug.psm {
            Ok((buggy, correct)) => {
                runs.push(("p-s-m", buggy));
                for &seed in &seeds {
                    twin_runs += 1;
                    if let Some(program) = correct(seed, steps.clone()).minimal {
                        false_alarms.push(format!("{} seed {seed}: {program:?}", bug.name));
                    }
                }
            }
            Err(why) => not_run.push((bug.name, why)),
        }
        for (framework, run) in runs {
            let clock = Instant::now();
            let row = Row {
                bug: bug.name,
                framework,
                seeds: seeds.iter().map(|&seed| run(seed, steps.clone())).collect(),
                time: clock.elapsed(),
                minimal_len,
                expected: bug.expected.clone(),
            };
            row.print();
            rows.push(row);
        }
    }

    println!();
    println!(
        "stateprop: p-s-m twins against the zoo's correct systems: {} false alarms in {twin_runs} \
         runs",
        false_alarms.len()
    );
    for alarm in &false_alarms {
        println!("stateprop:   false alarm: {alarm}");
    }
    for (bug, why) in &not_run {
        println!("stateprop: p-s-m did not run {bug}: {why}");
    }
    for framework in ["stateprop", "p-s-m"] {
        let mine: Vec<&Row> = rows.iter().filter(|r| r.framework == framework).collect();
        let total: usize = mine.iter().map(|r| r.seeds.len()).sum();
        let sum = |f: fn(&Row) -> usize| mine.iter().map(|r| f(r)).sum::<usize>();
        println!(
            "stateprop: total {framework:<9} found {}/{total}, minimal length {}/{total}, \
             simplest form {}/{total} ({} bugs)",
            sum(Row::found),
            sum(Row::at_minimal_length),
            sum(Row::simplest),
            mine.len()
        );
    }
    // The same totals over the bugs both frameworks ran, the like-for-like comparison.
    let shared: Vec<&str> = rows
        .iter()
        .filter(|r| r.framework == "p-s-m")
        .map(|r| r.bug)
        .collect();
    let ours: Vec<&Row> = rows
        .iter()
        .filter(|r| r.framework == "stateprop" && shared.contains(&r.bug))
        .collect();
    let total: usize = ours.iter().map(|r| r.seeds.len()).sum();
    println!(
        "stateprop: total stateprop on the {} bugs p-s-m ran: found {}/{total}, minimal length \
         {}/{total}, simplest form {}/{total}",
        ours.len(),
        ours.iter().map(|r| r.found()).sum::<usize>(),
        ours.iter().map(|r| r.at_minimal_length()).sum::<usize>(),
        ours.iter().map(|r| r.simplest()).sum::<usize>(),
    );

    println!();
    println!("stateprop: shortfalls of stateprop (not the simplest form), by bug and seed:");
    print_shortfalls(&rows, "stateprop");
    if args.iter().any(|a| a == "psm") {
        println!("stateprop: shortfalls of p-s-m (not the simplest form), by bug and seed:");
        print_shortfalls(&rows, "p-s-m");
    }
    let aborted: Vec<String> = rows
        .iter()
        .flat_map(|r| {
            r.seeds
                .iter()
                .filter(|s| r.framework == "p-s-m" && !s.detail.is_empty())
                .map(move |s| format!("{} seed {}: {}", r.bug, s.seed, s.detail))
        })
        .collect();
    if !aborted.is_empty() {
        println!("stateprop: p-s-m runs that aborted (counted as not found):");
        for line in aborted {
            println!("stateprop:   {line}");
        }
    }
    println!(
        "stateprop: findpower wall time: {:.1} s",
        started.elapsed().as_secs_f64()
    );
}

// The bug zoo, from its own files.
#[path = "../tests/bugzoo/all_rules.rs"]
#[allow(dead_code, unused_imports)]
mod all_rules;
#[path = "../tests/bugzoo/boundary.rs"]
#[allow(dead_code, unused_imports)]
mod boundary;
#[path = "../tests/bugzoo/canonical.rs"]
#[allow(dead_code, unused_imports)]
mod canonical;
#[path = "../tests/bugzoo/colours.rs"]
#[allow(dead_code, unused_imports)]
mod colours;
#[path = "../tests/bugzoo/consumed.rs"]
#[allow(dead_code, unused_imports)]
mod consumed;
#[path = "../tests/bugzoo/descriptors.rs"]
#[allow(dead_code, unused_imports)]
mod descriptors;
#[path = "../tests/bugzoo/invariant.rs"]
#[allow(dead_code, unused_imports)]
mod invariant;
#[path = "../tests/bugzoo/inverse.rs"]
#[allow(dead_code, unused_imports)]
mod inverse;
#[path = "../tests/bugzoo/long.rs"]
#[allow(dead_code, unused_imports)]
mod long;
#[path = "../tests/bugzoo/merge.rs"]
#[allow(dead_code, unused_imports)]
mod merge;
#[path = "../tests/bugzoo/picked_key.rs"]
#[allow(dead_code, unused_imports)]
mod picked_key;
#[path = "../tests/bugzoo/precondition.rs"]
#[allow(dead_code, unused_imports)]
mod precondition;
#[path = "../tests/bugzoo/rare_rule.rs"]
#[allow(dead_code, unused_imports)]
mod rare_rule;
#[path = "../tests/bugzoo/repeat.rs"]
#[allow(dead_code, unused_imports)]
mod repeat;
#[path = "../tests/bugzoo/simplest_value.rs"]
#[allow(dead_code, unused_imports)]
mod simplest_value;
#[path = "../tests/bugzoo/three_steps.rs"]
#[allow(dead_code, unused_imports)]
mod three_steps;
#[path = "../tests/bugzoo/ties.rs"]
#[allow(dead_code, unused_imports)]
mod ties;
#[path = "../tests/bugzoo/var_reference.rs"]
#[allow(dead_code, unused_imports)]
mod var_reference;
#[path = "../tests/bugzoo/panic.rs"]
#[allow(dead_code, unused_imports)]
mod zoo_panic;

// The helpers the zoo's tests import; the tests are not compiled here.
#[allow(dead_code)]
const SEEDS: [u64; 0] = [];
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
