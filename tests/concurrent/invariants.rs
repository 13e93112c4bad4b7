//! `ConcurrentSystem::invariant`: asked after the prefix against the model after it, and after
//! the branches join against every end state of the history's linearizations, failing only if
//! it fails in all of them. In both modes (real threads; the PCT and random controlled
//! schedulers with `--features shuttle`), like `races` and `correct`.
//!
//! - A tally whose answers are all linearizable (an atomic `fetch_add`) but whose separate
//!   length is kept by a load and a store: two increments that overlap leave it one short. No
//!   history judge can see that; the invariant after the join does, and the run shrinks to the
//!   two increments.
//! - A correct store of two slots whose overlapping puts of different values leave it in the
//!   state of either order: the invariant "the stored values are the model's" holds in one end
//!   state and not the other, and must not fail. The test counts the end states it refused on
//!   the way, so it shows the case really arose (a check against one end state only would have
//!   reported a correct store).
//! - A tally that loses count sequentially, at its second increment: the invariant after the
//!   prefix reports it at the prefix's last step, before any branch runs.

use crate::{modes, pinned};
use stateprop::prelude::*;
use stateprop::sync::atomic::{AtomicU64, Ordering};
use stateprop::sync::{self, Mutex};
use stateprop::{ConcurrentSystem, FailureKind, Program, Runner, Scheduler};
use std::time::{Duration, Instant};

/// Holds a section open so that two branches overlap in it: on real threads, a couple of
/// hundred microseconds of yielding (the branches are released together, but a section of a few
/// instructions is seldom entered by both at once on a shared two-core machine); under the
/// controlled scheduler, one more point where it may switch threads.
fn hold() {
    if sync::CONTROLLED {
        sync::thread::yield_now();
        return;
    }
    let start = Instant::now();
    while start.elapsed() < Duration::from_micros(200) {
        sync::thread::yield_now();
    }
}

// --- A tally whose length drifts ----------------------------------------------------------

/// The model: a count of increments.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Tally {
    count: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, StateMachine)]
#[state_machine(model = Tally)]
pub enum TallyOp {
    /// Count one.
    Incr,
    /// The count so far.
    Read,
}

impl Model for Tally {
    type Op = TallyOp;
    type Output = Option<u64>;

    fn step(&mut self, op: &TallyOp) -> Option<u64> {
        match op {
            TallyOp::Incr => {
                self.count += 1;
                None
            }
            TallyOp::Read => Some(self.count),
        }
    }
}

/// The invariant both tallies share: the count is the model's, and the length agrees with it.
fn tally_invariant(count: &AtomicU64, len: &AtomicU64, model: &Tally) -> Result<(), String> {
    let (count, len) = (count.load(Ordering::SeqCst), len.load(Ordering::SeqCst));
    if count != model.count {
        return Err(format!("count {count}, model says {}", model.count));
    }
    if len != count {
        return Err(format!("len {len} but count {count}"));
    }
    Ok(())
}

/// Counts with `fetch_add`, so every answer is linearizable; keeps its length apart, by a load
/// and a store with a window between them (the bug: `len.fetch_add(1)` fixes it).
#[derive(Default)]
pub struct DriftingTally {
    count: AtomicU64,
    len: AtomicU64,
}

impl ConcurrentSystem<Tally> for DriftingTally {
    fn apply(&self, op: &TallyOp) -> Option<u64> {
        match op {
            TallyOp::Incr => {
                self.count.fetch_add(1, Ordering::SeqCst);
                let len = self.len.load(Ordering::SeqCst);
                hold();
                self.len.store(len + 1, Ordering::SeqCst);
                None
            }
            TallyOp::Read => Some(self.count.load(Ordering::SeqCst)),
        }
    }

    fn invariant(&self, model: &Tally) -> Result<(), String> {
        tally_invariant(&self.count, &self.len, model)
    }
}

#[test]
fn a_length_that_drifts_under_concurrent_use_is_caught_after_the_branches_join() {
    let minimal = Program::parallel(vec![], vec![vec![TallyOp::Incr], vec![TallyOp::Incr]]);
    for &scheduler in modes() {
        for seed in [1, 2, 3] {
            let result = Runner::<Tally>::new(pinned(seed).scheduler(scheduler))
                .run_concurrent_default::<DriftingTally>();
            let text = result.report.text();
            let mode = format!("{}, seed {seed}", scheduler.name());
            assert!(result.failed(), "{mode}: not found\n{text}");
            let failure = result.report.failure.as_ref().unwrap();
            assert_eq!(failure.step, None, "{mode}: {failure:?}");
            let FailureKind::Invariant { message } = &failure.kind else {
                panic!("{mode}: an invariant failure, not {failure:?}\n{text}");
            };
            // Two increments overlapped: one end state, count 2, and the length one short.
            assert_eq!(
                message,
                "after the branches joined, in the one end state its linearizations reach; in \
                 model state Tally { count: 2 }: len 1 but count 2",
                "{mode}"
            );
            assert!(
                text.contains(
                    "stateprop: cause: invariant broken after the branches joined, in the one end state"
                ),
                "{mode}:\n{text}"
            );
            assert_eq!(result.minimal_program, minimal, "{mode}:\n{text}");
        }
    }
}

// --- A correct store whose overlapping puts end either way ---------------------------------

/// The model: two slots, each empty or holding a value.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Slots {
    values: [Option<u8>; 2],
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, StateMachine)]
#[state_machine(model = Slots)]
pub enum SlotOp {
    /// Store a value (it answers nothing, so its order against another put to the slot shows
    /// only to a later get).
    #[rule(weight = 3)]
    Put {
        #[strategy(0..2usize)]
        slot: usize,
        #[strategy(0..4u8)]
        value: u8,
    },
    /// What a slot holds.
    Get {
        #[strategy(0..2usize)]
        slot: usize,
    },
}

impl Model for Slots {
    type Op = SlotOp;
    type Output = Option<u8>;

    fn step(&mut self, op: &SlotOp) -> Option<u8> {
        match *op {
            SlotOp::Put { slot, value } => {
                self.values[slot] = Some(value);
                None
            }
            SlotOp::Get { slot } => self.values[slot],
        }
    }
}

/// End states the store's invariant refused, over the whole test (each run's walk goes on to
/// the next one, so a refusal here never failed a run by itself).
static REFUSED: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// A correct store: every operation under one lock, held a while so that operations overlap.
#[derive(Default)]
pub struct LockedSlots(Mutex<[Option<u8>; 2]>);

impl ConcurrentSystem<Slots> for LockedSlots {
    fn apply(&self, op: &SlotOp) -> Option<u8> {
        let mut values = self.0.lock().unwrap();
        hold();
        match *op {
            SlotOp::Put { slot, value } => {
                values[slot] = Some(value);
                None
            }
            SlotOp::Get { slot } => values[slot],
        }
    }

    fn invariant(&self, model: &Slots) -> Result<(), String> {
        let values = *self.0.lock().unwrap();
        if values == model.values {
            return Ok(());
        }
        REFUSED.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Err(format!("stored {values:?}, model says {:?}", model.values))
    }
}

#[test]
fn overlapping_puts_that_end_either_way_are_no_failure() {
    for &scheduler in modes() {
        let before = REFUSED.load(std::sync::atomic::Ordering::Relaxed);
        let cases = if scheduler == Scheduler::Threads {
            60
        } else {
            300
        };
        let config = pinned(7).cases(cases).branches(3).scheduler(scheduler);
        let result = Runner::<Slots>::new(config).run_concurrent_default::<LockedSlots>();
        assert!(
            !result.failed(),
            "{}: a correct store was reported\n{}",
            scheduler.name(),
            result.report.text()
        );
        assert_eq!(result.report.stats.cases, cases);
        // The case the walk exists for arose: some run's first end state was not the one the
        // store was in, and another was.
        let refused = REFUSED.load(std::sync::atomic::Ordering::Relaxed) - before;
        assert!(
            refused > 0,
            "{}: no run had two end states",
            scheduler.name()
        );
    }
}

// --- A tally that loses count alone --------------------------------------------------------

/// Loses its length at the second increment, with or without company (the bug: the `if`).
#[derive(Default)]
pub struct StuckTally {
    count: AtomicU64,
    len: AtomicU64,
}

impl ConcurrentSystem<Tally> for StuckTally {
    fn apply(&self, op: &TallyOp) -> Option<u64> {
        match op {
            TallyOp::Incr => {
                if self.count.fetch_add(1, Ordering::SeqCst) != 1 {
                    self.len.fetch_add(1, Ordering::SeqCst);
                }
                None
            }
            TallyOp::Read => Some(self.count.load(Ordering::SeqCst)),
        }
    }

    fn invariant(&self, model: &Tally) -> Result<(), String> {
        tally_invariant(&self.count, &self.len, model)
    }
}

#[test]
fn an_invariant_broken_by_the_prefix_is_reported_at_its_last_step() {
    let program = Program::parallel(
        vec![TallyOp::Incr, TallyOp::Incr],
        vec![vec![TallyOp::Read], vec![TallyOp::Read]],
    );
    for &scheduler in modes() {
        let config = pinned(0).scheduler(scheduler).repeats(2);
        let replayed = std::panic::catch_unwind(|| {
            stateprop::replay_concurrent_scheduled::<Tally, StuckTally>(config, &program)
        });
        let payload = replayed.expect_err("the replay must fail");
        let text = payload
            .downcast_ref::<String>()
            .cloned()
            .unwrap_or_default();
        let mode = scheduler.name();
        assert!(
            text.contains(
                "invariant broken at step 1 of 4, after TallyOp::Incr: len 1 but count 2"
            ),
            "{mode}:\n{text}"
        );
        assert!(!text.contains("branches joined"), "{mode}:\n{text}");
    }
}

// --- The async form ------------------------------------------------------------------------

/// The drifting tally as an async service: the window between load and store is an await.
#[cfg(all(feature = "tokio", not(feature = "shuttle")))]
#[derive(Default)]
pub struct AsyncDriftingTally {
    count: AtomicU64,
    len: AtomicU64,
}

#[cfg(all(feature = "tokio", not(feature = "shuttle")))]
impl stateprop::AsyncSystem<Tally> for AsyncDriftingTally {
    async fn apply(&self, op: &TallyOp) -> Option<u64> {
        match op {
            TallyOp::Incr => {
                self.count.fetch_add(1, Ordering::SeqCst);
                let len = self.len.load(Ordering::SeqCst);
                tokio::time::sleep(Duration::from_micros(200)).await;
                self.len.store(len + 1, Ordering::SeqCst);
                None
            }
            TallyOp::Read => Some(self.count.load(Ordering::SeqCst)),
        }
    }

    fn invariant(&self, model: &Tally) -> Result<(), String> {
        tally_invariant(&self.count, &self.len, model)
    }
}

#[cfg(all(feature = "tokio", not(feature = "shuttle")))]
#[test]
fn an_async_system_s_invariant_is_asked_after_its_tasks_join() {
    let minimal = Program::parallel(vec![], vec![vec![TallyOp::Incr], vec![TallyOp::Incr]]);
    for seed in [1, 2] {
        let result = Runner::<Tally>::new(pinned(seed)).run_async_default::<AsyncDriftingTally>();
        let text = result.report.text();
        assert!(result.failed(), "seed {seed}:\n{text}");
        let failure = result.report.failure.as_ref().unwrap();
        assert_eq!(failure.step, None, "seed {seed}: {failure:?}");
        assert!(
            text.contains("stateprop: cause: invariant broken after the branches joined"),
            "seed {seed}:\n{text}"
        );
        assert_eq!(result.minimal_program, minimal, "seed {seed}:\n{text}");
    }
}

// --- A store that promises only session guarantees -----------------------------------------

/// What the session judge needs: gets read a slot, puts write it.
impl stateprop::check::ReadsWrites for Slots {
    type Key = usize;
    type Value = Option<u8>;

    fn access(
        op: &SlotOp,
        output: Option<&Option<u8>>,
    ) -> stateprop::check::Access<usize, Option<u8>> {
        use stateprop::check::Access;
        match (op, output) {
            (SlotOp::Get { slot }, Some(value)) => Access::Read {
                key: *slot,
                value: *value,
            },
            (SlotOp::Put { slot, value }, _) => Access::Write {
                key: *slot,
                value: Some(*value),
            },
            _ => Access::Other,
        }
    }

    fn initial_value(&self, slot: &usize) -> Option<u8> {
        self.values[*slot]
    }
}

/// Slots replicated per client whose replication was never wired up: each client reads and
/// writes a copy of its own. It keeps every session guarantee and is not linearizable; its
/// invariant, "every copy holds the model's values", is one a linearizable store would keep.
#[derive(Default)]
pub struct SlotsPerClient(Mutex<std::collections::BTreeMap<u64, [Option<u8>; 2]>>);

impl stateprop::ClientSystem<Slots> for SlotsPerClient {
    type Client = u64;

    fn connect(&self, client: u64) -> u64 {
        client
    }

    fn call(&self, client: &mut u64, op: &SlotOp) -> Option<u8> {
        let mut copies = self.0.lock().unwrap();
        let mine = copies.entry(*client).or_default();
        match *op {
            SlotOp::Put { slot, value } => {
                mine[slot] = Some(value);
                None
            }
            SlotOp::Get { slot } => mine[slot],
        }
    }

    fn invariant(&self, model: &Slots) -> Result<(), String> {
        let copies = self.0.lock().unwrap();
        match copies.iter().find(|(_, values)| **values != model.values) {
            Some((client, values)) => Err(format!(
                "client {client}'s copy holds {values:?}, model says {:?}",
                model.values
            )),
            None => Ok(()),
        }
    }
}

/// Judged by the session guarantees alone, the store is not taken to be in any linearization's
/// end state after the join: two branches that each put a value leave a history with
/// linearizations (puts answer nothing), in none of whose end states every copy agrees, and that
/// must not fail a store that never promised it. Asked for, linearizability catches the store.
#[test]
fn the_invariant_after_the_join_needs_the_linearizability_judge() {
    use stateprop::check::Guarantee;
    let program = Program::parallel(
        vec![],
        vec![
            vec![SlotOp::Put { slot: 0, value: 1 }],
            vec![SlotOp::Put { slot: 0, value: 2 }],
        ],
    );
    let all = [
        Guarantee::ReadYourWrites,
        Guarantee::MonotonicReads,
        Guarantee::MonotonicWrites,
        Guarantee::WritesFollowReads,
    ];
    for &scheduler in modes() {
        let config = pinned(3).cases(200).scheduler(scheduler);
        let result = Runner::<Slots>::new(config)
            .judge(stateprop::judge::session_guarantees(&all))
            .run_concurrent_default::<SlotsPerClient>();
        assert!(
            !result.failed(),
            "{}: a store that keeps its session guarantees was reported\n{}",
            scheduler.name(),
            result.report.text()
        );
        // The linearizability judge (the default) judges the invariant after the join too.
        let result = Runner::<Slots>::new(pinned(3).scheduler(scheduler))
            .run_concurrent_default::<SlotsPerClient>();
        assert!(result.failed(), "{}", scheduler.name());
    }
    // The two puts alone: under linearizability the invariant refuses both end states.
    let config = stateprop::Config::default()
        .ignore_env()
        .scheduler(modes()[0]);
    let result = std::panic::catch_unwind(|| {
        stateprop::replay_concurrent_scheduled::<Slots, SlotsPerClient>(config, &program);
    });
    let message = result.expect_err("the replay fails");
    let text = message
        .downcast_ref::<String>()
        .cloned()
        .unwrap_or_default();
    assert!(text.contains("after the branches joined"), "{text}");
}
