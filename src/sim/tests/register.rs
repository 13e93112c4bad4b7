//! The primary-backup register in the simulator: replication, the stale read, clients and their
//! history.

use super::pb::{advance, linearizable, read, run, value, write, Pb};
use crate::models::{RegisterOp, RegisterOut};
use crate::program::StepId;
use crate::sim::cluster::{Cluster, Settings};
use crate::sim::SimStep;

#[test]
fn every_write_reaches_every_backup_without_faults() {
    let c = run(
        5,
        Settings::default(),
        &[write(0, 0, 7), advance(5), write(0, 0, 8), advance(50)],
    );
    for node in 0..5 {
        assert_eq!(value(&c, node), Some(8), "node {node}");
    }
    let h = c.history();
    assert_eq!(h.len(), 2);
    assert!(h
        .ops
        .iter()
        .all(|op| op.output == Some(RegisterOut::Written)));
    assert!(
        c.quiet(),
        "every replica acknowledged, so nothing is resent"
    );
}

#[test]
fn a_read_at_a_backup_right_after_a_write_is_stale_and_not_linearizable() {
    let c = run(3, Settings::default(), &[write(0, 0, 1), read(1, 1)]);
    let h = c.history();
    assert_eq!(h.ops[0].output, Some(RegisterOut::Written));
    assert!(
        h.ops[0].ret.unwrap() < h.ops[1].call,
        "the write returned before the read began"
    );
    assert_eq!(
        h.ops[1].output,
        Some(RegisterOut::Value(None)),
        "the stale read"
    );
    assert!(!linearizable(&c));
}

#[test]
fn the_same_program_reading_at_the_primary_is_linearizable() {
    let c = run(3, Settings::default(), &[write(0, 0, 1), read(1, 0)]);
    assert_eq!(c.history().ops[1].output, Some(RegisterOut::Value(Some(1))));
    assert!(linearizable(&c));
    // And once replication is done, a backup's read is up to date too.
    let c = run(
        3,
        Settings::default(),
        &[write(0, 0, 1), advance(20), read(1, 2)],
    );
    assert_eq!(c.history().ops[1].output, Some(RegisterOut::Value(Some(1))));
    assert!(linearizable(&c));
}

#[test]
fn history_keeps_the_request_steps_and_real_time_order() {
    // Client 0's second request waits for its first (forwarded, so answered later).
    let c = run(
        3,
        Settings::default().delay(5, 5),
        &[write(0, 1, 3), read(0, 0), read(1, 0), advance(50)],
    );
    let h = c.history();
    assert_eq!(
        h.steps,
        vec![StepId::prefix(0), StepId::prefix(2), StepId::prefix(1)]
    );
    let (w, r0, r1) = (&h.ops[0], &h.ops[2], &h.ops[1]);
    assert_eq!(w.op, RegisterOp::Write { value: 3 });
    assert_eq!(r0.op, RegisterOp::Read);
    assert!(
        w.ret.unwrap() < r0.call,
        "a session sends its next request after the answer"
    );
    assert_eq!(r0.output, Some(RegisterOut::Value(Some(3))));
    // Client 1 read at step 2, while the forwarded write was still on its way.
    assert!(r1.call < w.ret.unwrap());
    assert_eq!(r1.output, Some(RegisterOut::Value(None)));
    assert!(linearizable(&c));
}

#[test]
fn a_rejected_request_records_no_operation_and_frees_the_session() {
    let cas = SimStep::Request {
        client: 0,
        node: 0,
        op: RegisterOp::Cas { from: 0, to: 1 },
    };
    let c = run(2, Settings::default(), &[cas, read(0, 0)]);
    let h = c.history();
    assert_eq!(h.len(), 1);
    assert_eq!(h.ops[0].op, RegisterOp::Read);
    assert_eq!(h.steps, vec![StepId::prefix(1)]);
}

#[test]
fn a_request_whose_node_crashes_is_unknown_and_the_session_goes_on_under_a_new_id() {
    let steps = [
        write(0, 1, 5), // forwarded by n1 to the primary
        SimStep::Crash { node: 1 },
        read(0, 0),
        advance(50),
        read(0, 0),
    ];
    let c = run(3, Settings::default(), &steps);
    let h = c.history();
    assert_eq!(h.len(), 3);
    assert!(h.ops[0].is_unknown(), "n1 crashed before answering");
    assert_eq!(
        (h.ops[0].client, h.ops[1].client, h.ops[2].client),
        (0, 256, 256)
    );
    // The forward was already on the wire: the write took effect after all, and its late
    // answer was ignored.
    assert_eq!(h.ops[1].output, Some(RegisterOut::Value(None)));
    assert_eq!(h.ops[2].output, Some(RegisterOut::Value(Some(5))));
    assert!(c
        .trace()
        .iter()
        .any(|l| l.contains("which has ended: ignored")));
    assert!(linearizable(&c), "an unknown write may take effect later");
}

#[test]
fn a_request_not_answered_in_time_is_unknown() {
    let steps = [
        SimStep::Partition {
            side: 0b001,
            one_way: false,
        },
        write(0, 1, 5), // the forward to the primary is cut off
        advance(400),
        read(0, 1),
    ];
    let c = run(3, Settings::default().request_timeout(300), &steps);
    let h = c.history();
    assert!(h.ops[0].is_unknown());
    assert_eq!(h.ops[1].client, 256);
    assert_eq!(h.ops[1].output, Some(RegisterOut::Value(None)));
    assert!(c.trace().iter().any(|l| l.contains("timed out")));
    // Before the timeout, the request is in flight: unknown so far, and the session busy.
    let c = run(3, Settings::default().request_timeout(300), &steps[..3]);
    assert!(c.history().ops[0].is_unknown());
}

#[test]
fn a_request_to_a_crashed_node_is_refused() {
    let c = run(
        2,
        Settings::default(),
        &[SimStep::Crash { node: 1 }, read(0, 1), read(0, 0)],
    );
    let h = c.history();
    assert_eq!(h.len(), 1);
    assert_eq!(h.steps, vec![StepId::prefix(2)]);
    assert!(c.trace().iter().any(|l| l.contains("refused")));
}

#[test]
fn a_cluster_invariant_breach_names_its_step() {
    let mut c: Cluster<Pb<true>> = Cluster::new(3, 1, Settings::default());
    c.apply(0, &advance(10)).expect("nothing written yet");
    let broken = c.apply(1, &write(0, 0, 4)).expect_err("the backups lag");
    assert_eq!(broken.step, 1);
    assert_eq!(broken.message, "n1 holds None, the primary Some(4)");
    assert_eq!(c.broken(), Some(&broken));
}

#[test]
fn the_liveness_tail_heals_restarts_and_converges() {
    let steps = [
        SimStep::Partition {
            side: 0b010,
            one_way: false,
        },
        SimStep::Crash { node: 2 },
        write(0, 0, 9),
        advance(100),
    ];
    let mut c = run(3, Settings::default(), &steps);
    assert_eq!(c.node(1).unwrap().disk.value, None);
    assert!(c.node(2).is_none());
    let settled = c
        .settle(steps.len() as u64, 10_000)
        .expect("the invariant holds");
    assert!(settled.quiet, "{settled:?}");
    assert!(settled.ran_ms < 10_000);
    for node in 0..3 {
        assert_eq!(value(&c, node), Some(9), "node {node}");
    }
}

#[test]
fn one_session_reading_its_write_at_a_backup_breaks_read_your_writes() {
    use crate::check::{check_session_guarantees, Guarantee, Verdict};
    use crate::models::CasRegister;
    let ryw = |c: &Cluster<Pb>| {
        let report = check_session_guarantees(
            &c.history(),
            &CasRegister::default(),
            &[Guarantee::ReadYourWrites],
        );
        matches!(report.verdict, Verdict::Violated(_))
    };
    let stale = run(3, Settings::default(), &[write(0, 0, 1), read(0, 1)]);
    assert_eq!(
        stale.history().ops[1].output,
        Some(RegisterOut::Value(None))
    );
    assert!(ryw(&stale));
    assert!(!linearizable(&stale));
    let fresh = run(3, Settings::default(), &[write(0, 0, 1), read(0, 0)]);
    assert!(!ryw(&fresh));
}

#[test]
fn the_liveness_tail_calls_the_cluster_quiet_a_window_after_the_last_message() {
    let settings = Settings::default().delay(5, 5).quiet(100);
    let mut c = run(2, settings, &[write(0, 0, 3), SimStep::Drop { pick: 0 }]);
    // The retry fires at 20 and resends; the copy lands at 25 and its ack at 30. The timer's
    // last firing at 40 sends nothing, so the quiet window runs from 30.
    let settled = c.settle(2, 10_000).unwrap();
    assert!(settled.quiet);
    assert_eq!(settled.ran_ms, 130);
    assert_eq!(value(&c, 1), Some(3));
}
