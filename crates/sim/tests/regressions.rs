//! The regression scenarios in `scenarios/regressions/`: classic failure schedules, each
//! written for one planted bug. Proves that every one passes on the real replica (for its
//! own seed and seeds 1 to 10) and, with `--features plant`, fails with its bug at its seed,
//! in the class that bug is expected to break.

use std::path::{Path, PathBuf};

use sim::{Class, Scenario};

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap()
}

/// Each regression, the planted bug it reproduces and the class of the failure it causes.
const REGRESSIONS: [(&str, &str, Class); 4] = [
    ("deposed-leader-reads.json", "stale_read", Class::Linearizability),
    ("rejoin-inflated-term.json", "vote_without_log_check", Class::Safety),
    ("delayed-vote-reply.json", "count_stale_votes", Class::Safety),
    ("figure-8.json", "commit_old_term", Class::Safety),
];

fn load(name: &str) -> (String, sim::Loaded) {
    let path = repo_root().join("scenarios/regressions").join(name);
    let loaded = Scenario::load(&path).unwrap_or_else(|error| panic!("{error}"));
    (path.display().to_string(), loaded)
}

#[test]
fn every_regression_file_is_listed_and_described() {
    let mut files: Vec<String> = std::fs::read_dir(repo_root().join("scenarios/regressions"))
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".json"))
        .collect();
    files.sort();
    let mut listed: Vec<String> = REGRESSIONS.iter().map(|(name, _, _)| name.to_string()).collect();
    listed.sort();
    assert_eq!(files, listed);
    for (name, _, _) in REGRESSIONS {
        let (_, loaded) = load(name);
        assert!(loaded.scenario.description.is_some_and(|d| d.len() > 80), "{name}");
        assert!(loaded.scenario.seed.is_some(), "{name} names its seed");
    }
}

#[test]
fn every_regression_passes_on_the_real_replica() {
    for (name, _, _) in REGRESSIONS {
        let (path, loaded) = load(name);
        let own = loaded.scenario.seed.unwrap();
        for seed in std::iter::once(own).chain(1..=10) {
            let report = sim::run(&path, &loaded, seed);
            assert_eq!(report.class, Class::Pass, "{}", report.replay);
        }
    }
}

#[cfg(feature = "plant")]
#[test]
fn every_regression_fails_with_its_planted_bug() {
    for (name, plant, class) in REGRESSIONS {
        let (path, mut loaded) = load(name);
        sim::plant::apply(&mut loaded.scenario, plant).unwrap();
        let seed = loaded.scenario.seed.unwrap();
        let report = sim::run(&path, &loaded, seed);
        assert_ne!(report.class, Class::Pass, "{name} passes with --plant {plant}");
        assert_eq!(report.class, class, "{name} with --plant {plant}: {}", report.replay);
    }
}
