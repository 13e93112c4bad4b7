//! The `StateMachine` derive, tested through the methods it generates.
//!
//! Two machines: a key-value store (strategies, preconditions, every variant style) and a bank
//! whose operations name accounts opened by earlier steps (`Var` fields).

mod arguments;
mod bank;
mod consume;
mod consumes;
mod dependent;
mod fd;
mod kv;
mod program;
mod shapes;
mod user_types;

use proptest::test_runner::TestRunner;
use stateprop::generate::{ArgTree, Gen};
use stateprop::Model;

/// Generates one operation of `rule` from a deterministic runner.
pub fn generate<M: Model>(
    runner: &mut TestRunner,
    rule: usize,
    model: &M,
    outputs: &[M::Output],
) -> Result<M::Op, String> {
    let mut gen = Gen::new(runner, outputs, None);
    <M::Op as stateprop::StateMachine>::generate(rule, model, &mut gen)
}

/// Like [`generate`], also returning the value trees of the generated arguments.
pub fn generate_with_trees<M: Model>(
    runner: &mut TestRunner,
    rule: usize,
    model: &M,
) -> (M::Op, Vec<Box<dyn ArgTree>>) {
    let mut trees = Vec::new();
    let mut gen = Gen::new(runner, &[], Some(&mut trees));
    let op = <M::Op as stateprop::StateMachine>::generate(rule, model, &mut gen)
        .expect("generation succeeds");
    (op, trees)
}

/// A precondition's text without whitespace: the derive records the tokens as the compiler
/// prints them, and how it spaces them varies between compiler versions.
pub fn squeeze(text: Option<&str>) -> Option<String> {
    text.map(|t| t.split_whitespace().collect())
}
