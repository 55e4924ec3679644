//! Helpers shared by the process-level tests: a cluster of `kvnode` processes and a tiny
//! client that follows redirects.

// Each test file uses a different part of these helpers.
#![allow(dead_code)]

use std::path::PathBuf;
use std::time::{Duration, Instant};

use node::harness::cluster::{fresh_work_dir, Cluster, Launch};
use serde_json::{json, Value};

/// The client id the tests speak as (the course numbers clients from `replicas + 16`).
pub const CLIENT: &str = "0015";

/// A launch of `replicas` built `kvnode` processes in a fresh work dir.
pub fn launch(label: &str, replicas: u16, data_dirs: bool) -> Launch {
    Launch {
        program: PathBuf::from(env!("CARGO_BIN_EXE_kvnode")),
        replicas,
        work_dir: fresh_work_dir(label),
        data_dirs,
    }
}

/// Starts a cluster and waits for every hello.
pub fn start(launch: Launch) -> Cluster {
    let mut cluster = Cluster::start(launch, 7).expect("replicas start");
    let early = cluster.await_hellos(Duration::from_secs(5));
    assert!(early.is_empty(), "datagrams before the hellos: {early:?}");
    assert!((0..cluster.len()).all(|index| cluster.is_alive(index)), "a replica said no hello");
    cluster
}

/// Sends one request (`fields` plus the header and a fresh MID) and follows redirects until
/// an `ok` or `deadline`; returns the `ok` reply.
pub fn request(cluster: &mut Cluster, fields: Value, deadline: Instant) -> Option<Value> {
    static MIDS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let mut target = 0;
    while Instant::now() < deadline {
        let mid = format!("T{:015}", MIDS.fetch_add(1, std::sync::atomic::Ordering::Relaxed));
        let mut message = json!({"src": CLIENT, "dst": format!("{target:04X}"),
                                 "leader": "FFFF", "MID": mid});
        for (name, value) in fields.as_object().expect("fields are an object") {
            message[name] = value.clone();
        }
        if !cluster.send_to(target, &serde_json::to_vec(&message).unwrap()) {
            target = (target + 1) % cluster.len();
            continue;
        }
        let mut reply = None;
        let wait = (Instant::now() + Duration::from_secs(2)).min(deadline);
        cluster.route_plainly_until(wait, |datagram| {
            let value: Value = serde_json::from_slice(&datagram.bytes).unwrap();
            let ours = value["MID"] == mid.as_str();
            if ours {
                reply = Some(value);
            }
            ours
        });
        match reply {
            Some(reply) if reply["type"] == "ok" => return Some(reply),
            Some(reply) => {
                let leader =
                    reply["leader"].as_str().and_then(|l| usize::from_str_radix(l, 16).ok());
                target = match leader {
                    Some(leader) if leader < cluster.len() => leader,
                    _ => (target + 1) % cluster.len(),
                };
                if reply["leader"] == "FFFF" {
                    std::thread::sleep(Duration::from_millis(100));
                }
            }
            None => target = (target + 1) % cluster.len(),
        }
    }
    None
}
