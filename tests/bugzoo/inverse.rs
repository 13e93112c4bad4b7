//! An operation and its inverse that only go together. A stack keeps with each element the
//! answer `Top` gives while it is on top, and forgets to fill it in for the bottom element, so
//! `Top` on a one-element stack answers `None`. A failing program often reaches that stack by a
//! detour, `Push, Push, Pop, Top`, which is 1-minimal: deleting the second push makes the pop
//! take the first element, deleting the pop leaves two, and the push and the pop never share a
//! chunk the deletion passes try. Only deleting the pair together (`escape`'s `delete_pairs`)
//! gets to `Push, Top`.

use crate::{assert_finds, assert_passes};
use stateprop::prelude::*;

#[derive(Debug, Clone, Default)]
pub struct Stack(Vec<u8>);

#[derive(Debug, Clone, StateMachine)]
#[state_machine(model = Stack)]
pub enum StackOp {
    #[rule(weight = 3)]
    Push {
        #[strategy(0..4u8)]
        value: u8,
    },
    #[rule(weight = 2, precondition = |m: &Stack| !m.0.is_empty())]
    Pop,
    Top,
}

impl Model for Stack {
    type Op = StackOp;
    type Output = Option<u8>;
    fn step(&mut self, op: &StackOp) -> Option<u8> {
        match *op {
            StackOp::Push { value } => {
                self.0.push(value);
                None
            }
            StackOp::Pop => self.0.pop(),
            StackOp::Top => self.0.last().copied(),
        }
    }
}

/// The elements, each with the cached answer of `Top` while it is on top.
#[derive(Default)]
pub struct CachedStack<const BUGGY: bool> {
    items: Vec<(u8, Option<u8>)>,
}

impl<const BUGGY: bool> System<Stack> for CachedStack<BUGGY> {
    fn apply(&mut self, op: &StackOp) -> Option<u8> {
        match *op {
            StackOp::Push { value } => {
                // The planted bug: the first element's answer is not cached; the fix is to
                // cache `Some(value)` always.
                let cached = if BUGGY && self.items.is_empty() {
                    None
                } else {
                    Some(value)
                };
                self.items.push((value, cached));
                None
            }
            StackOp::Pop => self.items.pop().map(|(value, _)| value),
            StackOp::Top => self.items.last().and_then(|&(_, cached)| cached),
        }
    }
}

/// The expected minimal program.
pub const EXPECTED: &[&str] = &["StackOp::Push { value: 0 }", "StackOp::Top"];

#[test]
fn a_push_and_its_pop_are_deleted_together() {
    assert_finds::<Stack, CachedStack<true>>(
        Config::default().ignore_env(),
        EXPECTED,
        "postcondition",
    );
}

#[test]
fn correct_cached_stack_passes() {
    assert_passes::<Stack, CachedStack<false>>(Config::default().ignore_env(), 3000);
}
