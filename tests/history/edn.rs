//! Jepsen EDN histories: both dialects, Jepsen's meaning of :fail and :info, and errors.

use crate::assert_error;
use stateprop::check::{check_linearizable, CheckConfig, Verdict};
use stateprop::history::{History, Operation};
use stateprop::import::{jepsen_edn_register, kv_edn};
use stateprop::models::{CasRegister, KvOp, KvOut, RegisterOp, RegisterOut};

/// As Jepsen writes `history.edn` with a pretty-printer: one vector, extra keys, a nemesis.
pub const VECTOR: &str = r#"[{:type :invoke, :f :write, :value 1, :process 0, :time 100, :index 0}
 {:type :invoke, :f :read, :value nil, :process 1, :time 110, :index 1}
 {:type :info, :f :start, :value nil, :process :nemesis, :time 115, :index 2}
 {:type :ok, :f :write, :value 1, :process 0, :time 120, :index 3}
 {:type :ok, :f :read, :value 1, :process 1, :time 130, :index 4}
 {:type :invoke, :f :cas, :value [1 2], :process 0, :time 140, :index 5}
 {:type :fail, :f :cas, :value [1 2], :process 0, :time 150, :index 6, :error :conflict}
 {:type :invoke, :f :cas, :value [1 3], :process 1, :time 160, :index 7}
 {:type :info, :f :cas, :value [1 3], :process 1, :time 170, :index 8,
  :error "timed out \"after\" 5s\n"}
 {:type :invoke, :f :write, :value 4, :process 6, :time 180, :index 9}
 {:type :ok, :f :write, :value 4, :process 6, :time 190, :index 10}
 {:type :invoke, :f :read, :value nil, :process 0, :time 200, :index 11}
 {:type :ok, :f :read, :value 4, :process 0, :time 210, :index 12}
 {:type :info, :f :stop, :value #{"n1" "n2"}, :process :nemesis, :time 220, :index 13}]
"#;

/// The same history one map per line, with comments, no commas and tagged records.
pub const PER_LINE: &str = r#"; history.edn, one operation per line
{:type :invoke :f :write :value 1 :process 0 :time 100}
{:type :invoke :f :read :value nil :process 1 :time 110}
{:type :info :f :start :value nil :process :nemesis}
#jepsen.history.Op{:type :ok :f :write :value 1 :process 0}
{:type :ok :f :read :value 1 :process 1} ; read what process 0 wrote
{:type :invoke :f :cas :value [1 2] :process 0}
{:type :fail :f :cas :value [1 2] :process 0 :error :conflict}
{:type :invoke :f :cas :value [1 3] :process 1}
{:type :info :f :cas :value [1 3] :process 1 :error "timed out \"after\" 5s\n"}
{:type :invoke :f :write :value 4 :process 6 #_ :ignored-key}
{:type :ok :f :write :value 4 :process 6}
{:type :invoke :f :read :value nil :process 0}
{:type :ok :f :read :value 4 :process 0}
{:type :info :f :stop :value #{"n1" "n2"} :process :nemesis}
"#;

fn op(
    client: u64,
    op: RegisterOp,
    call: u64,
    ret: Option<u64>,
    output: Option<RegisterOut>,
) -> Operation<RegisterOp, RegisterOut> {
    Operation {
        client,
        op,
        call,
        ret,
        output,
    }
}

/// Times are positions among the events (the nemesis's included); the failed cas is gone, the
/// timed-out one is unknown.
fn expected() -> History<RegisterOp, RegisterOut> {
    History::from_ops(vec![
        op(
            0,
            RegisterOp::Write { value: 1 },
            0,
            Some(3),
            Some(RegisterOut::Written),
        ),
        op(
            1,
            RegisterOp::Read,
            1,
            Some(4),
            Some(RegisterOut::Value(Some(1))),
        ),
        op(1, RegisterOp::Cas { from: 1, to: 3 }, 7, None, None),
        op(
            6,
            RegisterOp::Write { value: 4 },
            9,
            Some(10),
            Some(RegisterOut::Written),
        ),
        op(
            0,
            RegisterOp::Read,
            11,
            Some(12),
            Some(RegisterOut::Value(Some(4))),
        ),
    ])
}

#[test]
fn both_dialects_read_to_the_same_operations() {
    let vector = jepsen_edn_register(VECTOR).unwrap();
    // The vector and the per-line form differ only in where the events are written.
    assert_eq!(vector.ops, expected().ops);
    assert_eq!(jepsen_edn_register(PER_LINE).unwrap().ops, expected().ops);
    // A list instead of a vector, and CRLF line ends, read the same.
    let list = format!("({})", &VECTOR.trim()[1..VECTOR.trim().len() - 1]).replace('\n', "\r\n");
    assert_eq!(jepsen_edn_register(&list).unwrap().ops, expected().ops);
    let report = check_linearizable(&vector, &CasRegister::default(), &CheckConfig::default());
    assert_eq!(report.verdict, Verdict::Holds);
}

#[test]
fn jepsen_meaning_of_fail_and_info_decides_the_verdict() {
    // The failed cas [1 2] did not happen: a later read of 2 is a violation.
    let failed = "{:process 0, :type :invoke, :f :write, :value 1}
{:process 0, :type :ok, :f :write, :value 1}
{:process 0, :type :invoke, :f :cas, :value [1 2]}
{:process 0, :type :fail, :f :cas, :value [1 2]}
{:process 1, :type :invoke, :f :read, :value nil}
{:process 1, :type :ok, :f :read, :value 2}";
    let h = jepsen_edn_register(failed).unwrap();
    assert_eq!(h.len(), 2);
    let report = check_linearizable(&h, &CasRegister::default(), &CheckConfig::default());
    assert!(matches!(report.verdict, Verdict::Violated(_)));
    // The same cas timing out (:info) may have happened: reading 2 is fine.
    let h = jepsen_edn_register(&failed.replace(":fail", ":info")).unwrap();
    assert_eq!(h.len(), 3);
    assert!(h.ops[1].is_unknown());
    let report = check_linearizable(&h, &CasRegister::default(), &CheckConfig::default());
    assert_eq!(report.verdict, Verdict::Holds);
    // An operation never completed is unknown as well.
    let open = jepsen_edn_register("{:process 3, :type :invoke, :f :write, :value 9}").unwrap();
    assert_eq!(open.ops[0].ret, None);
    assert_eq!(jepsen_edn_register("").unwrap().len(), 0);
    assert_eq!(jepsen_edn_register(" [] ; nothing").unwrap().len(), 0);
}

#[test]
fn kv_events_become_gets_puts_and_appends() {
    let h = kv_edn(
        r#"{:process 0, :type :invoke, :f :put, :key "a", :value "x"}
{:process 1, :type :invoke, :f :get, :key "a", :value nil}
{:process 0, :type :ok, :f :put, :key "a", :value "x"}
{:process 1, :type :ok, :f :get, :key "a", :value nil}
{:process 2, :type :invoke, :f :append, :key 7, :value "y"}
{:process 2, :type :fail, :f :append, :key 7, :value "y"}
{:process 2, :type :invoke, :f :append, :key "a", :value "z"}
{:process 2, :type :info, :f :append, :key "a", :value "z"}
{:process 1, :type :invoke, :f :get, :key "a", :value nil}
{:process 1, :type :ok, :f :get, :key "a", :value "xz"}
{:process :nemesis, :type :info, :f :kill, :value nil}"#,
    )
    .unwrap();
    let ops: Vec<_> = h
        .ops
        .iter()
        .map(|o| (o.client, o.op.clone(), o.call, o.ret, o.output.clone()))
        .collect();
    let key = || "a".to_string();
    assert_eq!(
        ops,
        vec![
            (
                0,
                KvOp::Put {
                    key: key(),
                    value: "x".into()
                },
                0,
                Some(2),
                Some(KvOut::Done)
            ),
            (
                1,
                KvOp::Get { key: key() },
                1,
                Some(3),
                Some(KvOut::Value(String::new()))
            ),
            (
                2,
                KvOp::Append {
                    key: key(),
                    value: "z".into()
                },
                6,
                None,
                None
            ),
            (
                1,
                KvOp::Get { key: key() },
                8,
                Some(9),
                Some(KvOut::Value("xz".into()))
            ),
        ]
    );
}

#[test]
fn register_edn_errors_name_the_line_and_the_problem() {
    let w0 = "{:process 0, :type :invoke, :f :write, :value 1}";
    let ok0 = "{:process 0, :type :ok, :f :write, :value 1}";
    let lines = |rest: &str| format!("{w0}\n{rest}");
    // Unknown :type.
    assert_error(
        jepsen_edn_register(&lines("{:process 0, :type :done, :f :write, :value 1}")),
        2,
        &[
            "unknown :type :done",
            "expected :invoke, :ok, :fail or :info",
        ],
    );
    // Missing fields.
    assert_error(
        jepsen_edn_register(&lines("{:process 0, :type :ok, :value 1}")),
        2,
        &["event has no :f"],
    );
    assert_error(
        jepsen_edn_register(&lines("{:type :ok, :f :write}")),
        2,
        &["event has no :process"],
    );
    assert_error(
        jepsen_edn_register(&lines("{:process 0, :f :write}")),
        2,
        &["event has no :type"],
    );
    // Bad numbers.
    assert_error(
        jepsen_edn_register(&lines("{:process 0, :type :ok, :f :write, :value 1x}")),
        2,
        &["bad number `1x`"],
    );
    // Past i64, a register's value is out of range; past every field's range, not a number.
    assert_error(
        jepsen_edn_register(&lines(
            "{:process 1, :type :invoke, :f :write, :value 99999999999999999999}",
        )),
        2,
        &["a :write needs an integer :value, found 99999999999999999999 (64-bit signed)"],
    );
    assert_error(
        jepsen_edn_register(&lines(
            "{:process 0, :type :ok, :f :write, :value 1000000000000000000000000000000000000000}",
        )),
        2,
        &["bad number `1000000000000000000000000000000000000000`: too large"],
    );
    assert_error(
        jepsen_edn_register(&lines("{:process -2, :type :invoke, :f :read}")),
        2,
        &["bad :process -2", "or :nemesis"],
    );
    // Unterminated string, vector and map: the line where they start.
    assert_error(
        jepsen_edn_register(&format!(
            "{w0}\n{ok0}\n{{:process 1, :type :info, :error \"oops}}\n{w0}"
        )),
        3,
        &["unterminated string"],
    );
    assert_error(
        jepsen_edn_register(&format!("\n[{w0}\n{ok0}\n")),
        2,
        &["unterminated vector", "`]`"],
    );
    assert_error(
        jepsen_edn_register(&format!("{w0}\n{{:process 0, :type :ok\n")),
        2,
        &["unterminated map"],
    );
    assert_error(
        jepsen_edn_register(&format!("{w0}\n{ok0}]")),
        2,
        &["unexpected `]`"],
    );
    // Completion without invocation, and invocation while one is open.
    assert_error(
        jepsen_edn_register(&format!("{w0}\n{ok0}\n{ok0}")),
        3,
        &["`:ok :write 1` completes an operation process 0 never invoked"],
    );
    assert_error(
        jepsen_edn_register(&lines("{:process 0, :type :invoke, :f :read, :value nil}")),
        2,
        &["process 0 invokes `:read nil` while its `:write 1` from line 1 is still open"],
    );
    // A completion that contradicts its invocation.
    assert_error(
        jepsen_edn_register(&lines("{:process 0, :type :ok, :f :read, :value 1}")),
        2,
        &[":ok of process 0's `:write 1` (line 1): it says :f :read, the invocation :write"],
    );
    assert_error(
        jepsen_edn_register(&lines("{:process 0, :type :ok, :f :write, :value 2}")),
        2,
        &["its :value 2 differs from the invocation's"],
    );
    // Values of the wrong shape.
    assert_error(
        jepsen_edn_register("{:process 0, :type :invoke, :f :cas, :value [1]}"),
        1,
        &["a :cas needs a :value [from to] of two integers, found [1]"],
    );
    assert_error(
        jepsen_edn_register("{:process 0, :type :invoke, :f :write, :value nil}"),
        1,
        &["a :write needs an integer :value, found nil"],
    );
    assert_error(
        jepsen_edn_register("{:process 0, :type :invoke, :f :incr, :value 1}"),
        1,
        &["unknown :f :incr for a register"],
    );
    assert_error(
        jepsen_edn_register(&format!(
            "{w0}\n{{:process 0, :type :ok, :f :write, :value}}"
        )),
        2,
        &["odd number of forms"],
    );
    assert_error(
        jepsen_edn_register(&format!("{w0}\n[1 2]")),
        2,
        &["expected an event map", "found [1 2]"],
    );
}

#[test]
fn errors_inside_one_vector_name_the_event_line() {
    let text = "[{:process 0, :type :invoke, :f :write, :value 1}\n\
                 {:process 0, :type :ok, :f :write, :value 1}\n\
                 {:process 0,\n  :type :fail, :f :write, :value 1}]";
    // The third event starts on line 3; its :type is on line 4.
    assert_error(jepsen_edn_register(text), 3, &["never invoked"]);
}

#[test]
fn kv_edn_errors_name_the_line_and_the_problem() {
    let get = r#"{:process 0, :type :invoke, :f :get, :key "k", :value nil}"#;
    let lines = |rest: &str| format!("{get}\n{rest}");
    assert_error(
        kv_edn(&lines(
            r#"{:process 1, :type :invoke, :f :get, :value nil}"#,
        )),
        2,
        &["a :get event needs a :key"],
    );
    assert_error(
        kv_edn(&lines(r#"{:process 0, :type :invoke, :f :put, :key "k", :value "v"}"#)),
        2,
        &["process 0 invokes `:put \"k\" \"v\"` while its `:get \"k\" nil` from line 1 is still open"],
    );
    assert_error(
        kv_edn(r#"{:process 0, :type :invoke, :f :put, :key "k", :value nil}"#),
        1,
        &["a :put needs a string :value, found nil"],
    );
    assert_error(
        kv_edn(r#"{:process 0, :type :invoke, :f :cas, :key "k", :value nil}"#),
        1,
        &["unknown :f :cas for a key-value store"],
    );
    assert_error(
        kv_edn(&lines(
            r#"{:process 0, :type :ok, :f :get, :key "k", :value 3}"#,
        )),
        2,
        &["a get's value must be a string or nil, found 3"],
    );
    assert_error(
        kv_edn(&lines(
            r#"{:process 0, :type :ok, :f :get, :key "j", :value "x"}"#,
        )),
        2,
        &["its :key \"j\" differs from the invocation's"],
    );
    assert_error(
        kv_edn(&lines(
            r#"{:process 0, :type :ok, :f :get, :key "k", :value "x\q"}"#,
        )),
        2,
        &["unknown escape `\\q`"],
    );
    assert_error(
        kv_edn(&lines(
            "{:process 0, :type :ok, :f :get, :key \"k, :value nil}\n{}",
        )),
        2,
        &["unterminated string"],
    );
    assert_error(
        kv_edn(&lines(
            r#"{:process 1, :type :ok, :f :get, :key "k", :value nil}"#,
        )),
        2,
        &["completes an operation process 1 never invoked"],
    );
    assert_error(
        kv_edn(&lines(r#"{:process 0, :type :invoked, :f :get, :key "k"}"#)),
        2,
        &["unknown :type :invoked"],
    );
}
