//! A model that panics inside a checker is reported, not unwound into the caller: the searches
//! keep their live state and the operation they are trying where this guard can read them
//! after the panic.

use super::result::ModelPanic;
use crate::catch::catch_quietly;
use crate::history::History;
use crate::spec::Model;

/// Where a search is: the operation whose model calls run now (a history index) and the state
/// they run on. A search updates both as it goes (the state is its own live state, so keeping
/// it here costs nothing).
pub(crate) struct Whereabouts<M> {
    pub(crate) trying: Option<usize>,
    pub(crate) state: M,
}

/// Runs `search`; a panic inside it becomes a [`ModelPanic`] naming the operation it was
/// trying, the state and the message.
pub(crate) fn guarded<M: Model, R>(
    history: &History<M::Op, M::Output>,
    initial: &M,
    search: impl FnOnce(&mut Whereabouts<M>) -> R,
) -> Result<R, Box<ModelPanic>> {
    let mut at = Whereabouts {
        trying: None,
        state: initial.clone(),
    };
    let message = match catch_quietly(|| search(&mut at)) {
        Ok(r) => return Ok(r),
        Err(message) => message,
    };
    // `Debug` is the model's code too, so it may panic as well.
    let state = catch_quietly(|| format!("{:?}", at.state))
        .unwrap_or_else(|m| format!("(its Debug panicked too: {m})"));
    let op = at.trying.unwrap_or(0);
    let op_text = match history.ops.get(op) {
        Some(o) => catch_quietly(|| format!("{:?}", o.op))
            .unwrap_or_else(|m| format!("(its Debug panicked: {m})")),
        None => String::new(),
    };
    Err(Box::new(ModelPanic {
        partition: None,
        op,
        op_text,
        state,
        message,
    }))
}
