// Quoted output in the docs, found by the sentence before it and compared with a real run.
// Shared by `tests/docs` (README.md) and `tests/kv.rs` (the crate docs, docs/campaigns.md).

use std::path::Path;

/// A file of the repository, as text.
pub fn read(path: &str) -> String {
    let full = Path::new(env!("CARGO_MANIFEST_DIR")).join(path);
    std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("{}: {e}", full.display()))
}

/// The Markdown of a Rust file's inner doc comments (`//!` lines).
pub fn crate_docs(source: &str) -> String {
    let mut out = String::new();
    for line in source.lines() {
        if let Some(rest) = line.strip_prefix("//!") {
            out.push_str(rest.strip_prefix(' ').unwrap_or(rest));
            out.push('\n');
        }
    }
    out
}

/// The first ```` ```text ```` block after the line holding `anchor`, without its fences and
/// their indentation, each line ending in a newline (as a report's do).
pub fn block_after(doc: &str, file: &str, anchor: &str) -> String {
    let mut lines = doc.lines().skip_while(|l| !l.contains(anchor));
    assert!(
        lines.next().is_some(),
        "{file}: no line says {anchor:?} (the test finds the quoted report by it)"
    );
    let fence = lines
        .find(|l| l.trim_start().starts_with("```"))
        .unwrap_or_else(|| panic!("{file}: no code block after {anchor:?}"));
    assert_eq!(
        fence.trim(),
        "```text",
        "{file}: the block after {anchor:?} is not a ```text block"
    );
    let indent = fence.len() - fence.trim_start().len();
    let mut block = String::new();
    for line in lines {
        if line.trim() == "```" {
            return block;
        }
        block.push_str(line.get(indent..).unwrap_or(line.trim_start()));
        block.push('\n');
    }
    panic!("{file}: the block after {anchor:?} is not closed");
}

/// The quote is the whole of `actual`, byte for byte.
pub fn assert_quote(file: &str, anchor: &str, quote: &str, actual: &str) {
    assert!(
        quote == actual,
        "{file}: the output quoted after {anchor:?} is not what the run prints.\n\
         quoted:\n{quote}\nprinted:\n{actual}\n(update the quote, and its surrounding prose)"
    );
}

/// The quote (an excerpt) is a run of whole, consecutive lines of `actual`.
pub fn assert_excerpt(file: &str, anchor: &str, quote: &str, actual: &str) {
    assert!(
        !quote.is_empty(),
        "{file}: the block after {anchor:?} is empty"
    );
    let found = actual.starts_with(quote) || actual.contains(&format!("\n{quote}"));
    assert!(
        found,
        "{file}: the excerpt quoted after {anchor:?} is not part of what the run prints.\n\
         quoted:\n{quote}\nprinted:\n{actual}\n(update the quote, and its surrounding prose)"
    );
}
