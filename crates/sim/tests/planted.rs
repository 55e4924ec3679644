//! Planted bugs are caught. Proves, for every bug in `replica::Plant::ALL`, that some
//! shipped scenario catches it within a stated number of seeds, that the seeds-to-catch
//! table in `docs/planted.md` is what `sim hunt --table` prints today (`UPDATE_EXPECT=1`
//! rewrites it), and that a shrunk failure replays from its file. Needs `--features plant`.
#![cfg(feature = "plant")]

use std::path::{Path, PathBuf};

use replica::Plant;
use sim::hunt;
use sim::sweep::SeedRange;
use sim::Scenario;

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap()
}

/// Where each bug is hunted in this test and the most seeds it may take there.
fn stated(plant: Plant) -> (&'static str, u64) {
    match plant {
        Plant::StaleRead => ("scenarios/hunt.json", 10),
        Plant::VoteWithoutLogCheck => ("scenarios/partition.json", 5),
        Plant::CommitOldTerm => ("scenarios/hunt.json", 60),
        Plant::AckBeforeMajority => ("scenarios/swarm.json", 5),
        Plant::ForgetVote => ("scenarios/network-shapes.json", 5),
        Plant::CountStaleVotes => ("scenarios/hunt.json", 5),
        Plant::NeverStepDown => ("scenarios/swarm.json", 5),
        Plant::UnpersistedVote => ("scenarios/simple.json", 1),
        Plant::NoDuplicateDetection => ("scenarios/hunt.json", 5),
        Plant::CommitPastVerified => ("scenarios/hunt.json", 20),
    }
}

#[test]
fn every_planted_bug_is_caught_within_its_stated_seeds() {
    let root = repo_root();
    for plant in Plant::ALL {
        let (ground, seeds_max) = stated(plant);
        let loaded = Scenario::load(&root.join(ground)).unwrap();
        let scenarios = [(ground.to_owned(), loaded)];
        let seeds = SeedRange { first: 1, last: seeds_max };
        let catch = hunt::hunt(&scenarios, plant, seeds, 2);
        let catch = catch.unwrap_or_else(|| panic!("{plant} not caught in {ground} {seeds}"));
        assert_ne!(catch.class, "harness", "{plant}: {}", catch.signature);
    }
}

#[test]
fn the_seeds_to_catch_table_is_current() {
    let root = repo_root();
    let table = hunt::table(&root, hunt::TABLE_SEEDS_MAX, 2).unwrap();
    let path = root.join("docs/planted.md");
    let doc = std::fs::read_to_string(&path).unwrap();
    let (start, end) = ("<!-- table: sim hunt --table -->\n", "<!-- end table -->");
    let from = doc.find(start).expect("the table's start marker") + start.len();
    let to = doc.find(end).expect("the table's end marker");
    if std::env::var_os("UPDATE_EXPECT").is_some() {
        let updated = format!("{}{table}{}", &doc[..from], &doc[to..]);
        std::fs::write(&path, updated).unwrap();
        return;
    }
    assert_eq!(doc[from..to], table, "docs/planted.md is stale: rerun with UPDATE_EXPECT=1");
    for line in table.lines().skip(2) {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        assert!(cells[2..cells.len() - 1].iter().any(|cell| *cell != "-"), "uncaught: {line}");
    }
}

#[test]
fn a_shrunk_failure_is_smaller_and_replays_from_its_file() {
    let root = repo_root();
    let mut loaded = Scenario::load(&root.join("scenarios/hunt.json")).unwrap();
    loaded.scenario.plant = Some(Plant::CommitPastVerified);
    let shrunk = sim::shrink::shrink(&loaded, 11, "shrunk in a test").unwrap();
    assert!(shrunk.after.events < shrunk.before.events / 4, "{:?}", shrunk.after);
    assert!(shrunk.after.operations < shrunk.before.operations);
    assert!(shrunk.after.faults < shrunk.before.faults);
    let mut reread = Scenario::parse(&shrunk.json, Path::new("shrunk.json")).unwrap();
    assert!(!reread.scenario.swarm, "swarm's choice is written out as concrete faults");
    reread.scenario.plant = Some(Plant::CommitPastVerified);
    let report = sim::run("shrunk.json", &reread, reread.scenario.seed.unwrap());
    assert_eq!(report.trace_hash, shrunk.trace_hash);
    assert_eq!(sim::sweep::signature(&report), shrunk.signature);
}
