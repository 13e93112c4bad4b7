//! How far a stress run has got, shown while it runs: a bar on a terminal, lines in a log
//! (through `tracing` when a subscriber is installed, on standard error when none is), or
//! nothing.
//!
//! [`Progress::tick`] is called once per operation, so it must cost next to nothing: it counts
//! calls and reads the clock only every [`CHECK_EVERY`] of them. Everything slower (formatting,
//! drawing, logging) happens at most once per clock read, and less often still.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde::{Deserialize, Serialize};
use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

/// Calls of [`Progress::tick`] between two reads of the clock. A power of two, so the test is a
/// mask; at a few million operations per second this still reads the clock thousands of times a
/// second, far more often than anything is shown.
pub const CHECK_EVERY: u32 = 1024;

/// How often [`ProgressMode::Lines`] logs a line unless told otherwise.
pub const DEFAULT_LINE_INTERVAL: Duration = Duration::from_secs(5);

/// The bar is redrawn at most this often: a terminal cannot show more, and formatting its text
/// costs an allocation.
const BAR_REFRESH: Duration = Duration::from_millis(100);

/// Where a stress run shows its progress; in a plan file, `"progress": "auto"`, `"bar"`,
/// `"lines"` or `"quiet"`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ProgressMode {
    /// A bar when standard error is a terminal, lines otherwise (a CI log, a file).
    #[default]
    Auto,
    /// A bar on standard error, with the operations done, their rate and the time elapsed.
    /// indicatif draws nothing when standard error is not a terminal.
    Bar,
    /// A line every few seconds (see [`Progress::line_interval`]): a `tracing` info event
    /// (target `stateprop::stress`) when the thread that creates the [`Progress`] has a
    /// `tracing` subscriber, else written to standard error, so a plain `cargo test` or
    /// `cargo run > log` still shows it. Each line starts with `stateprop:`.
    Lines,
    /// Nothing at all.
    Quiet,
}

impl ProgressMode {
    /// The mode [`Auto`](ProgressMode::Auto) stands for here and now.
    pub fn resolve(self) -> ProgressMode {
        match self {
            ProgressMode::Auto if std::io::stderr().is_terminal() => ProgressMode::Bar,
            ProgressMode::Auto => ProgressMode::Lines,
            mode => mode,
        }
    }
}

/// Where [`Progress`] reads the time since the run began: the real clock, or a fake one that a
/// test sets and whose reads it counts.
pub(crate) trait Clock: Send {
    fn elapsed(&mut self) -> Duration;
}

struct RealClock(Instant);

impl Clock for RealClock {
    fn elapsed(&mut self) -> Duration {
        self.0.elapsed()
    }
}

enum Output {
    Quiet,
    Lines {
        every: Duration,
        next: Duration,
        sink: LineSink,
    },
    Bar(ProgressBar),
}

/// Where progress lines go.
enum LineSink {
    /// A `tracing` subscriber is there to take them: it decides their format and destination.
    Tracing,
    /// No subscriber: a `tracing` event would vanish, so lines go to standard error, by
    /// `eprintln!` so that a test harness capturing output captures them too.
    Stderr,
    /// No subscriber, and a writer a test gave.
    Writer(Box<dyn Write + Send>),
}

impl LineSink {
    /// `tracing` when this thread sees a subscriber (global or scoped), standard error
    /// otherwise. `dispatcher::has_been_set` would not do: it stays true once any scoped
    /// subscriber was ever set in the process, after that subscriber is gone.
    fn choose() -> Self {
        let subscribed =
            tracing::dispatcher::get_default(|d| !d.is::<tracing::subscriber::NoSubscriber>());
        if subscribed {
            LineSink::Tracing
        } else {
            LineSink::Stderr
        }
    }

    fn emit(&mut self, text: &str) {
        match self {
            LineSink::Tracing => {
                tracing::info!(target: "stateprop::stress", "stateprop: stress: {text}")
            }
            LineSink::Stderr => eprintln!("stateprop: stress: {text}"),
            // Progress is best effort: a failing writer must not fail the run.
            LineSink::Writer(w) => {
                let _ = writeln!(w, "stateprop: stress: {text}");
            }
        }
    }
}

/// The progress of one stress run.
///
/// ```
/// use stateprop::stress::{Progress, ProgressMode};
///
/// let total = 100_000;
/// let mut progress = Progress::new(Some(total), None, ProgressMode::Quiet);
/// for done in 1..=total {
///     // ... one operation ...
///     progress.tick(done);
/// }
/// progress.finish();
/// ```
pub struct Progress {
    total_ops: Option<u64>,
    duration: Option<Duration>,
    output: Output,
    clock: Box<dyn Clock>,
    calls: u32,
    ops: u64,
    /// Operations and time when the rate was last shown: the rate shown is the recent one, so a
    /// run that slows down as it grows (a quadratic path) shows it while it happens.
    shown_ops: u64,
    shown_at: Duration,
    finished: bool,
}

impl Progress {
    /// Progress towards `total_ops` operations or `duration`, whichever the run stops at (either,
    /// both or neither may be known), shown as `mode` says.
    pub fn new(total_ops: Option<u64>, duration: Option<Duration>, mode: ProgressMode) -> Self {
        Self::with_clock(
            total_ops,
            duration,
            mode,
            Box::new(RealClock(Instant::now())),
        )
    }

    pub(crate) fn with_clock(
        total_ops: Option<u64>,
        duration: Option<Duration>,
        mode: ProgressMode,
        clock: Box<dyn Clock>,
    ) -> Self {
        let output = match mode.resolve() {
            ProgressMode::Quiet => Output::Quiet,
            ProgressMode::Bar => Output::Bar(bar(total_ops.is_some() || duration.is_some())),
            _ => Output::Lines {
                every: DEFAULT_LINE_INTERVAL,
                next: DEFAULT_LINE_INTERVAL,
                sink: LineSink::choose(),
            },
        };
        Progress {
            total_ops,
            duration,
            output,
            clock,
            calls: 0,
            ops: 0,
            shown_ops: 0,
            shown_at: Duration::ZERO,
            finished: false,
        }
    }

    /// Logs a line every `every` instead of every [`DEFAULT_LINE_INTERVAL`] (lines mode only).
    pub fn line_interval(mut self, every: Duration) -> Self {
        if let Output::Lines { every: e, next, .. } = &mut self.output {
            *e = every.max(Duration::from_millis(1));
            *next = *e;
        }
        self
    }

    /// Writes lines to `writer` rather than standard error when no `tracing` subscriber takes
    /// them (lines mode only), so a test can read what a plain log would show.
    #[cfg_attr(not(test), allow(dead_code))]
    pub(crate) fn with_writer(mut self, writer: Box<dyn Write + Send>) -> Self {
        if let Output::Lines {
            sink: sink @ (LineSink::Stderr | LineSink::Writer(_)),
            ..
        } = &mut self.output
        {
            *sink = LineSink::Writer(writer);
        }
        self
    }

    /// Records that `ops_done` operations are done. Cheap enough to call after every operation.
    #[inline]
    pub fn tick(&mut self, ops_done: u64) {
        self.ops = ops_done;
        self.calls = self.calls.wrapping_add(1);
        if self.calls & (CHECK_EVERY - 1) == 0 {
            self.observe();
        }
    }

    /// Shows the final figures (the whole run's average rate) and clears the bar. Calling it again
    /// does nothing.
    pub fn finish(&mut self) {
        if self.finished {
            return;
        }
        self.finished = true;
        if matches!(self.output, Output::Quiet) {
            return;
        }
        let elapsed = self.clock.elapsed();
        let text = format!(
            "done: {} ops in {:.1} s, {} ops/s",
            grouped(self.ops),
            elapsed.as_secs_f64(),
            rate(self.ops, elapsed)
        );
        match &mut self.output {
            Output::Quiet => {}
            Output::Lines { sink, .. } => sink.emit(&text),
            Output::Bar(bar) => bar.finish_with_message(text),
        }
    }

    #[cold]
    fn observe(&mut self) {
        let elapsed = match self.output {
            Output::Quiet => return,
            _ => self.clock.elapsed(),
        };
        let due = match &mut self.output {
            Output::Quiet => false,
            Output::Lines { every, next, .. } => {
                let due = elapsed >= *next;
                // Whole intervals: a stall longer than one gives one line, not a burst.
                while *next <= elapsed {
                    *next += *every;
                }
                due
            }
            Output::Bar(_) => elapsed.saturating_sub(self.shown_at) >= BAR_REFRESH,
        };
        if !due {
            return;
        }
        let fraction = self.fraction(elapsed);
        let compact = matches!(self.output, Output::Bar(_));
        let line = self.status(elapsed, compact.then_some(fraction).flatten());
        match &mut self.output {
            Output::Quiet => {}
            Output::Lines { sink, .. } => sink.emit(&line),
            Output::Bar(bar) => {
                match fraction {
                    Some(f) => bar.set_position((f * 1000.0) as u64),
                    // No end known: the spinner turns once per redraw.
                    None => bar.tick(),
                }
                bar.set_message(line);
            }
        }
    }

    /// How much of the run is done: the larger of the operations' and the time's share.
    fn fraction(&self, elapsed: Duration) -> Option<f64> {
        let by_ops = self.total_ops.map(|t| self.ops as f64 / t.max(1) as f64);
        let by_time = self
            .duration
            .map(|d| elapsed.as_secs_f64() / d.as_secs_f64().max(1e-9));
        let f = match (by_ops, by_time) {
            (Some(a), Some(b)) => a.max(b),
            (a, b) => a.or(b)?,
        };
        Some(f.clamp(0.0, 1.0))
    }

    /// "1,200 of 10,000 ops (12%), 410k ops/s, 2.9 s elapsed", with the rate since the last
    /// status; remembers this one as the last. Beside a bar, which shows how much is done, it is
    /// shorter, to fit a terminal's line: "12% 1,200 ops, 410k ops/s, 2.9 s".
    fn status(&mut self, elapsed: Duration, bar_fraction: Option<f64>) -> String {
        let recent = rate(
            self.ops.saturating_sub(self.shown_ops),
            elapsed.saturating_sub(self.shown_at),
        );
        self.shown_ops = self.ops;
        self.shown_at = elapsed;
        if let Some(f) = bar_fraction {
            return format!(
                "{:.0}% {} ops, {recent} ops/s, {:.1} s",
                f * 100.0,
                grouped(self.ops),
                elapsed.as_secs_f64()
            );
        }
        let ops = match self.total_ops {
            Some(total) => format!(
                "{} of {} ops ({:.0}%)",
                grouped(self.ops),
                grouped(total),
                100.0 * self.ops as f64 / total.max(1) as f64
            ),
            None => format!("{} ops", grouped(self.ops)),
        };
        let time = match self.duration {
            Some(d) => format!(
                "{:.1} s of {:.1} s elapsed",
                elapsed.as_secs_f64(),
                d.as_secs_f64()
            ),
            None => format!("{:.1} s elapsed", elapsed.as_secs_f64()),
        };
        format!("{ops}, {recent} ops/s, {time}")
    }
}

// A run may hand its progress to the thread that drives the system.
const _: fn() = || {
    fn send<T: Send>() {}
    send::<Progress>();
};

impl Drop for Progress {
    /// A run that ends by a panic (a failed step) leaves no half-drawn bar behind.
    fn drop(&mut self) {
        if let Output::Bar(bar) = &self.output {
            if !bar.is_finished() {
                bar.abandon();
            }
        }
    }
}

impl std::fmt::Debug for Progress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Progress")
            .field("total_ops", &self.total_ops)
            .field("duration", &self.duration)
            .field("ops", &self.ops)
            .finish_non_exhaustive()
    }
}

fn bar(bounded: bool) -> ProgressBar {
    let (bar, template) = if bounded {
        (
            ProgressBar::with_draw_target(Some(1000), ProgressDrawTarget::stderr()),
            "stateprop: stress [{bar:20}] {wide_msg}",
        )
    } else {
        (
            ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr()),
            "stateprop: stress {spinner} {wide_msg}",
        )
    };
    // The templates are constants: a bad one is a bug caught by the bar test.
    let style = ProgressStyle::with_template(template)
        .expect("a valid progress template")
        .progress_chars("=> ")
        .tick_chars("|/-\\ ");
    bar.set_style(style);
    bar
}

/// 1200000 as "1,200,000".
pub(crate) fn grouped(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Operations per second, short: "950", "41.2k", "410k", "3.1M".
pub(crate) fn rate(ops: u64, over: Duration) -> String {
    let secs = over.as_secs_f64();
    if secs <= 0.0 {
        return "-".to_string();
    }
    let r = ops as f64 / secs;
    if r < 1_000.0 {
        format!("{r:.0}")
    } else if r < 10_000.0 {
        format!("{:.2}k", r / 1e3)
    } else if r < 100_000.0 {
        format!("{:.1}k", r / 1e3)
    } else if r < 1_000_000.0 {
        format!("{:.0}k", r / 1e3)
    } else {
        format!("{:.1}M", r / 1e6)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::sync::{Arc, Mutex};

    /// A clock the test sets, counting its reads.
    #[derive(Clone, Default)]
    struct FakeClock {
        nanos: Arc<AtomicU64>,
        reads: Arc<AtomicU64>,
    }

    impl FakeClock {
        fn set(&self, t: Duration) {
            self.nanos.store(t.as_nanos() as u64, Ordering::SeqCst);
        }
        fn reads(&self) -> u64 {
            self.reads.load(Ordering::SeqCst)
        }
    }

    impl Clock for FakeClock {
        fn elapsed(&mut self) -> Duration {
            self.reads.fetch_add(1, Ordering::SeqCst);
            Duration::from_nanos(self.nanos.load(Ordering::SeqCst))
        }
    }

    /// A writer whose bytes the test reads back.
    #[derive(Clone, Default)]
    struct Sink(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Sink {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl Sink {
        fn lines(&self) -> Vec<String> {
            let text = String::from_utf8(self.0.lock().unwrap().clone()).unwrap();
            text.lines().map(str::to_string).collect()
        }
    }

    /// Runs `f` with a subscriber that keeps every log line, and returns the lines.
    fn logged(f: impl FnOnce()) -> Vec<String> {
        let sink = Sink::default();
        let writer = sink.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(move || writer.clone())
            .without_time()
            .with_target(false)
            .with_level(false)
            .finish();
        tracing::subscriber::with_default(subscriber, f);
        let text = String::from_utf8(sink.0.lock().unwrap().clone()).unwrap();
        text.lines().map(|l| l.trim().to_string()).collect()
    }

    fn progress(
        total: Option<u64>,
        d: Option<Duration>,
        mode: ProgressMode,
    ) -> (Progress, FakeClock) {
        let clock = FakeClock::default();
        let p = Progress::with_clock(total, d, mode, Box::new(clock.clone()));
        (p, clock)
    }

    #[test]
    fn lines_mode_logs_a_line_per_interval_with_the_recent_rate() {
        let lines = logged(|| {
            let (p, clock) = progress(None, None, ProgressMode::Lines);
            let mut p = p.line_interval(Duration::from_secs(2));
            let mut done = 0;
            // 400,000 operations a second for three seconds, then 200,000 in the fourth.
            for (second, per_second) in [(1, 400_000), (2, 400_000), (3, 400_000), (4, 200_000)] {
                clock.set(Duration::from_secs(second));
                for _ in 0..per_second {
                    done += 1;
                    p.tick(done);
                }
            }
            clock.set(Duration::from_millis(4_500));
            p.finish();
            p.finish();
        });
        assert_eq!(
            lines,
            [
                // Seen at t = 2 s, 1,024 calls into the second 400,000.
                "stateprop: stress: 400,384 ops, 200k ops/s, 2.0 s elapsed",
                // Seen at t = 4 s, the first call past 1,200,000 that reads the clock.
                "stateprop: stress: 1,200,128 ops, 400k ops/s, 4.0 s elapsed",
                "stateprop: stress: done: 1,400,000 ops in 4.5 s, 311k ops/s",
            ]
        );
    }

    #[test]
    fn lines_name_the_target_and_skip_intervals_missed_in_a_stall() {
        let lines = logged(|| {
            let (p, clock) = progress(
                Some(10_000),
                Some(Duration::from_secs(60)),
                ProgressMode::Lines,
            );
            let mut p = p.line_interval(Duration::from_secs(1));
            for done in 1..=1024 {
                p.tick(done);
            }
            clock.set(Duration::from_secs(30));
            for done in 1025..=2048 {
                p.tick(done);
            }
            clock.set(Duration::from_millis(30_500));
            for done in 2049..=3072 {
                p.tick(done);
            }
        });
        assert_eq!(
            lines,
            ["stateprop: stress: 2,048 of 10,000 ops (20%), 68 ops/s, 30.0 s of 60.0 s elapsed"]
        );
    }

    /// A second's ticks at 1,024 a second, then the finish.
    fn one_second_of(p: Progress, clock: &FakeClock) {
        let mut p = p.line_interval(Duration::from_secs(1));
        clock.set(Duration::from_secs(1));
        for done in 1..=1024 {
            p.tick(done);
        }
        clock.set(Duration::from_secs(2));
        p.finish();
    }

    #[test]
    fn without_a_subscriber_lines_are_written_out_each_starting_with_stateprop() {
        let writer = Sink::default();
        let (p, clock) = progress(Some(2048), None, ProgressMode::Lines);
        one_second_of(p.with_writer(Box::new(writer.clone())), &clock);
        assert_eq!(
            writer.lines(),
            [
                "stateprop: stress: 1,024 of 2,048 ops (50%), 1.02k ops/s, 1.0 s elapsed",
                "stateprop: stress: done: 1,024 ops in 2.0 s, 512 ops/s",
            ]
        );
    }

    #[test]
    fn with_a_subscriber_lines_go_to_tracing_and_not_the_writer() {
        let writer = Sink::default();
        let lines = logged(|| {
            let (p, clock) = progress(Some(2048), None, ProgressMode::Lines);
            one_second_of(p.with_writer(Box::new(writer.clone())), &clock);
        });
        assert!(writer.lines().is_empty(), "{:?}", writer.lines());
        assert_eq!(lines.len(), 2, "{lines:?}");
        assert!(lines.iter().all(|l| l.starts_with("stateprop: stress: ")));
    }

    #[test]
    fn quiet_mode_logs_nothing_and_never_reads_the_clock() {
        let mut reads = 0;
        let lines = logged(|| {
            let (mut p, clock) = progress(Some(1), None, ProgressMode::Quiet);
            clock.set(Duration::from_secs(3600));
            for done in 1..=100_000 {
                p.tick(done);
            }
            p.finish();
            reads = clock.reads();
        });
        assert!(lines.is_empty(), "{lines:?}");
        assert_eq!(reads, 0);
    }

    #[test]
    fn tick_reads_the_clock_once_per_check_interval() {
        let (p, clock) = progress(None, None, ProgressMode::Lines);
        let mut p = p.line_interval(Duration::from_secs(3600));
        let calls = 1_000_000u64;
        for done in 1..=calls {
            p.tick(done);
        }
        assert_eq!(clock.reads(), calls / u64::from(CHECK_EVERY));
        let (mut bar, clock) = progress(Some(calls), None, ProgressMode::Bar);
        for done in 1..=calls {
            bar.tick(done);
        }
        assert_eq!(clock.reads(), calls / u64::from(CHECK_EVERY));
        bar.finish();
    }

    #[test]
    fn the_bar_follows_the_larger_share_of_operations_or_time() {
        let (mut p, clock) = progress(
            Some(10_000),
            Some(Duration::from_secs(10)),
            ProgressMode::Bar,
        );
        // Clock reads within 100 ms of the last drawing draw nothing.
        for done in 1..=4_096 {
            p.tick(done);
        }
        let Output::Bar(bar) = &p.output else {
            panic!("not a bar")
        };
        assert_eq!((bar.position(), bar.message().as_str()), (0, ""));
        clock.set(Duration::from_secs(1));
        for done in 4_097..=5_120 {
            p.tick(done);
        }
        let Output::Bar(bar) = &p.output else {
            panic!("not a bar")
        };
        assert_eq!(bar.position(), 512);
        assert_eq!(bar.message(), "51% 5,120 ops, 5.12k ops/s, 1.0 s");
        clock.set(Duration::from_secs(8));
        for done in 5_121..=6_144 {
            p.tick(done);
        }
        let Output::Bar(bar) = &p.output else {
            panic!("not a bar")
        };
        assert_eq!(bar.position(), 800);
        p.finish();
        let Output::Bar(bar) = &p.output else {
            panic!("not a bar")
        };
        assert!(bar.is_finished());
    }

    #[test]
    fn without_an_end_the_bar_is_a_spinner_with_the_full_status() {
        let (mut p, clock) = progress(None, None, ProgressMode::Bar);
        clock.set(Duration::from_secs(1));
        for done in 1..=1_024 {
            p.tick(done);
        }
        let Output::Bar(bar) = &p.output else {
            panic!("not a bar")
        };
        assert_eq!(bar.length(), None);
        assert_eq!(bar.message(), "1,024 ops, 1.02k ops/s, 1.0 s elapsed");
    }

    #[test]
    fn figures_read_as_people_write_them() {
        assert_eq!(grouped(0), "0");
        assert_eq!(grouped(999), "999");
        assert_eq!(grouped(1_000), "1,000");
        assert_eq!(grouped(1_200_000), "1,200,000");
        assert_eq!(grouped(u64::MAX), "18,446,744,073,709,551,615");
        assert_eq!(rate(950, Duration::from_secs(1)), "950");
        assert_eq!(rate(41_200, Duration::from_secs(1)), "41.2k");
        assert_eq!(rate(1_230_000, Duration::from_secs(3)), "410k");
        assert_eq!(rate(3_100_000, Duration::from_secs(1)), "3.1M");
        assert_eq!(rate(5, Duration::ZERO), "-");
    }
}
