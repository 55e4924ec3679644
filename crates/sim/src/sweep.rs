//! Sweeps: many (scenario, seed) runs on all cores, summarized deterministically.
//!
//! Runs are handed to worker threads in a fixed order and their results are put back in
//! that order before anything is written, so a sweep's outputs (`runs.jsonl`,
//! `summary.json`, `junit.xml`) are byte-identical whatever the number of threads. Per-run
//! results stream to `runs.jsonl` as soon as they are in order; memory holds only the
//! aggregates, the failures, and the few results that finished out of order. Wall-clock time
//! is used for the progress display only and never reaches a file.

use std::collections::BTreeMap;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;

use serde::{Deserialize, Serialize};

use crate::report::Class;
use crate::{Loaded, RunReport};

/// The summary format's version; bumped when a field changes meaning or goes away.
pub const SUMMARY_VERSION: u32 = 1;

/// How many failing seeds a group lists.
const GROUP_SEEDS_SHOWN: usize = 20;

/// An inclusive range of seeds, written `first..last` (both included).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeedRange {
    /// The first seed.
    pub first: u64,
    /// The last seed (included).
    pub last: u64,
}

impl SeedRange {
    /// Parses `A..B` (B included) or a single seed `A`.
    pub fn parse(text: &str) -> Result<SeedRange, String> {
        let number = |part: &str| {
            part.trim().parse::<u64>().map_err(|_| format!("`{part}` is not a seed number"))
        };
        let range = match text.split_once("..") {
            Some((first, last)) => {
                let last = last.strip_prefix('=').unwrap_or(last);
                SeedRange { first: number(first)?, last: number(last)? }
            }
            None => {
                let seed = number(text)?;
                SeedRange { first: seed, last: seed }
            }
        };
        if range.first > range.last {
            return Err(format!(
                "seed range `{text}` is empty: want FIRST..LAST with FIRST <= LAST"
            ));
        }
        if range.first == 0 && range.last == u64::MAX {
            return Err(format!("seed range `{text}` holds 2^64 seeds, more than can be counted"));
        }
        Ok(range)
    }

    /// Number of seeds.
    pub fn len(&self) -> u64 {
        self.last - self.first + 1
    }

    /// Never true: a range holds at least one seed.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// The `index`-th (1-based) of `count` contiguous, nearly equal slices; `None` when the
    /// slice is empty (more shards than seeds).
    pub fn shard(&self, shard: Shard) -> Option<SeedRange> {
        let len = self.len();
        let start = len * (shard.index - 1) / shard.count;
        let end = len * shard.index / shard.count;
        (end > start).then(|| SeedRange { first: self.first + start, last: self.first + end - 1 })
    }
}

impl std::fmt::Display for SeedRange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}..{}", self.first, self.last)
    }
}

/// The K-th of N slices of a sweep, written `K/N`, K from 1.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shard {
    /// Which slice, from 1.
    pub index: u64,
    /// How many slices.
    pub count: u64,
}

impl Shard {
    /// Parses `K/N` with 1 <= K <= N.
    pub fn parse(text: &str) -> Result<Shard, String> {
        let bad = || format!("shard `{text}` is not K/N with 1 <= K <= N");
        let (index, count) = text.split_once('/').ok_or_else(bad)?;
        let index: u64 = index.trim().parse().map_err(|_| bad())?;
        let count: u64 = count.trim().parse().map_err(|_| bad())?;
        if index == 0 || index > count {
            return Err(bad());
        }
        Ok(Shard { index, count })
    }
}

/// The result of one run, as `runs.jsonl` holds it (one JSON object per line).
#[derive(Clone, Debug, Serialize)]
pub struct RunLine {
    /// The scenario path.
    pub scenario: String,
    /// The seed.
    pub seed: u64,
    /// `pass`, a failure class, or `harness`.
    pub class: String,
    /// The trace hash (empty for a harness error).
    pub trace_hash: String,
    /// Events handled.
    pub events: u64,
    /// Virtual time at the end, microseconds.
    pub end_us: u64,
    /// Requests answered ok.
    pub ok: u64,
    /// Requests never answered.
    pub unanswered: u64,
    /// Replica-to-replica messages sent.
    pub messages: u64,
}

/// One failing run.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct FailureLine {
    /// The scenario path as given.
    pub scenario: String,
    /// The seed.
    pub seed: u64,
    /// `safety`, `linearizability`, `liveness`, `checker_unknown` or `harness`.
    pub class: String,
    /// One line that is the same for failures with the same cause.
    pub signature: String,
    /// The command that replays the run.
    pub replay: String,
}

/// Failures that share a signature.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Group {
    /// The shared signature.
    pub signature: String,
    /// The shared class.
    pub class: String,
    /// How many runs failed this way.
    pub count: u64,
    /// The first failing runs as `scenario#seed`, at most 20.
    pub runs: Vec<String>,
    /// The replay command of the first.
    pub replay: String,
}

/// Per-scenario totals.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScenarioTotals {
    /// The scenario path as given.
    pub scenario: String,
    /// Runs made.
    pub runs: u64,
    /// Runs that passed.
    pub passed: u64,
    /// Failing runs per class.
    pub failed: BTreeMap<String, u64>,
    /// Events handled over all runs.
    pub events: u64,
    /// Virtual time simulated over all runs, microseconds.
    pub virtual_us: u64,
}

/// How one fault family fared over a sweep.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Coverage {
    /// Runs that configured the family.
    pub configured_runs: u64,
    /// Of those, runs where it fired at least once.
    pub fired_runs: u64,
    /// Times it fired, over all runs.
    pub fired: u64,
}

/// A determinism audit's result.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Determinism {
    /// Runs replayed.
    pub checked: u64,
    /// Replays whose trace differed: `scenario#seed: first divergent event ...`.
    pub mismatches: Vec<String>,
}

/// The sweep summary (`summary.json`); its schema is documented in `docs/sweep.md`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    /// [`SUMMARY_VERSION`].
    pub version: u32,
    /// The seeds this summary covers.
    pub seeds: SeedRange,
    /// The seed range the sweep was asked for, before sharding.
    pub requested_seeds: SeedRange,
    /// The shard, or `null` for a whole (or merged) sweep.
    pub shard: Option<Shard>,
    /// Whether swarm mode was on.
    pub swarm: bool,
    /// Runs made.
    pub runs: u64,
    /// Runs that passed.
    pub passed: u64,
    /// Totals per scenario, in the order given.
    pub scenarios: Vec<ScenarioTotals>,
    /// Every failing run, by scenario order then seed.
    pub failures: Vec<FailureLine>,
    /// Failures grouped by signature, largest group first.
    pub groups: Vec<Group>,
    /// Per fault family, how often runs configured it and how often it fired.
    pub fault_coverage: BTreeMap<String, Coverage>,
    /// Families that some run configured but no run fired: faults that were silently inert.
    pub never_fired: Vec<String>,
    /// The determinism audit, when asked for.
    pub determinism: Option<Determinism>,
}

/// What to sweep.
pub struct SweepPlan<'a> {
    /// The scenarios, as (path shown, loaded scenario).
    pub scenarios: &'a [(String, Loaded)],
    /// The seed range before sharding.
    pub seeds: SeedRange,
    /// The slice to run, if any.
    pub shard: Option<Shard>,
    /// Worker threads.
    pub jobs: usize,
    /// Whether swarm mode is on (recorded in the summary).
    pub swarm: bool,
    /// Replay a sample of runs and compare traces.
    pub check_determinism: bool,
    /// Where `runs.jsonl` goes.
    pub runs_path: &'a Path,
}

/// Progress callbacks, so the binary can draw a bar and the library stays quiet.
pub trait Progress: Sync {
    /// Called on the main thread after each run is accounted, in order.
    fn update(&self, done: u64, total: u64, failures: u64);
}

/// Runs the plan and returns its summary. Per-run lines go to `plan.runs_path`.
pub fn sweep(plan: &SweepPlan<'_>, progress: &dyn Progress) -> std::io::Result<Summary> {
    let seeds = match plan.shard {
        Some(shard) => plan.seeds.shard(shard),
        None => Some(plan.seeds),
    };
    let per_scenario = seeds.map_or(0, |range| range.len());
    let total = per_scenario * plan.scenarios.len() as u64;
    let runs_file = std::fs::File::create(plan.runs_path)?;
    let mut runs_out = BufWriter::new(runs_file);
    let mut totals: Vec<ScenarioTotals> = plan
        .scenarios
        .iter()
        .map(|(path, _)| ScenarioTotals { scenario: path.clone(), ..Default::default() })
        .collect();
    let mut failures = Vec::new();
    let mut coverage: BTreeMap<String, Coverage> = BTreeMap::new();
    let next = AtomicU64::new(0);
    let job_of = |index: u64| {
        let scenario = (index / per_scenario) as usize;
        let seed = seeds.expect("no jobs without seeds").first + index % per_scenario;
        (scenario, seed)
    };
    std::thread::scope(|scope| -> std::io::Result<()> {
        let (sender, receiver) = mpsc::channel::<(u64, Result<RunReport, String>)>();
        for _ in 0..plan.jobs.max(1) {
            let sender = sender.clone();
            let next = &next;
            scope.spawn(move || loop {
                let index = next.fetch_add(1, Ordering::Relaxed);
                if index >= total {
                    break;
                }
                let (scenario, seed) = job_of(index);
                let (path, loaded) = &plan.scenarios[scenario];
                let result = run_caught(path, loaded, seed);
                if sender.send((index, result)).is_err() {
                    break;
                }
            });
        }
        drop(sender);
        // Put results back in job order before anything is written.
        let mut waiting: BTreeMap<u64, Result<RunReport, String>> = BTreeMap::new();
        let mut done = 0;
        for (index, result) in receiver {
            waiting.insert(index, result);
            while let Some(result) = waiting.remove(&done) {
                let (scenario, seed) = job_of(done);
                let path = &plan.scenarios[scenario].0;
                if let Ok(report) = &result {
                    add_coverage(&mut coverage, report);
                }
                let replay = replay_for(path, seed, &plan.scenarios[scenario].1.scenario);
                let line =
                    account(path, seed, replay, &result, &mut totals[scenario], &mut failures);
                serde_json::to_writer(&mut runs_out, &line)?;
                runs_out.write_all(b"\n")?;
                done += 1;
                progress.update(done, total, failures.len() as u64);
            }
        }
        Ok(())
    })?;
    runs_out.flush()?;
    let determinism = plan.check_determinism.then(|| audit(plan, seeds));
    let summary = Summary {
        version: SUMMARY_VERSION,
        seeds: seeds.unwrap_or(plan.seeds),
        requested_seeds: plan.seeds,
        shard: plan.shard,
        swarm: plan.swarm,
        runs: totals.iter().map(|t| t.runs).sum(),
        passed: totals.iter().map(|t| t.passed).sum(),
        scenarios: totals,
        groups: group(&failures),
        failures,
        never_fired: never_fired(&coverage),
        fault_coverage: coverage,
        determinism,
    };
    Ok(summary)
}

/// The command that replays one run of the sweep, with every flag the sweep added to the
/// scenario (`--swarm`, and `--plant` in builds with planted bugs).
fn replay_for(path: &str, seed: u64, scenario: &crate::Scenario) -> String {
    let replay = crate::report::replay_command(path, seed, scenario.swarm);
    #[cfg(feature = "plant")]
    if let Some(plant) = scenario.plant {
        return crate::plant::replay(&replay, Some(plant.name()));
    }
    replay
}

fn add_coverage(coverage: &mut BTreeMap<String, Coverage>, report: &RunReport) {
    for family in report.fault_families.iter().filter(|family| family.configured) {
        let entry = coverage.entry(family.family.to_owned()).or_default();
        entry.configured_runs += 1;
        entry.fired_runs += u64::from(family.fired > 0);
        entry.fired += family.fired;
    }
}

fn never_fired(coverage: &BTreeMap<String, Coverage>) -> Vec<String> {
    coverage
        .iter()
        .filter(|(_, c)| c.configured_runs > 0 && c.fired_runs == 0)
        .map(|(family, _)| family.clone())
        .collect()
}

/// Runs one seed, turning a panic (a replica assertion, a simulator bug) into a harness
/// error instead of ending the sweep.
fn run_caught(path: &str, loaded: &Loaded, seed: u64) -> Result<RunReport, String> {
    std::panic::catch_unwind(|| crate::run(path, loaded, seed)).map_err(|payload| {
        payload
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| payload.downcast_ref::<&str>().map(|s| (*s).to_owned()))
            .unwrap_or_else(|| "panic with a non-text payload".to_owned())
    })
}

fn account(
    path: &str,
    seed: u64,
    replay: String,
    result: &Result<RunReport, String>,
    totals: &mut ScenarioTotals,
    failures: &mut Vec<FailureLine>,
) -> RunLine {
    totals.runs += 1;
    let report = match result {
        Ok(report) => report,
        Err(panic) => {
            *totals.failed.entry("harness".to_owned()).or_default() += 1;
            let signature = format!("harness: panic: {}", generalize(first_line(panic)));
            let class = "harness".to_owned();
            failures.push(FailureLine {
                scenario: path.to_owned(),
                seed,
                class,
                signature,
                replay,
            });
            return RunLine {
                scenario: path.to_owned(),
                seed,
                class: "harness".to_owned(),
                trace_hash: String::new(),
                events: 0,
                end_us: 0,
                ok: 0,
                unanswered: 0,
                messages: 0,
            };
        }
    };
    totals.events += report.events;
    totals.virtual_us += report.end_us;
    let class = report.class.name().to_owned();
    if report.class == Class::Pass {
        totals.passed += 1;
    } else {
        *totals.failed.entry(class.clone()).or_default() += 1;
        let signature = signature(report);
        failures.push(FailureLine {
            scenario: path.to_owned(),
            seed,
            class: class.clone(),
            signature,
            replay,
        });
    }
    RunLine {
        scenario: path.to_owned(),
        seed,
        class,
        trace_hash: report.trace_hash.clone(),
        events: report.events,
        end_us: report.end_us,
        ok: report.requests.ok,
        unanswered: report.requests.unanswered_gets + report.requests.unanswered_puts,
        messages: report.messages.sent,
    }
}

/// One line that names the cause of a failure without run-specific numbers, so that the
/// same bug found by many seeds lands in one group.
pub fn signature(report: &RunReport) -> String {
    match report.class {
        Class::Pass => "pass".to_owned(),
        Class::Safety => match &report.invariant_violation {
            Some(failure) => format!("safety: {}", failure.violation.invariant),
            None => "safety".to_owned(),
        },
        Class::Linearizability => match report.linearizability.violation() {
            Some((_, violation)) => format!("linearizability: {}", violation.kind.describe()),
            None => "linearizability: history not linearizable".to_owned(),
        },
        Class::Liveness => {
            let diagnosis = report.liveness.as_ref().and_then(|l| l.diagnosis.as_deref());
            match diagnosis.or(report.unavailable.as_deref()) {
                // The diagnosis's kind, before its details (which replicas lag, and where).
                Some(text) => {
                    format!("liveness: {}", first_line(text).split(':').next().unwrap_or(""))
                }
                None => "liveness: the cluster did not recover".to_owned(),
            }
        }
        Class::CheckerUnknown => "checker_unknown: search budget spent".to_owned(),
    }
}

fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or("")
}

/// Replaces every run of digits by `N`, so that messages differing only in numbers match.
fn generalize(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut in_number = false;
    for c in text.chars() {
        if c.is_ascii_digit() {
            if !in_number {
                out.push('N');
            }
            in_number = true;
        } else {
            out.push(c);
            in_number = false;
        }
    }
    out
}

/// Groups failures by signature: largest group first, then by signature.
pub fn group(failures: &[FailureLine]) -> Vec<Group> {
    let mut groups: BTreeMap<&str, Group> = BTreeMap::new();
    for failure in failures {
        let group = groups.entry(&failure.signature).or_insert_with(|| Group {
            signature: failure.signature.clone(),
            class: failure.class.clone(),
            count: 0,
            runs: Vec::new(),
            replay: failure.replay.clone(),
        });
        group.count += 1;
        if group.runs.len() < GROUP_SEEDS_SHOWN {
            group.runs.push(format!("{}#{}", failure.scenario, failure.seed));
        }
    }
    let mut groups: Vec<Group> = groups.into_values().collect();
    groups.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.signature.cmp(&b.signature)));
    groups
}

/// Replays a fixed sample of runs (the first seed of each scenario and every 97th seed) and
/// compares their traces line by line with the first run's.
fn audit(plan: &SweepPlan<'_>, seeds: Option<SeedRange>) -> Determinism {
    let mut determinism = Determinism::default();
    let Some(seeds) = seeds else { return determinism };
    for (path, loaded) in plan.scenarios {
        let sample = (seeds.first..=seeds.last).filter(|&s| s == seeds.first || s % 97 == 0);
        for seed in sample {
            determinism.checked += 1;
            let first = trace_of(path, loaded, seed);
            // The replay runs on another thread, so thread-local state cannot hide.
            let second = std::thread::scope(|scope| {
                scope.spawn(|| trace_of(path, loaded, seed)).join().unwrap_or_default()
            });
            if let Some(divergence) = first_divergence(&first, &second) {
                determinism.mismatches.push(format!("{path}#{seed}: {divergence}"));
            }
        }
    }
    determinism
}

fn trace_of(path: &str, loaded: &Loaded, seed: u64) -> Vec<u8> {
    let mut trace = Vec::new();
    let run = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        crate::run_traced(path, loaded, seed, &mut trace).map(|report| report.trace_hash)
    }));
    match run {
        Ok(Ok(hash)) => {
            trace.extend_from_slice(format!("trace hash {hash}\n").as_bytes());
        }
        Ok(Err(error)) => trace.extend_from_slice(format!("trace error {error}\n").as_bytes()),
        Err(_) => trace.extend_from_slice(b"panic\n"),
    }
    trace
}

/// The first line where two traces differ, as `event N: <first> vs <second>`.
pub fn first_divergence(first: &[u8], second: &[u8]) -> Option<String> {
    if first == second {
        return None;
    }
    let mut a = first.split(|&b| b == b'\n');
    let mut b = second.split(|&b| b == b'\n');
    for line in 1.. {
        match (a.next(), b.next()) {
            (Some(x), Some(y)) if x == y => continue,
            (x, y) => {
                let show = |l: Option<&[u8]>| {
                    l.map_or("<end>".to_owned(), |l| String::from_utf8_lossy(l).into_owned())
                };
                return Some(format!(
                    "first divergent trace line {line}: `{}` vs `{}`",
                    show(x),
                    show(y)
                ));
            }
        }
    }
    unreachable!("two different byte strings differ at some line")
}

/// Why shard summaries cannot be merged.
#[derive(Debug)]
pub struct MergeError(pub String);

impl std::fmt::Display for MergeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Combines shard summaries of one sweep into the summary the unsharded sweep would give.
/// The shards must be of the same requested sweep and together cover it exactly.
pub fn merge(mut parts: Vec<Summary>) -> Result<Summary, MergeError> {
    let err = |m: String| Err(MergeError(m));
    let Some(first) = parts.first() else { return err("nothing to merge".to_owned()) };
    let (requested, swarm, version) = (first.requested_seeds, first.swarm, first.version);
    let names: Vec<String> = first.scenarios.iter().map(|s| s.scenario.clone()).collect();
    for part in &parts {
        if part.version != version || part.version != SUMMARY_VERSION {
            return err(format!("summary version {} is not {SUMMARY_VERSION}", part.version));
        }
        let part_names: Vec<&String> = part.scenarios.iter().map(|s| &s.scenario).collect();
        if part.requested_seeds != requested
            || part.swarm != swarm
            || part_names != names.iter().collect::<Vec<_>>()
        {
            return err("the summaries are of different sweeps (seeds, scenarios or swarm differ)"
                .to_owned());
        }
    }
    parts.sort_by_key(|part| part.seeds.first);
    let mut expected = requested.first;
    for part in &parts {
        if part.seeds.first != expected {
            return err(format!(
                "the shards do not cover seeds {requested} exactly: a shard should start at seed \
                 {expected}, the next one starts at {}",
                part.seeds.first
            ));
        }
        expected = part.seeds.last + 1;
    }
    if expected != requested.last + 1 {
        return err(format!("seeds {expected}..{} are missing", requested.last));
    }
    let mut scenarios: Vec<ScenarioTotals> = names
        .iter()
        .map(|name| ScenarioTotals { scenario: name.clone(), ..Default::default() })
        .collect();
    let mut failures = Vec::new();
    let mut determinism: Option<Determinism> = None;
    let mut coverage: BTreeMap<String, Coverage> = BTreeMap::new();
    for part in parts {
        for (family, add) in part.fault_coverage {
            let total = coverage.entry(family).or_default();
            total.configured_runs += add.configured_runs;
            total.fired_runs += add.fired_runs;
            total.fired += add.fired;
        }
        for (total, add) in scenarios.iter_mut().zip(part.scenarios) {
            total.runs += add.runs;
            total.passed += add.passed;
            total.events += add.events;
            total.virtual_us += add.virtual_us;
            for (class, count) in add.failed {
                *total.failed.entry(class).or_default() += count;
            }
        }
        failures.extend(part.failures);
        if let Some(audit) = part.determinism {
            let merged = determinism.get_or_insert_with(Determinism::default);
            merged.checked += audit.checked;
            merged.mismatches.extend(audit.mismatches);
        }
    }
    let order: BTreeMap<&String, usize> = names.iter().enumerate().map(|(i, n)| (n, i)).collect();
    failures.sort_by_key(|f: &FailureLine| (order[&f.scenario], f.seed));
    Ok(Summary {
        version,
        seeds: requested,
        requested_seeds: requested,
        shard: None,
        swarm,
        runs: scenarios.iter().map(|s| s.runs).sum(),
        passed: scenarios.iter().map(|s| s.passed).sum(),
        scenarios,
        groups: group(&failures),
        failures,
        never_fired: never_fired(&coverage),
        fault_coverage: coverage,
        determinism,
    })
}

/// The JUnit XML of a summary: one test suite, one test case per scenario over the seed
/// range, failing with the list of failing seeds and their replay commands.
pub fn junit(summary: &Summary) -> String {
    let failures_total = summary.scenarios.iter().filter(|s| s.passed < s.runs).count();
    let mut xml = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    xml.push_str(&format!(
        "<testsuites name=\"sim sweep\" tests=\"{}\" failures=\"{failures_total}\">\n",
        summary.scenarios.len()
    ));
    xml.push_str(&format!(
        "  <testsuite name=\"sim sweep seeds {}\" tests=\"{}\" failures=\"{failures_total}\">\n",
        summary.seeds,
        summary.scenarios.len()
    ));
    for scenario in &summary.scenarios {
        let name = format!("{} seeds {}", scenario.scenario, summary.seeds);
        xml.push_str(&format!(
            "    <testcase classname=\"sim.sweep\" name=\"{}\">\n",
            crate::html::escape(&name)
        ));
        let failing: Vec<&FailureLine> =
            summary.failures.iter().filter(|f| f.scenario == scenario.scenario).collect();
        if !failing.is_empty() {
            let message = format!("{} of {} seeds failed", failing.len(), scenario.runs);
            let body: Vec<String> = failing
                .iter()
                .map(|f| format!("seed {}: {}\n  {}", f.seed, f.signature, f.replay))
                .collect();
            xml.push_str(&format!(
                "      <failure message=\"{}\">{}</failure>\n",
                crate::html::escape(&message),
                crate::html::escape(&body.join("\n"))
            ));
        }
        xml.push_str("    </testcase>\n");
    }
    xml.push_str("  </testsuite>\n</testsuites>\n");
    xml
}

/// Writes `bytes` to `path` via a temporary file and a rename, so a reader never sees half
/// a file.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let mut partial = PathBuf::from(path);
    partial.as_mut_os_string().push(".partial");
    std::fs::write(&partial, bytes)?;
    std::fs::rename(&partial, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seed_ranges_and_shards_parse_and_cover_exactly() {
        assert_eq!(SeedRange::parse("1..10").unwrap(), SeedRange { first: 1, last: 10 });
        assert_eq!(SeedRange::parse("1..=10").unwrap(), SeedRange { first: 1, last: 10 });
        assert_eq!(SeedRange::parse("7").unwrap(), SeedRange { first: 7, last: 7 });
        assert!(SeedRange::parse("10..1").is_err());
        assert!(SeedRange::parse("a..b").is_err());
        assert!(Shard::parse("0/2").is_err());
        assert!(Shard::parse("3/2").is_err());
        let range = SeedRange::parse("1..10").unwrap();
        for count in 1..=12 {
            let mut next = range.first;
            for index in 1..=count {
                if let Some(slice) = range.shard(Shard { index, count }) {
                    assert_eq!(slice.first, next, "shards are contiguous");
                    next = slice.last + 1;
                }
            }
            assert_eq!(next, range.last + 1, "{count} shards cover the range");
        }
    }

    #[test]
    fn messages_that_differ_only_in_numbers_share_a_signature() {
        assert_eq!(generalize("two leaders in term 12 at 3400us"), "two leaders in term N at Nus");
    }

    #[test]
    fn the_first_divergent_line_is_named() {
        let a = b"1\ttick\n2\tdeliver x\n3\tstop\n";
        let b = b"1\ttick\n2\tdeliver y\n3\tstop\n";
        let found = first_divergence(a, b).unwrap();
        assert!(found.contains("line 2"), "{found}");
        assert!(found.contains("deliver x") && found.contains("deliver y"), "{found}");
        assert_eq!(first_divergence(a, a), None);
    }

    #[test]
    fn junit_escapes_and_lists_failing_seeds() {
        let failure = FailureLine {
            scenario: "a<b>.json".to_owned(),
            seed: 3,
            class: "safety".to_owned(),
            signature: "safety: election_safety".to_owned(),
            replay: "sim run a<b>.json --seed 3".to_owned(),
        };
        let summary = Summary {
            version: SUMMARY_VERSION,
            seeds: SeedRange { first: 1, last: 5 },
            requested_seeds: SeedRange { first: 1, last: 5 },
            shard: None,
            swarm: false,
            runs: 5,
            passed: 4,
            scenarios: vec![ScenarioTotals {
                scenario: "a<b>.json".to_owned(),
                runs: 5,
                passed: 4,
                ..Default::default()
            }],
            groups: group(std::slice::from_ref(&failure)),
            failures: vec![failure],
            fault_coverage: BTreeMap::new(),
            never_fired: Vec::new(),
            determinism: None,
        };
        let xml = junit(&summary);
        assert!(xml.contains("name=\"a&lt;b&gt;.json seeds 1..5\""), "{xml}");
        assert!(
            xml.contains(
                "<failure message=\"1 of 5 seeds failed\">seed 3: safety: election_safety"
            ),
            "{xml}"
        );
    }
}
