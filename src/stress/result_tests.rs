use super::*;

fn sample() -> StressResult {
    let mut r = StressResult::new(StressPlan::operations(1000), 7);
    r.operations = 1000;
    r.elapsed_secs = 0.25;
    r.throughput = 4000.0;
    r.latencies = vec![Latency::new("Put", 600, 0.12, 0.9, 4.0)];
    // A figure whose shortest decimal the default float parser reads back 1 ulp off.
    r.growth = Growth::measured(-1911.8065433854765, GrowthSource::Rss, 40);
    r.verdict = StressVerdict::LimitBroken;
    r.broken_limits = vec!["stateprop: memory grew 1.4 MiB per million operations".to_string()];
    r
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("stateprop-result-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn a_written_result_reads_back_equal_and_leaves_no_temporary_file() {
    let dir = temp_dir("roundtrip");
    let path = dir.join("run.json");
    let r = sample();
    r.write(&path).unwrap();
    assert_eq!(StressResult::read(&path).unwrap(), r);
    // Overwriting goes through the same rename.
    let mut again = r.clone();
    again.seed = 8;
    again.write(&path).unwrap();
    assert_eq!(StressResult::read(&path).unwrap().seed, 8);
    let names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, ["run.json"]);
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains("\"verdict\": \"limit_broken\""), "{text}");
    assert!(text.contains("\"source\": \"rss\""), "{text}");
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn writers_racing_on_one_path_leave_one_whole_result() {
    let dir = temp_dir("race");
    let path = dir.join("run.json");
    std::thread::scope(|scope| {
        for seed in 0..4u64 {
            let path = &path;
            scope.spawn(move || {
                let mut r = sample();
                r.seed = seed;
                for _ in 0..50 {
                    r.write(path).unwrap();
                    // Whatever a reader sees meanwhile is some writer's whole result.
                    assert!(StressResult::read(path).unwrap().seed < 4);
                }
            });
        }
    });
    assert!(StressResult::read(&path).unwrap().seed < 4);
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1);
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_failed_write_leaves_the_previous_file_whole() {
    let dir = temp_dir("failed-write");
    let path = dir.join("run.json");
    sample().write(&path).unwrap();
    let before = std::fs::read(&path).unwrap();
    // A directory where the temporary file would go makes the write fail before the rename.
    let blocker = dir.join(temp_name("run.json".as_ref()));
    std::fs::create_dir(&blocker).unwrap();
    let e = sample().write(&path).unwrap_err();
    assert!(e.to_string().contains("cannot write"), "{e}");
    assert_eq!(std::fs::read(&path).unwrap(), before);
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn errors_name_the_file_the_line_and_the_problem() {
    let path = Path::new("results/old.json");
    let good = serde_json::to_string_pretty(&sample()).unwrap();
    // A syntax error on line 3.
    let broken = good.replacen("\"seed\": 7", "\"seed\": 7,,", 1);
    let e = StressResult::from_json(&broken, path).unwrap_err();
    let line = broken.lines().position(|l| l.contains(",,")).unwrap() + 1;
    assert_eq!(e.line, Some(line));
    assert!(!e.problem.contains(" at line "), "{e}");
    assert!(
        e.to_string()
            .starts_with(&format!("results/old.json:{line}:")),
        "{e}"
    );
    // A field of the wrong type.
    let wrong = good.replacen(
        "\"operations\": 1000,\n  \"elapsed_secs\"",
        "\"operations\": \"many\",\n  \"elapsed_secs\"",
        1,
    );
    let e = StressResult::from_json(&wrong, path).unwrap_err();
    let line = wrong.lines().position(|l| l.contains("\"many\"")).unwrap() + 1;
    assert_eq!(e.line, Some(line), "{e}");
    assert!(e.problem.contains("invalid type"), "{e}");
    assert!(!e.problem.contains(" at line "), "{e}");
    // A missing field.
    let missing = good.replacen("\"seed\": 7,", "", 1);
    let e = StressResult::from_json(&missing, path).unwrap_err();
    assert!(e.problem.contains("missing field `seed`"), "{e}");
    // An empty file: a line, no column.
    let e = StressResult::from_json("", path).unwrap_err();
    assert_eq!(
        e.to_string(),
        "results/old.json:1: EOF while parsing a value"
    );
    // Not an object at all.
    let e = StressResult::from_json("[1, 2]", path).unwrap_err();
    assert_eq!(
        e.to_string(),
        "results/old.json:1: expected a JSON object: not a stress result"
    );
    // A verdict that is neither.
    let odd = good.replacen("\"limit_broken\"", "\"maybe\"", 1);
    let e = StressResult::from_json(&odd, path).unwrap_err();
    assert!(e.problem.contains("unknown variant `maybe`"), "{e}");
}

#[test]
fn a_newer_format_is_refused_by_name() {
    let text = serde_json::to_string_pretty(&sample()).unwrap().replacen(
        "\"format_version\": 1",
        "\"format_version\": 2",
        1,
    );
    let e = StressResult::from_json(&text, Path::new("new.json")).unwrap_err();
    assert_eq!(e.line, Some(2));
    assert!(e.problem.contains("newer stateprop"), "{e}");
    let e = StressResult::read("/nonexistent/run.json").unwrap_err();
    assert!(
        e.to_string()
            .starts_with("/nonexistent/run.json: cannot read"),
        "{e}"
    );
}

#[test]
fn figures_print_with_the_digits_that_matter() {
    assert_eq!(micros(0.001), "0.001");
    assert_eq!(micros(0.5), "0.5");
    assert_eq!(micros(0.123456), "0.123");
    assert_eq!(micros(0.0), "0.00");
    assert_eq!(micros(12.345), "12.35");
    assert_eq!(micros(1e-9), "1.000e-9");
    assert_eq!(micros(1e300), "1.000e300");
    assert_eq!(per_second(1e300), "1.000e300");
    assert_eq!(per_second(1_703_569.4), "1,703,569");
    assert_eq!(per_second(f64::INFINITY), "inf");
}
