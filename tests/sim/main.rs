//! Simulated runs end to end: a distributed system's bugs found on a deterministic faulty
//! network, shrunk with their faults, reported, and replayed by the pasted test.

#[path = "../../examples/replicated_register.rs"]
#[allow(dead_code)]
mod register;

mod drift;
mod incremental;
mod livelock;
mod liveness;
mod paste;
mod replicated;
mod retry;
mod schedule_seed;
mod timeline;
