//! The report README.md quotes "verbatim" is the one the quickstart prints.
//!
//! The quickstart's own code (`examples/quickstart.rs`) runs here as `cargo run --example
//! quickstart` runs it: on a thread named `main`, with seed 42. Only the wall-clock line the
//! example prints before the report is left out; it is not part of the report.

#[path = "../../examples/quickstart.rs"]
#[allow(dead_code)]
mod quickstart;

#[path = "../support/quotes.rs"]
#[allow(dead_code)]
mod quotes;

use quotes::{assert_quote, block_after, read};

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
