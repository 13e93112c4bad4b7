//! Reading a history file for the chosen model: refusing devices, decoding, guessing the
//! format, importing, and handing the history to the caller's code.

use stateprop::history::History;
use stateprop::import::{self, Format, ImportError};
use std::path::Path;

/// One file's result.
pub enum Outcome {
    Checked {
        report: Box<stateprop::check::Report>,
        explanation: Vec<String>,
        /// Per violation found: where it is, its minimal sub-history (JSON).
        details: serde_json::Value,
    },
    /// Unreadable or malformed: the message is `FILE:LINE: ...` or `FILE: ...`.
    Bad(String),
}

/// Reads `path` (called `file` in messages), imports it for the chosen model, and evaluates
/// `$body` with the history bound to `$h`, the initial model to `$init` and the partition
/// function to `$part` (a macro, because each model is a different type). The file's text is
/// dropped once imported, before the check needs its memory.
macro_rules! with_history {
    ($options:expr, $path:expr, $file:expr, |$h:ident, $init:ident, $part:ident| $body:expr) => {{
        // Paths for the expansion, whatever the caller imported; the body sees them too.
        use $crate::args::ModelName;
        use $crate::load::{read, take_json, Outcome};
        use ::stateprop::import::{self, Format, ImportError};
        use ::stateprop::models;
        let input: &$crate::args::Input = $options;
        let file: &str = $file;
        // `check` requires a model; `render` goes without one only to draw a simulated run's
        // report, which is no history.
        match (input.model, read(input.format(), $path, file)) {
            (_, Err(message)) => Outcome::Bad(message),
            (None, Ok(_)) => Outcome::Bad(format!(
                "{file}: not a simulated run's JSON report, so a history: name its model with --model"
            )),
            (Some(model), Ok((text, format))) => {
                let located = |e: ImportError| Outcome::Bad(format!("{file}:{}: {}", e.line, e.message));
                let only_json = |name: &str| {
                    Outcome::Bad(format!(
                        "{file}: the {name} model reads only stateprop's JSON histories (--format json)"
                    ))
                };
                match model {
                    ModelName::Register | ModelName::CasRegister => {
                        let imported = match (model, format) {
                            (ModelName::Register, format) => import::plain_register(format, &text),
                            (_, Format::Jepsen) => import::etcd(&text),
                            (_, Format::Edn) => import::jepsen_edn_register(&text),
                            (_, Format::Json) => import::json(&text),
                        };
                        drop(text);
                        match imported {
                            Err(e) => located(e),
                            Ok($h) => {
                                let $init = models::CasRegister::new(input.initial.0);
                                let $part = |_: &models::RegisterOp| ();
                                $body
                            }
                        }
                    }
                    ModelName::Kv => {
                        let imported = match format {
                            Format::Edn => import::kv_edn(&text).map_err(located),
                            Format::Json => import::json(&text).map_err(located),
                            Format::Jepsen => Err(Outcome::Bad(format!(
                                "{file}: Jepsen etcd logs hold register operations: use --model cas-register"
                            ))),
                        };
                        drop(text);
                        match imported {
                            Err(outcome) => outcome,
                            Ok($h) => {
                                let $init = models::KvModel::default();
                                let $part = |op: &models::KvOp| op.key().to_string();
                                $body
                            }
                        }
                    }
                    ModelName::Counter | ModelName::Set | ModelName::Queue if format != Format::Json => {
                        only_json(match model {
                            ModelName::Counter => "counter",
                            ModelName::Set => "set",
                            _ => "queue",
                        })
                    }
                    ModelName::Counter => match take_json(text) {
                        Err(e) => located(e),
                        Ok($h) => {
                            let $init = models::Counter::default();
                            let $part = |_: &models::CounterOp| ();
                            $body
                        }
                    },
                    ModelName::Set => match take_json(text) {
                        Err(e) => located(e),
                        Ok($h) => {
                            let $init = models::SetModel::default();
                            let $part = |_: &models::SetOp| ();
                            $body
                        }
                    },
                    ModelName::Queue => match take_json(text) {
                        Err(e) => located(e),
                        Ok($h) => {
                            let $init = models::QueueModel::default();
                            let $part = |_: &models::QueueOp| ();
                            $body
                        }
                    },
                }
            }
        }
    }};
}

/// The file's text and format (given, or guessed); `file` names it in messages.
pub fn read(given: Option<Format>, path: &Path, file: &str) -> Result<(String, Format), String> {
    refuse_devices(path, file)?;
    let bytes = std::fs::read(path).map_err(|e| format!("{file}: cannot read: {e}"))?;
    // `from_utf8` keeps the buffer (no copy of a large file); `decode` explains a failure.
    let text = String::from_utf8(bytes).map_err(|e| match import::decode(e.as_bytes()) {
        Err(e) => format!("{file}:{}: {}", e.line, e.message),
        Ok(_) => format!("{file}: not UTF-8 text"),
    })?;
    let format = match given {
        Some(f) => f,
        None => Format::guess(path, &text).ok_or_else(|| {
            format!("{file}: cannot tell the format; pass --format json, jepsen or edn")
        })?,
    };
    Ok((text, format))
}

/// A device is no history, and some never end (`/dev/zero`, `/dev/urandom`): reading one whole
/// would exhaust memory. Pipes (`<(zcat h.edn.gz)`) are read: they end when the writer does.
#[cfg(unix)]
fn refuse_devices(path: &Path, file: &str) -> Result<(), String> {
    use std::os::unix::fs::FileTypeExt;
    match std::fs::metadata(path) {
        Ok(m) if m.file_type().is_char_device() || m.file_type().is_block_device() => {
            Err(format!("{file}: a device, not a history file"))
        }
        _ => Ok(()),
    }
}

#[cfg(not(unix))]
fn refuse_devices(_: &Path, _: &str) -> Result<(), String> {
    Ok(())
}

/// Imports a JSON history, dropping the text before the check runs.
pub fn take_json<Op, Out>(text: String) -> Result<History<Op, Out>, ImportError>
where
    Op: serde::de::DeserializeOwned,
    Out: serde::de::DeserializeOwned,
{
    import::json(&text)
}
