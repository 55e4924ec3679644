//! The simulated world: replicas, the event queue, the network and the faults.
//!
//! Everything happens as an event popped from one queue ordered by `(time_us, seq)`: a
//! message delivered to a replica or a client, a replica's timer tick, the next client
//! operation, a fault, or the end of the run. Handling an event may push new ones; nothing
//! else moves time. After every event that stepped a replica, the invariant checker looks
//! at that replica.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::io::Write as _;

use replica::{Action, Config, DurableState, Input, Message, NodeId, Replica, Role};
use serde::Serialize;

use crate::hash::Fnv;
use crate::invariants::{Invariants, LeaderChange, Violation};
use crate::rng::{Rng, Stream};
use crate::scenario::{seconds_to_us, FaultKind, Scenario};
use crate::workload::{RequestStats, Workload};

/// What happens at a point of virtual time.
#[derive(Clone, Debug)]
enum Event {
    /// A message reaches a replica (from a replica or a client).
    Deliver(Message),
    /// A reply reaches a client.
    Reply(Message),
    /// Replica `index`'s timer fires.
    Tick(usize),
    /// The next client operation starts.
    Operation,
    /// The scenario's fault `index` happens.
    Fault(usize),
    /// The run ends.
    Stop,
}

/// A queued event; the heap pops the smallest `(time_us, seq)` first.
#[derive(Debug)]
struct Queued {
    time_us: u64,
    seq: u64,
    event: Event,
}

impl PartialEq for Queued {
    fn eq(&self, other: &Self) -> bool {
        (self.time_us, self.seq) == (other.time_us, other.seq)
    }
}
impl Eq for Queued {}
impl PartialOrd for Queued {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Queued {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.time_us, self.seq).cmp(&(other.time_us, other.seq))
    }
}

/// One replica and what the world knows of it.
struct Node {
    replica: Replica,
    alive: bool,
    /// The time of this node's pending tick event, if one is queued.
    tick_at_us: Option<u64>,
}

/// Counts of replica-to-replica messages.
#[derive(Clone, Debug, Default, Serialize)]
pub struct MessageStats {
    /// Messages sent (the course's `total_msgs`).
    pub sent: u64,
    /// Dropped by the `drops` probability.
    pub dropped_by_loss: u64,
    /// Dropped because a partition separated sender and receiver.
    pub dropped_by_partition: u64,
    /// Addressed to a killed replica.
    pub lost_to_dead: u64,
}

/// A fault as it happened.
#[derive(Clone, Debug, Serialize)]
pub struct FaultRecord {
    /// When.
    pub time_us: u64,
    /// Which fault.
    pub kind: &'static str,
    /// What it hit: the killed replica, or the two sides of the partition.
    pub detail: String,
}

/// A safety violation and where the run stood when it was found.
#[derive(Clone, Debug, Serialize)]
pub struct Failure {
    /// The broken invariant.
    #[serde(flatten)]
    pub violation: Violation,
    /// Virtual time of the event that broke it.
    pub time_us: u64,
    /// Number of that event (1-based) in the run.
    pub event: u64,
}

/// Everything a finished run produced, before the linearizability check.
pub struct Outcome {
    /// The first error writing the trace, if tracing failed.
    pub trace_error: Option<std::io::Error>,
    /// The first invariant violation, which also ended the run.
    pub failure: Option<Failure>,
    /// Events handled.
    pub events: u64,
    /// Virtual time at the end.
    pub end_us: u64,
    /// Why the run stopped before its end, if it did.
    pub stopped_early: Option<String>,
    /// The fold of every handled event.
    pub trace_hash: u64,
    /// Leaders in the order they arose.
    pub leaders: Vec<LeaderChange>,
    /// Faults as they happened.
    pub faults: Vec<FaultRecord>,
    /// Message counts.
    pub messages: MessageStats,
    /// Request counts.
    pub requests: RequestStats,
    /// Reply latencies.
    pub latencies_us: Vec<u64>,
    /// The clients' history.
    pub workload: Workload,
}

/// The simulated world of one run.
pub struct World<'a> {
    scenario: &'a Scenario,
    now_us: u64,
    seq: u64,
    queue: BinaryHeap<Reverse<Queued>>,
    nodes: Vec<Node>,
    /// The partition side of each replica; all zero when healed.
    side: Vec<u8>,
    partitioned: bool,
    /// The course simulator's idea of the leader (PROTOCOL.md section 3).
    believed_leader: NodeId,
    network: Rng,
    faults: Rng,
    workload: Workload,
    invariants: Invariants,
    operations_started: u32,
    events: u64,
    trace: Fnv,
    messages: MessageStats,
    fault_records: Vec<FaultRecord>,
    failure: Option<Failure>,
    stopped_early: Option<String>,
    actions: Vec<Action>,
    /// Where `--trace` lines go, if anywhere; the first write error is kept.
    trace_out: Option<&'a mut dyn std::io::Write>,
    trace_error: Option<std::io::Error>,
}

impl<'a> World<'a> {
    /// Builds the cluster of `scenario` for `seed`, with every replica a fresh follower.
    pub fn new(scenario: &'a Scenario, seed: u64) -> World<'a> {
        let count = scenario.replicas;
        let ids: Vec<NodeId> = (0..count).map(NodeId).collect();
        let timing = &scenario.timing;
        let nodes = ids
            .iter()
            .map(|&id| {
                let peers = ids.iter().copied().filter(|&peer| peer != id).collect();
                let mut config =
                    Config::new(id, peers, Rng::new(seed, Stream::Replica(id.0)).next_u64());
                config.election_timeout_us_min = timing.election_timeout_ms_min * 1_000;
                config.election_timeout_us_max = timing.election_timeout_ms_max * 1_000;
                config.heartbeat_interval_us = timing.heartbeat_interval_ms * 1_000;
                let replica = Replica::new(config, DurableState::default(), 0);
                Node { replica, alive: true, tick_at_us: None }
            })
            .collect();
        let mut world = World {
            scenario,
            now_us: 0,
            seq: 0,
            queue: BinaryHeap::new(),
            nodes,
            side: vec![0; usize::from(count)],
            partitioned: false,
            believed_leader: NodeId::UNKNOWN,
            network: Rng::new(seed, Stream::Network),
            faults: Rng::new(seed, Stream::Faults),
            workload: Workload::new(count, scenario.mix, Rng::new(seed, Stream::Workload)),
            invariants: Invariants::new(usize::from(count)),
            operations_started: 0,
            events: 0,
            trace: Fnv::default(),
            messages: MessageStats::default(),
            fault_records: Vec::new(),
            failure: None,
            stopped_early: None,
            actions: Vec::new(),
            trace_out: None,
            trace_error: None,
        };
        world.push(scenario.end_us(), Event::Stop);
        world.push(scenario.start_us(), Event::Operation);
        for (index, fault) in scenario.events.iter().enumerate() {
            world.push(scenario.start_us() + seconds_to_us(fault.time), Event::Fault(index));
        }
        for index in 0..world.nodes.len() {
            world.schedule_tick(index);
        }
        world
    }

    /// Writes one line per handled event to `out` (the `--trace` format, documented in
    /// `docs/reports.md`).
    pub fn trace_to(mut self, out: &'a mut dyn std::io::Write) -> World<'a> {
        self.trace_out = Some(out);
        self
    }

    /// Runs to the end (or to the first violation) and returns what happened.
    pub fn run(mut self) -> Outcome {
        while let Some(Reverse(queued)) = self.queue.pop() {
            debug_assert!(queued.time_us >= self.now_us, "time went backwards");
            self.now_us = queued.time_us;
            if let Event::Tick(index) = queued.event {
                // A tick superseded by an earlier one, or of a dead replica, is not an event.
                let node = &self.nodes[index];
                if !node.alive || node.tick_at_us != Some(queued.time_us) {
                    continue;
                }
            }
            self.events += 1;
            self.trace_event(&queued);
            let traced = self.trace_out.is_some().then(|| describe_event(&queued.event));
            let stepped = match &queued.event {
                Event::Deliver(message) => Some(usize::from(message.dst.0)),
                Event::Tick(index) => Some(*index),
                _ => None,
            };
            if let Event::Stop = queued.event {
                self.write_trace(queued.time_us, traced, None);
                break;
            }
            self.handle(queued.event);
            self.write_trace(queued.time_us, traced, stepped);
            if self.failure.is_some() || self.stopped_early.is_some() {
                break;
            }
        }
        Outcome {
            trace_error: self.trace_error,
            failure: self.failure,
            events: self.events,
            end_us: self.now_us,
            stopped_early: self.stopped_early,
            trace_hash: self.trace.finish(),
            leaders: self.invariants.leader_changes,
            faults: self.fault_records,
            messages: self.messages,
            requests: self.workload.stats(),
            latencies_us: self.workload.latencies_us().to_vec(),
            workload: self.workload,
        }
    }

    /// Writes the trace line of the event just handled: number, time, what happened, and the
    /// state of the replica it stepped.
    fn write_trace(&mut self, time_us: u64, what: Option<String>, stepped: Option<usize>) {
        let (Some(out), Some(what)) = (self.trace_out.as_mut(), what) else { return };
        let state = match stepped.map(|index| &self.nodes[index]) {
            Some(node) if node.alive => {
                let replica = &node.replica;
                format!(
                    "{} {:?} term={} log={} commit={}",
                    replica.id(),
                    replica.role(),
                    replica.term(),
                    replica.log().len(),
                    replica.commit_index()
                )
            }
            Some(node) => format!("{} dead", node.replica.id()),
            None => "-".to_owned(),
        };
        let written = writeln!(out, "{}\t{time_us}\t{what}\t{state}", self.events);
        if let Err(error) = written {
            self.trace_error.get_or_insert(error);
            self.trace_out = None;
        }
    }

    fn push(&mut self, time_us: u64, event: Event) {
        self.seq += 1;
        self.queue.push(Reverse(Queued { time_us, seq: self.seq, event }));
    }

    fn trace_event(&mut self, queued: &Queued) {
        let trace = &mut self.trace;
        trace.u64(queued.time_us);
        match &queued.event {
            Event::Deliver(message) => {
                trace.u64(1);
                trace.message(message);
            }
            Event::Reply(message) => {
                trace.u64(2);
                trace.message(message);
            }
            Event::Tick(index) => {
                trace.u64(3);
                trace.u64(*index as u64);
            }
            Event::Operation => trace.u64(4),
            Event::Fault(index) => {
                trace.u64(5);
                trace.u64(*index as u64);
            }
            Event::Stop => trace.u64(6),
        }
    }

    fn handle(&mut self, event: Event) {
        match event {
            Event::Deliver(message) => {
                let index = usize::from(message.dst.0);
                if !self.nodes[index].alive {
                    return; // Lost: the process is gone.
                }
                self.step(index, Input::Receive(message));
            }
            Event::Tick(index) => {
                self.nodes[index].tick_at_us = None;
                self.step(index, Input::Tick);
            }
            Event::Reply(message) => {
                let alive = self.alive();
                match self.workload.on_reply(self.now_us, message, &alive) {
                    Ok(Some(retry)) => self.send_request(retry),
                    Ok(None) => {}
                    Err(violation) => self.fail(violation),
                }
            }
            Event::Operation => {
                let alive = self.alive();
                let request = self.workload.start_operation(self.now_us, &alive);
                self.send_request(request);
                self.operations_started += 1;
                if self.operations_started < self.scenario.requests {
                    let lifetime_us = seconds_to_us(self.scenario.lifetime);
                    let offset_us = lifetime_us * u64::from(self.operations_started)
                        / u64::from(self.scenario.requests);
                    self.push(self.scenario.start_us() + offset_us, Event::Operation);
                }
            }
            Event::Fault(index) => self.apply_fault(index),
            Event::Stop => unreachable!("the run loop ends at Stop"),
        }
    }

    fn alive(&self) -> Vec<bool> {
        self.nodes.iter().map(|node| node.alive).collect()
    }

    /// Feeds one input to replica `index`, carries out its actions and checks invariants.
    fn step(&mut self, index: usize, input: Input) {
        let mut actions = std::mem::take(&mut self.actions);
        actions.clear();
        self.nodes[index].replica.step(self.now_us, input, &mut actions);
        let checked =
            self.invariants.after_step(self.now_us, index, &self.nodes[index].replica, &actions);
        if let Err(violation) = checked {
            self.fail(violation);
        }
        for action in actions.drain(..) {
            match action {
                // The simulated disk is the invariant checker's mirror: writes are instant.
                Action::PersistState { .. } | Action::PersistEntries { .. } => {}
                Action::Send(message) => self.send_between_replicas(index, message),
                Action::Reply(message) => self.send_reply(index, message),
            }
        }
        self.actions = actions;
        self.schedule_tick(index);
    }

    fn schedule_tick(&mut self, index: usize) {
        let node = &self.nodes[index];
        let next_us = node.replica.next_tick_us().max(self.now_us);
        if node.tick_at_us.is_none_or(|queued_us| next_us < queued_us) {
            self.nodes[index].tick_at_us = Some(next_us);
            self.push(next_us, Event::Tick(index));
        }
    }

    fn note_leader_field(&mut self, sender: usize, leader: NodeId) {
        // The course believes the leader named by the latest message from the majority side;
        // "unknown" names nobody, so it does not erase what was believed.
        if !leader.is_unknown() && (!self.partitioned || self.side[sender] == 0) {
            self.believed_leader = leader;
        }
    }

    fn send_between_replicas(&mut self, from: usize, message: Message) {
        let to = usize::from(message.dst.0);
        if to >= self.nodes.len() || to == from {
            let text =
                format!("{} sent a `{}` to {}", message.src, message.body.type_name(), message.dst);
            self.fail(Violation { invariant: "valid_destination", message: text });
            return;
        }
        self.note_leader_field(from, message.leader);
        self.messages.sent += 1;
        if self.messages.sent >= self.scenario.max_packets {
            self.stopped_early = Some(format!("max_packets {} reached", self.scenario.max_packets));
        }
        if self.side[from] != self.side[to] {
            self.messages.dropped_by_partition += 1;
            return;
        }
        if self.network.chance(self.scenario.drops) {
            self.messages.dropped_by_loss += 1;
            return;
        }
        if !self.nodes[to].alive {
            self.messages.lost_to_dead += 1;
        }
        let delay_us = self.delay_us();
        self.push(self.now_us + delay_us, Event::Deliver(message));
    }

    fn send_reply(&mut self, from: usize, message: Message) {
        if !self.workload.is_client(message.dst) {
            let text =
                format!("{} sent a `{}` to {}", message.src, message.body.type_name(), message.dst);
            self.fail(Violation { invariant: "valid_destination", message: text });
            return;
        }
        self.note_leader_field(from, message.leader);
        let delay_us = self.delay_us();
        self.push(self.now_us + delay_us, Event::Reply(message));
    }

    /// Client requests are never dropped or partitioned; they are lost only at a dead replica.
    fn send_request(&mut self, message: Message) {
        let delay_us = self.delay_us();
        self.push(self.now_us + delay_us, Event::Deliver(message));
    }

    fn delay_us(&mut self) -> u64 {
        let network = &self.scenario.network;
        self.network.between(network.delay_us_min, network.delay_us_max)
    }

    fn fail(&mut self, violation: Violation) {
        if self.failure.is_none() {
            self.failure = Some(Failure { violation, time_us: self.now_us, event: self.events });
        }
    }

    // ---- faults ----

    fn apply_fault(&mut self, index: usize) {
        let kind = self.scenario.events[index].kind;
        let detail = match kind {
            FaultKind::KillLeader => {
                self.workload.forget_leaders();
                match self.believed_leader {
                    leader if leader.is_unknown() => "no leader known; nothing killed".to_owned(),
                    leader => self.kill(usize::from(leader.0)),
                }
            }
            FaultKind::KillNonLeader => {
                let candidates: Vec<usize> = (0..self.nodes.len())
                    .filter(|&i| self.nodes[i].alive && NodeId(i as u16) != self.believed_leader)
                    .collect();
                match candidates.len() {
                    0 => "no living non-leader; nothing killed".to_owned(),
                    n => {
                        let victim = candidates[self.faults.below(n as u64) as usize];
                        self.kill(victim)
                    }
                }
            }
            FaultKind::PartEasy => {
                let leader = self.believed_leader;
                if leader.is_unknown() {
                    self.workload.forget_leaders();
                }
                let first = (!leader.is_unknown()).then(|| usize::from(leader.0));
                self.partition(first)
            }
            FaultKind::PartHard => {
                self.workload.forget_leaders();
                self.partition(None)
            }
            FaultKind::PartEnd => {
                self.side.fill(0);
                self.partitioned = false;
                "healed".to_owned()
            }
        };
        let record = FaultRecord { time_us: self.now_us, kind: kind.name(), detail };
        self.fault_records.push(record);
    }

    fn kill(&mut self, index: usize) -> String {
        let node = &mut self.nodes[index];
        let was = match (node.alive, node.replica.role()) {
            (false, _) => " (already dead)",
            (true, Role::Leader) => " (leader)",
            (true, _) => "",
        };
        node.alive = false;
        node.tick_at_us = None;
        format!("killed {}{was}", node.replica.id())
    }

    /// Splits the replicas into a majority of `n/2 + 1` (containing `first`, if given, and
    /// otherwise drawn at random from all replicas, dead ones included) and the rest.
    fn partition(&mut self, first: Option<usize>) -> String {
        let count = self.nodes.len();
        let mut order: Vec<usize> = (0..count).collect();
        for i in (1..count).rev() {
            let j = self.faults.below(i as u64 + 1) as usize;
            order.swap(i, j);
        }
        if let Some(first) = first {
            let at = order.iter().position(|&i| i == first).expect("a replica index");
            order.swap(0, at);
        }
        self.side.fill(1);
        for &i in order.iter().take(count / 2 + 1) {
            self.side[i] = 0;
        }
        self.partitioned = true;
        let names = |side: u8| -> String {
            let ids: Vec<String> = (0..count)
                .filter(|&i| self.side[i] == side)
                .map(|i| NodeId(i as u16).to_string())
                .collect();
            ids.join(" ")
        };
        format!("majority [{}] | minority [{}]", names(0), names(1))
    }
}

/// One event as a trace column: its kind and, for messages, `src->dst type fields`.
fn describe_event(event: &Event) -> String {
    match event {
        Event::Deliver(message) => format!("deliver {}", describe_message(message)),
        Event::Reply(message) => format!("reply {}", describe_message(message)),
        Event::Tick(index) => format!("tick {}", NodeId(*index as u16)),
        Event::Operation => "operation".to_owned(),
        Event::Fault(index) => format!("fault #{index}"),
        Event::Stop => "stop".to_owned(),
    }
}

/// A message on one line, with the fields that matter for reading a run.
pub fn describe_message(message: &Message) -> String {
    use replica::Body;
    let head = format!("{}->{} {}", message.src, message.dst, message.body.type_name());
    let tail = match &message.body {
        Body::Hello => String::new(),
        Body::Get { mid, key } => format!("MID={mid} key={key}"),
        Body::Put { mid, key, value } => format!("MID={mid} key={key} value={value}"),
        Body::Ok { mid, value: Some(value) } => format!("MID={mid} value={value:?}"),
        Body::Ok { mid, value: None } | Body::Fail { mid } | Body::Redirect { mid } => {
            format!("MID={mid} leader={}", message.leader)
        }
        Body::RequestVote { term, last_log_index, last_log_term } => {
            format!("term={term} last={last_log_index}/{last_log_term}")
        }
        Body::RequestVoteResponse { term, vote_granted } => {
            format!("term={term} granted={vote_granted}")
        }
        Body::AppendEntries { term, prev_log_index, prev_log_term, entries, leader_commit } => {
            format!(
                "term={term} prev={prev_log_index}/{prev_log_term} entries={} commit={leader_commit}",
                entries.len()
            )
        }
        Body::AppendEntriesResponse { term, success, match_index } => {
            format!("term={term} success={success} match={match_index}")
        }
    };
    format!("{head} {tail}")
}
