//! The model states a history's linearizations end in, met one at a time.
//!
//! After a concurrent run the system is in the state of *some* linearization of what it did,
//! and nothing tells which: two overlapping writes of different values may have landed in either
//! order. A check of the system against "the" model state after the run must therefore hold
//! its verdict against all of them: it fails only if it fails in every end state. This walks
//! the linearizability search ([`super::search`]) past each complete linearization instead of
//! stopping at the first, handing each new end state to the caller, who may stop there (the
//! first state a check accepts settles it).
//!
//! The whole history is one search (no partitions: a state of the model is the product of its
//! parts, and an end state of one part says nothing alone). Its budget is a [`CheckConfig`]'s
//! time, memory and step cap, and a cap on the distinct end states tried; when it runs out, or
//! the history has no linearization at all, or a `Var` could not be bound, or the model panics,
//! the answer is [`EndStates::Undecided`]: never a guess.

use super::budget::{Budget, CheckConfig};
use super::linearizability::Partitions;
use super::search::{Search, Step};
use super::vars;
use crate::history::History;
use crate::spec::Model;
use std::collections::HashSet;
use std::hash::Hash;
use std::time::Instant;

/// How [`end_states`] ended.
#[derive(Debug)]
pub(crate) enum EndStates<M, E> {
    /// The caller accepted an end state.
    Accepted,
    /// The caller refused every end state there is: `tried` distinct ones, the first of them
    /// `state`, for which it said `why`.
    Refused { tried: usize, state: M, why: E },
    /// Not settled, and why: the history has no linearization, the budget ran out, a `Var`
    /// could not be bound, the model panicked. (The executors only need to know that it is not
    /// settled; the reason is for tests and for whoever debugs a walk.)
    Undecided(#[cfg_attr(not(test), allow(dead_code))] String),
}

/// Hands `visit` each distinct model state that a linearization of `history` from `initial`
/// ends in, until it accepts one (`Ok`); `config` bounds the search (time, memory, search
/// steps) and `max_states` the distinct states visited.
///
/// Operations with a known output are judged as the linearizability checker judges them (the
/// model follows the system's choices, [`Model::accept`]); those whose outcome is unknown may
/// have taken effect or not, so end states with and without each are visited.
pub(crate) fn end_states<M, E>(
    history: &History<M::Op, M::Output>,
    initial: &M,
    config: &CheckConfig,
    max_states: usize,
    mut visit: impl FnMut(&M) -> Result<(), E>,
) -> EndStates<M, E>
where
    M: Model + Hash + Eq,
{
    let mut budget = Budget::new(config.timeout, config.max_memory, Instant::now());
    if let Some(reason) = vars::unbindable::<M>(history) {
        return EndStates::Undecided(reason);
    }
    let parts = match Partitions::new::<M, (), _>(history, &|_: &M::Op| (), &mut budget) {
        Ok(parts) => parts,
        Err(reason) => return EndStates::Undecided(reason),
    };
    // Every key is `()`: one partition, or none for a history with nothing in it.
    let ops = if parts.len() == 0 {
        Vec::new()
    } else {
        parts.ops(0)
    };
    if !budget.reserve(Search::<M>::fixed_bytes_for(ops.len())) {
        return EndStates::Undecided(budget.exhausted());
    }
    let mut search = Search::new(history, ops, initial.clone());
    search.enumerate();
    if vars::in_use::<M>(history) {
        if let Err(reason) = search.bind_vars(&mut budget) {
            return EndStates::Undecided(reason);
        }
    }
    let mut seen: HashSet<M> = HashSet::new();
    let mut first: Option<(M, E)> = None;
    loop {
        let slice = config.max_steps.saturating_sub(search.steps).max(1);
        let ran = crate::catch::catch_quietly(|| search.run(slice, &mut budget));
        match ran {
            Err(message) => {
                return EndStates::Undecided(format!("the model panicked: {message}"));
            }
            Ok(Step::EndState) => {
                let state = search.state();
                if seen.contains(state) {
                    continue;
                }
                if seen.len() >= max_states {
                    return EndStates::Undecided(format!(
                        "more than {max_states} distinct end states"
                    ));
                }
                if !budget.reserve(size_of::<M>() as u64 + 16) {
                    return EndStates::Undecided(budget.exhausted());
                }
                seen.insert(state.clone());
                match visit(state) {
                    Ok(()) => return EndStates::Accepted,
                    Err(why) => {
                        if first.is_none() {
                            first = Some((state.clone(), why));
                        }
                    }
                }
            }
            Ok(Step::Exhausted) => {
                if let Some(doubt) = search.doubt() {
                    return EndStates::Undecided(doubt.to_string());
                }
                return match first {
                    Some((state, why)) => EndStates::Refused {
                        tried: seen.len(),
                        state,
                        why,
                    },
                    None => EndStates::Undecided("the history has no linearization".to_string()),
                };
            }
            Ok(Step::Paused) => {
                return EndStates::Undecided(format!(
                    "the search took more than {} steps",
                    config.max_steps
                ));
            }
            Ok(Step::OutOfBudget(reason)) => return EndStates::Undecided(reason),
            // An enumerating search never ends with one linearization or a violation.
            Ok(Step::Done(_)) => {
                return EndStates::Undecided("internal: the search stopped early".to_string())
            }
        }
    }
}

#[cfg(test)]
mod tests;
