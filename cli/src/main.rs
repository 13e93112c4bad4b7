//! `stateprop`: check histories recorded anywhere for linearizability, and draw them; compare
//! stress runs.
//!
//! ```text
//! stateprop check --model <MODEL> [--format json|jepsen|edn] [--initial V] [--explain] [--json]
//!                 [--timeout 10s] [--max-memory 2GiB] [--context 10] [--minimize-time 10s]
//!                 [--violations N] FILE...
//! stateprop render --model <MODEL> [--format F] [--initial V] [--max-ops 5000] FILE -o OUT.html
//! stateprop render [--max-ops 5000] REPORT.json -o OUT.html   (a simulated run's JSON report)
//! stateprop compare [--throughput-tolerance 10%] [--p50-tolerance 25%] [--p99-tolerance 25%]
//!                   [--max-tolerance 100%] [--growth-tolerance 25%] [--growth-floor 1MiB]
//!                   OLD.json NEW.json
//! stateprop completions bash|zsh|fish|elvish|powershell
//! stateprop help [check|render|compare]    (or --help after any of them)
//! ```
//! Exit status: 0 when every file is linearizable, 1 when any is not, 2 when any is unknown,
//! malformed or unreadable (and no file is non-linearizable), or on a usage error. `compare`:
//! 0 without a regression, 1 with one, 2 when a result file cannot be read or understood.
//!
//! Verdicts (and `--json` objects) go to stdout; errors and warnings go to stderr, each starting
//! with `stateprop:` on one line, with any input they quote escaped (`\u{1b}`). A usage error
//! is clap's message (with `stateprop:` in place of `error:`), then the usage. No argument and
//! no file, however absurd, makes it panic: a value out of range is refused with a message,
//! except a timeout longer than the longest duration (10^10 s), which means no deadline.
//! Durations and sizes are read by [`stateprop::units`], as the `STATEPROP_*` variables are.

mod args;
#[macro_use]
mod load;
mod check;
mod compare;
mod render;

use args::{Cli, Command};
use clap::error::{ContextValue, ErrorKind};
use clap::{CommandFactory, Parser};
use stateprop::import::printable;
use std::ffi::OsStr;
use std::fmt::Display;
use std::io::Write;
use std::process::ExitCode;

fn main() -> ExitCode {
    // clap reads `args_os`: file names need not be UTF-8.
    match Cli::try_parse() {
        Ok(cli) => match cli.command {
            Command::Check(args) => check::check(&args),
            Command::Render(args) => render::render(&args),
            Command::Compare(args) => compare::compare(&args),
            Command::Completions { shell } => {
                let mut script = Vec::new();
                clap_complete::generate(shell, &mut Cli::command(), "stateprop", &mut script);
                say(String::from_utf8_lossy(&script).trim_end());
                ExitCode::SUCCESS
            }
            Command::Version => version(),
        },
        Err(e) => usage_error(e),
    }
}

/// `stateprop --version`, `stateprop check --version` and `stateprop version` say the same
/// (clap would name the subcommand in the second).
fn version() -> ExitCode {
    say(format_args!("stateprop {}", env!("CARGO_PKG_VERSION")));
    ExitCode::SUCCESS
}

/// Help goes to stdout with status 0; anything else is a usage error: clap's message, its first
/// line starting with `stateprop:`, every argument it quotes escaped, and status 2.
fn usage_error(e: clap::Error) -> ExitCode {
    match e.kind() {
        ErrorKind::DisplayHelp => {
            say(e.render().to_string().trim_end());
            return ExitCode::SUCCESS;
        }
        ErrorKind::DisplayVersion => return version(),
        _ => {}
    }
    let mut text = e.render().to_string();
    // Quoted arguments first, whole: one holding a line break would otherwise be cut in two.
    for (_, value) in e.context() {
        let quoted: Vec<&String> = match value {
            ContextValue::String(s) => vec![s],
            ContextValue::Strings(v) => v.iter().collect(),
            _ => Vec::new(),
        };
        for s in quoted {
            let escaped = printable(s);
            if escaped != s.as_str() {
                text = text.replace(s.as_str(), &escaped);
            }
        }
    }
    let text = match text.strip_prefix("error: ") {
        Some(rest) => format!("stateprop: {rest}"),
        // `stateprop` alone: clap prints the help.
        None if e.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            format!("stateprop: no command given\n{text}")
        }
        None => format!("stateprop: {text}"),
    };
    let lines: Vec<_> = text.trim_end().lines().map(printable).collect();
    eprintln!("{}", lines.join("\n"));
    ExitCode::from(2)
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
