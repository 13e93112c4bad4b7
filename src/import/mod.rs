//! Importers: histories recorded elsewhere, read into a [`History`](crate::history::History) to check.
//!
//! | Function | Input | Model |
//! |---|---|---|
//! | [`json`] | stateprop's JSON event list (`[{"type": "invoke", "client": 3, "op": …}, …]`) | any |
//! | [`etcd`] | Jepsen's 2015 etcd logs (`INFO  jepsen.util - 3 :invoke :cas [1 4]`) | [`CasRegister`](crate::models::CasRegister) |
//! | [`jepsen_edn_register`] | a Jepsen `history.edn` of a read/write/cas register | [`CasRegister`](crate::models::CasRegister) |
//! | [`kv_edn`] | Porcupine's key-value logs and Jepsen histories of get/put/append | [`KvModel`](crate::models::KvModel) |
//!
//! The Jepsen conventions hold throughout: an `:invoke` opens an operation for its process, and
//! the process's next event closes it: `:ok` (it happened, with this result), `:fail` (it did not
//! happen: the operation is dropped) or `:info` (unknown: it may have taken effect at any time
//! after its invocation, so it never returns). An operation still open at the end of the input is
//! unknown too. The etcd logs differ in two places, described at [`etcd`].
//!
//! Times are positions: an event's index in the input (for the etcd logs, its line index), so
//! only their order means anything.
//!
//! Every problem is an [`ImportError`] naming the line and what is wrong, on one line (input it
//! quotes goes through [`printable`]); no input panics. A leading UTF-8 byte-order mark is
//! skipped by every format; [`decode`] turns a file's bytes into text, naming the line of the
//! first byte that is not UTF-8.
//!
//! ```
//! use stateprop::check::{check_linearizable, CheckConfig, Verdict};
//! use stateprop::import;
//! use stateprop::models::CasRegister;
//!
//! let history = import::jepsen_edn_register(
//!     "{:process 0, :type :invoke, :f :write, :value 3}
//!      {:process 1, :type :invoke, :f :read, :value nil}
//!      {:process 0, :type :ok, :f :write, :value 3}
//!      {:process 1, :type :ok, :f :read, :value 3}",
//! )?;
//! let report = check_linearizable(&history, &CasRegister::default(), &CheckConfig::default());
//! assert_eq!(report.verdict, Verdict::Holds);
//! # Ok::<(), import::ImportError>(())
//! ```

mod builder;
mod edn;
mod etcd;
mod jepsen;
mod json;
mod text;

pub use etcd::etcd;
pub use jepsen::{jepsen_edn_register, kv_edn, plain_register};
pub use json::json;
pub use text::{decode, printable};

use std::fmt;
use std::path::Path;
use std::str::FromStr;

/// Why an input could not be imported: the line (1-based) and what is wrong there.
///
/// It displays as `line N: message`; prefix the file name for `FILE:LINE: message`.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ImportError {
    /// The line of the offending event (for a syntax error, where the broken form starts).
    pub line: usize,
    /// What is wrong, in the input's own syntax.
    pub message: String,
}

impl ImportError {
    /// Every message is built here, so quoted input is escaped once and for all: a control
    /// character in a history cannot split the message or rewrite the reader's terminal.
    pub(crate) fn new(line: usize, message: impl Into<String>) -> Self {
        let message = message.into();
        let message = match printable(&message) {
            std::borrow::Cow::Borrowed(_) => message,
            std::borrow::Cow::Owned(escaped) => escaped,
        };
        ImportError { line, message }
    }
}

impl fmt::Display for ImportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

impl std::error::Error for ImportError {}

/// The formats a history file can be in (for a command line's `--format`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Format {
    /// stateprop's JSON event list: [`json`].
    Json,
    /// Jepsen's etcd log (`INFO  jepsen.util - …` lines): [`etcd`].
    Jepsen,
    /// EDN maps, one per event (Jepsen's `history.edn`, Porcupine's kv logs):
    /// [`jepsen_edn_register`] or [`kv_edn`], depending on the model.
    Edn,
}

impl Format {
    /// Every format, in the order `--help` lists them.
    pub const ALL: [Format; 3] = [Format::Json, Format::Jepsen, Format::Edn];

    /// The name [`FromStr`] reads.
    pub fn name(self) -> &'static str {
        match self {
            Format::Json => "json",
            Format::Jepsen => "jepsen",
            Format::Edn => "edn",
        }
    }

    /// Guesses the format of `text`, read from `path`: by the extension (`.json`, `.edn`,
    /// `.log`), else by the first non-blank characters (`{"` or `[{"` is JSON; `{:`, `[{:`, `#`, `;`
    /// or `(` is EDN; a first line mentioning `jepsen.util` is a Jepsen log). `None` when it
    /// cannot tell.
    pub fn guess(path: impl AsRef<Path>, text: &str) -> Option<Format> {
        let extension = path
            .as_ref()
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase);
        match extension.as_deref() {
            Some("json") => return Some(Format::Json),
            Some("edn") => return Some(Format::Edn),
            Some("log") => return Some(Format::Jepsen),
            _ => {}
        }
        let mut rest =
            text::strip_bom(text).trim_start_matches(|c: char| c.is_whitespace() || c == ',');
        // Look inside a list of events: what matters is how the first event starts.
        while let Some(inner) = rest.strip_prefix('[') {
            rest = inner.trim_start_matches(|c: char| c.is_whitespace() || c == ',');
        }
        if let Some(inner) = rest.strip_prefix('{') {
            let inner = inner.trim_start_matches(|c: char| c.is_whitespace() || c == ',');
            return match inner.chars().next() {
                Some('"') => Some(Format::Json),
                Some(':') => Some(Format::Edn),
                _ => None,
            };
        }
        match rest.chars().next() {
            Some('#' | ';' | '(') => Some(Format::Edn),
            Some(']') => Some(Format::Json),
            Some(_)
                if rest
                    .lines()
                    .next()
                    .is_some_and(|l| l.contains("jepsen.util")) =>
            {
                Some(Format::Jepsen)
            }
            _ => None,
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A format name [`Format::from_str`] does not know.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnknownFormat(pub String);

impl fmt::Display for UnknownFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unknown history format `{}` (expected json, jepsen or edn)",
            self.0
        )
    }
}

impl std::error::Error for UnknownFormat {}

impl FromStr for Format {
    type Err = UnknownFormat;

    /// `json`, `jepsen` or `edn`, in any case.
    fn from_str(s: &str) -> Result<Format, UnknownFormat> {
        Format::ALL
            .into_iter()
            .find(|f| f.name().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| UnknownFormat(s.to_string()))
    }
}
