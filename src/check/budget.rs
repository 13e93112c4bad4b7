//! The step and time budget of the searches that have no cache budget of their own
//! (sequential consistency, idempotency).

use std::time::{Duration, Instant};

/// How long a search may run before it answers "unknown".
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct SearchBudget {
    /// Most search steps (operations tried). Default 1,000,000.
    pub max_steps: u64,
    /// Give up after this long. Default: none.
    pub timeout: Option<Duration>,
}

impl Default for SearchBudget {
    fn default() -> Self {
        SearchBudget {
            max_steps: 1_000_000,
            timeout: None,
        }
    }
}

impl SearchBudget {
    /// See [`SearchBudget::max_steps`].
    pub fn max_steps(mut self, steps: u64) -> Self {
        self.max_steps = steps;
        self
    }

    /// See [`SearchBudget::timeout`].
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }
}

/// Counts a search's steps against a [`SearchBudget`].
pub(crate) struct Meter {
    max_steps: u64,
    deadline: Option<Instant>,
    pub(crate) steps: u64,
}

impl Meter {
    pub(crate) fn new(budget: &SearchBudget) -> Self {
        Meter {
            max_steps: budget.max_steps,
            deadline: budget.timeout.map(|t| Instant::now() + t),
            steps: 0,
        }
    }

    /// Counts one step; `Err` says why the search must stop.
    pub(crate) fn step(&mut self) -> Result<(), String> {
        self.steps += 1;
        if self.steps > self.max_steps {
            return Err(format!(
                "the step budget ran out after {} steps",
                self.max_steps
            ));
        }
        if self.steps & 0x3FF == 0 {
            if let Some(deadline) = self.deadline {
                if Instant::now() >= deadline {
                    return Err("the time budget ran out".to_string());
                }
            }
        }
        Ok(())
    }
}
