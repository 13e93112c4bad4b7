//! Throughput and shrinking benchmark: stateprop against proptest-state-machine and a raw loop.
//!
//! `cargo bench --bench throughput` prints measured numbers and a summary of the project's
//! targets. Nothing here asserts on timing: a missed target is printed as FAIL, not hidden.
//!
//! * Throughput: the quickstart's KV model (`examples/support/kv.rs`) against a correct store,
//!   the same number of cases and the same program lengths for every contender, best of
//!   `REPEATS` runs each.
//! * Shrinking: three planted bugs over 20 seeds each, for stateprop and
//!   proptest-state-machine: final lengths, SUT executions spent shrinking, 1-minimality.

#[path = "../examples/support/kv.rs"]
mod kv;

use kv::{BuggyStore, Kv, KvOp};
use proptest::prelude::{any, prop_oneof, Just, Strategy};
use proptest::sample::select;
use proptest::strategy::BoxedStrategy;
use proptest::test_runner::{
    Config as ProptestConfig, RngAlgorithm, TestCaseError, TestError, TestRng, TestRunner,
};
use proptest_state_machine::{ReferenceStateMachine, StateMachineTest};
use stateprop::{run_program, Config, Model, Runner, System};
use std::cell::Cell;
use std::marker::PhantomData;
use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

// ---------------------------------------------------------------------------------------------
// Parameters
// ---------------------------------------------------------------------------------------------

/// Cases per throughput run, identical for all contenders.
const CASES: u64 = 50_000;
/// Program lengths are uniform in `1..=MAX_LEN` for all contenders.
const MAX_LEN: usize = 50;
/// Each throughput measurement is repeated; the fastest run counts.
const REPEATS: usize = 5;
/// Seed of the throughput runs (the same work in every repetition).
const THROUGHPUT_SEED: u64 = 0x5EED_2026;
/// Seeds of the shrinking runs.
const SHRINK_SEEDS: std::ops::RangeInclusive<u64> = 1..=20;
/// Cases allowed to find each planted bug (both frameworks). proptest's automatic shrink budget
/// (`max_shrink_iters` left at its default) is then `4 * SHRINK_CASES` iterations.
const SHRINK_CASES: u64 = 1_000;

// ---------------------------------------------------------------------------------------------
// Counters: steps applied to a system, systems constructed
// ---------------------------------------------------------------------------------------------

/// Steps applied by every `Store`, per rule (Put, Get, Delete); each store counts locally and
/// adds its counts when dropped.
static STEPS: [AtomicU64; 3] = [const { AtomicU64::new(0) }; 3];
/// Systems under test constructed (any store, any framework).
static BUILT: AtomicU64 = AtomicU64::new(0);

/// A system under test the benchmark can build and count.
trait Sut: System<Kv> + 'static {
    fn build() -> Self;
}

/// Which planted bug a [`Store`] has.
const CORRECT: u8 = 0;
/// A put of a new key is lost once the store holds 5 keys or more.
const LOSES_PUT_AT_5: u8 = 1;
/// Deleting key 7 also removes key 0.
const DELETE_7_DROPS_0: u8 = 2;

/// A key-value store built like the quickstart's (a table with a read cache in front), with the
/// cache bug fixed; `BUG` plants one of the benchmark's own bugs.
#[derive(Debug, Default)]
struct Store<const BUG: u8> {
    table: Vec<(u8, u32)>,
    cache: Option<(u8, u32)>,
    applied: [u64; 3],
}

impl<const BUG: u8> Store<BUG> {
    fn put(&mut self, key: u8, value: u32) -> Option<u32> {
        let full = BUG == LOSES_PUT_AT_5 && self.table.len() >= 5;
        match self.table.iter_mut().find(|(k, _)| *k == key) {
            Some(slot) => {
                self.cache = Some((key, value));
                Some(std::mem::replace(&mut slot.1, value))
            }
            None if full => None,
            None => {
                self.cache = Some((key, value));
                self.table.push((key, value));
                None
            }
        }
    }

    fn get(&self, key: u8) -> Option<u32> {
        if let Some((k, v)) = self.cache {
            if k == key {
                return Some(v);
            }
        }
        self.table.iter().find(|(k, _)| *k == key).map(|&(_, v)| v)
    }

    fn remove(&mut self, key: u8) -> Option<u32> {
        if self.cache.is_some_and(|(k, _)| k == key) {
            self.cache = None;
        }
        let at = self.table.iter().position(|(k, _)| *k == key)?;
        Some(self.table.swap_remove(at).1)
    }

    fn delete(&mut self, key: u8) -> Option<u32> {
        let out = self.remove(key);
        if BUG == DELETE_7_DROPS_0 && key == 7 {
            self.remove(0);
        }
        out
    }
}

impl<const BUG: u8> Drop for Store<BUG> {
    fn drop(&mut self) {
        for (total, mine) in STEPS.iter().zip(self.applied) {
            total.fetch_add(mine, Ordering::Relaxed);
        }
    }
}

impl<const BUG: u8> System<Kv> for Store<BUG> {
    fn apply(&mut self, op: &KvOp) -> Option<u32> {
        match *op {
            KvOp::Put { key, value } => {
                self.applied[0] += 1;
                self.put(key, value)
            }
            KvOp::Get { key } => {
                self.applied[1] += 1;
                self.get(key)
            }
            KvOp::Delete { key } => {
                self.applied[2] += 1;
                self.delete(key)
            }
        }
    }

    /// The same invariant as `BuggyStore`'s in `kv.rs`.
    fn invariant(&self, model: &Kv) -> Result<(), String> {
        if self.table.len() == model.map.len() {
            Ok(())
        } else {
            Err(format!(
                "store holds {} keys, model {}",
                self.table.len(),
                model.map.len()
            ))
        }
    }
}

impl<const BUG: u8> Sut for Store<BUG> {
    fn build() -> Self {
        BUILT.fetch_add(1, Ordering::Relaxed);
        Store::default()
    }
}

impl Sut for BuggyStore {
    fn build() -> Self {
        BUILT.fetch_add(1, Ordering::Relaxed);
        BuggyStore::default()
    }
}

// ---------------------------------------------------------------------------------------------
// proptest-state-machine: the same model, rules, weights and checks
// ---------------------------------------------------------------------------------------------

/// The reference state: the same `Kv` model, plus the output of the last step so that the
/// postcondition can compare outputs exactly as stateprop does (the model steps once).
#[derive(Clone, Debug, Default)]
struct RefState {
    kv: Kv,
    last: Option<u32>,
}

struct KvRef;

impl ReferenceStateMachine for KvRef {
    type State = RefState;
    type Transition = KvOp;

    fn init_state() -> BoxedStrategy<RefState> {
        Just(RefState::default()).boxed()
    }

    /// Put 3 : Get 1 : Delete 1, keys in `0..8`; Delete only when the map is non-empty, and then
    /// of an existing key.
    fn transitions(state: &RefState) -> BoxedStrategy<KvOp> {
        let put = (0..8u8, any::<u32>()).prop_map(|(key, value)| KvOp::Put { key, value });
        let get = (0..8u8).prop_map(|key| KvOp::Get { key });
        if state.kv.map.is_empty() {
            prop_oneof![3 => put, 1 => get].boxed()
        } else {
            let keys: Vec<u8> = state.kv.map.keys().copied().collect();
            let delete = select(keys).prop_map(|key| KvOp::Delete { key });
            prop_oneof![3 => put, 1 => get, 1 => delete].boxed()
        }
    }

    fn apply(mut state: RefState, transition: &KvOp) -> RefState {
        state.last = state.kv.step(transition);
        state
    }

    /// What the derived machine keeps while shrinking: `Delete` needs a non-empty map, and its
    /// key is one its strategy picks, an existing key (stateprop's repair makes an argument
    /// picked from the model follow it; proptest-state-machine re-checks only this).
    fn preconditions(state: &RefState, transition: &KvOp) -> bool {
        match transition {
            KvOp::Delete { key } => state.kv.map.contains_key(key),
            _ => true,
        }
    }
}

thread_local! {
    /// Steps applied in the current proptest-state-machine case (for the initial failing length).
    static PST_CASE_STEPS: Cell<usize> = const { Cell::new(0) };
    /// Silences the panic hook while proptest-state-machine cases fail on purpose.
    static QUIET: Cell<bool> = const { Cell::new(false) };
}

struct PstTest<S>(PhantomData<S>);

impl<S: Sut> StateMachineTest for PstTest<S> {
    type SystemUnderTest = S;
    type Reference = KvRef;

    fn init_test(_: &RefState) -> S {
        PST_CASE_STEPS.with(|c| c.set(0));
        S::build()
    }

    fn apply(mut sut: S, ref_state: &RefState, transition: KvOp) -> S {
        PST_CASE_STEPS.with(|c| c.set(c.get() + 1));
        let actual = sut.apply(&transition);
        assert_eq!(actual, ref_state.last, "postcondition of {transition:?}");
        sut
    }

    fn check_invariants(sut: &S, ref_state: &RefState) {
        if let Err(message) = sut.invariant(&ref_state.kv) {
            panic!("invariant: {message}");
        }
    }
}

/// What a proptest-state-machine run observed about its first failure.
#[derive(Clone, Copy)]
struct FirstFailure {
    built_before: u64,
    at: Instant,
    steps: usize,
}

/// The shrink budget both frameworks get: proptest's automatic `max_shrink_iters` for
/// `SHRINK_CASES` cases, given to stateprop as `max_shrink_runs`.
fn shrink_budget() -> u64 {
    u64::from(pst_runner(SHRINK_CASES, 0).config().max_shrink_iters())
}

/// A seeded proptest runner: the same seed gives the same run. proptest's default generator is
/// ChaCha; `XorShift` is the fastest it offers, the nearest to stateprop's SplitMix64.
fn pst_runner_with(cases: u64, seed: u64, rng: RngAlgorithm) -> TestRunner {
    let config = ProptestConfig {
        cases: cases as u32,
        failure_persistence: None,
        ..ProptestConfig::default()
    };
    let mut bytes = [0u8; 32];
    for (i, chunk) in bytes.chunks_mut(8).enumerate() {
        chunk.copy_from_slice(&splitmix(seed.wrapping_add(i as u64)).to_le_bytes());
    }
    // ChaCha takes 32 bytes of seed, XorShift 16.
    let len = match rng {
        RngAlgorithm::XorShift => 16,
        _ => 32,
    };
    TestRunner::new_with_rng(config, TestRng::from_seed(rng, &bytes[..len]))
}

fn pst_runner(cases: u64, seed: u64) -> TestRunner {
    pst_runner_with(cases, seed, RngAlgorithm::ChaCha)
}

/// Runs proptest-state-machine as `prop_state_machine!` would (one `test_sequential` per case),
/// recording the first failure. Returns the final failing program, if any.
fn pst_run<S: Sut>(
    cases: u64,
    seed: u64,
    first: &Cell<Option<FirstFailure>>,
) -> Result<Option<Vec<KvOp>>, String> {
    pst_run_with::<S>(pst_runner(cases, seed), first)
}

/// [`pst_run`] on a given runner.
fn pst_run_with<S: Sut>(
    mut runner: TestRunner,
    first: &Cell<Option<FirstFailure>>,
) -> Result<Option<Vec<KvOp>>, String> {
    let config = runner.config().clone();
    let strategy = KvRef::sequential_strategy(1..=MAX_LEN);
    let outcome = runner.run(&strategy, |(state, transitions, seen)| {
        let config = config.clone();
        let ran = panic::catch_unwind(AssertUnwindSafe(|| {
            PstTest::<S>::test_sequential(config, state, transitions, seen)
        }));
        match ran {
            Ok(()) => Ok(()),
            Err(payload) => {
                if first.get().is_none() {
                    first.set(Some(FirstFailure {
                        built_before: BUILT.load(Ordering::Relaxed) - 1,
                        at: Instant::now(),
                        steps: PST_CASE_STEPS.with(Cell::get),
                    }));
                }
                let message = payload
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_default();
                Err(TestCaseError::fail(message))
            }
        }
    });
    match outcome {
        Ok(()) => Ok(None),
        Err(TestError::Fail(_, (_, transitions, _))) => Ok(Some(transitions)),
        Err(TestError::Abort(reason)) => Err(format!("proptest aborted: {reason}")),
    }
}

// ---------------------------------------------------------------------------------------------
// The raw loop: no framework
// ---------------------------------------------------------------------------------------------

fn splitmix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// SplitMix64 as a stream.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// Draws ops with the same weights and key range, applies them to the model and a fresh store
/// per case, compares outputs and checks the invariant after every step.
fn raw_loop(cases: u64, seed: u64) -> Result<(), String> {
    let mut rng = Rng(seed);
    for _ in 0..cases {
        let len = 1 + rng.below(MAX_LEN as u64);
        let mut model = Kv::default();
        let mut sut = Store::<CORRECT>::build();
        for _ in 0..len {
            let total = if model.map.is_empty() { 4 } else { 5 };
            let op = match rng.below(total) {
                0..=2 => KvOp::Put {
                    key: rng.below(8) as u8,
                    value: rng.next() as u32,
                },
                3 => KvOp::Get {
                    key: rng.below(8) as u8,
                },
                _ => {
                    let at = rng.below(model.map.len() as u64) as usize;
                    KvOp::Delete {
                        key: *model.map.keys().nth(at).expect("non-empty"),
                    }
                }
            };
            let expected = model.step(&op);
            let actual = sut.apply(&op);
            if expected != actual {
                return Err(format!("{op:?}: expected {expected:?}, got {actual:?}"));
            }
            sut.invariant(&model)?;
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Throughput
// ---------------------------------------------------------------------------------------------

/// Steps per rule: Put, Get, Delete.
type Mix = [u64; 3];

#[derive(Clone, Copy)]
struct Measured {
    steps: u64,
    mix: Mix,
    best: Duration,
    worst: Duration,
}

impl Measured {
    fn rate(&self) -> f64 {
        self.steps as f64 / self.best.as_secs_f64()
    }
}

fn steps_now() -> Mix {
    [0, 1, 2].map(|i| STEPS[i].load(Ordering::Relaxed))
}

/// Steps counted by the stores since `before` (the stores have all been dropped).
fn steps_since(before: Mix) -> Mix {
    let now = steps_now();
    [0, 1, 2].map(|i| now[i] - before[i])
}

fn stateprop_throughput(swarm: bool) -> Mix {
    let before = steps_now();
    let config = Config::default()
        .ignore_env()
        .cases(CASES)
        .steps(1..=MAX_LEN)
        .seed(THROUGHPUT_SEED)
        .persist(false)
        .swarm(swarm);
    let result = Runner::<Kv>::new(config).run(Store::<CORRECT>::build);
    assert!(
        !result.failed(),
        "false alarm on the correct store:\n{}",
        result.report.text()
    );
    let counted = steps_since(before);
    assert_eq!(result.report.stats.cases, CASES);
    assert_eq!(
        counted.iter().sum::<u64>(),
        result.report.stats.steps,
        "stateprop's step count disagrees with the store's"
    );
    counted
}

fn pst_throughput() -> Mix {
    pst_throughput_with(RngAlgorithm::ChaCha)
}

fn pst_throughput_with(rng: RngAlgorithm) -> Mix {
    let before = steps_now();
    let first = Cell::new(None);
    let runner = pst_runner_with(CASES, THROUGHPUT_SEED, rng);
    match pst_run_with::<Store<CORRECT>>(runner, &first) {
        Ok(None) => {}
        Ok(Some(program)) => panic!("proptest-state-machine false alarm: {program:?}"),
        Err(e) => panic!("{e}"),
    }
    steps_since(before)
}

fn raw_throughput() -> Mix {
    let before = steps_now();
    if let Err(e) = raw_loop(CASES, THROUGHPUT_SEED) {
        panic!("raw loop false alarm: {e}");
    }
    steps_since(before)
}

fn print_measured(name: &str, m: &Measured) {
    let pct = |i: usize| 100.0 * m.mix[i] as f64 / m.steps as f64;
    println!(
        "  {name:<34} {:>8} steps  best {:>8.2} ms  worst {:>8.2} ms  {:>11.0} steps/s  \
         put/get/delete {:.0}/{:.0}/{:.0}%",
        m.steps,
        m.best.as_secs_f64() * 1e3,
        m.worst.as_secs_f64() * 1e3,
        m.rate(),
        pct(0),
        pct(1),
        pct(2)
    );
}

// ---------------------------------------------------------------------------------------------
// Shrinking
// ---------------------------------------------------------------------------------------------

/// One shrinking run.
struct Shrunk {
    /// Length of the first failing program, up to its failing step.
    before: usize,
    program: Vec<KvOp>,
    /// SUT executions after the first failure was found (counted by the benchmark).
    executions: u64,
    /// What the framework itself reports (stateprop's `shrink.runs`).
    reported: Option<u64>,
    time: Duration,
    budget_exhausted: bool,
    one_minimal: bool,
}

/// Deleting any single step gives a program that is invalid (`run_program` says `Err`, or a
/// `Delete` names a key its strategy could not have picked) or that passes; and the program
/// itself fails.
fn is_one_minimal<S: Sut>(ops: &[KvOp]) -> bool {
    let factory = S::build;
    let fails = |ops: &[KvOp]| {
        picks_existing_keys(ops)
            && matches!(run_program(&Kv::default(), &factory, ops), Ok(Some(_)))
    };
    fails(ops)
        && (0..ops.len()).all(|i| {
            let mut shorter = ops.to_vec();
            shorter.remove(i);
            !fails(&shorter)
        })
}

/// Whether every `Delete` names a key the model holds where it runs.
fn picks_existing_keys(ops: &[KvOp]) -> bool {
    let mut model = Kv::default();
    ops.iter().all(|op| {
        let ok = !matches!(op, KvOp::Delete { key } if !model.map.contains_key(key));
        model.step(op);
        ok
    })
}

fn stateprop_shrink<S: Sut>(seed: u64) -> Option<Shrunk> {
    let built = BUILT.load(Ordering::Relaxed);
    let config = Config::default()
        .ignore_env()
        .cases(SHRINK_CASES)
        .max_shrink_runs(shrink_budget())
        .steps(1..=MAX_LEN)
        .seed(seed)
        .persist(false);
    let result = Runner::<Kv>::new(config).run(S::build);
    let built = BUILT.load(Ordering::Relaxed) - built;
    if !result.failed() {
        return None;
    }
    let shrink = &result.report.shrink;
    Some(Shrunk {
        before: shrink.steps_before,
        executions: built - result.report.stats.cases,
        // The shrinker's runs, and the run that confirms the result before it is reported.
        reported: Some(shrink.runs + 1),
        time: shrink.time,
        budget_exhausted: shrink.budget_exhausted,
        one_minimal: is_one_minimal::<S>(&result.minimal),
        program: result.minimal,
    })
}

fn pst_shrink<S: Sut>(seed: u64) -> Option<Shrunk> {
    let first = Cell::new(None);
    QUIET.with(|q| q.set(true));
    let outcome = pst_run::<S>(SHRINK_CASES, seed, &first);
    QUIET.with(|q| q.set(false));
    let end = Instant::now();
    let built = BUILT.load(Ordering::Relaxed);
    let program = match outcome {
        Ok(Some(program)) => program,
        Ok(None) => return None,
        Err(e) => panic!("{e}"),
    };
    let first = first.get().expect("a failure was recorded");
    // The first failing case's own construction is not a shrinking execution.
    let executions = built - first.built_before - 1;
    Some(Shrunk {
        before: first.steps,
        executions,
        reported: None,
        time: end - first.at,
        budget_exhausted: executions >= 4 * SHRINK_CASES,
        one_minimal: is_one_minimal::<S>(&program),
        program,
    })
}

struct BugResult {
    name: &'static str,
    minimal_len: usize,
    runs: Vec<Option<Shrunk>>,
}

impl BugResult {
    fn found(&self) -> impl Iterator<Item = &Shrunk> {
        self.runs.iter().flatten()
    }
    fn total_executions(&self) -> u64 {
        self.found().map(|s| s.executions).sum()
    }
    fn one_minimal(&self) -> usize {
        self.found().filter(|s| s.one_minimal).count()
    }
    /// How many different programs the seeds shrank to: 1 when every seed reaches the same
    /// simplest program.
    fn distinct(&self) -> usize {
        let mut seen: Vec<String> = self.found().map(|s| format!("{:?}", s.program)).collect();
        seen.sort();
        seen.dedup();
        seen.len()
    }
}

fn stats(mut values: Vec<u64>) -> String {
    if values.is_empty() {
        return "-".to_string();
    }
    values.sort_unstable();
    let median = if values.len() % 2 == 1 {
        values[values.len() / 2] as f64
    } else {
        (values[values.len() / 2 - 1] + values[values.len() / 2]) as f64 / 2.0
    };
    format!("{}/{}/{}", values[0], median, values[values.len() - 1])
}

fn print_bug(framework: &str, bug: &BugResult) {
    let found: Vec<&Shrunk> = bug.found().collect();
    let seeds = bug.runs.len();
    let lens: Vec<u64> = found.iter().map(|s| s.program.len() as u64).collect();
    let before: Vec<u64> = found.iter().map(|s| s.before as u64).collect();
    let execs: Vec<u64> = found.iter().map(|s| s.executions).collect();
    let times: Vec<u64> = found.iter().map(|s| s.time.as_micros() as u64).collect();
    let at_min = found
        .iter()
        .filter(|s| s.program.len() == bug.minimal_len)
        .count();
    let exhausted = found.iter().filter(|s| s.budget_exhausted).count();
    println!("  {framework}:");
    println!(
        "    bug found                        {}/{seeds} seeds",
        found.len()
    );
    println!(
        "    failing length before shrinking  {} (min/median/max)",
        stats(before)
    );
    println!(
        "    final length                     {} (min/median/max); {at_min}/{} at the minimal {}",
        stats(lens),
        found.len(),
        bug.minimal_len
    );
    println!(
        "    SUT executions while shrinking   {} (min/median/max), total {}",
        stats(execs),
        bug.total_executions()
    );
    println!(
        "    shrink wall time (us)            {} (min/median/max)",
        stats(times)
    );
    println!(
        "    1-minimal                        {}/{}",
        bug.one_minimal(),
        found.len()
    );
    let zero_values = found
        .iter()
        .filter(|s| {
            s.program
                .iter()
                .all(|op| !matches!(op, KvOp::Put { value, .. } if *value != 0))
        })
        .count();
    println!(
        "    every Put value shrunk to 0      {zero_values}/{}",
        found.len()
    );
    println!("    distinct final programs          {}", bug.distinct());
    let checked: Vec<&Shrunk> = found
        .iter()
        .copied()
        .filter(|s| s.reported.is_some())
        .collect();
    if !checked.is_empty() {
        let agree = checked
            .iter()
            .filter(|s| s.reported == Some(s.executions))
            .count();
        println!(
            "    shrink.runs + 1 confirming run = counted executions {agree}/{}",
            checked.len()
        );
    }
    println!(
        "    shrink budget exhausted          {exhausted}/{}",
        found.len()
    );
    if let Some(first) = found.first() {
        println!("    program of the first seed        {:?}", first.program);
    }
}

fn shrink_bug<S: Sut>(name: &'static str, minimal_len: usize) -> (BugResult, BugResult) {
    let mut ours = BugResult {
        name,
        minimal_len,
        runs: Vec::new(),
    };
    let mut theirs = BugResult {
        name,
        minimal_len,
        runs: Vec::new(),
    };
    for seed in SHRINK_SEEDS {
        let s = stateprop_shrink::<S>(seed);
        if let Some(s) = &s {
            if s.reported != Some(s.executions) {
                println!(
                    "  WARNING: seed {seed}: stateprop reports {:?} shrink runs, the benchmark \
                     counted {} SUT constructions",
                    s.reported, s.executions
                );
            }
        }
        ours.runs.push(s);
        theirs.runs.push(pst_shrink::<S>(seed));
    }
    (ours, theirs)
}

// ---------------------------------------------------------------------------------------------
// Main
// ---------------------------------------------------------------------------------------------

fn verdict(ok: bool) -> &'static str {
    if ok {
        "PASS"
    } else {
        "FAIL"
    }
}

fn main() {
    // Installed before stateprop's own hook, which defers to this one on other threads.
    let default_hook = panic::take_hook();
    panic::set_hook(Box::new(move |info| {
        if !QUIET.with(Cell::get) {
            default_hook(info);
        }
    }));
    let started = Instant::now();

    println!("stateprop benchmark (release build, {REPEATS} repetitions, best counts)");
    // Wall-clock numbers on a shared machine move with its load; say what it was.
    if let Ok(load) = std::fs::read_to_string("/proc/loadavg") {
        let load: Vec<&str> = load.split_whitespace().take(3).collect();
        println!(
            "load average {} (cpus: {})",
            load.join(" "),
            std::thread::available_parallelism().map_or(0, |n| n.get())
        );
    }
    println!();
    println!(
        "== Throughput: KV model vs a correct store, {CASES} cases, lengths uniform in 1..={MAX_LEN}, \
         seed {THROUGHPUT_SEED:#x} =="
    );
    // Interleave the contenders so drift on a busy machine hits all of them alike.
    let mut runs: [Vec<(Mix, Duration)>; 5] = Default::default();
    for _ in 0..REPEATS {
        let contenders: [&dyn Fn() -> Mix; 5] = [
            &|| stateprop_throughput(true),
            &|| stateprop_throughput(false),
            &pst_throughput,
            &raw_throughput,
            &|| pst_throughput_with(RngAlgorithm::XorShift),
        ];
        for (i, f) in contenders.iter().enumerate() {
            let start = Instant::now();
            let steps = f();
            runs[i].push((steps, start.elapsed()));
        }
    }
    let summarize = |name: &str, r: &[(Mix, Duration)]| {
        let mix = r[0].0;
        assert!(r.iter().all(|&(m, _)| m == mix), "{name}: steps changed");
        Measured {
            steps: mix.iter().sum(),
            mix,
            best: r.iter().map(|&(_, d)| d).min().expect("runs"),
            worst: r.iter().map(|&(_, d)| d).max().expect("runs"),
        }
    };
    let sp_swarm = summarize("stateprop (swarm on)", &runs[0]);
    let sp_plain = summarize("stateprop (swarm off)", &runs[1]);
    let pst = summarize("proptest-state-machine", &runs[2]);
    let raw = summarize("raw loop", &runs[3]);
    let pst_fast = summarize("proptest-state-machine (XorShift)", &runs[4]);
    print_measured("stateprop, swarm on (default)", &sp_swarm);
    print_measured("stateprop, swarm off", &sp_plain);
    print_measured("proptest-state-machine 0.9", &pst);
    print_measured("proptest-state-machine, XorShift rng", &pst_fast);
    print_measured("raw loop (splitmix, no framework)", &raw);
    let sp_over_pst = sp_swarm.rate() / pst.rate();
    let raw_over_sp = raw.rate() / sp_swarm.rate();
    println!();
    println!(
        "  stateprop/proptest-state-machine   {sp_over_pst:6.2}x (swarm on)   {:6.2}x (swarm off)",
        sp_plain.rate() / pst.rate()
    );
    println!(
        "  stateprop/p-s-m with XorShift      {:6.2}x (swarm on)   {:6.2}x (swarm off)",
        sp_swarm.rate() / pst_fast.rate(),
        sp_plain.rate() / pst_fast.rate()
    );
    println!(
        "  raw/stateprop                      {raw_over_sp:6.2}x (swarm on)   {:6.2}x (swarm off)",
        raw.rate() / sp_plain.rate()
    );
    println!(
        "  per step: stateprop {:.0} ns (swarm on), {:.0} ns (off); proptest-state-machine {:.0} ns; \
         raw {:.0} ns",
        1e9 / sp_swarm.rate(),
        1e9 / sp_plain.rate(),
        1e9 / pst.rate(),
        1e9 / raw.rate()
    );

    println!();
    println!(
        "== Shrinking: 3 planted bugs x {} seeds, {SHRINK_CASES} cases, lengths 1..={MAX_LEN} ==",
        SHRINK_SEEDS.count()
    );
    println!(
        "  stateprop: Config::default() (swarm on) with max_shrink_runs {} (the same budget as \
         proptest's below), max_shrink_time {:?}.",
        shrink_budget(),
        Config::default().max_shrink_time
    );
    let pc = pst_runner(SHRINK_CASES, 0);
    println!(
        "  proptest-state-machine: proptest defaults, max_shrink_iters automatic = {} \
         (4 x cases), max_shrink_time {} (0 = none).",
        pc.config().max_shrink_iters(),
        pc.config().max_shrink_time
    );
    println!(
        "  SUT executions = stores constructed after the first failing case was found \
         (stateprop: checked against report.shrink.runs plus the one run that confirms the \
         shrunk program before it is reported)."
    );
    println!(
        "  1-minimal = the program fails, and deleting any one step gives a program that \
         run_program finds invalid or passing."
    );
    let bugs = [
        shrink_bug::<BuggyStore>("stale cache after delete (quickstart BuggyStore)", 3),
        shrink_bug::<Store<LOSES_PUT_AT_5>>("put of a new key lost at 5+ keys", 6),
        // Minimal length 2, `Put 0, Delete 7`: Delete's precondition is only "the map is
        // non-empty", so deleting a key the model lacks is a valid step once the key is fixed.
        shrink_bug::<Store<DELETE_7_DROPS_0>>("delete of key 7 also removes key 0", 3),
    ];
    for (ours, theirs) in &bugs {
        println!();
        println!(
            "  -- {} (minimal known length {}) --",
            ours.name, ours.minimal_len
        );
        print_bug("stateprop", ours);
        print_bug("proptest-state-machine", theirs);
        println!(
            "  executions stateprop/proptest-state-machine: {:.3}",
            ours.total_executions() as f64 / theirs.total_executions().max(1) as f64
        );
    }

    let seeds = SHRINK_SEEDS.count();
    let all_minimal = bugs
        .iter()
        .all(|(ours, _)| ours.one_minimal() == seeds && ours.runs.iter().all(Option::is_some));
    let minimal_counts: Vec<String> = bugs
        .iter()
        .map(|(ours, _)| format!("{}/{seeds}", ours.one_minimal()))
        .collect();
    let exec_ratios: Vec<f64> = bugs
        .iter()
        .map(|(ours, theirs)| {
            ours.total_executions() as f64 / theirs.total_executions().max(1) as f64
        })
        .collect();
    let exec_ok = exec_ratios.iter().all(|&r| r <= 1.0 / 3.0);

    println!();
    println!("== Summary ==");
    // Swarm changes the operation mix (a case may run only gets), so swarm off is the
    // like-for-like comparison with the baselines, which have no swarm; both are judged.
    let sp_plain_over_pst = sp_plain.rate() / pst.rate();
    let sp_plain_over_fast = sp_plain.rate() / pst_fast.rate();
    let raw_over_plain = raw.rate() / sp_plain.rate();
    println!(
        "  [{}] throughput >= 10x proptest-state-machine, default config (swarm on): {sp_over_pst:.2}x",
        verdict(sp_over_pst >= 10.0)
    );
    println!(
        "  [{}] throughput >= 10x proptest-state-machine, same op mix (swarm off):   {sp_plain_over_pst:.2}x",
        verdict(sp_plain_over_pst >= 10.0)
    );
    println!(
        "  [{}] throughput >= 10x proptest-state-machine on XorShift, same op mix:    {sp_plain_over_fast:.2}x",
        verdict(sp_plain_over_fast >= 10.0)
    );
    println!(
        "  [{}] stateprop <= 1.5x slower than the raw loop, default config (swarm on): {raw_over_sp:.2}x",
        verdict(raw_over_sp <= 1.5)
    );
    println!(
        "  [{}] stateprop <= 1.5x slower than the raw loop, same op mix (swarm off):   {raw_over_plain:.2}x",
        verdict(raw_over_plain <= 1.5)
    );
    println!(
        "  [{}] 1-minimal in 20/20 seeds: {} (per bug)",
        verdict(all_minimal),
        minimal_counts.join(", ")
    );
    println!(
        "  [{}] stateprop shrink executions <= 1/3 of proptest-state-machine's: ratios {} (per bug, totals over seeds)",
        verdict(exec_ok),
        exec_ratios
            .iter()
            .map(|r| format!("{r:.3}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    // Fewer runs count only where the results are as simple: a framework that stops early
    // spends fewer runs on worse programs.
    println!(
        "         distinct final programs over the seeds, per bug: stateprop {}, proptest-state-machine {}",
        bugs.iter()
            .map(|(ours, _)| ours.distinct().to_string())
            .collect::<Vec<_>>()
            .join("/"),
        bugs.iter()
            .map(|(_, theirs)| theirs.distinct().to_string())
            .collect::<Vec<_>>()
            .join("/")
    );
    println!(
        "  benchmark wall time: {:.1} s",
        started.elapsed().as_secs_f64()
    );
}
