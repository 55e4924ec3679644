//! The course's client model and the history it records.
//!
//! Eight clients (ids from `replicas + 16` on) issue the scenario's operations at evenly
//! spaced times. With probability `mix` an operation is a get of one of the client's own
//! acknowledged keys (or, if it has none, a put that counts as a failed get generation); a
//! put writes a new random key when the client has none or with probability 1/2, else one
//! of its keys. Requests go to the leader the client knows if it is alive, else to a random
//! living replica; on `redirect` or `fail` the client resends the same operation at once
//! under a new request id to the reply's `leader`. Clients never time out.
//!
//! Two extensions, both off by default (`clients` in the scenario): shared keys, where every
//! client reads and writes one small pool of keys so that one client's write is another's
//! read (a stale read shows only then), and client timeouts, where a request unanswered for
//! a while is abandoned and its operation sent again under a new id to another replica, as
//! real clients do when a leader goes silent.
//!
//! Each request id is one operation of the history: invoked when sent, completed when its
//! reply arrives, with outcome ok (and the value read), failed (`fail` or `redirect`: the
//! replica promises it never took effect) or unknown (never answered). Every put writes a
//! value no other put writes, so a read names the write it saw.

use std::collections::BTreeMap;

use linearizability::{KvInput, KvOperation, Outcome};
use replica::{Body, Message, NodeId};
use serde::Serialize;

use crate::invariants::Violation;
use crate::rng::Rng;

/// How many clients the course runs.
pub const CLIENTS: u16 = 8;

/// The course's client ids start this far above the replica count.
const CLIENT_ID_OFFSET: u16 = 16;

const ALPHANUMERIC: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

/// The operation a request carries; retries carry the same one.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Operation {
    Get { key: String },
    Put { key: String, value: String },
}

/// One request as the history records it.
#[derive(Clone, Debug)]
struct Request {
    mid: String,
    client: NodeId,
    operation: Operation,
    call_us: u64,
    reply: Option<(u64, Reply)>,
    /// Sent by the liveness oracle rather than the scheduled workload.
    probe: bool,
    /// The replica it was sent to.
    dst: NodeId,
    /// Timed out and sent again under another id: a late reply is recorded, never acted on.
    abandoned: bool,
}

/// How a request was answered.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Reply {
    Ok { value: Option<String> },
    Fail,
    Redirect,
}

#[derive(Clone, Debug)]
struct Client {
    id: NodeId,
    leader: NodeId,
    /// Every key the client has written, with the value of its last acknowledged put.
    keys: BTreeMap<String, Option<String>>,
}

/// Counts over the requests, in the course's terms.
#[derive(Clone, Debug, Default, Serialize)]
pub struct RequestStats {
    /// Scheduled operations.
    pub operations: u64,
    /// Requests sent, retries included.
    pub requests: u64,
    /// Get requests sent.
    pub gets: u64,
    /// Put requests sent.
    pub puts: u64,
    /// Requests answered `ok`.
    pub ok: u64,
    /// Requests answered `fail`.
    pub failed: u64,
    /// Requests answered `redirect`.
    pub redirected: u64,
    /// Get requests never answered.
    pub unanswered_gets: u64,
    /// Put requests never answered.
    pub unanswered_puts: u64,
    /// Second `ok` replies to one request id.
    pub duplicates: u64,
    /// Requests a client gave up on after `clients.timeout_ms` and sent again under a new
    /// id; each is also counted by how (or whether) it was answered.
    pub timed_out: u64,
    /// Gets that became puts because the client had no acknowledged key.
    pub failed_get_generations: u64,
    /// Gets whose value differs from the client's last acknowledged put of the key: the
    /// course's check, weaker than linearizability and reported for information only.
    pub course_get_mismatches: u64,
}

/// The clients of one run and everything they saw.
#[derive(Clone, Debug)]
pub struct Workload {
    clients: Vec<Client>,
    rng: Rng,
    mix: f64,
    replicas: u16,
    requests: Vec<Request>,
    /// Request ids awaiting a reply, with their index in `requests`.
    outstanding: BTreeMap<String, usize>,
    /// Request ids answered so far, with their index in `requests`.
    answered: BTreeMap<String, usize>,
    next_request_number: u64,
    next_value_number: u64,
    latencies_us: Vec<u64>,
    stats: RequestStats,
    /// Probe writes started by the liveness oracle.
    probes_started: u64,
    /// When the first probe write was acknowledged `ok`.
    probe_ok_us: Option<u64>,
    /// The shared key pool's size; 0 for the course's own-keys model.
    shared_keys: u32,
}

impl Workload {
    /// The course's eight clients for a cluster of `replicas`.
    pub fn new(replicas: u16, mix: f64, rng: Rng) -> Workload {
        let clients = (0..CLIENTS)
            .map(|c| Client {
                id: NodeId(replicas + CLIENT_ID_OFFSET + c),
                leader: NodeId::UNKNOWN,
                keys: BTreeMap::new(),
            })
            .collect();
        Workload {
            clients,
            rng,
            mix,
            replicas,
            requests: Vec::new(),
            outstanding: BTreeMap::new(),
            answered: BTreeMap::new(),
            next_request_number: 0,
            next_value_number: 0,
            latencies_us: Vec::new(),
            stats: RequestStats::default(),
            probes_started: 0,
            probe_ok_us: None,
            shared_keys: 0,
        }
    }

    /// Every client reads and writes the same `keys` keys (0 keeps the course's model).
    pub fn share_keys(mut self, keys: u32) -> Workload {
        self.shared_keys = keys;
        self
    }

    /// Requests sent so far; the latest has index `request_count() - 1`.
    pub fn request_count(&self) -> usize {
        self.requests.len()
    }

    /// Request `index` timed out at `now_us`: if it is still unanswered, it is abandoned
    /// and its operation sent again, under a new id, to a living replica other than the one
    /// that kept it. Returns that request.
    pub fn on_timeout(&mut self, now_us: u64, index: usize, alive: &[bool]) -> Option<Message> {
        let request = &mut self.requests[index];
        if request.abandoned || !self.outstanding.contains_key(&request.mid) {
            return None;
        }
        request.abandoned = true;
        self.stats.timed_out += 1;
        let (client, operation, probe, silent) =
            (request.client, request.operation.clone(), request.probe, request.dst);
        let mut others = alive.to_vec();
        if let Some(slot) = others.get_mut(usize::from(silent.0)) {
            *slot = false;
        }
        if !others.contains(&true) {
            others = alive.to_vec();
        }
        let client_index = self.client_index(client).expect("requests come from clients");
        self.clients[client_index].leader = NodeId::UNKNOWN;
        Some(self.send(now_us, client, NodeId::UNKNOWN, operation, &others, probe))
    }

    /// The call time of request `mid` if it was already answered and is no longer awaited.
    pub fn answered_call_us(&self, mid: &str) -> Option<u64> {
        if self.outstanding.contains_key(mid) {
            return None;
        }
        self.answered.get(mid).map(|&index| self.requests[index].call_us)
    }

    /// Whether `id` names one of the clients.
    pub fn is_client(&self, id: NodeId) -> bool {
        self.client_index(id).is_some()
    }

    fn client_index(&self, id: NodeId) -> Option<usize> {
        let first = self.replicas + CLIENT_ID_OFFSET;
        (first..first + CLIENTS).contains(&id.0).then(|| usize::from(id.0 - first))
    }

    /// Every client forgets the leader it knew.
    pub fn forget_leaders(&mut self) {
        for client in &mut self.clients {
            client.leader = NodeId::UNKNOWN;
        }
    }

    /// Starts the next scheduled operation at `now_us` and returns its request.
    pub fn start_operation(&mut self, now_us: u64, alive: &[bool]) -> Message {
        self.stats.operations += 1;
        let index = self.rng.below(u64::from(CLIENTS)) as usize;
        let wants_get = self.rng.unit() < self.mix;
        let acknowledged: Vec<&String> = self.clients[index]
            .keys
            .iter()
            .filter(|(_, value)| value.is_some())
            .map(|(key, _)| key)
            .collect();
        let operation = if self.shared_keys > 0 {
            let key = format!("key-{}", self.rng.below(u64::from(self.shared_keys)));
            match wants_get {
                true => Operation::Get { key },
                false => Operation::Put { key, value: self.unique_value() },
            }
        } else if wants_get && !acknowledged.is_empty() {
            let key = acknowledged[self.rng.below(acknowledged.len() as u64) as usize].clone();
            Operation::Get { key }
        } else {
            if wants_get {
                self.stats.failed_get_generations += 1;
            }
            let keys = &self.clients[index].keys;
            let key = if keys.is_empty() || self.rng.unit() < 0.5 {
                self.random_text(32)
            } else {
                let pick = self.rng.below(keys.len() as u64) as usize;
                keys.keys().nth(pick).expect("pick is below the key count").clone()
            };
            self.clients[index].keys.entry(key.clone()).or_insert(None);
            Operation::Put { key, value: self.unique_value() }
        };
        let client = self.clients[index].id;
        let leader = self.clients[index].leader;
        self.send(now_us, client, leader, operation, alive, false)
    }

    /// Starts a probe write for the liveness oracle: a put of a fresh key, from the clients
    /// in turn. It draws nothing from the workload stream (its key and value are counters),
    /// so probing never reshuffles the scheduled operations' choices.
    pub fn start_probe(&mut self, now_us: u64, alive: &[bool]) -> Message {
        let number = self.probes_started;
        self.probes_started += 1;
        let index = (number % u64::from(CLIENTS)) as usize;
        let key = format!("probe-{number}");
        self.clients[index].keys.entry(key.clone()).or_insert(None);
        let operation = Operation::Put { key, value: format!("probe-value-{number}") };
        let client = self.clients[index].id;
        let leader = self.clients[index].leader;
        self.send(now_us, client, leader, operation, alive, true)
    }

    /// When the first probe write was acknowledged, if one was.
    pub fn probe_acknowledged_us(&self) -> Option<u64> {
        self.probe_ok_us
    }

    /// Probe requests still awaiting a reply.
    pub fn outstanding_probes(&self) -> u64 {
        self.outstanding.values().filter(|&&index| self.requests[index].probe).count() as u64
    }

    /// Takes a reply delivered to a client at `now_us`; returns the retry to send, if any.
    pub fn on_reply(
        &mut self,
        now_us: u64,
        reply: Message,
        alive: &[bool],
    ) -> Result<Option<Message>, Violation> {
        let Some(client_index) = self.client_index(reply.dst) else {
            return Err(protocol(format!("reply to unknown client {}", reply.dst)));
        };
        let (mid, kind) = match reply.body {
            Body::Ok { mid, value } => (mid, Reply::Ok { value }),
            Body::Fail { mid } => (mid, Reply::Fail),
            Body::Redirect { mid } => (mid, Reply::Redirect),
            other => {
                return Err(protocol(format!(
                    "{} sent a `{}` to client {}",
                    reply.src,
                    other.type_name(),
                    reply.dst
                )))
            }
        };
        let Some(index) = self.outstanding.remove(&mid) else {
            return match (self.answered.get(&mid), &kind) {
                (Some(&earlier), Reply::Ok { .. })
                    if matches!(self.requests[earlier].reply, Some((_, Reply::Ok { .. }))) =>
                {
                    self.stats.duplicates += 1;
                    Ok(None)
                }
                _ => Err(protocol(format!(
                    "{} answered request {mid}, which is not outstanding (a second answer or a \
                     request id it never received)",
                    reply.src
                ))),
            };
        };
        let request = &mut self.requests[index];
        if request.client != reply.dst {
            return Err(protocol(format!(
                "{} sent the reply to request {mid} to {} instead of {}",
                reply.src, reply.dst, request.client
            )));
        }
        request.reply = Some((now_us, kind.clone()));
        self.answered.insert(mid, index);
        self.latencies_us.push(now_us - request.call_us);
        let operation = request.operation.clone();
        let probe = request.probe;
        let abandoned = request.abandoned;
        if probe && matches!(kind, Reply::Ok { .. }) {
            self.probe_ok_us.get_or_insert(now_us);
        }
        if abandoned {
            // Its operation lives on in the request that replaced it: recorded and counted,
            // not acted on.
            match kind {
                Reply::Ok { .. } => self.stats.ok += 1,
                Reply::Fail => self.stats.failed += 1,
                Reply::Redirect => self.stats.redirected += 1,
            }
            return Ok(None);
        }
        let client = &mut self.clients[client_index];
        client.leader = reply.leader;
        match kind {
            Reply::Ok { value } => {
                self.stats.ok += 1;
                match &operation {
                    Operation::Put { key, value } => {
                        client.keys.insert(key.clone(), Some(value.clone()));
                    }
                    Operation::Get { key } => {
                        let expected = client.keys.get(key).cloned().flatten();
                        if value.is_none() {
                            return Err(protocol(format!(
                                "{} answered get {key} without a value",
                                reply.src
                            )));
                        }
                        if expected != value {
                            self.stats.course_get_mismatches += 1;
                        }
                    }
                }
                Ok(None)
            }
            Reply::Fail | Reply::Redirect => {
                if kind == Reply::Fail {
                    self.stats.failed += 1;
                } else {
                    self.stats.redirected += 1;
                }
                let client = self.clients[client_index].id;
                Ok(Some(self.send(now_us, client, reply.leader, operation, alive, probe)))
            }
        }
    }

    /// Sends `operation` from `client` under a fresh request id, to `leader` if it is a
    /// living replica, else to a random living one.
    fn send(
        &mut self,
        now_us: u64,
        client: NodeId,
        leader: NodeId,
        operation: Operation,
        alive: &[bool],
        probe: bool,
    ) -> Message {
        let known = (leader.0 < self.replicas && alive[usize::from(leader.0)]).then_some(leader);
        let dst = known.unwrap_or_else(|| self.random_living_replica(alive));
        let mid = self.unique_mid();
        let body = match &operation {
            Operation::Get { key } => {
                self.stats.gets += 1;
                Body::Get { mid: mid.clone(), key: key.clone() }
            }
            Operation::Put { key, value } => {
                self.stats.puts += 1;
                Body::Put { mid: mid.clone(), key: key.clone(), value: value.clone() }
            }
        };
        self.stats.requests += 1;
        self.outstanding.insert(mid.clone(), self.requests.len());
        self.requests.push(Request {
            mid,
            client,
            operation,
            call_us: now_us,
            reply: None,
            probe,
            dst,
            abandoned: false,
        });
        Message { src: client, dst, leader, body }
    }

    fn random_living_replica(&mut self, alive: &[bool]) -> NodeId {
        let living: Vec<u16> = (0..self.replicas).filter(|&r| alive[usize::from(r)]).collect();
        match living.len() {
            // Nobody is alive: the request goes to replica 0 and is lost, as in the course.
            0 => NodeId(0),
            n => NodeId(living[self.rng.below(n as u64) as usize]),
        }
    }

    fn random_text(&mut self, len: usize) -> String {
        (0..len).map(|_| ALPHANUMERIC[self.rng.below(36) as usize] as char).collect()
    }

    /// 16 characters from A-Z0-9: a counter in base 36, then random characters.
    fn unique_mid(&mut self) -> String {
        let mut number = self.next_request_number;
        self.next_request_number += 1;
        let mut mid = self.random_text(16).into_bytes();
        for slot in mid.iter_mut().take(6) {
            *slot = ALPHANUMERIC[(number % 36) as usize];
            number /= 36;
        }
        String::from_utf8(mid).expect("ASCII")
    }

    /// 32 lowercase hex digits: random, then a counter, so no two puts write the same value.
    fn unique_value(&mut self) -> String {
        let number = self.next_value_number;
        self.next_value_number += 1;
        format!("{:016x}{number:016x}", self.rng.next_u64())
    }

    /// The counts, with unanswered requests tallied as of now.
    pub fn stats(&self) -> RequestStats {
        let mut stats = self.stats.clone();
        for &index in self.outstanding.values() {
            match self.requests[index].operation {
                Operation::Get { .. } => stats.unanswered_gets += 1,
                Operation::Put { .. } => stats.unanswered_puts += 1,
            }
        }
        stats
    }

    /// Reply latencies (ok, fail and redirect), in the order replies arrived.
    pub fn latencies_us(&self) -> &[u64] {
        &self.latencies_us
    }

    /// The history, one operation per request id, for the linearizability checker.
    pub fn history(&self) -> Vec<KvOperation> {
        self.requests
            .iter()
            .enumerate()
            .map(|(id, request)| {
                let (key, input) = match &request.operation {
                    Operation::Get { key } => (key.clone(), KvInput::Get),
                    Operation::Put { key, value } => (key.clone(), KvInput::Put(value.clone())),
                };
                let (return_us, outcome) = match &request.reply {
                    None => (None, Outcome::Unknown),
                    Some((at_us, Reply::Ok { value })) => {
                        (Some(*at_us), Outcome::Ok(value.clone().unwrap_or_default()))
                    }
                    Some((at_us, Reply::Fail | Reply::Redirect)) => (Some(*at_us), Outcome::Failed),
                };
                KvOperation {
                    id: id as u64,
                    client: u64::from(request.client.0),
                    key,
                    input,
                    call_us: request.call_us,
                    return_us,
                    outcome,
                }
            })
            .collect()
    }

    /// The request id of history operation `id`.
    pub fn mid_of(&self, id: u64) -> Option<&str> {
        self.requests.get(id as usize).map(|request| request.mid.as_str())
    }
}

fn protocol(message: String) -> Violation {
    Violation { invariant: "client_protocol", message }
}
