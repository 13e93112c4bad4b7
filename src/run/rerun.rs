//! The command a report prints to rerun the run: which cargo target started it, and which test.
//!
//! Three clues, all fixed for a given build, so the report stays the same byte for byte:
//! - the source file of the call (`Location::caller().file()`, relative to the workspace root):
//!   `tests/`, `examples/`, `benches/`, `src/bin/`, `src/main.rs` or other library code;
//! - the thread's name: the test harness runs each test on a thread named by its full path
//!   (`persistence::saves_the_case`), a program runs on `main`;
//! - the executable: cargo puts test harnesses in `deps/NAME-HASH`, examples in `examples/`, and
//!   `cargo run` runs `target/<profile>/NAME`. It names the real target where the source file
//!   does not, e.g. a helper in `tests/support/` compiled into the `runner` test.
//!
//! A source in a workspace member's folder (`cli/tests/x.rs`) also names its package with `-p`,
//! from `CARGO_PKG_NAME`, which cargo sets for what it runs: from the workspace root, a bare
//! `--test x` only looks in the root package.
//!
//! A test filter is matched as a substring unless `--exact` is given, and `store_matches_model`
//! would also run `store_matches_model_with`; so the command names the test in full and exactly.

use std::path::{Component, Path};

/// What started the run.
pub(crate) struct Invocation<'a> {
    /// The caller's source file, as `Location::file` gives it.
    pub(crate) source: &'a str,
    /// The current thread's name.
    pub(crate) thread: Option<&'a str>,
    /// The running executable.
    pub(crate) exe: Option<&'a Path>,
    /// The package being run (`CARGO_PKG_NAME`, which cargo sets for the programs it runs);
    /// named with `-p` when the source lives in a workspace member's folder.
    pub(crate) package: Option<&'a str>,
    /// The package's folder (`CARGO_MANIFEST_DIR`, which cargo sets for what it runs): where a
    /// member's own `tests/` or `src/` begins when its folder is itself named like one
    /// (`examples/raft_kv/tests/x.rs` is member `examples/raft_kv`'s test `x`, not an example).
    pub(crate) manifest_dir: Option<&'a Path>,
}

/// The command for a run called from `source` on the current thread.
pub(crate) fn command_here(source: &str) -> String {
    let thread = std::thread::current();
    let exe = std::env::current_exe().ok();
    let package = std::env::var("CARGO_PKG_NAME").ok();
    let manifest_dir = std::env::var_os("CARGO_MANIFEST_DIR").map(std::path::PathBuf::from);
    Invocation {
        source,
        thread: thread.name(),
        exe: exe.as_deref(),
        package: package.as_deref(),
        manifest_dir: manifest_dir.as_deref(),
    }
    .command()
}

/// The cargo target kinds a run can start from.
#[derive(Debug, PartialEq)]
enum Target {
    Test(String),
    Example(String),
    Bench(String),
    Bin(Option<String>),
    Lib,
    Unknown,
}

/// Where cargo put the executable, judged by its folder.
enum Exe {
    /// `deps/NAME-HASH`: a test harness (integration test, unit tests, benchmark).
    Harness(String),
    /// `examples/NAME` or `examples/NAME-HASH`.
    Example(String),
    /// Anything else: a binary run by `cargo run` or by hand.
    Program(String),
}

impl Invocation<'_> {
    /// `cargo test --test runner persistence::saves_the_case -- --exact`, `cargo run --example
    /// quickstart`, `cargo run --bin tool`, `cargo bench --bench throughput`, ...
    pub(crate) fn command(&self) -> String {
        // The harness names its threads after the tests; a program's own thread is `main`.
        let test = self.thread.filter(|t| *t != "main");
        let parts = normalize(self.source);
        // Sources of the workspace are relative to its root; an absolute one is another crate's.
        let marker = if Path::new(self.source).is_absolute() {
            None
        } else {
            self.target_folder(&parts)
        };
        let (target, member) = match marker {
            Some(i) => (self.target(&parts[i], &parts[i + 1..]), i > 0),
            None => (self.target_from_exe(), false),
        };
        let package = match (member, self.package) {
            (true, Some(p)) => format!(" -p {p}"),
            _ => String::new(),
        };
        let filter = |t: &str| format!(" {t} -- --exact");
        match (target, test) {
            (Target::Test(name), Some(t)) => {
                format!("cargo test{package} --test {name}{}", filter(t))
            }
            (Target::Test(name), None) => format!("cargo test{package} --test {name}"),
            (Target::Example(name), Some(t)) => {
                format!("cargo test{package} --example {name}{}", filter(t))
            }
            (Target::Example(name), None) => format!("cargo run{package} --example {name}"),
            (Target::Bench(name), Some(t)) => {
                format!("cargo bench{package} --bench {name}{}", filter(t))
            }
            (Target::Bench(name), None) => format!("cargo bench{package} --bench {name}"),
            (Target::Bin(Some(name)), Some(t)) => {
                format!("cargo test{package} --bin {name}{}", filter(t))
            }
            (Target::Bin(None), Some(t)) => format!("cargo test{package} --bins{}", filter(t)),
            (Target::Bin(Some(name)), None) => format!("cargo run{package} --bin {name}"),
            (Target::Bin(None), None) => format!("cargo run{package}"),
            (Target::Lib, Some(t)) => format!("cargo test{package} --lib{}", filter(t)),
            (Target::Lib | Target::Unknown, None) => format!("cargo run{package}"),
            (Target::Unknown, Some(t)) => format!("cargo test{package}{}", filter(t)),
        }
    }

    /// Where the target's folder (`src`, `tests`, ...) is among `parts`: the first one, unless
    /// the package's folder says the source belongs to a member below that one.
    fn target_folder(&self, parts: &[String]) -> Option<usize> {
        let is_marker = |p: &String| matches!(p.as_str(), "src" | "tests" | "examples" | "benches");
        let first = parts.iter().position(is_marker)?;
        let member = self.manifest_dir.map(normalize_path).unwrap_or_default();
        // The deepest marker whose folders above are the package folder's last ones.
        let owned = (first + 1..parts.len()).rev().find(|&i| {
            is_marker(&parts[i]) && member.len() >= i && member[member.len() - i..] == parts[..i]
        });
        Some(owned.unwrap_or(first))
    }

    /// The target of a source file under `dir` (`tests`, `src`, ...), with `rest` the path below.
    fn target(&self, dir: &str, rest: &[String]) -> Target {
        // `tests/NAME.rs`, or a folder `tests/NAME/` whose `main.rs` is the target's root.
        let named = || {
            let first = rest.first()?;
            Some(match rest.len() {
                1 => first.strip_suffix(".rs").unwrap_or(first).to_string(),
                _ => first.clone(),
            })
        };
        let exe = self.exe.and_then(classify_exe);
        match dir {
            "tests" | "benches" => {
                // A file under `tests/` may be a module shared by several targets (`#[path]`);
                // the harness running it is the one that counts.
                let from_path = named();
                let name = match (exe, &from_path) {
                    (Some(Exe::Harness(e)), Some(p)) if crate_name(p) == e => p.clone(),
                    (Some(Exe::Harness(e)), _) => e,
                    (_, Some(p)) => p.clone(),
                    (_, None) => return Target::Unknown,
                };
                if dir == "tests" {
                    Target::Test(name)
                } else {
                    Target::Bench(name)
                }
            }
            "examples" => match (exe, named()) {
                // A helper under `examples/` may serve several examples; the running one counts.
                (Some(Exe::Example(e)), Some(p)) if crate_name(&p) != e => Target::Example(e),
                (Some(Exe::Example(e)), None) => Target::Example(e),
                (_, Some(p)) => Target::Example(p),
                (_, None) => Target::Unknown,
            },
            _ => match rest {
                [bin, file] if bin == "bin" => {
                    Target::Bin(Some(file.strip_suffix(".rs").unwrap_or(file).to_string()))
                }
                [bin, folder, _, ..] if bin == "bin" => Target::Bin(Some(folder.clone())),
                // `src/main.rs` is the binary named after the package.
                [main] if main == "main.rs" => Target::Bin(match exe {
                    Some(Exe::Program(name)) => Some(name),
                    _ => self.package.map(str::to_string),
                }),
                // Library code: a unit test, or a helper a program or test calls.
                _ => match exe {
                    Some(Exe::Example(name)) => Target::Example(name),
                    Some(Exe::Program(name)) => Target::Bin(Some(name)),
                    _ => Target::Lib,
                },
            },
        }
    }

    /// A source path that names no target (another crate's file, a remapped path).
    fn target_from_exe(&self) -> Target {
        match self.exe.and_then(classify_exe) {
            Some(Exe::Example(name)) => Target::Example(name),
            Some(Exe::Program(name)) => Target::Bin(Some(name)),
            Some(Exe::Harness(_)) | None => Target::Unknown,
        }
    }
}

/// The path's components with `.` and `..` resolved as text (`tests/../examples/x.rs` is
/// `examples/x.rs`, as a test that includes an example's file with `#[path]` gets it).
fn normalize(source: &str) -> Vec<String> {
    normalize_path(Path::new(source))
}

fn normalize_path(path: &Path) -> Vec<String> {
    let mut parts: Vec<String> = Vec::new();
    for c in path.components() {
        match c {
            Component::Normal(p) => parts.push(p.to_string_lossy().into_owned()),
            Component::ParentDir => {
                parts.pop();
            }
            Component::CurDir | Component::RootDir | Component::Prefix(_) => {}
        }
    }
    parts
}

/// A target's name as its crate, and so its executable, spells it.
fn crate_name(target: &str) -> String {
    target.replace('-', "_")
}

fn classify_exe(exe: &Path) -> Option<Exe> {
    let stem = exe.file_stem()?.to_str()?;
    let folder = exe.parent()?.file_name()?.to_str()?;
    Some(match folder {
        "deps" => Exe::Harness(strip_hash(stem).to_string()),
        "examples" => Exe::Example(strip_hash(stem).to_string()),
        _ => Exe::Program(stem.to_string()),
    })
}

/// `runner-0123456789abcdef` → `runner`: cargo's 16-hex-digit metadata suffix.
fn strip_hash(stem: &str) -> &str {
    match stem.rsplit_once('-') {
        Some((name, hash)) if hash.len() == 16 && hash.bytes().all(|b| b.is_ascii_hexdigit()) => {
            name
        }
        _ => stem,
    }
}

#[cfg(test)]
mod tests {
    use super::Invocation;
    use std::path::Path;

    fn command(source: &str, thread: Option<&str>, exe: Option<&str>) -> String {
        Invocation {
            source,
            thread,
            exe: exe.map(Path::new),
            package: Some("my-pkg"),
            manifest_dir: Some(Path::new("/w/repo")),
        }
        .command()
    }

    const HARNESS: Option<&str> = Some("/t/debug/deps/runner-0123456789abcdef");

    #[test]
    fn integration_tests_are_named_by_target_and_exact_test_path() {
        for source in ["tests/runner/main.rs", "tests/runner/persistence.rs"] {
            assert_eq!(
                command(source, Some("persistence::saves"), HARNESS),
                "cargo test --test runner persistence::saves -- --exact"
            );
        }
        assert_eq!(
            command("tests/kv.rs", Some("store_matches_model"), None),
            "cargo test --test kv store_matches_model -- --exact"
        );
        // A shared helper under tests/ is attributed to the harness that runs it.
        assert_eq!(
            command("tests/support/kv.rs", Some("a::b"), HARNESS),
            "cargo test --test runner a::b -- --exact"
        );
        // A hyphenated target keeps its hyphen (its executable has an underscore).
        assert_eq!(
            command(
                "tests/my-test.rs",
                Some("t"),
                Some("/t/debug/deps/my_test-0123456789abcdef")
            ),
            "cargo test --test my-test t -- --exact"
        );
        // A test without the harness (`harness = false`) runs on `main`.
        assert_eq!(
            command("tests/plain.rs", Some("main"), None),
            "cargo test --test plain"
        );
    }

    #[test]
    fn unit_tests_in_the_library_run_with_lib() {
        assert_eq!(
            command(
                "src/run/mod.rs",
                Some("run::tests::x"),
                Some("/t/debug/deps/my_pkg-0123456789abcdef")
            ),
            "cargo test --lib run::tests::x -- --exact"
        );
    }

    #[test]
    fn examples_run_with_cargo_run_example() {
        let exe = Some("/t/debug/examples/quickstart");
        assert_eq!(
            command("examples/quickstart.rs", Some("main"), exe),
            "cargo run --example quickstart"
        );
        assert_eq!(
            command("examples/quickstart/main.rs", None, exe),
            "cargo run --example quickstart"
        );
        // A helper shared by examples: the running example counts.
        assert_eq!(
            command("examples/support/kv.rs", Some("main"), exe),
            "cargo run --example quickstart"
        );
        // An example's file included by a test with `#[path]`, run as the example runs.
        assert_eq!(
            command(
                "tests/docs/../../examples/quickstart.rs",
                Some("main"),
                HARNESS
            ),
            "cargo run --example quickstart"
        );
        // Tests inside an example.
        assert_eq!(
            command("examples/quickstart.rs", Some("tests::t"), exe),
            "cargo test --example quickstart tests::t -- --exact"
        );
    }

    #[test]
    fn binaries_run_with_cargo_run_bin() {
        assert_eq!(
            command("src/bin/tool.rs", Some("main"), Some("/t/debug/tool")),
            "cargo run --bin tool"
        );
        assert_eq!(
            command("src/bin/tool/main.rs", None, None),
            "cargo run --bin tool"
        );
        assert_eq!(
            command("src/bin/tool/checks.rs", Some("main"), None),
            "cargo run --bin tool"
        );
        assert_eq!(
            command("src/bin/tool.rs", Some("tests::t"), None),
            "cargo test --bin tool tests::t -- --exact"
        );
        // `src/main.rs` is the package's binary; `cargo run` leaves it at target/debug/NAME.
        assert_eq!(
            command("src/main.rs", Some("main"), Some("/t/debug/my-app")),
            "cargo run --bin my-app"
        );
        assert_eq!(
            command("src/main.rs", Some("main"), None),
            "cargo run --bin my-pkg"
        );
        // Library code called from a program: the program is what to rerun.
        assert_eq!(
            command("src/helpers.rs", Some("main"), Some("/t/debug/my-app")),
            "cargo run --bin my-app"
        );
    }

    #[test]
    fn benchmarks_run_with_cargo_bench() {
        let exe = Some("/t/release/deps/throughput-0123456789abcdef");
        assert_eq!(
            command("benches/throughput.rs", Some("main"), exe),
            "cargo bench --bench throughput"
        );
        assert_eq!(
            command("benches/throughput.rs", Some("kv"), exe),
            "cargo bench --bench throughput kv -- --exact"
        );
    }

    #[test]
    fn workspace_members_name_their_package() {
        assert_eq!(
            command("cli/tests/args.rs", Some("t"), None),
            "cargo test -p my-pkg --test args t -- --exact"
        );
        assert_eq!(
            command("cli/examples/demo.rs", Some("main"), None),
            "cargo run -p my-pkg --example demo"
        );
    }

    #[test]
    fn a_member_in_a_folder_named_like_a_target_folder_is_found_by_its_manifest_dir() {
        let at = |source, thread, manifest: Option<&str>| {
            Invocation {
                source,
                thread,
                exe: Some(Path::new("/t/debug/deps/reads-0123456789abcdef")),
                package: Some("raft_kv"),
                manifest_dir: manifest.map(Path::new),
            }
            .command()
        };
        let member = Some("/w/repo/examples/raft_kv");
        assert_eq!(
            at("examples/raft_kv/tests/reads.rs", Some("a::b"), member),
            "cargo test -p raft_kv --test reads a::b -- --exact"
        );
        assert_eq!(
            at("examples/raft_kv/src/node.rs", Some("t"), member),
            "cargo test -p raft_kv --lib t -- --exact"
        );
        // A folder named `tests` inside the root package's `src/` is still library code.
        assert_eq!(
            at("src/sim/tests/pb.rs", Some("t"), Some("/w/repo")),
            "cargo test --lib t -- --exact"
        );
    }

    #[test]
    fn unknown_sources_fall_back_to_the_executable() {
        assert_eq!(
            command("/registry/src/helper-1.0/src/lib.rs", Some("a::b"), HARNESS),
            "cargo test a::b -- --exact"
        );
        assert_eq!(
            command(
                "/registry/src/helper-1.0/src/lib.rs",
                Some("main"),
                Some("/t/debug/app")
            ),
            "cargo run --bin app"
        );
    }
}
