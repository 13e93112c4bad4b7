//! Durations and sizes as people type them, parsed the same way everywhere: in the `STATEPROP_*`
//! environment variables ([`Config::with_env`](crate::Config::with_env)) and on the `stateprop`
//! command line (`--timeout`, `--minimize-time`, `--max-memory`).
//!
//! # Durations
//! A non-negative number, whole or decimal (`10`, `1.5`, `.25`), then at once an optional unit:
//! `ms`, `s` (the default: a bare number is seconds), `m` or `min`, `h`. Units are lower case;
//! spaces around the whole text are ignored, a space between number and unit is not allowed.
//! No exponents (`1e9`), no `inf` or `NaN`. The longest duration is [`MAX_DURATION`], 10^10 s
//! (about 317 years): anything longer is surely a typo, and is refused with
//! [`Problem::TooLong`] — a caller to whom a longer value has a meaning (the command's
//! `--timeout`, where it means "no deadline") matches on that problem.
//!
//! # Sizes
//! A whole non-negative number, then at once an optional unit, in any case: `B` (the default),
//! `K`/`KB`/`KiB`, `M`/`MB`/`MiB`, `G`/`GB`/`GiB`, `T`/`TB`/`TiB`. Every unit is a power of 1024
//! (`1KB` is 1024 bytes): memory caps are compared with what the allocator hands out, which comes
//! in powers of two. Fractions (`1.5GiB`) are refused; write `1536MiB`. The largest size is
//! `u64::MAX` bytes.
//!
//! ```
//! use stateprop::units::{parse_bytes, parse_duration, Problem};
//! use std::time::Duration;
//!
//! assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
//! assert_eq!(parse_duration("90"), Ok(Duration::from_secs(90)));
//! assert_eq!(parse_bytes("2GiB"), Ok(2 << 30));
//! let e = parse_duration("1e9s").unwrap_err();
//! assert_eq!(e.problem, Problem::UnknownUnit("e9s".to_string()));
//! assert_eq!(e.to_string(), "unknown unit `e9s`; expected a duration such as 500ms, 10s, 2m or 1h");
//! ```

use crate::import::printable;
use std::fmt;
use std::time::Duration;

/// The longest duration [`parse_duration`] accepts: 10^10 seconds, about 317 years.
pub const MAX_DURATION: Duration = Duration::from_secs(10_000_000_000);

/// What was being parsed, for the message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Quantity {
    /// [`parse_duration`].
    Duration,
    /// [`parse_bytes`].
    Size,
}

/// Why a text is not a duration or a size.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Problem {
    /// It starts with `-`.
    Negative,
    /// No digit before the unit (empty, a unit alone, `inf`, full-width digits).
    NoNumber,
    /// Digits and dots that make no number (`1.2.3`, `.`).
    NotANumber,
    /// A fraction where a whole number is needed (sizes).
    NotWhole,
    /// The text after the number, as typed.
    UnknownUnit(String),
    /// A duration longer than [`MAX_DURATION`].
    TooLong,
    /// A size of more than `u64::MAX` bytes.
    TooLarge,
}

/// A text that [`parse_duration`] or [`parse_bytes`] refused. Its message says why and what was
/// expected; the caller adds where the text came from (the option or the variable).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct UnitError {
    /// Duration or size.
    pub quantity: Quantity,
    /// Why.
    pub problem: Problem,
}

impl fmt::Display for UnitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match self.quantity {
            Quantity::Duration => "duration",
            Quantity::Size => "size",
        };
        match &self.problem {
            Problem::Negative => write!(f, "a {what} cannot be negative")?,
            Problem::NoNumber => f.write_str("no number")?,
            Problem::NotANumber => f.write_str("not a number")?,
            Problem::NotWhole => f.write_str("a whole number is needed (1536MiB, not 1.5GiB)")?,
            Problem::UnknownUnit(unit) => write!(f, "unknown unit `{}`", printable(unit))?,
            Problem::TooLong => f.write_str(
                "longer than the longest duration stateprop takes (10^10 s, about 317 years)",
            )?,
            Problem::TooLarge => write!(f, "more than the {} bytes a u64 holds", u64::MAX)?,
        }
        match self.quantity {
            Quantity::Duration => f.write_str("; expected a duration such as 500ms, 10s, 2m or 1h"),
            Quantity::Size => f.write_str("; expected a size such as 512MiB, 2GiB or 1000000"),
        }
    }
}

impl std::error::Error for UnitError {}

/// Splits `text` (trimmed) into its leading number and the rest, refusing what has no number.
fn split(
    text: &str,
    quantity: Quantity,
    number_char: fn(char) -> bool,
) -> Result<(&str, &str), UnitError> {
    let fail = |problem| UnitError { quantity, problem };
    let text = text.trim();
    let at = text.find(|c| !number_char(c)).unwrap_or(text.len());
    let (number, unit) = text.split_at(at);
    if number.is_empty() {
        return Err(fail(match text.starts_with('-') {
            true => Problem::Negative,
            false => Problem::NoNumber,
        }));
    }
    Ok((number, unit))
}

/// A duration such as `500ms`, `30s`, `2m`, `1h` or `1.5` (seconds); see the
/// [module docs](self) for the grammar and limits.
pub fn parse_duration(text: &str) -> Result<Duration, UnitError> {
    let fail = |problem| UnitError {
        quantity: Quantity::Duration,
        problem,
    };
    let (number, unit) = split(text, Quantity::Duration, |c| c.is_ascii_digit() || c == '.')?;
    // Digits and dots only, so the one failure left is a number with two dots or none at all.
    let n: f64 = number.parse().map_err(|_| fail(Problem::NotANumber))?;
    let scale = match unit {
        "ms" => 0.001,
        "" | "s" => 1.0,
        "m" | "min" => 60.0,
        "h" => 3600.0,
        _ => return Err(fail(Problem::UnknownUnit(unit.to_string()))),
    };
    // Thousands of digits parse to infinity, which is beyond the limit as well.
    let seconds = n * scale;
    if seconds > MAX_DURATION.as_secs_f64() {
        return Err(fail(Problem::TooLong));
    }
    // Finite and at most 10^10: the conversion cannot fail, but a message beats a panic.
    Duration::try_from_secs_f64(seconds).map_err(|_| fail(Problem::TooLong))
}

/// A size in bytes such as `512MiB`, `2g` or `1000000`; see the [module docs](self) for the
/// grammar and limits. Zero is a size; a caller for whom it is not (a memory cap) refuses it.
pub fn parse_bytes(text: &str) -> Result<u64, UnitError> {
    let fail = |problem| UnitError {
        quantity: Quantity::Size,
        problem,
    };
    let (number, unit) = split(text, Quantity::Size, |c| c.is_ascii_digit())?;
    // Only digits, so the one way to fail is overflow.
    let n: u64 = number.parse().map_err(|_| fail(Problem::TooLarge))?;
    let scale: u64 = match unit.to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" | "kib" => 1 << 10,
        "m" | "mb" | "mib" => 1 << 20,
        "g" | "gb" | "gib" => 1 << 30,
        "t" | "tb" | "tib" => 1 << 40,
        u if u.starts_with('.') => return Err(fail(Problem::NotWhole)),
        _ => return Err(fail(Problem::UnknownUnit(unit.to_string()))),
    };
    n.checked_mul(scale).ok_or(fail(Problem::TooLarge))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn duration_problem(text: &str) -> Problem {
        parse_duration(text).expect_err(text).problem
    }

    fn size_problem(text: &str) -> Problem {
        parse_bytes(text).expect_err(text).problem
    }

    #[test]
    fn durations_in_every_unit() {
        for (text, expected) in [
            ("500ms", Duration::from_millis(500)),
            ("30s", Duration::from_secs(30)),
            ("30", Duration::from_secs(30)),
            ("1.5", Duration::from_millis(1500)),
            (".25s", Duration::from_millis(250)),
            ("2m", Duration::from_secs(120)),
            ("2min", Duration::from_secs(120)),
            ("1h", Duration::from_secs(3600)),
            (" 10s\n", Duration::from_secs(10)),
            ("0", Duration::ZERO),
            ("10000000000s", MAX_DURATION),
        ] {
            assert_eq!(parse_duration(text), Ok(expected), "{text:?}");
        }
    }

    #[test]
    fn durations_refused_say_why() {
        assert_eq!(duration_problem("-1s"), Problem::Negative);
        for text in ["", "s", "inf", "NaN", "１０s", "+1s"] {
            assert_eq!(duration_problem(text), Problem::NoNumber, "{text:?}");
        }
        for text in ["1.2.3s", "."] {
            assert_eq!(duration_problem(text), Problem::NotANumber, "{text:?}");
        }
        for (text, unit) in [("10 s", " s"), ("5d", "d"), ("1e9s", "e9s"), ("1S", "S")] {
            assert_eq!(
                duration_problem(text),
                Problem::UnknownUnit(unit.into()),
                "{text:?}"
            );
        }
        for text in [
            "10000000001",
            "2778000h",
            "99999999999999999999999s",
            &"9".repeat(400),
        ] {
            assert_eq!(duration_problem(text), Problem::TooLong, "{text:?}");
        }
    }

    #[test]
    fn sizes_in_every_unit() {
        for (text, expected) in [
            ("0", 0),
            ("1000000", 1_000_000),
            ("7B", 7),
            ("300000k", 300_000 << 10),
            ("512MiB", 512 << 20),
            ("2gib", 2 << 30),
            ("2GB", 2 << 30),
            ("16777215TiB", 16_777_215 << 40),
            ("18446744073709551615", u64::MAX),
        ] {
            assert_eq!(parse_bytes(text), Ok(expected), "{text:?}");
        }
    }

    #[test]
    fn sizes_refused_say_why() {
        assert_eq!(size_problem("-1GiB"), Problem::Negative);
        for text in ["", "GiB", "２GiB"] {
            assert_eq!(size_problem(text), Problem::NoNumber, "{text:?}");
        }
        assert_eq!(size_problem("1.5GiB"), Problem::NotWhole);
        assert_eq!(size_problem("2PiB"), Problem::UnknownUnit("PiB".into()));
        assert_eq!(size_problem("2 GiB"), Problem::UnknownUnit(" GiB".into()));
        for text in ["18446744073709551616", "17179869184GiB", "16777216TiB"] {
            assert_eq!(size_problem(text), Problem::TooLarge, "{text:?}");
        }
    }

    #[test]
    fn messages_escape_what_they_quote() {
        let e = parse_duration("1\u{1b}[2J").unwrap_err();
        assert_eq!(
            e.to_string(),
            "unknown unit `\\u{1b}[2J`; expected a duration such as 500ms, 10s, 2m or 1h"
        );
        let e = parse_bytes("-3").unwrap_err();
        assert_eq!(
            e.to_string(),
            "a size cannot be negative; expected a size such as 512MiB, 2GiB or 1000000"
        );
    }
}
