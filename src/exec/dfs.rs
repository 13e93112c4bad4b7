//! Exhaustive search of a program's interleavings (feature `shuttle`), one schedule per run.
//!
//! shuttle's own DFS scheduler explores every schedule inside one `Runner::run` call; the run
//! loop instead asks the executor for one run at a time (a case, then its repeats; each shrink
//! candidate; the confirming reruns), stopping at the first failing one. So the walk is
//! *stateless* search kept between runs: a [`Walk`] remembers the decisions of the last run,
//! each with the number of options it had, and the next run replays them up to the deepest
//! decision with an untried option, takes that option, and from there on takes the first option
//! at every decision. The tree of schedules is the same in every run of the same program (the
//! system is built afresh and shuttle is deterministic), so the `k`-th schedule a walk hands out
//! is the same whatever the seed, in every process.
//!
//! The walk goes by preemption bounding (Musuvathi and Qadeer, "Iterative context bounding for
//! systematic testing of multithreaded programs", PLDI 2007): most races show with one or two
//! preemptions, so it first tries every schedule that preempts nothing, then every one with
//! exactly one preemption, then two, and so on; each round is a depth-first search
//! that leaves out options past its bound. A preemption is switching away from a task that
//! could go on, or going on with one that asked to yield (so a spin loop costs a preemption per
//! turn and every bounded round stays finite). A run that ends with no more preemptions than
//! the round before allowed was already handed out: the scheduler runs the next one instead, in
//! the same `Runner::run` call, and only the new one is judged. Every round runs those again to
//! find its way, so late rounds cost more; but every round is bounded, so a system that spins
//! with yields (an endless tree, since going on with a yielding task is always an option) still
//! gets every schedule of few preemptions before any of many, where one unbounded round would
//! deepen a single spin forever. When a round leaves nothing out, every schedule has been handed
//! out: the walk knows how many there are and starts over from the first.

use crate::hash::mix;
use shuttle::scheduler::{Schedule, Scheduler, Task, TaskId};
use std::cell::{Cell, RefCell};
use std::rc::Rc;

/// One decision of a run that had a choice: the option taken, of how many its bound allowed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Choice {
    pub(crate) taken: usize,
    pub(crate) options: usize,
}

/// What a run did, as its scheduler recorded it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Record {
    /// The decisions that had a choice, in order.
    pub(crate) decisions: Vec<Choice>,
    /// Its preemptions.
    pub(crate) preemptions: usize,
    /// Whether the bound left out an option somewhere.
    pub(crate) pruned: bool,
}

/// The walk over one program's schedules, across its runs.
#[derive(Debug, Default)]
pub(crate) struct Walk {
    /// The decisions of the last run of this round; `None` before its first.
    last: Option<Vec<Choice>>,
    /// The round's bound on preemptions.
    bound: usize,
    /// The bound of the round before, whose schedules this one runs past; `None` in the first.
    floor: Option<usize>,
    /// Whether a run of this round left out an option for the bound.
    pruned: bool,
    /// Schedules handed out since the walk (re)started.
    handed: u64,
    /// How many distinct schedules the program has, once the walk has handed them all out.
    total: Option<u64>,
}

/// Where a run stands in its program's walk.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Position {
    /// Its place in the walk's order, from 0.
    pub(crate) schedule: u64,
    /// Its preemptions.
    pub(crate) preemptions: usize,
    /// The program's count of distinct schedules, once known (from the first repeat on).
    pub(crate) total: Option<u64>,
}

impl Walk {
    /// The choices the next run replays and its bound on preemptions; the run's record then
    /// goes to [`Walk::finish`].
    pub(crate) fn begin(&mut self) -> (Vec<usize>, usize) {
        let Some(last) = &self.last else {
            return (Vec::new(), self.bound);
        };
        // Advance the deepest decision with an untried option.
        if let Some(deepest) = last.iter().rposition(|c| c.taken + 1 < c.options) {
            let mut prefix: Vec<usize> = last[..=deepest].iter().map(|c| c.taken).collect();
            prefix[deepest] += 1;
            return (prefix, self.bound);
        }
        // The round is over: the next one, unless it left nothing out, then the walk is.
        if self.pruned {
            self.floor = Some(self.bound);
            self.bound += 1;
        } else {
            self.total.get_or_insert(self.handed);
            self.bound = 0;
            self.floor = None;
        }
        self.pruned = false;
        self.last = None;
        (Vec::new(), self.bound)
    }

    /// The last run's round (its bound) and decisions: together they name its schedule.
    #[cfg(test)]
    pub(crate) fn last(&self) -> (usize, Vec<Choice>) {
        (self.bound, self.last.clone().unwrap_or_default())
    }

    /// Records the run [`Walk::begin`] planned; where it stands if it is a schedule not handed
    /// out before, else `None` (run the next one).
    pub(crate) fn finish(&mut self, record: &Record) -> Option<Position> {
        self.last = Some(record.decisions.clone());
        self.pruned |= record.pruned;
        // No more preemptions than the round before allowed: one of its schedules.
        if self.floor.is_some_and(|floor| record.preemptions <= floor) {
            return None;
        }
        let schedule = match self.total {
            Some(total) => self.handed % total,
            None => self.handed,
        };
        self.handed += 1;
        Some(Position {
            schedule,
            preemptions: record.preemptions,
            total: self.total,
        })
    }
}

/// A shuttle scheduler that takes its runs from a [`Walk`]: each execution follows the walk's
/// prefix of choices, then the first option at every decision, within the round's bound on
/// preemptions. Executions that repeat a schedule handed out before are followed by another in
/// the same `Runner::run` call (whose threads' stacks are reused); the call ends after the first
/// new one, whose place in the walk it leaves in `handed`.
pub(crate) struct DfsScheduler {
    walk: Rc<RefCell<Walk>>,
    prefix: Vec<usize>,
    bound: usize,
    /// Read by the executor when shuttle stops an execution before the next begins.
    record: Rc<RefCell<Record>>,
    handed: Rc<Cell<Option<Position>>>,
    started: bool,
    /// Random data asked for by the system: a fixed sequence, so runs stay deterministic.
    data: u64,
}

impl DfsScheduler {
    /// A scheduler for the next run of `walk`, its record in `record`, where the run stands in
    /// `handed`.
    pub(crate) fn new(
        walk: Rc<RefCell<Walk>>,
        record: Rc<RefCell<Record>>,
        handed: Rc<Cell<Option<Position>>>,
    ) -> Self {
        DfsScheduler {
            walk,
            prefix: Vec::new(),
            bound: 0,
            record,
            handed,
            started: false,
            data: 0,
        }
    }
}

impl Scheduler for DfsScheduler {
    fn new_execution(&mut self) -> Option<Schedule> {
        if std::mem::replace(&mut self.started, true) {
            let at = self.walk.borrow_mut().finish(&self.record.borrow());
            if at.is_some() {
                self.handed.set(at);
                return None;
            }
        }
        (self.prefix, self.bound) = self.walk.borrow_mut().begin();
        *self.record.borrow_mut() = Record::default();
        self.data = 0;
        Some(Schedule::new(0))
    }

    fn next_task(
        &mut self,
        runnable: &[&Task],
        current: Option<TaskId>,
        is_yielding: bool,
    ) -> Option<TaskId> {
        let mut record = self.record.borrow_mut();
        Some(self.choose(&mut record, runnable, current, is_yielding))
    }

    fn next_u64(&mut self) -> u64 {
        self.data += 1;
        mix(self.data)
    }
}

impl DfsScheduler {
    fn choose(
        &self,
        record: &mut Record,
        runnable: &[&Task],
        current: Option<TaskId>,
        is_yielding: bool,
    ) -> TaskId {
        // The executor's own thread (task 0) runs the prefix, then only spawns the branches and
        // joins them: running it whenever it can run releases the branches together, as the
        // threads executor's barrier does, and spares the walk decisions no step can observe.
        if runnable.len() == 1 {
            return runnable[0].id();
        }
        if let Some(main) = runnable.iter().find(|t| usize::from(t.id()) == 0) {
            return main.id();
        }
        let options = costed(runnable, current, is_yielding);
        let within: Vec<(TaskId, usize)> = options
            .iter()
            .copied()
            .filter(|&(_, cost)| record.preemptions + cost <= self.bound)
            .collect();
        record.pruned |= within.len() < options.len();
        let (task, cost) = match within.len() {
            1 => within[0],
            n => {
                // A system whose tree changes between runs (it reads the clock, say) can offer
                // fewer options than the walk remembers: wrap rather than fail.
                let taken = self
                    .prefix
                    .get(record.decisions.len())
                    .copied()
                    .unwrap_or(0)
                    % n;
                record.decisions.push(Choice { taken, options: n });
                within[taken]
            }
        };
        record.preemptions += cost;
        task
    }
}

/// The options of a decision with their cost in preemptions, cheapest first (shuttle lists
/// runnable tasks by id, and the order among equals stays so): going on with the running task
/// costs nothing and switching away costs one, unless it yields, when it is the other way round.
fn costed(runnable: &[&Task], current: Option<TaskId>, is_yielding: bool) -> Vec<(TaskId, usize)> {
    let running = current.filter(|c| runnable.iter().any(|t| t.id() == *c));
    let mut options: Vec<(TaskId, usize)> = runnable
        .iter()
        .map(|t| {
            let cost = match running {
                None => 0,
                Some(r) => usize::from((t.id() == r) == is_yielding),
            };
            (t.id(), cost)
        })
        .collect();
    // Going on with the running task first among the free options: the first schedule is the
    // one that switches least.
    options.sort_by_key(|&(t, cost)| (cost, Some(t) != running));
    options
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A tree of decisions: after the choices `path`, the options there as (cost, subtree), or
    /// none at a leaf.
    type Tree = fn(&[usize]) -> Vec<usize>;

    /// Walks `tree` (the costs of the options after each path, empty at a leaf) as the executor
    /// does, `runs` schedules; returns each handed out as its path and preemptions.
    fn walk(runs: usize, tree: Tree) -> (Vec<(Vec<usize>, usize)>, Walk) {
        let mut walk = Walk::default();
        let mut handed = Vec::new();
        let mut tries = 0;
        while handed.len() < runs {
            tries += 1;
            assert!(tries < 10_000, "the walk hands out nothing new");
            let (prefix, bound) = walk.begin();
            let (mut path, mut record) = (Vec::new(), Record::default());
            loop {
                let costs = tree(&path);
                if costs.is_empty() {
                    break;
                }
                let within: Vec<usize> = (0..costs.len())
                    .filter(|&o| record.preemptions + costs[o] <= bound)
                    .collect();
                record.pruned |= within.len() < costs.len();
                let option = match within.len() {
                    1 => within[0],
                    n => {
                        let taken = prefix.get(record.decisions.len()).copied().unwrap_or(0) % n;
                        record.decisions.push(Choice { taken, options: n });
                        within[taken]
                    }
                };
                record.preemptions += costs[option];
                path.push(option);
            }
            if let Some(position) = walk.finish(&record) {
                assert_eq!(position.preemptions, record.preemptions);
                handed.push((path, record.preemptions));
            }
        }
        (handed, walk)
    }

    /// Two tasks of two steps each, as a tree: at each point, go on with the running task
    /// (free) or switch (a preemption) while both have steps left.
    fn two_by_two(path: &[usize]) -> Vec<usize> {
        // Replay the path: who runs, and the steps each has left.
        let (mut running, mut left) = (0, [2, 2]);
        for &option in path {
            let other = 1 - running;
            if option == 1 || left[running] == 0 {
                running = other;
            }
            left[running] -= 1;
        }
        match left {
            [0, 0] => vec![],
            [0, _] | [_, 0] => vec![0],
            // Before the first step nobody runs: both starts are free.
            [2, 2] if path.is_empty() => vec![0, 0],
            _ => vec![0, 1],
        }
    }

    #[test]
    fn a_walk_hands_out_every_schedule_once_fewest_preemptions_first_then_starts_over() {
        // C(4, 2) = 6 orders of two tasks' two steps each.
        let (handed, walk) = walk(8, two_by_two);
        let preemptions: Vec<usize> = handed.iter().map(|h| h.1).collect();
        assert_eq!(preemptions, [0, 0, 1, 1, 2, 2, 0, 0]);
        let mut distinct: Vec<_> = handed[..6].iter().map(|h| &h.0).collect();
        distinct.sort();
        distinct.dedup();
        assert_eq!(distinct.len(), 6);
        assert_eq!(walk.total, Some(6));
        // Starting over, the same order again.
        assert_eq!(handed[6..], handed[..2]);
    }

    /// Like [`two_by_two`], three steps each: C(6, 3) = 20 orders, up to four preemptions.
    fn three_by_three(path: &[usize]) -> Vec<usize> {
        let (mut running, mut left) = (0, [3, 3]);
        for &option in path {
            if option == 1 || left[running] == 0 {
                running = 1 - running;
            }
            left[running] -= 1;
        }
        match left {
            [0, 0] => vec![],
            [0, _] | [_, 0] => vec![0],
            [3, 3] if path.is_empty() => vec![0, 0],
            _ => vec![0, 1],
        }
    }

    #[test]
    fn past_two_preemptions_one_round_takes_all_the_rest() {
        let (handed, walk) = walk(21, three_by_three);
        let preemptions: Vec<usize> = handed.iter().map(|h| h.1).collect();
        // Orders with k preemptions: 2, 4, 8 for k = 0, 1, 2; 4 with three, 2 with four.
        assert_eq!(
            preemptions[..14],
            [0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2]
        );
        let mut rest = preemptions[14..20].to_vec();
        rest.sort_unstable();
        assert_eq!(rest, [3, 3, 3, 3, 4, 4]);
        let mut distinct: Vec<_> = handed[..20].iter().map(|h| &h.0).collect();
        distinct.sort();
        distinct.dedup();
        assert_eq!(distinct.len(), 20);
        assert_eq!(walk.total, Some(20));
        assert_eq!(handed[20], handed[0]);
    }

    #[test]
    fn a_program_without_choices_has_one_schedule() {
        let (handed, walk) = walk(3, |_| vec![]);
        assert_eq!(handed, vec![(Vec::new(), 0); 3]);
        assert_eq!(walk.total, Some(1));
    }
}
