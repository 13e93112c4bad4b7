//! A zoo of races, each found and shrunk to its known minimal parallel program in both modes
//! (on real threads in the normal build; under the PCT and the random controlled schedulers
//! with `--features shuttle`): a lost update, a check-then-act, a torn read of two fields, and
//! a store whose clients read stale values of each other's writes (which the session judge
//! accepts and the linearizability judge does not). The systems are written against
//! `stateprop::sync`, which is `std::sync` in the normal build and shuttle's types under the
//! feature, so the same code runs in both.
//!
//! Every racy section holds a window where the bug is. On real threads, on a machine with two
//! cores shared with other builds, a window of a few instructions is seldom hit by two threads
//! released together (see docs/concurrent.md, "How the default number of repeats was chosen"),
//! while a yield lets the other thread in as a preemption there would. The check-then-act has
//! one `yield_now`; the races that need one operation to fall inside another, or to end first,
//! hold theirs open for a random few hundred microseconds of wall time ([`window`]; each system
//! says why). Under the controlled scheduler every window is a single
//! `stateprop::sync::thread::yield_now`, one more point where it may switch threads (the atomic
//! accesses and locks around it are points already). The bug is the same without the windows;
//! they only make the threads tests about the shrinking, not about luck.
//!
//! The seeds are pinned (`Config::ignore_env`); the default run asserts five seeds per race on
//! real threads, and seeds 0..20 under each controlled scheduler (a few milliseconds a seed).
//! `RACES_SEEDS=20 cargo test --test concurrent races:: -- --nocapture --test-threads 1` (add
//! `--features shuttle` for the controlled mode) asserts seeds 0..20 and prints a line per seed.
//!
//! On real threads, on the 2-core machine shared with other builds (2026-11-30, debug build,
//! three sweeps) every race was found and shrunk to its minimal program in 20 of 20 seeds each
//! time. One sweep's figures (medians over the 20 seeds; the rate is of the minimal program's
//! 100 confirming runs):
//!
//! | race | found by case (max) | finding | shrinking | minimal program fails |
//! |---|---|---|---|---|
//! | lost update | 6 | 0.10 s | 0.20 s | 49 of 100 (min 43) |
//! | check-then-act | 44 | 0.08 s | 0.02 s | 93 of 100 (min 78) |
//! | torn read | 3 | 0.08 s | 0.16 s | 47 of 100 (min 41) |
//! | stale replica | 3 | 0.02 s | 0.03 s | 100 of 100 |
//!
//! Under the controlled schedulers (same day, debug build, shuttle at opt-level 2) every race
//! was found and shrunk to its minimal program in 20 of 20 seeds under each. The runs are
//! deterministic, so a sweep repeats exactly; the rates are of the 100 confirming runs, five
//! rounds of the minimal program's 20 schedules. Those schedules come from the program and the
//! schedule seed, not the run seed, so under the random scheduler every seed that shrinks to the
//! same program gets the same rate; under PCT the seeds differ only in which of the two mirror
//! programs they end at.
//!
//! | race | scheduler | found by case (max) | finding | shrinking | minimal program fails |
//! |---|---|---|---|---|---|
//! | lost update | pct | 6 | 0.02 s | 0.02 s | 70 of 100 (min 50) |
//! | lost update | random | 6 | 0.01 s | 0.02 s | 35 of 100 |
//! | check-then-act | pct | 44 | 0.04 s | 0.02 s | 100 of 100 |
//! | check-then-act | random | 44 | 0.04 s | 0.02 s | 85 of 100 |
//! | torn read | pct | 3 | 0.01 s | 0.01 s | 55 of 100 (min 30) |
//! | torn read | random | 3 | 0.01 s | 0.01 s | 5 of 100 |
//! | stale replica | pct | 3 | 0.01 s | 0.01 s | 100 of 100 |
//! | stale replica | random | 3 | 0.01 s | 0.01 s | 100 of 100 |
//!
//! The random scheduler's minimal torn read fails in only one of its 20 schedules, yet it is
//! found and shrunk exactly in every seed; the runs being deterministic, that holds on every run
//! of the test, not by the luck of the day. The whole sweep, both schedulers, took 9 s.

#[path = "../support/quotes.rs"]
#[allow(dead_code)]
mod quotes;

use crate::{modes, pinned};
use stateprop::check::{Access, Guarantee, ReadsWrites};
use stateprop::judge;
use stateprop::models::{SetModel, SetOp, SetOut};
use stateprop::prelude::*;
use stateprop::sync::atomic::{AtomicU64, Ordering};
use stateprop::sync::{self, Mutex};
use stateprop::{ClientSystem, ConcurrentSystem, Config, FailureKind, Program, RunResult, Runner};
use std::collections::{BTreeSet, HashMap};
use std::time::{Duration, Instant};

/// The seeds every race is asserted over: five on real threads and 0..20 under the controlled
/// schedulers (where a seed costs a few milliseconds) by default, `RACES_SEEDS=n` for seeds
/// `0..n` (how the rates in the docs were measured).
fn seeds() -> Vec<u64> {
    match std::env::var("RACES_SEEDS")
        .ok()
        .and_then(|n| n.parse().ok())
    {
        Some(n) => (0..n).collect(),
        None if sync::CONTROLLED => (0..20).collect(),
        None => vec![1, 2, 3, 42, 2026],
    }
}

/// Runs `run` on every seed under every scheduler of the build ([`modes`]) and asserts each
/// found a failure the linearizability judge named, shrunk to one of `minimal` (a program and
/// its mirror image, whose branches are swapped, are the same race).
fn assert_found_and_minimal<Op>(
    race: &str,
    minimal: &[Program<Op>],
    run: impl Fn(Config) -> RunResult<Op>,
) where
    Op: std::fmt::Debug + PartialEq,
{
    let measuring = std::env::var_os("RACES_SEEDS").is_some();
    for (&scheduler, seed) in modes()
        .iter()
        .flat_map(|s| seeds().into_iter().map(move |seed| (s, seed)))
    {
        let result = run(pinned(seed).scheduler(scheduler));
        let text = result.report.text();
        let race = format!("{race} ({})", scheduler.name());
        assert!(result.failed(), "{race}, seed {seed}: not found\n{text}");
        assert!(
            minimal.contains(&result.minimal_program),
            "{race}, seed {seed}: shrunk to {:?}\n{text}",
            result.minimal_program
        );
        let failure = result.report.failure.as_ref().unwrap();
        assert!(
            matches!(failure.kind, FailureKind::History(_)),
            "{race}, seed {seed}: a linearizability violation, not {failure:?}"
        );
        // The report draws the failing run's history and marks the operation it cannot place.
        for line in [
            "time downward",
            "(cannot take effect)",
            "stateprop: why: no order",
        ] {
            assert!(
                text.contains(line),
                "{race}, seed {seed}: no {line:?}\n{text}"
            );
        }
        let (failed, runs) = result.report.reproduction.expect("a rate");
        assert!(
            failed > 0,
            "{race}, seed {seed}: {failed} of {runs}\n{text}"
        );
        if measuring {
            println!(
                "races: {race}, seed {seed}: found by case {:?}, shrunk in {} runs, minimal \
                 failed {failed} of {runs} runs; {:.2} s finding, {:.2} s shrinking",
                result.report.origin,
                result.report.shrink.runs,
                result.report.stats.time.as_secs_f64(),
                result.report.shrink.time.as_secs_f64()
            );
        }
    }
}

/// A program and the same program with its two branches swapped.
fn both_ways<Op: Clone>(prefix: Vec<Op>, a: Vec<Op>, b: Vec<Op>) -> Vec<Program<Op>> {
    vec![
        Program::parallel(prefix.clone(), vec![a.clone(), b.clone()]),
        Program::parallel(prefix, vec![b, a]),
    ]
}

// --- Lost update --------------------------------------------------------------------------

/// The model of a hit counter: increments, and a read of the count.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Hits {
    count: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, StateMachine)]
#[state_machine(model = Hits)]
pub enum HitOp {
    /// Count one hit.
    Incr,
    /// The count so far.
    Read,
}

impl Model for Hits {
    type Op = HitOp;
    type Output = Option<u64>;

    fn step(&mut self, op: &HitOp) -> Option<u64> {
        match op {
            HitOp::Incr => {
                self.count += 1;
                None
            }
            HitOp::Read => Some(self.count),
        }
    }
}

/// Holds a racy section open. On real threads: for `base` plus a random part of `spread`
/// microseconds of wall time, yielding all the while (a single `yield_now` returns at once when
/// no other thread waits for the core, as the other branch may be running on the second core a
/// few microseconds behind, and a plain spin would keep the core from the other branch when the
/// two share one: the machine is shared with other builds). Under the controlled scheduler: one
/// `yield_now`, a point where it may switch threads; wall time means nothing to it, and a loop
/// whose length a clock decides would make a different number of scheduling points on every
/// run, so a schedule seed would no longer replay its interleaving.
fn window(base: u64, spread: u64) {
    if sync::CONTROLLED {
        sync::thread::yield_now();
        return;
    }
    let d = Duration::from_micros(base + random_below(spread));
    let start = Instant::now();
    while start.elapsed() < d {
        sync::thread::yield_now();
    }
}

/// A number below `n`, different on every call: timing noise for a window, not a test input.
fn random_below(n: u64) -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(n);
    h.finish() % n
}

/// Increments by a load and a store: two increments that interleave count one.
///
/// Its window is wide and of random length: the loss shows only to a read that starts after
/// both increments returned, so the increment of the branch without the read must overlap the
/// other's and end first. The threads executor starts the last branch a little ahead of the
/// others, so with windows of one length the branch that started second also ended second,
/// and `[Incr] ‖ [Incr, Read]` failed in 2 runs of 100 (`[Incr, Read] ‖ [Incr]` in 75).
#[derive(Default)]
struct LostUpdateCounter(AtomicU64);

impl ConcurrentSystem<Hits> for LostUpdateCounter {
    fn apply(&self, op: &HitOp) -> Option<u64> {
        match op {
            HitOp::Incr => {
                let v = self.0.load(Ordering::SeqCst);
                window(100, 300); // the racy window
                self.0.store(v + 1, Ordering::SeqCst); // the fix: `fetch_add(1, SeqCst)`
                None
            }
            HitOp::Read => Some(self.0.load(Ordering::SeqCst)),
        }
    }
}

/// Found and shrunk to `[] ; [Incr, Read] ‖ [Incr]` (or its mirror) in 20 of 20 seeds: the
/// increments return nothing, so the loss shows only to a read after both.
#[test]
fn a_lost_update_shrinks_to_two_increments_and_a_read() {
    let minimal = both_ways(vec![], vec![HitOp::Incr, HitOp::Read], vec![HitOp::Incr]);
    assert_found_and_minimal("lost update", &minimal, |config| {
        Runner::<Hits>::new(config).run_concurrent_default::<LostUpdateCounter>()
    });
}

// --- Check-then-act -----------------------------------------------------------------------

/// A set whose insert checks for the value under one lock and inserts it under another: two
/// inserts of one value can both find it absent, and both say they inserted it.
#[derive(Default)]
struct CheckThenInsertSet(Mutex<BTreeSet<i64>>);

impl ConcurrentSystem<SetModel> for CheckThenInsertSet {
    fn apply(&self, op: &SetOp) -> SetOut {
        let set = &self.0;
        match *op {
            SetOp::Insert { value } => {
                if set.lock().unwrap().contains(&value) {
                    return SetOut::Bool(false);
                }
                // The window between the check and the act. The fix: one lock around both, or
                // `insert`'s own answer.
                sync::thread::yield_now();
                set.lock().unwrap().insert(value);
                SetOut::Bool(true)
            }
            SetOp::Remove { value } => SetOut::Bool(set.lock().unwrap().remove(&value)),
            SetOp::Contains { value } => SetOut::Bool(set.lock().unwrap().contains(&value)),
            SetOp::Read => SetOut::Values(set.lock().unwrap().iter().copied().collect()),
        }
    }
}

/// Found and shrunk to `[] ; [Insert 0] ‖ [Insert 0]` in 20 of 20 seeds: both inserts answer
/// `true`, which no order of the two explains. A single `yield_now` is window enough here:
/// each insert's own answer shows the race, whichever branch ends first.
#[test]
fn a_check_then_act_shrinks_to_two_inserts_of_one_value() {
    let insert = SetOp::Insert { value: 0 };
    let minimal = both_ways(vec![], vec![insert.clone()], vec![insert]);
    assert_found_and_minimal("check-then-act", &minimal, |config| {
        Runner::<SetModel>::new(config).run_concurrent_default::<CheckThenInsertSet>()
    });
}

// --- Torn read ----------------------------------------------------------------------------

/// The model of a point whose two coordinates are always written together.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Point {
    x: u32,
    y: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, StateMachine)]
#[state_machine(model = Point)]
pub enum PointOp {
    /// Move the point one step along the diagonal; answers nothing.
    Move,
    /// Both coordinates.
    Get,
}

impl Model for Point {
    type Op = PointOp;
    type Output = Option<(u32, u32)>;

    fn step(&mut self, op: &PointOp) -> Option<(u32, u32)> {
        match *op {
            PointOp::Move => {
                self.x += 1;
                self.y += 1;
                None
            }
            PointOp::Get => Some((self.x, self.y)),
        }
    }
}

/// Two fields written one after the other with no lock: a reader between the two writes sees
/// the new `x` with the old `y`, and a reader that reads one field, then the other, sees the
/// old `x` with the new `y` if a write falls between its reads. Both windows are wide and of
/// random lengths (of one length, a get that started after a move read each field after the
/// move wrote it, and one that started before read each before), so most overlaps of a move
/// and a get tear. With a window in the writer alone, the reader's two loads
/// had to fall inside it, and since the threads executor starts the last branch a little ahead
/// of the others, `[Move] ‖ [Get]` failed in 0 runs of 100 (`[Get] ‖ [Move]` in 100).
#[derive(Default)]
struct TornPoint {
    x: AtomicU64,
    y: AtomicU64,
}

impl ConcurrentSystem<Point> for TornPoint {
    fn apply(&self, op: &PointOp) -> Option<(u32, u32)> {
        match *op {
            PointOp::Move => {
                // The fix: both fields behind one lock (or in one atomic word).
                self.x.fetch_add(1, Ordering::SeqCst);
                window(0, 400); // between the two writes
                self.y.fetch_add(1, Ordering::SeqCst);
                None
            }
            PointOp::Get => {
                let x = self.x.load(Ordering::SeqCst) as u32;
                window(0, 400); // between the two reads
                let y = self.y.load(Ordering::SeqCst) as u32;
                Some((x, y))
            }
        }
    }
}

/// Found and shrunk to `[] ; [Move] ‖ [Get]` (or its mirror) in 20 of 20 seeds: the get
/// answers `(1, 0)` or `(0, 1)`.
#[test]
fn a_torn_read_shrinks_to_a_move_beside_a_get() {
    let minimal = both_ways(vec![], vec![PointOp::Move], vec![PointOp::Get]);
    assert_found_and_minimal("torn read", &minimal, |config| {
        Runner::<Point>::new(config).run_concurrent_default::<TornPoint>()
    });
}

// --- Stale reads of each other's writes ---------------------------------------------------

/// The model of a register: reads and writes, no compare-and-set (whose failure would be a
/// second way to show the same stale value, and leave the minimal form ambiguous).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Register {
    value: Option<u8>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, StateMachine)]
#[state_machine(model = Register)]
pub enum RegOp {
    /// The value (`None` before any write).
    Read,
    /// Replace the value.
    Write {
        #[strategy(0..3u8)]
        value: u8,
    },
}

impl Model for Register {
    type Op = RegOp;
    type Output = Option<u8>;

    fn step(&mut self, op: &RegOp) -> Option<u8> {
        match *op {
            RegOp::Read => self.value,
            RegOp::Write { value } => {
                self.value = Some(value);
                None
            }
        }
    }

    fn is_read_only(op: &RegOp) -> bool {
        matches!(op, RegOp::Read)
    }
}

/// What the session judge needs: reads read the register, writes write it.
impl ReadsWrites for Register {
    type Key = ();
    type Value = Option<u8>;

    fn access(op: &RegOp, output: Option<&Option<u8>>) -> Access<(), Option<u8>> {
        match (op, output) {
            (RegOp::Read, Some(value)) => Access::Read {
                key: (),
                value: *value,
            },
            (RegOp::Write { value }, _) => Access::Write {
                key: (),
                value: Some(*value),
            },
            _ => Access::Other,
        }
    }

    fn initial_value(&self, _: &()) -> Option<u8> {
        self.value
    }
}

/// A register replicated per client, whose replication was never wired up: each client (the
/// prefix's, and one per branch) reads and writes a replica of its own, so it always sees its
/// own writes and never another client's. Every session guarantee holds; the register is not
/// linearizable. A client is the number of its replica.
#[derive(Default)]
struct ReplicaPerClient(Mutex<HashMap<u64, Option<u8>>>);

impl ClientSystem<Register> for ReplicaPerClient {
    type Client = u64;

    fn connect(&self, client: u64) -> u64 {
        client
    }

    fn call(&self, replica: &mut u64, op: &RegOp) -> Option<u8> {
        let mut replicas = self.0.lock().unwrap();
        let mine = replicas.entry(*replica).or_default();
        match *op {
            RegOp::Read => *mine,
            RegOp::Write { value } => {
                // The fix: send the write to every replica (or read from one primary).
                *mine = Some(value);
                None
            }
        }
    }
}

/// The session judge (all four guarantees) passes 300 cases of it on each of two seeds: each
/// client's reads show its own writes, in order.
#[test]
fn stale_reads_of_other_clients_pass_the_session_judge() {
    let all = [
        Guarantee::ReadYourWrites,
        Guarantee::MonotonicReads,
        Guarantee::MonotonicWrites,
        Guarantee::WritesFollowReads,
    ];
    for (&scheduler, seed) in modes().iter().flat_map(|s| [(s, 1), (s, 2)]) {
        let config = pinned(seed).cases(300).scheduler(scheduler);
        let result = Runner::<Register>::new(config)
            .judge(judge::session_guarantees(&all))
            .run_concurrent_default::<ReplicaPerClient>();
        let mode = scheduler.name();
        assert!(
            !result.failed(),
            "{mode}, seed {seed}:\n{}",
            result.report.text()
        );
        let rules = &result.report.stats.rules;
        assert!(
            rules.iter().all(|(_, n)| *n > 0),
            "reads and writes were both generated: {rules:?}"
        );
    }
}

/// The linearizability judge (the default) finds it in 20 of 20 seeds and shrinks it to a write
/// in the prefix and a read in one branch, which fails on every run: the branch's client never
/// sees the prefix's write.
#[test]
fn stale_reads_of_other_clients_fail_the_linearizability_judge() {
    let minimal = [Program::parallel(
        vec![RegOp::Write { value: 0 }],
        vec![vec![RegOp::Read]],
    )];
    assert_found_and_minimal("stale replica", &minimal, |config| {
        Runner::<Register>::new(config).run_concurrent_default::<ReplicaPerClient>()
    });
    // Asked for beside the session judge, the linearizability judge still names it.
    let all = [Guarantee::ReadYourWrites, Guarantee::MonotonicReads];
    for &scheduler in modes() {
        let result = Runner::<Register>::new(pinned(5).scheduler(scheduler))
            .judge(judge::session_guarantees(&all))
            .judge(judge::linearizable())
            .run_concurrent_default::<ReplicaPerClient>();
        let text = result.report.text();
        assert_eq!(result.minimal_program, minimal[0], "{text}");
        assert!(text.contains("the history is not linearizable"), "{text}");
        assert_quoted_in_docs(&text);
    }
}

/// Asserts docs/concurrent.md quotes `text`, the stale replica's report, as printed.
fn assert_quoted_in_docs(text: &str) {
    // docs/concurrent.md quotes this report. Its minimal program fails the same way on every
    // run, but which case fails first does not (two branches that write and read may or may
    // not overlap), so the shrink counts are left out of the comparison.
    let anchor = "a write in the prefix and a read in one branch (seed 5):";
    let doc = quotes::read("docs/concurrent.md");
    let quote = quotes::block_after(&doc, "docs/concurrent.md", anchor);
    let uncounted = |text: &str| -> String {
        text.lines()
            .map(|line| match line.find(", shrunk from ") {
                Some(i) => format!("{}, shrunk from …\n", &line[..i]),
                None => format!("{line}\n"),
            })
            .collect()
    };
    quotes::assert_excerpt(
        "docs/concurrent.md",
        anchor,
        &uncounted(&quote),
        &uncounted(text),
    );
}
