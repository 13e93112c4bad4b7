//! A simulated world's delays come from the schedule seed, so a failure found under a schedule
//! seed the environment chose must say so: its rerun line names it, and the regression file
//! saves it beside the case, so a plain `cargo test` that replays the case under another seed
//! says it may pass there instead of passing without a word.

use super::register::{cluster, BackupReads};
use stateprop::{Config, Runner};
use std::path::PathBuf;
use std::process::Command;

/// Set in the child process: the campaign below runs only there.
const CHILD: &str = "STATEPROP_TEST_SCHEDULE_CHILD";

fn regression_file() -> PathBuf {
    std::env::temp_dir().join(format!(
        "stateprop-schedule-seed-{}.stateprop-regressions",
        std::process::id()
    ))
}

/// The campaign, with the environment applied (so `STATEPROP_SCHEDULE_SEED` reaches it); it
/// prints its report, pass or fail.
#[test]
fn schedule_seed_child_campaign() {
    let Some(file) = std::env::var_os(CHILD) else {
        return;
    };
    let config = Config::default()
        .seed(7)
        .cases(200)
        .steps(1..30)
        .regression_file(PathBuf::from(file));
    let result = Runner::with_initial(config, cluster()).run_simulated::<BackupReads>();
    println!("{}", result.report.text());
}

fn child(file: &PathBuf, schedule_seed: Option<&str>) -> (String, String) {
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args([
        "schedule_seed::schedule_seed_child_campaign",
        "--exact",
        "--nocapture",
        "--test-threads=1",
    ])
    .env(CHILD, file);
    // The child's settings are the test's own, whatever the user exported.
    for (name, _) in std::env::vars_os() {
        let name = name.to_string_lossy();
        if name.starts_with("STATEPROP_") || name.starts_with("PROPTEST_") {
            cmd.env_remove(&*name);
        }
    }
    if let Some(seed) = schedule_seed {
        cmd.env("STATEPROP_SCHEDULE_SEED", seed);
    }
    let out = cmd.output().expect("the test binary runs again");
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn a_failure_under_a_schedule_seed_from_the_environment_names_it_and_saves_it() {
    let file = regression_file();
    let _ = std::fs::remove_file(&file);
    let (stdout, stderr) = child(&file, Some("0x5"));
    assert!(
        stdout.contains(" STATEPROP_SCHEDULE_SEED=0x5 cargo test"),
        "the rerun line does not name the schedule seed:\n{stdout}\n{stderr}"
    );
    let saved = std::fs::read_to_string(&file).expect("the case was saved");
    assert!(saved.contains("\"schedule_seed\":5"), "{saved}");
    // Replayed under the default schedule seed, the case is not replayed without a word.
    let (_, stderr) = child(&file, None);
    assert!(
        stderr.contains(
            "this case failed under STATEPROP_SCHEDULE_SEED=0x5 and is replayed under 0x0"
        ),
        "{stderr}"
    );
    let _ = std::fs::remove_file(&file);
    let _ = std::fs::remove_file(file.with_extension("stateprop-lock"));
}
