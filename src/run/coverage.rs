//! What a run covered, beyond the rule counts the executors keep: how often the swarm let each
//! rule run, the distribution of program lengths, and the user's labels
//! ([`Runner::label`](crate::Runner::label)). It is counted per generated case, so the loop
//! pays a few additions per case and nothing per step; labels, which need the model at every
//! step, regenerate the case against the model alone, and only when some label was added.

use crate::generate::{CaseGenerator, ModelRun};
use crate::program::Program;
use crate::report::Stats;
use crate::spec::{Model, StateMachine};

/// A user's label: its name and the predicate on (model state before a step, the step's op).
pub(crate) type Label<M> = (
    String,
    Box<dyn Fn(&M, &<M as Model>::Op) -> bool + Send + Sync>,
);

/// Lengths up to this are counted in a table; longer programs (campaigns of huge cases) in a map.
const TABLE_LENGTHS: usize = 1 << 16;

/// Counts of one stretch of generated cases, folded into [`Stats`] when it ends.
pub(crate) struct Coverage {
    /// Cases by length, for lengths below [`TABLE_LENGTHS`].
    lengths: Vec<u64>,
    /// Cases whose swarm enabled each rule; `None` without swarm (then every case did).
    enabled: Option<Vec<u64>>,
    /// Cases in which each label held at some step.
    labels: Vec<u64>,
}

impl Coverage {
    pub(crate) fn new<M: Model>(stats: &Stats, swarm: bool, labels: usize) -> Self {
        let rules = M::Op::rules().len();
        Coverage {
            lengths: Vec::new(),
            enabled: swarm.then(|| vec![0; rules]),
            labels: vec![0; labels.max(stats.labels.len())],
        }
    }

    /// One generated case, planned by `plan`, that ran `ran` steps.
    #[inline]
    pub(crate) fn case(&mut self, plan: &CaseGenerator, ran: usize, stats: &mut Stats) {
        if ran < TABLE_LENGTHS {
            if self.lengths.len() <= ran {
                self.lengths.resize(ran + 1, 0);
            }
            self.lengths[ran] += 1;
        } else {
            *stats.lengths.entry(ran).or_insert(0) += 1;
        }
        if let Some(enabled) = &mut self.enabled {
            for (rule, n) in enabled.iter_mut().enumerate() {
                *n += u64::from(plan.in_swarm(rule));
            }
        }
    }

    /// Counts the labels that held at some step of `program`, walked against the model from
    /// `initial`. A parallel program's branches are not walked (their steps have no single
    /// order): only its prefix is labelled.
    pub(crate) fn label<M: Model>(
        &mut self,
        labels: &[Label<M>],
        initial: &M,
        program: &Program<M::Op>,
    ) {
        let mut held = vec![false; labels.len()];
        let mut run = ModelRun::new(initial.clone());
        for op in &program.prefix {
            for (h, (_, predicate)) in held.iter_mut().zip(labels) {
                // A panicking predicate counts as not holding; the case itself already passed
                // or failed on its own terms.
                *h = *h || crate::catch::catch(|| predicate(&run.model, op)).unwrap_or(false);
            }
            if run.apply(op).is_err() {
                break;
            }
        }
        for (n, h) in self.labels.iter_mut().zip(held) {
            *n += u64::from(h);
        }
    }

    /// Adds these counts to `stats` (`cases` is how many cases they cover).
    pub(crate) fn finish(self, stats: &mut Stats, labels: &[String], cases: u64) {
        for (len, &n) in self.lengths.iter().enumerate() {
            if n > 0 {
                *stats.lengths.entry(len).or_insert(0) += n;
            }
        }
        if stats.enabled.is_empty() {
            stats.enabled = stats.rules.iter().map(|&(name, _)| (name, 0)).collect();
        }
        match self.enabled {
            Some(enabled) => {
                for (total, n) in stats.enabled.iter_mut().zip(enabled) {
                    total.1 += n;
                }
            }
            None => {
                for total in &mut stats.enabled {
                    total.1 += cases;
                }
            }
        }
        if stats.labels.is_empty() {
            stats.labels = labels.iter().map(|l| (l.clone(), 0)).collect();
        }
        for (total, n) in stats.labels.iter_mut().zip(self.labels) {
            total.1 += n;
        }
    }
}
