//! Synchronization types for systems under test that should run both on real threads and under
//! the controlled scheduler.
//!
//! Without the `shuttle` feature these are the standard library's own items, so a system
//! written against them costs nothing in a normal build. With it, they are shuttle's, whose
//! every lock, atomic access and yield is a point where the scheduler may switch threads: that
//! is how a seeded scheduler reaches an interleaving (a `load` then a `store` with another
//! thread's `store` between them) that real threads hit once in thousands of runs, and how the
//! same seed reaches it again. A system that uses `std::sync` directly still runs under the
//! controlled scheduler, but its accesses are invisible to it: no interleaving falls between
//! them, so races among them cannot be found in that mode.
//!
//! ```
//! use stateprop::sync::atomic::{AtomicU64, Ordering};
//! use stateprop::sync::{Arc, Mutex};
//!
//! #[derive(Default)]
//! struct Dispenser {
//!     next: AtomicU64,
//!     log: Arc<Mutex<Vec<u64>>>,
//! }
//!
//! impl Dispenser {
//!     fn take(&self) -> u64 {
//!         let ticket = self.next.fetch_add(1, Ordering::SeqCst);
//!         self.log.lock().unwrap().push(ticket);
//!         ticket
//!     }
//! }
//! // Under the `shuttle` feature the types work only inside the scheduler's runs.
//! # if !stateprop::sync::CONTROLLED {
//! #     assert_eq!(Dispenser::default().take(), 0);
//! # }
//! ```
//!
//! The types must be created inside a run (in the system's factory or its calls), never kept in
//! a `static` across runs: under the scheduler every run is an execution of its own.

#[cfg(not(feature = "shuttle"))]
pub use std::sync::{
    mpsc, Arc, Barrier, BarrierWaitResult, Condvar, Mutex, MutexGuard, Once, OnceState, RwLock,
    RwLockReadGuard, RwLockWriteGuard, WaitTimeoutResult, Weak,
};

#[cfg(feature = "shuttle")]
pub use shuttle::sync::{
    mpsc, Arc, Barrier, BarrierWaitResult, Condvar, Mutex, MutexGuard, Once, OnceState, RwLock,
    RwLockReadGuard, RwLockWriteGuard, WaitTimeoutResult, Weak,
};

/// Atomic integers, booleans and pointers, with `Ordering` and `fence`.
pub mod atomic {
    #[cfg(not(feature = "shuttle"))]
    pub use std::sync::atomic::*;

    #[cfg(feature = "shuttle")]
    pub use shuttle::sync::atomic::*;
}

/// Spawning threads and giving way to others, for systems that run threads of their own.
pub mod thread {
    #[cfg(not(feature = "shuttle"))]
    pub use std::thread::{current, park, scope, sleep, spawn, yield_now, JoinHandle, Scope};

    #[cfg(feature = "shuttle")]
    pub use shuttle::thread::{current, park, scope, sleep, spawn, yield_now, JoinHandle, Scope};
}

/// `spin_loop`, a point where the scheduler may switch threads under the `shuttle` feature.
pub mod hint {
    #[cfg(not(feature = "shuttle"))]
    pub use std::hint::spin_loop;

    #[cfg(feature = "shuttle")]
    pub use shuttle::hint::spin_loop;
}

/// True when this build runs systems under the controlled scheduler's types (the `shuttle`
/// feature is on).
pub const CONTROLLED: bool = cfg!(feature = "shuttle");
