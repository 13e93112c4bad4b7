//! The runner end to end: reports, determinism, persistence, misuse and misbehaving systems.

#[path = "../../examples/support/kv.rs"]
#[allow(dead_code)]
mod kv;

mod coverage;
mod determinism;
mod environment;
mod examples;
mod failures;
mod persistence;
mod shards;
mod trust;
mod unstructured;

use kv::{BuggyStore, Kv, KvOp};
use stateprop::{Config, RunResult, Runner, System};

/// A correct store for the KV model.
#[derive(Default)]
pub struct GoodStore(std::collections::HashMap<u8, u32>);

impl System<Kv> for GoodStore {
    fn apply(&mut self, op: &KvOp) -> Option<u32> {
        match *op {
            KvOp::Put { key, value } => self.0.insert(key, value),
            KvOp::Get { key } => self.0.get(&key).copied(),
            KvOp::Delete { key } => self.0.remove(&key),
        }
    }
}

/// Runs the buggy quickstart store with a fixed seed and no persistence.
pub fn buggy_kv(config: Config) -> RunResult<KvOp> {
    Runner::<Kv>::new(config.persist(false)).run_default::<BuggyStore>()
}

/// A unique scratch directory under the target directory.
pub fn scratch(name: &str) -> std::path::PathBuf {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}
