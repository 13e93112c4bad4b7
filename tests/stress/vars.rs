//! `Var` fields in stress runs: a rule naming an earlier result is never generated, so no
//! operation names a step outside the bounded window, and no output is kept to bind it.

use stateprop::prelude::*;
use stateprop::stress::{Stress, StressPlan};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Handle(pub u64);

impl FromOutput<u64> for Handle {
    fn from_output(output: &u64) -> Option<Handle> {
        Some(Handle(*output))
    }
}

#[derive(Debug, Clone, Default)]
pub struct Handles {
    opened: u64,
}

#[derive(Debug, Clone, StateMachine)]
#[state_machine(model = Handles)]
pub enum HandleOp {
    Open,
    Use { h: Var<Handle> },
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
            HandleOp::Use { h } => h.0,
        }
    }
}

/// Counts the `Use` operations it is given.
#[derive(Default)]
pub struct Table {
    opened: u64,
    used: u64,
}

impl System<Handles> for Table {
    fn apply(&mut self, op: &HandleOp) -> u64 {
        match op {
            HandleOp::Open => {
                self.opened += 1;
                self.opened
            }
            HandleOp::Use { h } => {
                self.used += 1;
                h.0
            }
        }
    }
}

#[test]
fn rules_with_var_fields_never_run_in_stress() {
    let plan = StressPlan::operations(50_000).seed(8);
    let result = Stress::<Handles, Table>::new(plan)
        .gauge(|t: &Table| t.used)
        .quiet()
        .run(Table::default)
        .unwrap();
    assert!(result.passed(), "{}", result.text());
    let rules: Vec<&str> = result.latencies.iter().map(|l| l.rule.as_str()).collect();
    assert_eq!(rules, ["Open"]);
    assert_eq!(result.growth.last_bytes, Some(0), "the system saw no `Use`");
}

#[test]
fn a_mix_with_only_var_rules_is_refused_clearly() {
    let plan = StressPlan::operations(10).seed(8).weight("Use", 1);
    let err = Stress::<Handles, Table>::new(plan)
        .quiet()
        .run(Table::default)
        .unwrap_err();
    let shown = err.to_string();
    assert!(
        shown.contains("no operation could be generated at operation 0"),
        "{shown}"
    );
    assert!(
        shown.contains("rules with `Var` fields never run in stress"),
        "{shown}"
    );
}
