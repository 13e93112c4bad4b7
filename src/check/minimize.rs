//! The smallest non-linearizable part of a history: [`minimal_violation`].
//!
//! A violation found in a history of 100,000 operations is true, but a person cannot check it by
//! hand. Taking operations away and checking again narrows it down: the checker is the oracle,
//! and a candidate is kept only when the checker says it is *not* linearizable (never when it
//! cannot tell). It is delta debugging (Zeller & Hildebrandt, "Simplifying and isolating
//! failure-inducing input", 2002) over the history itself, after two cheap cuts: the violating
//! partition alone (sound by P-compositionality), then the shortest prefix in time that still
//! fails; then over whole clients, then over single operations.
//!
//! Taking an operation away must not invent a violation. Deleting a write would: a read of its
//! value alone is "not linearizable" (nobody wrote that value), a violation the history does not
//! have. So every candidate allows all the behaviours the history allowed, and more; one that is
//! not linearizable then proves the history is not. Operations left out of a candidate are given
//! the benefit of the doubt in two stages:
//!
//! 1. Which outcomes contradict each other: a left-out read (an
//!    [observation](crate::Model::is_observation)) is deleted, which changes nothing another
//!    operation sees; a left-out operation that changes the state stays within its recorded
//!    interval, its output unchecked. Candidates are as easy to check as the history.
//! 2. Which of those state-changing operations matter: one at a time, latest first, each is
//!    given an unknown outcome (it may have taken effect at any time after its call, or never,
//!    with any output), and stays so if the contradiction remains.
//!
//! Stage 2 tries at most the 48 latest such operations: every doubted one may take effect at
//! any later time, so each makes the next check harder, and past a few dozen the checks only run
//! out of time. Operations called after every kept outcome was known cannot matter and are left out. The
//! result is the kept operations, usually a handful: they contradict each other whatever the
//! operations given an unknown outcome did. Each stage only ever adds doubt, so taking away any
//! one kept operation afterwards makes the rest linearizable ([`Minimal::one_minimal`]) when
//! every check decided in time.
//!
//! The checker's blame on the full history (the operation it could not place after its longest
//! partial linearization) can fall on a correct operation next to the faulty one; the minimal
//! violation keeps only operations that take part in the contradiction.

use super::{check_linearizable_by, CheckConfig, Report, Verdict};
use crate::history::History;
use crate::spec::Model;
use std::collections::BTreeMap;
use std::fmt::Debug;
use std::hash::Hash;
use std::time::{Duration, Instant};

/// State-changing operations stage 2 tries to doubt, latest first (see the module documentation).
const MAX_DOUBTED: usize = 48;

/// Limits of a minimization.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct MinimizeOptions {
    /// Stop shrinking after this long, keeping the smallest violation found so far. Default 10 s.
    pub time: Duration,
    /// The memory cap of each check ([`CheckConfig::max_memory`]). Default none.
    pub max_memory: Option<u64>,
}

impl Default for MinimizeOptions {
    fn default() -> Self {
        MinimizeOptions {
            time: Duration::from_secs(10),
            max_memory: None,
        }
    }
}

impl MinimizeOptions {
    /// See [`MinimizeOptions::time`].
    pub fn time(mut self, time: Duration) -> Self {
        self.time = time;
        self
    }
    /// See [`MinimizeOptions::max_memory`].
    pub fn max_memory(mut self, bytes: u64) -> Self {
        self.max_memory = Some(bytes);
        self
    }
}

/// A set of operations that contradict each other (see the module documentation).
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Minimal<Op, Out> {
    /// Its operations: indices into the original history, in order.
    pub ops: Vec<usize>,
    /// Those operations alone, with their sources: a sub-history that is not linearizable.
    pub history: History<Op, Out>,
    /// The checker's report on the candidate that proved it: `ops` as they are, with the other
    /// state-changing operations called before the last of them returned given unknown outcomes
    /// (its indices are into [`Minimal::witness`]).
    pub report: Report,
    /// The operations of that candidate: indices into the original history.
    pub witness: Vec<usize>,
    /// The operations of `ops` whose outputs take part in the contradiction: they are kept as
    /// recorded. The others of `ops` are [`Minimal::effects`].
    pub outcomes: Vec<usize>,
    /// The operations of `ops` that change the state and must have taken effect within their
    /// recorded intervals for the contradiction to hold; their outputs are not needed.
    pub effects: Vec<usize>,
    /// Operations of the witness given an unknown outcome (not in `ops`).
    pub doubted: usize,
    /// Each operation of `ops` was taken away in turn (given the benefit of the doubt: an
    /// outcome's read deleted or its state change made unknown, an effect made unknown) and
    /// each time the rest was found linearizable: no smaller violation is made of these
    /// operations. `false` when time ran out first or some check could not decide.
    pub one_minimal: bool,
    /// Checks run.
    pub checks: usize,
    /// Time spent.
    pub elapsed: Duration,
}

impl<Op, Out> Minimal<Op, Out> {
    /// The operation the checker cannot place in the minimal violation, as an index into the
    /// original history; `None` when it blames one given the benefit of the doubt.
    pub fn blamed(&self) -> Option<usize> {
        match &self.report.verdict {
            Verdict::Violated(v) => self
                .witness
                .get(v.blocked)
                .copied()
                .filter(|i| self.ops.binary_search(i).is_ok()),
            _ => None,
        }
    }
}

/// The smallest non-linearizable sub-history of `history` found within the time budget, given
/// the checker's `report` on it; `None` unless the report says it is not linearizable.
pub fn minimal_violation<M>(
    history: &History<M::Op, M::Output>,
    initial: &M,
    report: &Report,
    options: &MinimizeOptions,
) -> Option<Minimal<M::Op, M::Output>>
where
    M: Model + Hash + Eq,
{
    minimal_violation_by(history, initial, report, |_: &M::Op| (), options)
}

/// [`minimal_violation`] for a report of [`check_linearizable_by`] with this `partition`.
pub fn minimal_violation_by<M, K, P>(
    history: &History<M::Op, M::Output>,
    initial: &M,
    report: &Report,
    partition: P,
    options: &MinimizeOptions,
) -> Option<Minimal<M::Op, M::Output>>
where
    M: Model + Hash + Eq,
    K: Hash + Eq + Debug,
    P: Fn(&M::Op) -> K,
{
    let Verdict::Violated(v) = &report.verdict else {
        return None;
    };
    if options.time.is_zero() {
        // No time: no minimal violation, rather than the whole history posing as one.
        return None;
    }
    let blocked = history.ops.get(v.blocked)?;
    let key = partition(&blocked.op);
    let part: Vec<usize> = (0..history.ops.len())
        .filter(|&i| partition(&history.ops[i].op) == key)
        .collect();
    let mut oracle = Oracle {
        history,
        initial,
        partition: &partition,
        start: Instant::now(),
        options,
        checks: 0,
        undecided: 0,
        last: None,
        universe: part.clone(),
        context: None,
    };
    let mut items = part;
    if items.len() < history.ops.len() && !oracle.fails(&items) {
        // Cannot happen for a model whose partitions are independent; the whole history is the
        // honest fallback.
        items = (0..history.ops.len()).collect();
        oracle.universe = items.clone();
        if !oracle.fails(&items) {
            return None;
        }
    }
    items = shortest_failing_prefix(&mut oracle, items);
    let mut by_client: BTreeMap<u64, Vec<usize>> = BTreeMap::new();
    for &i in &items {
        by_client.entry(history.ops[i].client).or_default().push(i);
    }
    let groups: Vec<Vec<usize>> = by_client.into_values().collect();
    let (groups, _) = ddmin(groups, &mut |chosen: &[Vec<usize>]| {
        let mut flat: Vec<usize> = chosen.iter().flatten().copied().collect();
        flat.sort_unstable();
        oracle.fails(&flat)
    });
    let mut items: Vec<usize> = groups.into_iter().flatten().collect();
    items.sort_unstable();
    oracle.undecided = 0;
    let (outcomes, complete) = ddmin(items, &mut |chosen: &[usize]| oracle.fails(chosen));
    // Stage 2: the state-changing operations kept as context, latest call first. Doubt only
    // grows, so an operation found needed stays needed: one pass is enough.
    let (witness, _) = oracle.candidate(&outcomes);
    let mut context: Vec<usize> = witness
        .iter()
        .copied()
        .filter(|i| outcomes.binary_search(i).is_err() && history.ops[*i].ret.is_some())
        .collect();
    oracle.context = Some(context.clone());
    context.sort_by_key(|&i| std::cmp::Reverse((history.ops[i].call, i)));
    // Each doubted operation may take effect at any later time, so a check gets harder with
    // every one: past a few dozen, the checks would only run out of time.
    let tried = context.len().min(MAX_DOUBTED);
    let untried = context.len() - tried;
    context.truncate(tried);
    for i in context {
        let mut fewer = oracle.context.clone().unwrap_or_default();
        fewer.retain(|&c| c != i);
        let before = oracle.context.replace(fewer);
        if !oracle.fails(&outcomes) {
            oracle.context = before;
        }
    }
    let effects = oracle.context.clone().unwrap_or_default();
    let mut items = outcomes.clone();
    items.extend(&effects);
    items.sort_unstable();
    let one_minimal = complete && untried == 0 && oracle.undecided == 0 && !oracle.out_of_time();
    let sub = history.select(&items);
    // The last failing check may have been of a larger candidate; the report must be of these.
    let (witness, report) = match oracle.last.take() {
        Some((witness, report)) => (witness, report),
        None => {
            let (_, witness, report) = oracle.check(&items);
            (witness, report)
        }
    };
    Some(Minimal {
        doubted: witness.len().saturating_sub(items.len()),
        outcomes,
        effects,
        ops: items,
        history: sub,
        report,
        witness,
        one_minimal,
        checks: oracle.checks,
        elapsed: oracle.start.elapsed(),
    })
}

/// The checker as a yes/no question about sub-histories.
struct Oracle<'a, M: Model, P> {
    history: &'a History<M::Op, M::Output>,
    initial: &'a M,
    partition: &'a P,
    start: Instant,
    options: &'a MinimizeOptions,
    checks: usize,
    /// Checks that ended `Unknown` (counted as "does not fail").
    undecided: usize,
    /// The last candidate found failing, and its report.
    last: Option<(Vec<usize>, Report)>,
    /// The operations a candidate is made from (the violating partition's).
    universe: Vec<usize>,
    /// In stage 2, the state-changing operations kept within their intervals (sorted); the
    /// others get unknown outcomes. `None` in stage 1: all are kept so.
    context: Option<Vec<usize>>,
}

impl<M, K, P> Oracle<'_, M, P>
where
    M: Model + Hash + Eq,
    K: Hash + Eq + Debug,
    P: Fn(&M::Op) -> K,
{
    fn remaining(&self) -> Duration {
        self.options.time.saturating_sub(self.start.elapsed())
    }

    fn out_of_time(&self) -> bool {
        self.remaining().is_zero()
    }

    /// The candidate that keeps the operations `kept` (sorted) as they are and gives the others
    /// the benefit of the doubt: its operations (indices into the history, sorted), and how
    /// each is doubted.
    fn candidate(&self, kept: &[usize]) -> (Vec<usize>, Vec<Doubt>) {
        let ops = &self.history.ops;
        // After this, nothing a left-out operation did can matter: every kept outcome is known.
        let horizon = kept
            .iter()
            .filter(|&&i| !ops[i].is_unknown())
            .filter_map(|&i| ops[i].ret)
            .max();
        let Some(horizon) = horizon else {
            return (kept.to_vec(), vec![Doubt::None; kept.len()]);
        };
        let mut all = Vec::with_capacity(kept.len());
        let mut doubts = Vec::with_capacity(kept.len());
        let mut k = 0;
        for &i in &self.universe {
            if kept.get(k) == Some(&i) {
                k += 1;
                all.push(i);
                doubts.push(Doubt::None);
                continue;
            }
            let o = &ops[i];
            let observation = o
                .output
                .as_ref()
                .is_some_and(|out| o.ret.is_some() && M::is_observation(&o.op, out));
            if observation || o.call > horizon {
                continue;
            }
            let within = match &self.context {
                None => true,
                Some(context) => context.binary_search(&i).is_ok(),
            };
            all.push(i);
            doubts.push(if within && o.ret.is_some() {
                Doubt::Output
            } else {
                Doubt::Outcome
            });
        }
        (all, doubts)
    }

    fn check(&mut self, kept: &[usize]) -> (Option<bool>, Vec<usize>, Report) {
        self.checks += 1;
        // One hard candidate must not eat the whole budget: it is skipped, as undecided.
        let per_check = self.options.time / 20 + Duration::from_millis(10);
        let mut config = CheckConfig::default().timeout(self.remaining().min(per_check));
        config.max_memory = self.options.max_memory;
        let (witness, doubts) = self.candidate(kept);
        let mut sub = self.history.select(&witness);
        for (o, doubt) in sub.ops.iter_mut().zip(&doubts) {
            match doubt {
                Doubt::None => {}
                Doubt::Output => o.output = None,
                Doubt::Outcome => {
                    o.ret = None;
                    o.output = None;
                }
            }
        }
        let report = check_linearizable_by(&sub, self.initial, &config, self.partition);
        let answer = match report.verdict {
            Verdict::Violated(_) => Some(true),
            Verdict::Holds => Some(false),
            _ => None,
        };
        (answer, witness, report)
    }

    /// Whether the operations at `ops` (history order) are known not to be linearizable.
    fn fails(&mut self, ops: &[usize]) -> bool {
        if ops.is_empty() || self.out_of_time() {
            return false;
        }
        match self.check(ops) {
            (Some(true), witness, report) => {
                self.last = Some((witness, report));
                true
            }
            (Some(false), ..) => false,
            (None, ..) => {
                self.undecided += 1;
                false
            }
        }
    }
}

/// How a candidate treats an operation it does not keep as it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Doubt {
    /// Kept as it is.
    None,
    /// Within its interval, any output.
    Output,
    /// Unknown: at any time after its call, or never, any output.
    Outcome,
}

/// The fewest operations, taken in order of invocation, that still fail (found by bisection;
/// the answer is always a tested failing prefix, even where failing is not monotone).
fn shortest_failing_prefix<M, K, P>(oracle: &mut Oracle<'_, M, P>, items: Vec<usize>) -> Vec<usize>
where
    M: Model + Hash + Eq,
    K: Hash + Eq + Debug,
    P: Fn(&M::Op) -> K,
{
    let mut by_call = items;
    by_call.sort_by_key(|&i| (oracle.history.ops[i].call, i));
    let (mut lo, mut hi) = (1, by_call.len());
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        let mut prefix = by_call[..mid].to_vec();
        prefix.sort_unstable();
        if oracle.fails(&prefix) {
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    let mut prefix = by_call[..hi].to_vec();
    prefix.sort_unstable();
    prefix
}

/// Delta debugging: the smallest subset of `items` found that still `fails` (which it must at
/// the start), and whether the search ran to the end, where removing any one item was tried.
fn ddmin<T: Clone>(mut items: Vec<T>, fails: &mut impl FnMut(&[T]) -> bool) -> (Vec<T>, bool) {
    let mut n = 2;
    while items.len() >= 2 {
        let size = items.len().div_ceil(n);
        let chunks: Vec<&[T]> = items.chunks(size).collect();
        let mut next = None;
        for chunk in &chunks {
            if fails(chunk) {
                next = Some((chunk.to_vec(), 2));
                break;
            }
        }
        // With two chunks, a complement is the other chunk, already tried.
        if next.is_none() && chunks.len() > 2 {
            for skip in 0..chunks.len() {
                let rest: Vec<T> = chunks
                    .iter()
                    .enumerate()
                    .filter(|(c, _)| *c != skip)
                    .flat_map(|(_, chunk)| chunk.iter().cloned())
                    .collect();
                if fails(&rest) {
                    next = Some((rest, (n - 1).max(2)));
                    break;
                }
            }
        }
        match next {
            Some((smaller, granularity)) => {
                items = smaller;
                n = granularity;
            }
            None if n >= items.len() => return (items, true),
            None => n = (n * 2).min(items.len()),
        }
    }
    (items, true)
}

#[cfg(test)]
mod tests {
    use super::ddmin;

    #[test]
    fn ddmin_finds_the_two_items_that_matter() {
        let items: Vec<u32> = (0..40).collect();
        let mut tests = 0;
        let (found, complete) = ddmin(items, &mut |s: &[u32]| {
            tests += 1;
            s.contains(&7) && s.contains(&31)
        });
        assert_eq!(found, vec![7, 31]);
        assert!(complete);
        assert!(tests < 100, "{tests} tests");
    }
}
