//! Checkers over histories: linearizability (and, in sibling modules, other consistency
//! properties).

mod fxhash;
pub mod linearizability;

pub use linearizability::{
    check_linearizable, check_linearizable_by, CheckConfig, Report, Verdict, Violation,
};
