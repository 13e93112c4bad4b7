//! `Var` fields in stress runs: they name only the latest `var_window` steps, whose outputs are
//! all the run keeps.

use stateprop::prelude::*;
use stateprop::stress::{Stress, StressPlan, StressResult, StressVerdict};
use stateprop::StepId;
use std::collections::BTreeSet;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Handle(pub u64);

impl FromOutput<u64> for Handle {
    fn from_output(output: &u64) -> Option<Handle> {
        (*output > 0).then_some(Handle(*output))
    }
}

/// Handles opened (1, 2, ...) and the steps whose handle was closed.
#[derive(Debug, Clone, Default)]
pub struct Handles {
    opened: u64,
    closed: BTreeSet<StepId>,
}

#[derive(Debug, Clone, StateMachine)]
#[state_machine(model = Handles)]
pub enum HandleOp {
    #[rule(weight = 2)]
    Open,
    #[rule(weight = 3)]
    Use { h: Var<Handle> },
    // The precondition reads the `Var`'s step id: it must see the stream's ids, not the
    // window's.
    #[rule(precondition = |m: &Handles, h: &Var<Handle>| !m.closed.contains(&h.id()))]
    Close { h: Var<Handle> },
}

impl Model for Handles {
    type Op = HandleOp;
    type Output = u64;
    fn step(&mut self, op: &HandleOp) -> u64 {
        match op {
            HandleOp::Open => {
                self.opened += 1;
                self.opened
            }
            HandleOp::Use { .. } => 0,
            HandleOp::Close { h } => {
                self.closed.insert(h.id());
                0
            }
        }
    }
}

/// Checks what the harness hands it: how old the step a `Var` names is, and that no handle is
/// closed twice (it answers 1 to a second close, which the model never expects).
pub struct Table {
    step: u64,
    opened: u64,
    oldest: u64,
    uses: u64,
    closed: BTreeSet<StepId>,
}

impl Table {
    fn new() -> Self {
        Table {
            step: 0,
            opened: 0,
            oldest: 0,
            uses: 0,
            closed: BTreeSet::new(),
        }
    }
}

impl System<Handles> for Table {
    fn apply(&mut self, op: &HandleOp) -> u64 {
        let step = self.step;
        self.step += 1;
        match op {
            HandleOp::Open => {
                self.opened += 1;
                self.opened
            }
            HandleOp::Use { h } | HandleOp::Close { h } => {
                let age = step - u64::from(h.id().index);
                self.oldest = self.oldest.max(age);
                self.uses += 1;
                if matches!(op, HandleOp::Close { .. }) && !self.closed.insert(h.id()) {
                    return 1;
                }
                0
            }
        }
    }
}

fn count(result: &StressResult, rule: &str) -> u64 {
    (result.latencies.iter())
        .find(|l| l.rule == rule)
        .map_or(0, |l| l.count)
}

#[test]
fn vars_name_only_the_latest_steps_of_the_window() {
    // Every call timed, so the latency counts are the operations of each rule.
    let plan = StressPlan::operations(100_000)
        .seed(8)
        .var_window(50)
        .latency_every(1);
    let result = Stress::<Handles, Table>::new(plan)
        .ignore_env()
        .gauge(|t: &Table| t.oldest)
        .quiet()
        .run(Table::new)
        .unwrap();
    // No handle closed twice: the precondition was judged on the stream's step ids.
    assert!(result.passed(), "{}", result.text());
    // `Var` rules run at their weight all along the stream, not only before the first window
    // of outputs is dropped.
    let uses = count(&result, "Use");
    assert!(uses > 30_000, "{}", result.text());
    assert!(count(&result, "Close") > 5_000, "{}", result.text());
    let oldest = result.growth.last_bytes.unwrap();
    assert!(
        oldest > 0 && oldest <= 50,
        "a `Var` named a step {oldest} steps back"
    );
}

#[test]
fn a_var_window_of_zero_generates_no_var() {
    let plan = StressPlan::operations(20_000).seed(8).var_window(0);
    let result = Stress::<Handles, Table>::new(plan)
        .ignore_env()
        .gauge(|t: &Table| t.uses)
        .quiet()
        .run(Table::new)
        .unwrap();
    assert!(result.passed(), "{}", result.text());
    let rules: Vec<&str> = result.latencies.iter().map(|l| l.rule.as_str()).collect();
    assert_eq!(rules, ["Open"]);
    assert_eq!(result.growth.last_bytes, Some(0), "the system saw no `Var`");
}

#[test]
fn a_failure_past_the_window_is_reported_with_the_stream_s_step_ids() {
    // A table that answers a `Use` wrong once 5,000 operations have run.
    struct LateBug(Table);
    impl System<Handles> for LateBug {
        fn apply(&mut self, op: &HandleOp) -> u64 {
            let late = self.0.step >= 5_000;
            let out = self.0.apply(op);
            out + u64::from(late && matches!(op, HandleOp::Use { .. }))
        }
    }
    let plan = StressPlan::operations(100_000).seed(3).var_window(20);
    let result = Stress::<Handles, LateBug>::new(plan)
        .ignore_env()
        .quiet()
        .run(|| LateBug(Table::new()))
        .unwrap();
    assert_eq!(result.verdict, StressVerdict::Mismatch);
    let failure = result.failure.as_ref().unwrap();
    assert!(failure.operation >= 5_000);
    assert_eq!(failure.prefix, Some(failure.operation + 1));
    // Past the bound, the tail alone cannot fail (the bug needs 5,000 operations before it).
    assert!(failure.report.is_none(), "{}", result.text());
    // The failing `Use` names a step of the stream, at most 20 steps back.
    let last = failure.window.last().unwrap();
    let named: u64 = last
        .split("Var::at(")
        .nth(1)
        .and_then(|s| s.split(')').next())
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("{last}"));
    assert!(failure.operation - named <= 20, "{last}");
}

#[test]
fn a_mix_with_only_var_rules_is_refused_clearly() {
    let plan = StressPlan::operations(10).seed(8).weight("Use", 1);
    let err = Stress::<Handles, Table>::new(plan)
        .ignore_env()
        .quiet()
        .run(Table::new)
        .unwrap_err();
    let shown = err.to_string();
    assert!(
        shown.contains("no operation could be generated at operation 0"),
        "{shown}"
    );
    assert!(shown.contains("`var_window`"), "{shown}");
}
