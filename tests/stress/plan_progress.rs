//! The progress mode as part of a plan file.

use stateprop::stress::{ProgressMode, StressPlan};
use std::path::PathBuf;

fn file(name: &str, text: &str) -> PathBuf {
    crate::plan_file("pp", name, text)
}

#[test]
fn a_plan_file_sets_each_progress_mode_by_its_lowercase_name() {
    for (name, mode) in [
        ("auto", ProgressMode::Auto),
        ("bar", ProgressMode::Bar),
        ("lines", ProgressMode::Lines),
        ("quiet", ProgressMode::Quiet),
    ] {
        let text = format!("{{ \"operations\": 10, \"progress\": \"{name}\" }}");
        let plan = StressPlan::from_json(&text, None).unwrap();
        assert_eq!(plan.progress, Some(mode), "{text}");
    }
    let plan = StressPlan::from_json("{}", None).unwrap();
    assert_eq!(
        plan.progress, None,
        "left to the run (Auto) when the file says nothing"
    );
}

#[test]
fn a_bad_progress_mode_is_refused_on_its_line_naming_the_modes() {
    let path = file(
        "loud.json",
        "{\n  \"operations\": 10,\n  \"progress\": \"loud\"\n}\n",
    );
    let e = StressPlan::from_file(&path).unwrap_err();
    let _ = std::fs::remove_file(&path);
    assert_eq!(e.path.as_deref(), Some(path.as_path()));
    assert_eq!(e.line, Some(3), "{e}");
    assert!(e.message.contains("unknown variant `loud`"), "{e}");
    assert!(e.message.contains("`lines`"), "{e}");
    assert!(e.to_string().starts_with("stateprop: "), "{e}");
}
