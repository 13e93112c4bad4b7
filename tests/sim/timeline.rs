//! The report of a simulated failure draws the failing run as a per-node timeline: the stale
//! read of `examples/replicated_register.rs` shows as the write at the primary, its
//! replication message, and the read at a backup answered before that message arrived.

use crate::register::{cluster, BackupReads};
use stateprop::models::RegisterOp;
use stateprop::sim::SimStep;
use stateprop::{Config, Runner};

/// The report's timeline column width: the time takes the first 9 characters of a row.
const COLUMN: usize = 34;
const TIME: usize = 9;

fn config(seed: u64) -> Config {
    Config::default()
        .ignore_env()
        .seed(seed)
        .cases(200)
        .steps(1..30)
        .persist(false)
}

/// The text of node `node`'s column in a timeline row.
fn cell(row: &str, node: usize) -> String {
    row.chars()
        .skip(TIME + COLUMN * node)
        .take(COLUMN)
        .collect::<String>()
        .trim()
        .to_string()
}

/// The index of the first row whose column `node` starts with `text`.
fn row_of(timeline: &[String], node: usize, text: &str) -> usize {
    timeline
        .iter()
        .position(|row| cell(row, node).starts_with(text))
        .unwrap_or_else(|| panic!("no `{text}` in n{node}'s column:\n{}", timeline.join("\n")))
}

#[test]
fn the_stale_read_shows_the_read_at_the_backup_before_the_replication_arrived() {
    for seed in [3, 7] {
        let result = Runner::with_initial(config(seed), cluster()).run_simulated::<BackupReads>();
        assert!(result.failed(), "seed {seed}");
        let [SimStep::Request {
            op: RegisterOp::Write { value },
            node: 0,
            ..
        }, SimStep::Request {
            node: backup,
            op: RegisterOp::Read,
            ..
        }] = result.minimal[..]
        else {
            panic!("seed {seed}: {:?}", result.minimal);
        };
        let backup = usize::from(backup);
        let timeline = &result.report.timeline;
        assert_eq!(
            timeline[0].split_whitespace().collect::<Vec<_>>(),
            ["ms", "n0", "n1", "n2"],
            "{}",
            timeline.join("\n")
        );
        let write = row_of(
            timeline,
            0,
            &format!("step 0: c0 r0 Write {{ value: {value} }}"),
        );
        let sent = row_of(timeline, 0, &format!("-> n{backup} Replicate"));
        let answered = row_of(timeline, 0, "=> c0 r0 Written");
        let read = row_of(timeline, backup, "step 1: c0 r1 Read");
        let stale = row_of(timeline, backup, "=> c0 r1 Value(None)");
        let arrived = row_of(timeline, backup, "<- n0 Replicate");
        assert!(
            write < sent && sent < answered && answered < read && read < stale && stale < arrived,
            "seed {seed}:\n{}",
            timeline.join("\n")
        );
        // The read's row is in the backup's column only; the others show a bar.
        let row = &timeline[read];
        for other in (0..3).filter(|&n| n != backup) {
            assert_eq!(cell(row, other), "|", "{row}");
        }
        // The text report prints it, each line prefixed.
        let text = result.report.text();
        assert!(
            text.contains(
                "stateprop: timeline of the failing run (simulated ms downward, a column per node):"
            ),
            "{text}"
        );
        assert!(
            text.contains(&format!("stateprop:   {}\n", timeline[read])),
            "{text}"
        );
        // The JSON report carries the same lines.
        let json = result.report.json();
        let lines: Vec<String> =
            serde_json::from_value(json["timeline"].clone()).expect("a list of lines");
        assert_eq!(&lines, timeline);
    }
}

#[test]
fn the_same_seed_gives_the_same_timeline() {
    let run = || {
        Runner::with_initial(config(5), cluster())
            .run_simulated::<BackupReads>()
            .report
            .timeline
    };
    let first = run();
    assert!(first.len() > 3, "{first:?}");
    assert_eq!(first, run());
}

#[test]
fn runs_that_are_not_simulated_have_no_timeline() {
    use stateprop::models::{CasRegister, RegisterOut};
    // A register that forgets every write: a sequential run against the model fails.
    #[derive(Default)]
    struct Forgetful;
    impl stateprop::System<CasRegister> for Forgetful {
        fn apply(&mut self, op: &RegisterOp) -> RegisterOut {
            match op {
                RegisterOp::Read => RegisterOut::Value(None),
                RegisterOp::Write { .. } => RegisterOut::Written,
                RegisterOp::Cas { .. } => RegisterOut::Cas(false),
            }
        }
    }
    let result = Runner::<CasRegister>::new(config(1)).run_default::<Forgetful>();
    assert!(result.failed());
    assert!(
        result.report.timeline.is_empty(),
        "{:?}",
        result.report.timeline
    );
    assert!(!result.report.text().contains("timeline of the failing run"));
    assert!(result.report.json()["timeline"].is_null());
}

/// The key rows of one seed's timeline, as printed: a change to the layout shows here.
#[test]
fn the_stale_read_timeline_reads_as_expected() {
    let result = Runner::with_initial(config(7), cluster()).run_simulated::<BackupReads>();
    let timeline = &result.report.timeline;
    let expected = [
        "      ms n0                                n1                                n2",
        "       0 step 0: c0 r0 Write { value: 0 }  |                                 |",
        "         -> n1 Replicate { version: 1, v.. |                                 |",
        "         -> n2 Replicate { version: 1, v.. |                                 |",
        "         => c0 r0 Written                  |                                 |",
        "         |                                 step 1: c0 r1 Read                |",
        "         |                                 => c0 r1 Value(None)              |",
        "         == after the program: liveness tail (heal, restart, run until quiet, at most 60000ms) ==",
        "       9 |                                 <- n0 Replicate { version: 1, v.. |",
        "         |                                 -> n0 Ack { version: 1 }          |",
    ];
    assert!(timeline.len() >= expected.len(), "{}", timeline.join("\n"));
    assert_eq!(
        timeline[..expected.len()],
        expected,
        "{}",
        timeline.join("\n")
    );
}

/// The pasted `replay_simulated` test draws the failing run's timeline too (its trace stays out
/// of the report unless verbose).
#[test]
fn a_failing_replay_draws_its_timeline() {
    let stale_read = [
        SimStep::Request {
            client: 0,
            node: 0,
            op: RegisterOp::Write { value: 0 },
        },
        SimStep::Request {
            client: 0,
            node: 1,
            op: RegisterOp::Read,
        },
    ];
    let replayed = std::panic::catch_unwind(|| {
        stateprop::replay_simulated::<_, BackupReads>(
            Config::default().ignore_env(),
            cluster(),
            &stale_read,
        )
    });
    let message = *replayed
        .expect_err("the replay fails")
        .downcast::<String>()
        .expect("a report");
    assert!(message.contains("not linearizable"), "{message}");
    assert!(message.contains("timeline of the failing run"), "{message}");
    assert!(
        !message.contains("trace of the minimal program"),
        "{message}"
    );
}
