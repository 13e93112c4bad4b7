//! The pasteable test really is pasteable: take the `#[test]` a report prints, put it in a fresh
//! crate next to the model (as a user would), build and run it, and see the same failure.
//!
//! This builds a scratch crate with cargo (offline, with this repository's lock file), so it is
//! the slowest test of the suite on a cold target directory.

#[path = "../../examples/support/kv.rs"]
#[allow(dead_code)]
mod kv;

#[path = "../../examples/support/bank.rs"]
#[allow(dead_code)]
mod bank;

#[path = "../../examples/ticket_dispenser.rs"]
#[allow(dead_code)]
mod tickets;

use std::path::{Path, PathBuf};
use std::process::Command;

use stateprop::{Config, Runner};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

/// A crate named `name` whose modules are the given model files, each followed by its pasted
/// test (a crate per test, as the tests run at the same time).
fn scratch_crate(name: &str, modules: &[(&str, &str, String)]) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(dir.join("src"));
    write(
        &dir.join("Cargo.toml"),
        &format!(
            "[package]\nname = \"paste_check\"\nversion = \"0.0.0\"\nedition = \"2021\"\npublish = false\n\n\
             [dependencies]\nstateprop = {{ path = {ROOT:?} }}\n\n[workspace]\n"
        ),
    );
    std::fs::copy(Path::new(ROOT).join("Cargo.lock"), dir.join("Cargo.lock")).unwrap();
    let mut lib = String::from("#![allow(dead_code)]\n");
    for (name, model_file, pasted) in modules {
        lib.push_str(&format!("mod {name};\n"));
        let model = std::fs::read_to_string(Path::new(ROOT).join(model_file)).unwrap();
        write(
            &dir.join("src").join(format!("{name}.rs")),
            &format!("{model}\n// Pasted from the report:\n{pasted}"),
        );
    }
    write(&dir.join("src/lib.rs"), &lib);
    dir
}

fn cargo_test(dir: &Path) -> (bool, String) {
    let out = Command::new(env!("CARGO"))
        .args(["test", "--offline", "--quiet"])
        .current_dir(dir)
        .env(
            "CARGO_TARGET_DIR",
            Path::new(ROOT).join("target").join("paste-check"),
        )
        .env_remove("STATEPROP_SEED")
        .env_remove("RUSTFLAGS")
        .output()
        .expect("run cargo");
    let text = format!(
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

#[test]
fn a_pasted_regression_test_compiles_and_fails_the_same_way() {
    let kv = Runner::<kv::Kv>::new(
        Config::default()
            .ignore_env()
            .seed(42)
            .persist(false)
            .name("kv_store"),
    )
    .run_default::<kv::BuggyStore>();
    let bank = Runner::<bank::Ledger>::new(
        Config::default()
            .ignore_env()
            .seed(3)
            .steps(1..40)
            .persist(false)
            .name("bank"),
    )
    .run_default::<bank::Bank>();
    // A factory-built system: the pasted call names the types and leaves the factory to fill in.
    let factory = Runner::<kv::Kv>::new(
        Config::default()
            .ignore_env()
            .seed(7)
            .persist(false)
            .name("factory"),
    )
    .run(kv::BuggyStore::default);
    assert!(kv.failed() && bank.failed() && factory.failed());

    let dir = scratch_crate(
        "paste-check",
        &[
            ("kv", "examples/support/kv.rs", kv.report.pasteable_test()),
            (
                "bank",
                "examples/support/bank.rs",
                bank.report.pasteable_test(),
            ),
            (
                "factory",
                "examples/support/kv.rs",
                factory.report.pasteable_test(),
            ),
        ],
    );
    let (passed, output) = cargo_test(&dir);
    assert!(
        !passed,
        "the pasted tests must fail while the bugs are there:\n{output}"
    );
    assert!(
        !output.contains("error[E"),
        "the pasted tests must compile:\n{output}"
    );
    for report in [&kv.report, &bank.report] {
        let cause = report
            .failure
            .as_ref()
            .unwrap()
            .cause(report.minimal_rust.len());
        assert!(
            output.contains(&cause),
            "the pasted test must fail with the same cause `{cause}`:\n{output}"
        );
    }
    assert!(
        output.contains("build the system as the test does"),
        "the factory test compiles and asks for the factory:\n{output}"
    );
    assert!(output.contains("3 failed"), "{output}");
}

#[test]
fn a_pasted_replay_concurrent_test_compiles_and_fails_on_the_race() {
    let racy = Runner::<tickets::Tickets>::new(
        Config::default()
            .ignore_env()
            .seed(42)
            .persist(false)
            .name("ticket_dispenser"),
    )
    .run_concurrent_default::<tickets::RacyDispenser>();
    // A factory-built system: the pasted call names the types and leaves the factory to fill in.
    let factory = Runner::<tickets::Tickets>::new(
        Config::default()
            .ignore_env()
            .seed(7)
            .persist(false)
            .name("dispenser_factory"),
    )
    .run_concurrent(tickets::RacyDispenser::default);
    assert!(racy.failed() && factory.failed());
    let pasted = racy.report.pasteable_test();
    assert!(pasted.contains("stateprop::replay_concurrent::<Tickets, RacyDispenser>("));

    let dir = scratch_crate(
        "paste-check-concurrent",
        &[
            ("tickets", "examples/ticket_dispenser.rs", pasted),
            (
                "factory",
                "examples/ticket_dispenser.rs",
                factory.report.pasteable_test(),
            ),
        ],
    );
    let (passed, output) = cargo_test(&dir);
    assert!(
        !passed,
        "the pasted tests must fail while the race is there:\n{output}"
    );
    assert!(
        !output.contains("error[E"),
        "the pasted tests must compile:\n{output}"
    );
    assert!(
        output.contains("the history is not linearizable"),
        "the pasted test must fail on the race:\n{output}"
    );
    assert!(
        output.contains("build the system as the test does"),
        "the factory test compiles and asks for the factory:\n{output}"
    );
    assert!(output.contains("2 failed"), "{output}");
}
