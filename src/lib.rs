//! stateprop: stateful property testing.
#![warn(missing_docs)]

mod spec;
pub use spec::{ArgTree, FromOutput, Gen, Model, RuleInfo, StateMachine, System, ToRust, Var};

pub use stateprop_macros::StateMachine;

#[doc(hidden)]
#[path = "private.rs"]
pub mod __private;

/// What most tests need: `use stateprop::prelude::*;`.
pub mod prelude {
    pub use crate::{FromOutput, Model, StateMachine, System, Var};
    pub use proptest::prelude::{any, Just, Strategy};
    pub use proptest::sample::select;
}
