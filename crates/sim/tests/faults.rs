//! The fault library, one family at a time. Proves that each new fault family's scenario in
//! `scenarios/` actually fires its faults (the report's counters are not zero and no
//! configured family is inert), that crash-restart keeps every acknowledged write, that the
//! liveness oracle passes a recovering cluster and fails, with a diagnosis, one that cannot
//! recover, that swarm mode chooses a different mix per seed and replays exactly, and that
//! the course's fields keep meaning what they meant.

use std::path::{Path, PathBuf};

use sim::{Class, Scenario};

fn scenario_path(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scenarios").join(name)
}

fn run(name: &str, seed: u64) -> sim::RunReport {
    let path = scenario_path(name);
    let loaded = Scenario::load(&path).unwrap_or_else(|error| panic!("{error}"));
    sim::run(&path.display().to_string(), &loaded, seed)
}

fn run_text(text: &str, seed: u64) -> sim::RunReport {
    let loaded = Scenario::parse(text, Path::new("inline.json")).unwrap_or_else(|e| panic!("{e}"));
    sim::run("inline.json", &loaded, seed)
}

/// Runs `name` for seeds 1 to 5; each must pass, recover, and leave no family inert.
fn fires(name: &str) -> Vec<sim::RunReport> {
    (1..=5)
        .map(|seed| {
            let report = run(name, seed);
            assert_eq!(report.class, Class::Pass, "{}: {:?}", report.replay, report.liveness);
            assert!(
                report.inert_families.is_empty(),
                "{}: {:?}",
                report.replay,
                report.inert_families
            );
            let liveness = report.liveness.as_ref().expect("every fault scenario checks liveness");
            assert!(liveness.recovered, "{}: {liveness:?}", report.replay);
            report
        })
        .collect()
}

#[test]
fn crash_restart_rebuilds_from_disk_and_loses_no_acknowledged_write() {
    for report in fires("crash-restart.json") {
        let counters = &report.fault_counters;
        assert_eq!(counters.crashes, 5, "{}", report.replay);
        assert_eq!(counters.restarts, 5, "four durations end, one explicit restart");
        // The history went through the linearizability checker with the restarts in it: a
        // write acknowledged before a crash and missing after would make it fail.
        assert!(report.requests.ok > 300, "the workload kept running: {:?}", report.requests);
        let restarted = report.faults.iter().filter(|f| f.detail.contains("from disk")).count();
        assert_eq!(restarted, 5);
    }
    let after_vote: u64 = (1..=5)
        .map(|seed| run("crash-restart.json", seed))
        .map(|report| report.fault_counters.crashes_after_vote)
        .sum();
    assert!(after_vote > 0, "a crash right after a vote struck at least once");
}

#[test]
fn pauses_hold_messages_and_resume_them() {
    for report in fires("pause.json") {
        assert_eq!(report.fault_counters.pauses, 4, "{}", report.replay);
        assert_eq!(report.fault_counters.resumes, 4);
        assert!(report.fault_counters.held_by_pause > 0, "messages waited for a paused replica");
    }
}

#[test]
fn the_network_shapes_fire() {
    for report in fires("network-shapes.json") {
        let c = &report.fault_counters;
        assert!(c.shaped_delays > 0 && c.duplicated > 0 && c.dropped_by_link_loss > 0);
        assert_eq!(c.link_cuts, 4);
        assert!(c.dropped_by_cut > 0, "{}", report.replay);
    }
    for report in fires("exponential-delay.json") {
        assert!(
            report.fault_counters.shaped_delays > 0 && report.fault_counters.dropped_by_cut > 0
        );
    }
}

#[test]
fn every_partition_shape_fires_and_flaps() {
    for report in fires("partition-shapes.json") {
        // Seven shapes, then a partition cut again every 400 ms for 2 s: five cuts.
        assert_eq!(report.fault_counters.partitions, 12, "{}", report.replay);
        assert!(report.fault_counters.dropped_by_cut > 0);
        for shape in ["halves", "isolate:", "isolate_leader", "leader_majority", "bridge", "ring"] {
            assert!(report.faults.iter().any(|f| f.detail.starts_with(shape)), "{shape}");
        }
    }
}

#[test]
fn drifting_clocks_skew_the_timers() {
    for report in fires("clock-drift.json") {
        assert_eq!(report.clock_drift_ppm, vec![400_000, -300_000, 50_000, -50_000, 0]);
        assert!(report.fault_counters.skewed_ticks > 0);
    }
}

#[test]
fn scripted_rules_drop_and_delay_their_messages() {
    let reports = fires("scripted.json");
    assert!(reports.iter().all(|r| r.fault_counters.dropped_by_schedule > 0));
    assert!(reports.iter().any(|r| r.fault_counters.delayed_by_schedule > 0));
}

#[test]
fn the_liveness_oracle_fails_a_cluster_that_cannot_elect() {
    // Every replica-to-replica message is lost (the course's `drops`, which is weather, not a
    // fault, so the oracle's heal keeps it): no election can ever finish.
    let text = r#"{"replicas": 3, "lifetime": 2, "requests": 20, "start_wait": 1, "drops": 1.0,
        "liveness": {"recover_within_ms": 1500, "after": 1}}"#;
    let report = run_text(text, 3);
    assert_eq!(report.class, Class::Liveness);
    assert_eq!(report.class.exit_code(), 4);
    let liveness = report.liveness.as_ref().unwrap();
    let diagnosis = liveness.diagnosis.as_deref().unwrap();
    assert!(
        diagnosis.starts_with("term churn") || diagnosis.starts_with("no leader"),
        "{diagnosis}"
    );
    assert!(!liveness.recovered && liveness.probes >= 1);
    assert!(report.summary().contains("liveness     FAILED"), "{}", report.summary());
}

#[test]
fn the_liveness_oracle_skips_a_cluster_without_a_majority() {
    let text = r#"{"replicas": 3, "lifetime": 3, "requests": 30, "start_wait": 1,
        "events": [{"type": "kill_leader", "time": 0.5}, {"type": "kill_non_leader", "time": 1}],
        "liveness": {"recover_within_ms": 1000}}"#;
    let report = run_text(text, 1);
    let liveness = report.liveness.as_ref().unwrap();
    assert!(liveness.skipped.as_deref().unwrap().contains("majority"), "{liveness:?}");
    assert_ne!(report.class, Class::Liveness);
}

#[test]
fn swarm_mode_mixes_per_seed_with_true_zeros_and_replays() {
    let reports: Vec<sim::RunReport> = (1..=8).map(|seed| run("swarm.json", seed)).collect();
    let mixes: Vec<_> = reports.iter().map(|r| r.swarm.clone().expect("a swarm mix")).collect();
    assert!(mixes.windows(2).any(|w| w[0] != w[1]), "seeds choose different mixes");
    for (report, mix) in reports.iter().zip(&mixes) {
        assert_eq!(report.class, Class::Pass, "{}", report.replay);
        for family in &report.fault_families {
            if let Some(chosen) = mix.get(family.family) {
                assert_eq!(family.configured, chosen != "off", "{}: {family:?}", report.replay);
                if chosen == "off" {
                    assert_eq!(family.fired, 0, "an off family is truly off");
                }
            }
        }
        assert!(report.summary().contains("swarm        "));
    }
    let again = run("swarm.json", 3);
    assert_eq!(again.trace_hash, reports[2].trace_hash);
}

#[test]
fn swarm_can_be_switched_on_after_loading() {
    // What `sim run --swarm` does: load any scenario, set the flag, run.
    let path = scenario_path("simple.json");
    let mut loaded = Scenario::load(&path).unwrap();
    loaded.scenario.swarm = true;
    let report = sim::run("simple.json", &loaded, 11);
    assert!(report.swarm.is_some() && report.liveness.is_some());
}

#[test]
fn course_fields_mean_what_they_meant() {
    // The trace hash of the main job is unchanged by the fault library.
    let report = run("partition.json", 42);
    assert_eq!(report.trace_hash, "a710845657961d72");
    assert!(report.swarm.is_none() && report.liveness.is_none());
    assert!(report.fault_families.iter().all(|f| !f.configured || f.family == "loss"));
}
