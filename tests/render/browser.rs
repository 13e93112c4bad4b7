//! The page in a real browser: Debian's chromium, headless. The test fails, rather than being
//! skipped, when chromium is missing: install it with `apt-get install chromium`.

use super::{check_kv, check_register, kv_violation, linearizable_register};
use stateprop::models::{CasRegister, KvModel};
use stateprop::render::render_html;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A stuck browser must not hang the suite.
const TIMEOUT: Duration = Duration::from_secs(60);

fn chromium() -> PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .map(|dir| dir.join("chromium"))
        .find(|p| p.is_file())
        .unwrap_or_else(|| {
            panic!(
                "chromium is not on PATH: the browser test of the HTML report needs Debian's \
                 chromium; install it with `apt-get update && apt-get install -y chromium`"
            )
        })
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

/// Runs headless chromium on `page` with `args`, killing it after [`TIMEOUT`]; returns stdout.
fn run_chromium(dir: &Path, page: &Path, args: &[String]) -> String {
    let profile = dir.join(format!("profile-{}", args.len()));
    let _ = std::fs::remove_dir_all(&profile);
    let stdout_path = dir.join("chromium.stdout");
    let stderr_path = dir.join("chromium.stderr");
    let mut child = Command::new(chromium())
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
fn chromium_runs_the_page_and_shows_the_impossible_operation() {
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

    let dom = run_chromium(&dir, &page, &["--dump-dom".to_string()]);
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

    screenshot(&dir, &page);
}

#[test]
fn chromium_draws_a_linearizable_history() {
    let dir = fresh_dir("linearizable");
    let h = linearizable_register();
    let report = check_register(&h);
    let html = render_html(&h, &CasRegister::default(), &report, |_| (), "cas register");
    let page = dir.join("history.html");
    std::fs::write(&page, &html).unwrap();
    let dom = run_chromium(&dir, &page, &["--dump-dom".to_string()]);
    let panel = state_panel(&dom);
    assert!(
        panel.contains("linearized 1") && panel.contains("state after"),
        "{panel}"
    );
    screenshot(&dir, &page);
}

/// The side panel the page's script builds at load (absent if the script did not run).
fn state_panel(dom: &str) -> &str {
    let at = dom
        .find("<aside id=\"state-panel\"")
        .expect("the script built the state panel");
    &dom[at..at + dom[at..].find("</aside>").expect("the panel is closed")]
}

/// Takes a 1400x900 screenshot of `page` and checks it is a real picture.
fn screenshot(dir: &Path, page: &Path) {
    let shot = dir.join("history.png");
    run_chromium(
        dir,
        page,
        &[
            format!("--screenshot={}", shot.display()),
            "--window-size=1400,900".to_string(),
        ],
    );
    assert_png(&shot);
}
