//! Session guarantees on register and key-value histories.

use crate::{append, get, put, value};
use stateprop::check::{check_session_guarantees, Guarantee, Report, SessionViolation, Verdict};
use stateprop::history::History;
use stateprop::models::{CasRegister, KvModel, KvOp, KvOut, RegisterOp, RegisterOut};

type RegHistory = History<RegisterOp, RegisterOut>;
type KvHistory = History<KvOp, KvOut>;

fn write(value: i64) -> RegisterOp {
    RegisterOp::Write { value }
}

fn read(v: Option<i64>) -> RegisterOut {
    RegisterOut::Value(v)
}

const W: RegisterOut = RegisterOut::Written;

/// The violations a report proves: none when the guarantees hold, and never an empty list
/// called a violation.
fn found(report: Report<Vec<SessionViolation>>) -> Vec<SessionViolation> {
    match report.verdict {
        Verdict::Holds => Vec::new(),
        Verdict::Violated(found) => {
            assert!(!found.is_empty(), "a violation with nothing in it");
            found
        }
        other => panic!("the session checker has no budget to run out of: {other:?}"),
    }
}

fn check_reg(h: &RegHistory, g: Guarantee) -> Vec<SessionViolation> {
    found(check_session_guarantees(h, &CasRegister::default(), &[g]))
}

fn check_kv(h: &KvHistory, g: Guarantee) -> Vec<SessionViolation> {
    found(check_session_guarantees(h, &KvModel::default(), &[g]))
}

/// (session, earlier, later, stale, initial, seen, witness) of each violation.
type Shape = (
    u64,
    usize,
    usize,
    Vec<usize>,
    bool,
    Vec<usize>,
    Option<usize>,
);

fn shapes(found: &[SessionViolation]) -> Vec<Shape> {
    found
        .iter()
        .map(|v| {
            (
                v.session,
                v.earlier,
                v.later,
                v.stale.clone(),
                v.initial,
                v.seen.clone(),
                v.witness,
            )
        })
        .collect()
}

mod read_your_writes {
    use super::*;

    const G: Guarantee = Guarantee::ReadYourWrites;

    #[test]
    fn read_of_a_value_overwritten_before_the_own_write() {
        let mut h = RegHistory::new();
        h.push(0, write(1), 0, 1, W);
        h.push(1, write(2), 2, 3, W);
        h.push(1, RegisterOp::Read, 4, 5, read(Some(1)));
        let found = check_reg(&h, G);
        assert_eq!(shapes(&found), [(1, 1, 2, vec![0], false, vec![], None)]);
        assert_eq!(found[0].ops(), [0, 1, 2]);
        assert_eq!(
            found[0].explanation,
            "client 1 wrote op 1 (Write { value: 2 }) and then read op 2 (Read) = Some(1), \
             which can only be op 0 (Write { value: 1 }), and op 0 returned before op 1 was \
             invoked: the read does not reflect the client's own write"
        );
        assert_eq!(
            found[0].to_string(),
            format!("read your writes violated: {}", found[0].explanation)
        );
    }

    #[test]
    fn initial_value_after_the_own_write() {
        let mut h = RegHistory::new();
        h.push(1, write(2), 0, 1, W);
        h.push(1, RegisterOp::Read, 2, 3, read(None));
        let found = check_reg(&h, G);
        assert_eq!(shapes(&found), [(1, 0, 1, vec![], true, vec![], None)]);
        assert_eq!(
            found[0].explanation,
            "client 1 wrote op 0 (Write { value: 2 }) and then read op 1 (Read) = None, which \
             can only be the initial value: the read does not reflect the client's own write"
        );
    }

    #[test]
    fn every_possible_source_older() {
        // Two clients wrote 1; both returned before client 1's write of 2 began.
        let mut h = RegHistory::new();
        h.push(0, write(1), 0, 1, W);
        h.push(2, write(1), 0, 2, W);
        h.push(1, write(2), 3, 4, W);
        h.push(1, RegisterOp::Read, 5, 6, read(Some(1)));
        let found = check_reg(&h, G);
        assert_eq!(shapes(&found), [(1, 2, 3, vec![0, 1], false, vec![], None)]);
        assert!(found[0]
            .explanation
            .contains("and op 0, op 1 all returned before op 2 was invoked"));
    }

    #[test]
    fn append_lost_from_a_key_value_read() {
        // The read ends with "a", not with the client's own "b".
        let mut h = KvHistory::new();
        h.push(0, append("k", "a"), 0, 1, KvOut::Done);
        h.push(1, append("k", "b"), 2, 3, KvOut::Done);
        h.push(1, get("k"), 4, 5, value("a"));
        h.push(1, get("k"), 6, 7, value(""));
        let found = check_kv(&h, G);
        assert_eq!(
            shapes(&found),
            [
                (1, 1, 2, vec![0], false, vec![], None),
                (1, 1, 3, vec![], true, vec![], None),
            ]
        );
    }

    #[test]
    fn latest_failed_own_write_is_named() {
        let mut h = RegHistory::new();
        h.push(0, write(1), 0, 1, W);
        h.push(1, write(2), 2, 3, W);
        h.push(1, write(3), 4, 5, W);
        h.push(1, RegisterOp::Read, 6, 7, read(Some(1)));
        assert_eq!(
            shapes(&check_reg(&h, G)),
            [(1, 2, 3, vec![0], false, vec![], None)]
        );
    }

    #[test]
    fn concurrent_overwrite_is_not_flagged() {
        // Write 1 overlaps the client's write of 2, so it may have been applied after it.
        let mut h = RegHistory::new();
        h.push(0, write(1), 0, 10, W);
        h.push(1, write(2), 2, 3, W);
        h.push(1, RegisterOp::Read, 4, 5, read(Some(1)));
        assert_eq!(check_reg(&h, G), []);
    }

    #[test]
    fn own_value_and_newer_values_pass() {
        let mut h = RegHistory::new();
        h.push(1, write(2), 0, 1, W);
        h.push(1, RegisterOp::Read, 2, 3, read(Some(2)));
        h.push(0, write(5), 4, 5, W);
        h.push(1, RegisterOp::Read, 6, 7, read(Some(5)));
        assert_eq!(check_reg(&h, G), []);
    }

    #[test]
    fn a_value_also_written_later_is_not_flagged() {
        // Client 2 wrote 1 again after client 1's write: the read may come from it.
        let mut h = RegHistory::new();
        h.push(0, write(1), 0, 1, W);
        h.push(1, write(2), 2, 3, W);
        h.push(2, write(1), 5, 6, W);
        h.push(1, RegisterOp::Read, 7, 8, read(Some(1)));
        assert_eq!(check_reg(&h, G), []);
    }

    #[test]
    fn unknown_and_failed_writes_are_not_owed() {
        let mut h = RegHistory::new();
        h.push_unknown(1, write(2), 0);
        h.push(1, RegisterOp::Read, 2, 3, read(None));
        h.push(
            2,
            RegisterOp::Cas { from: 5, to: 2 },
            0,
            1,
            RegisterOut::Cas(false),
        );
        h.push(2, RegisterOp::Read, 2, 3, read(None));
        assert_eq!(check_reg(&h, G), []);
    }

    #[test]
    fn successful_cas_is_an_own_write() {
        let mut h = RegHistory::new();
        h.push(0, write(1), 0, 1, W);
        h.push(
            1,
            RegisterOp::Cas { from: 1, to: 2 },
            2,
            3,
            RegisterOut::Cas(true),
        );
        h.push(1, RegisterOp::Read, 4, 5, read(Some(1)));
        assert_eq!(
            shapes(&check_reg(&h, G)),
            [(1, 1, 2, vec![0], false, vec![], None)]
        );
    }

    #[test]
    fn phantom_values_are_left_to_other_checkers() {
        // No write produced 3 before the read returned.
        let mut h = RegHistory::new();
        h.push(1, write(2), 0, 1, W);
        h.push(1, RegisterOp::Read, 2, 3, read(Some(3)));
        h.push(0, write(3), 4, 5, W);
        assert_eq!(check_reg(&h, G), []);
    }
}

mod monotonic_reads {
    use super::*;

    const G: Guarantee = Guarantee::MonotonicReads;

    #[test]
    fn read_goes_back_to_an_older_write() {
        let mut h = RegHistory::new();
        h.push(0, write(1), 0, 1, W);
        h.push(0, write(2), 2, 3, W);
        h.push(1, RegisterOp::Read, 4, 5, read(Some(2)));
        h.push(1, RegisterOp::Read, 6, 7, read(Some(1)));
        let found = check_reg(&h, G);
        assert_eq!(shapes(&found), [(1, 2, 3, vec![0], false, vec![1], None)]);
        assert_eq!(found[0].ops(), [0, 1, 2, 3]);
        assert_eq!(
            found[0].explanation,
            "client 1 read op 2 (Read) = Some(2), which can only come from op 1 (Write { value: \
             2 }), and later read op 3 (Read) = Some(1), which can only be op 0 (Write { value: \
             1 }), and op 0 returned before op 1 was invoked: the client saw an older value \
             after a newer one"
        );
    }

    #[test]
    fn read_goes_back_to_the_initial_value() {
        let mut h = RegHistory::new();
        h.push(0, write(1), 0, 1, W);
        h.push(1, RegisterOp::Read, 2, 3, read(Some(1)));
        h.push(1, RegisterOp::Read, 4, 5, read(None));
        assert_eq!(
            shapes(&check_reg(&h, G)),
            [(1, 1, 2, vec![], true, vec![0], None)]
        );
    }

    #[test]
    fn appended_value_disappears() {
        let mut h = KvHistory::new();
        h.push(0, append("k", "a"), 0, 1, KvOut::Done);
        h.push(0, append("k", "b"), 2, 3, KvOut::Done);
        h.push(1, get("k"), 4, 5, value("ab"));
        h.push(1, get("x"), 6, 7, value(""));
        h.push(1, get("k"), 8, 9, value("a"));
        assert_eq!(
            shapes(&check_kv(&h, G)),
            [(1, 2, 4, vec![0], false, vec![1], None)]
        );
    }

    #[test]
    fn each_stale_read_reported_once() {
        let mut h = RegHistory::new();
        h.push(0, write(1), 0, 1, W);
        h.push(0, write(2), 2, 3, W);
        h.push(1, RegisterOp::Read, 4, 5, read(Some(2)));
        h.push(1, RegisterOp::Read, 6, 7, read(Some(2)));
        h.push(1, RegisterOp::Read, 8, 9, read(Some(1)));
        h.push(1, RegisterOp::Read, 10, 11, read(Some(1)));
        // Op 4 and op 5 both went back from op 3 (named as the latest earlier read each fails),
        // once each; op 5 is not older than op 4.
        assert_eq!(
            shapes(&check_reg(&h, G)),
            [
                (1, 3, 4, vec![0], false, vec![1], None),
                (1, 3, 5, vec![0], false, vec![1], None),
            ]
        );
    }

    #[test]
    fn concurrent_writes_may_be_seen_in_any_order() {
        let mut h = RegHistory::new();
        h.push(0, write(1), 0, 10, W);
        h.push(2, write(2), 0, 10, W);
        h.push(1, RegisterOp::Read, 4, 5, read(Some(2)));
        h.push(1, RegisterOp::Read, 6, 7, read(Some(1)));
        assert_eq!(check_reg(&h, G), []);
    }

    #[test]
    fn forward_reads_pass() {
        let mut h = RegHistory::new();
        h.push(1, RegisterOp::Read, 0, 1, read(None));
        h.push(0, write(1), 2, 3, W);
        h.push(1, RegisterOp::Read, 4, 5, read(Some(1)));
        h.push(1, RegisterOp::Read, 6, 7, read(Some(1)));
        assert_eq!(check_reg(&h, G), []);
    }

    #[test]
    fn ambiguous_value_is_not_flagged() {
        // The second read of 1 may come from client 2's later write of 1.
        let mut h = RegHistory::new();
        h.push(0, write(1), 0, 1, W);
        h.push(0, write(2), 2, 3, W);
        h.push(2, write(1), 4, 5, W);
        h.push(1, RegisterOp::Read, 6, 7, read(Some(2)));
        h.push(1, RegisterOp::Read, 8, 9, read(Some(1)));
        assert_eq!(check_reg(&h, G), []);
    }

    #[test]
    fn different_keys_are_unrelated() {
        let mut h = KvHistory::new();
        h.push(0, put("x", "1"), 0, 1, KvOut::Done);
        h.push(1, get("x"), 2, 3, value("1"));
        h.push(1, get("y"), 4, 5, value(""));
        assert_eq!(check_kv(&h, G), []);
    }
}

mod monotonic_writes {
    use super::*;

    const G: Guarantee = Guarantee::MonotonicWrites;

    #[test]
    fn another_client_sees_the_writes_swapped() {
        let mut h = KvHistory::new();
        h.push(0, append("k", "x0"), 0, 1, KvOut::Done);
        h.push(0, append("k", "x1"), 2, 3, KvOut::Done);
        h.push(1, get("k"), 4, 5, value("x1x0"));
        let found = check_kv(&h, G);
        assert_eq!(shapes(&found), [(0, 0, 1, vec![], false, vec![], Some(2))]);
        assert_eq!(found[0].ops(), [0, 1, 2]);
        assert_eq!(
            found[0].explanation,
            "client 0 wrote op 0 (Append { key: \"k\", value: \"x0\" }) and then op 1 (Append \
             { key: \"k\", value: \"x1\" }), but op 2 (Get { key: \"k\" }) = \"x1x0\" shows \
             them applied in the opposite order"
        );
    }

    #[test]
    fn the_writer_sees_its_writes_swapped() {
        let mut h = KvHistory::new();
        h.push(0, append("k", "x0"), 0, 1, KvOut::Done);
        h.push(0, append("k", "x1"), 2, 3, KvOut::Done);
        h.push(0, get("k"), 4, 5, value("x1x0"));
        h.push(0, get("k"), 6, 7, value("x1x0"));
        // Reported once, with the first read that shows it.
        assert_eq!(
            shapes(&check_kv(&h, G)),
            [(0, 0, 1, vec![], false, vec![], Some(2))]
        );
    }

    #[test]
    fn last_write_applied_first() {
        let mut h = KvHistory::new();
        h.push(0, append("k", "a"), 0, 1, KvOut::Done);
        h.push(0, append("k", "b"), 2, 3, KvOut::Done);
        h.push(0, append("k", "c"), 4, 5, KvOut::Done);
        h.push(1, get("k"), 6, 7, value("cab"));
        assert_eq!(
            shapes(&check_kv(&h, G)),
            [
                (0, 0, 2, vec![], false, vec![], Some(3)),
                (0, 1, 2, vec![], false, vec![], Some(3)),
            ]
        );
    }

    #[test]
    fn writes_shown_in_order_pass() {
        let mut h = KvHistory::new();
        h.push(0, append("k", "x0"), 0, 1, KvOut::Done);
        h.push(0, append("k", "x1"), 2, 3, KvOut::Done);
        h.push(1, get("k"), 4, 5, value("x0x1"));
        h.push(1, get("k"), 6, 7, value("x0"));
        assert_eq!(check_kv(&h, G), []);
    }

    #[test]
    fn other_clients_writes_may_be_swapped() {
        // Linearizability would object (op 0 returned before op 1 began); this guarantee does not.
        let mut h = KvHistory::new();
        h.push(0, append("k", "a"), 0, 1, KvOut::Done);
        h.push(2, append("k", "b"), 2, 3, KvOut::Done);
        h.push(1, get("k"), 4, 5, value("ba"));
        assert_eq!(check_kv(&h, G), []);
    }

    #[test]
    fn registers_never_show_write_order() {
        let mut h = RegHistory::new();
        h.push(0, write(1), 0, 1, W);
        h.push(0, write(2), 2, 3, W);
        h.push(1, RegisterOp::Read, 4, 5, read(Some(2)));
        h.push(1, RegisterOp::Read, 6, 7, read(Some(1)));
        assert_eq!(check_reg(&h, G), []);
    }

    #[test]
    fn values_that_are_not_unique_say_nothing() {
        let mut h = KvHistory::new();
        h.push(0, append("k", "a"), 0, 1, KvOut::Done);
        h.push(0, append("k", "b"), 2, 3, KvOut::Done);
        h.push(2, append("k", "a"), 4, 5, KvOut::Done);
        h.push(1, get("k"), 6, 7, value("ba"));
        assert_eq!(check_kv(&h, G), []);
    }
}

mod writes_follow_reads {
    use super::*;

    const G: Guarantee = Guarantee::WritesFollowReads;

    #[test]
    fn write_applied_before_the_write_it_followed() {
        let mut h = KvHistory::new();
        h.push(0, append("k", "a"), 0, 1, KvOut::Done);
        h.push(1, get("k"), 2, 3, value("a"));
        h.push(1, append("k", "b"), 4, 5, KvOut::Done);
        h.push(2, get("k"), 6, 7, value("ba"));
        let found = check_kv(&h, G);
        assert_eq!(shapes(&found), [(1, 1, 2, vec![], false, vec![0], Some(3))]);
        assert_eq!(found[0].ops(), [0, 1, 2, 3]);
        assert_eq!(
            found[0].explanation,
            "client 1 read op 1 (Get { key: \"k\" }) = \"a\", which shows op 0 (Append { key: \
             \"k\", value: \"a\" }), and then wrote op 2 (Append { key: \"k\", value: \"b\" }), \
             but op 3 (Get { key: \"k\" }) = \"ba\" shows the client's write applied before the \
             one it had read"
        );
    }

    #[test]
    fn other_writes_in_between() {
        let mut h = KvHistory::new();
        h.push(0, append("k", "a"), 0, 1, KvOut::Done);
        h.push(1, get("k"), 2, 3, value("a"));
        h.push(1, append("k", "b"), 4, 5, KvOut::Done);
        h.push(3, append("k", "c"), 4, 5, KvOut::Done);
        h.push(2, get("k"), 6, 7, value("bca"));
        assert_eq!(
            shapes(&check_kv(&h, G)),
            [(1, 1, 2, vec![], false, vec![0], Some(4))]
        );
    }

    #[test]
    fn the_reader_sees_it() {
        let mut h = KvHistory::new();
        h.push(0, append("k", "a"), 0, 1, KvOut::Done);
        h.push(3, append("k", "z"), 0, 1, KvOut::Done);
        h.push(1, get("k"), 2, 3, value("az"));
        h.push(1, append("k", "b"), 4, 5, KvOut::Done);
        h.push(1, get("k"), 6, 7, value("bza"));
        // The client's write overtook both writes its read showed: one violation for each.
        assert_eq!(
            shapes(&check_kv(&h, G)),
            [
                (1, 2, 3, vec![], false, vec![0], Some(4)),
                (1, 2, 3, vec![], false, vec![1], Some(4)),
            ]
        );
    }

    #[test]
    fn write_after_the_one_read_passes() {
        let mut h = KvHistory::new();
        h.push(0, append("k", "a"), 0, 1, KvOut::Done);
        h.push(1, get("k"), 2, 3, value("a"));
        h.push(1, append("k", "b"), 4, 5, KvOut::Done);
        h.push(2, get("k"), 6, 7, value("ab"));
        assert_eq!(check_kv(&h, G), []);
    }

    #[test]
    fn write_before_the_read_is_not_bound() {
        // Client 1 wrote "b" before it read "a": nothing ties "b" after "a".
        let mut h = KvHistory::new();
        h.push(0, append("k", "a"), 0, 3, KvOut::Done);
        h.push(1, append("k", "b"), 1, 2, KvOut::Done);
        h.push(1, get("k"), 4, 5, value("ba"));
        h.push(2, get("k"), 6, 7, value("ba"));
        assert_eq!(check_kv(&h, G), []);
    }

    #[test]
    fn registers_never_show_write_order() {
        let mut h = RegHistory::new();
        h.push(0, write(1), 0, 1, W);
        h.push(1, RegisterOp::Read, 2, 3, read(Some(1)));
        h.push(1, write(2), 4, 5, W);
        h.push(2, RegisterOp::Read, 6, 7, read(Some(2)));
        h.push(2, RegisterOp::Read, 8, 9, read(Some(1)));
        assert_eq!(check_reg(&h, G), []);
    }
}

#[test]
fn all_guarantees_in_order() {
    let mut h = KvHistory::new();
    h.push(0, append("k", "a"), 0, 1, KvOut::Done);
    h.push(1, append("k", "b"), 2, 3, KvOut::Done);
    h.push(1, get("k"), 4, 5, value("ab"));
    h.push(1, get("k"), 6, 7, value("a"));
    let found = found(check_session_guarantees(
        &h,
        &KvModel::default(),
        &Guarantee::ALL,
    ));
    let named: Vec<_> = found
        .iter()
        .map(|v| (v.guarantee, v.earlier, v.later))
        .collect();
    assert_eq!(
        named,
        [
            (Guarantee::ReadYourWrites, 1, 3),
            (Guarantee::MonotonicReads, 2, 3),
        ]
    );
}

#[test]
fn initial_state_is_respected() {
    let mut h = RegHistory::new();
    h.push(1, write(2), 0, 1, W);
    h.push(1, RegisterOp::Read, 2, 3, read(Some(7)));
    let found = found(check_session_guarantees(
        &h,
        &CasRegister::new(Some(7)),
        &Guarantee::ALL,
    ));
    assert_eq!(shapes(&found), [(1, 0, 1, vec![], true, vec![], None)]);
}
