//! Renders the HTML pages of `sim::html` from fresh runs, for screenshots and for trying the
//! pages out before the CLI grows its `--html` flags.
//!
//! ```text
//! cargo run --release -p sim --example render_html -- \
//!     run SCENARIO --seed N --out PAGE.html [--plant-stale-read] [--no-trace]
//! cargo run --release -p sim --example render_html -- \
//!     sweep SCENARIO... --seeds A..B --out DIR [--plant-stale-read]
//! ```
//!
//! `--plant-stale-read` edits the finished history so that one read returns a value that
//! had already been overwritten (the read nearest after a leader change is chosen), then
//! re-runs the checker: a stand-in for a replica bug, without touching the replica. The page
//! says so in the run's description, and the replay command will not reproduce it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use linearizability::{Budget, KvInput, KvOperation, Outcome, Verdict};
use sim::sweep::{self, SeedRange, SweepPlan};
use sim::{Class, Loaded, RunReport, Scenario};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("run") => run(&args[1..]),
        Some("sweep") => sweep_pages(&args[1..]),
        _ => Err("usage: render_html run SCENARIO --seed N --out PAGE.html [--plant-stale-read] \
                  [--no-trace] | sweep SCENARIO... --seeds A..B --out DIR [--plant-stale-read]"
            .to_owned()),
    };
    if let Err(message) = result {
        eprintln!("error: {message}");
        std::process::exit(2);
    }
}

/// Parsed flags: positional arguments and `--name value` pairs (`--plant-stale-read` and
/// `--no-trace` take no value).
struct Flags {
    positional: Vec<String>,
    named: BTreeMap<String, String>,
}

fn flags(args: &[String]) -> Flags {
    let mut positional = Vec::new();
    let mut named = BTreeMap::new();
    let mut iter = args.iter();
    while let Some(arg) = iter.next() {
        match arg.strip_prefix("--") {
            Some(name @ ("plant-stale-read" | "no-trace")) => {
                named.insert(name.to_owned(), String::new());
            }
            Some(name) => {
                named.insert(name.to_owned(), iter.next().cloned().unwrap_or_default());
            }
            None => positional.push(arg.clone()),
        }
    }
    Flags { positional, named }
}

fn load(path: &str) -> Result<Loaded, String> {
    Scenario::load(Path::new(path)).map_err(|error| error.to_string())
}

fn run(args: &[String]) -> Result<(), String> {
    let flags = flags(args);
    let scenario = flags.positional.first().ok_or("run needs a scenario")?;
    let seed: u64 =
        flags.named.get("seed").map_or(Ok(0), |s| s.parse()).map_err(|_| "bad --seed")?;
    let out = PathBuf::from(flags.named.get("out").ok_or("run needs --out PAGE.html")?);
    let loaded = load(scenario)?;
    let (mut report, trace) = traced_run(scenario, &loaded, seed)?;
    if flags.named.contains_key("plant-stale-read") && !plant_stale_read(&mut report) {
        return Err("no read in this run can be made stale; try another seed".to_owned());
    }
    let trace = (!flags.named.contains_key("no-trace")).then_some(trace.as_str());
    let page = sim::html::render_run(&report, trace);
    std::fs::write(&out, &page).map_err(|e| format!("{}: {e}", out.display()))?;
    println!("{} ({} bytes, class {})", out.display(), page.len(), report.class.name());
    Ok(())
}

fn traced_run(scenario: &str, loaded: &Loaded, seed: u64) -> Result<(RunReport, String), String> {
    let mut trace = b"# event\ttime_us\twhat\treplica state after the event\n".to_vec();
    let report =
        sim::run_traced(scenario, loaded, seed, &mut trace).map_err(|e| format!("trace: {e}"))?;
    Ok((report, String::from_utf8_lossy(&trace).into_owned()))
}

/// Makes one ok read return a value that two later-completed writes had already replaced,
/// choosing the read that comes soonest after a leader change; re-checks the history.
fn plant_stale_read(report: &mut RunReport) -> bool {
    let history = &report.history;
    let ok_put =
        |op: &&KvOperation| matches!((&op.input, &op.outcome), (KvInput::Put(_), Outcome::Ok(_)));
    let mut best: Option<(u64, usize, String)> = None;
    for read in history.iter().filter(|op| op.input == KvInput::Get) {
        let Outcome::Ok(_) = read.outcome else { continue };
        let done_before: Vec<&KvOperation> = history
            .iter()
            .filter(|op| op.key == read.key)
            .filter(ok_put)
            .filter(|op| op.return_us.is_some_and(|end| end < read.call_us))
            .collect();
        // An older write `old` overwritten by a write `new` that began after `old` returned.
        let stale = done_before.iter().find_map(|old| {
            let KvInput::Put(old_value) = &old.input else { return None };
            done_before
                .iter()
                .any(|new| {
                    old.return_us.is_some_and(|end| end < new.call_us)
                        && new.input != old.input
                        && !history.iter().any(|other| {
                            // No write of the old value may be concurrent with the read.
                            other.key == read.key
                                && other.input == old.input
                                && other.call_us > new.call_us
                        })
                })
                .then(|| old_value.clone())
        });
        let Some(stale) = stale else { continue };
        let since_change = report
            .leaders
            .iter()
            .filter(|change| change.time_us <= read.call_us && change.term > 1)
            .map(|change| read.call_us - change.time_us)
            .min()
            .unwrap_or(u64::MAX);
        if best.as_ref().is_none_or(|(gap, _, _)| since_change < *gap) {
            best = Some((since_change, read.id as usize, stale));
        }
    }
    let Some((_, index, stale)) = best else { return false };
    report.history[index].outcome = Outcome::Ok(stale);
    report.linearizability = linearizability::check_kv(&report.history, &Budget::default());
    if report.linearizability.verdict == Verdict::NotLinearizable {
        report.class = Class::Linearizability;
    }
    let note = format!(
        "[PLANTED BUG for the demo: read op {index} was edited to return an overwritten value; \
         the replay command does not reproduce it.]"
    );
    report.description = Some(match report.description.take() {
        Some(description) => format!("{note} {description}"),
        None => note,
    });
    true
}

struct Quiet;

impl sweep::Progress for Quiet {
    fn update(&self, _done: u64, _total: u64, _failures: u64) {}
}

/// Sweeps for real, then (with `--plant-stale-read`) plants a stale read in every seed
/// divisible by 7 and accounts those runs as the sweep would have; writes the summary page
/// and a page for each failing run.
fn sweep_pages(args: &[String]) -> Result<(), String> {
    let flags = flags(args);
    let seeds = SeedRange::parse(flags.named.get("seeds").map_or("1..20", String::as_str))?;
    let out = PathBuf::from(flags.named.get("out").ok_or("sweep needs --out DIR")?);
    std::fs::create_dir_all(&out).map_err(|e| format!("{}: {e}", out.display()))?;
    let mut scenarios = Vec::new();
    for path in &flags.positional {
        scenarios.push((path.clone(), load(path)?));
    }
    let runs_path = out.join("runs.jsonl");
    let plan = SweepPlan {
        scenarios: &scenarios,
        seeds,
        shard: None,
        jobs: 4,
        swarm: false,
        check_determinism: false,
        runs_path: &runs_path,
    };
    let mut summary = sweep::sweep(&plan, &Quiet).map_err(|e| e.to_string())?;
    let plant = flags.named.contains_key("plant-stale-read");
    let mut pages = BTreeMap::new();
    for (index, (path, loaded)) in scenarios.iter().enumerate() {
        for seed in seeds.first..=seeds.last {
            let failing = summary.failures.iter().any(|f| f.scenario == *path && f.seed == seed);
            let planted = plant && seed % 7 == 0;
            if !failing && !planted {
                continue;
            }
            let (mut report, trace) = traced_run(path, loaded, seed)?;
            if planted && !failing && plant_stale_read(&mut report) && report.class != Class::Pass {
                let totals = &mut summary.scenarios[index];
                totals.passed -= 1;
                *totals.failed.entry(report.class.name().to_owned()).or_default() += 1;
                summary.passed -= 1;
                summary.failures.push(sweep::FailureLine {
                    scenario: path.clone(),
                    seed,
                    class: report.class.name().to_owned(),
                    signature: sweep::signature(&report),
                    replay: report.replay.clone(),
                });
            }
            if report.class == Class::Pass {
                continue;
            }
            let name = sim::html::run_page_name(path, seed);
            let page = sim::html::render_run(&report, Some(&trace));
            std::fs::write(out.join(&name), page).map_err(|e| e.to_string())?;
            pages.insert((path.clone(), seed), name);
        }
    }
    // Back in the sweep's order: scenarios as given, then seeds.
    let order = |name: &str| scenarios.iter().position(|(path, _)| path == name);
    summary.failures.sort_by_key(|f| (order(&f.scenario), f.seed));
    summary.groups = sweep::group(&summary.failures);
    let page = sim::html::render_sweep(&summary, &pages);
    let index = out.join("index.html");
    std::fs::write(&index, &page).map_err(|e| e.to_string())?;
    println!("{} ({} bytes, {} run pages)", index.display(), page.len(), pages.len());
    Ok(())
}
