//! The pasted `replay_simulated` test, compiled in a crate of its own beside the example it
//! came from: it must compile and fail with the run's cause while the bug is there.

use crate::register::{cluster, config, BackupReads};
use stateprop::Runner;
use std::path::Path;
use std::process::Command;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

#[test]
fn the_pasted_replay_simulated_test_compiles_and_fails_the_same_way() {
    let result =
        Runner::with_initial(config().name("register"), cluster()).run_simulated::<BackupReads>();
    assert!(result.failed());
    let pasted = result.report.pasteable_test();

    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("sim-paste-check");
    let _ = std::fs::remove_dir_all(dir.join("src"));
    write(
        &dir.join("Cargo.toml"),
        &format!(
            "[package]\nname = \"sim_paste_check\"\nversion = \"0.0.0\"\nedition = \"2021\"\n\
             publish = false\n\n[dependencies]\nstateprop = {{ path = {ROOT:?} }}\n\n[workspace]\n"
        ),
    );
    std::fs::copy(Path::new(ROOT).join("Cargo.lock"), dir.join("Cargo.lock")).unwrap();
    let example =
        std::fs::read_to_string(Path::new(ROOT).join("examples/replicated_register.rs")).unwrap();
    // The module a user pastes into has the step type in scope, as it has the operations'.
    write(
        &dir.join("src/lib.rs"),
        &format!(
            "#![allow(dead_code)]\n{example}\n#[cfg(test)]\nuse stateprop::sim::SimStep;\n\
             // Pasted from the report:\n{pasted}"
        ),
    );
    let out = Command::new(env!("CARGO"))
        .args(["test", "--offline", "--quiet"])
        .current_dir(&dir)
        .env(
            "CARGO_TARGET_DIR",
            Path::new(ROOT).join("target").join("paste-check"),
        )
        .env_remove("STATEPROP_SEED")
        .env_remove("STATEPROP_SCHEDULE_SEED")
        .env_remove("RUSTFLAGS")
        .output()
        .expect("run cargo");
    let output = format!(
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        !output.contains("error[E"),
        "the pasted test must compile:\n{output}"
    );
    assert!(
        !out.status.success(),
        "the pasted test must fail:\n{output}"
    );
    // The cause as the replay words it: the same violation, the same values.
    let report = &result.report;
    let cause = report
        .failure
        .as_ref()
        .unwrap()
        .cause(report.minimal_rust.len());
    let (_, values) = cause
        .split_once("in that order")
        .expect("a linearizability cause");
    assert!(
        output.contains("cause: the history is not linearizable") && output.contains(values),
        "the pasted test must fail with the same cause `{cause}`:\n{output}"
    );
    assert!(output.contains("1 failed"), "{output}");
}
