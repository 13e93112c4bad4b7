//! The regression history end to end: runs write their results where the plan says, a later run
//! is compared with an earlier one, and what it made worse is flagged. Also the progress a run
//! shows while it goes.

use crate::stores::{CleanStore, Store, StoreOp, TombstoneStore};
use stateprop::stress::{
    compare, MetricKind, ProgressMode, Stress, StressPlan, StressResult, Tolerances,
};
use stateprop::System;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "stateprop-stress-history-{}-{name}",
        std::process::id()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn plan(ops: u64, result: &Path) -> StressPlan {
    StressPlan::operations(ops)
        .seed(5)
        .warmup(2_000)
        .sample_every(500)
        .param("keys", 256)
        .result_path(result)
}

fn flagged(old: &StressResult, new: &StressResult) -> Vec<MetricKind> {
    let c = compare(old, new, &Tolerances::default());
    // The plans differ only in where the result went: like is compared with like.
    assert!(c.warnings.is_empty(), "{:?}", c.warnings);
    c.regressions().map(|r| r.kind).collect()
}

#[test]
fn a_later_run_whose_memory_grows_is_flagged_against_the_written_result() {
    let dir = scratch("growth");
    let (old_path, new_path, again_path) = (
        dir.join("old.json"),
        dir.join("new.json"),
        dir.join("again.json"),
    );
    let clean = |path: &Path| {
        Stress::<Store, CleanStore>::with_initial(plan(20_000, path), Store::with_keys(256))
            .ignore_env()
            .gauge(CleanStore::gauge)
            .quiet()
            .run(CleanStore::default)
            .unwrap()
    };
    let old_run = clean(&old_path);
    // The same store keeping a tombstone per delete: correct answers, no limit in the plan, so
    // the run passes; only the history shows what changed.
    let new_run = Stress::<Store, TombstoneStore>::with_initial(
        plan(20_000, &new_path),
        Store::with_keys(256),
    )
    .ignore_env()
    .gauge(TombstoneStore::gauge)
    .quiet()
    .run(TombstoneStore::default)
    .unwrap();
    assert!(old_run.passed() && new_run.passed(), "{}", new_run.text());
    let old = StressResult::read(&old_path).unwrap();
    let new = StressResult::read(&new_path).unwrap();
    assert_eq!(old, old_run, "the file holds the run");
    assert_eq!(new, new_run, "the file holds the run");

    assert!(flagged(&old, &new).contains(&MetricKind::Growth), "{}", {
        compare(&old, &new, &Tolerances::default())
    });
    let c = compare(&old, &new, &Tolerances::default());
    let growth = c.row(MetricKind::Growth, None).unwrap();
    assert!(growth.new.unwrap() > 1024.0 * 1024.0, "{c}");

    // The clean run again: its memory growth is the same, not a regression.
    let again = StressResult::read({
        clean(&again_path);
        &again_path
    })
    .unwrap();
    assert!(!flagged(&old, &again).contains(&MetricKind::Growth));
    std::fs::remove_dir_all(dir).unwrap();
}

/// A clean store that pauses every `every` operations: the same answers, less throughput.
struct Slow {
    store: CleanStore,
    ops: u64,
    every: u64,
    pause: std::time::Duration,
}

impl System<Store> for Slow {
    fn apply(&mut self, op: &StoreOp) -> Option<u64> {
        self.ops += 1;
        if self.ops.is_multiple_of(self.every) {
            std::thread::sleep(self.pause);
        }
        self.store.apply(op)
    }
}

#[test]
fn a_later_run_on_a_slower_system_is_flagged_for_throughput() {
    let dir = scratch("slow");
    let (old_path, new_path) = (dir.join("old.json"), dir.join("new.json"));
    Stress::<Store, CleanStore>::with_initial(plan(4_000, &old_path), Store::with_keys(256))
        .ignore_env()
        .quiet()
        .run(CleanStore::default)
        .unwrap();
    // 80 pauses of 5 ms: 400 ms at least, many times what 4,000 operations of a map take even
    // in a debug build on a loaded machine.
    Stress::<Store, Slow>::with_initial(plan(4_000, &new_path), Store::with_keys(256))
        .ignore_env()
        .quiet()
        .run(|| Slow {
            store: CleanStore::default(),
            ops: 0,
            every: 50,
            pause: std::time::Duration::from_millis(5),
        })
        .unwrap();
    let old = StressResult::read(&old_path).unwrap();
    let new = StressResult::read(&new_path).unwrap();
    assert!(new.elapsed_secs >= 0.4, "{}", new.text());
    let kinds = flagged(&old, &new);
    assert!(kinds.contains(&MetricKind::Throughput), "{kinds:?}");
    // And the other way round it is an improvement, never a regression.
    assert!(!flagged(&new, &old).contains(&MetricKind::Throughput));
    std::fs::remove_dir_all(dir).unwrap();
}

/// Runs `f` with a subscriber that keeps every log line, and returns the lines.
fn logged(f: impl FnOnce()) -> Vec<String> {
    #[derive(Clone, Default)]
    struct Sink(Arc<Mutex<Vec<u8>>>);
    impl std::io::Write for Sink {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let sink = Sink::default();
    let writer = sink.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .without_time()
        .with_target(false)
        .with_level(false)
        .finish();
    tracing::subscriber::with_default(subscriber, f);
    let text = String::from_utf8(sink.0.lock().unwrap().clone()).unwrap();
    text.lines().map(|l| l.trim().to_string()).collect()
}

#[test]
fn a_run_ticks_its_progress_every_operation_and_quiet_shows_none() {
    let run = |progress: Option<ProgressMode>| {
        logged(|| {
            let stress = Stress::<Store, CleanStore>::new(StressPlan::operations(12_345).seed(2))
                .ignore_env()
                .quiet();
            let stress = match progress {
                Some(mode) => stress.progress(mode),
                None => stress,
            };
            assert!(stress.run(CleanStore::default).unwrap().passed());
        })
    };
    let lines = run(Some(ProgressMode::Lines));
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(
        lines[0].starts_with("stateprop: stress: done: 12,345 ops in "),
        "{lines:?}"
    );
    assert_eq!(run(None), Vec::<String>::new());
}

/// A result that cannot be written fails the run, naming the file and the error: CI would
/// otherwise compare the next run with a stale baseline and call it fine.
#[test]
fn a_result_that_cannot_be_written_fails_the_run_naming_the_path() {
    let missing = scratch("unwritable").join("no-such-dir").join("x.json");
    let run = || {
        Stress::<Store, CleanStore>::new(plan(5_000, &missing))
            .ignore_env()
            .quiet()
            .run(CleanStore::default)
            .unwrap()
    };
    let result = run();
    assert!(!result.passed(), "{}", result.text());
    let text = result.text();
    assert!(text.contains("FAILED (result not written)"), "{text}");
    assert!(text.contains(&missing.display().to_string()), "{text}");
    assert!(text.contains("cannot write"), "{text}");
    // The same run with a folder to write into passes: only the file failed it.
    let there = scratch("unwritable").join("x.json");
    let written = Stress::<Store, CleanStore>::new(plan(5_000, &there))
        .ignore_env()
        .quiet()
        .run(CleanStore::default)
        .unwrap();
    assert!(written.passed(), "{}", written.text());
    assert_eq!(StressResult::read(&there).unwrap(), written);
    // `stress::check` fails with it.
    let checked = std::panic::catch_unwind(|| {
        stateprop::stress::check::<Store, CleanStore, _>(
            plan(1_000, &missing).seed(5),
            CleanStore::default,
        )
    });
    assert!(checked.is_err());
}
