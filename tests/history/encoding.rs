//! What every importer does alike: a byte-order mark is skipped, process ids cover the same
//! range, quoted input is escaped, invalid UTF-8 names its line, and a compare-and-set refused
//! by a plain register names its line.

use crate::assert_error;
use stateprop::import::{
    self, decode, etcd, jepsen_edn_register, json, kv_edn, plain_register, Format,
};
use stateprop::models::{RegisterOp, RegisterOut};

const BOM: &str = "\u{feff}";

fn etcd_text(process: &str) -> String {
    format!(
        "INFO  jepsen.util - {process}\t:invoke\t:write\t3\n\
         INFO  jepsen.util - {process}\t:ok\t:write\t3\n"
    )
}

fn edn_text(process: &str) -> String {
    format!(
        "{{:process {process}, :type :invoke, :f :write, :value 3}}\n\
         {{:process {process}, :type :ok, :f :write, :value 3}}\n"
    )
}

fn json_text(process: &str) -> String {
    format!(
        "[{{\"type\": \"invoke\", \"client\": {process}, \"op\": {{\"Write\": {{\"value\": 3}}}}}},\n\
         {{\"type\": \"ok\", \"client\": {process}, \"output\": \"Written\"}}]"
    )
}

type Register = Result<stateprop::history::History<RegisterOp, RegisterOut>, import::ImportError>;

/// One reader of a register history: its format, a history in it for a process, the reader.
struct Reader {
    format: Format,
    text: fn(&str) -> String,
    read: fn(&str) -> Register,
}

fn readers() -> [Reader; 3] {
    [
        Reader {
            format: Format::Jepsen,
            text: etcd_text,
            read: |t| etcd(t),
        },
        Reader {
            format: Format::Edn,
            text: edn_text,
            read: |t| jepsen_edn_register(t),
        },
        Reader {
            format: Format::Json,
            text: json_text,
            read: |t| json(t),
        },
    ]
}

#[test]
fn every_format_skips_a_byte_order_mark() {
    for Reader { format, text, read } in readers() {
        let plain = read(&text("0")).unwrap();
        let marked_text = format!("{BOM}{}", text("0"));
        let marked = read(&marked_text)
            .unwrap_or_else(|e| panic!("{format} refuses a byte-order mark: {e}"));
        assert_eq!(marked, plain, "{format}");
        assert_eq!(Format::guess("history.txt", &marked_text), Some(format));
    }
    let kv = "{:process 0, :type :invoke, :f :put, :key \"k\", :value \"v\"}";
    assert_eq!(kv_edn(&format!("{BOM}{kv}")).unwrap(), kv_edn(kv).unwrap());
    assert_eq!(
        Format::guess("h", &format!("{BOM}[{{\"type\": 1}}]")),
        Some(Format::Json)
    );
    assert_eq!(Format::guess("h", &format!("{BOM}{kv}")), Some(Format::Edn));
    // A second mark is not a byte-order mark: it is an error, shown escaped.
    let e = json::<RegisterOp, RegisterOut>(&format!("{BOM}{BOM}[]")).unwrap_err();
    assert!(!e.message.contains(BOM), "{e}");
}

#[test]
fn process_ids_cover_u64_in_every_format() {
    for process in [
        "9223372036854775807",
        "9223372036854775808",
        "18446744073709551615",
    ] {
        for Reader { format, text, read } in readers() {
            let history = read(&text(process))
                .unwrap_or_else(|e| panic!("{format} refuses process {process}: {e}"));
            assert_eq!(history.ops[0].client.to_string(), process, "{format}");
        }
    }
    // One past u64: refused by each, on the line of the event.
    for Reader { format, text, read } in readers() {
        let e = read(&text("18446744073709551616")).unwrap_err();
        assert_eq!(e.line, 1, "{format}: {e}");
    }
    assert_error(
        jepsen_edn_register(&edn_text("18446744073709551616")),
        1,
        &[
            "bad :process 18446744073709551616",
            "0 to 18446744073709551615",
        ],
    );
}

#[test]
fn quoted_control_characters_are_escaped() {
    let cases: Vec<(&str, Register)> = vec![
        (
            "etcd",
            etcd("INFO  jepsen.util - 0\t:inv\u{1b}[31m\t:read\tnil\n"),
        ),
        (
            "edn",
            jepsen_edn_register("{:process 0, :type :invoke, :f :re\u{0}ad}"),
        ),
        (
            "edn string",
            jepsen_edn_register("{:process 0, :type :invoke, :f :write, :value \"a\\nb\\u001b\"}"),
        ),
        (
            "json",
            json("[{\"type\": \"invoke\", \"client\": 0, \"op\": \"R\\r\\u0000\"}]"),
        ),
    ];
    for (name, result) in cases {
        let e = result.expect_err(name);
        assert!(
            !e.message.chars().any(char::is_control),
            "{name}: raw control character in {:?}",
            e.message
        );
        assert!(
            ["\\u{", "\\r", "\\n", "\\0"]
                .iter()
                .any(|escape| e.message.contains(escape)),
            "{name}: {e}"
        );
    }
}

#[test]
fn invalid_utf8_names_its_line() {
    let e = decode(b"{:a 1}\n{:b 2}\n{:c \"\xff\"}\n").unwrap_err();
    assert_eq!(e.line, 3);
    assert_eq!(
        e.message,
        "invalid UTF-8: byte 0xFF at column 6; a history file must be UTF-8 text"
    );
    assert_eq!(decode(b"\xef\xbb\xbf{:a 1}").unwrap(), "{:a 1}");
}

#[test]
fn a_plain_register_refuses_compare_and_set_at_its_invocation() {
    let etcd_log = "INFO  jepsen.util - 0\t:invoke\t:read\tnil\n\
                    INFO  jepsen.util - 0\t:ok\t:read\tnil\n\
                    INFO  jepsen.util - 1\t:invoke\t:cas\t[1 2]\n\
                    INFO  jepsen.util - 1\t:fail\t:cas\t[1 2]\n";
    let edn = "{:process 0, :type :invoke, :f :read}\n\
               {:process 0, :type :ok, :f :read, :value nil}\n\
               {:process 1, :type :invoke, :f :cas, :value [1 2]}\n\
               {:process 1, :type :fail, :f :cas, :value [1 2]}\n";
    let json_list = "[{\"type\": \"invoke\", \"client\": 0, \"op\": \"Read\"},\n\
                     {\"type\": \"ok\", \"client\": 0, \"output\": {\"Value\": null}},\n\
                     {\"type\": \"invoke\", \"client\": 1, \"op\": {\"Cas\": {\"from\": 1, \"to\": 2}}},\n\
                     {\"type\": \"fail\", \"client\": 1}]";
    for (format, text) in [
        (Format::Jepsen, etcd_log),
        (Format::Edn, edn),
        (Format::Json, json_list),
    ] {
        assert_error(
            plain_register(format, text),
            3,
            &[
                "is a compare-and-set, which a plain register has not",
                "cas-register",
            ],
        );
    }
    // Without compare-and-set, it reads what the compare-and-set readers read.
    let reads_only = edn.lines().take(2).collect::<Vec<_>>().join("\n");
    assert_eq!(
        plain_register(Format::Edn, &reads_only).unwrap(),
        jepsen_edn_register(&reads_only).unwrap()
    );
}

#[test]
fn edn_events_stream_from_one_vector_or_many_maps() {
    let event = "{:process 0, :type :invoke, :f :read}";
    let one = jepsen_edn_register(event).unwrap();
    for text in [
        format!("[{event}]"),
        format!("({event})"),
        format!("#jepsen.history [{event}]"),
        format!("#_ [:skipped] [{event}]"),
        format!("; comment\n[{event}\n]\n; trailing comment\n"),
        format!("#jepsen.history.Op{event}"),
    ] {
        // The same operations; the lines they were read from differ.
        assert_eq!(jepsen_edn_register(&text).unwrap().ops, one.ops, "{text}");
    }
    assert_error(
        jepsen_edn_register(&format!("\n[{event}]\n{event}")),
        2,
        &["found a vector followed by more forms"],
    );
    assert_error(
        jepsen_edn_register(&format!("{event}\n[{event}]")),
        2,
        &["expected an event map", "found ["],
    );
}

#[test]
fn a_huge_quoted_value_is_shortened_in_the_message() {
    let huge = "R".repeat(100_000);
    let e = json::<RegisterOp, RegisterOut>(&format!(
        "[{{\"type\": \"invoke\", \"client\": 0, \"op\": \"{huge}\"}}]"
    ))
    .unwrap_err();
    let start: String = e.message.chars().take(300).collect();
    assert!(e.message.len() < 300, "{} bytes: {start}", e.message.len());
    assert!(e.message.contains("unknown variant `RRRR"), "{e}");
    assert!(e.message.contains("…"), "{e}");
}
