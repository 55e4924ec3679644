//! A deterministic discrete-event simulator for the Raft key-value replica.
//!
//! From a scenario and a seed, [`run`] builds a cluster of `replica::Replica`s, drives them
//! with a virtual clock, a lossy network, the scenario's faults and the course's client
//! model, checks Raft's safety invariants after every event, checks the recorded client
//! history for linearizability at the end, and returns a [`RunReport`]. Nothing in a run
//! depends on the wall clock, the machine or thread timing: the same scenario and seed give
//! the same trace hash.

pub mod clock;
pub mod dist;
pub mod hash;
pub mod html;
#[cfg(feature = "plant")]
pub mod hunt;
pub mod invariants;
pub mod liveness;
pub mod plant;
pub mod report;
pub mod rng;
pub mod scenario;
pub mod shapes;
pub mod shrink;
pub mod swarm;
pub mod sweep;
pub mod workload;
pub mod world;

pub use report::{Class, RunReport};
pub use scenario::{Loaded, Scenario, ScenarioError};

/// Simulates `scenario` from `seed` and checks the result. `path` names the scenario in the
/// report and the replay command.
pub fn run(path: &str, loaded: &Loaded, seed: u64) -> RunReport {
    let outcome = world::World::new(&loaded.scenario, seed).run();
    RunReport::new(path, &loaded.scenario, loaded.warnings.clone(), seed, outcome)
}

/// Like [`run`], and writes one line per event to `trace` (see `docs/reports.md`).
pub fn run_traced(
    path: &str,
    loaded: &Loaded,
    seed: u64,
    trace: &mut dyn std::io::Write,
) -> Result<RunReport, std::io::Error> {
    let mut outcome = world::World::new(&loaded.scenario, seed).trace_to(trace).run();
    if let Some(error) = outcome.trace_error.take() {
        return Err(error);
    }
    Ok(RunReport::new(path, &loaded.scenario, loaded.warnings.clone(), seed, outcome))
}
