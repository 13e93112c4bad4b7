//! Systems that each branch calls through a client of its own: a connection, a session
//! handle, a per-thread cache. The executors drive every concurrent system through
//! [`ClientSystem`]; a [`ConcurrentSystem`], called directly, is one whose client is `()`.

use super::threads::ConcurrentSystem;
use crate::spec::Model;

/// A system under test shared by several threads, each calling it through a client of its own
/// (a connection to a server, a session of a store, a handle registered with the structure).
///
/// The prefix (when it has steps) and every branch get a client, made once per run on the
/// thread that will use it (so a client need not be `Send`), and dropped when that thread is
/// done with the run, before
/// [`teardown`](ClientSystem::teardown). The client's number is the one the recorded history
/// gives its operations: 0 for the prefix, `b + 1` for branch `b`. A system called directly
/// implements [`ConcurrentSystem`] instead, which makes it a `ClientSystem` whose client is `()`.
///
/// ```
/// use stateprop::models::{CasRegister, RegisterOp, RegisterOut};
/// use stateprop::ClientSystem;
/// use std::rc::Rc;
/// use std::sync::Mutex;
///
/// /// A register served to sessions; each session counts its requests (an `Rc`: a client
/// /// stays on the thread that made it, so it need not be `Send`).
/// #[derive(Default)]
/// struct Served(Mutex<Option<i64>>);
///
/// struct Session {
///     requests: Rc<u64>,
/// }
///
/// impl ClientSystem<CasRegister> for Served {
///     type Client = Session;
///
///     fn connect(&self, _client: u64) -> Session {
///         Session { requests: Rc::new(0) }
///     }
///
///     fn call(&self, session: &mut Session, op: &RegisterOp) -> RegisterOut {
///         *Rc::make_mut(&mut session.requests) += 1;
///         let mut cell = self.0.lock().unwrap();
///         match *op {
///             RegisterOp::Read => RegisterOut::Value(*cell),
///             RegisterOp::Write { value } => {
///                 *cell = Some(value);
///                 RegisterOut::Written
///             }
///             RegisterOp::Cas { from, to } => {
///                 let swapped = *cell == Some(from);
///                 if swapped {
///                     *cell = Some(to);
///                 }
///                 RegisterOut::Cas(swapped)
///             }
///         }
///     }
/// }
///
/// stateprop::check_concurrent::<CasRegister, Served>(stateprop::Config::default().cases(20));
/// ```
pub trait ClientSystem<M: Model>: Send + Sync {
    /// What one thread calls the system through.
    type Client;

    /// Makes the client numbered `client` (0 for the prefix, `b + 1` for branch `b`) on the
    /// thread that will call through it. A panic here fails the run like a panicking call.
    fn connect(&self, client: u64) -> Self::Client;

    /// Applies `op` through `client` and returns the system's answer; called from several
    /// threads at once, each with its own client.
    fn call(&self, client: &mut Self::Client, op: &M::Op) -> M::Output;

    /// Checks the system's internal consistency against a model state it may be in: after the
    /// prefix, against the model there; after the branches join, against the end state of every
    /// linearization of the run's history, failing only if it fails in all of them (see
    /// [`ConcurrentSystem::invariant`]).
    fn invariant(&self, model: &M) -> Result<(), String> {
        let _ = model;
        Ok(())
    }

    /// Runs after every run of a program, once every thread has finished and every client has
    /// been dropped.
    fn teardown(&mut self) {}
}

impl<M: Model, S: ConcurrentSystem<M> + Send> ClientSystem<M> for S {
    type Client = ();

    fn connect(&self, _client: u64) {}

    #[inline(always)]
    fn call(&self, _client: &mut (), op: &M::Op) -> M::Output {
        self.apply(op)
    }

    fn invariant(&self, model: &M) -> Result<(), String> {
        ConcurrentSystem::invariant(self, model)
    }

    fn teardown(&mut self) {
        ConcurrentSystem::teardown(self);
    }
}

#[cfg(test)]
mod tests;
