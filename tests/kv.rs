//! The test the crate docs ("When a test fails") and docs/campaigns.md describe: the key-value
//! model of the crate docs, and a `MyStore` whose one-entry read cache `Delete` forgets to clear.
//!
//! Here the test does not fail: it runs what the docs say was run, with the same seed, and checks
//! that each report they quote is the one it prints (wall-clock lines are not part of a report).
//! So the quotes cannot drift from the report format, the shrinker or the rerun command. The file
//! is `tests/kv.rs` and the test `store_matches_model`, because that is what the reports name.

#[path = "../examples/support/kv.rs"]
#[allow(dead_code)]
mod kv;

#[path = "support/quotes.rs"]
#[allow(dead_code)]
mod quotes;

use kv::{Kv, KvOp};
use quotes::{assert_excerpt, assert_quote, block_after, crate_docs, read};
use stateprop::{Config, Runner, System};
use std::collections::HashMap;
use std::path::PathBuf;

/// The crate docs' store, with the read cache they suppose.
#[derive(Default)]
struct MyStore {
    table: HashMap<u8, u32>,
    cache: Option<(u8, u32)>,
}

impl System<Kv> for MyStore {
    fn apply(&mut self, op: &KvOp) -> Option<u32> {
        match *op {
            KvOp::Put { key, value } => {
                self.cache = Some((key, value));
                self.table.insert(key, value)
            }
            KvOp::Get { key } => match self.cache {
                Some((k, v)) if k == key => Some(v),
                _ => {
                    let value = self.table.get(&key).copied();
                    self.cache = value.map(|v| (key, v));
                    value
                }
            },
            // The bug: the cached entry survives its key's deletion.
            KvOp::Delete { key } => self.table.remove(&key),
        }
    }

    fn invariant(&self, model: &Kv) -> Result<(), String> {
        if self.table.len() == model.map.len() {
            Ok(())
        } else {
            let (store, model) = (self.table.len(), model.map.len());
            Err(format!("store holds {store} keys, model {model}"))
        }
    }
}

const LIB: &str = "src/lib.rs";
const CAMPAIGNS: &str = "docs/campaigns.md";
/// The seed of the crate docs' run.
const SEED: u64 = 7423697292751233;

/// The crate docs' configuration: `check_sequential::<Kv, MyStore>(Config::default().cases(50))`.
fn docs_config() -> Config {
    Config::default().cases(50)
}

/// Makes a fresh folder the current one, with a `tests/` folder as a package has, so the run saves
/// its case to `tests/kv.stateprop-regressions` there and names it so, as it does in a checkout.
/// Only `store_matches_model` changes the current folder or the environment; the other test
/// reads neither.
fn enter_scratch_package(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("kv-docs-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("tests")).expect("scratch folder");
    std::env::set_current_dir(&dir).expect("enter the scratch folder");
    dir
}

#[test]
fn store_matches_model() {
    let lib = crate_docs(&read(LIB));
    let campaigns = read(CAMPAIGNS);
    let home = std::env::current_dir().expect("current folder");

    // "When a test fails": the first run finds, shrinks and saves the case.
    let scratch = enter_scratch_package("fails");
    let config = docs_config().seed(SEED).ignore_env();
    let first = Runner::<Kv>::new(config.clone()).run_default::<MyStore>();
    let anchor = "`cargo test` fails with this report (real output, from";
    let quote = block_after(&lib, LIB, anchor);
    assert_quote(LIB, anchor, &quote, &first.report.text());

    // Rerun with STATEPROP_VERBOSE=1: the case now comes from the regression file.
    let again = Runner::<Kv>::new(config.verbose(1)).run_default::<MyStore>();
    let anchor = "from both sides (an excerpt):";
    let quote = block_after(&lib, LIB, anchor);
    assert_excerpt(LIB, anchor, &quote, &again.report.text());

    // docs/campaigns.md: a campaign's run, from the environment it names. The duration only
    // bounds the search (the case is found at once) and appears nowhere in the report.
    let _ = std::fs::remove_dir_all(&scratch);
    let scratch = enter_scratch_package("campaign");
    // Exactly the environment the page names: none of the caller's own settings.
    for (name, _) in std::env::vars() {
        if name.starts_with("STATEPROP_") || name.starts_with("PROPTEST_") {
            std::env::remove_var(name);
        }
    }
    let vars = [
        ("STATEPROP_SEED", "20261121"),
        ("STATEPROP_STEPS", "1..100"),
        ("STATEPROP_DURATION", "30s"),
    ];
    for (name, value) in vars {
        std::env::set_var(name, value);
    }
    let campaign = Runner::<Kv>::new(docs_config()).run_default::<MyStore>();
    for (name, _) in vars {
        std::env::remove_var(name);
    }
    let anchor = "This is a real one, from `STATEPROP_SEED=20261121";
    let quote = block_after(&campaigns, CAMPAIGNS, anchor);
    assert_excerpt(CAMPAIGNS, anchor, &quote, &campaign.report.text());
    let anchor = "(`tests/kv.rs` → `tests/kv.stateprop-regressions`) and says so:";
    let quote = block_after(&campaigns, CAMPAIGNS, anchor);
    assert_excerpt(CAMPAIGNS, anchor, &quote, &campaign.report.text());

    // The same test run again, with no seed or campaign settings, replays the saved case.
    let replayed = Runner::<Kv>::new(docs_config()).run_default::<MyStore>();
    let anchor = "and that a plain rerun is enough:";
    let quote = block_after(&campaigns, CAMPAIGNS, anchor);
    assert_excerpt(CAMPAIGNS, anchor, &quote, &replayed.report.text());

    std::env::set_current_dir(home).expect("leave the scratch folder");
    let _ = std::fs::remove_dir_all(&scratch);
}

/// The crate docs' `replay_with` test comes from a test that passes a factory.
#[test]
fn store_matches_model_with() {
    let lib = crate_docs(&read(LIB));
    let config = docs_config().seed(SEED).ignore_env().persist(false);
    let result = Runner::<Kv>::new(config).run(MyStore::default);
    let anchor = "the `todo!()` with the factory the test uses:";
    let quote = block_after(&lib, LIB, anchor);
    assert_quote(LIB, anchor, &quote, &result.report.pasteable_test());
}
