//! The workload every simulator runs, and its wire format: shared by `peers/sim` and, through
//! `#[path]`, by `peers/madsim`, so the three cannot drift apart.
//!
//! Six hosts: a primary, four backups and a client. The primary sends every backup a heartbeat
//! (its version and value) every 10 ms, and each backup acknowledges it. The client, every
//! 50 ms of simulated time, writes at the primary, then 25 ms later reads at the next backup in
//! turn, waiting for each answer. Messages take 1 to 10 ms.

#![allow(dead_code)]

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Between the primary's heartbeats.
pub const HEARTBEAT: Duration = Duration::from_millis(10);
/// The backups: hosts 1 to 4; the primary is host 0.
pub const BACKUPS: usize = 4;
/// The client writes, waits this long, reads, and waits this long again.
pub const HALF_CYCLE: Duration = Duration::from_millis(25);
/// Shortest and longest time a message takes.
pub const MIN_LATENCY: Duration = Duration::from_millis(1);
pub const MAX_LATENCY: Duration = Duration::from_millis(10);
/// The port every host listens on.
pub const PORT: u16 = 9000;
/// Simulated seconds per run unless the command line says otherwise.
pub const DEFAULT_SIM_SECS: u64 = 600;

/// The messages, on the wire as a tag byte and two numbers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Wire {
    Heartbeat { version: u64, value: i64 },
    Ack { version: u64 },
    Write { value: i64 },
    Read,
    Written,
    Value { value: i64 },
}

pub const WIRE_LEN: usize = 17;

impl Wire {
    pub fn encode(self) -> [u8; WIRE_LEN] {
        let (tag, a, b) = match self {
            Wire::Heartbeat { version, value } => (0, version, value as u64),
            Wire::Ack { version } => (1, version, 0),
            Wire::Write { value } => (2, value as u64, 0),
            Wire::Read => (3, 0, 0),
            Wire::Written => (4, 0, 0),
            Wire::Value { value } => (5, value as u64, 0),
        };
        let mut out = [0; WIRE_LEN];
        out[0] = tag;
        out[1..9].copy_from_slice(&a.to_le_bytes());
        out[9..].copy_from_slice(&b.to_le_bytes());
        out
    }

    pub fn decode(bytes: &[u8]) -> Wire {
        let word = |r: std::ops::Range<usize>| u64::from_le_bytes(bytes[r].try_into().unwrap());
        let (a, b) = (word(1..9), word(9..17));
        match bytes[0] {
            0 => Wire::Heartbeat {
                version: a,
                value: b as i64,
            },
            1 => Wire::Ack { version: a },
            2 => Wire::Write { value: a as i64 },
            3 => Wire::Read,
            4 => Wire::Written,
            5 => Wire::Value { value: a as i64 },
            t => panic!("unknown message tag {t}"),
        }
    }
}

/// Messages received, by every host of the run under way.
static RECEIVED: AtomicU64 = AtomicU64::new(0);

pub fn received() {
    RECEIVED.fetch_add(1, Ordering::Relaxed);
}

/// The count so far, reset to zero.
pub fn take_received() -> u64 {
    RECEIVED.swap(0, Ordering::Relaxed)
}

/// The value the client writes in cycle `i`.
pub fn value(i: u64) -> i64 {
    (i % 7) as i64
}

/// Runs of each measurement: the machine may be shared, so the median of several is reported,
/// with the fastest and slowest beside it.
pub const RUNS: usize = 5;

/// What one run measured.
pub struct Measured {
    pub sim_secs: f64,
    pub wall_secs: f64,
    pub messages: u64,
    /// Steps carried out (stateprop only: the others have no steps).
    pub steps: Option<u64>,
}

/// Runs `run` [`RUNS`] times and prints one line: simulated over wall time, messages per wall
/// second (and steps per second where there are steps), from the median wall time.
pub fn measure(name: &str, note: &str, mut run: impl FnMut() -> Measured) {
    let mut runs: Vec<Measured> = (0..RUNS).map(|_| run()).collect();
    runs.sort_by(|a, b| a.wall_secs.total_cmp(&b.wall_secs));
    let m = &runs[RUNS / 2];
    assert!(
        runs.iter().all(|r| r.messages == m.messages),
        "{name}: the runs did not send the same messages"
    );
    let steps = match m.steps {
        Some(steps) => format!(", {:>8.0} steps/s", steps as f64 / m.wall_secs),
        None => String::new(),
    };
    println!(
        "{name:<9} {:>5.0} s simulated in {:>7.3} s wall (fastest {:.3}, slowest {:.3}) = \
         {:>6.0}x real time; {} messages, {:>9.0} messages/s{steps} {note}",
        m.sim_secs,
        m.wall_secs,
        runs[0].wall_secs,
        runs[RUNS - 1].wall_secs,
        m.sim_secs / m.wall_secs,
        m.messages,
        m.messages as f64 / m.wall_secs,
    );
}

/// The simulated seconds asked for on the command line (first argument), or the default.
pub fn sim_secs_arg() -> u64 {
    std::env::args().nth(1).map_or(DEFAULT_SIM_SECS, |a| {
        a.parse().expect("simulated seconds: a number")
    })
}
