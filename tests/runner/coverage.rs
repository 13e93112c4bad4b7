//! What a passing run says it covered: statistics, labels, and warnings for rules it missed.

use stateprop::prelude::*;
use stateprop::{Config, Runner};

#[derive(Debug, Clone, Default)]
pub struct Tank {
    level: u8,
}

#[derive(Debug, Clone, StateMachine)]
#[state_machine(model = Tank)]
pub enum TankOp {
    #[rule(precondition = |m: &Tank| m.level < 10)]
    Fill,
    #[rule(precondition = |m: &Tank| m.level > 0)]
    Drain,
    Read,
    /// Never enabled: the tank never holds more than 10.
    #[rule(precondition = |m: &Tank| m.level > 200)]
    Overflow,
}

impl Model for Tank {
    type Op = TankOp;
    type Output = u8;
    fn step(&mut self, op: &TankOp) -> u8 {
        match op {
            TankOp::Fill => self.level += 1,
            TankOp::Drain => self.level -= 1,
            TankOp::Read | TankOp::Overflow => {}
        }
        self.level
    }
}

#[derive(Default)]
pub struct RealTank(u8);

impl System<Tank> for RealTank {
    fn apply(&mut self, op: &TankOp) -> u8 {
        match op {
            TankOp::Fill => self.0 += 1,
            TankOp::Drain => self.0 -= 1,
            TankOp::Read | TankOp::Overflow => {}
        }
        self.0
    }
}

fn passing_run() -> stateprop::RunResult<TankOp> {
    Runner::<Tank>::new(
        Config::default()
            .ignore_env()
            .persist(false)
            .seed(8)
            .cases(400)
            .steps(1..=20),
    )
    .label("full", |m: &Tank, _: &TankOp| m.level == 10)
    .label("drain from one", |m: &Tank, op: &TankOp| {
        m.level == 1 && matches!(op, TankOp::Drain)
    })
    .run_default::<RealTank>()
}

#[test]
fn a_passing_run_reports_lengths_swarm_and_labels() {
    let result = passing_run();
    assert!(!result.failed(), "{}", result.report.text());
    let stats = &result.report.stats;
    assert_eq!(stats.cases, 400);
    // Every case has a length, and the lengths add up to the steps.
    assert_eq!(stats.lengths.values().sum::<u64>(), 400);
    let steps: u64 = stats.lengths.iter().map(|(&l, &n)| l as u64 * n).sum();
    assert_eq!(steps, stats.steps);
    assert_eq!(*stats.lengths.keys().next().unwrap(), 1);
    assert_eq!(*stats.lengths.keys().last().unwrap(), 20);
    // Swarm: every rule left out of some cases, kept in at least half.
    for &(name, n) in &stats.enabled {
        assert!((200..400).contains(&n), "{name} enabled in {n} cases");
    }
    // Labels: each held in some cases and not in others; recount them by hand.
    assert_eq!(stats.labels.len(), 2);
    let (full, from_one) = (stats.labels[0].1, stats.labels[1].1);
    assert!(full > 0 && full < 400, "full in {full} cases");
    assert!(from_one > full, "drain from one in {from_one} cases");
    let text = result.report.text();
    for line in [
        "stateprop: program lengths: 1-5 ",
        "stateprop: cases whose swarm enabled each rule: Fill ",
        "stateprop: labels (cases in which one held at some step):",
        &format!("stateprop:   full           {full:>7} ("),
        &format!("stateprop:   drain from one {from_one:>7} ("),
    ] {
        assert!(text.contains(line), "no {line:?} in\n{text}");
    }
    assert!(text.lines().all(|l| l.starts_with("stateprop:")), "{text}");
    let json = result.report.json();
    assert_eq!(json["stats"]["labels"][1]["label"], "drain from one");
    assert_eq!(json["stats"]["labels"][1]["cases"], from_one);
    assert_eq!(json["stats"]["lengths"]["20"], stats.lengths[&20]);
}

/// The labels count what the cases did: with a label that holds at every step, every case;
/// with one that never holds, none.
#[test]
fn labels_that_always_or_never_hold() {
    let result = Runner::<Tank>::new(
        Config::default()
            .ignore_env()
            .persist(false)
            .seed(3)
            .cases(50),
    )
    .label("always", |_: &Tank, _: &TankOp| true)
    .label("never", |_: &Tank, _: &TankOp| false)
    .run_default::<RealTank>();
    assert_eq!(
        result.report.stats.labels,
        [("always".to_string(), 50), ("never".to_string(), 0)]
    );
}

#[test]
fn a_rule_never_generated_is_warned_about() {
    let result = passing_run();
    let warnings = result.report.warnings();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(
        warnings[0].starts_with("rule `Overflow` was never generated in 400 cases"),
        "{warnings:?}"
    );
    assert!(result
        .report
        .text()
        .contains("stateprop: warning: rule `Overflow` was never generated"));
    assert_eq!(result.report.json()["warnings"][0], warnings[0]);
}

/// A rule the swarm left out of every case (possible only in a few cases) is named as such.
#[test]
fn a_rule_the_swarm_never_enabled_is_warned_about() {
    // Find a seed whose only case leaves `Read` out of its swarm.
    let left_out = (0..200u64)
        .map(|seed| {
            Runner::<Tank>::new(
                Config::default()
                    .ignore_env()
                    .persist(false)
                    .seed(seed)
                    .cases(1),
            )
            .run_default::<RealTank>()
        })
        .find(|r| r.report.stats.enabled[2].1 == 0)
        .expect("some single-case run leaves Read out");
    let warnings = left_out.report.warnings();
    assert!(
        warnings.iter().any(|w| w
            .starts_with("rule `Read` was never enabled: the swarm left it out of all 1 cases")),
        "{warnings:?}"
    );
}
