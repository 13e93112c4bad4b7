//! One partition's Wing–Gong search, resumable in slices (see the
//! [module documentation](super::linearizability) for the algorithm).
//!
//! The cache key of a set of linearized operations is proportional to the window of operations
//! that can still be reordered, not to the history. Operations that returned are numbered by
//! invocation; the *frontier* is the first 64-operation word of them not all linearized. Every
//! operation before the frontier is linearized, and every linearized one after it was invoked
//! before the earliest unlinearized operation returned, so the words from the frontier to the
//! last non-zero word span about the operations concurrent with that one. Operations that never
//! returned may stay unlinearized forever and would pin such a frontier, so they have their own
//! fixed bitset in every key: a key takes `1 + window / 64 + never-returned / 64` words.
//!
//! In a history whose operations hold `Var`s, a key also holds the outputs of placed steps that
//! operations not placed yet name (see [`super::vars`]), one word each, and the frontier word
//! counts them in its high half.

use super::budget::Budget;
use super::cache::{Cache, Insert, Key};
use super::linearizability::Violation;
use super::vars::Vars;
use crate::history::{History, Operation};
use crate::spec::{step_on, Model, StateMachine};
use std::hash::Hash;

const HEAD: usize = usize::MAX;

enum Observation {
    /// One was linearized: a new level begins.
    Taken,
    /// One fits but its successor state was already refuted: so is this level.
    Refuted,
    /// None fits.
    None,
    /// The budget ran out (the reason).
    Stop(String),
}

pub(crate) enum Step {
    Done(Result<Vec<usize>, Violation>),
    Paused,
    OutOfBudget(String),
    /// Enumerating ([`Search::enumerate`]): every operation with a known outcome is placed, and
    /// [`Search::state`] is an end state; `run` again goes on to the next one.
    EndState,
    /// Enumerating: every order has been tried.
    Exhausted,
}

pub(crate) struct Search<'h, M: Model> {
    history: &'h History<M::Op, M::Output>,
    /// History indices of this partition's operations; local id `i` is `ops[i]`. Those that
    /// returned come first (`0..returned`), then those that never did, each in call order.
    ops: Vec<usize>,
    returned: usize,
    /// Entry `2i` is the call of local op `i`, `2i + 1` its return. The list runs in time order
    /// from `first`; `next`/`prev` link the entries still in it.
    next: Vec<usize>,
    prev: Vec<usize>,
    first: usize,
    cursor: usize,
    /// Linearized operations that returned, one bit each; every word before `frontier` is
    /// full and every word from `end` on is empty.
    known: Vec<u64>,
    frontier: usize,
    end: usize,
    /// Linearized operations that never returned, one bit each.
    never: Vec<u64>,
    state: M,
    /// Linearized operations: local id, the state before it, and whether it left the state as
    /// it was (see `backtrack`).
    stack: Vec<(u32, M, bool)>,
    pub(crate) cache: Cache<M>,
    /// Operations with known outcomes not yet linearized: the search succeeds at zero.
    remaining: usize,
    pub(crate) steps: u64,
    best: Vec<u32>,
    blocked: Option<(u32, String)>,
    /// Set when a level is entered, before any candidate of it is tried.
    fresh_level: bool,
    /// The operation whose model calls run now (for the report of a model that panics).
    pub(crate) trying: usize,
    /// Bytes of the vectors above, counted in the budget when the search was made.
    pub(crate) fixed_bytes: u64,
    /// `Var` bookkeeping, when some operation holds a var (its bytes are its own).
    vars: Option<Box<Vars<M>>>,
    /// Go on past a complete linearization, stopping at each new one (see `enumerate`).
    enumerate: bool,
}

impl<'h, M: Model + Hash + Eq> Search<'h, M> {
    /// The bytes a search of `n` operations allocates up front (and a bound on `best`), its
    /// list of operations included: counted before any of it is made.
    pub(crate) fn fixed_bytes_for(n: usize) -> u64 {
        let words = n.div_ceil(64) + 2;
        // `ops`, `next` and `prev`, the stack, `best`.
        let per_op = 8 + 16 + 16 + size_of::<(u32, M, bool)>() + 4;
        // The sort buffer of `new` (24 bytes per entry, two per op) lives only while it runs,
        // but it is the peak.
        (n * (per_op + 48) + 3 * words * 8) as u64
    }

    /// A search over `ops` (history indices), whose [`fixed_bytes_for`](Self::fixed_bytes_for)
    /// the caller has counted.
    pub(crate) fn new(
        history: &'h History<M::Op, M::Output>,
        mut ops: Vec<usize>,
        initial: M,
    ) -> Self {
        let n = ops.len();
        let fixed_bytes = Self::fixed_bytes_for(n);
        let h = &history.ops;
        ops.sort_unstable_by_key(|&i| (h[i].ret.is_none(), h[i].call, i));
        let returned = ops.iter().filter(|&&i| h[i].ret.is_some()).count();
        // Calls before returns at equal times: touching intervals count as concurrent, the
        // lenient reading (a checker must not report a violation that may not be one).
        let mut order: Vec<(u64, u8, usize)> = Vec::with_capacity(2 * n);
        for (i, &hi) in ops.iter().enumerate() {
            let o = &h[hi];
            order.push((o.call, 0, 2 * i));
            order.push((o.ret.unwrap_or(u64::MAX), 1, 2 * i + 1));
        }
        order.sort_unstable();
        let mut next = vec![HEAD; 2 * n];
        let mut prev = vec![HEAD; 2 * n];
        for w in order.windows(2) {
            next[w[0].2] = w[1].2;
            prev[w[1].2] = w[0].2;
        }
        let first = order.first().map_or(HEAD, |e| e.2);
        drop(order);
        let remaining = ops.iter().filter(|&&i| !h[i].is_unknown()).count();
        let known_words = returned.div_ceil(64);
        let never_words = (n - returned).div_ceil(64);
        Search {
            history,
            ops,
            returned,
            next,
            prev,
            first,
            cursor: first,
            known: vec![0; known_words],
            frontier: 0,
            end: 0,
            never: vec![0; never_words],
            state: initial,
            stack: Vec::with_capacity(n),
            cache: Cache::new(),
            remaining,
            steps: 0,
            best: Vec::new(),
            blocked: None,
            fresh_level: true,
            trying: 0,
            fixed_bytes,
            vars: None,
            enumerate: false,
        }
    }

    /// Makes the search stop at every complete linearization it reaches ([`Step::EndState`])
    /// instead of at the first, then go on, so that every model state some linearization ends
    /// in is met, and answer [`Step::Exhausted`] when none is left.
    ///
    /// The cuts of the search stay sound for this: a (set, state) pair met again has had
    /// every completion explored already, and an observation placed first loses no end state,
    /// since it leaves the state as it was (see `backtrack`). Operations that never returned may
    /// still be placed after the last known one, so their effect, or its absence, is in the end
    /// states too. A state may be met more than once, by different sets of such operations.
    pub(crate) fn enumerate(&mut self) {
        self.enumerate = true;
    }

    pub(crate) fn op(&self, local: usize) -> &'h Operation<M::Op, M::Output> {
        &self.history.ops[self.ops[local]]
    }

    /// History index of local op `local`.
    pub(crate) fn history_index(&self, local: usize) -> usize {
        self.ops[local]
    }

    pub(crate) fn state(&self) -> &M {
        &self.state
    }

    /// Makes the search bind the `Var`s its operations hold (a no-op when none does). `Err`
    /// when the budget refuses the memory.
    pub(crate) fn bind_vars(&mut self, budget: &mut Budget) -> Result<(), String> {
        self.vars = Vars::new(self.history, &self.ops, budget)?.map(Box::new);
        Ok(())
    }

    /// The `Var` bookkeeping; `None` for operations without vars, which the compiler knows,
    /// so their search compiles to what it was before vars.
    #[inline]
    fn vars_mut(&mut self) -> Option<&mut Vars<M>> {
        if M::Op::uses_vars() {
            self.vars.as_deref_mut()
        } else {
            None
        }
    }

    /// Why the search could not try every order, when a `Var` could not be bound.
    pub(crate) fn doubt(&self) -> Option<&str> {
        self.vars.as_ref().and_then(|v| v.doubt())
    }

    /// Bytes held by the search beyond its fixed vectors.
    pub(crate) fn grown_bytes(&self) -> u64 {
        self.cache.bytes + self.vars.as_ref().map_or(0, |v| v.bytes)
    }

    #[inline]
    fn mark(&mut self, local: usize) {
        if local >= self.returned {
            let b = local - self.returned;
            self.never[b / 64] |= 1 << (b % 64);
            return;
        }
        let w = local / 64;
        self.known[w] |= 1 << (local % 64);
        self.end = self.end.max(w + 1);
        while self.frontier < self.known.len() && self.known[self.frontier] == u64::MAX {
            self.frontier += 1;
        }
    }

    #[inline]
    fn unmark(&mut self, local: usize) {
        if local >= self.returned {
            let b = local - self.returned;
            self.never[b / 64] &= !(1 << (b % 64));
            return;
        }
        let w = local / 64;
        self.known[w] &= !(1 << (local % 64));
        self.frontier = self.frontier.min(w);
        if w + 1 == self.end {
            while self.end > 0 && self.known[self.end - 1] == 0 {
                self.end -= 1;
            }
        }
    }

    /// The cache key of the linearized set: the frontier, the window of words from it to the
    /// last non-zero one, and the never-returned bits. Canonical, so equal sets and only they
    /// give equal keys. Caches it with `state` (the current state when `None`); `Ok(false)` if
    /// it was there, `Err` when the budget stops the search.
    #[inline]
    fn insert_key(&mut self, state: Option<&M>, budget: &mut Budget) -> Result<bool, String> {
        let vars: &[u64] = match self.vars.as_deref_mut() {
            Some(v) if M::Op::uses_vars() => v.key_words(),
            _ => &[],
        };
        let key = Key {
            frontier: self.frontier as u64 | (vars.len() as u64) << 32,
            window: &self.known[self.frontier..self.end.max(self.frontier)],
            never: &self.never,
            vars,
        };
        if let Some(reason) = budget.work(key.len() as u64) {
            return Err(reason);
        }
        let state = state.unwrap_or(&self.state);
        match self.cache.insert(&key, state, budget) {
            Insert::New => Ok(true),
            Insert::Present => Ok(false),
            Insert::OutOfMemory => Err(budget.exhausted()),
            Insert::OutOfTime(reason) => Err(reason),
        }
    }

    /// Takes the call entry `e` and its return out of the list.
    #[inline]
    fn lift(&mut self, e: usize) {
        for x in [e, e + 1] {
            let (p, n) = (self.prev[x], self.next[x]);
            if p == HEAD {
                self.first = n;
            } else {
                self.next[p] = n;
            }
            if n != HEAD {
                self.prev[n] = p;
            }
        }
    }

    /// Puts them back (the reverse of `lift`).
    #[inline]
    fn unlift(&mut self, e: usize) {
        for x in [e + 1, e] {
            let (p, n) = (self.prev[x], self.next[x]);
            if p == HEAD {
                self.first = x;
            } else {
                self.next[p] = x;
            }
            if n != HEAD {
                self.prev[n] = x;
            }
        }
    }

    pub(crate) fn run(&mut self, slice: u64, budget: &mut Budget) -> Step {
        let mut left = slice;
        loop {
            if self.remaining == 0 {
                if self.enumerate {
                    if self.fresh_level {
                        // Only operations that never returned can follow, and none is an
                        // observation: nothing for `take_observation` to do at this level.
                        self.fresh_level = false;
                        return Step::EndState;
                    }
                } else {
                    // The linearization outlives the search: count it for good.
                    if !budget.reserve(self.stack.len() as u64 * 8 + 24) {
                        return Step::OutOfBudget(budget.exhausted());
                    }
                    let order = self
                        .stack
                        .iter()
                        .map(|(i, _, _)| self.ops[*i as usize])
                        .collect();
                    return Step::Done(Ok(order));
                }
            }
            if left == 0 {
                return Step::Paused;
            }
            left -= 1;
            self.steps += 1;
            if let Some(reason) = budget.work(1) {
                return Step::OutOfBudget(reason);
            }
            if self.fresh_level {
                // A new level: an observation that fits goes first, and alone (see `backtrack`).
                self.fresh_level = false;
                match self.take_observation(budget) {
                    Observation::Taken => continue,
                    Observation::Refuted => {
                        if let Some(step) = self.backtrack(None, budget) {
                            return step;
                        }
                        continue;
                    }
                    Observation::None => {}
                    Observation::Stop(reason) => return Step::OutOfBudget(reason),
                }
            }
            let e = self.cursor;
            if e == HEAD {
                // Only unknown operations' calls were left and none fits: backtrack.
                if let Some(step) = self.backtrack(None, budget) {
                    return step;
                }
                continue;
            }
            if e.is_multiple_of(2) {
                let local = e / 2;
                self.trying = local;
                let op = self.op(local);
                // With `Var`s: the operation bound to the placed steps' outputs, whether its
                // output can be compared, whether a var names it (then its output is state).
                let (bound, blind, named) = match &mut self.vars {
                    Some(v) if M::Op::uses_vars() => {
                        let bound = if v.holds(local) {
                            match v.bind(local, op) {
                                Some(b) => Some(b),
                                None => {
                                    self.cursor = self.next[e];
                                    continue;
                                }
                            }
                        } else {
                            None
                        };
                        (bound, v.blind(local), v.named(local))
                    }
                    _ => (None, false, false),
                };
                let this = bound.as_ref().unwrap_or(&op.op);
                let mut next_state = self.state.clone();
                // A known output is judged, and the model follows it where its specification
                // allows a choice: the state placed (and cached) is the one the system chose.
                let actual = match (&op.ret, &op.output) {
                    (Some(_), Some(actual)) if !blind => Some(actual),
                    _ => None,
                };
                if let Ok(expected) = step_on(&mut next_state, this, actual) {
                    self.mark(local);
                    if let Some(v) = self.vars_mut() {
                        if !v.enter(local, Some(&expected), budget) {
                            return Step::OutOfBudget(budget.exhausted());
                        }
                    }
                    match self.insert_key(Some(&next_state), budget) {
                        Err(reason) => return Step::OutOfBudget(reason),
                        Ok(true) => {
                            // A named step's output is state, which an observation would fix
                            // early; an unchecked output observes nothing.
                            let neutral = match (&op.ret, &op.output) {
                                (Some(_), Some(out)) => {
                                    !named && !blind && M::is_observation(this, out)
                                }
                                _ => false,
                            };
                            let previous = std::mem::replace(&mut self.state, next_state);
                            self.stack.push((local as u32, previous, neutral));
                            if !op.is_unknown() {
                                self.remaining -= 1;
                            }
                            self.lift(e);
                            self.cursor = self.first;
                            self.fresh_level = true;
                            continue;
                        }
                        Ok(false) => {
                            self.unmark(local);
                            if let Some(v) = self.vars_mut() {
                                v.leave(local);
                            }
                        }
                    }
                }
                self.cursor = self.next[e];
            } else if let Some(step) = self.backtrack(Some(e / 2), budget) {
                return step;
            }
        }
    }

    /// Looks among the candidates of a new level for an observation that fits, and takes it.
    fn take_observation(&mut self, budget: &mut Budget) -> Observation {
        let mut e = self.first;
        let mut visited = 0;
        while e != HEAD && e.is_multiple_of(2) {
            visited += 1;
            let local = e / 2;
            self.trying = local;
            let op = self.op(local);
            if let (Some(_), Some(out)) = (&op.ret, &op.output) {
                // A var-holding operation is bound quietly here: the main loop tries it again
                // and notes a var that does not bind.
                let bound = match &self.vars {
                    Some(v) if M::Op::uses_vars() => {
                        if v.named(local) || v.blind(local) {
                            e = self.next[e];
                            continue;
                        }
                        if v.holds(local) {
                            match v.try_bind(local, &op.op) {
                                Some(b) => Some(b),
                                None => {
                                    e = self.next[e];
                                    continue;
                                }
                            }
                        } else {
                            None
                        }
                    }
                    _ => None,
                };
                let this = bound.as_ref().unwrap_or(&op.op);
                // An observation leaves the state as it is: ask, without stepping a copy.
                if M::is_observation(this, out) && self.state.observes(this, out) {
                    self.steps += 1;
                    self.mark(local);
                    if let Some(v) = self.vars_mut() {
                        // Not named (skipped above): nothing to remember, nothing to allocate.
                        v.enter(local, None, budget);
                    }
                    match self.insert_key(None, budget) {
                        Err(reason) => return Observation::Stop(reason),
                        Ok(false) => {
                            // Already refuted with it first, so this level is refuted.
                            self.unmark(local);
                            if let Some(v) = self.vars_mut() {
                                v.leave(local);
                            }
                            return Observation::Refuted;
                        }
                        Ok(true) => {}
                    }
                    self.stack.push((local as u32, self.state.clone(), true));
                    self.remaining -= 1;
                    self.lift(e);
                    self.cursor = self.first;
                    self.fresh_level = true;
                    return match budget.work(visited) {
                        Some(reason) => Observation::Stop(reason),
                        None => Observation::Taken,
                    };
                }
            }
            e = self.next[e];
        }
        match budget.work(visited) {
            Some(reason) => Observation::Stop(reason),
            None => Observation::None,
        }
    }

    /// No pending call fits before the return of `blocked` (or before the end): undo the last
    /// linearized operation and try the next candidate after it.
    ///
    /// An observation ([`Model::is_observation`]: a read, a failed compare-and-set) that fit was
    /// as good a first choice as any: if some completion exists from the state before it, one
    /// exists that linearizes it first, since it changes no state wherever its output holds, and
    /// everything that must precede it in real time already does. So when such an operation is
    /// undone, the other candidates at its level need no trying, and the search backtracks one
    /// level further.
    fn backtrack(&mut self, blocked: Option<usize>, budget: &mut Budget) -> Option<Step> {
        // The deepest partial linearization is copied when the search is about to leave it,
        // never on the way down: a search that succeeds copies nothing.
        if self.stack.len() > self.best.len() {
            self.best.clear();
            self.best.extend(self.stack.iter().map(|(i, _, _)| *i));
            self.blocked = None;
            if let Some(reason) = budget.work(self.best.len() as u64) {
                return Some(Step::OutOfBudget(reason));
            }
        }
        if self.stack.len() == self.best.len() && self.blocked.is_none() {
            if let Some(b) = blocked {
                self.blocked = Some((b as u32, format!("{:?}", self.state)));
            }
        }
        loop {
            let Some((local, state, neutral)) = self.stack.pop() else {
                if self.enumerate {
                    return Some(Step::Exhausted);
                }
                return Some(Step::Done(Err(self.violation(budget))));
            };
            let local = local as usize;
            self.state = state;
            self.unmark(local);
            if let Some(v) = self.vars_mut() {
                v.leave(local);
            }
            if !self.op(local).is_unknown() {
                self.remaining += 1;
            }
            self.unlift(2 * local);
            self.cursor = self.next[2 * local];
            if !neutral {
                return None;
            }
        }
    }

    /// Called with nothing placed (so every var is unbound), and leaves it so.
    fn violation(&mut self, budget: &mut Budget) -> Violation {
        let linearized: Vec<usize> = self.best.iter().map(|&i| self.ops[i as usize]).collect();
        // Replay the best partial linearization to report the state it reaches.
        let (blocked_local, state_text) = match &self.blocked {
            Some((b, s)) => (*b as usize, s.clone()),
            None => (0, String::new()),
        };
        let mut state = None;
        // The steps placed in the replay, to unplace afterwards.
        let mut placed = 0;
        if !self.best.is_empty() || self.blocked.is_some() {
            let mut s = self.stack_base_state();
            for k in 0..self.best.len() {
                let local = self.best[k] as usize;
                self.trying = local;
                let op = &self.op(local).op;
                if self.replay_step(&mut s, local, op, budget).is_none() {
                    break;
                }
                placed += 1;
            }
            state = Some(s);
        }
        self.trying = blocked_local;
        let blocked_op = self.op(blocked_local);
        let (expected, actual) = match (&state, &blocked_op.output) {
            (Some(s), Some(actual)) => {
                let mut s = s.clone();
                let bound = match &self.vars {
                    Some(v) if v.holds(blocked_local) => v.try_bind(blocked_local, &blocked_op.op),
                    _ => Some(blocked_op.op.clone()),
                };
                let e = bound.map(|op| format!("{:?}", s.step(&op)));
                (e, Some(format!("{actual:?}")))
            }
            _ => (None, blocked_op.output.as_ref().map(|a| format!("{a:?}"))),
        };
        if let Some(v) = &mut self.vars {
            for k in (0..placed).rev() {
                v.leave(self.best[k] as usize);
            }
        }
        Violation {
            partition: None,
            linearized,
            blocked: self.ops[blocked_local],
            state: state.map(|s| format!("{s:?}")).unwrap_or(state_text),
            expected,
            actual,
        }
    }

    /// Steps `s` on operation `local` (`op`) bound to the outputs placed so far, and places it;
    /// `None` (placing nothing) when a var does not bind or the budget refuses its output.
    fn replay_step(
        &mut self,
        s: &mut M,
        local: usize,
        op: &M::Op,
        budget: &mut Budget,
    ) -> Option<()> {
        // The model follows the recorded output as the search did when it placed the step.
        let recorded = self.op(local);
        let known = match (&recorded.ret, &recorded.output) {
            (Some(_), Some(out)) => Some(out),
            _ => None,
        };
        let Some(v) = &mut self.vars else {
            let _ = step_on(s, op, known);
            return Some(());
        };
        let bound = if v.holds(local) {
            v.try_bind(local, op)?
        } else {
            op.clone()
        };
        let known = known.filter(|_| !v.blind(local));
        let out = step_on(s, &bound, known).unwrap_or_else(|expected| expected);
        v.enter(local, Some(&out), budget).then_some(())
    }

    /// The initial state (the bottom of the stack, or the current state when it is empty).
    fn stack_base_state(&self) -> M {
        self.stack
            .first()
            .map(|(_, s, _)| s.clone())
            .unwrap_or_else(|| self.state.clone())
    }
}
