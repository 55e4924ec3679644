//! Shrinking: a failing run made small enough to read.
//!
//! [`shrink`] takes a scenario and a seed whose run fails, and searches for a smaller
//! scenario whose run, from the same seed, fails the same way (same class and same
//! [`sweep::signature`]): fewer faults (events, scripted rules, network faults), fewer client
//! operations, fewer replicas where the failure allows, a shorter run. The search is greedy
//! and deterministic: it tries candidate reductions in a fixed order, keeps the first that
//! still fails the same way, and starts over from the top until none does, so the same input
//! always shrinks to the same output. Swarm mode is first written out as the concrete faults
//! it chose for the seed, so the result is an ordinary scripted scenario that `sim run`
//! replays exactly.

use crate::report::Class;
use crate::scenario::Distribution;
use crate::sweep;
use crate::{Loaded, RunReport, Scenario};

/// The most runs one shrink makes; the search stops there with what it has.
pub const RUNS_MAX: u64 = 2_000;

/// How big a run is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Size {
    /// Events the run handled.
    pub events: u64,
    /// Client operations the scenario schedules.
    pub operations: u32,
    /// Faults: scheduled events, scripted rules and network faults switched on.
    pub faults: usize,
    /// Replicas.
    pub replicas: u16,
}

/// A shrink's result.
#[derive(Clone, Debug)]
pub struct Shrunk {
    /// The smaller scenario, with `seed` set so that `sim run FILE` replays it.
    pub scenario: Scenario,
    /// The scenario as JSON, ready to write.
    pub json: String,
    /// The failure class both runs share.
    pub class: Class,
    /// The signature both runs share.
    pub signature: String,
    /// The original run's size.
    pub before: Size,
    /// The shrunk run's size.
    pub after: Size,
    /// Runs the search made.
    pub runs: u64,
    /// The shrunk run's trace hash.
    pub trace_hash: String,
}

/// Shrinks the failing run of `loaded` from `seed` (its planted bug, if any, comes along).
/// Fails when the run passes, or when the shrunk scenario would not replay the same way.
pub fn shrink(loaded: &Loaded, seed: u64, description: &str) -> Result<Shrunk, String> {
    let original = attempt(&loaded.scenario, seed).ok_or("the run panicked; nothing to shrink")?;
    if original.class == Class::Pass {
        return Err(format!("seed {seed} passes; only a failing run can be shrunk"));
    }
    let target = (original.class, sweep::signature(&original));
    let mut runs = 1;
    let mut current = loaded.scenario.clone();
    let mut before = size(&current, &original);
    if current.swarm {
        // Write swarm's choice out as concrete faults, if that replays the same failure.
        let (mut concrete, _) = crate::swarm::expand(&current, seed);
        concrete.swarm = false;
        runs += 1;
        if same(&attempt(&concrete, seed), &target) {
            before = size(&concrete, &original);
            current = concrete;
        }
    }
    let mut events = original.events;
    let mut progress = true;
    while progress && runs < RUNS_MAX {
        progress = false;
        for candidate in candidates(&current) {
            if runs >= RUNS_MAX {
                break;
            }
            runs += 1;
            // Kept only if it fails the same way in no more events: smaller in every respect.
            let report = attempt(&candidate, seed);
            if same(&report, &target) && report.as_ref().is_some_and(|r| r.events <= events) {
                events = report.map_or(events, |r| r.events);
                current = candidate;
                progress = true;
                break;
            }
        }
    }
    current.seed = Some(seed);
    current.description = Some(description.to_owned());
    let json = serde_json::to_string_pretty(&current).map_err(|error| error.to_string())? + "\n";
    // The file is what `sim run` will read: parse it back and check it fails the same way.
    let reread = Scenario::parse(&json, std::path::Path::new("shrunk.json"))
        .map_err(|error| format!("the shrunk scenario does not parse: {error}"))?
        .scenario;
    // The planted bug is an option of the command, not a field of the file.
    #[cfg(feature = "plant")]
    let reread = Scenario { plant: current.plant, ..reread };
    let replayed = attempt(&reread, seed);
    if !same(&replayed, &target) {
        return Err("the shrunk scenario does not replay the failure".to_owned());
    }
    let replayed = replayed.expect("same() saw a report");
    Ok(Shrunk {
        after: size(&current, &replayed),
        trace_hash: replayed.trace_hash.clone(),
        scenario: current,
        json,
        class: target.0,
        signature: target.1,
        before,
        runs,
    })
}

/// Runs `scenario` from `seed`; `None` if a replica panicked.
fn attempt(scenario: &Scenario, seed: u64) -> Option<RunReport> {
    let loaded = Loaded { scenario: scenario.clone(), warnings: Vec::new() };
    std::panic::catch_unwind(|| crate::run("shrink", &loaded, seed)).ok()
}

fn same(report: &Option<RunReport>, target: &(Class, String)) -> bool {
    report.as_ref().is_some_and(|r| r.class == target.0 && sweep::signature(r) == target.1)
}

fn size(scenario: &Scenario, report: &RunReport) -> Size {
    let network = &scenario.network;
    let switched_on = [
        scenario.drops > 0.0,
        network.duplicate_ratio > 0.0,
        network.client_duplicate_ratio > 0.0,
        !network.links.is_empty(),
        network.distribution != Distribution::Uniform,
        scenario.clocks.drift_ppm.is_some() || scenario.clocks.drift_ppm_max > 0,
    ];
    Size {
        events: report.events,
        operations: scenario.requests,
        faults: scenario.events.len()
            + scenario.schedule.len()
            + switched_on.iter().filter(|&&on| on).count(),
        replicas: scenario.replicas,
    }
}

/// Every one-step reduction of `s`, most valuable first. Each is smaller in some respect
/// and no larger in any; a candidate that no longer fits together is left out.
fn candidates(s: &Scenario) -> Vec<Scenario> {
    let mut out = Vec::new();
    let mut push = |candidate: Scenario| {
        // Only what still validates: parse the candidate back as a file would be.
        let Ok(json) = serde_json::to_string(&candidate) else { return };
        if Scenario::parse(&json, std::path::Path::new("candidate.json")).is_ok() {
            out.push(candidate);
        }
    };
    for index in (0..s.events.len()).rev() {
        let mut c = s.clone();
        c.events.remove(index);
        push(c);
    }
    for index in (0..s.schedule.len()).rev() {
        let mut c = s.clone();
        c.schedule.remove(index);
        push(c);
    }
    let edits: [fn(&mut Scenario) -> bool; 7] = [
        |c| std::mem::take(&mut c.drops) > 0.0,
        |c| std::mem::take(&mut c.network.duplicate_ratio) > 0.0,
        |c| std::mem::take(&mut c.network.client_duplicate_ratio) > 0.0,
        |c| !std::mem::take(&mut c.network.links).is_empty(),
        |c| {
            std::mem::replace(&mut c.network.distribution, Distribution::Uniform)
                != Distribution::Uniform
        },
        |c| {
            let drifting = c.clocks.drift_ppm.take().is_some();
            drifting | (std::mem::take(&mut c.clocks.drift_ppm_max) > 0)
        },
        |c| std::mem::take(&mut c.clients.timeout_ms) > 0,
    ];
    for edit in edits {
        let mut c = s.clone();
        if edit(&mut c) {
            push(c);
        }
    }
    // A shorter run at the same request rate, then fewer requests, then shorter waits.
    if s.lifetime > 0.05 {
        let mut c = s.clone();
        c.lifetime = round_ms(s.lifetime / 2.0);
        c.requests = (s.requests / 2).max(1);
        push(c);
    }
    for requests in [s.requests / 2, s.requests.saturating_sub(1)] {
        if (1..s.requests).contains(&requests) {
            let mut c = s.clone();
            c.requests = requests;
            push(c);
        }
    }
    for end_wait in [0.0, round_ms(s.end_wait / 2.0)] {
        if end_wait < s.end_wait {
            let mut c = s.clone();
            c.end_wait = end_wait;
            push(c);
        }
    }
    // The same faults, sooner: every event at half its time, in half the lifetime.
    if s.lifetime > 0.05 && !s.events.is_empty() {
        let mut c = s.clone();
        c.lifetime = round_ms(s.lifetime / 2.0);
        c.requests = (s.requests / 2).max(1);
        for event in &mut c.events {
            event.time = round_ms(event.time / 2.0);
        }
        push(c);
    }
    // Rarer heartbeats: fewer events per second of a quiet cluster.
    let timing = &s.timing;
    let heartbeat_ms = (timing.heartbeat_interval_ms * 2).min(timing.election_timeout_ms_min - 1);
    if heartbeat_ms > timing.heartbeat_interval_ms {
        let mut c = s.clone();
        c.timing.heartbeat_interval_ms = heartbeat_ms;
        push(c);
    }
    if s.start_wait > 0.05 {
        let mut c = s.clone();
        c.start_wait = round_ms(s.start_wait / 2.0);
        push(c);
    }
    for replicas in [s.replicas.saturating_sub(2), s.replicas.saturating_sub(1)] {
        if replicas >= 1 && replicas < s.replicas {
            let mut c = s.clone();
            c.replicas = replicas;
            if let Some(drifts) = &mut c.clocks.drift_ppm {
                drifts.truncate(usize::from(replicas));
            }
            push(c);
        }
    }
    if s.liveness.is_some() {
        let mut c = s.clone();
        c.liveness = None;
        push(c);
    }
    out
}

/// Seconds rounded to whole milliseconds, so shrunk files stay readable.
fn round_ms(seconds: f64) -> f64 {
    (seconds * 1000.0).round() / 1000.0
}

impl Shrunk {
    /// What `sim shrink` prints: the failure, the sizes before and after, and how to replay
    /// the file written to `path` (`plant` is the planted bug's name, if any).
    pub fn summary(&self, path: &str, plant: Option<&str>) -> String {
        let (b, a) = (self.before, self.after);
        let percent = |before: u64, after: u64| match before {
            0 => 0.0,
            _ => 100.0 * (before - after.min(before)) as f64 / before as f64,
        };
        let mut out = String::new();
        out += &format!("failure      {} [{}]\n", self.signature, self.class.name());
        out += &format!(
            "events       {} -> {} ({:.1}% smaller)\n",
            b.events,
            a.events,
            percent(b.events, a.events)
        );
        out += &format!("operations   {} -> {}\n", b.operations, a.operations);
        out += &format!("faults       {} -> {}\n", b.faults, a.faults);
        out += &format!("replicas     {} -> {}\n", b.replicas, a.replicas);
        out += &format!("runs         {} tried\n", self.runs);
        out += &format!("trace hash   {}\n", self.trace_hash);
        out += &format!("written      {path}\n");
        let seed = self.scenario.seed.unwrap_or(0);
        let replay = crate::report::replay_command(path, seed, false);
        out += &format!("replay       {}\n", crate::plant::replay(&replay, plant));
        out
    }
}
