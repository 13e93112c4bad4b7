//! The page in a real browser: Debian's chromium, headless.
//!
//! The only tests that depend on the machine, and never silently: where chromium is found they
//! run; where it is missing they fail if the `CI` environment variable is set (CI installs
//! chromium, so a missing one there is a broken setup) and otherwise pass with a banner on
//! stderr, printed past the test harness's capture, saying they did not run and how to make them
//! run (`apt-get install chromium`). `cargo test` thus passes on a fresh machine with only the
//! Rust toolchain. `STATEPROP_TEST_CHROMIUM` names the browser to use instead of searching
//! `PATH`; a path that does not exist counts as chromium missing.

use super::{check_kv, check_register, kv_violation, linearizable_register};
use stateprop::models::{CasRegister, KvModel};
use stateprop::render::{render_html, render_sim_html, RenderOptions};
use std::ffi::{OsStr, OsString};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A stuck browser must not hang the suite.
const TIMEOUT: Duration = Duration::from_secs(60);

/// The one command that makes these tests run.
const INSTALL: &str = "apt-get install chromium";

/// Names the browser to use, overriding the search of `PATH`.
const OVERRIDE: &str = "STATEPROP_TEST_CHROMIUM";

/// The browser, if this machine has one.
fn find_chromium() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os(OVERRIDE) {
        return Some(PathBuf::from(path)).filter(|p| p.is_file());
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .flat_map(|dir| ["chromium", "chromium-browser"].map(|name| dir.join(name)))
        .find(|p| p.is_file())
}

/// Whether `CI` says this is a CI run: set, and not empty, `0` or `false`.
fn in_ci(ci: Option<&OsStr>) -> bool {
    ci.is_some_and(|v| !["", "0", "false"].contains(&v.to_string_lossy().as_ref()))
}

/// What a test does given the browser found and the `CI` variable: `Ok(Some(browser))` run it,
/// `Ok(None)` skip with a warning, `Err` fail with this message.
fn decide(found: Option<PathBuf>, ci: Option<&OsStr>) -> Result<Option<PathBuf>, String> {
    match found {
        Some(browser) => Ok(Some(browser)),
        None if in_ci(ci) => Err(format!(
            "CI is set but chromium is missing: the browser test of the HTML report is mandatory \
             in CI; install it with `{INSTALL}` (or point {OVERRIDE} at a browser)"
        )),
        None => Ok(None),
    }
}

/// The browser to run, or `None` after a loud warning; panics in CI without one.
fn chromium() -> Option<PathBuf> {
    let ci: Option<OsString> = std::env::var_os("CI");
    match decide(find_chromium(), ci.as_deref()) {
        Ok(Some(browser)) => Some(browser),
        Ok(None) => {
            // Straight to the stderr stream, not `eprintln!`, which the harness captures and
            // shows only for failing tests: this must be seen although the test passes.
            let banner = format!(
                "\n\
                 stateprop: ===================================================================\n\
                 stateprop: BROWSER TEST NOT RUN: chromium is not installed on this machine, so\n\
                 stateprop: the HTML report was not checked in a real browser.\n\
                 stateprop: To run it: {INSTALL}\n\
                 stateprop: (With CI set, a missing chromium fails this test instead.)\n\
                 stateprop: ===================================================================\n"
            );
            let _ = std::io::stderr().write_all(banner.as_bytes());
            None
        }
        Err(message) => panic!("{message}"),
    }
}

/// A fresh directory under the target's temporary directory.
fn fresh_dir(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("render")
        .join(name);
    if dir.exists() {
        std::fs::remove_dir_all(&dir).unwrap();
    }
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Runs headless `chromium` on `page` with `args`, killing it after [`TIMEOUT`]; returns stdout.
fn run_chromium(chromium: &Path, dir: &Path, page: &Path, args: &[String]) -> String {
    let profile = dir.join(format!("profile-{}", args.len()));
    let _ = std::fs::remove_dir_all(&profile);
    let stdout_path = dir.join("chromium.stdout");
    let stderr_path = dir.join("chromium.stderr");
    let mut child = Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .arg(format!("file://{}", page.display()))
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&stdout_path).unwrap())
        .stderr(std::fs::File::create(&stderr_path).unwrap())
        .spawn()
        .expect("chromium starts");
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if start.elapsed() > TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "chromium did not finish in {TIMEOUT:?}; its stderr:\n{}",
                std::fs::read_to_string(&stderr_path).unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let stderr = std::fs::read_to_string(&stderr_path).unwrap_or_default();
    assert!(status.success(), "chromium failed ({status}):\n{stderr}");
    std::fs::read_to_string(&stdout_path).unwrap()
}

/// Checks that `path` is a PNG of the window's size, big enough to hold a drawn page.
fn assert_png(path: &Path) {
    let bytes =
        std::fs::read(path).unwrap_or_else(|e| panic!("no screenshot at {}: {e}", path.display()));
    assert!(
        bytes.starts_with(b"\x89PNG\r\n\x1a\n"),
        "{} is not a PNG",
        path.display()
    );
    assert!(
        bytes.len() > 5 * 1024,
        "{} is only {} bytes: a blank page?",
        path.display(),
        bytes.len()
    );
    let width = u32::from_be_bytes(bytes[16..20].try_into().unwrap());
    let height = u32::from_be_bytes(bytes[20..24].try_into().unwrap());
    assert_eq!((width, height), (1400, 900));
}

#[test]
fn chromium_if_installed_runs_the_page_and_shows_the_impossible_operation() {
    let Some(chromium) = chromium() else { return };
    let dir = fresh_dir("violation");
    let h = kv_violation();
    let report = check_kv(&h);
    let html = render_html(
        &h,
        &KvModel::default(),
        &report,
        |op| op.key().to_string(),
        "kv store: a read of a value that was overwritten",
    );
    assert!(!html.contains("<aside id=\"state-panel\""));
    let page = dir.join("history.html");
    std::fs::write(&page, &html).unwrap();

    let dom = run_chromium(&chromium, &dir, &page, &["--dump-dom".to_string()]);
    // The highlighted operation, selected by the script at load.
    let at = dom
        .find("id=\"impossible-op\"")
        .expect("the impossible operation");
    let tag = &dom[dom[..at].rfind('<').unwrap()..at + dom[at..].find('>').unwrap()];
    assert!(
        tag.contains("impossible") && tag.contains("current"),
        "{tag}"
    );
    // The hover panel exists only once the script has run, and shows the impossible operation.
    let panel = state_panel(&dom);
    assert!(
        panel.contains("Operation #7") && panel.contains("client 1 · called at 16"),
        "{panel}"
    );
    assert!(panel.contains("state before"), "{panel}");
    assert!(
        panel.contains("cannot be placed after 4 operations"),
        "{panel}"
    );

    screenshot(&chromium, &dir, &page);
}

#[test]
fn chromium_if_installed_draws_a_linearizable_history() {
    let Some(chromium) = chromium() else { return };
    let dir = fresh_dir("linearizable");
    let h = linearizable_register();
    let report = check_register(&h);
    let html = render_html(&h, &CasRegister::default(), &report, |_| (), "cas register");
    let page = dir.join("history.html");
    std::fs::write(&page, &html).unwrap();
    let dom = run_chromium(&chromium, &dir, &page, &["--dump-dom".to_string()]);
    let panel = state_panel(&dom);
    assert!(
        panel.contains("linearized 1") && panel.contains("state after"),
        "{panel}"
    );
    screenshot(&chromium, &dir, &page);
}

/// Console errors chromium logged while loading a page (`--enable-logging=stderr`), such as an
/// uncaught exception in the page's script.
fn console_errors(dir: &Path) -> Vec<String> {
    std::fs::read_to_string(dir.join("chromium.stderr"))
        .unwrap_or_default()
        .lines()
        .filter(|l| l.contains("CONSOLE") && (l.contains("Uncaught") || l.contains("Error")))
        .map(str::to_string)
        .collect()
}

#[test]
fn chromium_if_installed_runs_the_simulated_run_page_and_draws_its_lanes_and_arrows() {
    let Some(chromium) = chromium() else { return };
    let dir = fresh_dir("simulated");
    let report = super::sim_page::stale_read_report();
    let html =
        render_sim_html(&report, "replicated register", &RenderOptions::default()).expect("a page");
    let arrows = super::sim_page::elements(&html, "line")
        .iter()
        .filter(|l| l.get("class").is_some_and(|c| c.starts_with("msg ")))
        .count();
    assert!(arrows >= 4, "{arrows}");
    let page = dir.join("history.html");
    std::fs::write(&page, &html).unwrap();
    let logging = ["--enable-logging=stderr".to_string(), "--v=0".to_string()];
    let mut args = vec!["--dump-dom".to_string()];
    args.extend(logging.iter().cloned());
    let dom = run_chromium(&chromium, &dir, &page, &args);
    assert_eq!(console_errors(&dir), Vec::<String>::new());
    // What the script counted once it ran: the lanes and the arrows in the drawing.
    let svg = &dom[dom.find("<svg id=\"sim\"").expect("the drawing")..];
    let svg_tag = &svg[..svg.find('>').unwrap()];
    assert!(svg_tag.contains("data-lanes-seen=\"3\""), "{svg_tag}");
    assert!(
        svg_tag.contains(&format!("data-arrows-seen=\"{arrows}\"")),
        "{svg_tag}"
    );
    // The panel, built by the script, shows the failing step: the read at the backup.
    let at = dom
        .find("<aside id=\"event-panel\"")
        .expect("the script built the event panel");
    let panel = &dom[at..at + dom[at..].find("</aside>").expect("closed")];
    assert!(
        panel.contains("The failing step")
            && panel.contains("step 1: Request { client: 0, node: 1, op: Read }"),
        "{panel}"
    );
    let failing = &dom[dom.find("id=\"failing-step\"").expect("the failing step")..];
    assert!(failing[..failing.find('>').unwrap()].contains("current"));

    // The same check sees a script that fails.
    let broken = html.replace("</body>", "<script>notDefinedAnywhere();</script></body>");
    std::fs::write(&page, broken).unwrap();
    run_chromium(&chromium, &dir, &page, &args);
    assert!(
        console_errors(&dir)
            .iter()
            .any(|l| l.contains("notDefinedAnywhere")),
        "a failing script went unseen"
    );
    std::fs::write(&page, &html).unwrap();
    screenshot(&chromium, &dir, &page);
}

/// The side panel the page's script builds at load (absent if the script did not run).
fn state_panel(dom: &str) -> &str {
    let at = dom
        .find("<aside id=\"state-panel\"")
        .expect("the script built the state panel");
    &dom[at..at + dom[at..].find("</aside>").expect("the panel is closed")]
}

/// Takes a 1400x900 screenshot of `page` and checks it is a real picture.
fn screenshot(chromium: &Path, dir: &Path, page: &Path) {
    let shot = dir.join("history.png");
    run_chromium(
        chromium,
        dir,
        page,
        &[
            format!("--screenshot={}", shot.display()),
            "--window-size=1400,900".to_string(),
        ],
    );
    assert_png(&shot);
}

#[test]
fn a_missing_chromium_fails_in_ci_and_is_reported_elsewhere() {
    let here = Some(PathBuf::from("/usr/bin/chromium"));
    for ci in [None, Some("true"), Some("1"), Some("false"), Some("")] {
        assert_eq!(decide(here.clone(), ci.map(OsStr::new)), Ok(here.clone()));
    }
    for ci in [None, Some("false"), Some("0"), Some("")] {
        assert_eq!(decide(None, ci.map(OsStr::new)), Ok(None), "CI={ci:?}");
    }
    for ci in ["true", "1", "yes"] {
        let message = decide(None, Some(OsStr::new(ci))).unwrap_err();
        assert!(message.contains(INSTALL), "{message}");
    }
}

/// Runs one browser test of this very binary as on a machine without chromium, with `ci` as
/// the `CI` variable.
fn run_without_chromium(ci: Option<&str>) -> std::process::Output {
    let mut command = Command::new(std::env::current_exe().unwrap());
    command
        .args([
            "--exact",
            "browser::chromium_if_installed_draws_a_linearizable_history",
        ])
        .env(OVERRIDE, "/nonexistent/chromium")
        .env_remove("CI");
    if let Some(ci) = ci {
        command.env("CI", ci);
    }
    command.output().unwrap()
}

#[test]
fn without_chromium_the_test_passes_loudly_or_fails_in_ci() {
    let o = run_without_chromium(None);
    let stderr = String::from_utf8_lossy(&o.stderr);
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("1 passed"), "{stdout}");
    // Seen without --nocapture: the harness captured nothing of it.
    assert!(stderr.contains("BROWSER TEST NOT RUN"), "{stderr}");
    assert!(
        stderr.contains(&format!("To run it: {INSTALL}")),
        "{stderr}"
    );
    let o = run_without_chromium(Some("true"));
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(!o.status.success(), "{stdout}");
    assert!(
        stdout.contains("CI is set but chromium is missing"),
        "{stdout}"
    );
}
