//! The `--plant NAME` option of `sim run`, `sim sweep` and `sim shrink`: every replica of the
//! run carries the named planted bug (see `crates/replica/src/plant.rs`).
//!
//! The option exists in every build so that a build without the `plant` feature can say
//! what is missing instead of rejecting an unknown flag; only a `plant` build can act on it.

use crate::Scenario;

/// Makes every replica of `scenario` carry the planted bug `name`. Fails with a message
/// naming the feature in a build without it, or listing the bugs for an unknown name.
pub fn apply(scenario: &mut Scenario, name: &str) -> Result<(), String> {
    #[cfg(feature = "plant")]
    {
        let plant = replica::Plant::parse(name).ok_or_else(|| {
            let names: Vec<&str> = replica::Plant::ALL.iter().map(|plant| plant.name()).collect();
            format!("--plant: no planted bug `{name}`; there are: {}", names.join(", "))
        })?;
        scenario.plant = Some(plant);
        Ok(())
    }
    #[cfg(not(feature = "plant"))]
    {
        let _ = scenario;
        Err(format!(
            "--plant {name}: this sim was built without the `plant` feature; build it with \
             `cargo build --release -p sim --features plant`"
        ))
    }
}

/// The replay command of a run with planted bug `name`: `replay` plus the option.
pub fn replay(replay: &str, name: Option<&str>) -> String {
    match name {
        Some(name) => format!("{replay} --plant {name}"),
        None => replay.to_owned(),
    }
}

/// What `sim hunt` was asked.
#[derive(Clone, Debug)]
pub struct HuntArgs {
    /// Scenario files; empty means the hunting grounds of the table.
    pub scenarios: Vec<std::path::PathBuf>,
    /// List the planted bugs.
    pub list: bool,
    /// The bug to hunt.
    pub plant: Option<String>,
    /// Seeds, `FIRST..LAST`.
    pub seeds: String,
    /// Print the seeds-to-catch table.
    pub table: bool,
    /// Worker threads.
    pub jobs: usize,
    /// Swarm mode for every scenario.
    pub swarm: bool,
}

/// Carries out `sim hunt`: the text to print and the exit code (0 nothing caught or a list
/// or table, 1 a bug caught), or a bad-input message.
pub fn hunt_command(args: &HuntArgs) -> Result<(String, u8), String> {
    #[cfg(feature = "plant")]
    {
        hunt_planted(args)
    }
    #[cfg(not(feature = "plant"))]
    {
        let _ = args;
        Err("sim hunt: this sim was built without the `plant` feature; build it with \
             `cargo build --release -p sim --features plant`"
            .to_owned())
    }
}

#[cfg(feature = "plant")]
fn hunt_planted(args: &HuntArgs) -> Result<(String, u8), String> {
    use std::fmt::Write as _;

    use replica::Plant;

    use crate::hunt;
    use crate::sweep::SeedRange;

    if args.list {
        let mut out = String::new();
        for plant in Plant::ALL {
            let _ = writeln!(out, "{:<24} {}", plant.name(), plant.description());
        }
        return Ok((out, 0));
    }
    if args.table {
        let table = hunt::table(std::path::Path::new("."), hunt::TABLE_SEEDS_MAX, args.jobs)
            .map_err(|error| error.to_string())?;
        return Ok((table, 0));
    }
    let name = args.plant.as_deref().ok_or("sim hunt needs --plant NAME, --list or --table")?;
    let plant = Plant::parse(name).ok_or_else(|| format!("--plant: no planted bug `{name}`"))?;
    let seeds = SeedRange::parse(&args.seeds).map_err(|message| format!("--seeds: {message}"))?;
    let paths: Vec<std::path::PathBuf> = match args.scenarios.is_empty() {
        true => hunt::GROUNDS.iter().map(std::path::PathBuf::from).collect(),
        false => args.scenarios.clone(),
    };
    let mut scenarios = Vec::new();
    for path in &paths {
        let mut loaded = crate::Scenario::load(path).map_err(|error| error.to_string())?;
        loaded.scenario.swarm |= args.swarm;
        scenarios.push((path.display().to_string(), loaded));
    }
    let mut out = String::new();
    let _ = writeln!(out, "hunt         {name}: {}", plant.description());
    match hunt::hunt(&scenarios, plant, seeds, args.jobs) {
        Some(catch) => {
            let _ = writeln!(
                out,
                "caught       after {} seeds ({} runs), by {}",
                catch.seeds_tried,
                catch.seeds_tried * scenarios.len() as u64,
                catch.check
            );
            let _ = writeln!(out, "run          {} seed {}", catch.scenario, catch.seed);
            let _ = writeln!(out, "signature    {}", catch.signature);
            let _ = writeln!(out, "replay       {}", catch.replay);
            Ok((out, 1))
        }
        None => {
            let _ = writeln!(
                out,
                "not caught   in seeds {seeds} of {} scenarios: a gap in the faults or the checks",
                scenarios.len()
            );
            Ok((out, 0))
        }
    }
}
