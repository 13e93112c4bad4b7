//! Bytes to text, and text back into one-line messages: the two places where an input file's
//! encoding meets a person reading an error.

use super::ImportError;
use std::borrow::Cow;
use std::fmt::Write;

/// The UTF-8 byte-order mark some editors (and Windows tools) put at the start of a file.
const BOM: &str = "\u{feff}";

/// `text` without a leading UTF-8 byte-order mark.
///
/// A byte-order mark is not part of the history: every importer skips one, so a file saved by
/// an editor that writes it reads like one that does not. It sits on line 1 before any newline,
/// so line numbers are unchanged.
pub(crate) fn strip_bom(text: &str) -> &str {
    text.strip_prefix(BOM).unwrap_or(text)
}

/// Reads a history file's bytes as text: UTF-8, with a leading byte-order mark skipped.
///
/// Invalid UTF-8 is an [`ImportError`] naming the line and column of the first bad byte, so a
/// file from a tool writing Latin-1 or UTF-16 says where to look, as every other error does.
///
/// ```
/// use stateprop::import;
///
/// assert_eq!(import::decode(b"\xef\xbb\xbf[]").unwrap(), "[]");
/// let e = import::decode(b"[\n {\"op\": \"caf\xe9\"}]").unwrap_err();
/// assert_eq!(e.line, 2);
/// assert!(e.message.starts_with("invalid UTF-8"), "{e}");
/// ```
pub fn decode(bytes: &[u8]) -> Result<&str, ImportError> {
    let bytes = bytes.strip_prefix(BOM.as_bytes()).unwrap_or(bytes);
    std::str::from_utf8(bytes).map_err(|e| {
        let good = &bytes[..e.valid_up_to()];
        let line_start = good.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
        let line = 1 + good.iter().filter(|&&b| b == b'\n').count();
        // The prefix is valid UTF-8, so counting its characters gives the column a reader sees.
        let column = 1 + String::from_utf8_lossy(&good[line_start..]).chars().count();
        let bad = &bytes[e.valid_up_to()..];
        let shown: Vec<String> = bad
            .iter()
            .take(e.error_len().unwrap_or(bad.len()).min(4))
            .map(|b| format!("0x{b:02X}"))
            .collect();
        let what = match e.error_len() {
            Some(_) => format!("byte {} at column {column}", shown.join(" ")),
            None => format!("the input ends inside a character ({})", shown.join(" ")),
        };
        ImportError::new(
            line,
            format!("invalid UTF-8: {what}; a history file must be UTF-8 text"),
        )
    })
}

/// `text` fit for a one-line message: control characters (`\n`, `\r`, `\t`, `\0`, escape, …),
/// line and paragraph separators and bidirectional overrides are written as Rust escapes
/// (`\u{1b}`), so that quoted input can neither break the message over lines nor rewrite a
/// terminal. Everything else, including other non-ASCII text, is kept as it is.
///
/// ```
/// use stateprop::import::printable;
///
/// assert_eq!(printable("a\u{1b}[2Jb\r\n\0"), "a\\u{1b}[2Jb\\r\\n\\0");
/// assert_eq!(printable("café"), "café");
/// ```
pub fn printable(text: &str) -> Cow<'_, str> {
    if !text.chars().any(needs_escape) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\0' => out.push_str("\\0"),
            c if needs_escape(c) => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// `message` with every `` `quoted` `` part longer than `max` characters cut to `max` and `…`,
/// so that a message quoting a megabyte of input stays readable.
pub(crate) fn shorten_quoted(message: &str, max: usize) -> String {
    let mut out = String::with_capacity(message.len().min(1024));
    let mut parts = message.split('`');
    if let Some(first) = parts.next() {
        out.push_str(first);
    }
    // Odd parts are inside backticks (an unpaired last backtick leaves its text as it is).
    for (i, part) in parts.enumerate() {
        out.push('`');
        match part.char_indices().nth(max) {
            Some((cut, _)) if i % 2 == 0 => {
                out.push_str(&part[..cut]);
                out.push('…');
            }
            _ => out.push_str(part),
        }
    }
    out
}

fn needs_escape(c: char) -> bool {
    c.is_control()
        // Line and paragraph separators end a line in some terminals and editors.
        || matches!(c, '\u{2028}' | '\u{2029}')
        // Bidirectional embeddings, overrides and isolates reorder what is displayed.
        || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
        || c == '\u{feff}'
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decode_names_the_line_and_column_of_the_first_bad_byte() {
        let e = decode(b"ok\nal\xc3\xa9\xff rest\n").unwrap_err();
        assert_eq!(e.line, 2);
        assert!(e.message.contains("byte 0xFF at column 4"), "{}", e.message);
        let e = decode(b"x\xe2\x82").unwrap_err();
        assert_eq!(e.line, 1);
        assert!(
            e.message.contains("ends inside a character (0xE2 0x82)"),
            "{}",
            e.message
        );
        assert_eq!(decode("\u{feff}\u{feff}x".as_bytes()).unwrap(), "\u{feff}x");
    }

    #[test]
    fn long_quotes_are_shortened_and_the_rest_kept() {
        let long = "x".repeat(100);
        assert_eq!(
            shorten_quoted(&format!("unknown variant `{long}`, expected `Read`"), 5),
            "unknown variant `xxxxx…`, expected `Read`"
        );
        assert_eq!(shorten_quoted("a `b` c `", 5), "a `b` c `");
        assert_eq!(shorten_quoted("", 5), "");
    }

    #[test]
    fn printable_escapes_what_breaks_a_line_and_keeps_the_rest() {
        assert_eq!(
            printable("\u{7f}\u{85}\u{202e}\u{2028}"),
            "\\u{7f}\\u{85}\\u{202e}\\u{2028}"
        );
        assert!(matches!(printable("plain ascii"), Cow::Borrowed(_)));
        assert_eq!(printable("日本\t"), "日本\\t");
    }
}
