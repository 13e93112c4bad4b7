//! The full form of a stress run as one command: an example's `main` reads a plan file and the
//! command line's overrides, hands the plan to the user's function that builds and runs the
//! stress run, and turns the result into an exit code. A test runs the same function on the
//! same file, shortened ([`StressPlan::with_operations`]), so the plan exists once.

use super::plan::{PlanError, StressPlan};
use super::progress::ProgressMode;
use super::result::StressResult;
use std::ffi::OsString;
use std::path::PathBuf;
use std::process::ExitCode;

/// The exit code of a run that passed.
pub const EXIT_PASS: u8 = 0;
/// The exit code of a run that failed: a mismatch, a broken limit, an undecided round.
pub const EXIT_FAIL: u8 = 1;
/// The exit code of bad arguments or a plan that cannot run.
pub const EXIT_USAGE: u8 = 2;

const USAGE: &str = "\
stateprop: usage: PROGRAM PLAN_FILE [OPTIONS]
stateprop:   (with cargo: cargo run --release --example NAME -- PLAN_FILE [OPTIONS])
stateprop: runs the stress plan in PLAN_FILE (JSON, or TOML when it ends in .toml); the options
stateprop: override the plan's values and are checked as the file's are
stateprop:   --operations N    run N operations (replaces the plan's length: its operations and
stateprop:                     duration_secs, unless --duration is given too)
stateprop:   --duration SECS   run for SECS seconds of wall-clock time (replaces the plan's
stateprop:                     length, unless --operations is given too)
stateprop:   --seed N          the seed of the operation stream (wins over STATEPROP_SEED)
stateprop:   --threads N       threads driving the system (more than 1: a concurrent run)
stateprop:   --result PATH     write the result as JSON to PATH (wins over
stateprop:                     STATEPROP_STRESS_RESULT)
stateprop:   --quiet           no progress bar or lines (the result is still printed)
stateprop:   --help, -h        this text
stateprop: exit status: 0 passed, 1 failed (a mismatch, a broken limit or an undecided round),
stateprop: 2 bad arguments or a plan that cannot run
";

/// How [`main_with`] ended: the exit code, what to print, and the plan and result when it got
/// that far.
#[derive(Clone, Debug)]
#[non_exhaustive]
#[must_use = "`report()` prints the message and gives the exit code"]
pub struct MainExit {
    /// [`EXIT_PASS`], [`EXIT_FAIL`] or [`EXIT_USAGE`].
    pub code: u8,
    /// Lines for the user, each starting with `stateprop:`: the usage for `--help` (standard
    /// output), or why the arguments or the plan were refused (standard error). `None` after a
    /// run, which prints its own result.
    pub message: Option<String>,
    /// The plan handed to the function, overrides applied.
    pub plan: Option<StressPlan>,
    /// What the function's run returned.
    pub result: Option<StressResult>,
}

impl MainExit {
    fn usage_error(message: String) -> Self {
        MainExit {
            code: EXIT_USAGE,
            message: Some(message),
            plan: None,
            result: None,
        }
    }

    /// Prints the message (the usage to standard output, anything else to standard error) and
    /// returns the exit code for `main`.
    pub fn report(&self) -> ExitCode {
        if let Some(m) = &self.message {
            let m = m.trim_end_matches('\n');
            if self.code == EXIT_PASS {
                println!("{m}");
            } else {
                eprintln!("{m}");
            }
        }
        ExitCode::from(self.code)
    }
}

/// The `main` of a stress example: reads the plan file and overrides from the process's
/// arguments (see [`main_with`]), runs `run` on the plan and returns the exit code: 0 passed,
/// 1 failed (a mismatch, a broken limit, an undecided round; the run printed why, unless the
/// function built it [`quiet`](super::Stress::quiet): leave that to `--quiet`), 2 bad
/// arguments or a plan that cannot run (a `stateprop:` line naming the file, the line and the
/// problem, or the flag).
///
/// ```no_run
/// # use stateprop::stress::{Stress, StressPlan, StressResult, PlanError};
/// # fn store_run(plan: StressPlan) -> Result<StressResult, PlanError> { unimplemented!() }
/// // `store_run` reads `plan.param_or(..)` to build its model and returns
/// // `Stress::with_initial(plan, model).run(factory)`; run the example with
/// // `cargo run --release --example stress_store -- examples/stress_store.plan.toml`
/// fn main() -> std::process::ExitCode {
///     stateprop::stress::main(store_run)
/// }
/// ```
pub fn main<F>(run: F) -> ExitCode
where
    F: FnOnce(StressPlan) -> Result<StressResult, PlanError>,
{
    main_with(std::env::args_os().skip(1), run).report()
}

/// [`main`] on the arguments `args` (without the program's name), printing nothing itself:
/// the returned [`MainExit`] holds the exit code and the message, so a test can check them.
///
/// The arguments are one plan file and the overrides `--operations N`, `--duration SECS`,
/// `--seed N`, `--threads N`, `--result PATH`, `--quiet` (a flag's value after a space or an
/// `=`), or `--help`. An override changes the plan read from the file, and the plan it makes
/// is checked as a file's is: `--threads 0` is refused as `"threads": 0` would be, naming the
/// flag instead of a line. A plan error that the run itself returns (a mix naming a rule the
/// machine lacks, `threads` above 1 for a sequential system) names the flag when an override
/// set the value, the file's line otherwise.
pub fn main_with<I, A, F>(args: I, run: F) -> MainExit
where
    I: IntoIterator<Item = A>,
    A: Into<OsString>,
    F: FnOnce(StressPlan) -> Result<StressResult, PlanError>,
{
    let args = match Args::parse(args.into_iter().map(Into::into)) {
        Ok(Parsed::Help) => {
            return MainExit {
                code: EXIT_PASS,
                message: Some(USAGE.to_string()),
                plan: None,
                result: None,
            }
        }
        Ok(Parsed::Run(args)) => args,
        Err(message) => return MainExit::usage_error(message),
    };
    let plan = match StressPlan::from_file(&args.plan_file) {
        Ok(plan) => plan,
        Err(e) => return MainExit::usage_error(e.to_string()),
    };
    let plan = args.apply(plan);
    if let Err(e) = plan.check_without_source() {
        return MainExit::usage_error(args.blame(&e));
    }
    match run(plan.clone()) {
        Ok(result) => MainExit {
            // `passed`, not the verdict: a run whose result could not be written did not pass.
            code: if result.passed() {
                EXIT_PASS
            } else {
                EXIT_FAIL
            },
            message: None,
            plan: Some(plan),
            result: Some(result),
        },
        Err(e) => MainExit {
            plan: Some(plan),
            ..MainExit::usage_error(args.blame(&e))
        },
    }
}

/// What the arguments ask for.
enum Parsed {
    Help,
    Run(Args),
}

/// A plan file and the overrides of the command line, each kept with the text it was given
/// as, to name it in an error.
#[derive(Default)]
struct Args {
    plan_file: PathBuf,
    operations: Option<(u64, String)>,
    duration: Option<(f64, String)>,
    seed: Option<(u64, String)>,
    threads: Option<(u32, String)>,
    result: Option<PathBuf>,
    quiet: bool,
}

/// The flags that take a value.
const VALUED: [&str; 5] = [
    "--operations",
    "--duration",
    "--seed",
    "--threads",
    "--result",
];

impl Args {
    fn parse(args: impl Iterator<Item = OsString>) -> Result<Parsed, String> {
        let args: Vec<OsString> = args.collect();
        // Help wherever it is asked for, even beside a mistake: the usage shows the fix.
        if args.iter().any(|a| a == "--help" || a == "-h") {
            return Ok(Parsed::Help);
        }
        let mut out = Args::default();
        let mut plan_file: Option<PathBuf> = None;
        let mut seen: Vec<String> = Vec::new();
        let mut args = args.into_iter();
        while let Some(arg) = args.next() {
            let Some(text) = arg.to_str().filter(|t| t.starts_with('-')) else {
                if let Some(first) = &plan_file {
                    return Err(format!(
                        "stateprop: one plan file, please: given `{}` and `{}` (see --help)",
                        first.display(),
                        PathBuf::from(arg).display()
                    ));
                }
                plan_file = Some(PathBuf::from(arg));
                continue;
            };
            let (flag, inline) = match text.split_once('=') {
                Some((flag, value)) if flag.starts_with("--") => (flag, Some(value.to_string())),
                _ => (text, None),
            };
            match flag {
                "--quiet" if inline.is_none() => {
                    out.quiet = true;
                    continue;
                }
                "--quiet" => {
                    return Err("stateprop: --quiet takes no value".to_string());
                }
                f if VALUED.contains(&f) => {}
                _ => {
                    return Err(format!(
                        "stateprop: unknown flag `{text}` (the flags: --operations, --duration, \
                         --seed, --threads, --result, --quiet, --help)"
                    ))
                }
            }
            if seen.iter().any(|s| s == flag) {
                return Err(format!("stateprop: {flag} is given twice"));
            }
            seen.push(flag.to_string());
            let value: OsString = match inline {
                Some(v) => v.into(),
                None => args
                    .next()
                    .ok_or_else(|| format!("stateprop: {flag} needs a value (see --help)"))?,
            };
            // `--result --quiet` would write a file named `--quiet` and run loud: a value that
            // reads as a flag is a forgotten value (a path that starts so is `./--name`).
            if let Some(v) = value.to_str().filter(|v| v.starts_with("--")) {
                return Err(format!(
                    "stateprop: {flag} needs a value, not the flag `{v}` (see --help)"
                ));
            }
            if flag == "--result" {
                out.result = Some(PathBuf::from(value));
                continue;
            }
            let value = value.to_string_lossy().into_owned();
            match flag {
                "--operations" => out.operations = Some((whole(flag, &value)?, value)),
                "--seed" => out.seed = Some((whole(flag, &value)?, value)),
                "--threads" => {
                    let n = whole(flag, &value)?;
                    let n = u32::try_from(n).map_err(|_| {
                        format!("stateprop: --threads {value}: at most {} threads", u32::MAX)
                    })?;
                    out.threads = Some((n, value));
                }
                _ => {
                    let secs = value.trim().parse::<f64>().map_err(|_| {
                        format!("stateprop: --duration {value}: not a number of seconds")
                    })?;
                    out.duration = Some((secs, value));
                }
            }
        }
        out.plan_file =
            plan_file.ok_or_else(|| "stateprop: no plan file given (see --help)".to_string())?;
        Ok(Parsed::Run(out))
    }

    /// The plan with the overrides applied.
    fn apply(&self, mut plan: StressPlan) -> StressPlan {
        // A length on the command line is the run's length: a plan bounded by time asked for
        // 10 million operations must not stop at its old duration first.
        if self.operations.is_some() || self.duration.is_some() {
            plan.operations = self.operations.as_ref().map(|(n, _)| *n);
            plan.duration_secs = None;
            if let Some((secs, _)) = &self.duration {
                // Kept as given (not through `Duration`, which panics on a negative or huge
                // number) so the plan's check refuses it by name.
                plan.duration_secs = Some(*secs);
            }
        }
        if let Some((seed, _)) = &self.seed {
            plan = plan.seed(*seed);
            plan.pinned.seed = true;
        }
        if let Some((n, _)) = &self.threads {
            plan = plan.threads(*n);
        }
        if let Some(path) = &self.result {
            plan = plan.result_path(path.clone());
            plan.pinned.result = true;
        }
        if self.quiet {
            plan = plan.progress(ProgressMode::Quiet);
        }
        plan
    }

    /// The error as the user reads it: naming the flag when an override set the value the
    /// error is about (the file's line would point at the value the flag replaced).
    fn blame(&self, e: &PlanError) -> String {
        let given = [
            (
                "operations",
                "--operations",
                self.operations.as_ref().map(|o| &o.1),
            ),
            (
                "duration_secs",
                "--duration",
                self.duration.as_ref().map(|d| &d.1),
            ),
            ("threads", "--threads", self.threads.as_ref().map(|t| &t.1)),
            ("seed", "--seed", self.seed.as_ref().map(|s| &s.1)),
        ];
        for (field, flag, value) in given {
            if let Some(value) = value {
                if e.message.contains(&format!("`{field}`")) {
                    return format!("stateprop: {flag} {value}: {}", e.message);
                }
            }
        }
        e.to_string()
    }
}

/// `value` as a whole number for `flag`; `_` may group digits (`10_000_000`).
fn whole(flag: &str, value: &str) -> Result<u64, String> {
    let digits: String = value.trim().chars().filter(|&c| c != '_').collect();
    digits
        .parse::<u64>()
        .map_err(|_| format!("stateprop: {flag} {value}: not a whole number of 0 or more"))
}
