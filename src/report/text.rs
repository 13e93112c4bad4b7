//! The human-readable report.

use super::{diagram, Origin, Report, RunVerdict, Shape};
use crate::failure::{seconds, FailureKind, HistoryViolation};
use crate::program::{fingerprint, fingerprint_program};
use std::fmt::Write;

impl Report {
    /// The report as printed: cause, minimal program, seed, statistics, pasteable test.
    pub fn text(&self) -> String {
        let mut t = String::new();
        let program = &self.minimal_rust;
        let steps = program.len();
        let Some(failure) = &self.failure else {
            let _ = writeln!(
                t,
                "stateprop: `{}` passed: {} cases, {} steps, seed {}",
                self.test, self.stats.cases, self.stats.steps, self.seed
            );
            self.write_rule_counts(&mut t);
            self.write_coverage(&mut t);
            self.write_undecided(&mut t);
            for warning in self.warnings() {
                let _ = writeln!(t, "stateprop: warning: {warning}");
            }
            return t;
        };
        let _ = writeln!(t, "stateprop: `{}` failed", self.test);
        let _ = writeln!(t, "stateprop: cause: {}", failure.cause_in(program));
        let shrunk = if self.shrink.steps_before > 0 {
            format!(
                ", shrunk from {} steps in {} runs{}{}",
                self.shrink.steps_before,
                self.shrink.runs,
                if self.shrink.failures > 1 {
                    format!(", the shortest of {} shrunk failures", self.shrink.failures)
                } else {
                    String::new()
                },
                if self.shrink.budget_exhausted {
                    " (budget exhausted: may not be minimal)"
                } else {
                    ""
                }
            )
        } else {
            String::new()
        };
        // "Minimal" only for what the shrinker made minimal: a replayed program runs as given.
        let label = if self.origin == Some(Origin::Replay) {
            "program, replayed as given"
        } else if self.note.is_some() {
            "program"
        } else {
            "minimal program"
        };
        let _ = writeln!(t, "stateprop: {label} ({steps} steps{shrunk}):");
        for (i, op) in program.prefix.iter().enumerate() {
            let _ = writeln!(t, "stateprop: {i:>4}. {op}");
        }
        // Branch steps carry their ids, the names a `Var` in a later step prints.
        for (id, op) in program.steps().skip(program.prefix.len()) {
            if id.index == 0 {
                if let Some(b) = id.branch {
                    let _ = writeln!(t, "stateprop: branch {b}, run beside the others:");
                }
            }
            let _ = writeln!(t, "stateprop:   {id}: {op}");
        }
        self.write_involved(&mut t);
        self.write_diagram(&mut t);
        if !self.timeline.is_empty() {
            let _ = writeln!(
                t,
                "stateprop: timeline of the failing run (simulated ms downward, a column per node):"
            );
            for line in &self.timeline {
                let _ = writeln!(t, "stateprop:   {line}");
            }
        }
        if let Some(note) = &self.note {
            let _ = writeln!(t, "stateprop: note: {note}");
        }
        if let Some((failed, runs)) = self.reproduction {
            let _ = writeln!(
                t,
                "stateprop: reproduced: {failed} of {runs} runs of this program failed this way"
            );
        }
        self.write_undecided(&mut t);
        if !self.trace.is_empty() {
            let _ = writeln!(t, "stateprop: trace of the minimal program:");
            for line in &self.trace {
                let _ = writeln!(t, "stateprop:   {line}");
            }
        }
        match &self.origin {
            Some(Origin::Saved { location }) => {
                let _ = writeln!(
                    t,
                    "stateprop: found by replaying the case saved at {location}"
                );
            }
            Some(Origin::Generated { case, .. }) => {
                let _ = writeln!(t, "stateprop: found by case {case}");
            }
            Some(Origin::Stress { seed, operation }) => {
                let _ = writeln!(
                    t,
                    "stateprop: found by a stress run at operation {operation} of the stream of \
                     seed {seed} (rerun: the same plan with STATEPROP_SEED={seed})"
                );
            }
            Some(Origin::StressConcurrent {
                seed,
                operation,
                threads,
            }) => {
                let _ = writeln!(
                    t,
                    "stateprop: found by a concurrent stress run ({threads} threads) in the round \
                     of operation {operation}, seed {seed}; the seed fixes each thread's \
                     operations, not their interleaving, so the same plan with \
                     STATEPROP_SEED={seed} may need several reruns to fail again (the program \
                     above is the reproduction)"
                );
            }
            _ => {}
        }
        match &self.origin {
            Some(Origin::Saved { .. }) => {
                let _ = writeln!(
                    t,
                    "stateprop: rerun: {} (saved cases are replayed before any new one)",
                    self.rerun
                );
            }
            Some(Origin::Generated { .. }) => {
                let _ = writeln!(
                    t,
                    "stateprop: seed {} (rerun exactly: STATEPROP_SEED={} STATEPROP_CASES={}{} {})",
                    self.seed, self.seed, self.stats.cases, self.rerun_env, self.rerun
                );
            }
            _ => {}
        }
        if matches!(
            self.origin,
            Some(Origin::Generated { .. } | Origin::Saved { .. })
        ) && self.note.is_none()
        {
            let _ = writeln!(
                t,
                "stateprop: statistics: {} cases, {} steps; shrink: {} runs, {} skipped as duplicates",
                self.stats.cases, self.stats.steps, self.shrink.runs, self.shrink.skipped
            );
            self.write_rule_counts(&mut t);
        }
        if let Some(path) = &self.saved_to {
            let _ = writeln!(
                t,
                "stateprop: saved to {path}: replayed first on every run; commit it"
            );
        }
        if self.origin != Some(Origin::Replay) {
            // `replay_simulated` judges linearizability, which a stale read breaks as well.
            let replayed = self.replay_call.contains("replay_simulated")
                && matches!(
                    &failure.kind,
                    FailureKind::History(v) if matches!(
                        **v,
                        HistoryViolation::NotLinearizable { .. }
                            | HistoryViolation::SessionGuarantee { .. }
                    )
                );
            if failure.kind.involved().is_some() && !self.replays_concurrently() && !replayed {
                // A pasted test replays through `replay`, which runs no history judge: say so
                // rather than offer a test that passes on the case it claims to keep.
                let _ = writeln!(
                    t,
                    "stateprop: note: `replay` checks each step, not the history, so the test \
                     below passes on this case; the regression file keeps it (the runner replays \
                     it with its judges)"
                );
            }
            let keep = match self.shape() {
                _ if self.replays_concurrently() => "paste this test to keep the case:",
                Shape::Sequential => "paste this test to keep the case:",
                _ => {
                    "stateprop has no parallel replay yet; keep the case as this program \
                     (prefix, then branches):"
                }
            };
            let _ = writeln!(t, "stateprop: {keep}");
            t.push_str(&self.pasteable_test());
        }
        t
    }

    /// For a history judge's failure, the operations it involves as they were recorded.
    fn write_involved(&self, t: &mut String) {
        let (Some(failure), Some(history)) = (&self.failure, &self.history) else {
            return;
        };
        let Some(involved) = failure.kind.involved() else {
            return;
        };
        let _ = writeln!(
            t,
            "stateprop: operations involved, as recorded (client, invoked..returned):"
        );
        for op in history.iter().filter(|op| involved.contains(&op.step)) {
            let output = op.output.as_deref().unwrap_or("(unknown)");
            let ret = op.ret.map_or("never".to_string(), |r| r.to_string());
            let _ = writeln!(
                t,
                "stateprop:   {}: {} -> {output} (client {}, {}..{ret})",
                op.step, op.op, op.client, op.call
            );
        }
    }

    /// For a parallel program, the recorded history as a diagram (see [`super::diagram`]), the
    /// operation a linearizability judge could not place, or the later step of a broken session
    /// guarantee, marked.
    fn write_diagram(&self, t: &mut String) {
        let Some(history) = &self.history else {
            return;
        };
        let branches = self.minimal_rust.branches.len();
        if branches == 0 && history.iter().all(|op| op.step.branch.is_none()) {
            return;
        }
        let mark = self.failure.as_ref().and_then(|f| match &f.kind {
            FailureKind::History(v) => match &**v {
                HistoryViolation::NotLinearizable { blocked, .. } => Some(diagram::Mark {
                    step: *blocked,
                    label: "cannot take effect".to_string(),
                }),
                HistoryViolation::SessionGuarantee {
                    guarantee, later, ..
                } => Some(diagram::Mark {
                    step: *later,
                    label: format!("breaks {guarantee}"),
                }),
                _ => None,
            },
            _ => None,
        });
        let _ = writeln!(
            t,
            "stateprop: the history as recorded, time downward (`->` invoked, `<-` returned):"
        );
        for line in diagram::diagram(history, branches, mark.as_ref()) {
            let _ = writeln!(t, "{line}");
        }
        if let Some(why) = self.why_not_linearizable() {
            let _ = writeln!(t, "stateprop: why: {why}");
        }
    }

    /// For a linearizability violation, the claim the judge proved, in words: the cause line
    /// names the operation, this says what was searched.
    fn why_not_linearizable(&self) -> Option<String> {
        let FailureKind::History(v) = &self.failure.as_ref()?.kind else {
            return None;
        };
        let HistoryViolation::NotLinearizable {
            partition,
            linearized,
            blocked,
            state,
            expected,
            actual,
        } = &**v
        else {
            return None;
        };
        let of = match partition {
            Some(key) => format!("the operations of partition {key}"),
            None => "these operations".to_string(),
        };
        let answer = match (expected, actual) {
            (Some(e), Some(a)) => format!("returned {a} where the model returns {e}"),
            (None, Some(a)) => format!("returned {a}, and the model cannot run it there"),
            (_, None) => "has an unknown outcome, and the model cannot run it there".to_string(),
        };
        Some(format!(
            "no order of {of} that keeps real time (one that returned before another was \
             invoked comes first) gives every answer the system gave; the longest order that \
             does ({} operation{}) leaves the model in state {state}, and there {blocked} {answer}",
            linearized.len(),
            if linearized.len() == 1 { "" } else { "s" }
        ))
    }

    /// History judges that gave no verdict: not failures, but never left unsaid.
    fn write_undecided(&self, t: &mut String) {
        for u in &self.stats.undecided {
            let _ = writeln!(
                t,
                "stateprop: undecided: the {} judge gave no verdict on {} {} (not counted as \
                 failures): {}",
                u.judge,
                u.histories,
                if u.histories == 1 {
                    "history"
                } else {
                    "histories"
                },
                u.reason
            );
        }
    }

    fn write_rule_counts(&self, t: &mut String) {
        if self.stats.steps == 0 {
            return;
        }
        let counts: Vec<String> = self
            .stats
            .rules
            .iter()
            .map(|(name, n)| {
                format!(
                    "{name} {n} ({:.0}%)",
                    100.0 * *n as f64 / self.stats.steps as f64
                )
            })
            .collect();
        let _ = writeln!(t, "stateprop: rules: {}", counts.join(", "));
    }

    /// What a passing run covered besides the rule counts: how often the swarm let each rule
    /// run (when it left any out), the program lengths, and the user's labels.
    fn write_coverage(&self, t: &mut String) {
        let stats = &self.stats;
        let percent = |n: u64| 100.0 * n as f64 / stats.cases.max(1) as f64;
        if stats.enabled.iter().any(|&(_, n)| n < stats.cases) {
            let enabled: Vec<String> = stats
                .enabled
                .iter()
                .map(|(name, n)| format!("{name} {n} ({:.0}%)", percent(*n)))
                .collect();
            let _ = writeln!(
                t,
                "stateprop: cases whose swarm enabled each rule: {}",
                enabled.join(", ")
            );
        }
        if let Some(lengths) = length_buckets(&stats.lengths) {
            let _ = writeln!(t, "stateprop: program lengths: {lengths}");
        }
        if !stats.labels.is_empty() {
            let _ = writeln!(
                t,
                "stateprop: labels (cases in which one held at some step):"
            );
            let width = stats.labels.iter().map(|(l, _)| l.len()).max().unwrap_or(0);
            for (label, n) in &stats.labels {
                let _ = writeln!(
                    t,
                    "stateprop:   {label:<width$} {n:>7} ({:.0}%)",
                    percent(*n)
                );
            }
        }
    }

    /// What a user pastes to keep the minimal program: a `#[test]` replaying it, through
    /// `replay` for a sequential program, through `replay_concurrent` for one a concurrent run
    /// found (whatever its shape); for a parallel program from elsewhere, which nothing here
    /// replays, the program as a `Program::parallel(...)` expression.
    pub fn pasteable_test(&self) -> String {
        match self.shape() {
            _ if self.replays_concurrently() => self.concurrent_test(),
            Shape::Sequential => self.sequential_test(),
            _ => self.program_expression(""),
        }
    }

    /// Whether the pasted test replays a parallel program: the run was a concurrent one, on
    /// threads or (feature `tokio`) as tasks.
    fn replays_concurrently(&self) -> bool {
        ["replay_concurrent", "replay_async"]
            .iter()
            .any(|call| self.replay_call.contains(call))
    }

    /// The minimal program as a Rust expression building it, each line after `indent`.
    fn program_expression(&self, indent: &str) -> String {
        let program = &self.minimal_rust;
        let mut t = String::new();
        let _ = writeln!(t, "{indent}stateprop::Program::parallel(");
        let _ = writeln!(t, "{indent}    vec![");
        for op in &program.prefix {
            let _ = writeln!(t, "{indent}        {op},");
        }
        let _ = writeln!(t, "{indent}    ],");
        let _ = writeln!(t, "{indent}    vec![");
        for (b, branch) in program.branches.iter().enumerate() {
            let _ = writeln!(t, "{indent}        // branch {b}");
            let _ = writeln!(t, "{indent}        vec![");
            for op in branch {
                let _ = writeln!(t, "{indent}            {op},");
            }
            let _ = writeln!(t, "{indent}        ],");
        }
        let _ = writeln!(t, "{indent}    ],");
        let _ = writeln!(t, "{indent})");
        t
    }

    /// A `#[test]` calling `replay_concurrent` on the minimal program.
    fn concurrent_test(&self) -> String {
        let id = fingerprint_program(&self.minimal_rust) & 0xffff;
        let mut t = String::new();
        let _ = writeln!(t, "#[test]");
        let _ = writeln!(t, "fn regression_{}_{id:04x}() {{", self.test_base());
        // The program is the call's last argument, on lines of its own.
        let indent = "        ";
        let _ = writeln!(t, "    {}", self.replay_call.trim_end());
        let expression = self.program_expression(indent);
        // `&` before the expression's first line, a comma after its last.
        let expression = expression.trim_end().replacen(
            &format!("{indent}stateprop::"),
            &format!("{indent}&stateprop::"),
            1,
        );
        let _ = writeln!(t, "{expression},");
        let _ = writeln!(t, "    );");
        let _ = writeln!(t, "}}");
        t
    }

    /// The test's name as a Rust identifier part.
    fn test_base(&self) -> String {
        self.test
            .rsplit("::")
            .next()
            .unwrap_or("case")
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() {
                    c.to_ascii_lowercase()
                } else {
                    '_'
                }
            })
            .collect()
    }

    fn sequential_test(&self) -> String {
        let base = self.test_base();
        let id = fingerprint(&self.minimal_rust.prefix) & 0xffff;
        let mut t = String::new();
        let _ = writeln!(t, "#[test]");
        let _ = writeln!(t, "fn regression_{base}_{id:04x}() {{");
        let _ = writeln!(t, "    {}&[", self.replay_call);
        // A call spread over lines (`replay_with`) puts the list one level deeper.
        let (indent, close) = if self.replay_call.contains('\n') {
            ("            ", "        ],\n    );")
        } else {
            ("        ", "    ]);")
        };
        for op in &self.minimal_rust.prefix {
            let _ = writeln!(t, "{indent}{op},");
        }
        let _ = writeln!(t, "{close}");
        let _ = writeln!(t, "}}");
        t
    }

    /// The line with wall-clock figures, kept apart from the deterministic report.
    pub fn timing_line(&self) -> String {
        format!(
            "stateprop: timing: {} generating and running, {} shrinking",
            seconds(self.stats.time),
            seconds(self.shrink.time)
        )
    }

    /// Whether the verdict is a pass.
    pub fn passed(&self) -> bool {
        self.verdict == RunVerdict::Pass
    }
}

/// The lengths as four ranges of equal width over the lengths seen, with the share of cases in
/// each, then the minimum, median and maximum: `1-8 24%, 9-16 26%, … (min 1, median 16, max 32)`.
fn length_buckets(lengths: &std::collections::BTreeMap<usize, u64>) -> Option<String> {
    let (&min, _) = lengths.first_key_value()?;
    let (&max, _) = lengths.last_key_value()?;
    let total: u64 = lengths.values().sum();
    let mut seen = 0;
    let median = lengths
        .iter()
        .find(|&(_, n)| {
            seen += n;
            seen * 2 >= total
        })
        .map_or(min, |(len, _)| *len);
    let width = (max - min) / 4 + 1;
    let mut ranges = Vec::new();
    let mut lo = min;
    while lo <= max {
        let hi = (lo + width - 1).min(max);
        let n: u64 = lengths.range(lo..=hi).map(|(_, n)| n).sum();
        let share = 100.0 * n as f64 / total as f64;
        ranges.push(if lo == hi {
            format!("{lo} {share:.0}%")
        } else {
            format!("{lo}-{hi} {share:.0}%")
        });
        lo = hi + 1;
    }
    Some(format!(
        "{} (min {min}, median {median}, max {max})",
        ranges.join(", ")
    ))
}
