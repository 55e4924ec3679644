//! The `sim` binary as a user meets it. Proves the exit codes and messages for bad input
//! (a malformed scenario names file, field, line and column; bad flags; a corrupt summary),
//! that `sim run` prints the same trace hash twice and writes its report, and that
//! `sim sweep` plus `sim merge` work end to end.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn sim(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sim")).args(args).current_dir(dir).output().unwrap()
}

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap()
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("sim-cli-test-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn trace_hash(stdout: &str) -> String {
    let line = stdout.lines().find(|l| l.starts_with("trace hash")).expect("a trace hash line");
    line.split_whitespace().last().unwrap().to_owned()
}

#[test]
fn run_prints_the_same_trace_hash_twice_and_writes_a_report() {
    let dir = scratch("run");
    let scenario = repo_root().join("scenarios/partition.json");
    let scenario = scenario.to_str().unwrap();
    let first = sim(&["run", scenario, "--seed", "42"], &dir);
    assert_eq!(first.status.code(), Some(0), "{}", text(&first.stderr));
    let stdout = text(&first.stdout);
    assert!(stdout.contains("linearizable yes"), "{stdout}");
    assert!(stdout.contains("invariants   ok"), "{stdout}");
    assert!(stdout.contains("result       PASS"), "{stdout}");
    let second = sim(&["run", scenario, "--seed", "42"], &dir);
    assert_eq!(trace_hash(&stdout), trace_hash(&text(&second.stdout)));
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("reports/partition-seed42.json")).unwrap())
            .unwrap();
    assert_eq!(report["class"], "pass");
    assert_eq!(report["trace_hash"].as_str().unwrap(), trace_hash(&stdout));
}

#[test]
fn a_malformed_scenario_exits_2_naming_file_field_line_and_column() {
    let dir = scratch("malformed");
    let bad = dir.join("bad.json");
    std::fs::write(
        &bad,
        concat!(
            "{\n  \"lifetime\": 10,\n  \"replicas\": 5,\n  \"requests\": 10,\n",
            "  \"events\": [{\"type\": \"kil_leader\", \"time\": 1}]\n}\n"
        ),
    )
    .unwrap();
    let output = sim(&["run", bad.to_str().unwrap(), "--seed", "1"], &dir);
    assert_eq!(output.status.code(), Some(2));
    let stderr = text(&output.stderr);
    assert!(stderr.contains("bad.json:5:"), "{stderr}");
    assert!(stderr.contains("field `events[0].type`"), "{stderr}");
    assert!(stderr.contains("kil_leader"), "{stderr}");
    assert!(!dir.join("reports").exists(), "no report for bad input");

    let missing = sim(&["run", "no-such-file.json"], &dir);
    assert_eq!(missing.status.code(), Some(2));
    assert!(text(&missing.stderr).contains("no-such-file.json: cannot read scenario"));
}

#[test]
fn sweep_and_merge_reject_bad_input_with_exit_2() {
    let dir = scratch("bad-sweep");
    let scenario = repo_root().join("scenarios/simple.json");
    let scenario = scenario.to_str().unwrap();
    let backwards = sim(&["sweep", scenario, "--seeds", "9..1"], &dir);
    assert_eq!(backwards.status.code(), Some(2));
    assert!(text(&backwards.stderr).contains("--seeds"), "{}", text(&backwards.stderr));
    let shard = sim(&["sweep", scenario, "--seeds", "1..4", "--shard", "3/2"], &dir);
    assert_eq!(shard.status.code(), Some(2));
    let corrupt = dir.join("summary.json");
    std::fs::write(&corrupt, "{\"version\": 1, \"seeds\": ").unwrap();
    let merge = sim(&["merge", corrupt.to_str().unwrap()], &dir);
    assert_eq!(merge.status.code(), Some(2));
    assert!(text(&merge.stderr).contains("not a sweep summary"), "{}", text(&merge.stderr));
}

#[test]
fn sharded_sweeps_merge_into_the_unsharded_summary() {
    let dir = scratch("shards");
    let scenario = repo_root().join("scenarios/simple.json");
    let scenario = scenario.to_str().unwrap();
    let whole = sim(&["sweep", scenario, "--seeds", "1..12", "--out", "whole"], &dir);
    assert_eq!(whole.status.code(), Some(0), "{}", text(&whole.stderr));
    for shard in ["1/2", "2/2"] {
        let out = format!("shard{}", &shard[..1]);
        let output =
            sim(&["sweep", scenario, "--seeds", "1..12", "--shard", shard, "--out", &out], &dir);
        assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    }
    let merged =
        sim(&["merge", "shard2/summary.json", "shard1/summary.json", "--out", "merged"], &dir);
    assert_eq!(merged.status.code(), Some(0), "{}", text(&merged.stderr));
    let read = |p: &str| std::fs::read(dir.join(p)).unwrap();
    assert_eq!(read("merged/summary.json"), read("whole/summary.json"));
    assert_eq!(read("merged/junit.xml"), read("whole/junit.xml"));
}

#[test]
fn check_reports_a_stale_read_naming_the_key_and_operations_with_exit_3() {
    let dir = scratch("check");
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/stale_read.json");
    let output = sim(&["check", fixture.to_str().unwrap()], &dir);
    assert_eq!(output.status.code(), Some(3), "{}", text(&output.stderr));
    let stdout = text(&output.stdout);
    assert!(stdout.contains("key \"k1\": NOT linearizable"), "{stdout}");
    assert!(stdout.contains("key \"k2\": linearizable"), "{stdout}");
    assert!(stdout.contains("stale read"), "{stdout}");
    for operation in
        ["  0      22  put \"a\"", "  1      22  put \"b\"", "  3      23  get returned \"a\""]
    {
        assert!(stdout.contains(operation), "{operation:?} missing from:\n{stdout}");
    }
}

#[test]
fn check_rejects_a_history_in_the_wrong_format_with_exit_2() {
    let dir = scratch("check-bad");
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/stale_read.json");
    let output = sim(&["check", fixture.to_str().unwrap(), "--format", "jepsen"], &dir);
    assert_eq!(output.status.code(), Some(2));
    assert!(text(&output.stderr).contains("stale_read.json:1"), "{}", text(&output.stderr));
    let unknown = sim(&["check", fixture.to_str().unwrap(), "--format", "csv"], &dir);
    assert_eq!(unknown.status.code(), Some(2));
    assert!(text(&unknown.stderr).contains("--format"), "{}", text(&unknown.stderr));
}

#[test]
fn a_run_in_which_no_request_is_answered_is_a_liveness_failure() {
    let dir = scratch("unavailable");
    let scenario = dir.join("dead-network.json");
    std::fs::write(&scenario, r#"{"lifetime": 5, "replicas": 3, "requests": 10, "drops": 1.0}"#)
        .unwrap();
    let output = sim(&["run", scenario.to_str().unwrap(), "--seed", "1"], &dir);
    assert_eq!(output.status.code(), Some(4), "{}", text(&output.stdout));
    let stdout = text(&output.stdout);
    assert!(stdout.contains("available    NO: requests unanswered"), "{stdout}");
    assert!(stdout.contains("result       FAIL (liveness"), "{stdout}");
}

#[test]
fn sweeps_refuse_impossible_shards_threads_and_seed_counts() {
    let dir = scratch("impossible");
    let scenario = repo_root().join("scenarios/simple.json");
    let scenario = scenario.to_str().unwrap();
    for args in [
        vec!["sweep", scenario, "--seeds", "1..3", "--shard", "1/4"],
        vec!["sweep", scenario, "--seeds", "1..3", "--jobs", "0"],
        vec!["sweep", scenario, "--seeds", "0..18446744073709551615"],
    ] {
        let output = sim(&args, &dir);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {}", text(&output.stdout));
        assert!(text(&output.stderr).starts_with("error: --"), "{}", text(&output.stderr));
    }
}
