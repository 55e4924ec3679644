//! One course config played against real replica processes: the simulator's routing,
//! drops and partitions (PROTOCOL.md section 3), the eight clients (section 4), the events,
//! and the record that [`super::outcome`] judges.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use rand_chacha::rand_core::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use replica::NodeId;
use serde_json::{json, Value};

use super::cluster::{Cluster, Datagram, Launch, Signal};
use super::course::{CourseConfig, EventKind};
use super::outcome::Outcome;

/// How many clients the course plays.
const CLIENTS: u16 = 8;
/// Client ids start this far above the replica count.
const CLIENT_ID_OFFSET: u16 = 16;
const ALPHANUMERIC: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
const HEX: &[u8] = b"0123456789abcdef";

/// How to run a config.
#[derive(Clone, Debug)]
pub struct RunOptions {
    /// How to start the replicas.
    pub launch: Launch,
    /// Seed of the harness's choices (clients, drops, partitions, victims).
    pub seed: u64,
    /// How `kill_leader` and `kill_non_leader` stop a replica.
    pub kill_signal: Signal,
}

/// The scheduled operation a request carries; retries carry the same one.
#[derive(Clone, Debug)]
enum Operation {
    Get { key: String },
    Put { key: String, value: String },
}

/// One operation's current request.
#[derive(Clone, Debug)]
struct Request {
    client: usize,
    operation: Operation,
    /// Index of the put in its key's history, for puts.
    put: Option<usize>,
    sent_at: Instant,
}

/// A put of one client's key, as the get check needs it.
#[derive(Clone, Debug)]
struct PutRecord {
    value: String,
    /// When its latest request went out: it can take effect only after that.
    sent_at: Instant,
    acked_at: Option<Instant>,
}

#[derive(Clone, Debug, Default)]
struct Client {
    leader: Option<usize>,
    /// Keys with at least one acknowledged put, in first-acknowledged order.
    keys: Vec<String>,
}

/// The simulator's state during one run.
struct World<'a> {
    config: &'a CourseConfig,
    cluster: Cluster,
    rng: ChaCha8Rng,
    clients: Vec<Client>,
    /// The leader field of the last routed message from the majority side.
    believed_leader: NodeId,
    /// Majority membership per replica while a partition holds.
    partition: Option<Vec<bool>>,
    outstanding: BTreeMap<String, Request>,
    answered_ok: BTreeSet<String>,
    /// Every put, per `(client, key)`.
    puts: BTreeMap<(usize, String), Vec<PutRecord>>,
    next_mid: u64,
    outcome: Outcome,
}

/// Plays `config` (already time-scaled) against a fresh cluster and returns the record.
pub fn run(config: &CourseConfig, options: &RunOptions) -> std::io::Result<Outcome> {
    let mut launch = options.launch.clone();
    launch.replicas = config.replicas;
    let cluster = Cluster::start(launch, options.seed)?;
    let launched = Instant::now();
    let seconds = |s: f64| launched + Duration::from_secs_f64(s.max(0.0));
    let first_request = config.start_wait_s;
    let mut world = World {
        config,
        cluster,
        rng: ChaCha8Rng::seed_from_u64(options.seed),
        clients: vec![Client::default(); usize::from(CLIENTS)],
        believed_leader: NodeId::UNKNOWN,
        partition: None,
        outstanding: BTreeMap::new(),
        answered_ok: BTreeSet::new(),
        puts: BTreeMap::new(),
        next_mid: 0,
        outcome: Outcome::default(),
    };
    for datagram in world.cluster.await_hellos(Duration::from_secs_f64(first_request.max(1.0))) {
        world.route(&datagram);
    }
    let spacing_s = config.lifetime_s / config.requests.max(1) as f64;
    let mut operations =
        (0..config.requests).map(|k| seconds(first_request + k as f64 * spacing_s));
    let mut next_operation = operations.next();
    let mut events =
        config.events.iter().map(|event| (seconds(first_request + event.time_s), event));
    let mut next_event = events.next();
    let end = seconds(first_request + config.lifetime_s + config.end_wait_s);
    let mut next_reap = Instant::now();
    loop {
        let now = Instant::now();
        if now >= end {
            break;
        }
        if world.outcome.total_msgs >= config.max_packets {
            world.outcome.notes.push(format!("stopped at max_packets {}", config.max_packets));
            break;
        }
        if let Some(at) = next_operation.filter(|&at| at <= now) {
            let _ = at;
            world.schedule_operation();
            next_operation = operations.next();
            continue;
        }
        if let Some((_, event)) = next_event.filter(|&(at, _)| at <= now) {
            world.apply_event(event.kind, options.kill_signal);
            next_event = events.next();
            continue;
        }
        if now >= next_reap {
            for (id, status) in world.cluster.reap_died() {
                world.outcome.died.push(format!("{id} ({status})"));
            }
            next_reap = now + Duration::from_millis(200);
        }
        let mut wake = end.min(next_reap);
        if let Some(at) = next_operation {
            wake = wake.min(at);
        }
        if let Some((at, _)) = next_event {
            wake = wake.min(at);
        }
        if let Some(datagram) = world.cluster.recv_until(wake) {
            world.route(&datagram);
        }
    }
    world.finish();
    Ok(world.outcome)
}

impl World<'_> {
    fn replicas(&self) -> usize {
        usize::from(self.config.replicas)
    }

    fn uniform(&mut self) -> f64 {
        (self.rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    fn below(&mut self, n: usize) -> usize {
        (self.rng.next_u64() % n as u64) as usize
    }

    fn random_text(&mut self, alphabet: &[u8], length: usize) -> String {
        (0..length).map(|_| char::from(alphabet[self.below(alphabet.len())])).collect()
    }

    fn living(&self) -> Vec<usize> {
        (0..self.replicas()).filter(|&index| self.cluster.is_alive(index)).collect()
    }

    /// Routes one datagram from a replica as the course simulator does.
    fn route(&mut self, datagram: &Datagram) {
        if self.cluster.note_hello(datagram) {
            return;
        }
        let from = NodeId(datagram.from as u16);
        let header = match parse_header(&datagram.bytes) {
            Ok(header) => header,
            Err(reason) => return self.incorrect(format!("from {from}: {reason}")),
        };
        if header.src != from {
            return self.incorrect(format!("{from} sent a message with src {}", header.src));
        }
        let majority_side = self.partition.as_ref().is_none_or(|side| side[datagram.from]);
        if majority_side {
            self.believed_leader = header.leader;
            // The printed sequence skips "unknown" and repeats.
            let last = self.outcome.leaders.last();
            if !header.leader.is_unknown() && last != Some(&header.leader) {
                self.outcome.leaders.push(header.leader);
            }
        }
        let dst = usize::from(header.dst.0);
        if header.dst == NodeId::BROADCAST {
            self.outcome.total_msgs += self.replicas() as u64 - 1;
            for to in (0..self.replicas()).filter(|&to| to != datagram.from) {
                self.deliver(datagram.from, to, &datagram.bytes);
            }
        } else if dst < self.replicas() {
            self.outcome.total_msgs += 1;
            self.deliver(datagram.from, dst, &datagram.bytes);
        } else if let Some(client) = self.client_index(header.dst) {
            self.on_reply(client, header, datagram.at);
        } else {
            self.incorrect(format!("{from} sent to unknown dst {}", header.dst));
        }
    }

    fn client_index(&self, id: NodeId) -> Option<usize> {
        let first = self.config.replicas + CLIENT_ID_OFFSET;
        (first..first + CLIENTS).contains(&id.0).then(|| usize::from(id.0 - first))
    }

    fn client_id(&self, client: usize) -> NodeId {
        NodeId(self.config.replicas + CLIENT_ID_OFFSET + client as u16)
    }

    fn deliver(&mut self, from: usize, to: usize, bytes: &[u8]) {
        let separated = self.partition.as_ref().is_some_and(|side| side[from] != side[to]);
        if separated || (self.config.drops > 0.0 && self.uniform() < self.config.drops) {
            self.outcome.dropped_msgs += 1;
            return;
        }
        // A message to a killed replica is lost (it was counted above).
        self.cluster.send_to(to, bytes);
    }

    fn incorrect(&mut self, reason: String) {
        self.outcome.incorrect.push(reason);
    }

    // ---- clients ----

    fn schedule_operation(&mut self) {
        let client = self.below(usize::from(CLIENTS));
        let wants_get = self.uniform() < self.config.mix;
        let operation = if wants_get && !self.clients[client].keys.is_empty() {
            let pick = self.below(self.clients[client].keys.len());
            let key = self.clients[client].keys[pick].clone();
            self.outcome.generated_gets += 1;
            Operation::Get { key }
        } else {
            if wants_get {
                self.outcome.generated_gets += 1;
                self.outcome.failed_get_generations += 1;
            }
            self.outcome.generated_puts += 1;
            let key = if self.clients[client].keys.is_empty() || self.uniform() < 0.5 {
                self.random_text(ALPHANUMERIC, 32)
            } else {
                let pick = self.below(self.clients[client].keys.len());
                self.clients[client].keys[pick].clone()
            };
            Operation::Put { key, value: self.random_text(HEX, 32) }
        };
        let leader = self.clients[client].leader;
        self.send_request(client, operation, None, leader);
    }

    /// Sends `operation` under a fresh MID to `leader` if alive, else to a random living
    /// replica.
    fn send_request(
        &mut self,
        client: usize,
        operation: Operation,
        put: Option<usize>,
        leader: Option<usize>,
    ) {
        let living = self.living();
        let dst = match leader.filter(|&leader| self.cluster.is_alive(leader)) {
            Some(leader) => leader,
            None if living.is_empty() => {
                return self.outcome.notes.push("no living replica".into())
            }
            None => living[self.below(living.len())],
        };
        self.next_mid += 1;
        let mid = format!("{}{:06}", self.random_text(ALPHANUMERIC, 10), self.next_mid % 1_000_000);
        let src = self.client_id(client).to_string();
        let dst_id = NodeId(dst as u16).to_string();
        let now = Instant::now();
        let (message, put) = match &operation {
            Operation::Get { key } => {
                self.outcome.get_requests += 1;
                let message = json!({"src": src, "dst": dst_id, "leader": "FFFF", "type": "get",
                                     "MID": mid, "key": key});
                (message, None)
            }
            Operation::Put { key, value } => {
                self.outcome.put_requests += 1;
                let history = self.puts.entry((client, key.clone())).or_default();
                let index = match put {
                    Some(index) => index,
                    None => {
                        history.push(PutRecord {
                            value: value.clone(),
                            sent_at: now,
                            acked_at: None,
                        });
                        history.len() - 1
                    }
                };
                history[index].sent_at = now;
                let message = json!({"src": src, "dst": dst_id, "leader": "FFFF", "type": "put",
                                     "MID": mid, "key": key, "value": value});
                (message, Some(index))
            }
        };
        let bytes = serde_json::to_vec(&message).expect("json values serialize");
        self.outstanding.insert(mid, Request { client, operation, put, sent_at: now });
        self.cluster.send_to(dst, &bytes);
    }

    fn on_reply(&mut self, client: usize, header: Header, at: Instant) {
        let Some(mid) = header.mid.clone() else {
            return self.incorrect(format!("a {} to {} without MID", header.kind, header.dst));
        };
        let Some(request) = self.outstanding.remove(&mid) else {
            if header.kind == "ok" && self.answered_ok.contains(&mid) {
                self.outcome.duplicates += 1;
            } else {
                self.incorrect(format!(
                    "a {} for MID {mid}, which is not outstanding",
                    header.kind
                ));
            }
            return;
        };
        if request.client != client {
            self.incorrect(format!("the reply to {mid} went to the wrong client"));
            return;
        }
        self.outcome.latencies.push(at.saturating_duration_since(request.sent_at));
        let leader = usize::from(header.leader.0);
        self.clients[client].leader = (leader < self.replicas()).then_some(leader);
        match header.kind.as_str() {
            "ok" => {
                self.answered_ok.insert(mid.clone());
                if self.outcome.events.len() == self.config.events.len() {
                    self.outcome.oks_after_last_event += 1;
                }
                self.on_ok(client, &mid, request, header.value, at);
            }
            "fail" | "redirect" => {
                self.outcome.redirects += 1;
                if header.kind == "fail" {
                    self.outcome.fail_replies += 1;
                }
                let leader = self.clients[client].leader;
                self.send_request(client, request.operation, request.put, leader);
            }
            other => self.incorrect(format!("a reply of type {other:?} for {mid}")),
        }
    }

    fn on_ok(
        &mut self,
        client: usize,
        mid: &str,
        request: Request,
        value: Option<String>,
        at: Instant,
    ) {
        match request.operation {
            Operation::Put { key, .. } => {
                self.outcome.puts_acked += 1;
                let history = self.puts.get_mut(&(client, key.clone())).expect("put recorded");
                history[request.put.expect("puts carry their index")].acked_at = Some(at);
                if !self.clients[client].keys.contains(&key) {
                    self.clients[client].keys.push(key);
                }
            }
            Operation::Get { key } => {
                let Some(value) = value else {
                    return self.incorrect(format!("ok for get {mid} without a value"));
                };
                let history = self.puts.get(&(client, key.clone())).map_or(&[][..], Vec::as_slice);
                if !get_value_possible(history, request.sent_at, at, &value) {
                    self.outcome.incorrect_gets += 1;
                    self.incorrect(format!("get {mid} of key {key} read {value:?}"));
                }
            }
        }
    }

    // ---- events ----

    fn apply_event(&mut self, kind: EventKind, signal: Signal) {
        let leader = usize::from(self.believed_leader.0);
        let leader = (leader < self.replicas()).then_some(leader);
        let note = match kind {
            EventKind::KillLeader => match leader.filter(|&leader| self.cluster.is_alive(leader)) {
                Some(leader) => {
                    self.kill(leader, signal);
                    self.forget_leaders();
                    format!("kill_leader {}", NodeId(leader as u16))
                }
                None => "kill_leader: no living leader known, nothing killed".to_owned(),
            },
            EventKind::KillNonLeader => {
                let victims: Vec<usize> =
                    self.living().into_iter().filter(|&index| Some(index) != leader).collect();
                if victims.is_empty() {
                    "kill_non_leader: no candidate".to_owned()
                } else {
                    let victim = victims[self.below(victims.len())];
                    self.kill(victim, signal);
                    format!("kill_non_leader {}", NodeId(victim as u16))
                }
            }
            EventKind::PartEasy | EventKind::PartHard => {
                let size = self.replicas() / 2 + 1;
                let mut pool: Vec<usize> = (0..self.replicas()).collect();
                let mut majority = Vec::new();
                if let (EventKind::PartEasy, Some(leader)) = (kind, leader) {
                    pool.retain(|&index| index != leader);
                    majority.push(leader);
                }
                while majority.len() < size {
                    let pick = self.below(pool.len());
                    majority.push(pool.swap_remove(pick));
                }
                let side = (0..self.replicas()).map(|index| majority.contains(&index)).collect();
                self.partition = Some(side);
                if kind == EventKind::PartHard || leader.is_none() {
                    self.forget_leaders();
                }
                majority.sort_unstable();
                let names: Vec<String> =
                    majority.iter().map(|&index| NodeId(index as u16).to_string()).collect();
                format!("{} majority [{}]", kind.name(), names.join(" "))
            }
            EventKind::PartEnd => {
                self.partition = None;
                "part_end".to_owned()
            }
        };
        self.outcome.events.push(note);
    }

    fn kill(&mut self, index: usize, signal: Signal) {
        self.cluster.kill(index, signal);
        self.outcome.killed.push(NodeId(index as u16));
    }

    fn forget_leaders(&mut self) {
        for client in &mut self.clients {
            client.leader = None;
        }
    }

    fn finish(&mut self) {
        for (id, status) in self.cluster.reap_died() {
            self.outcome.died.push(format!("{id} ({status})"));
        }
        for request in self.outstanding.values() {
            match request.operation {
                Operation::Get { .. } => self.outcome.unanswered_gets += 1,
                Operation::Put { .. } => self.outcome.unanswered_puts += 1,
            }
        }
    }
}

/// Whether a get sent at `sent_at` and answered at `answered_at` may read `value`, given
/// every put of that client's key. The course's own check allows only the last
/// acknowledged put's value; that is wrong when the get overlaps a put of the same key
/// (clients do not wait), so this allows the value acknowledged last before the get was
/// sent and the value of every put that overlaps the get.
fn get_value_possible(
    history: &[PutRecord],
    sent_at: Instant,
    answered_at: Instant,
    value: &str,
) -> bool {
    let settled = history
        .iter()
        .filter(|put| put.acked_at.is_some_and(|acked| acked < sent_at))
        .max_by_key(|put| put.acked_at)
        .map_or("", |put| put.value.as_str());
    if settled == value {
        return true;
    }
    history.iter().any(|put| {
        put.value == value
            && put.sent_at < answered_at
            && put.acked_at.is_none_or(|acked| acked >= sent_at)
    })
}

/// The routing header every replica message must carry.
struct Header {
    src: NodeId,
    dst: NodeId,
    leader: NodeId,
    kind: String,
    mid: Option<String>,
    value: Option<String>,
}

fn parse_header(bytes: &[u8]) -> Result<Header, String> {
    let value: Value =
        serde_json::from_slice(bytes).map_err(|error| format!("not json: {error}"))?;
    let field = |name: &str| value.get(name).and_then(Value::as_str);
    let id = |name: &str| {
        let text = field(name).ok_or_else(|| format!("no {name} field"))?;
        NodeId::parse(text).ok_or_else(|| format!("malformed {name} {text:?}"))
    };
    Ok(Header {
        src: id("src")?,
        dst: id("dst")?,
        leader: id("leader")?,
        kind: field("type").ok_or("no type field")?.to_owned(),
        mid: field("MID").map(str::to_owned),
        value: field("value").map(str::to_owned),
    })
}
