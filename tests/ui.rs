//! Compile errors of `#[derive(StateMachine)]`, pinned with their spans: each file under
//! `tests/ui/` holds one mistake, and its `.stderr` the message a user reads.
//!
//! Regenerate after an intended change with `TRYBUILD=overwrite cargo test --test ui`, then read
//! the diff.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/*.rs");
}
