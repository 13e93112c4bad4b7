//! Misbehaving systems and misused specifications get reports, not crashes or hangs.

use crate::kv::{Kv, KvOp};
use stateprop::prelude::*;
use stateprop::{FailureKind, Runner};
use std::time::Duration;

/// A correct store, except that it hangs on any get of key 3.
#[derive(Default)]
struct Hangs(crate::GoodStore);

impl System<Kv> for Hangs {
    fn apply(&mut self, op: &KvOp) -> Option<u32> {
        if let KvOp::Get { key: 3 } = op {
            loop {
                std::thread::sleep(Duration::from_secs(3600));
            }
        }
        self.0.apply(op)
    }
}

#[test]
fn a_hanging_step_is_reported_with_its_program() {
    let config = Config::default()
        .ignore_env()
        .seed(5)
        .persist(false)
        .step_timeout(Duration::from_millis(300));
    let r = Runner::<Kv>::new(config).run_default::<Hangs>();
    assert!(r.failed());
    let failure = r.report.failure.as_ref().unwrap();
    assert!(
        matches!(failure.kind, FailureKind::Hang { timeout_ms: 300 }),
        "{}",
        r.report.text()
    );
    let last = r.report.minimal_rust.prefix.last().unwrap();
    assert_eq!(last, "KvOp::Get { key: 3 }", "{}", r.report.text());
    assert_eq!(failure.op.as_deref(), Some("KvOp::Get { key: 3 }"));
    let text = r.report.text();
    assert!(text.contains("did not return within 300.0 ms"), "{text}");
    assert!(text.contains("not shrunk"), "{text}");
}

#[derive(Debug)]
struct FailsToStart;

impl Default for FailsToStart {
    fn default() -> Self {
        panic!("cannot open the database")
    }
}

impl System<Kv> for FailsToStart {
    fn apply(&mut self, _op: &KvOp) -> Option<u32> {
        None
    }
}

#[test]
fn a_panic_while_setting_up_is_a_failure() {
    let r = Runner::<Kv>::new(Config::default().ignore_env().seed(1).persist(false))
        .run_default::<FailsToStart>();
    assert!(r.failed());
    let text = r.report.text();
    assert!(
        text.contains("the system panicked while setting up the system: cannot open the database"),
        "{text}"
    );
}

/// A model that panics on deletes: a bug in the specification, reported as such.
#[derive(Debug, Clone, Default)]
struct BadModel(Kv);

#[derive(Debug, Clone, StateMachine)]
#[state_machine(model = BadModel)]
enum BadOp {
    Put {
        #[strategy(0..4u8)]
        key: u8,
    },
    #[rule(precondition = |m: &BadModel| !m.0.map.is_empty())]
    Delete,
}

impl Model for BadModel {
    type Op = BadOp;
    type Output = ();
    fn step(&mut self, op: &BadOp) {
        match op {
            BadOp::Put { key } => {
                self.0.map.insert(*key, 0);
            }
            BadOp::Delete => panic!("the model has no delete yet"),
        }
    }
}

#[derive(Default)]
struct Nothing;

impl System<BadModel> for Nothing {
    fn apply(&mut self, _op: &BadOp) {}
}

#[test]
fn a_model_panic_is_blamed_on_the_model() {
    let r = Runner::<BadModel>::new(Config::default().ignore_env().seed(1).persist(false))
        .run_default::<Nothing>();
    assert!(r.failed());
    assert_eq!(
        r.report.minimal_rust.prefix,
        ["BadOp::Put { key: 0 }", "BadOp::Delete"]
    );
    let text = r.report.text();
    assert!(text.contains("the model panicked at step 1 of 2, in BadOp::Delete (a bug in the model): the model has no delete yet"), "{text}");
}

/// Every rule has a precondition that fails in the initial state.
#[derive(Debug, Clone, Default)]
struct Locked {
    open: bool,
}

#[derive(Debug, Clone, StateMachine)]
#[state_machine(model = Locked)]
enum LockedOp {
    #[rule(precondition = |m: &Locked| m.open)]
    Read,
    #[rule(precondition = |m: &Locked| m.open)]
    Close,
}

impl Model for Locked {
    type Op = LockedOp;
    type Output = ();
    fn step(&mut self, _op: &LockedOp) {}
}

#[derive(Default)]
struct LockedSystem;

impl System<Locked> for LockedSystem {
    fn apply(&mut self, _op: &LockedOp) {}
}

#[test]
fn no_enabled_rule_names_the_state_and_the_preconditions() {
    let err = std::panic::catch_unwind(|| {
        Runner::<Locked>::new(Config::default().ignore_env().seed(1).persist(false))
            .run_default::<LockedSystem>()
    })
    .expect_err("a run with no enabled rule must stop");
    let message = err.downcast_ref::<String>().cloned().unwrap_or_default();
    assert!(
        message.contains("no rule is enabled in this state of the model"),
        "{message}"
    );
    assert!(message.contains("Locked { open: false }"), "{message}");
    assert!(
        message.contains("Read: precondition |m: &Locked| m.open"),
        "{message}"
    );
    assert!(message.contains("Close: precondition |"), "{message}");
}

#[test]
fn check_sequential_panics_with_the_report() {
    let err = std::panic::catch_unwind(|| {
        stateprop::check_sequential::<Kv, crate::kv::BuggyStore>(
            Config::default().ignore_env().seed(11).persist(false),
        )
    })
    .expect_err("the buggy store must fail");
    let message = err.downcast_ref::<String>().cloned().unwrap_or_default();
    assert!(
        message.contains("stateprop: cause: postcondition failed"),
        "{message}"
    );
    assert!(
        message.contains("stateprop::replay::<Kv, BuggyStore>(&["),
        "{message}"
    );
}

#[test]
fn check_sequential_passes_a_correct_store() {
    stateprop::check_sequential::<Kv, crate::GoodStore>(
        Config::default().ignore_env().cases(300).persist(false),
    );
}

#[test]
fn replay_reproduces_and_passes_once_fixed() {
    let ops = [
        KvOp::Put { key: 1, value: 7 },
        KvOp::Delete { key: 1 },
        KvOp::Get { key: 1 },
    ];
    stateprop::replay::<Kv, crate::GoodStore>(&ops);
    let err = std::panic::catch_unwind(|| stateprop::replay::<Kv, crate::kv::BuggyStore>(&ops))
        .expect_err("the buggy store fails the replay");
    let message = err.downcast_ref::<String>().cloned().unwrap_or_default();
    assert!(
        message.contains("postcondition failed at step 2 of 3: KvOp::Get { key: 1 } returned Some(7), model says None"),
        "{message}"
    );
}

#[test]
fn replay_rejects_a_program_the_model_does_not_allow() {
    let err = std::panic::catch_unwind(|| {
        stateprop::replay::<Kv, crate::GoodStore>(&[KvOp::Delete { key: 1 }])
    })
    .expect_err("delete on an empty map breaks its precondition");
    let message = err.downcast_ref::<String>().cloned().unwrap_or_default();
    assert!(
        message.contains("step 0, KvOp::Delete { key: 1 }, is not enabled"),
        "{message}"
    );
}

#[test]
fn verbose_mode_traces_the_minimal_program() {
    let r = crate::buggy_kv(Config::default().ignore_env().seed(42).verbose(1));
    let text = r.report.text();
    assert!(
        text.contains("stateprop: trace of the minimal program:"),
        "{text}"
    );
    assert!(text.contains("stateprop:   step 2: KvOp::Get"), "{text}");
    assert!(text.contains("-> system Some("), "{text}");
}

/// `Take` picks an existing key but has no precondition guarding the empty map.
#[derive(Debug, Clone, Default)]
struct Keys(std::collections::BTreeSet<u8>);

#[derive(Debug, Clone, StateMachine)]
#[state_machine(model = Keys)]
enum KeysOp {
    #[rule(precondition = |m: &Keys| m.0.len() > 100)]
    Add { key: u8 },
    Take {
        #[strategy(|m: &Keys| pick(m.0.iter().copied()))]
        key: u8,
    },
}

impl Model for Keys {
    type Op = KeysOp;
    type Output = ();
    fn step(&mut self, _op: &KeysOp) {}
}

#[derive(Default)]
struct KeysSystem;

impl System<Keys> for KeysSystem {
    fn apply(&mut self, _op: &KeysOp) {}
}

#[test]
fn an_unguarded_pick_names_the_rule_and_field() {
    let err = std::panic::catch_unwind(|| {
        Runner::<Keys>::new(Config::default().ignore_env().seed(1).persist(false))
            .run_default::<KeysSystem>()
    })
    .expect_err("picking from an empty set cannot succeed");
    let message = err.downcast_ref::<String>().cloned().unwrap_or_default();
    assert!(
        message.contains("could not generate `Take`: the strategy of field `key` gave up: `pick` from an empty collection: guard the rule with a precondition"),
        "{message}"
    );
}

#[test]
fn every_entry_point_rejects_an_invalid_program_with_the_same_words() {
    let bad = [KvOp::Delete { key: 1 }];
    let expected = "step 0, KvOp::Delete { key: 1 }, is not enabled in model state Kv { map: {} }";
    let from_run_program = stateprop::run_program(&Kv::default(), &crate::GoodStore::default, &bad)
        .expect_err("delete on an empty map breaks its precondition");
    assert!(from_run_program.contains(expected), "{from_run_program}");
    let from_replay =
        std::panic::catch_unwind(|| stateprop::replay::<Kv, crate::GoodStore>(&bad)).unwrap_err();
    let from_replay = from_replay
        .downcast_ref::<String>()
        .cloned()
        .unwrap_or_default();
    assert!(from_replay.contains(expected), "{from_replay}");
}
