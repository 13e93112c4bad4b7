//! A coverage-guided fuzzer driving the quickstart's state machine.
//!
//! The fuzzer's bytes become a program through `stateprop::program_from_unstructured`: the same
//! rules, preconditions and strategies as the random runner, with every random choice read from
//! the input, so libFuzzer's mutations steer the program. A failing program panics with its
//! steps, which libFuzzer reports as a crash and saves. Run it (nightly and cargo-fuzz needed):
//!
//! ```text
//! cargo install cargo-fuzz
//! cargo +nightly fuzz run quickstart
//! ```
#![no_main]

#[path = "../../examples/support/kv.rs"]
#[allow(dead_code)]
mod kv;

use libfuzzer_sys::fuzz_target;
use stateprop::StateMachine;

fuzz_target!(|data: &[u8]| {
    let mut u = arbitrary::Unstructured::new(data);
    let Ok(ops) = stateprop::program_from_unstructured(&kv::Kv::default(), &mut u, 64) else {
        return;
    };
    let outcome = stateprop::run_program(&kv::Kv::default(), &kv::BuggyStore::default, &ops);
    if let Ok(Some(failure)) = outcome {
        // A sequential program's steps are all prefix steps.
        let end = failure.step.and_then(|s| s.prefix_index()).map_or(0, |s| s + 1);
        let steps: Vec<String> = ops[..end].iter().map(|op| op.to_rust()).collect();
        panic!("stateprop: {failure}\nprogram:\n  {}", steps.join("\n  "));
    }
});
