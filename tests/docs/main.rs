//! Output quoted in README.md and docs/*.md is what real runs print (the crate docs' quotes are
//! checked by `tests/kv.rs`, the test they describe).
//!
//! The report README.md quotes "verbatim" is the quickstart's: its own code
//! (`examples/quickstart.rs`) runs here as `cargo run --example quickstart` runs it, on a thread
//! named `main`, with seed 42. Only the wall-clock line the example prints before the report is
//! left out; it is not part of the report.

#[path = "../../examples/quickstart.rs"]
#[allow(dead_code)]
mod quickstart;

#[path = "../../examples/diehard.rs"]
#[allow(dead_code)]
mod diehard_example;

#[path = "../support/quotes.rs"]
#[allow(dead_code)]
mod quotes;

use quotes::{assert_quote, block_after, crate_docs, read};
use stateprop::prelude::*;
use stateprop::Runner;

#[test]
fn readme_quotes_the_quickstart_report_verbatim() {
    let anchor = "This is the quickstart's, verbatim (`STATEPROP_SEED=42 cargo run";
    let readme = read("README.md");
    let quote = block_after(&readme, "README.md", anchor);
    // The example reads STATEPROP_SEED=42 from the environment; here the seed is pinned and the
    // environment ignored, which gives the same run (no variable changes what is generated).
    let config = quickstart::config().seed(42).ignore_env();
    let result = std::thread::Builder::new()
        .name("main".to_string())
        .spawn(move || quickstart::run(config))
        .expect("thread")
        .join()
        .expect("the quickstart panicked");
    assert!(result.failed(), "{}", result.report.text());
    assert_quote("README.md", anchor, &quote, &result.report.text());
}

/// The crate docs (Limitations) say a run of the DieHard example with one failure and seed 15
/// stops at eight steps, and reports six with five failures.
#[test]
fn crate_docs_say_how_far_diehard_shrinks() {
    let lib = crate_docs(&read("src/lib.rs"));
    let claims = [
        "a run with one failure and seed 15 stops at the 8-step one",
        "with 5, the same run reports six steps",
    ];
    let text = lib.split_whitespace().collect::<Vec<_>>().join(" ");
    for claim in claims {
        assert!(
            text.contains(claim),
            "src/lib.rs no longer says {claim:?}; update this test with it"
        );
    }
    let run = |failures: u32| {
        let config = diehard_example::config()
            .seed(15)
            .failures(failures)
            .ignore_env();
        stateprop::Runner::<diehard_example::Jugs>::new(config)
            .run_default::<diehard_example::Claim>()
    };
    let once = run(1);
    assert_eq!(once.minimal.len(), 8, "{}", once.report.text());
    let five = run(5);
    assert_eq!(five.minimal.len(), 6, "{}", five.report.text());
}

/// docs/attributes.md's model whose only rule, `Init`, may run once.
#[derive(Debug, Clone, Default)]
struct Once {
    done: bool,
}

#[derive(Debug, Clone, StateMachine)]
#[state_machine(model = Once)]
enum OnceOp {
    #[rule(precondition = |m: &Once| !m.done)]
    Init,
}

impl Model for Once {
    type Op = OnceOp;
    type Output = ();
    fn step(&mut self, _: &OnceOp) {
        self.done = true;
    }
}

#[derive(Default)]
struct OnceSystem;

impl System<Once> for OnceSystem {
    fn apply(&mut self, _: &OnceOp) {}
}

#[test]
fn attributes_quotes_the_message_when_no_rule_is_enabled() {
    let anchor = "If no rule at all is enabled, the run stops with the state";
    let doc = read("docs/attributes.md");
    let quote = block_after(&doc, "docs/attributes.md", anchor);
    let config = Config::default().seed(3).name("mistakes").ignore_env();
    let stopped = std::panic::catch_unwind(|| {
        Runner::<Once>::new(config).run_default::<OnceSystem>();
    })
    .expect_err("a run with no enabled rule stops");
    let message = stopped
        .downcast_ref::<String>()
        .expect("the message is a String");
    assert_quote(
        "docs/attributes.md",
        anchor,
        &quote,
        &format!("{message}\n"),
    );
}
