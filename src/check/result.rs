//! What every checker returns: one [`Verdict`] and one [`Report`] shape, generic over the
//! checker's own kind of violation, so code that only needs "did it hold, and what did it
//! cost" is written once for all of them.

use std::time::Duration;

/// A checker's answer. `V` is what the checker says about a violation: [`Violation`] for
/// linearizability (the default), [`ScViolation`], [`IdempotencyViolation`], or the list of
/// [`SessionViolation`]s.
///
/// [`Violation`]: super::Violation
/// [`ScViolation`]: super::ScViolation
/// [`IdempotencyViolation`]: super::IdempotencyViolation
/// [`SessionViolation`]: super::SessionViolation
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Verdict<V = super::Violation> {
    /// The property holds: for the searching checkers, [`Report::orders`] shows an order that
    /// proves it.
    Holds,
    /// The history proves the property does not hold, and this says how.
    Violated(V),
    /// No verdict: the budget ran out first, or the model panicked (then
    /// [`Report::model_panic`] says where). The reason says which.
    Unknown(String),
}

impl<V> Verdict<V> {
    /// Whether the property was shown to hold.
    pub fn holds(&self) -> bool {
        matches!(self, Verdict::Holds)
    }

    /// The violation, when the history proves one.
    pub fn violation(&self) -> Option<&V> {
        match self {
            Verdict::Violated(v) => Some(v),
            _ => None,
        }
    }

    /// Why there is no verdict, when there is none.
    pub fn unknown_reason(&self) -> Option<&str> {
        match self {
            Verdict::Unknown(reason) => Some(reason),
            _ => None,
        }
    }
}

/// An order of operations that satisfies the model, as evidence that a property holds.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Order {
    /// The key (`Debug`) of the partition this order covers. Linearizability always names it
    /// (`()` for [`check_linearizable`](super::check_linearizable)), so a reader need not
    /// guess which order belongs to which partition; checkers that order the whole history at
    /// once leave it `None`.
    pub partition: Option<String>,
    /// Indices into the history's operations, in the order they took effect.
    pub ops: Vec<usize>,
}

impl Order {
    pub(crate) fn new(partition: Option<String>, ops: Vec<usize>) -> Self {
        Order { partition, ops }
    }
}

/// What a checker found, with the statistics every checker keeps. Statistics a checker has no
/// use for stay zero (the session checker searches nothing, so it takes no steps).
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Report<V = super::Violation> {
    /// The answer.
    pub verdict: Verdict<V>,
    /// When the verdict is [`Verdict::Holds`], the orders that show it: one per partition for
    /// linearizability; one for sequential consistency; for idempotency, the order in which
    /// requests took effect, each named by its first attempt. Empty otherwise, and for the
    /// session checker.
    pub orders: Vec<Order>,
    /// Partitions the history was checked in: as many as the partition function made for
    /// linearizability (none for an empty history), one for the other checkers.
    pub partitions: usize,
    /// Search steps (operations tried), over every search the check needed.
    pub steps: u64,
    /// Entries in the searches' caches at the end (linearizability: over the partitions still
    /// searching).
    pub cache_entries: u64,
    /// Peak bytes counted against the memory budget (see [`CheckConfig::max_memory`] for what
    /// is counted).
    ///
    /// [`CheckConfig::max_memory`]: super::CheckConfig::max_memory
    pub peak_bytes: u64,
    /// Set when the model panicked (the verdict is then [`Verdict::Unknown`]).
    pub model_panic: Option<Box<ModelPanic>>,
    /// Time spent.
    pub elapsed: Duration,
}

impl<V> Report<V> {
    /// A report with `verdict` and every statistic zero.
    pub(crate) fn new(verdict: Verdict<V>) -> Self {
        Report {
            verdict,
            orders: Vec::new(),
            partitions: 1,
            steps: 0,
            cache_entries: 0,
            peak_bytes: 0,
            model_panic: None,
            elapsed: Duration::ZERO,
        }
    }

    /// The report of a check that the model's panic ended.
    pub(crate) fn panicked(panic: Box<ModelPanic>) -> Self {
        let mut report = Report::new(Verdict::Unknown(panic.reason()));
        report.model_panic = Some(panic);
        report
    }
}

/// A model that panicked during a check: the check cannot go on, and this says where.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ModelPanic {
    /// The partition (its key, `Debug`), when the check was partitioned.
    pub partition: Option<String>,
    /// The operation the model was stepping or comparing (index into the history's
    /// operations).
    pub op: usize,
    /// That operation (`Debug`).
    pub op_text: String,
    /// The model state it was applied to (`Debug`).
    pub state: String,
    /// The panic's message, with its location where known.
    pub message: String,
}

impl ModelPanic {
    /// The reason of the `Unknown` verdict it causes.
    pub(crate) fn reason(&self) -> String {
        format!(
            "the model panicked on op {} ({}) in state {}: {}",
            self.op, self.op_text, self.state, self.message
        )
    }
}
