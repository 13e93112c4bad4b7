//! Truncated, mutated and random inputs: every importer answers, none panics, and an error's
//! line lies within the input.

use stateprop::import::{self, ImportError};
use stateprop::models::{RegisterOp, RegisterOut};
use std::panic::{catch_unwind, AssertUnwindSafe};

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/data/porcupine");

/// Pieces of every format, so that random soups reach past the first syntax check.
const TOKENS: &[&str] = &[
    "{",
    "}",
    "[",
    "]",
    "(",
    ")",
    "#{",
    "#_",
    "#tag",
    "#",
    "\"",
    "\\",
    "\\u00",
    "\\u0041",
    "\\newline",
    "\\q",
    ":process",
    ":type",
    ":invoke",
    ":ok",
    ":fail",
    ":info",
    ":f",
    ":read",
    ":write",
    ":cas",
    ":get",
    ":put",
    ":append",
    ":delete",
    ":key",
    ":value",
    ":nemesis",
    ":timed-out",
    ":",
    "::",
    "nil",
    "true",
    "0",
    "1",
    "7",
    "-1",
    "+2",
    "99999999999999999999",
    "1.5e",
    "2.5M",
    "3N",
    "-",
    ",",
    " ",
    "\n",
    "\t",
    "\r\n",
    ";",
    "é",
    "\"k\"",
    "\"x 1 y\"",
    "INFO  jepsen.util - ",
    "jepsen.util",
    "[1 2]",
    "{\"type\": \"invoke\"",
    "\"client\": 1",
    "\"op\": \"Read\"",
    "\"output\": \"Written\"",
    "\"type\": \"ok\"",
];

/// xorshift64*: deterministic, so a failure reproduces.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// Feeds `text` to every importer.
fn feed(text: &str) {
    let lines = text.matches('\n').count() + 1;
    let check = |name: &str, error: Option<ImportError>| {
        if let Some(e) = error {
            assert!(
                (1..=lines).contains(&e.line) && !e.message.is_empty(),
                "{name}: error `{e}` outside the {lines} lines of {text:?}"
            );
            // One line, whatever the input quoted.
            assert!(
                !e.message.chars().any(char::is_control),
                "{name}: raw control character in `{e}` for {text:?}"
            );
        }
    };
    let outcome = catch_unwind(AssertUnwindSafe(|| {
        check("etcd", import::etcd(text).err());
        check("kv_edn", import::kv_edn(text).err());
        check(
            "jepsen_edn_register",
            import::jepsen_edn_register(text).err(),
        );
        check("json", import::json::<RegisterOp, RegisterOut>(text).err());
        for format in import::Format::ALL {
            check(format.name(), import::plain_register(format, text).err());
        }
        let _ = import::Format::guess("x", text);
    }));
    if outcome.is_err() {
        panic!("an importer panicked on {text:?}");
    }
}

/// Byte offsets of `text` that are character boundaries.
fn boundaries(text: &str) -> Vec<usize> {
    (0..=text.len())
        .filter(|&i| text.is_char_boundary(i))
        .collect()
}

fn mutate(rng: &mut Rng, text: &str) -> String {
    let cuts = boundaries(text);
    let mut at = || cuts[rng.below(cuts.len())];
    let (a, b) = {
        let (x, y) = (at(), at());
        (x.min(y), x.max(y))
    };
    let mut out = String::with_capacity(text.len() + 16);
    match rng.below(5) {
        // Delete a span (kept short most of the time).
        0 => {
            let b = if rng.below(4) == 0 { b } else { b.min(a + 8) };
            let b = cuts.iter().copied().find(|&c| c >= b).unwrap_or(text.len());
            out.push_str(&text[..a]);
            out.push_str(&text[b..]);
        }
        // Insert a token.
        1 => {
            out.push_str(&text[..a]);
            out.push_str(TOKENS[rng.below(TOKENS.len())]);
            out.push_str(&text[a..]);
        }
        // Replace a character with random ASCII.
        2 => {
            out.push_str(&text[..a]);
            out.push(char::from(rng.below(128) as u8));
            let rest = &text[a..];
            let skip = rest.chars().next().map_or(0, char::len_utf8);
            out.push_str(&rest[skip..]);
        }
        // Duplicate a span.
        3 => {
            out.push_str(&text[..b]);
            out.push_str(&text[a..]);
        }
        // Truncate.
        _ => out.push_str(&text[..a]),
    }
    out
}

fn samples() -> Vec<String> {
    let read = |p: &str| std::fs::read_to_string(format!("{DIR}/{p}")).unwrap();
    let json = r#"[{"type": "invoke", "client": 1, "op": {"Write": {"value": 3}}},
 {"type": "invoke", "client": 2, "op": "Read"},
 {"type": "ok", "client": 1, "output": "Written"},
 {"type": "ok", "client": 2, "output": {"Value": 3}},
 {"type": "invoke", "client": 2, "op": {"Cas": {"from": 3, "to": 1}}},
 {"type": "info", "client": 2}]"#;
    let etcd: String = read("jepsen/etcd_000.log")
        .lines()
        .take(30)
        .map(|l| format!("{l}\n"))
        .collect();
    let kv: String = read("kv/c10-bad.txt")
        .lines()
        .take(30)
        .map(|l| format!("{l}\n"))
        .collect();
    vec![
        etcd,
        kv,
        crate::edn::VECTOR.to_string(),
        crate::edn::PER_LINE.to_string(),
        json.to_string(),
    ]
}

#[test]
fn truncated_inputs_do_not_panic() {
    for sample in samples() {
        for cut in boundaries(&sample) {
            feed(&sample[..cut]);
        }
    }
}

#[test]
fn mutated_inputs_do_not_panic() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for sample in samples() {
        for _ in 0..1500 {
            let mut text = sample.clone();
            for _ in 0..=rng.below(3) {
                text = mutate(&mut rng, &text);
            }
            feed(&text);
        }
    }
}

#[test]
fn random_bytes_and_token_soups_do_not_panic() {
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    for round in 0..3000 {
        let len = rng.below(120);
        let text = if round % 2 == 0 {
            let bytes: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
            String::from_utf8_lossy(&bytes).into_owned()
        } else {
            (0..len / 3)
                .map(|_| TOKENS[rng.below(TOKENS.len())])
                .collect()
        };
        feed(&text);
    }
    // Deep nesting must be refused, not overflow the stack.
    for open in ["[", "{", "(", "#{", "#_ [", "#tag ["] {
        feed(&open.repeat(100_000));
    }
    feed(&format!(
        "INFO  jepsen.util - 0 :invoke :cas {}",
        "[".repeat(100_000)
    ));
}

#[test]
fn whole_corpus_files_cut_at_every_line_do_not_panic() {
    for path in ["jepsen/etcd_002.log", "kv/c01-bad.txt"] {
        let text = std::fs::read_to_string(format!("{DIR}/{path}")).unwrap();
        let mut end = 0;
        for line in text.split_inclusive('\n') {
            end += line.len();
            feed(&text[..end]);
            // Cut mid-line too.
            feed(&text[..end - line.len() / 2]);
        }
    }
}
