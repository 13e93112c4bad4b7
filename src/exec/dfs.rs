//! Exhaustive search of a program's interleavings (feature `shuttle`), one schedule per run.
//!
//! shuttle's own DFS scheduler explores every schedule inside one `Runner::run` call; the run
//! loop instead asks the executor for one run at a time (a case, then its repeats; each shrink
//! candidate; the confirming reruns), stopping at the first failing one. So the walk is
//! *stateless* DFS, kept between runs: a [`Walk`] remembers the decisions of the last run, each
//! with the number of options it had, and the next run replays them up to the deepest decision
//! with an untried option, takes that option, and from there on takes the first option at
//! every decision. The tree of schedules is the same in every run of the same program (the
//! system is built afresh and shuttle is deterministic), so run `k` of a walk is the `k`-th
//! schedule of one fixed depth-first order, whatever the seed, in every process.
//!
//! Options at a decision are ordered so that the first schedule is the least preemptive: the
//! running task first (unless it yields, then it goes last, so a spin loop lets the others
//! run), then the others by task id. The walk starts from the schedule that preempts nothing
//! and changes the latest decisions first.
//!
//! When every schedule has been tried, the walk knows how many there are and starts over from
//! the first: further runs repeat schedules, and the executor's trace says so.

use crate::hash::mix;
use shuttle::scheduler::{Schedule, Scheduler, Task, TaskId};
use std::cell::RefCell;
use std::rc::Rc;

/// One decision of a run that had a choice: the option taken, of how many.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Choice {
    pub(crate) taken: usize,
    pub(crate) options: usize,
}

/// The walk over one program's schedules, across its runs.
#[derive(Debug, Default)]
pub(crate) struct Walk {
    /// The decisions of the last run, in order.
    last: Vec<Choice>,
    /// Runs begun since the walk (re)started.
    runs: u64,
    /// How many distinct schedules the program has, once the walk has tried them all.
    total: Option<u64>,
}

/// Where a run stands in its program's walk.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Position {
    /// Its place in the depth-first order, from 0.
    pub(crate) schedule: u64,
    /// The program's count of distinct schedules, once known.
    pub(crate) total: Option<u64>,
}

impl Walk {
    /// The choices the next run replays, and where it stands; the run's decisions then go to
    /// [`Walk::finish`].
    pub(crate) fn begin(&mut self) -> (Vec<usize>, Position) {
        let mut prefix: Vec<usize> = self.last.iter().map(|c| c.taken).collect();
        if self.runs > 0 {
            // Advance the deepest decision that has an untried option; none left means every
            // schedule has been tried.
            match self.last.iter().rposition(|c| c.taken + 1 < c.options) {
                Some(deepest) => {
                    prefix.truncate(deepest + 1);
                    prefix[deepest] += 1;
                }
                None => {
                    self.total.get_or_insert(self.runs);
                    prefix.clear();
                }
            }
        }
        let schedule = match self.total {
            Some(total) => self.runs % total,
            None => self.runs,
        };
        self.runs += 1;
        let position = Position {
            schedule,
            total: self.total,
        };
        (prefix, position)
    }

    /// The decisions of the last run.
    #[cfg(test)]
    pub(crate) fn last(&self) -> &[Choice] {
        &self.last
    }

    /// Records the decisions of the run [`Walk::begin`] started.
    pub(crate) fn finish(&mut self, decisions: Vec<Choice>) {
        self.last = decisions;
    }
}

/// A shuttle scheduler that runs one execution along a given prefix of choices, then the first
/// option at every decision, recording the decisions that had a choice.
pub(crate) struct DfsScheduler {
    prefix: Vec<usize>,
    /// Shared with the executor, which reads it after the run (shuttle owns the scheduler).
    decisions: Rc<RefCell<Vec<Choice>>>,
    started: bool,
    /// Random data asked for by the system: a fixed sequence, so runs stay deterministic.
    data: u64,
}

impl DfsScheduler {
    /// A scheduler for one run replaying `prefix`, its decisions recorded in `decisions`.
    pub(crate) fn new(prefix: Vec<usize>, decisions: Rc<RefCell<Vec<Choice>>>) -> Self {
        decisions.borrow_mut().clear();
        DfsScheduler {
            prefix,
            decisions,
            started: false,
            data: 0,
        }
    }
}

impl Scheduler for DfsScheduler {
    fn new_execution(&mut self) -> Option<Schedule> {
        // One execution per run: the walk between runs is the executor's.
        if std::mem::replace(&mut self.started, true) {
            return None;
        }
        Some(Schedule::new(0))
    }

    fn next_task(
        &mut self,
        runnable: &[&Task],
        current: Option<TaskId>,
        is_yielding: bool,
    ) -> Option<TaskId> {
        if runnable.len() == 1 {
            return Some(runnable[0].id());
        }
        // The executor's own thread (task 0) runs the prefix, then only spawns the branches and
        // joins them: running it whenever it can run releases the branches together, as the
        // threads executor's barrier does, and spares the walk decisions no step can observe.
        if let Some(main) = runnable.iter().find(|t| usize::from(t.id()) == 0) {
            return Some(main.id());
        }
        let options = ordered(runnable, current, is_yielding);
        let mut decisions = self.decisions.borrow_mut();
        // A system whose tree changes between runs (it reads the clock, say) can offer fewer
        // options than the walk remembers: wrap rather than fail; the walk stays finite.
        let taken = self.prefix.get(decisions.len()).copied().unwrap_or(0) % options.len();
        decisions.push(Choice {
            taken,
            options: options.len(),
        });
        Some(options[taken])
    }

    fn next_u64(&mut self) -> u64 {
        self.data += 1;
        mix(self.data)
    }
}

/// The options of a decision, least preemptive first: the running task, unless it yields (then
/// last), then the others in id order (shuttle lists runnable tasks by id).
fn ordered(runnable: &[&Task], current: Option<TaskId>, is_yielding: bool) -> Vec<TaskId> {
    let mut options: Vec<TaskId> = runnable.iter().map(|t| t.id()).collect();
    if let Some(at) = current.and_then(|c| options.iter().position(|&t| t == c)) {
        let running = options.remove(at);
        match is_yielding {
            true => options.push(running),
            false => options.insert(0, running),
        }
    }
    options
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs a walk over an explicit tree: `options(path)` is the number of options after the
    /// choices `path`, 1 or 0 at a leaf. Returns the leaves in the order the walk reached them.
    fn walk(runs: usize, options: impl Fn(&[usize]) -> usize) -> (Vec<Vec<usize>>, Walk) {
        let mut walk = Walk::default();
        let mut leaves = Vec::new();
        for _ in 0..runs {
            let (prefix, _) = walk.begin();
            let mut path = Vec::new();
            let mut decisions = Vec::new();
            loop {
                let n = options(&path);
                if n <= 1 {
                    break;
                }
                let taken = prefix.get(path.len()).copied().unwrap_or(0) % n;
                decisions.push(Choice { taken, options: n });
                path.push(taken);
            }
            walk.finish(decisions);
            leaves.push(path);
        }
        (leaves, walk)
    }

    #[test]
    fn a_walk_visits_every_leaf_once_depth_first_then_starts_over() {
        // Two options at the root; below option 0, three; below option 1, a leaf.
        let tree = |path: &[usize]| match path {
            [] => 2,
            [0] => 3,
            _ => 0,
        };
        let (leaves, mut walk) = walk(6, tree);
        let expected: [&[usize]; 6] = [&[0, 0], &[0, 1], &[0, 2], &[1], &[0, 0], &[0, 1]];
        assert_eq!(leaves, expected);
        assert_eq!(walk.total, Some(4));
        let (_, position) = walk.begin();
        assert_eq!(
            position,
            Position {
                schedule: 2,
                total: Some(4)
            }
        );
    }

    #[test]
    fn a_program_without_choices_has_one_schedule() {
        let (leaves, mut walk) = walk(3, |_| 1);
        assert_eq!(leaves, vec![Vec::<usize>::new(); 3]);
        assert_eq!(walk.begin().1.total, Some(1));
    }
}
