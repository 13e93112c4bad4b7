//! A bug that needs every rule of a small machine: a keypad whose buggy firmware opens for the
//! backdoor code A B C C A. Only a case that can press all three keys can type it, so a swarm
//! case that leaves a key out cannot find it (issue 8: with each rule in half the cases, 8 of 20
//! seeds found such a bug at the default case count; without swarm, 20 of 20).

use crate::{assert_one_minimal, assert_passes, run};
use stateprop::prelude::*;

/// The reference: the lock has no code set, so it never opens.
#[derive(Debug, Clone, Default)]
pub struct Lock;

#[derive(Debug, Clone, StateMachine)]
#[state_machine(model = Lock)]
pub enum Key {
    A,
    B,
    C,
}

impl Model for Lock {
    type Op = Key;
    /// Whether the lock is open after the key press.
    type Output = bool;
    fn step(&mut self, _: &Key) -> bool {
        false
    }
}

/// The firmware: the last five keys pressed.
#[derive(Default)]
pub struct Keypad<const BUGGY: bool> {
    typed: Vec<u8>,
}

impl<const BUGGY: bool> System<Lock> for Keypad<BUGGY> {
    fn apply(&mut self, key: &Key) -> bool {
        let key = match key {
            Key::A => b'A',
            Key::B => b'B',
            Key::C => b'C',
        };
        self.typed.push(key);
        if self.typed.len() > 5 {
            self.typed.remove(0);
        }
        // The planted bug: a forgotten backdoor.
        BUGGY && self.typed == b"ABCCA"
    }
}

/// The minimal program, as Rust source per step (the zoo test and the findpower bench compare
/// against it).
pub const EXPECTED: &[&str] = &["Key::A", "Key::B", "Key::C", "Key::C", "Key::A"];

/// Twenty pinned seeds, default settings (swarm on): every one finds the backdoor.
#[test]
fn finds_a_bug_that_needs_every_rule_in_every_seed() {
    let config = Config::default().ignore_env();
    assert!(config.swarm, "the point is finding it with swarm on");
    let mut missed = Vec::new();
    for seed in 0..20 {
        let result = run::<Lock, Keypad<true>>(config.clone(), seed);
        if !result.failed() {
            missed.push(seed);
            continue;
        }
        assert_eq!(
            result.report.minimal_rust.prefix,
            EXPECTED,
            "seed {seed}\n{}",
            result.report.text()
        );
        assert_one_minimal::<Lock, Keypad<true>>(&result.minimal);
    }
    assert!(
        missed.is_empty(),
        "the backdoor was missed with seeds {missed:?}"
    );
}

#[test]
fn correct_keypad_passes() {
    assert_passes::<Lock, Keypad<false>>(Config::default().ignore_env(), 3000);
}
