//! Every imported operation knows where it was written; JSON events may carry a time.

use crate::{is_linearizable, RegHistory};
use stateprop::import::{self, json};
use stateprop::models::{RegisterOp, RegisterOut};

fn register(text: &str) -> Result<RegHistory, import::ImportError> {
    json::<RegisterOp, RegisterOut>(text)
}

/// Two clients' logs, recorded by two processes and simply concatenated: client 1's read ran
/// before client 0's write (by the clock), though it is written after it.
const MERGED: &str = r#"[
  {"type": "invoke", "client": 0, "op": {"Write": {"value": 1}}, "time": 1700000000000000030, "node": "n1"},
  {"type": "ok", "client": 0, "output": "Written", "time": 1700000000000000040, "node": "n1"},
  {"type": "invoke", "client": 1, "op": "Read", "time": 1700000000000000010, "node": "n2"},
  {"type": "ok", "client": 1, "output": {"Value": null}, "time": 1700000000000000020, "node": "n3"}
]"#;

#[test]
fn json_times_order_operations_from_several_logs() {
    let h = register(MERGED).unwrap();
    // Nanoseconds since 1970 exceed an f64's precision; ordered exactly, the read comes first.
    assert!(h.ops[1].ret.unwrap() < h.ops[0].call, "{:?}", h.ops);
    assert!(is_linearizable(&h));
    // The same events without times are ordered by position: the read of nothing follows the
    // completed write, which is a violation. The time field is what makes the difference.
    let untimed: String = MERGED
        .lines()
        .map(|l| match l.find(", \"time\"") {
            Some(at) => format!("{}}}{}", &l[..at], if l.ends_with(',') { "," } else { "" }),
            None => l.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n");
    assert!(!is_linearizable(&register(&untimed).unwrap()), "{untimed}");
}

#[test]
fn json_sources_keep_lines_times_and_extra_fields() {
    let h = register(MERGED).unwrap();
    let s = h.source(1).expect("imported operations have sources");
    assert_eq!((s.call_line, s.ret_line), (Some(4), Some(5)));
    assert_eq!(s.call_time.as_deref(), Some("1700000000000000010"));
    assert_eq!(s.ret_time.as_deref(), Some("1700000000000000020"));
    assert!(
        s.fields.contains(&("node".to_string(), "n2".to_string())),
        "{s:?}"
    );
    // A completion on another node is kept as well.
    assert!(
        s.fields
            .contains(&("ret.node".to_string(), "n3".to_string())),
        "{s:?}"
    );
    assert_eq!(h.source(0).unwrap().lines().as_deref(), Some("lines 2–3"));
}

#[test]
fn equal_times_are_concurrent() {
    // The read is invoked at the very time the write returns: touching intervals overlap, so
    // reading the old value is allowed.
    let text = r#"[
      {"type": "invoke", "client": 0, "op": {"Write": {"value": 1}}, "time": 1.5},
      {"type": "ok", "client": 0, "output": "Written", "time": 2.5},
      {"type": "invoke", "client": 1, "op": "Read", "time": 2.5},
      {"type": "ok", "client": 1, "output": {"Value": null}, "time": 3}
    ]"#;
    let h = register(text).unwrap();
    assert_eq!(h.ops[0].ret, Some(h.ops[1].call));
    assert!(is_linearizable(&h));
}

#[test]
fn times_on_some_events_only_or_backwards_are_errors_with_a_line() {
    let some = r#"[
      {"type": "invoke", "client": 0, "op": "Read", "time": 5},
      {"type": "ok", "client": 0, "output": {"Value": null}}
    ]"#;
    let e = register(some).unwrap_err();
    assert_eq!(e.line, 3, "{e}");
    assert!(e.message.contains("has no \"time\""), "{e}");
    let backwards = r#"[
      {"type": "invoke", "client": 0, "op": "Read", "time": 5},
      {"type": "ok", "client": 0, "output": {"Value": null}, "time": 4}
    ]"#;
    let e = register(backwards).unwrap_err();
    assert_eq!(e.line, 3, "{e}");
    assert!(e.message.contains("invoked later"), "{e}");
}

#[test]
fn jepsen_and_edn_operations_know_their_lines() {
    let text = std::fs::read_to_string(crate::data("jepsen/etcd_000.log")).unwrap();
    let h = import::etcd(&text).unwrap();
    assert_eq!(h.sources.len(), h.ops.len());
    let lines: Vec<&str> = text.lines().collect();
    for (i, o) in h.ops.iter().enumerate() {
        let s = h.source(i).unwrap();
        // `INFO  jepsen.util - <process> :<type> …`
        let fields = |line: usize| -> Vec<&str> {
            let rest = &lines[line - 1][lines[line - 1].find("jepsen.util").unwrap()..];
            rest.split_whitespace().skip(2).take(2).collect()
        };
        let call = s.call_line.unwrap();
        assert_eq!(fields(call), [o.client.to_string().as_str(), ":invoke"]);
        if let Some(ret) = s.ret_line {
            assert!(ret > call);
            assert_eq!(fields(ret)[0], o.client.to_string());
            assert_ne!(fields(ret)[1], ":invoke");
        }
    }
    let edn = "{:process 0, :type :invoke, :f :write, :value 3}\n\n\
               {:process 1, :type :invoke, :f :read, :value nil}\n\
               {:process 0, :type :ok, :f :write, :value 3}\n\
               {:process 1, :type :ok, :f :read, :value 3}";
    let h = import::jepsen_edn_register(edn).unwrap();
    assert_eq!(h.source(0).unwrap().lines().as_deref(), Some("lines 1–4"));
    assert_eq!(h.source(1).unwrap().lines().as_deref(), Some("lines 3–5"));
    // Jepsen's :time is kept as written.
    let timed = "{:process 0, :type :invoke, :f :get, :key \"k\", :value nil, :time 1200}\n\
                 {:process 0, :type :ok, :f :get, :key \"k\", :value \"x\", :time 3400}";
    let h = import::kv_edn(timed).unwrap();
    let s = h.source(0).unwrap();
    assert_eq!(s.call_time.as_deref(), Some("1200"));
    assert_eq!(s.ret_time.as_deref(), Some("3400"));
}

#[test]
fn a_history_built_in_code_has_no_sources_and_sub_histories_keep_theirs() {
    let mut h = RegHistory::new();
    h.push(0, RegisterOp::Read, 0, 1, RegisterOut::Value(None));
    assert!(h.sources.is_empty() && h.source(0).is_none());
    let imported = register(MERGED).unwrap();
    let sub = imported.select(&[1]);
    assert_eq!(sub.ops[0], imported.ops[1]);
    assert_eq!(sub.sources[0], imported.sources[1]);
}
