//! Rendering a parallel program, on a report built by hand (so every field is pinned, whatever
//! the threads did).

use super::{Origin, Report, RunVerdict, Shape, ShrinkStats, Stats};
use crate::failure::{Failure, FailureKind};
use crate::program::Program;
use serde_json::json;

fn report(rust: Program<String>, json: Program<serde_json::Value>) -> Report {
    Report {
        test: "kv::store_matches_model".to_string(),
        verdict: RunVerdict::Fail,
        seed: 7,
        failure: Some(Failure {
            step: Some(crate::program::StepId::prefix(2)),
            op: Some("KvOp::Get { key: 1 }".to_string()),
            kind: FailureKind::Postcondition {
                expected: "Some(2)".to_string(),
                actual: "None".to_string(),
            },
        }),
        minimal_rust: rust,
        minimal_json: json,
        origin: Some(Origin::Generated {
            case: 3,
            case_seed: 11,
        }),
        stats: Stats {
            cases: 4,
            steps: 40,
            ..Stats::default()
        },
        shrink: ShrinkStats::default(),
        trace: Vec::new(),
        timeline: Vec::new(),
        sim: None,
        saved_to: None,
        replay_call: "stateprop::replay::<Kv, Store>(".to_string(),
        note: None,
        reproduction: None,
        rerun: "cargo test --test kv store_matches_model -- --exact".to_string(),
        rerun_env: String::new(),
        history: None,
    }
}

fn parallel() -> Report {
    report(
        Program::parallel(
            vec!["KvOp::Put { key: 1, value: 2 }".to_string()],
            vec![
                vec!["KvOp::Get { key: 1 }".to_string()],
                vec![
                    "KvOp::Delete { key: 1 }".to_string(),
                    "KvOp::Get { key: 1 }".to_string(),
                ],
            ],
        ),
        Program::parallel(
            vec![json!({"Put": {"key": 1, "value": 2}})],
            vec![
                vec![json!({"Get": {"key": 1}})],
                vec![json!({"Delete": {"key": 1}}), json!({"Get": {"key": 1}})],
            ],
        ),
    )
}

#[test]
fn the_text_report_numbers_the_prefix_then_names_each_branch_step_by_its_id() {
    let text = parallel().text();
    let program = "\
stateprop: minimal program (4 steps):
stateprop:    0. KvOp::Put { key: 1, value: 2 }
stateprop: branch 0, run beside the others:
stateprop:   branch 0 step 0: KvOp::Get { key: 1 }
stateprop: branch 1, run beside the others:
stateprop:   branch 1 step 0: KvOp::Delete { key: 1 }
stateprop:   branch 1 step 1: KvOp::Get { key: 1 }
";
    assert!(text.contains(program), "{text}");
    let kept = "\
stateprop: stateprop has no parallel replay yet; keep the case as this program (prefix, then branches):
stateprop::Program::parallel(
    vec![
        KvOp::Put { key: 1, value: 2 },
    ],
    vec![
        // branch 0
        vec![
            KvOp::Get { key: 1 },
        ],
        // branch 1
        vec![
            KvOp::Delete { key: 1 },
            KvOp::Get { key: 1 },
        ],
    ],
)
";
    assert!(text.ends_with(kept), "{text}");
    assert!(!text.contains("#[test]"), "{text}");
}

#[test]
fn the_json_report_gives_a_parallel_program_as_prefix_and_branches() {
    let r = parallel();
    assert_eq!(r.shape(), Shape::Parallel);
    let v = r.json();
    assert_eq!(v["shape"], "parallel");
    let step = |op: serde_json::Value, rust: &str| json!({ "op": op, "rust": rust });
    assert_eq!(
        v["minimal"],
        json!({
            "prefix": [step(json!({"Put": {"key": 1, "value": 2}}), "KvOp::Put { key: 1, value: 2 }")],
            "branches": [
                [step(json!({"Get": {"key": 1}}), "KvOp::Get { key: 1 }")],
                [
                    step(json!({"Delete": {"key": 1}}), "KvOp::Delete { key: 1 }"),
                    step(json!({"Get": {"key": 1}}), "KvOp::Get { key: 1 }"),
                ],
            ],
        })
    );
    assert_eq!(v["pasteable_test"], json!(r.pasteable_test()));
}

#[test]
fn a_sequential_program_stays_a_flat_list_and_a_test() {
    let r = report(
        Program::sequential(vec!["KvOp::Get { key: 1 }".to_string()]),
        Program::sequential(vec![json!({"Get": {"key": 1}})]),
    );
    let v = r.json();
    assert_eq!(v["shape"], "sequential");
    assert_eq!(
        v["minimal"],
        json!([{ "op": {"Get": {"key": 1}}, "rust": "KvOp::Get { key: 1 }" }])
    );
    let text = r.text();
    assert!(
        text.contains("stateprop: paste this test to keep the case:\n#[test]\n"),
        "{text}"
    );
    assert!(!text.contains("branch"), "{text}");
}

/// The parallel report with a linearizability violation and the history of the run that showed
/// it: branch 1 deleted the key, then branch 0 read the old value after the delete returned.
fn stale_read() -> Report {
    use crate::failure::HistoryViolation;
    use crate::program::StepId;
    let mut r = parallel();
    let blocked = StepId::in_branch(0, 0);
    r.failure = Some(Failure::new(
        None,
        FailureKind::History(Box::new(HistoryViolation::NotLinearizable {
            partition: None,
            linearized: vec![StepId::prefix(0), StepId::in_branch(1, 0)],
            blocked,
            state: "Kv { map: {} }".to_string(),
            expected: Some("None".to_string()),
            actual: Some("Some(2)".to_string()),
        })),
    ));
    let op = |step: StepId, client, op: &str, out: &str, call, ret| super::RecordedOp {
        step,
        client,
        op: op.to_string(),
        output: Some(out.to_string()),
        call,
        ret: Some(ret),
    };
    r.history = Some(vec![
        op(
            StepId::prefix(0),
            0,
            "KvOp::Put { key: 1, value: 2 }",
            "None",
            0,
            1,
        ),
        op(
            StepId::in_branch(1, 0),
            2,
            "KvOp::Delete { key: 1 }",
            "Some(2)",
            2,
            3,
        ),
        op(blocked, 1, "KvOp::Get { key: 1 }", "Some(2)", 4, 5),
        op(
            StepId::in_branch(1, 1),
            2,
            "KvOp::Get { key: 1 }",
            "None",
            6,
            7,
        ),
    ]);
    r
}

#[test]
fn a_concurrent_failure_shows_its_history_as_a_diagram_and_says_why() {
    let text = stale_read().text();
    let diagram = "\
stateprop:   branch 0 step 0: KvOp::Get { key: 1 } -> Some(2) (client 1, 4..5)
stateprop: the history as recorded, time downward (`->` invoked, `<-` returned):
stateprop:   prefix                      | branch 0                         | branch 1
stateprop:   Put { key: 1, value: 2 } -> |                                  |
stateprop:   <- None                     |                                  |
stateprop:                               |                                  | Delete { key: 1 } ->
stateprop:                               |                                  | <- Some(2)
stateprop:                               | Get { key: 1 } ->                |
stateprop:                               | <- Some(2)  (cannot take effect) |
stateprop:                               |                                  | Get { key: 1 } ->
stateprop:                               |                                  | <- None
stateprop: why: no order of these operations that keeps real time (one that returned before \
another was invoked comes first) gives every answer the system gave; the longest order that does \
(2 operations) leaves the model in state Kv { map: {} }, and there branch 0 step 0 returned \
Some(2) where the model returns None
";
    assert!(text.contains(diagram), "{text}");
    // After the cause and the program, before the rerun lines.
    let at = |s: &str| text.find(s).unwrap_or_else(|| panic!("{s:?} in {text}"));
    assert!(at("stateprop: cause:") < at("stateprop: minimal program"));
    assert!(at("stateprop: minimal program") < at("time downward"));
    assert!(at("time downward") < at("stateprop: found by case"));
}

#[test]
fn a_sequential_history_gets_no_diagram() {
    let mut r = stale_read();
    r.minimal_rust = Program::sequential(vec!["KvOp::Get { key: 1 }".to_string()]);
    if let Some(h) = r.history.as_mut() {
        h.retain(|op| op.step.branch.is_none());
    }
    let text = r.text();
    assert!(!text.contains("time downward"), "{text}");
}

#[test]
fn a_broken_session_guarantee_marks_its_later_step() {
    use crate::check::Guarantee;
    use crate::failure::HistoryViolation;
    use crate::program::StepId;
    let mut r = stale_read();
    let (earlier, later) = (StepId::prefix(0), StepId::in_branch(1, 1));
    r.failure = Some(Failure::new(
        None,
        FailureKind::History(Box::new(HistoryViolation::SessionGuarantee {
            guarantee: Guarantee::ReadYourWrites,
            session: 2,
            earlier,
            later,
            involved: vec![earlier, later],
            others: 0,
        })),
    ));
    let text = r.text();
    assert!(
        text.contains("|                   | <- None  (breaks read your writes)\n"),
        "{text}"
    );
    // The why line belongs to linearizability: the cause says which guarantee broke.
    assert!(!text.contains("stateprop: why:"), "{text}");
    assert!(!text.contains("cannot take effect)"), "{text}");
}

#[test]
fn a_concurrent_stress_origin_does_not_promise_the_seed_replays_it() {
    let mut r = parallel();
    r.origin = Some(Origin::Stress {
        seed: 9,
        operation: 40,
    });
    let sequential = r.text();
    assert!(
        sequential.contains("rerun: the same plan with STATEPROP_SEED=9)"),
        "{sequential}"
    );
    r.origin = Some(Origin::StressConcurrent {
        seed: 9,
        operation: 40,
        threads: 2,
    });
    let text = r.text();
    assert!(
        text.contains("found by a concurrent stress run (2 threads)"),
        "{text}"
    );
    assert!(text.contains("not their interleaving"), "{text}");
    assert!(!text.contains("rerun: the same plan with"), "{text}");
    let origin = &r.json()["origin"];
    assert_eq!(origin["stress_concurrent"]["threads"], json!(2), "{origin}");
    assert_eq!(origin["stress_concurrent"]["seed_replays"], json!(false));
    assert!(origin.get("stress").is_none(), "{origin}");
}
