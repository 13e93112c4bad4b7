//! Catching panics of the system under test without letting them print over the report.

use std::cell::{Cell, RefCell};
use std::panic::{self, AssertUnwindSafe};
use std::sync::Once;

thread_local! {
    static CAPTURING: Cell<bool> = const { Cell::new(false) };
    static CAUGHT: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Installs, once per process, a panic hook that stays silent on threads that are capturing and
/// defers to the previous hook everywhere else.
fn install_hook() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let previous = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            if !capture(info) {
                previous(info);
            }
        }));
    });
}

/// Keeps the panic's message for [`catch`] if this thread is capturing, and says whether it
/// did; for a hook installed over this one (the controlled scheduler's) that must stay as quiet.
pub(crate) fn capture(info: &panic::PanicHookInfo<'_>) -> bool {
    if !CAPTURING.with(Cell::get) {
        return false;
    }
    let payload = info.payload();
    let message = payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "non-string panic payload".to_string());
    let text = match info.location() {
        Some(l) => format!("{message} (at {}:{})", l.file(), l.line()),
        None => message,
    };
    CAUGHT.with(|c| *c.borrow_mut() = Some(text));
    true
}

/// Marks the current thread as capturing for its lifetime (the runner's worker thread).
pub(crate) fn capture_on_this_thread() {
    install_hook();
    CAPTURING.with(|c| c.set(true));
}

/// Runs `f`, turning a panic into `Err(message with location)`.
// Always inlined: the runner guards every step's user code with it, and as a call of its own
// the frame and the moves of the result cost ~30 instructions a step (callgrind on
// `cargo bench --bench throughput`); the unwinding path stays out of line in `caught`.
#[inline(always)]
pub(crate) fn catch<R>(f: impl FnOnce() -> R) -> Result<R, String> {
    match panic::catch_unwind(AssertUnwindSafe(f)) {
        Ok(r) => Ok(r),
        Err(payload) => Err(caught(payload)),
    }
}

/// The message of a caught panic: the hook's text with its location, else the payload's.
#[cold]
#[inline(never)]
fn caught(payload: Box<dyn std::any::Any + Send>) -> String {
    CAUGHT.with(|c| c.borrow_mut().take()).unwrap_or_else(|| {
        payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "non-string panic payload".to_string())
    })
}

/// [`catch`] on any thread, without the panic printing over the caller's output (a checker
/// reports a panicking model itself).
pub(crate) fn catch_quietly<R>(f: impl FnOnce() -> R) -> Result<R, String> {
    install_hook();
    let was = CAPTURING.with(|c| c.replace(true));
    let result = catch(f);
    CAPTURING.with(|c| c.set(was));
    result
}
