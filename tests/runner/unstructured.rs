//! Programs built from fuzzer bytes (`arbitrary::Unstructured`): deterministic, well formed.

use crate::kv::{Kv, KvOp};
use stateprop::program_from_unstructured;

fn program(bytes: &[u8]) -> Vec<KvOp> {
    let mut u = arbitrary::Unstructured::new(bytes);
    program_from_unstructured(&Kv::default(), &mut u, 16).expect("any bytes make a program")
}

#[test]
fn fixed_bytes_give_a_fixed_program() {
    let bytes: Vec<u8> = (0u8..=255).cycle().skip(7).take(300).collect();
    let a = program(&bytes);
    let b = program(&bytes);
    assert_eq!(format!("{a:?}"), format!("{b:?}"));
    assert!(!a.is_empty());
}

#[test]
fn empty_input_gives_an_empty_program() {
    assert!(program(&[]).is_empty());
}

#[test]
fn programs_from_bytes_respect_preconditions() {
    // Whatever the bytes, a delete only ever names a key that is present.
    for seed in 0u64..300 {
        let bytes: Vec<u8> = (0..200)
            .map(|i: u64| {
                (seed
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(i.wrapping_mul(1442695040888963407))
                    >> 33) as u8
            })
            .collect();
        let ops = program(&bytes);
        let mut keys = std::collections::BTreeSet::new();
        for op in &ops {
            match *op {
                KvOp::Put { key, .. } => {
                    keys.insert(key);
                }
                KvOp::Delete { key } => {
                    assert!(keys.remove(&key), "delete of absent key {key} in {ops:?}");
                }
                KvOp::Get { .. } => {}
            }
        }
        assert!(
            stateprop::run_program(&Kv::default(), &crate::GoodStore::default, &ops)
                .expect("valid")
                .is_none()
        );
    }
}

#[test]
fn the_buggy_store_fails_on_a_known_byte_string() {
    // Search a small, fixed family of byte strings; one of them must expose the stale cache,
    // the way a fuzzer's corpus would.
    let found = (0u64..2000).find_map(|seed| {
        let bytes: Vec<u8> = (0..64u64)
            .map(|i| (crate_hash(seed, i) & 0xff) as u8)
            .collect();
        let ops = program(&bytes);
        let outcome = stateprop::run_program(&Kv::default(), &crate::kv::BuggyStore::default, &ops)
            .expect("valid");
        outcome.map(|f| (seed, f))
    });
    let (_, failure) = found.expect("some byte string exposes the bug");
    assert_eq!(failure.kind.name(), "postcondition");
}

fn crate_hash(seed: u64, i: u64) -> u64 {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ i.wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x ^= x >> 31;
    x.wrapping_mul(0x94D0_49BB_1331_11EB) >> 7
}
