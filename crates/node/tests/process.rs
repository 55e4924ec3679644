//! The replica as real processes on 127.0.0.1: it survives the kill of its leader process,
//! survives and counts malformed datagrams, and with `--data-dir` keeps every acknowledged
//! write across a restart of the whole cluster.

mod common;

use std::time::{Duration, Instant};

use node::harness::cluster::{Launch, Signal};
use node::harness::course::CourseConfig;
use node::harness::run::{run, RunOptions};
use serde_json::json;

#[test]
fn malformed_datagrams_are_dropped_counted_and_survived() {
    // One replica: it elects itself, so it can answer a get after the garbage.
    let mut cluster = common::start(common::launch("malformed", 1, false));
    let garbage: Vec<Vec<u8>> = vec![
        b"".to_vec(),
        b"not json".to_vec(),
        b"{\"src\":".to_vec(),
        b"\xff\xfe\x00".to_vec(),
        b"[]".to_vec(),
        b"42".to_vec(),
        br#"{"src":"0015","dst":"0000","type":"get","MID":"A","key":"K"}"#.to_vec(),
        br#"{"src":"15","dst":"0000","leader":"FFFF","type":"get","MID":"A","key":"K"}"#.to_vec(),
        br#"{"src":"0015","dst":"0000","leader":"FFFF","type":"explode","MID":"A"}"#.to_vec(),
        br#"{"src":"0001","dst":"0000","leader":"0001","type":"append_entries","term":"x"}"#
            .to_vec(),
        br#"{"src":"0015","dst":"0009","leader":"FFFF","type":"get","MID":"A","key":"K"}"#.to_vec(),
        "[".repeat(10_000).into_bytes(),
        vec![b'x'; 60_000],
    ];
    for bytes in &garbage {
        assert!(cluster.send_to(0, bytes));
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    let reply = common::request(&mut cluster, json!({"type": "get", "key": "K"}), deadline);
    assert_eq!(reply.expect("the replica still answers")["value"], "");
    assert!(cluster.reap_died().is_empty(), "the replica died");
    let log = cluster.log_path(0);
    cluster.stop();
    let log = std::fs::read_to_string(log).unwrap();
    let warnings: Vec<&str> =
        log.lines().filter(|line| line.contains("warning: dropped datagram")).collect();
    assert_eq!(warnings.len(), garbage.len(), "one warning per bad datagram:\n{log}");
    let counted: u64 = ["not_json", "not_message", "misaddressed"]
        .iter()
        .filter_map(|kind| {
            warnings.iter().rev().find(|line| line.contains(&format!("({kind}, "))).map(|line| {
                let after = line.split(&format!("({kind}, ")).nth(1).unwrap();
                after.split(' ').next().unwrap().parse::<u64>().unwrap()
            })
        })
        .sum();
    assert_eq!(counted, garbage.len() as u64, "the running counts add up:\n{log}");
}

#[test]
fn the_cluster_survives_the_kill_of_its_leader_process() {
    let config: CourseConfig = serde_json::from_value(json!({
        "lifetime": 8, "replicas": 5, "requests": 160, "mix": 0.3,
        "start_wait": 2.5, "end_wait": 3,
        "events": [{"type": "kill_leader", "time": 3}],
        "tests": {"benchmarks": {"total_msgs": [1, 2, 3], "failures": [1, 2, 3],
                                 "duplicates": [1, 2, 3], "median_latency": [1, 2, 3]}}
    }))
    .unwrap();
    let launch = common::launch("kill-leader", 5, false);
    let options = RunOptions { launch, seed: 3, kill_signal: Signal::Kill };
    let outcome = run(&config, &options).unwrap();
    let report = outcome.render(&config);
    assert_eq!(outcome.killed.len(), 1, "{report}");
    assert!(outcome.violations(&config).is_empty(), "{report}");
    // A request the leader held when it died is never answered (clients never retry on
    // their own); the course's failure thresholds allow for a few.
    assert!(outcome.unanswered_gets + outcome.unanswered_puts <= 3, "{report}");
    // 5 of 8 seconds of traffic come after the kill: most of it must be served.
    assert!(outcome.oks_after_last_event >= 80, "{report}");
    let killed = outcome.killed[0];
    assert_eq!(outcome.leaders.iter().filter(|&&leader| leader == killed).count(), 1, "{report}");
    assert_ne!(outcome.leaders.last(), Some(&killed), "{report}");
}

#[test]
fn a_restarted_cluster_keeps_every_acknowledged_write() {
    let launch: Launch = common::launch("durable", 3, true);
    let mut cluster = common::start(launch);
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut acked = Vec::new();
    for n in 0..20 {
        let (key, value) = (format!("KEY{n}"), format!("{n:032x}"));
        let put = json!({"type": "put", "key": key, "value": value});
        if common::request(&mut cluster, put, deadline).is_some() {
            acked.push((key, value));
        }
    }
    assert_eq!(acked.len(), 20, "every put is acknowledged before the crash");
    // Crash every replica at once: only what reached the disk can survive.
    for index in 0..cluster.len() {
        cluster.kill(index, Signal::Kill);
    }
    // Datagrams the killed processes sent just before they died may still be queued at the
    // harness; they belong to the old cluster, so drop them before the new one starts.
    while cluster.recv_until(Instant::now() + Duration::from_millis(300)).is_some() {}
    for index in 0..cluster.len() {
        cluster.restart(index).unwrap();
    }
    let early = cluster.await_hellos(Duration::from_secs(5));
    assert!(early.is_empty(), "datagrams before the hellos: {early:?}");
    let deadline = Instant::now() + Duration::from_secs(30);
    for (key, value) in &acked {
        let get = json!({"type": "get", "key": key});
        let reply = common::request(&mut cluster, get, deadline).expect("a get after restart");
        assert_eq!(reply["value"], value.as_str(), "key {key} after the restart");
    }
    cluster.stop();
}
