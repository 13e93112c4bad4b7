//! A violation told so that a person can check it: [`explain`].
//!
//! The checker's [`Violation`] holds the whole longest partial linearization, which on a
//! recorded history runs to tens of thousands of operations. A person needs far less: the
//! operation that cannot be placed, the state the model was in, what it expected, the last few
//! operations placed before it, and the operations that ran at the same time, each with its
//! client, its place in the input file (or its times) and what it returned. Everything else is
//! counted, not printed.

use super::minimize::Minimal;
use super::violations::Culprit;
use super::{Report, Verdict, Violation};
use crate::history::History;
use crate::spec::Model;
use std::fmt;
use std::hash::Hash;

/// How much an explanation shows.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct ExplainOptions {
    /// How many operations of the partial linearization to show (the last ones), and at most how
    /// many operations around the blocked one. Default 10.
    pub context: usize,
    /// The file the history was read from: lines are cited as `FILE:LINE`. Default none
    /// (`line N`).
    pub file: Option<String>,
}

impl Default for ExplainOptions {
    fn default() -> Self {
        ExplainOptions {
            context: 10,
            file: None,
        }
    }
}

impl ExplainOptions {
    /// See [`ExplainOptions::context`].
    pub fn context(mut self, context: usize) -> Self {
        self.context = context;
        self
    }
    /// See [`ExplainOptions::file`].
    pub fn file(mut self, file: impl Into<String>) -> Self {
        self.file = Some(file.into());
        self
    }
}

/// One operation as a person finds it: where it is written, who issued it, what it did.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct OpView {
    /// Its index in the history's operations.
    pub index: usize,
    /// Where to find it: `FILE:12–15`, `lines 12–15`, or `operation #N` when the history does
    /// not know its lines.
    pub location: String,
    /// The client that issued it.
    pub client: u64,
    /// The operation (`Debug`).
    pub op: String,
    /// What it returned (`Debug`), or `unknown outcome`.
    pub output: String,
    /// When it was called and returned: the times the input wrote when it wrote some, else the
    /// history's own times (`5 → 9`, `5 → never`).
    pub times: String,
    /// The input's other fields of its events (`node=n2`).
    pub fields: Vec<(String, String)>,
}

impl OpView {
    /// Operation `index` of `history`; `file` names the input in its location.
    pub fn new<Op: fmt::Debug, Out: fmt::Debug>(
        history: &History<Op, Out>,
        index: usize,
        file: Option<&str>,
    ) -> OpView {
        let o = &history.ops[index];
        let source = history.source(index);
        let location = match (source.and_then(|s| s.call_line), file) {
            (Some(call), Some(file)) => match source.and_then(|s| s.ret_line) {
                Some(ret) if ret != call => format!("{file}:{call}–{ret}"),
                _ => format!("{file}:{call}"),
            },
            _ => source
                .and_then(|s| s.lines())
                .unwrap_or_else(|| format!("operation #{index}")),
        };
        let written = source.filter(|s| s.call_time.is_some());
        let times = match written {
            Some(s) => format!(
                "t={} → {}",
                s.call_time.as_deref().unwrap_or("?"),
                s.ret_time.as_deref().unwrap_or("never")
            ),
            None => format!(
                "{} → {}",
                o.call,
                o.ret.map_or("never".to_string(), |r| r.to_string())
            ),
        };
        OpView {
            index,
            location,
            client: o.client,
            op: format!("{:?}", o.op),
            output: match (&o.ret, &o.output) {
                (Some(_), Some(out)) => format!("{out:?}"),
                _ => "unknown outcome".to_string(),
            },
            times,
            fields: source.map(|s| s.fields.clone()).unwrap_or_default(),
        }
    }
}

impl fmt::Display for OpView {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}  client {}  {} -> {}  [{}]",
            self.location, self.client, self.op, self.output, self.times
        )?;
        for (k, v) in &self.fields {
            write!(f, " {k}={v}")?;
        }
        Ok(())
    }
}

/// A violation, cut to what a person reads: see the module documentation.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Explanation {
    /// The partition (its key, `Debug`), when the check was partitioned.
    pub partition: Option<String>,
    /// The operation that cannot be placed.
    pub blocked: OpView,
    /// The model's state after the partial linearization, before the blocked operation.
    pub state: String,
    /// What the model says the blocked operation returns there.
    pub expected: Option<String>,
    /// What it returned.
    pub actual: Option<String>,
    /// Operations in the partial linearization.
    pub linearized: usize,
    /// Its last operations (at most [`ExplainOptions::context`]), each with the state after it.
    pub tail: Vec<(OpView, String)>,
    /// Operations of the same partition that overlap the blocked one in time, or completed just
    /// before it was called (each client's last), in order of call.
    pub nearby: Vec<OpView>,
    /// Operations of `nearby`'s kind left out to keep it short.
    pub nearby_elided: usize,
}

/// Explains the violation in `report`, which must come from checking `history` against `initial`
/// unpartitioned; `None` unless the verdict is
/// [`Violated`](Verdict::Violated).
pub fn explain<M: Model>(
    history: &History<M::Op, M::Output>,
    initial: &M,
    report: &Report,
    options: &ExplainOptions,
) -> Option<Explanation> {
    explain_by(history, initial, report, |_: &M::Op| (), options)
}

/// [`explain`] for a report of [`check_linearizable_by`](super::check_linearizable_by) with
/// this `partition`.
pub fn explain_by<M, K, P>(
    history: &History<M::Op, M::Output>,
    initial: &M,
    report: &Report,
    partition: P,
    options: &ExplainOptions,
) -> Option<Explanation>
where
    M: Model,
    K: Hash + Eq,
    P: Fn(&M::Op) -> K,
{
    let Verdict::Violated(v) = &report.verdict else {
        return None;
    };
    explain_violation(history, initial, v, partition, options)
}

/// [`explain_by`] for one violation.
pub fn explain_violation<M, K, P>(
    history: &History<M::Op, M::Output>,
    initial: &M,
    v: &Violation,
    partition: P,
    options: &ExplainOptions,
) -> Option<Explanation>
where
    M: Model,
    K: Hash + Eq,
    P: Fn(&M::Op) -> K,
{
    let n = history.ops.len();
    if v.blocked >= n || v.linearized.iter().any(|&i| i >= n) {
        return None;
    }
    let file = options.file.as_deref();
    let view = |i: usize| OpView::new(history, i, file);
    let k = options.context;

    let mut state = initial.clone();
    let skip = v.linearized.len().saturating_sub(k);
    let mut tail = Vec::new();
    // Vars are bound to the model outputs of the replay, as the checker bound them.
    let mut replay = super::vars::Replay::new();
    for (position, &i) in v.linearized.iter().enumerate() {
        replay.step(history, i, &mut state)?;
        if position >= skip {
            tail.push((view(i), format!("{state:?}")));
        }
    }

    let blocked = &history.ops[v.blocked];
    let key = partition(&blocked.op);
    let shown: std::collections::HashSet<usize> = v.linearized[skip..]
        .iter()
        .copied()
        .chain([v.blocked])
        .collect();
    let (call, ret) = (blocked.call, blocked.ret.unwrap_or(u64::MAX));
    // Concurrent: the intervals meet (touching counts, as in the checker).
    let mut concurrent = Vec::new();
    // Just before: each client's last operation that returned before the blocked one's call.
    let mut before: std::collections::HashMap<u64, usize> = Default::default();
    for (i, o) in history.ops.iter().enumerate() {
        if shown.contains(&i) || partition(&o.op) != key {
            continue;
        }
        let o_ret = o.ret.unwrap_or(u64::MAX);
        if o.call <= ret && o_ret >= call {
            concurrent.push(i);
        } else if o_ret < call {
            let e = before.entry(o.client).or_insert(i);
            if history.ops[*e].ret < o.ret {
                *e = i;
            }
        }
    }
    // The closest ones matter: concurrent ones by how near their call is to the blocked call,
    // earlier ones by how recently they returned.
    concurrent.sort_by_key(|&i| history.ops[i].call.abs_diff(call));
    let mut before: Vec<usize> = before.into_values().collect();
    before.sort_by_key(|&i| std::cmp::Reverse(history.ops[i].ret));
    let total = concurrent.len() + before.len();
    let mut nearby: Vec<usize> = concurrent.into_iter().take(k).collect();
    let room = k.saturating_sub(nearby.len()).max(k.min(3));
    nearby.extend(before.into_iter().take(room));
    nearby.sort_by_key(|&i| (history.ops[i].call, i));
    let nearby_elided = total - nearby.len();

    Some(Explanation {
        partition: v.partition.clone(),
        blocked: view(v.blocked),
        state: v.state.clone(),
        expected: v.expected.clone(),
        actual: v.actual.clone(),
        linearized: v.linearized.len(),
        tail,
        nearby: nearby.into_iter().map(view).collect(),
        nearby_elided,
    })
}

impl fmt::Display for Explanation {
    /// Several lines, without a trailing newline; a caller printing them prefixes each line as
    /// its output requires.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let within = match &self.partition {
            Some(p) => format!(" in partition {p}"),
            None => String::new(),
        };
        writeln!(f, "cannot be placed{within}: {}", self.blocked)?;
        match (&self.expected, &self.actual) {
            (Some(e), Some(a)) => writeln!(
                f,
                "  in state {} the model says {e}, but it returned {a}; no other order of the \
                 operations before it fits",
                self.state
            )?,
            _ => writeln!(
                f,
                "  no order of the operations before it reaches a state where it fits (state {})",
                self.state
            )?,
        }
        let elided = self.linearized - self.tail.len();
        write!(
            f,
            "the longest linearization found has {} operations",
            self.linearized
        )?;
        if self.tail.is_empty() {
            write!(f, "")?;
        } else if elided > 0 {
            write!(
                f,
                "; its last {} ({elided} earlier ones not shown):",
                self.tail.len()
            )?;
        } else {
            write!(f, ":")?;
        }
        for (op, state) in &self.tail {
            write!(f, "\n  {op}\n      state after: {state}")?;
        }
        if !self.nearby.is_empty() {
            write!(
                f,
                "\noperations running at the same time or just before it{}:",
                if self.nearby_elided > 0 {
                    format!(" ({} more not shown)", self.nearby_elided)
                } else {
                    String::new()
                }
            )?;
            for op in &self.nearby {
                write!(f, "\n  {op}")?;
            }
        }
        Ok(())
    }
}

/// A minimal violation ([`minimal_violation`](super::minimal_violation)) in words: what the
/// operations contradict, each of them (every outcome, and the latest effects when there are
/// many), and its [`Culprit`] when known. Several lines, without a trailing newline; operations
/// are cited as [`OpView`]s of `history`, the history it was found in.
pub fn describe_minimal<Op: fmt::Debug, Out: fmt::Debug>(
    history: &History<Op, Out>,
    m: &Minimal<Op, Out>,
    culprit: Option<&Culprit>,
    partition: Option<&str>,
    options: &ExplainOptions,
) -> String {
    let view = |i: usize| OpView::new(history, i, options.file.as_deref());
    let what = if m.ops.len() == 1 {
        "this operation cannot have returned what it did".to_string()
    } else {
        format!(
            "these {} of {} operations contradict each other",
            m.ops.len(),
            history.ops.len()
        )
    };
    let whatever = match m.doubted {
        0 => String::new(),
        1 => ", whatever the one other state-changing operation called before the last of them \
              returned did (any outcome, at any time after its call, or never)"
            .to_string(),
        d => format!(
            ", whatever the {d} other state-changing operations called before the last of them \
             returned did (any outcome, at any time after their call, or never)"
        ),
    };
    let mut out = format!(
        "smallest violation found: {what}{whatever} ({}; {} checks in {:.1} s):",
        if m.one_minimal {
            "taking away any one of them makes the rest linearizable"
        } else {
            "time ran out before it was proven minimal"
        },
        m.checks,
        m.elapsed.as_secs_f64()
    );
    // A violation that would not shrink in time can hold many effects: every outcome is shown,
    // and the latest effects, the ones next to the contradiction.
    let room = 2 * options.context.max(1);
    let mut effects = m.effects.clone();
    effects.sort_by_key(|&i| (history.ops[i].call, i));
    let hidden = effects.len().saturating_sub(room);
    let mut ops: Vec<usize> = m
        .outcomes
        .iter()
        .chain(&effects[hidden..])
        .copied()
        .collect();
    ops.sort_by_key(|&i| (history.ops[i].call, i));
    if hidden > 0 {
        out.push_str(&format!(
            "\n  ({hidden} earlier operations that took effect not shown)"
        ));
    }
    for &i in &ops {
        let effect = if m.effects.binary_search(&i).is_ok() {
            "  (took effect; its output is not needed)"
        } else {
            ""
        };
        out.push_str(&format!("\n  {}{effect}", view(i)));
    }
    if let Some(b) = m.blamed() {
        out.push_str(&format!(
            "\n  among them, the checker cannot place {}",
            view(b).location
        ));
    }
    if let Some(c) = culprit {
        let why = match c.next {
            _ if c.resolves => format!(
                "with it allowed any outcome, no violation remains{}",
                partition.map_or(String::new(), |p| format!(" in partition {p}"))
            ),
            Some(next) => format!(
                "with it allowed any outcome, the first violation moves furthest, to {}",
                view(next).location
            ),
            None => "its benefit of the doubt helps most".to_string(),
        };
        out.push_str(&format!(
            "\n  most likely at fault: {} ({why})",
            view(c.op).location
        ));
    }
    out
}
