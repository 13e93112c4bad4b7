//! `stateprop`: check histories recorded anywhere for linearizability, and draw them.
//!
//! ```text
//! stateprop check --model <name> [--format json|jepsen|edn] [--initial V] [--explain] [--json]
//!                 [--timeout 10s] [--max-memory 2GiB] [--context 10] [--minimize-time 10s]
//!                 [--violations N] FILE...
//! stateprop render --model <name> [--format F] [--initial V] [--max-ops 5000] FILE -o history.html
//! ```
//! Exit status: 0 when every file is linearizable, 1 when any is not, 2 when any is unknown,
//! malformed or unreadable (and no file is non-linearizable), or on a usage error.
//!
//! Verdicts (and `--json` objects) go to stdout; errors and warnings go to stderr, one line each,
//! starting with `stateprop:`, with any input they quote escaped (`\u{1b}`). No argument and no
//! file, however absurd, makes it panic: a value out of range is refused with a message, except a
//! timeout longer than a century, which means no deadline.

use serde_json::json;
use stateprop::check::explain::{describe_minimal, explain_violation, ExplainOptions, OpView};
use stateprop::check::violations::{relax, violations, End};
use stateprop::check::{check_linearizable_by, CheckConfig, MinimizeOptions, Report, Verdict};
use stateprop::history::import::{self, printable, Format, ImportError};
use stateprop::history::History;
use stateprop::models::{CasRegister, Counter, KvModel, QueueModel, RegisterOp, SetModel};
use stateprop::Model;
use std::ffi::{OsStr, OsString};
use std::fmt::Display;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

const USAGE: &str = "\
usage: stateprop check --model <name> [--format json|jepsen|edn] [--initial V] [--explain] [--json]
                       [--timeout 10s] [--max-memory 2GiB] [--context 10] [--minimize-time 10s]
                       [--violations N] FILE...
       stateprop render --model <name> [--format json|jepsen|edn] [--initial V] [--max-ops 5000]
                        FILE -o OUT.html
       stateprop --version
models: register, cas-register, kv, counter, set, queue
formats: json (stateprop's event list), jepsen (Jepsen etcd logs), edn (Jepsen history.edn for
         the register models, Porcupine's kv logs for kv); guessed from the file when omitted
--explain: the operation that cannot be placed, the last --context operations placed before it,
         those running at the same time, and the smallest non-linearizable sub-history found
         within --minimize-time (0 skips it); operations are cited as FILE:LINE
--violations N: go on after a violation, giving the blamed operation the benefit of the doubt,
         and report up to N independent violations
--max-ops N: render draws at most N operations (default 5000), around the violation if any,
         and says what it left out
--timeout: a number and ms, s (the default), m or h; over a century means no deadline
--max-memory: a whole number and B (the default), KiB, MiB, GiB or TiB (K, KB, M, ... too);
              by default half of physical memory, at most 4GiB (see docs/checker-bounds.md)
exit status: 0 all linearizable, 1 some not, 2 unknown, bad input or usage";

fn main() -> ExitCode {
    // `args_os`: `args` panics on an argument that is not UTF-8, and file names need not be.
    let args: Vec<OsString> = std::env::args_os().skip(1).collect();
    match Options::parse(&args) {
        Ok(options) => match options.command {
            Command::Check => check(&options),
            Command::Render => render(&options),
            Command::Help => {
                say(USAGE);
                ExitCode::SUCCESS
            }
            Command::Version => {
                say(format_args!("stateprop {}", env!("CARGO_PKG_VERSION")));
                ExitCode::SUCCESS
            }
        },
        Err(message) => {
            complain(message);
            eprintln!("{USAGE}");
            ExitCode::from(2)
        }
    }
}

/// Prints one line to stdout. `println!` panics when stdout is gone (`stateprop check … | head
/// -1`); here that ends the run with status 2 and a message instead.
fn say(line: impl Display) {
    if let Err(e) = writeln!(std::io::stdout().lock(), "{line}") {
        complain(format_args!("cannot write to standard output: {e}"));
        std::process::exit(2);
    }
}

/// Prints an error or a warning to stderr, on one line: whatever input it quotes is escaped.
fn complain(message: impl Display) {
    eprintln!("stateprop: {}", printable(&message.to_string()));
}

/// How a file name or an argument reads in a message.
fn shown(text: &OsStr) -> String {
    printable(&text.to_string_lossy()).into_owned()
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Command {
    Check,
    Render,
    Help,
    Version,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum ModelName {
    Register,
    CasRegister,
    Kv,
    Counter,
    Set,
    Queue,
}

struct Options {
    command: Command,
    model: ModelName,
    format: Option<Format>,
    initial: Option<i64>,
    explain: bool,
    json: bool,
    config: CheckConfig,
    /// Operations shown around a violation.
    context: usize,
    /// Time to look for the smallest violating sub-history.
    minimize_time: Duration,
    /// Violations to report at most.
    violations: usize,
    /// Operations `render` draws at most.
    max_ops: usize,
    files: Vec<PathBuf>,
    output: Option<PathBuf>,
}

impl Options {
    fn parse(args: &[OsString]) -> Result<Options, String> {
        let command = match args.first().map(|a| a.to_str()) {
            Some(Some("check")) => Command::Check,
            Some(Some("render")) => Command::Render,
            Some(Some("-h" | "--help" | "help")) => Command::Help,
            Some(Some("-V" | "--version" | "version")) => Command::Version,
            Some(_) => return Err(format!("unknown command `{}`", shown(&args[0]))),
            None => return Err("no command given".to_string()),
        };
        let mut options = Options {
            command,
            model: ModelName::CasRegister,
            format: None,
            initial: None,
            explain: false,
            json: false,
            // Unbounded searches answer "unknown" before they exhaust the machine;
            // `--max-memory` overrides it.
            config: CheckConfig::default().max_memory(CheckConfig::default_max_memory()),
            context: 10,
            minimize_time: Duration::from_secs(10),
            violations: 1,
            max_ops: 5_000,
            files: Vec::new(),
            output: None,
        };
        let mut model = None;
        let mut rest = args[1..].iter();
        while let Some(raw) = rest.next() {
            let Some(arg) = raw.to_str() else {
                // Only a file name may be other than UTF-8 (a Unix path is bytes).
                if raw.as_encoded_bytes().starts_with(b"-") {
                    return Err(format!("unknown option `{}`", shown(raw)));
                }
                options.files.push(PathBuf::from(raw));
                continue;
            };
            // `--timeout=10s` as well as `--timeout 10s`.
            let (arg, mut inline) = match arg.split_once('=') {
                Some((flag, v)) if flag.starts_with("--") => (flag, Some(OsString::from(v))),
                _ => (arg, None),
            };
            let mut value_os = |name: &str| {
                inline
                    .take()
                    .or_else(|| rest.next().cloned())
                    .ok_or_else(|| format!("{name} needs a value"))
            };
            let mut value = |name: &str| {
                let v = value_os(name)?;
                v.into_string()
                    .map_err(|v| format!("{name} `{}`: not UTF-8 text", shown(&v)))
            };
            match arg {
                "--model" | "-m" => {
                    let v = value("--model")?;
                    model = Some(match v.as_str() {
                        "register" => ModelName::Register,
                        "cas-register" => ModelName::CasRegister,
                        "kv" => ModelName::Kv,
                        "counter" => ModelName::Counter,
                        "set" => ModelName::Set,
                        "queue" => ModelName::Queue,
                        _ => return Err(format!("unknown model `{v}`")),
                    });
                }
                "--format" | "-f" => {
                    let v = value("--format")?;
                    options.format = Some(v.parse().map_err(|e| format!("{e}"))?);
                }
                "--initial" => {
                    let v = value("--initial")?;
                    options.initial = match v.as_str() {
                        "nil" => None,
                        n => Some(n.parse().map_err(|_| {
                            format!(
                                "--initial `{n}`: expected nil or an integer from {} to {}",
                                i64::MIN,
                                i64::MAX
                            )
                        })?),
                    };
                }
                "--explain" => options.explain = true,
                "--context" => {
                    let v = value("--context")?;
                    options.context = parse_count("--context", &v, 0)?;
                }
                "--minimize-time" => {
                    let v = value("--minimize-time")?;
                    options.minimize_time =
                        parse_duration("--minimize-time", &v)?.unwrap_or(NO_DEADLINE_BEYOND);
                }
                "--max-ops" => {
                    let v = value("--max-ops")?;
                    options.max_ops = parse_count("--max-ops", &v, 1)?;
                }
                "--violations" => {
                    let v = value("--violations")?;
                    options.violations = parse_count("--violations", &v, 1)?;
                }
                "--json" => options.json = true,
                "--timeout" => {
                    let v = value("--timeout")?;
                    options.config.timeout = parse_duration("--timeout", &v)?;
                }
                "--max-memory" => {
                    let v = value("--max-memory")?;
                    options.config.max_memory = Some(parse_bytes(&v)?);
                }
                "-o" | "--output" => options.output = Some(PathBuf::from(value_os("-o")?)),
                "-h" | "--help" => options.command = Command::Help,
                "-V" | "--version" => options.command = Command::Version,
                flag if flag.starts_with('-') && flag.len() > 1 => {
                    return Err(format!("unknown option `{}`", shown(raw)))
                }
                _ => options.files.push(PathBuf::from(raw)),
            }
            if inline.is_some() {
                return Err(format!("{arg} takes no value (in `{}`)", shown(raw)));
            }
        }
        if matches!(options.command, Command::Help | Command::Version) {
            return Ok(options);
        }
        options.model = model.ok_or("--model is required")?;
        if options.files.is_empty() {
            return Err("no history file given".to_string());
        }
        if options.command == Command::Render {
            if options.files.len() != 1 {
                return Err("render takes one history file".to_string());
            }
            if options.output.is_none() {
                return Err("render needs -o OUT.html".to_string());
            }
        }
        Ok(options)
    }
}

/// A timeout longer than this means no deadline: nobody waits a century for a verdict, and a
/// deadline that far from now could overflow the clock's arithmetic.
const NO_DEADLINE_BEYOND: Duration = Duration::from_secs(100 * 365 * 24 * 3600);

/// `--timeout` and other durations: `None` is no deadline.
fn parse_duration(name: &str, text: &str) -> Result<Option<Duration>, String> {
    let bad = |why: &str| {
        format!("{name} `{text}`: {why}; expected a duration such as 500ms, 10s, 2m or 1h")
    };
    let split = text
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    if number.is_empty() {
        return Err(bad(match text.starts_with('-') {
            true => "a timeout cannot be negative",
            false => "no number",
        }));
    }
    // Digits and dots only, so the one failure left is a number with two dots or none at all.
    let n: f64 = number.parse().map_err(|_| bad("not a number"))?;
    let scale = match unit {
        "ms" => 0.001,
        "" | "s" => 1.0,
        "m" => 60.0,
        "h" => 3600.0,
        _ => return Err(bad(&format!("unknown unit `{unit}`"))),
    };
    // Thousands of digits parse to infinity, which is beyond the limit as well.
    let seconds = n * scale;
    if seconds > NO_DEADLINE_BEYOND.as_secs_f64() {
        return Ok(None);
    }
    Duration::try_from_secs_f64(seconds)
        .map(Some)
        .map_err(|e| bad(&e.to_string()))
}

/// A count of at least `min` (`--context`, `--violations`, `--max-ops`).
fn parse_count(name: &str, text: &str, min: usize) -> Result<usize, String> {
    match text.parse::<usize>() {
        Ok(n) if n >= min => Ok(n),
        Ok(_) => Err(format!(
            "{name} takes a number of at least {min}, not `{text}`"
        )),
        Err(_) if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) => Err(format!(
            "{name} takes a number of at most {}, not `{text}`",
            usize::MAX
        )),
        Err(_) => Err(format!("{name} takes a number, not `{text}`")),
    }
}

/// `--max-memory`, in bytes.
fn parse_bytes(text: &str) -> Result<u64, String> {
    let bad = |why: &str| {
        format!("--max-memory `{text}`: {why}; expected a size such as 512MiB, 2GiB or 1000000")
    };
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    if number.is_empty() {
        return Err(bad(match text.starts_with('-') {
            true => "a size cannot be negative",
            false => "no number",
        }));
    }
    let too_big = || bad(&format!("more than the {} bytes a u64 holds", u64::MAX));
    // Only digits, so the one way to fail is overflow.
    let n: u64 = number.parse().map_err(|_| too_big())?;
    let scale: u64 = match unit.to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" | "kib" => 1 << 10,
        "m" | "mb" | "mib" => 1 << 20,
        "g" | "gb" | "gib" => 1 << 30,
        "t" | "tb" | "tib" => 1 << 40,
        u if u.starts_with('.') => {
            return Err(bad("a whole number is needed (1536MiB, not 1.5GiB)"))
        }
        _ => return Err(bad(&format!("unknown unit `{unit}`"))),
    };
    match n.checked_mul(scale) {
        None => Err(too_big()),
        Some(0) => Err(bad("a cap of 0 bytes leaves the search no room")),
        Some(bytes) => Ok(bytes),
    }
}

/// One file's result.
enum Outcome {
    Checked {
        report: Box<Report>,
        explanation: Vec<String>,
        /// Per violation found: where it is, its minimal sub-history (JSON).
        details: serde_json::Value,
    },
    /// Unreadable or malformed: the message is `FILE:LINE: ...` or `FILE: ...`.
    Bad(String),
}

fn check(options: &Options) -> ExitCode {
    let (mut any_bad, mut any_unknown, mut any_violation) = (false, false, false);
    for path in &options.files {
        let file = &shown(path.as_os_str());
        let outcome = check_file(options, path, file);
        match &outcome {
            Outcome::Bad(message) => {
                any_bad = true;
                complain(message);
                if options.json {
                    say(json!({ "file": file, "verdict": "error", "error": printable(message) }));
                }
            }
            Outcome::Checked {
                report,
                explanation,
                details,
            } => {
                let (word, reason) = match &report.verdict {
                    Verdict::Holds => ("linearizable", None),
                    Verdict::Violated(_) => {
                        any_violation = true;
                        ("not linearizable", None)
                    }
                    // `Unknown`, and whatever a later version may add: no verdict either way.
                    _ => {
                        any_unknown = true;
                        ("unknown", report.verdict.unknown_reason())
                    }
                };
                if options.json {
                    let violation = match &report.verdict {
                        Verdict::Violated(v) => json!({
                            "partition": v.partition,
                            "linearized": v.linearized,
                            "blocked": v.blocked,
                            "state": v.state,
                            "expected": v.expected,
                            "actual": v.actual,
                            "explanation": explanation,
                            "violations": details,
                        }),
                        _ => serde_json::Value::Null,
                    };
                    say(json!({
                        "file": file,
                        "verdict": word,
                        "reason": reason,
                        "violation": violation,
                        "partitions": report.partitions,
                        "steps": report.steps,
                        "elapsed_ms": report.elapsed.as_secs_f64() * 1000.0,
                    }));
                } else {
                    match reason {
                        Some(reason) => say(format_args!("{file}: {word} ({reason})")),
                        None => say(format_args!("{file}: {word}")),
                    }
                    if options.explain {
                        for line in explanation {
                            say(format_args!("  {line}"));
                        }
                    }
                }
            }
        }
    }
    if any_violation {
        ExitCode::from(1)
    } else if any_bad || any_unknown {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    }
}

/// Reads `path` (called `file` in messages), imports it for the chosen model, and evaluates
/// `$body` with the history bound to `$h`, the initial model to `$init` and the partition
/// function to `$part` (a macro, because each model is a different type). The file's text is
/// dropped once imported, before the check needs its memory.
macro_rules! with_history {
    ($options:expr, $path:expr, $file:expr, |$h:ident, $init:ident, $part:ident| $body:expr) => {{
        let options: &Options = $options;
        let file: &str = $file;
        match read(options, $path, file) {
            Err(message) => Outcome::Bad(message),
            Ok((text, format)) => {
                let located = |e: ImportError| Outcome::Bad(format!("{file}:{}: {}", e.line, e.message));
                let only_json = |name: &str| {
                    Outcome::Bad(format!(
                        "{file}: the {name} model reads only stateprop's JSON histories (--format json)"
                    ))
                };
                match options.model {
                    ModelName::Register | ModelName::CasRegister => {
                        let imported = match (options.model, format) {
                            (ModelName::Register, format) => import::plain_register(format, &text),
                            (_, Format::Jepsen) => import::etcd(&text),
                            (_, Format::Edn) => import::jepsen_edn_register(&text),
                            (_, Format::Json) => import::json(&text),
                        };
                        drop(text);
                        match imported {
                            Err(e) => located(e),
                            Ok($h) => {
                                let $init = CasRegister::new(options.initial);
                                let $part = |_: &RegisterOp| ();
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
                                let $init = KvModel::default();
                                let $part = |op: &stateprop::models::KvOp| op.key().to_string();
                                $body
                            }
                        }
                    }
                    ModelName::Counter | ModelName::Set | ModelName::Queue if format != Format::Json => {
                        only_json(match options.model {
                            ModelName::Counter => "counter",
                            ModelName::Set => "set",
                            _ => "queue",
                        })
                    }
                    ModelName::Counter => match take_json(text) {
                        Err(e) => located(e),
                        Ok($h) => {
                            let $init = Counter::default();
                            let $part = |_: &stateprop::models::CounterOp| ();
                            $body
                        }
                    },
                    ModelName::Set => match take_json(text) {
                        Err(e) => located(e),
                        Ok($h) => {
                            let $init = SetModel::default();
                            let $part = |_: &stateprop::models::SetOp| ();
                            $body
                        }
                    },
                    ModelName::Queue => match take_json(text) {
                        Err(e) => located(e),
                        Ok($h) => {
                            let $init = QueueModel::default();
                            let $part = |_: &stateprop::models::QueueOp| ();
                            $body
                        }
                    },
                }
            }
        }
    }};
}

/// The file's text and format (given, or guessed); `file` names it in messages.
fn read(options: &Options, path: &Path, file: &str) -> Result<(String, Format), String> {
    refuse_devices(path, file)?;
    let bytes = std::fs::read(path).map_err(|e| format!("{file}: cannot read: {e}"))?;
    // `from_utf8` keeps the buffer (no copy of a large file); `decode` explains a failure.
    let text = String::from_utf8(bytes).map_err(|e| match import::decode(e.as_bytes()) {
        Err(e) => format!("{file}:{}: {}", e.line, e.message),
        Ok(_) => format!("{file}: not UTF-8 text"),
    })?;
    let format = match options.format {
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
fn take_json<Op, Out>(text: String) -> Result<History<Op, Out>, ImportError>
where
    Op: serde::de::DeserializeOwned,
    Out: serde::de::DeserializeOwned,
{
    import::json(&text)
}

/// Reads, imports and checks one file with the chosen model.
fn check_file(options: &Options, path: &Path, file: &str) -> Outcome {
    with_history!(options, path, file, |history, initial, partition| {
        let report = check_linearizable_by(&history, &initial, &options.config, partition);
        let (explanation, details) =
            describe(options, file, &history, &initial, &report, &partition);
        Outcome::Checked {
            report: Box::new(report),
            explanation,
            details,
        }
    })
}

/// The violations in words, and in JSON: for each, the window around the operation that cannot
/// be placed ([`explain_violation`]) and, with `--explain`, the smallest sub-history that is not
/// linearizable. Without `--violations`, only the checker's one.
fn describe<M, K, P>(
    options: &Options,
    file: &str,
    history: &History<M::Op, M::Output>,
    initial: &M,
    report: &Report,
    partition: &P,
) -> (Vec<String>, serde_json::Value)
where
    M: Model + std::hash::Hash + Eq,
    K: std::hash::Hash + Eq + std::fmt::Debug,
    P: Fn(&M::Op) -> K,
{
    if !matches!(report.verdict, Verdict::Violated(_)) {
        return (Vec::new(), serde_json::Value::Null);
    }
    let mut minimize = MinimizeOptions::default().time(options.minimize_time);
    minimize.max_memory = options.config.max_memory;
    if !options.explain {
        minimize.time = Duration::ZERO;
    }
    let all = violations(
        history,
        initial,
        partition,
        options.violations,
        &options.config,
        &minimize,
        Some(report),
    );
    let explain_options = ExplainOptions::default()
        .context(options.context)
        .file(file);
    let several = options.violations > 1;
    let mut lines = Vec::new();
    let mut details = Vec::new();
    for (k, found) in all.found.iter().enumerate() {
        // Each violation is explained in the history it was found in: the operations relaxed
        // before it show as unknown outcomes.
        let relaxed;
        let h = if found.relaxed_before.is_empty() {
            history
        } else {
            relaxed = relax::<M>(history, &found.relaxed_before);
            &relaxed
        };
        let view = |i: usize| OpView::new(h, i, Some(file));
        if several {
            lines.push(format!(
                "violation {} of at most {}:",
                k + 1,
                options.violations
            ));
        }
        if let Some(e) =
            explain_violation(h, initial, &found.violation, partition, &explain_options)
        {
            lines.extend(e.to_string().lines().map(str::to_string));
        }
        let mut detail = json!({
            "blocked": found.violation.blocked,
            "location": view(found.violation.blocked).location,
            "relaxed_before": found.relaxed_before,
        });
        if let Some(m) = &found.minimal {
            let text = describe_minimal(
                h,
                m,
                found.culprit.as_ref(),
                found.violation.partition.as_deref(),
                &explain_options,
            );
            lines.extend(text.lines().map(str::to_string));
            if let Some(c) = &found.culprit {
                detail["culprit"] = json!({
                    "op": c.op,
                    "location": view(c.op).location,
                    "resolves": c.resolves,
                });
            }
            detail["minimal"] = json!({
                "ops": m.ops,
                "locations": m.ops.iter().map(|&i| view(i).location).collect::<Vec<_>>(),
                "one_minimal": m.one_minimal,
                "doubted": m.doubted,
                "blamed": m.blamed(),
            });
        }
        if several {
            if let Some(r) = found.relaxed {
                lines.push(format!(
                    "given the benefit of the doubt to look further: {}",
                    view(r).location
                ));
                detail["relaxed"] = json!(r);
            }
        }
        details.push(detail);
    }
    if several {
        lines.push(match &all.end {
            End::Linearizable => format!(
                "no other violation: with {} given the benefit of the doubt, the history is linearizable",
                if all.found.len() == 1 { "that operation".to_string() } else { format!("those {} operations", all.found.len()) }
            ),
            End::Limit => format!("stopped at {} violations (--violations)", all.found.len()),
            End::Unknown(reason) => format!("stopped: the next check could not decide ({reason})"),
            End::Stuck => "stopped: every operation of the last violation was already given the benefit of the doubt".to_string(),
            _ => "stopped".to_string(),
        });
    }
    (lines, serde_json::Value::Array(details))
}

fn render(options: &Options) -> ExitCode {
    let path = &options.files[0];
    let file = &shown(path.as_os_str());
    let Some(out_path) = options.output.as_deref() else {
        complain("render needs -o OUT.html");
        return ExitCode::from(2);
    };
    let out = &shown(out_path.as_os_str());
    let outcome = with_history!(options, path, file, |history, initial, partition| {
        let report = check_linearizable_by(&history, &initial, &options.config, partition);
        let page = stateprop::render::RenderOptions::default().max_ops(options.max_ops);
        match stateprop::render::render_html_with(
            &history, &initial, &report, partition, file, &page,
        ) {
            Err(too_large) => Outcome::Bad(format!("{out}: not written: {too_large}")),
            Ok(html) => match std::fs::write(out_path, html) {
                Ok(()) => Outcome::Checked {
                    report: Box::new(report),
                    explanation: Vec::new(),
                    details: serde_json::Value::Null,
                },
                Err(e) => Outcome::Bad(format!("{out}: cannot write: {e}")),
            },
        }
    });
    match outcome {
        Outcome::Bad(message) => {
            complain(message);
            ExitCode::from(2)
        }
        Outcome::Checked { report, .. } => {
            let word = match report.verdict {
                Verdict::Holds => "linearizable",
                Verdict::Violated(_) => "not linearizable",
                _ => "unknown",
            };
            say(format_args!("{file}: {word}; wrote {out}"));
            ExitCode::SUCCESS
        }
    }
}
