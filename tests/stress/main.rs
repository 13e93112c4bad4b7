//! Stress runs end to end: bugs that exist only at scale found where they are, clean systems
//! passing their limits, bad plans refused with file and line.

#[path = "../../examples/stress_support/stores.rs"]
#[allow(dead_code)]
mod stores;

#[path = "../../examples/support/kv.rs"]
#[allow(dead_code)]
mod kv;

mod concurrent;
mod growth;
mod history;
mod mismatch;
mod plan_progress;
mod plan_toml;
mod plans;
mod rerun;
mod vars;
mod watchdog;
