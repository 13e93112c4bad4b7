//! stateprop: stateful property testing.
#![warn(missing_docs)]

mod spec;
pub use spec::{ArgTree, FromOutput, Gen, Model, RuleInfo, StateMachine, System, ToRust, Var};

mod config;
pub use config::{Config, StepRange};

mod failure;
pub use failure::{Failure, FailureKind};

mod run;
pub use run::{
    check_sequential, check_sequential_with, replay, replay_with, run_program, RunResult, Runner,
};

mod shrink;
pub use shrink::ShrinkStats;

mod report;
pub use report::{Origin, Report, Stats, Verdict};

pub mod strategy;

mod generate;
pub use generate::program_from_unstructured;

mod persist;
mod rng;

pub use stateprop_macros::StateMachine;

#[doc(hidden)]
#[path = "private.rs"]
pub mod __private;

/// What most tests need: `use stateprop::prelude::*;`.
pub mod prelude {
    pub use crate::{
        check_sequential, replay, Config, FromOutput, Model, StateMachine, System, Var,
    };
    pub use proptest::prelude::{any, Just, Strategy};
    pub use proptest::sample::select;
}
