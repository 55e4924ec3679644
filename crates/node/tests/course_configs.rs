//! The course's own configs, played by our harness against real processes at a reduced time
//! scale: simple-1, crash-3, partition-3 and advanced-4 pass the course's correctness rules.
//! The configs are read from `../shared/cs3700/configs`; when the env var `CI` is set and
//! they are missing, the test fails instead of skipping.

mod common;

use std::path::Path;

use node::harness::cluster::Signal;
use node::harness::course::CourseConfig;
use node::harness::run::{run, RunOptions};

/// Shrinks every duration to a quarter: about 10 s per config, and partitions still last
/// longer than an election timeout.
const TIME_SCALE: f64 = 0.25;

#[test]
fn course_configs_pass_the_course_rules() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/cs3700/configs");
    if !dir.is_dir() {
        assert!(std::env::var_os("CI").is_none(), "CI is set but {} is missing", dir.display());
        eprintln!("skipping: {} is missing", dir.display());
        return;
    }
    let mut failures = Vec::new();
    // One at a time: five processes per config already keep a small machine busy.
    for name in ["simple-1", "crash-3", "partition-3", "advanced-4"] {
        let path = dir.join(format!("{name}.json"));
        let (config, _) = CourseConfig::read(&path).expect("a valid course config");
        let config = config.time_scaled(TIME_SCALE);
        let options = RunOptions {
            launch: common::launch(name, config.replicas, false),
            seed: 11,
            kill_signal: Signal::Term,
        };
        let outcome = run(&config, &options).expect("the run starts");
        let report = outcome.render(&config);
        eprintln!("{name}\n{report}");
        if !outcome.violations(&config).is_empty() {
            failures.push(format!("{name}:\n{report}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
