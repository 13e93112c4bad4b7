//! Jepsen's etcd logs: their meaning of :fail and :info, and errors.

use crate::assert_error;
use stateprop::history::Operation;
use stateprop::import::etcd;
use stateprop::models::{RegisterOp, RegisterOut};

/// Builds a log line; `sep` separates the fields (the corpus uses tabs, some files spaces).
fn line(process: &str, kind: &str, f: &str, value: &str) -> String {
    format!("INFO  jepsen.util - {process}\t:{kind}\t:{f}\t{value}")
}

#[test]
fn fail_and_info_mean_what_the_etcd_logs_mean() {
    let text = [
        line("0", "invoke", "write", "1"),
        line("1", "invoke", "cas", "[1 2]"),
        line("2", "invoke", "read", "nil"),
        line("0", "ok", "write", "1"),
        String::new(),
        line("1", "fail", "cas", "[1 2]"),
        line("2", "fail", "read", ":timed-out"),
        line(":nemesis", "info", "start", "nil"),
        line("3", "invoke", "write", "4"),
        line("4", "invoke", "cas", "[4 0]"),
        line("3", "info", "write", ":timed-out"),
        // Spaces instead of tabs, and the `jepsen.util:` form of newer logs.
        "INFO  jepsen.util - 4   :info   :cas   :timed-out".to_string(),
        "2015-05-01 10:00:00,000 INFO jepsen.util: 0 :invoke :read nil".to_string(),
        "INFO  jepsen.util - 0 :ok :read 1  ".to_string(),
        line("7", "invoke", "cas", "[1 3]"),
        line("7", "ok", "cas", "[1 3]"),
        line("8", "invoke", "write", "2"),
        line("8", "fail", "write", "2"),
    ]
    .join("\n");
    let h = etcd(&text).unwrap();
    let op = |client, op, call, ret, output| Operation {
        client,
        op,
        call,
        ret,
        output,
    };
    // Times are line indices; the failed write is gone.
    assert_eq!(
        h.ops,
        vec![
            op(
                0,
                RegisterOp::Write { value: 1 },
                0,
                Some(3),
                Some(RegisterOut::Written)
            ),
            // A failed cas happened and returned false.
            op(
                1,
                RegisterOp::Cas { from: 1, to: 2 },
                1,
                Some(5),
                Some(RegisterOut::Cas(false))
            ),
            // A failed read returned, with an unknown value.
            op(2, RegisterOp::Read, 2, Some(6), None),
            // Timed out: may have happened at any time after the call.
            op(3, RegisterOp::Write { value: 4 }, 8, None, None),
            op(4, RegisterOp::Cas { from: 4, to: 0 }, 9, None, None),
            op(
                0,
                RegisterOp::Read,
                12,
                Some(13),
                Some(RegisterOut::Value(Some(1)))
            ),
            op(
                7,
                RegisterOp::Cas { from: 1, to: 3 },
                14,
                Some(15),
                Some(RegisterOut::Cas(true))
            ),
        ]
    );
    assert!(etcd("").unwrap().is_empty());
    assert!(etcd("\n  \n").unwrap().is_empty());
}

#[test]
fn etcd_errors_name_the_line_and_the_problem() {
    let w0 = line("0", "invoke", "write", "1");
    let lines = |rest: &str| format!("{w0}\n{rest}");
    // Unknown type.
    assert_error(
        etcd(&lines(&line("0", "done", "write", "1"))),
        2,
        &[
            "unknown type `:done`",
            "expected :invoke, :ok, :fail or :info",
        ],
    );
    // Missing fields.
    assert_error(
        etcd(&lines("INFO  jepsen.util - 0\t:ok\t:write")),
        2,
        &["missing the value after :write"],
    );
    assert_error(
        etcd(&lines("INFO  jepsen.util - 0\t:ok")),
        2,
        &["missing the :f"],
    );
    assert_error(
        etcd(&lines("INFO  jepsen.util - 0")),
        2,
        &["missing the :type"],
    );
    assert_error(
        etcd(&lines("INFO  jepsen.util -   ")),
        2,
        &["missing the process number"],
    );
    // Bad numbers.
    assert_error(
        etcd(&lines(&line("0", "ok", "write", "1x"))),
        2,
        &["bad number `1x`"],
    );
    assert_error(
        etcd(&lines(&line("p1", "invoke", "read", "nil"))),
        2,
        &["bad process `p1`", "expected a process number"],
    );
    // Unterminated vector and string.
    assert_error(
        etcd(&format!("{w0}\n\n{}", line("1", "invoke", "cas", "[1 2"))),
        3,
        &["unterminated vector"],
    );
    assert_error(
        etcd(&lines(&line("1", "invoke", "read", "\"nil"))),
        2,
        &["unterminated string"],
    );
    // Completion without invocation; invocation while one is open.
    assert_error(
        etcd(&lines(&line("5", "ok", "read", "3"))),
        2,
        &["`:ok :read 3` completes an operation process 5 never invoked"],
    );
    assert_error(
        etcd(&lines(&line("0", "invoke", "cas", "[1 2]"))),
        2,
        &["process 0 invokes `:cas [1 2]` while its `:write 1` from line 1 is still open"],
    );
    // Completions that contradict their invocation.
    assert_error(
        etcd(&lines(&line("0", "fail", "cas", "[1 2]"))),
        2,
        &[":fail of process 0's `:write 1` (line 1): it says :f :cas, the invocation :write"],
    );
    assert_error(
        etcd(&format!(
            "{}\n{}",
            line("0", "invoke", "cas", "[1 2]"),
            line("0", "fail", "cas", "[1 3]")
        )),
        2,
        &["its :value [1 3] differs from the invocation's"],
    );
    // Values of the wrong shape; extra fields; foreign lines.
    assert_error(
        etcd(&line("0", "invoke", "cas", "[1 2 3]")),
        1,
        &["a :cas needs a :value [from to] of two integers, found [1 2 3]"],
    );
    assert_error(
        etcd(&line("0", "invoke", "read", "nil nil")),
        1,
        &["unexpected nil after the value"],
    );
    assert_error(
        etcd(&line("0", "invoke", "read", "nil extra")),
        1,
        &["unexpected extra after the value"],
    );
    assert_error(
        etcd(&line("0", "invoke", "read!", "nil")),
        1,
        &["unknown :f :read! for a register"],
    );
    assert_error(etcd(&line("0", "invoke", "", "nil")), 1, &["bad :f `:`"]);
    assert_error(
        etcd(&lines("INFO  jepsen.core - Running test")),
        2,
        &["expected a client line", "grep jepsen.util"],
    );
}
