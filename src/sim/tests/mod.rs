//! Tests of the simulator on a toy primary-backup register (`pb`), and of its determinism.

mod determinism;
mod faults;
mod pb;
mod register;
