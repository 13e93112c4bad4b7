//! The command line: subcommands, options and how each value is read.
//!
//! Values are checked here, while clap parses, so a bad one is a usage error (status 2) naming
//! the option; durations and sizes go through [`stateprop::units`], the parser the
//! `STATEPROP_*` variables use.

use clap::{Args, Parser, Subcommand, ValueEnum};
use stateprop::check::CheckConfig;
use stateprop::import::Format;
use stateprop::stress::{MetricKind, Tolerances};
use stateprop::units::{parse_bytes, parse_duration, Problem, MAX_DURATION};
use std::path::PathBuf;
use std::time::Duration;

/// Check histories recorded anywhere for linearizability, and draw them; compare stress runs.
///
/// Exit status: 0 when every file is linearizable, 1 when any is not, 2 when any is unknown,
/// malformed or unreadable (and no file is non-linearizable), or on a usage error. `compare`:
/// 0 without a regression, 1 with one, 2 on a file it cannot read.
#[derive(Parser, Debug)]
#[command(
    name = "stateprop",
    version,
    propagate_version = true,
    // The last of a repeated option wins (`--model kv --model set` is set), as it always did.
    args_override_self = true,
    arg_required_else_help = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Check history files for linearizability
    ///
    /// Each file is linearizable, not linearizable (explained with --explain), or unknown (the
    /// time or memory budget ran out).
    Check(CheckArgs),
    /// Check one history file and draw it as an HTML page
    Render(RenderArgs),
    /// Compare a stress run's result with a previous one and flag regressions beyond noise
    ///
    /// Prints a table per metric (throughput; p50, p99 and max latency per rule; memory growth)
    /// with the change in percent. A metric is flagged when it got worse beyond its tolerance;
    /// a run that passed before and fails now is flagged too. Exit status: 0 without a
    /// regression, 1 with one, 2 when a file cannot be read.
    Compare(CompareArgs),
    /// Print a completion script for a shell
    ///
    /// For example: stateprop completions bash >
    /// ~/.local/share/bash-completion/completions/stateprop
    Completions {
        /// The shell
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the version (as --version does)
    #[command(hide = true)]
    Version,
}

/// What both subcommands read: the model, the file format and the check's budgets.
// No argument group: one would show in the usage line as `<--model <MODEL>|--format ...>`.
#[derive(Args, Debug)]
#[group(skip)]
pub struct Input {
    /// The model the history is checked against (`render` of a simulated run's JSON report
    /// needs none)
    #[arg(short, long, value_enum)]
    pub model: Option<ModelName>,
    /// json: stateprop's event list; jepsen: Jepsen etcd logs; edn: Jepsen history.edn for the
    /// register models, Porcupine's kv logs for kv. Guessed from the file when omitted
    #[arg(short, long, value_enum, ignore_case = true)]
    pub format: Option<FormatName>,
    /// The register's initial value: nil or an integer
    #[arg(long, value_name = "V", default_value = "nil", allow_hyphen_values = true,
          value_parser = initial)]
    pub initial: Initial,
    /// Give up with "unknown" after this long: a number and ms, s (the default), m, min or h;
    /// over 10^10 s means no deadline
    #[arg(long, value_name = "DURATION", allow_hyphen_values = true, value_parser = timeout)]
    pub timeout: Option<Deadline>,
    /// Give up with "unknown" past this much memory: a whole number and B (the default), KiB,
    /// MiB, GiB or TiB (K, KB, M, ... too, all powers of 1024). Default: half of physical
    /// memory, at most 4GiB (see docs/checker-bounds.md)
    #[arg(long, value_name = "SIZE", allow_hyphen_values = true, value_parser = memory_cap)]
    pub max_memory: Option<u64>,
}

impl Input {
    /// The checker's budgets. Unbounded searches answer "unknown" before they exhaust the
    /// machine, so a cap applies even when `--max-memory` is not given.
    pub fn check_config(&self) -> CheckConfig {
        let mut config = CheckConfig::default().max_memory(
            self.max_memory
                .unwrap_or_else(CheckConfig::default_max_memory),
        );
        config.timeout = self.timeout.and_then(|d| d.0);
        config
    }

    /// The format given, if any.
    pub fn format(&self) -> Option<Format> {
        self.format.map(|f| match f {
            FormatName::Json => Format::Json,
            FormatName::Jepsen => Format::Jepsen,
            FormatName::Edn => Format::Edn,
        })
    }
}

#[derive(Args, Debug)]
// Only `render` can go without a model, when it draws a simulated run's report.
#[command(mut_arg("model", |a| a.required(true)))]
pub struct CheckArgs {
    #[command(flatten)]
    pub input: Input,
    /// Explain a violation: the operation that cannot be placed, the last --context operations
    /// placed before it, those running at the same time, and the smallest non-linearizable
    /// sub-history found within --minimize-time; operations are cited as FILE:LINE
    #[arg(long)]
    pub explain: bool,
    /// One JSON object per file on stdout instead of a line of text
    #[arg(long)]
    pub json: bool,
    /// Operations shown before the one that cannot be placed
    #[arg(long, value_name = "N", default_value = "10", value_parser = count(0))]
    pub context: usize,
    /// Time to look for the smallest violating sub-history (0 skips it)
    #[arg(long, value_name = "DURATION", default_value = "10s", allow_hyphen_values = true,
          value_parser = time_limit)]
    pub minimize_time: Duration,
    /// Go on after a violation, giving the blamed operation the benefit of the doubt, and
    /// report up to N independent violations
    #[arg(long, value_name = "N", default_value = "1", value_parser = count(1))]
    pub violations: usize,
    /// History files
    #[arg(value_name = "FILE", required = true)]
    pub files: Vec<PathBuf>,
}

#[derive(Args, Debug)]
pub struct RenderArgs {
    #[command(flatten)]
    pub input: Input,
    /// Draw at most N operations (events, for a simulated run's report), around the violation
    /// if any, and say what was left out
    #[arg(long, value_name = "N", default_value = "5000", value_parser = count(1))]
    pub max_ops: usize,
    /// The HTML page to write
    #[arg(short, long, value_name = "OUT.html")]
    pub output: PathBuf,
    /// The history file
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
}

#[derive(Args, Debug)]
pub struct CompareArgs {
    /// Largest drop of throughput not flagged, in percent (identical runs on a loaded machine
    /// measured up to 26% apart) [default: 25%]
    #[arg(long, value_name = "PERCENT", allow_hyphen_values = true, value_parser = percent)]
    pub throughput_tolerance: Option<f64>,
    /// Largest rise of a rule's median latency not flagged, for rises above --p50-floor
    /// [default: 25%]
    #[arg(long, value_name = "PERCENT", allow_hyphen_values = true, value_parser = percent)]
    pub p50_tolerance: Option<f64>,
    /// Largest rise of a rule's 99th percentile latency not flagged, for rises above
    /// --p99-floor [default: 25%]
    #[arg(long, value_name = "PERCENT", allow_hyphen_values = true, value_parser = percent)]
    pub p99_tolerance: Option<f64>,
    /// Largest rise of a rule's slowest operation not flagged, for rises above --max-floor
    /// [default: 100%]
    #[arg(long, value_name = "PERCENT", allow_hyphen_values = true, value_parser = percent)]
    pub max_tolerance: Option<f64>,
    /// Largest rise of memory growth not flagged, for growth above --growth-floor
    /// [default: 25%]
    #[arg(long, value_name = "PERCENT", allow_hyphen_values = true, value_parser = percent)]
    pub growth_tolerance: Option<f64>,
    /// Memory growth per million operations under which growth is never flagged: a whole
    /// number and B, KiB, MiB, GiB [default: 1MiB]
    #[arg(long, value_name = "SIZE", allow_hyphen_values = true, value_parser = bytes)]
    pub growth_floor: Option<u64>,
    /// Rise of a median latency never flagged (the clock's resolution and the harness's own
    /// cost of timing a call): a number and ns, us, ms or s [default: 100ns]
    #[arg(long, value_name = "TIME", allow_hyphen_values = true, value_parser = nanoseconds)]
    pub p50_floor: Option<f64>,
    /// Rise of a 99th percentile latency never flagged (a fast operation's tail moves with
    /// interrupts and cache misses): a number and ns, us, ms or s [default: 250ns]
    #[arg(long, value_name = "TIME", allow_hyphen_values = true, value_parser = nanoseconds)]
    pub p99_floor: Option<f64>,
    /// Rise of a slowest operation never flagged (it is one sample, moved by one descheduling):
    /// a number and ns, us, ms or s [default: 100ms]
    #[arg(long, value_name = "TIME", allow_hyphen_values = true, value_parser = nanoseconds)]
    pub max_floor: Option<f64>,
    /// The previous run's result (JSON, as a stress run writes it)
    #[arg(value_name = "OLD.json")]
    pub old: PathBuf,
    /// The new run's result
    #[arg(value_name = "NEW.json")]
    pub new: PathBuf,
}

impl CompareArgs {
    /// The library's defaults, with what the options override.
    pub fn tolerances(&self) -> Tolerances {
        let mut t = Tolerances::default();
        for (kind, value) in [
            (MetricKind::Throughput, self.throughput_tolerance),
            (MetricKind::P50, self.p50_tolerance),
            (MetricKind::P99, self.p99_tolerance),
            (MetricKind::Max, self.max_tolerance),
            (MetricKind::Growth, self.growth_tolerance),
        ] {
            if let Some(v) = value {
                t = t.set(kind, v);
            }
        }
        if let Some(floor) = self.growth_floor {
            t = t.growth_floor(floor as f64);
        }
        if let Some(ns) = self.p50_floor {
            t = t.p50_floor_ns(ns);
        }
        if let Some(ns) = self.p99_floor {
            t = t.p99_floor_ns(ns);
        }
        if let Some(ns) = self.max_floor {
            t = t.max_floor_ns(ns);
        }
        t
    }
}

/// A time as nanoseconds: "100ns", "1.5us", "100ms", "2s".
fn nanoseconds(text: &str) -> Result<f64, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| c.is_ascii_alphabetic())
        .ok_or("expected a time with its unit, such as 100ns or 5ms")?;
    let (number, unit) = text.split_at(split);
    let scale = match unit {
        "ns" => 1.0,
        "us" => 1e3,
        "ms" => 1e6,
        "s" => 1e9,
        _ => return Err(format!("unknown unit `{unit}`: give ns, us, ms or s")),
    };
    match number.trim().parse::<f64>() {
        Ok(n) if n.is_finite() && n >= 0.0 && (n * scale).is_finite() => Ok(n * scale),
        _ => Err("expected a time of 0 or more, such as 100ns or 5ms".to_string()),
    }
}

/// A tolerance: "5%" or "5" (percent), as a fraction.
fn percent(text: &str) -> Result<f64, String> {
    let number = text.strip_suffix('%').unwrap_or(text).trim();
    match number.parse::<f64>() {
        Ok(p) if p.is_finite() && p >= 0.0 => Ok(p / 100.0),
        Ok(_) => Err("expected a percentage of at least 0, such as 5%".to_string()),
        Err(_) => Err("expected a percentage, such as 5%".to_string()),
    }
}

fn bytes(text: &str) -> Result<u64, String> {
    parse_bytes(text).map_err(|e| e.to_string())
}

#[derive(Clone, Copy, PartialEq, Eq, Debug, ValueEnum)]
pub enum ModelName {
    Register,
    CasRegister,
    Kv,
    Counter,
    Set,
    Queue,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug, ValueEnum)]
pub enum FormatName {
    Json,
    Jepsen,
    Edn,
}

/// `--initial`: `None` is nil.
#[derive(Clone, Copy, Debug)]
pub struct Initial(pub Option<i64>);

fn initial(text: &str) -> Result<Initial, String> {
    match text {
        "nil" => Ok(Initial(None)),
        n => n.parse().map(|n| Initial(Some(n))).map_err(|_| {
            format!(
                "expected nil or an integer from {} to {}",
                i64::MIN,
                i64::MAX
            )
        }),
    }
}

/// `--timeout`: `None` is no deadline.
#[derive(Clone, Copy, Debug)]
pub struct Deadline(pub Option<Duration>);

/// A timeout longer than the longest duration means no deadline: whoever types a century means
/// "never give up", and nobody waits that long for a verdict anyway.
fn timeout(text: &str) -> Result<Deadline, String> {
    match parse_duration(text) {
        Ok(d) => Ok(Deadline(Some(d))),
        Err(e) if e.problem == Problem::TooLong => Ok(Deadline(None)),
        Err(e) => Err(e.to_string()),
    }
}

/// `--minimize-time`: as a timeout, where the longest duration stands for "no limit".
fn time_limit(text: &str) -> Result<Duration, String> {
    timeout(text).map(|d| d.0.unwrap_or(MAX_DURATION))
}

fn memory_cap(text: &str) -> Result<u64, String> {
    match parse_bytes(text) {
        Ok(0) => Err("a cap of 0 bytes leaves the search no room".to_string()),
        Ok(bytes) => Ok(bytes),
        Err(e) => Err(e.to_string()),
    }
}

/// A count of at least `min` (`--context`, `--violations`, `--max-ops`).
fn count(min: usize) -> impl Fn(&str) -> Result<usize, String> + Clone + Send + Sync + 'static {
    move |text| match text.parse::<usize>() {
        Ok(n) if n >= min => Ok(n),
        Ok(_) => Err(format!("expected a number of at least {min}")),
        Err(_) if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) => {
            Err(format!("expected a number of at most {}", usize::MAX))
        }
        Err(_) => Err("expected a number".to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn timeouts_past_the_longest_duration_mean_no_deadline() {
        assert_eq!(timeout("10000000001").unwrap().0, None);
        assert_eq!(timeout("1h").unwrap().0, Some(Duration::from_secs(3600)));
        assert!(timeout("-1s").is_err());
        assert_eq!(time_limit("99999999999h").unwrap(), MAX_DURATION);
    }

    #[test]
    fn counts_and_caps_refuse_what_means_nothing() {
        assert_eq!(
            count(1)("0").unwrap_err(),
            "expected a number of at least 1"
        );
        assert!(count(0)("99999999999999999999999")
            .unwrap_err()
            .contains("at most"));
        assert_eq!(count(0)("0"), Ok(0));
        assert!(memory_cap("0GiB").unwrap_err().contains("a cap of 0 bytes"));
        assert_eq!(memory_cap("1KiB"), Ok(1024));
    }

    /// The defaults in the help are written out by hand; they must be the library's.
    #[test]
    fn compare_defaults_are_the_librarys_and_its_help_says_them() {
        let Command::Compare(args) = Cli::parse_from(["stateprop", "compare", "a", "b"]).command
        else {
            panic!("not compare")
        };
        let t = args.tolerances();
        assert_eq!(t, Tolerances::default());
        let mut command = Cli::command();
        let help = command
            .find_subcommand_mut("compare")
            .unwrap()
            .render_long_help()
            .to_string();
        for (option, fraction) in [
            ("--throughput-tolerance", t.throughput),
            ("--p50-tolerance", t.p50),
            ("--p99-tolerance", t.p99),
            ("--max-tolerance", t.max),
            ("--growth-tolerance", t.growth),
        ] {
            let from = help.find(option).unwrap();
            let default = format!("[default: {}%]", fraction * 100.0);
            let found = help[from..].find(&default);
            // Before the next option's line.
            let next = help[from..].find("\n      --").unwrap_or(usize::MAX);
            assert!(
                found.is_some_and(|f| f < next),
                "{option}: {default} in {help}"
            );
        }
        assert_eq!(t.growth_floor, 1024.0 * 1024.0);
        assert!(help.contains("[default: 1MiB]"));
        assert_eq!(
            (t.p50_floor_ns, t.p99_floor_ns, t.max_floor_ns),
            (100.0, 250.0, 100e6)
        );
        for default in ["[default: 100ns]", "[default: 250ns]", "[default: 100ms]"] {
            assert!(help.contains(default), "{default}: {help}");
        }
        let Command::Compare(args) = Cli::parse_from([
            "stateprop",
            "compare",
            "--max-tolerance",
            "50",
            "--growth-floor",
            "2MiB",
            "a",
            "b",
        ])
        .command
        else {
            panic!("not compare")
        };
        assert_eq!(
            args.tolerances(),
            Tolerances::default()
                .set(MetricKind::Max, 0.5)
                .growth_floor(2.0 * 1024.0 * 1024.0)
        );
    }

    #[test]
    fn floors_are_times_with_their_unit() {
        assert_eq!(nanoseconds("100ns"), Ok(100.0));
        assert_eq!(nanoseconds("1.5us"), Ok(1500.0));
        assert_eq!(nanoseconds("100ms"), Ok(100e6));
        assert_eq!(nanoseconds(" 2 s"), Ok(2e9));
        assert!(nanoseconds("100").unwrap_err().contains("with its unit"));
        assert!(nanoseconds("5 parsecs")
            .unwrap_err()
            .contains("unknown unit"));
        assert!(nanoseconds("-1ms").is_err() && nanoseconds("infs").is_err());
    }

    #[test]
    fn tolerances_are_percentages_with_or_without_the_sign() {
        assert_eq!(percent("5%"), Ok(0.05));
        assert_eq!(percent("25"), Ok(0.25));
        assert_eq!(percent("0%"), Ok(0.0));
        assert!(percent("-5%").unwrap_err().contains("at least 0"));
        assert!(percent("five")
            .unwrap_err()
            .contains("expected a percentage"));
        assert!(percent("inf").is_err() && percent("NaN").is_err() && percent("%").is_err());
    }
}
