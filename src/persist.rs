//! Regression files: shrunk failing programs saved beside the test, replayed first.
//!
//! One file per test source file, `<stem>.stateprop-regressions` in the same folder. Each
//! entry is one JSON line holding the *program* (not just the seed, whose meaning changes as
//! soon as a strategy does). Writes go to a temporary file that is renamed over the old one, so an
//! interrupted run never leaves a half-written file.

use serde_json::{json, Value};
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

const HEADER: &str = "\
# stateprop regression cases. Each line below is a failing program that stateprop found and
# shrank; stateprop replays the lines of a test before generating new cases, so a fixed bug stays
# fixed. Commit this file with your code. A line may be deleted once its case no longer matters.
# Lines starting with # are comments.
";

/// A saved program: which test, with what seed it was found, and its steps as JSON.
pub(crate) struct Entry {
    pub(crate) line: usize,
    pub(crate) test: String,
    pub(crate) steps: Vec<Value>,
}

/// The regression file for the test source `source` (as `Location::file` gives it).
pub(crate) fn file_for(source: &str) -> Option<PathBuf> {
    let path = Path::new(source);
    let stem = path.file_stem()?.to_str()?;
    let dir = resolve_dir(path.parent()?)?;
    Some(dir.join(format!("{stem}.stateprop-regressions")))
}

/// `file!()` paths are relative to the workspace root while tests run in the package folder;
/// strip leading components until the folder exists.
fn resolve_dir(dir: &Path) -> Option<PathBuf> {
    if dir.is_absolute() {
        return dir.is_dir().then(|| dir.to_path_buf());
    }
    let mut components: Vec<_> = dir.components().collect();
    loop {
        let candidate: PathBuf = components.iter().collect();
        if candidate.as_os_str().is_empty() {
            return Some(PathBuf::from("."));
        }
        if candidate.is_dir() {
            return Some(candidate);
        }
        if components.is_empty() {
            return None;
        }
        components.remove(0);
    }
}

/// Reads the entries of `test`; a line that is not a valid entry is an error naming it.
pub(crate) fn load(path: &Path, test: &str) -> Result<Vec<Entry>, String> {
    let text = match fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(format!("{}: cannot read: {e}", path.display())),
    };
    let mut entries = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line_no = i + 1;
        let trimmed = line.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let at = || format!("{}:{line_no}", path.display());
        let value: Value = serde_json::from_str(trimmed)
            .map_err(|e| format!("{}: not a JSON object: {e}", at()))?;
        let entry_test = value
            .get("test")
            .and_then(Value::as_str)
            .ok_or_else(|| format!("{}: the entry has no \"test\" string", at()))?;
        let steps = value
            .get("steps")
            .and_then(Value::as_array)
            .ok_or_else(|| format!("{}: the entry has no \"steps\" list", at()))?;
        if entry_test == test {
            entries.push(Entry {
                line: line_no,
                test: entry_test.to_string(),
                steps: steps.clone(),
            });
        }
    }
    Ok(entries)
}

/// Adds an entry unless the same program is already saved for this test.
///
/// Tests of one file may fail at once, in threads of one process or in processes of their own
/// (nextest): a lock file beside the regression file serializes the read-modify-rename, so no
/// entry is lost.
pub(crate) fn save(path: &Path, test: &str, seed: u64, steps: &[Value]) -> Result<bool, String> {
    let _lock = Lock::acquire(path);
    let old = match fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(format!("{}: cannot read: {e}", path.display())),
    };
    let line = json!({ "test": test, "seed": seed, "steps": steps }).to_string();
    if old.lines().any(|l| l.trim() == line) {
        return Ok(false);
    }
    let mut text = if old.is_empty() {
        HEADER.to_string()
    } else {
        old
    };
    if !text.ends_with('\n') {
        text.push('\n');
    }
    text.push_str(&line);
    text.push('\n');
    write_atomically(path, text.as_bytes())?;
    Ok(true)
}

/// An exclusive lock held as a `<file>.lock` file, released on drop.
struct Lock(Option<PathBuf>);

impl Lock {
    /// Waits up to 10 s; a lock older than that is taken to be left by a crashed process and
    /// broken, rather than waited on forever.
    fn acquire(path: &Path) -> Lock {
        let lock = path.with_extension("stateprop-lock");
        let start = std::time::Instant::now();
        loop {
            match fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&lock)
            {
                Ok(_) => return Lock(Some(lock)),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    if start.elapsed() > std::time::Duration::from_secs(10) {
                        let _ = fs::remove_file(&lock);
                    }
                    std::thread::sleep(std::time::Duration::from_millis(5));
                }
                // A read-only folder: writing will fail and say so; no lock to hold.
                Err(_) => return Lock(None),
            }
        }
    }
}

impl Drop for Lock {
    fn drop(&mut self) {
        if let Some(lock) = &self.0 {
            let _ = fs::remove_file(lock);
        }
    }
}

/// Writes `bytes` to a temporary file beside `path`, flushes it, and renames it over `path`.
pub(crate) fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), String> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "stateprop".into());
    // Unique per process and thread, so concurrent writers never share a temporary file.
    static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let tmp = path.with_file_name(format!(".{name}.tmp-{}-{n}", std::process::id()));
    let result = (|| {
        let mut f = fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        fs::rename(&tmp, path)
    })();
    result.map_err(|e| {
        let _ = fs::remove_file(&tmp);
        format!("{}: cannot write: {e}", path.display())
    })
}
