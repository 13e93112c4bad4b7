//! History importers: the Porcupine corpus with its known verdicts, each format's error
//! messages, hand-written Jepsen histories, and garbage that must not panic.

mod corpus;
mod edn;
mod encoding;
mod etcd;
mod format;
mod garbage;
mod json;
mod memory;

use stateprop::import::ImportError;

/// Asserts that `result` failed on `line` with a message containing every one of `parts`.
#[track_caller]
pub fn assert_error<T: std::fmt::Debug>(
    result: Result<T, ImportError>,
    line: usize,
    parts: &[&str],
) {
    let error = result.expect_err("the input should be rejected");
    assert_eq!(error.line, line, "wrong line for: {error}");
    for part in parts {
        assert!(
            error.message.contains(part),
            "message lacks {part:?}: {error}"
        );
    }
    assert_eq!(error.to_string(), format!("line {line}: {}", error.message));
}
