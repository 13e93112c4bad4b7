//! Regression files: shrunk failing programs saved beside the test, replayed first.
//!
//! One file per test source file, `<stem>.stateprop-regressions` in the same folder. Each
//! entry is one JSON line holding the *program* (not just the seed, whose meaning changes as
//! soon as a strategy does). Writes go to a temporary file that is renamed over the old one, so an
//! interrupted run never leaves a half-written file.

use crate::program::Program;
use crate::program::Shape;
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
    /// Sequential entries (`"steps"`) load as a prefix without branches.
    pub(crate) program: Program<Value>,
    /// The schedule seed the case failed under, for runs whose outcome depends on it (a
    /// simulated world's delays, a controlled scheduler's choices).
    pub(crate) schedule_seed: Option<u64>,
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

/// The format of the entries this version writes. Format 1 (no `"format"` field) is a
/// sequential program in `"steps"`; format 2 adds `"format"` and `"shape"`: `"sequential"` with
/// `"steps"`, or `"parallel"` with `"prefix"` and `"branches"`.
const FORMAT: u64 = 2;

/// Reads the entries of `test`; a line that is not a valid entry is an error naming it.
pub(crate) fn load(path: &Path, test: &str) -> Result<Vec<Entry>, String> {
    let text = read_text(path)?;
    let mut entries = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line_no = i + 1;
        let trimmed = line.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let at = format!("{}:{line_no}", path.display());
        let entry = match parse_entry(trimmed) {
            Ok(entry) => entry,
            // Written by a newer stateprop, or a shape it does not know: not this version's to
            // judge, so not an error; the test goes on without it.
            Err(Unreadable::Later(why)) => {
                eprintln!("stateprop: {at}: skipped a saved case: {why}");
                continue;
            }
            Err(Unreadable::Malformed(e)) => return Err(format!("{at}: {e}")),
        };
        if entry.test == test {
            entries.push(Entry {
                line: line_no,
                ..entry
            });
        }
    }
    Ok(entries)
}

/// Why a line is not an entry this version runs.
enum Unreadable {
    /// Not an entry at all.
    Malformed(String),
    /// A later format or another shape of program.
    Later(String),
}

/// One line of a regression file (its `line` left 0).
fn parse_entry(line: &str) -> Result<Entry, Unreadable> {
    use Unreadable::{Later, Malformed};
    let value: Value =
        serde_json::from_str(line).map_err(|e| Malformed(format!("not a JSON object: {e}")))?;
    let format = match value.get("format") {
        None => 1,
        Some(f) => f.as_u64().ok_or_else(|| {
            Malformed(format!("the entry's \"format\" is not a whole number: {f}"))
        })?,
    };
    if format > FORMAT {
        return Err(Later(format!(
            "it is in format {format}, written by a newer stateprop (this one reads formats 1 \
             to {FORMAT})"
        )));
    }
    let list = |key: &str| -> Result<Vec<Value>, Unreadable> {
        value
            .get(key)
            .and_then(Value::as_array)
            .cloned()
            .ok_or_else(|| Malformed(format!("the entry has no \"{key}\" list")))
    };
    let program = match value.get("shape").and_then(Value::as_str) {
        None | Some("sequential") => Program::sequential(list("steps")?),
        Some("parallel") => {
            let branches = list("branches")?
                .into_iter()
                .enumerate()
                .map(|(b, branch)| match branch {
                    Value::Array(steps) => Ok(steps),
                    other => Err(Malformed(format!(
                        "branch {b} of \"branches\" is not a list of steps: {other}"
                    ))),
                })
                .collect::<Result<Vec<_>, _>>()?;
            if branches.len() > usize::from(u16::MAX) {
                return Err(Malformed(format!(
                    "the entry has {} branches; a program has at most {}",
                    branches.len(),
                    u16::MAX
                )));
            }
            Program::parallel(list("prefix")?, branches)
        }
        Some(other) => {
            return Err(Later(format!(
                "it holds a `{other}` program, a shape this version does not know"
            )))
        }
    };
    let test = value
        .get("test")
        .and_then(Value::as_str)
        .ok_or_else(|| Malformed("the entry has no \"test\" string".to_string()))?;
    let schedule_seed = match value.get("schedule_seed") {
        None => None,
        Some(s) => Some(s.as_u64().ok_or_else(|| {
            Malformed(format!(
                "the entry's \"schedule_seed\" is not a whole number: {s}"
            ))
        })?),
    };
    Ok(Entry {
        line: 0,
        test: test.to_string(),
        program,
        schedule_seed,
    })
}

/// The file's text without a leading byte-order mark (editors on some systems add one); empty
/// when the file does not exist. Text that is not UTF-8 is an error naming the line.
fn read_text(path: &Path) -> Result<String, String> {
    let bytes = match fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(String::new()),
        Err(e) => return Err(format!("{}: cannot read: {e}", path.display())),
    };
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes);
    match std::str::from_utf8(bytes) {
        Ok(text) => Ok(text.to_string()),
        Err(e) => {
            let at = e.valid_up_to();
            let line = 1 + bytes[..at].iter().filter(|&&b| b == b'\n').count();
            Err(format!(
                "{}:{line}: not UTF-8 text (byte 0x{:02x}); regression files are UTF-8 JSON lines",
                path.display(),
                bytes[at]
            ))
        }
    }
}

/// Adds an entry unless the same program is already saved for this test.
///
/// Tests of one file may fail at once, in threads of one process or in processes of their own
/// (nextest): a lock file beside the regression file serializes the read-modify-rename, so no
/// entry is lost.
pub(crate) fn save(
    path: &Path,
    test: &str,
    seed: u64,
    schedule_seed: Option<u64>,
    program: &Program<Value>,
) -> Result<bool, String> {
    // Lock the file written, not a link to it: two links to one file share one lock.
    let target = follow_links(path);
    let _lock = Lock::acquire(&target);
    let old = read_text(path)?;
    let shape = program.shape();
    let mut entry = json!({
        "format": FORMAT,
        "test": test,
        "seed": seed,
        "shape": shape.as_str(),
    });
    if let Some(s) = schedule_seed {
        entry["schedule_seed"] = json!(s);
    }
    match shape {
        Shape::Sequential => entry["steps"] = json!(program.prefix),
        _ => {
            entry["prefix"] = json!(program.prefix);
            entry["branches"] = json!(program.branches);
        }
    }
    let line = entry.to_string();
    // The same program saved before, in this format or an older one, is not saved again.
    let saved =
        |l: &str| parse_entry(l.trim()).is_ok_and(|e| e.test == test && e.program == *program);
    if old.lines().any(saved) {
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

/// An exclusive lock on `<file>.stateprop-lock`, held through the operating system's file lock
/// and released on drop.
///
/// The lock belongs to an open file, not to the file's existence: when a process dies, the system
/// releases its lock, so a lock file left behind by a crash is never mistaken for a held lock, and
/// nobody ever has to guess from a file's age that its owner is gone. (Guessing was how entries got
/// lost: a waiter that broke a "stale" lock could break one another writer had just taken.)
struct Lock(Option<(PathBuf, fs::File)>);

impl Lock {
    fn acquire(path: &Path) -> Lock {
        let lock = path.with_extension("stateprop-lock");
        loop {
            let file = match fs::OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .open(&lock)
            {
                Ok(f) => f,
                // A read-only folder: writing will fail and say so; no lock to hold.
                Err(_) => return Lock(None),
            };
            if file.lock().is_err() {
                // A file system without locks: go on unlocked, as a single writer would.
                return Lock(None);
            }
            // The holder before us deletes the lock file before releasing it (see `drop`), and a
            // third writer may already have made a new one: we hold a lock only if the path
            // still names the very file we locked.
            if same_file(&file, &lock) {
                return Lock(Some((lock, file)));
            }
        }
    }
}

impl Drop for Lock {
    fn drop(&mut self) {
        if let Some((lock, file)) = self.0.take() {
            // Delete while still holding it, so no one can lock the old file and believe it is
            // the current one (they check with `same_file`).
            if cfg!(unix) {
                let _ = fs::remove_file(&lock);
            }
            drop(file);
        }
    }
}

#[cfg(unix)]
fn same_file(file: &fs::File, path: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (file.metadata(), fs::metadata(path)) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}

/// Elsewhere the lock file is never deleted, so the file locked is always the current one.
#[cfg(not(unix))]
fn same_file(_file: &fs::File, _path: &Path) -> bool {
    true
}

/// Writes `bytes` to a temporary file beside `path`, flushes it, and renames it over `path`.
///
/// When `path` is a symbolic link, the file it points to is written (and the link kept): users
/// link a report or a regression file into a shared folder on purpose.
pub(crate) fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), String> {
    let target = follow_links(path);
    let path = target.as_path();
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

/// The file `path` finally names, following symbolic links (also dangling ones, whose target is
/// then created); `path` itself when it is not a link. Gives up after 40 links, as the system does.
fn follow_links(path: &Path) -> PathBuf {
    let mut current = path.to_path_buf();
    for _ in 0..40 {
        match fs::symlink_metadata(&current) {
            Ok(m) if m.file_type().is_symlink() => match fs::read_link(&current) {
                Ok(target) if target.is_absolute() => current = target,
                Ok(target) => {
                    let dir = current.parent().map(Path::to_path_buf).unwrap_or_default();
                    current = dir.join(target);
                }
                Err(_) => return current,
            },
            _ => return current,
        }
    }
    current
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "stateprop-persist-unit-{}-{name}",
            std::process::id()
        ));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        dir.join("t.stateprop-regressions")
    }

    #[test]
    fn a_parallel_program_round_trips_and_is_saved_once() {
        let file = scratch("parallel");
        let program = Program::parallel(
            vec![json!({"Put": {"key": 1, "value": 2}})],
            vec![
                vec![json!({"Get": {"key": 1}})],
                vec![json!("Clear"), json!({"Add": 3})],
            ],
        );
        assert!(save(&file, "t", 9, None, &program).unwrap());
        let text = fs::read_to_string(&file).unwrap();
        let line = text.lines().find(|l| !l.starts_with('#')).unwrap();
        let raw: Value = serde_json::from_str(line).unwrap();
        assert_eq!(raw["shape"], "parallel");
        assert_eq!(raw["format"], 2);
        assert!(raw.get("steps").is_none(), "{line}");
        let loaded = load(&file, "t").unwrap();
        assert_eq!(loaded.len(), 1);
        assert_eq!(loaded[0].program, program);
        assert_eq!(loaded[0].line, 5);
        // The same program again is recognised as saved; a sequential one with the same
        // steps in one list is a different program.
        assert!(!save(&file, "t", 10, None, &program).unwrap());
        let flat = Program::sequential(program.steps().map(|(_, op)| op.clone()).collect());
        assert!(save(&file, "t", 11, None, &flat).unwrap());
        let loaded = load(&file, "t").unwrap();
        assert_eq!(loaded.len(), 2);
        assert_eq!(loaded[1].program, flat);
        assert!(loaded[1].program.branches.is_empty());
    }

    #[test]
    fn a_malformed_parallel_entry_is_an_error_naming_its_line() {
        let file = scratch("malformed");
        fs::write(
            &file,
            "# c\n{\"format\":2,\"shape\":\"parallel\",\"test\":\"t\",\"prefix\":[],\"branches\":[1]}\n",
        )
        .unwrap();
        let err = load(&file, "t").err().unwrap();
        assert!(
            err.ends_with(":2: branch 0 of \"branches\" is not a list of steps: 1"),
            "{err}"
        );
        fs::write(
            &file,
            "{\"format\":2,\"shape\":\"parallel\",\"test\":\"t\",\"prefix\":[]}\n",
        )
        .unwrap();
        let err = load(&file, "t").err().unwrap();
        assert!(
            err.ends_with(":1: the entry has no \"branches\" list"),
            "{err}"
        );
    }

    #[test]
    fn an_unknown_shape_is_skipped_not_an_error() {
        let file = scratch("unknown");
        fs::write(
            &file,
            "{\"format\":2,\"shape\":\"simulated\",\"test\":\"t\"}\n",
        )
        .unwrap();
        assert!(load(&file, "t").unwrap().is_empty());
    }
}
