//! History judges selected on a run: what they find that the step judge cannot, how a violation
//! is reported (structured, with the steps involved), and a judge that gives no verdict.

mod direct;

use stateprop::check::{Access, CheckConfig, Guarantee, ReadsWrites};
use stateprop::prelude::*;
use stateprop::{judge, FailureKind, HistoryViolation, Program, RunResult, Runner, StepId};
use std::collections::BTreeSet;

/// A cache in front of a store, specified per step as a replica may lag: a read may return any
/// value ever written (or the initial 0), not only the latest. That is as far as a check of one
/// step can go without knowing who wrote what; a session guarantee says more (a client reads
/// its own writes), and only a history judge can hold the cache to it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Cache {
    value: u8,
    written: BTreeSet<u8>,
}

#[derive(Debug, Clone, PartialEq, StateMachine)]
#[state_machine(model = Cache)]
pub enum CacheOp {
    Write {
        #[strategy(1..4u8)]
        value: u8,
    },
    Read,
}

impl Model for Cache {
    type Op = CacheOp;
    /// A read's value; `None` for a write.
    type Output = Option<u8>;

    fn step(&mut self, op: &CacheOp) -> Option<u8> {
        match *op {
            CacheOp::Write { value } => {
                self.value = value;
                self.written.insert(value);
                None
            }
            CacheOp::Read => Some(self.value),
        }
    }

    fn outputs_match(&self, op: &CacheOp, expected: &Option<u8>, actual: &Option<u8>) -> bool {
        match (op, actual) {
            // Any value the cache could still hold: lenient, as the per-step spec of a lagging
            // replica has to be.
            (CacheOp::Read, Some(v)) => *v == 0 || self.written.contains(v),
            _ => expected == actual,
        }
    }
}

impl ReadsWrites for Cache {
    type Key = ();
    type Value = u8;

    fn access(op: &CacheOp, output: Option<&Option<u8>>) -> Access<(), u8> {
        match (op, output) {
            (CacheOp::Write { value }, _) => Access::Write {
                key: (),
                value: *value,
            },
            (CacheOp::Read, Some(Some(v))) => Access::Read { key: (), value: *v },
            _ => Access::Other,
        }
    }

    fn initial_value(&self, _: &()) -> u8 {
        self.value
    }
}

/// Writes go to the primary; reads come from a replica that catches up on every second write.
#[derive(Default)]
pub struct LaggingCache {
    primary: u8,
    replica: u8,
    writes: u32,
}

impl System<Cache> for LaggingCache {
    fn apply(&mut self, op: &CacheOp) -> Option<u8> {
        match *op {
            CacheOp::Write { value } => {
                self.primary = value;
                self.writes += 1;
                if self.writes.is_multiple_of(2) {
                    self.replica = self.primary;
                }
                None
            }
            // The bug: the replica serves a client the value its own write replaced.
            CacheOp::Read => Some(self.replica), // fix: Some(self.primary)
        }
    }
}

/// Reads from the primary.
#[derive(Default)]
pub struct FreshCache(u8);

impl System<Cache> for FreshCache {
    fn apply(&mut self, op: &CacheOp) -> Option<u8> {
        match *op {
            CacheOp::Write { value } => {
                self.0 = value;
                None
            }
            CacheOp::Read => Some(self.0),
        }
    }
}

/// Pinned, whatever `STATEPROP_*` a user exports (the tests count cases and name steps).
fn config() -> Config {
    Config::default()
        .ignore_env()
        .seed(7)
        .cases(200)
        .steps(1..20)
        .persist(false)
}

fn run<S: System<Cache> + Default + 'static>(runner: Runner<Cache>) -> RunResult<CacheOp> {
    runner.run(S::default)
}

fn read_your_writes() -> Runner<Cache> {
    Runner::<Cache>::new(config()).judge(judge::session_guarantees(&[Guarantee::ReadYourWrites]))
}

#[test]
fn the_step_judge_alone_lets_the_lagging_cache_through() {
    // What makes the next test mean something: without a history judge the run passes.
    let result = run::<LaggingCache>(Runner::new(config()));
    assert!(!result.failed(), "{}", result.report.text());
}

#[test]
fn a_session_judge_fails_the_lagging_cache_naming_the_steps() {
    let result = run::<LaggingCache>(read_your_writes());
    assert!(result.failed());
    let failure = result.report.failure.as_ref().expect("a failure");
    // The whole history is at fault, not one step: no step, no operation text stored.
    assert_eq!(failure.step, None);
    assert_eq!(failure.op, None);
    let FailureKind::History(violation) = &failure.kind else {
        panic!("not a history judge's failure: {failure:?}");
    };
    assert_eq!(
        **violation,
        session_violation(StepId::prefix(0), StepId::prefix(1), 0),
        "{}",
        result.report.text()
    );
    assert_eq!(result.minimal, [CacheOp::Write { value: 1 }, CacheOp::Read]);
    assert_eq!(
        result.minimal_program,
        Program::sequential(result.minimal.clone())
    );
    let text = result.report.text();
    assert!(
        text.contains(
            "stateprop: cause: read your writes violated for client 0: step 1 (CacheOp::Read) \
             does not respect its earlier step 0 (CacheOp::Write { value: 1 }) (steps \
             involved: step 0 (CacheOp::Write { value: 1 }), step 1 (CacheOp::Read))\n"
        ),
        "{text}"
    );
    assert!(
        text.contains(
            "stateprop: operations involved, as recorded (client, invoked..returned):\n\
             stateprop:   step 0: CacheOp::Write { value: 1 } -> None (client 0, 0..1)\n\
             stateprop:   step 1: CacheOp::Read -> Some(0) (client 0, 2..3)\n"
        ),
        "{text}"
    );
    // The pasted test would replay the steps only, which pass: the report must not hide that.
    assert!(
        text.contains("stateprop: note: `replay` checks each step, not the history, so the test"),
        "{text}"
    );
}

/// HistoryViolation is `#[non_exhaustive]`: built by matching, as a user would read it.
fn session_violation(earlier: StepId, later: StepId, others: usize) -> HistoryViolation {
    let result = run::<LaggingCache>(read_your_writes());
    let FailureKind::History(v) = result.report.failure.expect("a failure").kind else {
        panic!("not a history failure");
    };
    match &*v {
        HistoryViolation::SessionGuarantee {
            guarantee: Guarantee::ReadYourWrites,
            session: 0,
            earlier: e,
            later: l,
            involved,
            others: o,
        } if *e == earlier && *l == later && *o == others && *involved == [earlier, later] => {
            (*v).clone()
        }
        other => panic!("unexpected violation {other:?}"),
    }
}

#[test]
fn the_json_report_carries_the_violation_and_the_history() {
    let result = run::<LaggingCache>(read_your_writes());
    let json = result.report.json();
    let failure = &json["failure"];
    assert_eq!(failure["kind"], "session-guarantee");
    assert_eq!(failure["involved"], serde_json::json!([0, 1]));
    assert_eq!(failure["earlier"], 0);
    assert_eq!(failure["later"], 1);
    assert_eq!(failure["guarantee"], "read your writes");
    assert_eq!(
        json["history"],
        serde_json::json!([
            { "step": 0, "client": 0, "op": "CacheOp::Write { value: 1 }", "output": "None",
              "call": 0, "ret": 1 },
            { "step": 1, "client": 0, "op": "CacheOp::Read", "output": "Some(0)",
              "call": 2, "ret": 3 },
        ])
    );
}

#[test]
fn a_correct_cache_passes_every_judge() {
    let runner = Runner::<Cache>::new(config())
        .judge(judge::linearizable())
        .judge(judge::sequentially_consistent())
        .judge(judge::session_guarantees(&Guarantee::ALL));
    let result = run::<FreshCache>(runner);
    assert!(!result.failed(), "{}", result.report.text());
    assert!(result.report.stats.undecided.is_empty());
    assert!(result.report.stats.steps > 0);
}

#[test]
fn linearizability_fails_a_run_the_step_judge_fails_first() {
    // In a sequential run each step returns before the next starts, so the order is forced and
    // the step judge sees a non-linearizable history first: the cause stays the postcondition.
    #[derive(Default)]
    struct Forgetful(u8);
    impl System<Cache> for Forgetful {
        fn apply(&mut self, op: &CacheOp) -> Option<u8> {
            match *op {
                CacheOp::Write { value } => {
                    self.0 = value.min(2);
                    None
                }
                CacheOp::Read => Some(self.0),
            }
        }
    }
    let strict = Runner::<Cache>::new(config()).judge(judge::linearizable());
    let result = strict.run(Forgetful::default);
    let failure = result.report.failure.expect("a failure");
    assert_eq!(failure.kind.name(), "postcondition", "{failure:?}");
}

#[test]
fn a_judge_without_a_verdict_is_reported_and_not_a_failure() {
    // A memory budget of one byte: the linearizability search cannot start on any history.
    let starved = judge::linearizable().budget(CheckConfig::default().max_memory(1));
    let runner = Runner::<Cache>::new(config().cases(20)).judge(starved);
    let result = run::<FreshCache>(runner);
    assert!(!result.failed(), "{}", result.report.text());
    let undecided = &result.report.stats.undecided;
    assert_eq!(undecided.len(), 1, "{undecided:?}");
    assert_eq!(undecided[0].judge, "linearizable");
    assert_eq!(undecided[0].histories, 20);
    assert!(!undecided[0].reason.is_empty());
    let text = result.report.text();
    assert!(
        text.contains(&format!(
            "stateprop: undecided: the linearizable judge gave no verdict on 20 histories (not \
             counted as failures): {}\n",
            undecided[0].reason
        )),
        "{text}"
    );
    let json = result.report.json();
    assert_eq!(json["stats"]["undecided"][0]["judge"], "linearizable");
    assert_eq!(json["stats"]["undecided"][0]["histories"], 20);
}

#[test]
fn a_step_that_panicked_is_recorded_with_an_unknown_outcome() {
    #[derive(Default)]
    struct Crashes(u8);
    impl System<Cache> for Crashes {
        fn apply(&mut self, op: &CacheOp) -> Option<u8> {
            match *op {
                CacheOp::Write { value: 3 } => panic!("disk full"),
                CacheOp::Write { value } => {
                    self.0 = value;
                    None
                }
                CacheOp::Read => Some(self.0),
            }
        }
    }
    let runner = Runner::<Cache>::new(config()).judge(judge::linearizable());
    let result = runner.run(Crashes::default);
    assert_eq!(
        result.report.failure.as_ref().expect("fails").kind.name(),
        "panic"
    );
    assert_eq!(result.minimal, [CacheOp::Write { value: 3 }]);
    let history = result.report.history.as_ref().expect("a recorded history");
    assert_eq!(history.len(), 1);
    assert_eq!(history[0].ret, None);
    assert_eq!(history[0].output, None);
    assert_eq!(
        result.report.json()["history"][0]["ret"],
        serde_json::Value::Null
    );
}

#[test]
fn a_saved_case_is_replayed_through_the_judges() {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("judge-saved-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch dir");
    let file = dir.join("cache.stateprop-regressions");
    let judged = |config: Config| {
        Runner::<Cache>::new(config.persist(true).regression_file(&file))
            .judge(judge::session_guarantees(&[Guarantee::ReadYourWrites]))
            .run(LaggingCache::default)
    };
    let first = judged(config());
    assert!(first.report.saved_to.is_some(), "{}", first.report.text());
    // No case is generated the second time: only the saved one can fail it, and only through
    // the judge (its steps pass the step judge).
    let again = judged(config().cases(0));
    assert!(again.failed(), "{}", again.report.text());
    assert!(matches!(
        again.report.origin,
        Some(stateprop::Origin::Saved { .. })
    ));
    assert_eq!(
        again.report.failure.expect("a failure").kind.name(),
        "session-guarantee"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
