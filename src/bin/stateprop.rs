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

use serde_json::json;
use stateprop::check::explain::{describe_minimal, explain_violation, ExplainOptions, OpView};
use stateprop::check::violations::{relax, violations, End};
use stateprop::check::{check_linearizable_by, CheckConfig, MinimizeOptions, Report, Verdict};
use stateprop::history::import::{self, Format, ImportError};
use stateprop::history::History;
use stateprop::models::{CasRegister, Counter, KvModel, QueueModel, RegisterOp, SetModel};
use stateprop::Model;
use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

const USAGE: &str = "\
usage: stateprop check --model <name> [--format json|jepsen|edn] [--initial V] [--explain] [--json]
                       [--timeout 10s] [--max-memory 2GiB] [--context 10] [--minimize-time 10s]
                       [--violations N] FILE...
       stateprop render --model <name> [--format json|jepsen|edn] [--initial V] [--max-ops 5000]
                        FILE -o OUT.html
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
exit status: 0 all linearizable, 1 some not, 2 unknown, bad input or usage";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match Options::parse(&args) {
        Ok(options) => match options.command {
            Command::Check => check(&options),
            Command::Render => render(&options),
            Command::Help => {
                println!("{USAGE}");
                ExitCode::SUCCESS
            }
        },
        Err(message) => {
            eprintln!("stateprop: {message}\n{USAGE}");
            ExitCode::from(2)
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Command {
    Check,
    Render,
    Help,
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
    files: Vec<String>,
    output: Option<String>,
}

impl Options {
    fn parse(args: &[String]) -> Result<Options, String> {
        let command = match args.first().map(String::as_str) {
            Some("check") => Command::Check,
            Some("render") => Command::Render,
            Some("-h" | "--help" | "help") => Command::Help,
            Some(other) => return Err(format!("unknown command `{other}`")),
            None => return Err("no command given".to_string()),
        };
        let mut options = Options {
            command,
            model: ModelName::CasRegister,
            format: None,
            initial: None,
            explain: false,
            json: false,
            config: CheckConfig::default(),
            context: 10,
            minimize_time: Duration::from_secs(10),
            violations: 1,
            max_ops: 5_000,
            files: Vec::new(),
            output: None,
        };
        let mut model = None;
        let mut rest = args[1..].iter();
        while let Some(arg) = rest.next() {
            let mut value = |name: &str| {
                rest.next()
                    .cloned()
                    .ok_or_else(|| format!("{name} needs a value"))
            };
            match arg.as_str() {
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
                            format!("--initial takes an integer or nil, not `{n}`")
                        })?),
                    };
                }
                "--explain" => options.explain = true,
                "--context" => {
                    let v = value("--context")?;
                    options.context = v.parse().map_err(|_| {
                        format!("--context takes a number of operations, not `{v}`")
                    })?;
                }
                "--minimize-time" => {
                    let v = value("--minimize-time")?;
                    options.minimize_time = parse_duration(&v)?;
                }
                "--max-ops" => {
                    let v = value("--max-ops")?;
                    options.max_ops = match v.parse::<usize>() {
                        Ok(n) if n > 0 => n,
                        _ => {
                            return Err(format!(
                                "--max-ops takes a number of operations (1 or more), not `{v}`"
                            ))
                        }
                    };
                }
                "--violations" => {
                    let v = value("--violations")?;
                    options.violations = match v.parse::<usize>() {
                        Ok(n) if n > 0 => n,
                        _ => {
                            return Err(format!(
                                "--violations takes a number of violations (1 or more), not `{v}`"
                            ))
                        }
                    };
                }
                "--json" => options.json = true,
                "--timeout" => {
                    let v = value("--timeout")?;
                    options.config = options.config.timeout(parse_duration(&v)?);
                }
                "--max-memory" => {
                    let v = value("--max-memory")?;
                    options.config = options.config.max_memory(parse_bytes(&v)?);
                }
                "-o" | "--output" => options.output = Some(value("-o")?),
                "-h" | "--help" => options.command = Command::Help,
                flag if flag.starts_with('-') && flag.len() > 1 => {
                    return Err(format!("unknown option `{flag}`"))
                }
                file => options.files.push(file.to_string()),
            }
        }
        if options.command == Command::Help {
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

fn parse_duration(text: &str) -> Result<Duration, String> {
    let bad = || format!("`{text}` is not a duration like 500ms, 10s or 2m");
    let split = text
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let n: f64 = number.parse().map_err(|_| bad())?;
    let seconds = match unit {
        "" | "s" => n,
        "ms" => n / 1000.0,
        "m" => n * 60.0,
        "h" => n * 3600.0,
        _ => return Err(bad()),
    };
    Ok(Duration::from_secs_f64(seconds))
}

fn parse_bytes(text: &str) -> Result<u64, String> {
    let bad = || format!("`{text}` is not a size like 512MiB, 2GiB or 1000000");
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let n: u64 = number.parse().map_err(|_| bad())?;
    let scale: u64 = match unit.to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" | "kib" => 1 << 10,
        "m" | "mb" | "mib" => 1 << 20,
        "g" | "gb" | "gib" => 1 << 30,
        _ => return Err(bad()),
    };
    Ok(n * scale)
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
    for file in &options.files {
        let outcome = check_file(options, file);
        match &outcome {
            Outcome::Bad(message) => {
                any_bad = true;
                if options.json {
                    println!(
                        "{}",
                        json!({ "file": file, "verdict": "error", "error": message })
                    );
                } else {
                    println!("{message}");
                }
            }
            Outcome::Checked {
                report,
                explanation,
                details,
            } => {
                let (word, reason) = match &report.verdict {
                    Verdict::Linearizable => ("linearizable", None),
                    Verdict::NotLinearizable(_) => {
                        any_violation = true;
                        ("not linearizable", None)
                    }
                    Verdict::Unknown(reason) => {
                        any_unknown = true;
                        ("unknown", Some(reason.as_str()))
                    }
                };
                if options.json {
                    let violation = match &report.verdict {
                        Verdict::NotLinearizable(v) => json!({
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
                    println!(
                        "{}",
                        json!({
                            "file": file,
                            "verdict": word,
                            "reason": reason,
                            "violation": violation,
                            "partitions": report.partitions,
                            "steps": report.steps,
                            "elapsed_ms": report.elapsed.as_secs_f64() * 1000.0,
                        })
                    );
                } else {
                    match reason {
                        Some(reason) => println!("{file}: {word} ({reason})"),
                        None => println!("{file}: {word}"),
                    }
                    if options.explain {
                        for line in explanation {
                            println!("  {line}");
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

/// Reads `file`, imports it for the chosen model, and evaluates `$body` with the history bound
/// to `$h`, the initial model to `$init` and the partition function to `$part` (a macro, because
/// each model is a different type).
macro_rules! with_history {
    ($options:expr, $file:expr, |$h:ident, $init:ident, $part:ident| $body:expr) => {{
        let options: &Options = $options;
        let file: &str = $file;
        match read(options, file) {
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
                        let imported = match format {
                            Format::Jepsen => import::etcd(&text),
                            Format::Edn => import::jepsen_edn_register(&text),
                            Format::Json => import::json(&text),
                        };
                        match imported {
                            Err(e) => located(e),
                            Ok($h) => {
                                let cas = $h.ops.iter().position(|o| matches!(o.op, RegisterOp::Cas { .. }));
                                match (options.model, cas) {
                                    (ModelName::Register, Some(i)) => Outcome::Bad(format!(
                                        "{file}: operation {i} is a compare-and-set, which a plain register has not: use --model cas-register"
                                    )),
                                    _ => {
                                        let $init = CasRegister::new(options.initial);
                                        let $part = |_: &RegisterOp| ();
                                        $body
                                    }
                                }
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
                    ModelName::Counter => match import::json(&text) {
                        Err(e) => located(e),
                        Ok($h) => {
                            let $init = Counter::default();
                            let $part = |_: &stateprop::models::CounterOp| ();
                            $body
                        }
                    },
                    ModelName::Set => match import::json(&text) {
                        Err(e) => located(e),
                        Ok($h) => {
                            let $init = SetModel::default();
                            let $part = |_: &stateprop::models::SetOp| ();
                            $body
                        }
                    },
                    ModelName::Queue => match import::json(&text) {
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

/// The file's text and format (given, or guessed).
fn read(options: &Options, file: &str) -> Result<(String, Format), String> {
    let bytes = std::fs::read(file).map_err(|e| format!("{file}: cannot read: {e}"))?;
    let text = String::from_utf8(bytes).map_err(|e| {
        let line = 1 + e.as_bytes()[..e.utf8_error().valid_up_to()]
            .iter()
            .filter(|&&b| b == b'\n')
            .count();
        format!("{file}:{line}: not UTF-8 text")
    })?;
    let format = match options.format {
        Some(f) => f,
        None => Format::guess(Path::new(file), &text).ok_or_else(|| {
            format!("{file}: cannot tell the format; pass --format json, jepsen or edn")
        })?,
    };
    Ok((text, format))
}

/// Reads, imports and checks one file with the chosen model.
fn check_file(options: &Options, file: &str) -> Outcome {
    with_history!(options, file, |history, initial, partition| {
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
    if !matches!(report.verdict, Verdict::NotLinearizable(_)) {
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
    let file = &options.files[0];
    let out = options.output.as_deref().expect("checked in parse");
    let outcome = with_history!(options, file, |history, initial, partition| {
        let report = check_linearizable_by(&history, &initial, &options.config, partition);
        let page = stateprop::render::RenderOptions::default().max_ops(options.max_ops);
        match stateprop::render::render_html_with(
            &history, &initial, &report, partition, file, &page,
        ) {
            Err(too_large) => Outcome::Bad(format!("{out}: not written: {too_large}")),
            Ok(html) => match std::fs::write(out, html) {
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
            eprintln!("stateprop: {message}");
            ExitCode::from(2)
        }
        Outcome::Checked { report, .. } => {
            let word = match report.verdict {
                Verdict::Linearizable => "linearizable",
                Verdict::NotLinearizable(_) => "not linearizable",
                Verdict::Unknown(_) => "unknown",
            };
            println!("{file}: {word}; wrote {out}");
            ExitCode::SUCCESS
        }
    }
}
