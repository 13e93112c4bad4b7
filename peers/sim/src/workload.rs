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

/// One result line: simulated over wall time and messages per wall second.
pub fn report(name: &str, sim_secs: f64, wall_secs: f64, messages: u64, extra: &str) {
    println!(
        "{name:<9} {sim_secs:>6.0} s simulated in {wall_secs:>7.3} s wall = {:>9.0}x real time; \
         {messages:>8} messages, {:>11.0} messages/s{extra}",
        sim_secs / wall_secs,
        messages as f64 / wall_secs,
    );
}

/// The simulated seconds asked for on the command line (first argument), or the default.
pub fn sim_secs_arg() -> u64 {
    std::env::args().nth(1).map_or(DEFAULT_SIM_SECS, |a| {
        a.parse().expect("simulated seconds: a number")
    })
}
