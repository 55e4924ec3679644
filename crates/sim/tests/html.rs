//! The HTML pages of `sim::html`: the same report renders to the same bytes; keys and values
//! are escaped; a 5,000-operation report stays under 3 MB and a 20,000-operation one is
//! aggregated and says so; the operations a linearizability violation names are marked;
//! unknown fault kinds still show; every page is well-formed and needs no network.

use std::collections::BTreeMap;
use std::path::Path;

use linearizability::{Budget, KvInput, KvOperation, Outcome, Verdict};
use sim::html::{render_run, render_sweep};
use sim::sweep::{FailureLine, Group, ScenarioTotals, SeedRange, Summary};
use sim::{Class, RunReport, Scenario};

/// A finished run of `scenario` (a file in `scenarios/`), with its trace.
fn run(scenario: &str, seed: u64) -> (RunReport, String) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scenarios").join(scenario);
    let loaded = Scenario::load(&path).expect("the scenario loads");
    let mut trace = Vec::new();
    let shown = format!("scenarios/{scenario}");
    let report = sim::run_traced(&shown, &loaded, seed, &mut trace).expect("trace in memory");
    (report, String::from_utf8(trace).expect("the trace is text"))
}

fn op(id: u64, client: u64, key: &str, input: KvInput, call: u64, end: Option<u64>) -> KvOperation {
    let outcome = match (&input, end) {
        (_, None) => Outcome::Unknown,
        (KvInput::Get, Some(_)) => Outcome::Ok(String::new()),
        (_, Some(_)) => Outcome::Ok(String::new()),
    };
    KvOperation { id, client, key: key.to_owned(), input, call_us: call, return_us: end, outcome }
}

/// Replaces the report's history and re-checks it, as if the run had recorded `history`.
fn with_history(mut report: RunReport, history: Vec<KvOperation>) -> RunReport {
    report.linearizability = linearizability::check_kv(&history, &Budget::default());
    report.class = match report.linearizability.verdict {
        Verdict::NotLinearizable => Class::Linearizability,
        _ => report.class,
    };
    report.history = history;
    report
}

/// A stale read on key `k`: `a` is written, then `b`, then a read returns `a`.
fn stale_read_history() -> Vec<KvOperation> {
    let mut read = op(2, 0x16, "k", KvInput::Get, 1_400_000, Some(1_410_000));
    read.outcome = Outcome::Ok("a".to_owned());
    vec![
        op(0, 0x15, "k", KvInput::Put("a".to_owned()), 1_000_000, Some(1_010_000)),
        op(1, 0x15, "k", KvInput::Put("b".to_owned()), 1_200_000, Some(1_210_000)),
        read,
        op(3, 0x17, "other", KvInput::Put("x".to_owned()), 1_300_000, Some(1_305_000)),
    ]
}

/// `text` as the pages escape it.
fn escaped(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

/// Checks that every element opened is closed in order (HTML void elements aside) and that
/// text holds no stray `<`: the page parses the same way in every browser.
fn assert_well_formed(page: &str) {
    const VOID: [&str; 2] = ["meta", "br"];
    let mut open: Vec<&str> = Vec::new();
    let mut rest = page.strip_prefix("<!DOCTYPE html>").expect("a doctype");
    while let Some(start) = rest.find('<') {
        let end = rest[start..].find('>').expect("a tag ends") + start;
        let tag = &rest[start + 1..end];
        assert!(!tag.contains('<'), "a stray < near {:?}", &rest[start..end.min(start + 80)]);
        let name: &str = tag
            .trim_start_matches('/')
            .split(|c: char| c.is_whitespace() || c == '/')
            .next()
            .unwrap_or("");
        if let Some(closing) = tag.strip_prefix('/') {
            assert_eq!(open.pop(), Some(closing.trim()), "closing </{closing}> out of order");
        } else if !tag.ends_with('/') && !VOID.contains(&name) {
            open.push(name);
        }
        rest = &rest[end + 1..];
        // The style sheet holds no tags; skip it whole, since CSS may use `>`.
        if name == "style" && !tag.starts_with('/') {
            let close = rest.find("</style>").expect("the style closes");
            rest = &rest[close..];
        }
    }
    assert!(open.is_empty(), "unclosed elements: {open:?}");
}

/// Pages load nothing: no script, no external style sheet, image or link off the page.
fn assert_self_contained(page: &str) {
    assert!(!page.contains("<script"), "a page has no script");
    assert!(!page.contains("<link"), "a page links no style sheet");
    assert!(!page.contains(" src="), "a page loads no resource");
    let urls = page.matches("http").count();
    let namespaces = page.matches("xmlns=\"http://www.w3.org/2000/svg\"").count();
    assert_eq!(urls, namespaces, "the only URLs are SVG namespace names");
}

#[test]
fn the_same_report_renders_to_the_same_bytes() {
    let (first, trace) = run("partition.json", 42);
    let (second, trace_again) = run("partition.json", 42);
    assert_eq!(trace, trace_again);
    let page = render_run(&first, Some(&trace));
    assert_eq!(page, render_run(&second, Some(&trace_again)));
    assert_eq!(render_run(&first, None), render_run(&second, None));
    assert_well_formed(&page);
    assert_self_contained(&page);
    assert!(page.contains("id=\"timeline\""));
    assert!(page.contains("sim run scenarios/partition.json --seed 42"), "the replay command");
    // Every operation has its bar when the history is small.
    assert_eq!(page.matches("class=\"op ").count(), first.history.len());
}

#[test]
fn keys_values_and_names_are_escaped() {
    let (report, _) = run("simple.json", 3);
    let nasty = "<script>alert(\"k&v\")</script>'";
    let mut history = stale_read_history();
    history[0].key = nasty.to_owned();
    history[1].input = KvInput::Put(format!("{nasty}<b>"));
    history[1].key = nasty.to_owned();
    let mut report = with_history(report, history);
    report.scenario = "scenarios/<odd & \"quoted\">.json".to_owned();
    report.faults.push(sim::world::FaultRecord {
        time_us: 1_100_000,
        kind: "part_hard",
        detail: "majority [<0000>] & \"minority\"".to_owned(),
    });
    let page = render_run(&report, None);
    assert!(!page.contains("<script>alert"), "markup in a key must not reach the page raw");
    assert!(page.contains("&lt;script&gt;alert(&quot;k&amp;v&quot;)&lt;/script&gt;&#39;"));
    assert!(page.contains("scenarios/&lt;odd &amp; &quot;quoted&quot;&gt;.json"));
    assert!(page.contains("majority [&lt;0000&gt;] &amp; &quot;minority&quot;"));
    assert_well_formed(&page);
    assert_self_contained(&page);
}

/// A long synthetic history: `count` operations from 10 clients on 200 keys, with some
/// failed and some unknown.
fn long_history(count: u64, end_us: u64) -> Vec<KvOperation> {
    (0..count)
        .map(|id| {
            let call = 1_000_000 + id * (end_us - 2_000_000) / count;
            let key = format!("KEY{:029}", id % 200);
            let (input, outcome) = match id % 3 {
                0 => (KvInput::Get, Outcome::Ok(format!("{:032x}", id / 3))),
                _ => (KvInput::Put(format!("{id:032x}")), Outcome::Ok(String::new())),
            };
            let (end, outcome) = match id % 97 {
                0 => (Some(call + 40_000), Outcome::Failed),
                1 => (None, Outcome::Unknown),
                _ => (Some(call + 3_000 + id % 7 * 1_000), outcome),
            };
            KvOperation {
                id,
                client: 0x15 + id % 10,
                key,
                input,
                call_us: call,
                return_us: end,
                outcome,
            }
        })
        .collect()
}

#[test]
fn five_thousand_operations_stay_under_three_megabytes() {
    let (mut report, trace) = run("partition.json", 7);
    report.history = long_history(5_000, report.end_us);
    let page = render_run(&report, Some(&trace));
    eprintln!("5,000 operations with a trace: {} bytes", page.len());
    assert!(page.len() < 3_000_000, "{} bytes", page.len());
    assert_eq!(page.matches("class=\"op ").count(), 5_000, "each operation drawn");
    assert!(!page.contains("aggregated into"), "no aggregation at 5,000");
    assert_well_formed(&page);
}

#[test]
fn longer_histories_are_aggregated_and_the_page_says_so() {
    let (mut report, _) = run("partition.json", 7);
    report.history = long_history(40_000, report.end_us);
    let page = render_run(&report, None);
    eprintln!("40,000 operations: {} bytes", page.len());
    assert!(page.len() < 3_000_000, "{} bytes", page.len());
    assert!(page.contains("40000 operations, more than the 5000 this page draws one by one"));
    assert!(page.contains("class=\"agg ok\""), "density strips");
    // Failed and unknown operations keep their own bars.
    let notable = report.history.iter().filter(|op| !matches!(op.outcome, Outcome::Ok(_)));
    assert_eq!(page.matches("class=\"op ").count(), notable.count());
    assert!(page.contains("columns shows its operations&#39; range"), "latency is summarized too");
    assert_well_formed(&page);
}

#[test]
fn a_violation_marks_the_named_operations_and_shows_the_explanation() {
    let (report, trace) = run("simple.json", 3);
    let report = with_history(report, stale_read_history());
    assert_eq!(report.class, Class::Linearizability);
    let (_, violation) = report.linearizability.violation().expect("a violation");
    assert!(!violation.operation_ids.is_empty());
    let page = render_run(&report, Some(&trace));
    for id in &violation.operation_ids {
        let bar = format!("class=\"op ok hl\" id=\"op-{id}\"");
        assert!(page.contains(&bar), "operation {id} is outlined: {bar}");
        assert!(page.contains(&format!("✖ op {id}")), "operation {id} is labelled");
    }
    // The unrelated operation is not.
    assert!(!page.contains("id=\"op-3\""));
    let explanation = escaped(&violation.explanation);
    assert!(page.matches(&explanation).count() >= 2, "in the summary and beside the close-up");
    assert!(page.contains("id=\"closeup-0\""));
    assert!(page.contains("FAIL · linearizability"));
    assert_well_formed(&page);
}

#[test]
fn unknown_fault_kinds_are_drawn_as_labelled_markers() {
    let (mut report, _) = run("simple.json", 3);
    report.faults.push(sim::world::FaultRecord {
        time_us: 2_000_000,
        kind: "clock_jump",
        detail: "0002 jumps 5 ms ahead".to_owned(),
    });
    let page = render_run(&report, None);
    assert!(page.contains("class=\"marker other\""));
    assert!(page.contains(">clock_jump</text>"), "the kind labels the marker");
    assert!(page.contains("clock_jump at 2.000 s: 0002 jumps 5 ms ahead"), "the tooltip");
}

#[test]
fn kills_and_restarts_shade_the_replica_lanes() {
    let (report, trace) = run("crash-restart.json", 2);
    for page in [render_run(&report, Some(&trace)), render_run(&report, None)] {
        assert!(page.contains("class=\"seg down\""), "a crashed replica is drawn down");
        assert!(page.contains("class=\"seg leader\""));
        assert_well_formed(&page);
    }
}

fn summary() -> Summary {
    let failure = |scenario: &str, seed: u64| FailureLine {
        scenario: scenario.to_owned(),
        seed,
        class: "linearizability".to_owned(),
        signature: "linearizability: history not linearizable".to_owned(),
        replay: format!("sim run {scenario} --seed {seed}"),
    };
    let failures = vec![failure("scenarios/a<b>.json", 3), failure("scenarios/a<b>.json", 9)];
    let groups = vec![Group {
        signature: "linearizability: history not linearizable".to_owned(),
        class: "linearizability".to_owned(),
        count: 2,
        runs: vec!["scenarios/a<b>.json#3".to_owned(), "scenarios/a<b>.json#9".to_owned()],
        replay: "sim run scenarios/a<b>.json --seed 3".to_owned(),
    }];
    let totals = ScenarioTotals {
        scenario: "scenarios/a<b>.json".to_owned(),
        runs: 10,
        passed: 8,
        failed: BTreeMap::from([("linearizability".to_owned(), 2)]),
        events: 50_000,
        virtual_us: 200_000_000,
    };
    // A real sweep's summary, edited: it has every field the summary has today, whatever
    // other work adds to it.
    let mut summary = tiny_sweep();
    summary.seeds = SeedRange { first: 1, last: 10 };
    summary.requested_seeds = summary.seeds;
    summary.runs = 10;
    summary.passed = 8;
    summary.scenarios = vec![totals];
    summary.failures = failures;
    summary.groups = groups;
    summary
}

struct Quiet;

impl sim::sweep::Progress for Quiet {
    fn update(&self, _done: u64, _total: u64, _failures: u64) {}
}

fn tiny_sweep() -> Summary {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scenarios/simple.json");
    let scenarios =
        vec![("scenarios/simple.json".to_owned(), Scenario::load(&path).expect("loads"))];
    let runs_path =
        std::env::temp_dir().join(format!("sim-html-test-{}.jsonl", std::process::id()));
    let plan = sim::sweep::SweepPlan {
        scenarios: &scenarios,
        seeds: SeedRange { first: 1, last: 1 },
        shard: None,
        jobs: 1,
        swarm: false,
        check_determinism: false,
        runs_path: &runs_path,
    };
    let summary = sim::sweep::sweep(&plan, &Quiet).expect("a one-run sweep");
    let _ = std::fs::remove_file(&runs_path);
    summary
}

#[test]
fn the_sweep_page_links_failures_to_their_run_pages() {
    let summary = summary();
    let pages =
        BTreeMap::from([(("scenarios/a<b>.json".to_owned(), 3), "a-seed3.html".to_owned())]);
    let page = render_sweep(&summary, &pages);
    assert_eq!(page, render_sweep(&summary, &pages), "deterministic");
    assert!(page.contains("2 OF 10 FAILED"));
    assert!(page.contains("<a href=\"a-seed3.html\">scenarios/a&lt;b&gt;.json#3</a>"));
    assert!(!page.contains("href=\"a-seed9"), "seed 9 has no page, so no link");
    assert!(page.contains("scenarios/a&lt;b&gt;.json#9"));
    assert!(page.contains("Seeds per second is not in summary.json"));
    assert!(page.contains("Swarm fault mix coverage"));
    assert_well_formed(&page);
    assert_self_contained(&page);
}
