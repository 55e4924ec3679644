//! The hunt: how many seeds the simulator needs to catch each planted bug.
//!
//! `sim hunt --plant NAME --seeds 1..N SCENARIO...` runs seed after seed (every scenario
//! for a seed before the next seed) with every replica carrying the bug, and stops at the
//! first failing run: the seeds it took and the check that caught it (a safety invariant,
//! linearizability, or liveness) are the measure of how blind the simulator is to that bug.
//! Runs go to worker threads in batches, and the first failure in (seed, scenario) order
//! wins, so the answer never depends on the thread count.
//!
//! `sim hunt --table` runs every bug against every hunting ground (the scenarios in
//! [`GROUNDS`]) and writes the seeds-to-catch table that `docs/planted.md` holds.

use std::fmt::Write as _;
use std::path::Path;

use replica::Plant;

use crate::report::Class;
use crate::sweep::{self, SeedRange};
use crate::{Loaded, RunReport, Scenario, ScenarioError};

/// The hunting grounds of the table: shipped scenarios, each run as its file says.
pub const GROUNDS: [&str; 5] = [
    "scenarios/swarm.json",
    "scenarios/hunt.json",
    "scenarios/partition.json",
    "scenarios/crash-restart.json",
    "scenarios/network-shapes.json",
];

/// The most seeds the table tries per bug and ground.
pub const TABLE_SEEDS_MAX: u64 = 50;

/// The first failing run of a hunt.
#[derive(Clone, Debug)]
pub struct Catch {
    /// The scenario that failed.
    pub scenario: String,
    /// Its seed.
    pub seed: u64,
    /// Seeds tried, the failing one included.
    pub seeds_tried: u64,
    /// The run's class (`harness` when the replica panicked).
    pub class: String,
    /// The check that caught the bug: `invariant NAME`, `linearizability` or `liveness`.
    pub check: String,
    /// The failure's signature (see [`sweep::signature`]).
    pub signature: String,
    /// The command that replays the failing run.
    pub replay: String,
    /// Events the failing run handled.
    pub events: u64,
}

/// The check that failed `report`, in the words of the table.
pub fn check_name(report: &RunReport) -> String {
    match (report.class, &report.invariant_violation) {
        (Class::Safety, Some(failure)) => format!("invariant {}", failure.violation.invariant),
        (class, _) => class.name().to_owned(),
    }
}

/// Runs `scenarios` with `plant` in every replica for each seed of `seeds` in turn, until a
/// run fails; `None` if none did.
pub fn hunt(
    scenarios: &[(String, Loaded)],
    plant: Plant,
    seeds: SeedRange,
    jobs: usize,
) -> Option<Catch> {
    let planted: Vec<(String, Loaded)> = scenarios
        .iter()
        .map(|(path, loaded)| {
            let mut loaded = loaded.clone();
            loaded.scenario.plant = Some(plant);
            (path.clone(), loaded)
        })
        .collect();
    let jobs = jobs.max(1) as u64;
    let mut first = seeds.first;
    while first <= seeds.last {
        let last = seeds.last.min(first + 4 * jobs - 1);
        let batch: Vec<(u64, usize)> = (first..=last)
            .flat_map(|seed| (0..planted.len()).map(move |index| (seed, index)))
            .collect();
        let reports = run_batch(&planted, &batch, jobs as usize);
        let failed = batch
            .iter()
            .zip(reports)
            .find(|(_, report)| report.as_ref().map_or(true, |r| r.class != Class::Pass));
        if let Some((&(seed, index), report)) = failed {
            let path = &planted[index].0;
            let seeds_tried = seed - seeds.first + 1;
            return Some(match report {
                Ok(report) => Catch {
                    scenario: report.scenario.clone(),
                    seed,
                    seeds_tried,
                    class: report.class.name().to_owned(),
                    check: check_name(&report),
                    signature: sweep::signature(&report),
                    replay: crate::plant::replay(&report.replay, Some(plant.name())),
                    events: report.events,
                },
                Err(panic) => Catch {
                    scenario: path.clone(),
                    seed,
                    seeds_tried,
                    class: "harness".to_owned(),
                    check: "a replica assertion".to_owned(),
                    signature: format!("harness: panic: {panic}"),
                    replay: format!("sim run {path} --seed {seed} --plant {}", plant.name()),
                    events: 0,
                },
            });
        }
        first = last + 1;
    }
    None
}

/// Runs every (seed, scenario index) of `batch` on `jobs` threads; reports in batch order.
fn run_batch(
    scenarios: &[(String, Loaded)],
    batch: &[(u64, usize)],
    jobs: usize,
) -> Vec<Result<RunReport, String>> {
    let chunk = batch.len().div_ceil(jobs.max(1)).max(1);
    std::thread::scope(|scope| {
        let handles: Vec<_> = batch
            .chunks(chunk)
            .map(|part| {
                scope.spawn(move || {
                    part.iter()
                        .map(|&(seed, index)| {
                            let (path, loaded) = &scenarios[index];
                            // A planted bug may trip one of the replica's own assertions;
                            // that is a catch too, reported as the harness class would be.
                            std::panic::catch_unwind(|| crate::run(path, loaded, seed))
                                .map_err(|payload| panic_text(&*payload))
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles.into_iter().flat_map(|handle| handle.join().expect("a run panicked")).collect()
    })
}

/// The seeds-to-catch table in Markdown: one row per planted bug, one column per ground in
/// [`GROUNDS`] (read below `root`), each cell the seeds the first catch took and the check
/// that caught it, or `-` when no seed up to `seeds_max` did.
pub fn table(root: &Path, seeds_max: u64, jobs: usize) -> Result<String, ScenarioError> {
    let grounds: Vec<(String, Loaded)> = GROUNDS
        .iter()
        .map(|name| Ok((name.to_string(), Scenario::load(&root.join(name))?)))
        .collect::<Result<_, ScenarioError>>()?;
    let mut out = String::new();
    let names: Vec<&str> = GROUNDS
        .iter()
        .map(|name| name.trim_start_matches("scenarios/").trim_end_matches(".json"))
        .collect();
    let _ = writeln!(out, "| bug | {} |", names.join(" | "));
    let _ = writeln!(out, "|---|{}", "---|".repeat(names.len()));
    let seeds = SeedRange { first: 1, last: seeds_max };
    for plant in Plant::ALL {
        let cells: Vec<String> = grounds
            .iter()
            .map(|ground| match hunt(std::slice::from_ref(ground), plant, seeds, jobs) {
                Some(catch) => format!("{} ({})", catch.seeds_tried, short_check(&catch.check)),
                None => "-".to_owned(),
            })
            .collect();
        let _ = writeln!(out, "| `{}` | {} |", plant.name(), cells.join(" | "));
    }
    Ok(out)
}

/// The check's name without the word `invariant`, to keep the table narrow.
fn short_check(check: &str) -> &str {
    check.strip_prefix("invariant ").unwrap_or(check)
}

/// The message a panic carried.
fn panic_text(payload: &(dyn std::any::Any + Send)) -> String {
    match (payload.downcast_ref::<&str>(), payload.downcast_ref::<String>()) {
        (Some(text), _) => (*text).to_owned(),
        (_, Some(text)) => text.clone(),
        _ => "a panic without a message".to_owned(),
    }
}
