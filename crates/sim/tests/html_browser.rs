//! A run page in a real browser: headless Chromium loads a failing run's page from a file,
//! with no network, raises no error, lays out the timeline at full size and draws every
//! operation's bar, the checker's ones included; it also takes a screenshot.
//!
//! Needs Debian's `chromium` at /usr/bin/chromium. Without it the test prints a note and
//! passes, except under CI (the `CI` variable set), where a missing browser is a failure:
//! CI must not silently skip the only check that a browser can read the pages.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use linearizability::{Budget, KvInput, Outcome};
use sim::{Class, Scenario};

const CHROMIUM: &str = "/usr/bin/chromium";

/// Inserted into the test's copy of the page (the page itself has no script): records any
/// error, script or resource, from the first moment on.
const ERROR_PROBE: &str = "<script>window.pageErrors = [];\
    window.addEventListener('error', function (e) { window.pageErrors.push(String(e.message || \
    (e.target && e.target.outerHTML))); }, true);</script>";

/// Inserted at the end of the body: measures the timeline and its bars after layout and
/// writes the result into an attribute that the dumped DOM carries out.
const LAYOUT_PROBE: &str = "<script>(function () {\
    var t = document.getElementById('timeline');\
    var box = t ? t.getBoundingClientRect() : { width: 0, height: 0 };\
    var bars = document.querySelectorAll('#timeline rect.op'), shown = 0;\
    for (var i = 0; i < bars.length; i++) { var b = bars[i].getBoundingClientRect();\
      if (b.width > 0 && b.height > 0) shown++; }\
    var named = document.querySelectorAll('#timeline rect.op.hl').length;\
    document.body.setAttribute('data-check', 'width=' + Math.round(box.width) + ' height=' +\
      Math.round(box.height) + ' bars=' + bars.length + ' shown=' + shown + ' named=' + named +\
      ' errors=' + window.pageErrors.length + ' ' + window.pageErrors.join(' | '));\
    })();</script>";

#[test]
fn a_failing_run_page_loads_in_chromium_and_shows_the_timeline() {
    if !Path::new(CHROMIUM).exists() {
        if std::env::var_os("CI").is_some() {
            panic!("{CHROMIUM} is missing under CI: install Debian's chromium package");
        }
        eprintln!(
            "note: {CHROMIUM} not found; skipping the browser test (apt-get install chromium)"
        );
        return;
    }
    let dir = scratch_dir();
    let (page, history_len, named) = failing_page();
    let probed = page.replacen("<head>", &format!("<head>{ERROR_PROBE}"), 1).replacen(
        "</body>",
        &format!("{LAYOUT_PROBE}</body>"),
        1,
    );
    let page_path = dir.join("run.html");
    std::fs::write(&page_path, probed).expect("write the page");

    let dom = chromium(&dir, &page_path, &["--dump-dom", "--window-size=1400,1000"]);
    let check =
        dom.split("data-check=\"").nth(1).and_then(|rest| rest.split('"').next()).unwrap_or_else(
            || panic!("the layout probe did not run; DOM starts {:?}", &dom[..dom.len().min(300)]),
        );
    let field = |name: &str| -> u64 {
        check
            .split_whitespace()
            .find_map(|w| w.strip_prefix(&format!("{name}=")))
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("no {name} in {check:?}"))
    };
    assert_eq!(field("errors"), 0, "the page raised errors: {check}");
    assert!(field("width") >= 1000, "the timeline is laid out wide: {check}");
    assert!(field("height") >= 200, "the timeline is laid out tall: {check}");
    assert_eq!(field("bars"), history_len, "a bar per operation: {check}");
    assert_eq!(field("shown"), history_len, "every bar has a size on screen: {check}");
    assert_eq!(field("named"), named, "the checker's operations are marked: {check}");
    assert!(dom.contains("What went wrong"));

    let png = dir.join("run.png");
    let shot = format!("--screenshot={}", png.display());
    chromium(&dir, &page_path, &[&shot, "--window-size=1400,1000"]);
    let bytes = std::fs::read(&png).expect("a screenshot was written");
    assert!(bytes.starts_with(b"\x89PNG\r\n\x1a\n"), "a PNG");
    assert!(
        bytes.len() > 20_000,
        "a screenshot with content, not a blank page: {} bytes",
        bytes.len()
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// The page of a real run whose history is edited to hold a stale read, as a replica bug
/// would leave it; returns the page, the number of operations and of named ones.
fn failing_page() -> (String, u64, u64) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scenarios/partition.json");
    let loaded = Scenario::load(&path).expect("the scenario loads");
    let mut trace = Vec::new();
    let mut report = sim::run_traced("scenarios/partition.json", &loaded, 42, &mut trace)
        .expect("trace in memory");
    // The last ok read of a key written twice before it returns the first value instead.
    let history = &report.history;
    let (read, stale) = history
        .iter()
        .rev()
        .filter(|op| op.input == KvInput::Get && matches!(op.outcome, Outcome::Ok(_)))
        .find_map(|read| {
            let writes: Vec<_> = history
                .iter()
                .filter(|op| op.key == read.key && matches!(op.outcome, Outcome::Ok(_)))
                .filter(|op| op.return_us.is_some_and(|end| end < read.call_us))
                .filter_map(|op| match &op.input {
                    KvInput::Put(value) => Some((op, value.clone())),
                    _ => None,
                })
                .collect();
            let (first, value) = writes.first()?;
            let later = writes
                .iter()
                .any(|(op, v)| *v != *value && first.return_us.is_some_and(|end| end < op.call_us));
            later.then(|| (read.id as usize, value.clone()))
        })
        .expect("some read follows two writes");
    report.history[read].outcome = Outcome::Ok(stale);
    report.linearizability = linearizability::check_kv(&report.history, &Budget::default());
    report.class = Class::Linearizability;
    let (_, violation) = report.linearizability.violation().expect("the read is stale");
    let named = violation.operation_ids.len() as u64;
    let trace = String::from_utf8(trace).expect("text");
    (sim::html::render_run(&report, Some(&trace)), report.history.len() as u64, named)
}

/// Runs Chromium offline on `page` with a fresh profile in `dir`, returns its standard
/// output, and kills it if it hangs. Output goes to files, not pipes: a page's DOM is larger
/// than a pipe's buffer, and a full pipe would stall the browser.
fn chromium(dir: &Path, page: &Path, extra: &[&str]) -> String {
    // A fresh profile for every start, so no state carries from one to the next.
    static STARTS: AtomicUsize = AtomicUsize::new(0);
    let profile = dir.join(format!("profile-{}", STARTS.fetch_add(1, Ordering::Relaxed)));
    let (stdout_path, stderr_path) = (dir.join("stdout.txt"), dir.join("stderr.txt"));
    let file = |path: &Path| std::fs::File::create(path).expect("an output file");
    let mut child = Command::new(CHROMIUM)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
            "--virtual-time-budget=2000",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(extra)
        .arg(format!("file://{}", page.display()))
        .stdin(Stdio::null())
        .stdout(file(&stdout_path))
        .stderr(file(&stderr_path))
        .spawn()
        .expect("chromium starts");
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for chromium") {
            break status;
        }
        if started.elapsed() > Duration::from_secs(120) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("chromium did not finish within 120 s");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let stderr = std::fs::read_to_string(&stderr_path).unwrap_or_default();
    assert!(status.success(), "chromium failed: {status}\n{stderr}");
    // Console messages (errors from the page) are logged with a CONSOLE tag.
    assert!(!stderr.contains("CONSOLE"), "the page logged to the console:\n{stderr}");
    std::fs::read_to_string(&stdout_path).expect("chromium's output")
}

fn scratch_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("sim-html-browser-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a scratch directory");
    dir
}
