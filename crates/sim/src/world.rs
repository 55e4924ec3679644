//! The simulated world: replicas, the event queue, the network and the faults.
//!
//! Everything happens as an event popped from one queue ordered by `(time_us, seq)`: a
//! message delivered to a replica or a client, a replica's timer tick, the next client
//! operation, a fault, or the end of the run. Handling an event may push new ones; nothing
//! else moves time. After every event that stepped a replica, the invariant checker looks
//! at that replica.
//!
//! The fault library lives here too: each replica has a simulated disk fed by its persist
//! actions, from which a crashed replica restarts; a paused replica's messages wait for it;
//! each replica reads time through its own [`Clock`]; links are cut by per-link counters so
//! overlapping partitions undo independently; scripted rules, per-link loss, duplication and
//! shaped delays act on each message as it is sent; and the liveness oracle heals everything
//! when the fault phase ends and then watches the cluster recover.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::io::Write as _;

use replica::{Action, Config, DurableState, Input, Message, NodeId, Replica, Role};
use serde::Serialize;

use crate::clock::Clock;
use crate::hash::Fnv;
use crate::invariants::{Invariants, LeaderChange, Violation};
use crate::liveness::{LivenessReport, Observed, Oracle};
use crate::rng::{Rng, Stream};
use crate::scenario::{
    seconds_to_us, CrashPoint, Distribution, FaultKind, RuleAction, Scenario, Shape, Target,
};
use crate::swarm::Mix;
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
    /// Fault `index`'s duration is over: restart, resume or heal what it did.
    Undo(usize),
    /// Flapping partition `index` cuts (true) or heals (false) its links again.
    Flap(usize, bool),
    /// The fault phase is over: heal everything and start the liveness oracle.
    Heal,
    /// The liveness oracle sends a probe write, unless one was acknowledged.
    Probe,
    /// The liveness oracle's deadline.
    Deadline,
    /// A client's request `index` has waited its timeout (`clients.timeout_ms`).
    Timeout(usize),
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

/// Whether a replica runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum NodeState {
    Up,
    /// Frozen: keeps its state; messages to it wait in its inbox.
    Paused,
    /// Stopped by a `crash`; restarts from its disk.
    Crashed,
    /// Stopped by the course's `kill_*`, for good unless a `restart` names it.
    Killed,
}

/// One replica and what the world knows of it.
struct Node {
    replica: Replica,
    state: NodeState,
    /// The time of this node's pending tick event, if one is queued.
    tick_at_us: Option<u64>,
    /// The simulated disk: what the replica's persist actions wrote. Writes are synchronous,
    /// so a crash loses exactly the volatile state (role, leader, commit, state machine,
    /// pending requests) and keeps term, vote and log.
    disk: DurableState,
    /// The replica's settings, to start it again after a crash.
    config: Config,
    clock: Clock,
    /// Messages that reached the replica while it was paused, in arrival order.
    inbox: Vec<Message>,
    /// A `crash` with `when: after_vote` waits on this replica: the fault's index.
    crash_armed: Option<usize>,
    /// When the replica last restarted, if it ever did.
    restarted_at_us: Option<u64>,
}

impl Node {
    /// Running or paused: a process exists, so clients may still send to it.
    fn alive(&self) -> bool {
        matches!(self.state, NodeState::Up | NodeState::Paused)
    }
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

/// How often each fault of the fault library actually fired in a run.
#[derive(Clone, Debug, Default, Serialize)]
pub struct FaultCounters {
    /// Replicas crashed (at once or right after a vote).
    pub crashes: u64,
    /// Of those, crashes right after persisting a vote, before the response left.
    pub crashes_after_vote: u64,
    /// Replicas restarted from their disk.
    pub restarts: u64,
    /// Replicas paused.
    pub pauses: u64,
    /// Replicas resumed.
    pub resumes: u64,
    /// Messages that waited in a paused replica's inbox.
    pub held_by_pause: u64,
    /// Partitions applied (shapes, and each cut of a flapping one).
    pub partitions: u64,
    /// One-way link cuts applied.
    pub link_cuts: u64,
    /// Heals (the `heal` event, durations ending, and the oracle's heal).
    pub heals: u64,
    /// Replica-to-replica messages dropped by a shaped partition or a cut link.
    pub dropped_by_cut: u64,
    /// Messages dropped by per-link loss.
    pub dropped_by_link_loss: u64,
    /// Messages dropped by a scripted rule.
    pub dropped_by_schedule: u64,
    /// Messages delayed by a scripted rule.
    pub delayed_by_schedule: u64,
    /// Messages delivered twice.
    pub duplicated: u64,
    /// Delays drawn from a shaped (non-uniform) distribution.
    pub shaped_delays: u64,
    /// Ticks of replicas whose clocks drift.
    pub skewed_ticks: u64,
    /// Client requests delivered a second time, late (`network.client_duplicate_ratio`).
    pub client_duplicated: u64,
    /// Client requests abandoned after `clients.timeout_ms` and sent again elsewhere.
    pub client_timeouts: u64,
    /// Second answers to a request id from a replica that restarted after the request was
    /// sent: it lost the record of what it had answered (that record is not durable), and
    /// the client, no longer waiting, ignores the late reply.
    pub replies_after_restart: u64,
}

/// A fault family: whether the run configured it, and how often it fired.
#[derive(Clone, Debug, Serialize)]
pub struct FamilyUse {
    /// The family's name.
    pub family: &'static str,
    /// Whether the scenario (after swarm expansion) switched it on.
    pub configured: bool,
    /// How often it acted on the run.
    pub fired: u64,
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
    /// How often each fault fired.
    pub counters: FaultCounters,
    /// Each family: configured, and how often it fired.
    pub families: Vec<FamilyUse>,
    /// Each replica's clock drift, parts per million.
    pub clock_drift_ppm: Vec<i64>,
    /// The liveness oracle's verdict, when the scenario asks for one.
    pub liveness: Option<LivenessReport>,
    /// Swarm mode's choice for this seed.
    pub swarm: Option<Mix>,
    /// The request ids of the committed client commands, in log order: the servers' apply
    /// order, which the checker tries as a ready-made linearization.
    pub applied_mids: Vec<std::sync::Arc<str>>,
}

/// What a fault of the scenario did, so its end can undo exactly that.
#[derive(Clone, Debug, Default)]
struct FaultState {
    /// The replica a node fault hit.
    hit: Option<usize>,
    /// The links a partition or link cut cut.
    links: Vec<(usize, usize)>,
    /// Whether those links are cut now.
    links_on: bool,
}

/// The simulated world of one run.
pub struct World<'a> {
    /// The scenario, with swarm mode's faults added.
    scenario: Scenario,
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
    /// How many faults cut each directed link `from * n + to`.
    cuts: Vec<u32>,
    /// Extra loss of each directed link `from * n + to`.
    link_loss: Vec<f64>,
    /// After the oracle's heal, scripted rules and per-link loss no longer act.
    healed: bool,
    fault_states: Vec<FaultState>,
    counters: FaultCounters,
    delays: Rng,
    duplication: Rng,
    link_loss_rng: Rng,
    nodes_rng: Rng,
    partitions_rng: Rng,
    restarts_rng: Rng,
    oracle: Option<Oracle>,
    swarm: Option<Mix>,
    /// Watches that a leader cut off from a majority gives up (with the liveness oracle on).
    quorum_watch: QuorumWatch,
}

/// The check that a leader which hears from no majority stops leading. A leader that keeps
/// leading a minority holds its clients' requests hostage until the partition heals, so with
/// the liveness oracle on, a replica that leads for more than two maximum election timeouts
/// (virtual time, so the slowest allowed clock still fits) after it last heard from a
/// majority fails the run's liveness verdict.
#[derive(Clone, Debug)]
struct QuorumWatch {
    /// When each replica (row) last received a message from each replica (column).
    heard_us: Vec<Vec<u64>>,
    /// The term each replica leads and since when, if it leads.
    leading: Vec<Option<(u64, u64)>>,
    /// The allowed time without a majority, virtual microseconds.
    bound_us: u64,
    /// The first leader seen overstaying, described.
    overstayed: Option<String>,
}

impl QuorumWatch {
    fn new(replicas: usize, bound_us: u64) -> QuorumWatch {
        QuorumWatch {
            heard_us: vec![vec![0; replicas]; replicas],
            leading: vec![None; replicas],
            bound_us,
            overstayed: None,
        }
    }

    /// Replica `index` stepped at `now_us`; `tick` says whether on its own timer, the only
    /// moment it can notice that it lost its majority.
    fn after_step(&mut self, now_us: u64, index: usize, replica: &Replica, tick: bool) {
        if replica.role() != Role::Leader {
            self.leading[index] = None;
            return;
        }
        let term = replica.term();
        let since_us = match self.leading[index] {
            Some((led, since_us)) if led == term => since_us,
            _ => {
                self.leading[index] = Some((term, now_us));
                now_us
            }
        };
        // A majority counts the leader itself, so it must have heard from n/2 others.
        let needed = self.heard_us.len() / 2;
        if !tick || needed == 0 || self.overstayed.is_some() {
            return;
        }
        let mut heard: Vec<u64> = (0..self.heard_us.len())
            .filter(|&peer| peer != index)
            .map(|peer| self.heard_us[index][peer])
            .collect();
        heard.sort_unstable_by(|a, b| b.cmp(a));
        let majority_us = heard[needed - 1].max(since_us);
        if now_us > majority_us + self.bound_us {
            self.overstayed = Some(format!(
                "leader kept leading: {} led term {term} for {} ms without hearing from a majority",
                replica.id(),
                (now_us - majority_us) / 1_000
            ));
        }
    }
}

impl<'a> World<'a> {
    /// Builds the cluster of `scenario` for `seed`, with every replica a fresh follower. In
    /// swarm mode, the seed first adds its own choice of faults to the scenario.
    pub fn new(scenario: &Scenario, seed: u64) -> World<'a> {
        let (scenario, swarm) = match scenario.swarm {
            true => {
                let (expanded, mix) = crate::swarm::expand(scenario, seed);
                (expanded, Some(mix))
            }
            false => (scenario.clone(), None),
        };
        let count = scenario.replicas;
        let n = usize::from(count);
        let ids: Vec<NodeId> = (0..count).map(NodeId).collect();
        let drifts = clock_drifts(&scenario, seed);
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
                config.append_entries_max = timing.append_entries_max;
                #[cfg(feature = "plant")]
                {
                    config.plant = scenario.plant;
                }
                let replica = Replica::new(config.clone(), DurableState::default(), 0);
                Node {
                    replica,
                    state: NodeState::Up,
                    tick_at_us: None,
                    disk: DurableState::default(),
                    config,
                    clock: Clock { drift_ppm: drifts[usize::from(id.0)] },
                    inbox: Vec::new(),
                    crash_armed: None,
                    restarted_at_us: None,
                }
            })
            .collect();
        let mut link_loss = vec![0.0; n * n];
        for link in &scenario.network.links {
            let at = usize::from(link.from.0) * n + usize::from(link.to.0);
            link_loss[at] = f64::max(link_loss[at], link.loss_ratio);
        }
        let oracle = scenario.liveness.as_ref().map(|liveness| {
            let after = liveness.after.unwrap_or_else(|| scenario.fault_phase_end());
            Oracle::new(
                scenario.start_us() + seconds_to_us(after),
                liveness.recover_within_ms * 1_000,
                liveness.probe_interval_ms * 1_000,
            )
        });
        let mut world = World {
            now_us: 0,
            seq: 0,
            queue: BinaryHeap::new(),
            nodes,
            side: vec![0; n],
            partitioned: false,
            believed_leader: NodeId::UNKNOWN,
            network: Rng::new(seed, Stream::Network),
            faults: Rng::new(seed, Stream::Faults),
            workload: Workload::new(count, scenario.mix, Rng::new(seed, Stream::Workload))
                .share_keys(scenario.clients.keys),
            invariants: Invariants::new(n),
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
            cuts: vec![0; n * n],
            link_loss,
            healed: false,
            fault_states: vec![FaultState::default(); scenario.events.len()],
            counters: FaultCounters::default(),
            delays: Rng::new(seed, Stream::Delays),
            duplication: Rng::new(seed, Stream::Duplication),
            link_loss_rng: Rng::new(seed, Stream::LinkLoss),
            nodes_rng: Rng::new(seed, Stream::Nodes),
            partitions_rng: Rng::new(seed, Stream::Partitions),
            restarts_rng: Rng::new(seed, Stream::Restarts),
            oracle,
            swarm,
            quorum_watch: QuorumWatch::new(n, 2 * timing.election_timeout_ms_max * 1_000),
            scenario,
        };
        // The run ends at the scenario's end, or just after the oracle's deadline (so the
        // deadline is judged before the stop).
        let end_us = match &world.oracle {
            Some(oracle) => world.scenario.end_us().max(oracle.deadline_us() + 1),
            None => world.scenario.end_us(),
        };
        world.push(end_us, Event::Stop);
        world.push(world.scenario.start_us(), Event::Operation);
        for index in 0..world.scenario.events.len() {
            let time_us =
                world.scenario.start_us() + seconds_to_us(world.scenario.events[index].time);
            world.push(time_us, Event::Fault(index));
        }
        for index in 0..world.nodes.len() {
            world.schedule_tick(index);
        }
        if let Some(heal_us) = world.oracle.as_ref().map(Oracle::heal_us) {
            world.push(heal_us, Event::Heal);
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
                // A tick superseded by an earlier one, or of a stopped replica, is not an event.
                let node = &self.nodes[index];
                if node.state != NodeState::Up || node.tick_at_us != Some(queued.time_us) {
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
            self.observe_liveness();
            if self.failure.is_some() || self.stopped_early.is_some() {
                break;
            }
        }
        let liveness = self.oracle.take().map(|mut oracle| {
            if let Some(reason) = self.failure.as_ref().map(|f| f.violation.invariant) {
                oracle.cut_short(&format!("safety violation {reason}"));
            } else if let Some(reason) = &self.stopped_early {
                oracle.cut_short(reason);
            }
            let mut report = oracle.into_report();
            if let (Some(overstayed), None) = (self.quorum_watch.overstayed.take(), &report.skipped)
            {
                report.recovered = false;
                report.diagnosis.get_or_insert(overstayed);
            }
            report
        });
        let families = self.families();
        let applied_mids = self.applied_mids();
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
            counters: self.counters,
            families,
            clock_drift_ppm: self.nodes.iter().map(|node| node.clock.drift_ppm).collect(),
            liveness,
            swarm: self.swarm,
            applied_mids,
        }
    }

    /// The committed client commands' request ids in log order, read from the replica that
    /// knows the longest committed prefix (committed prefixes agree, or an invariant broke).
    fn applied_mids(&self) -> Vec<std::sync::Arc<str>> {
        let Some(node) = self.nodes.iter().max_by_key(|node| node.replica.commit_index()) else {
            return Vec::new();
        };
        let committed = node.replica.commit_index() as usize;
        node.replica.log()[..committed]
            .iter()
            .filter_map(|entry| match &entry.command {
                replica::Command::Put { mid, .. } | replica::Command::Get { mid, .. } => {
                    Some(mid.clone())
                }
                replica::Command::Noop => None,
            })
            .collect()
    }

    /// Each fault family of the run: whether it was configured and how often it fired.
    fn families(&self) -> Vec<FamilyUse> {
        let scenario = &self.scenario;
        let c = &self.counters;
        let has = |kind: FaultKind| scenario.events.iter().any(|event| event.kind == kind);
        let family = |family, configured, fired| FamilyUse { family, configured, fired };
        vec![
            family("loss", scenario.drops > 0.0, self.messages.dropped_by_loss),
            family(
                "delay",
                scenario.network.distribution != Distribution::Uniform,
                c.shaped_delays,
            ),
            family("duplication", scenario.network.duplicate_ratio > 0.0, c.duplicated),
            family(
                "link_loss",
                scenario.network.links.iter().any(|link| link.loss_ratio > 0.0),
                c.dropped_by_link_loss,
            ),
            family("partitions", has(FaultKind::Partition), c.partitions),
            family("link_cuts", has(FaultKind::CutLink), c.link_cuts.min(c.dropped_by_cut)),
            family("crashes", has(FaultKind::Crash), c.crashes),
            family("pauses", has(FaultKind::Pause), c.pauses),
            family(
                "clocks",
                self.nodes.iter().any(|node| node.clock.drift_ppm != 0),
                c.skewed_ticks,
            ),
            family(
                "schedule",
                !scenario.schedule.is_empty(),
                c.dropped_by_schedule + c.delayed_by_schedule,
            ),
            family(
                "client_duplication",
                scenario.network.client_duplicate_ratio > 0.0,
                c.client_duplicated,
            ),
        ]
    }

    /// Lets the liveness oracle look at the cluster, while it watches.
    fn observe_liveness(&mut self) {
        if !self.oracle.as_ref().is_some_and(Oracle::watching) {
            return;
        }
        let observed = self.observed();
        let probe_ok_us = self.workload.probe_acknowledged_us();
        let oracle = self.oracle.as_mut().expect("checked above");
        oracle.observe(self.now_us, &observed, probe_ok_us);
    }

    fn observed(&self) -> Vec<Observed> {
        self.nodes
            .iter()
            .map(|node| Observed {
                up: node.state == NodeState::Up,
                role: node.replica.role(),
                term: node.replica.term(),
                commit_index: node.replica.commit_index(),
            })
            .collect()
    }

    /// Writes the trace line of the event just handled: number, time, what happened, and the
    /// state of the replica it stepped.
    fn write_trace(&mut self, time_us: u64, what: Option<String>, stepped: Option<usize>) {
        let (Some(out), Some(what)) = (self.trace_out.as_mut(), what) else { return };
        let state = match stepped.map(|index| &self.nodes[index]) {
            Some(node) if node.state == NodeState::Up => {
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
            Some(node) if node.state == NodeState::Paused => {
                format!("{} paused", node.replica.id())
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
            Event::Undo(index) => {
                trace.u64(7);
                trace.u64(*index as u64);
            }
            Event::Flap(index, on) => {
                trace.u64(8);
                trace.u64(*index as u64);
                trace.u64(u64::from(*on));
            }
            Event::Heal => trace.u64(9),
            Event::Probe => trace.u64(10),
            Event::Deadline => trace.u64(11),
            Event::Timeout(index) => {
                trace.u64(12);
                trace.u64(*index as u64);
            }
        }
    }

    fn handle(&mut self, event: Event) {
        match event {
            Event::Deliver(message) => {
                let index = usize::from(message.dst.0);
                match self.nodes[index].state {
                    NodeState::Up => {
                        let src = usize::from(message.src.0);
                        if let Some(heard_us) = self.quorum_watch.heard_us[index].get_mut(src) {
                            *heard_us = self.now_us;
                        }
                        self.step(index, Input::Receive(message))
                    }
                    // A frozen process's socket still queues what arrives.
                    NodeState::Paused => {
                        self.counters.held_by_pause += 1;
                        self.nodes[index].inbox.push(message);
                    }
                    // Lost: the process is gone.
                    NodeState::Crashed | NodeState::Killed => {}
                }
            }
            Event::Tick(index) => {
                self.nodes[index].tick_at_us = None;
                if self.nodes[index].clock.drift_ppm != 0 {
                    self.counters.skewed_ticks += 1;
                }
                self.step(index, Input::Tick);
            }
            Event::Reply(message) => {
                if self.answer_forgotten_in_a_restart(&message) {
                    self.counters.replies_after_restart += 1;
                    return;
                }
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
            Event::Undo(index) => self.undo_fault(index),
            Event::Flap(index, on) => self.flap(index, on),
            Event::Heal => self.heal_for_liveness(),
            Event::Probe => self.probe(),
            Event::Deadline => {
                let observed = self.observed();
                let outstanding = self.workload.outstanding_probes();
                if let Some(oracle) = self.oracle.as_mut() {
                    oracle.observe(self.now_us, &observed, self.workload.probe_acknowledged_us());
                    oracle.judge(&observed, outstanding);
                }
            }
            Event::Timeout(index) => {
                let alive = self.alive();
                if let Some(retry) = self.workload.on_timeout(self.now_us, index, &alive) {
                    self.counters.client_timeouts += 1;
                    self.send_request(retry);
                }
            }
            Event::Stop => unreachable!("the run loop ends at Stop"),
        }
    }

    fn alive(&self) -> Vec<bool> {
        self.nodes.iter().map(Node::alive).collect()
    }

    /// Feeds one input to replica `index`, carries out its actions and checks invariants.
    fn step(&mut self, index: usize, input: Input) {
        let mut actions = std::mem::take(&mut self.actions);
        actions.clear();
        let node = &mut self.nodes[index];
        let local_us = node.clock.local_us(self.now_us);
        let tick = matches!(input, Input::Tick);
        node.replica.step(local_us, input, &mut actions);
        if self.oracle.is_some() {
            self.quorum_watch.after_step(self.now_us, index, &self.nodes[index].replica, tick);
        }
        let checked =
            self.invariants.after_step(self.now_us, index, &self.nodes[index].replica, &actions);
        if let Err(violation) = checked {
            self.fail(violation);
        }
        let id = self.nodes[index].replica.id();
        for action in actions.drain(..) {
            match action {
                // Disk writes are synchronous: done before anything after them is sent.
                Action::PersistState { term, voted_for } => {
                    let disk = &mut self.nodes[index].disk;
                    disk.term = term;
                    disk.voted_for = voted_for;
                    let granted = voted_for.is_some_and(|candidate| candidate != id);
                    if let (true, Some(fault)) = (granted, self.nodes[index].crash_armed) {
                        // The vote is on disk and the response not yet sent: the crash point
                        // where forgetting a vote would let the voter vote twice.
                        let detail = self.crash(index, fault);
                        self.counters.crashes_after_vote += 1;
                        self.record("crash", format!("{detail} right after voting in term {term}"));
                        break;
                    }
                }
                Action::PersistEntries { from_index, entries } => {
                    let log = &mut self.nodes[index].disk.log;
                    log.truncate(from_index as usize - 1);
                    log.extend(entries);
                }
                Action::Send(message) => self.send_between_replicas(index, message),
                Action::Reply(message) => self.send_reply(index, message),
            }
        }
        actions.clear();
        self.actions = actions;
        self.schedule_tick(index);
    }

    fn schedule_tick(&mut self, index: usize) {
        let node = &self.nodes[index];
        if node.state != NodeState::Up {
            return;
        }
        let next_us = node.clock.virtual_us(node.replica.next_tick_us()).max(self.now_us);
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
        let link = from * self.nodes.len() + to;
        if self.cuts[link] > 0 {
            self.messages.dropped_by_partition += 1;
            self.counters.dropped_by_cut += 1;
            return;
        }
        let mut extra_us = 0;
        if !self.healed {
            let type_name = message.body.type_name();
            let rules = self.scenario.schedule.iter();
            for rule in
                rules.filter(|r| r.matches(self.now_us, message.src, message.dst, type_name))
            {
                match rule.action {
                    RuleAction::Drop => {
                        self.counters.dropped_by_schedule += 1;
                        return;
                    }
                    RuleAction::Delay => {
                        self.counters.delayed_by_schedule += 1;
                        extra_us += rule.delay_us;
                    }
                }
            }
        }
        // Drawn in the order the course-only simulator drew them, so course configs replay.
        if self.network.chance(self.scenario.drops) {
            self.messages.dropped_by_loss += 1;
            return;
        }
        if !self.healed && self.link_loss_rng.chance(self.link_loss[link]) {
            self.counters.dropped_by_link_loss += 1;
            return;
        }
        if !self.nodes[to].alive() {
            self.messages.lost_to_dead += 1;
        }
        let delay_us = self.delay_us() + extra_us;
        let duplicate_ratio = self.scenario.network.duplicate_ratio;
        if self.duplication.chance(duplicate_ratio) {
            self.counters.duplicated += 1;
            let network = &self.scenario.network;
            let copy_us = match network.distribution {
                Distribution::Uniform => {
                    self.duplication.between(network.delay_us_min, network.delay_us_max)
                }
                _ => crate::dist::shaped_delay_us(network, &mut self.duplication),
            };
            self.push(self.now_us + copy_us + extra_us, Event::Deliver(message.clone()));
        }
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
        let timeout_ms = self.scenario.clients.timeout_ms;
        if timeout_ms > 0 {
            let index = self.workload.request_count() - 1;
            self.push(self.now_us + timeout_ms * 1_000, Event::Timeout(index));
        }
        let network = &self.scenario.network;
        if self.duplication.chance(network.client_duplicate_ratio) {
            // A copy that lingered in the network: it arrives up to the configured bound late.
            let copy_us = self
                .duplication
                .between(network.delay_us_min, network.client_duplicate_delay_us_max);
            self.counters.client_duplicated += 1;
            self.push(self.now_us + copy_us, Event::Deliver(message.clone()));
        }
        let delay_us = self.delay_us();
        self.push(self.now_us + delay_us, Event::Deliver(message));
    }

    fn delay_us(&mut self) -> u64 {
        let network = &self.scenario.network;
        if network.distribution == Distribution::Uniform {
            return self.network.between(network.delay_us_min, network.delay_us_max);
        }
        self.counters.shaped_delays += 1;
        crate::dist::shaped_delay_us(network, &mut self.delays)
    }

    fn fail(&mut self, violation: Violation) {
        if self.failure.is_none() {
            self.failure = Some(Failure { violation, time_us: self.now_us, event: self.events });
        }
    }

    fn record(&mut self, kind: &'static str, detail: String) {
        self.fault_records.push(FaultRecord { time_us: self.now_us, kind, detail });
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
                    .filter(|&i| self.nodes[i].alive() && NodeId(i as u16) != self.believed_leader)
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
            FaultKind::Crash | FaultKind::Pause | FaultKind::Restart | FaultKind::Resume => {
                self.node_fault(index)
            }
            FaultKind::Partition => self.shape_partition(index),
            FaultKind::CutLink => {
                let event = &self.scenario.events[index];
                let (from, to) = (event.from.expect("checked"), event.to.expect("checked"));
                let link = (usize::from(from.0), usize::from(to.0));
                self.fault_states[index].links = vec![link];
                self.cut_links(index, true);
                self.counters.link_cuts += 1;
                self.undo_later(index);
                format!("{from} -> {to} cut")
            }
            FaultKind::Heal => self.heal_network(),
        };
        self.record(kind.name(), detail);
    }

    /// Queues the end of fault `index`, if it has a duration.
    fn undo_later(&mut self, index: usize) {
        if let Some(duration) = self.scenario.events[index].duration {
            self.push(self.now_us + seconds_to_us(duration), Event::Undo(index));
        }
    }

    fn undo_fault(&mut self, index: usize) {
        let kind = self.scenario.events[index].kind;
        let hit = self.fault_states[index].hit;
        let detail = match (kind, hit) {
            (FaultKind::Crash, Some(victim)) if self.nodes[victim].state == NodeState::Crashed => {
                self.restart(victim)
            }
            (FaultKind::Pause, Some(victim)) if self.nodes[victim].state == NodeState::Paused => {
                self.resume(victim)
            }
            (FaultKind::Partition | FaultKind::CutLink, _) if self.fault_states[index].links_on => {
                self.cut_links(index, false);
                self.counters.heals += 1;
                "healed".to_owned()
            }
            // Already undone by something else (a heal, an explicit restart or resume).
            _ => return,
        };
        self.record(kind.name(), format!("end of fault #{index}: {detail}"));
    }

    /// Cuts (or mends) the links fault `index` holds.
    fn cut_links(&mut self, index: usize, on: bool) {
        let state = &mut self.fault_states[index];
        if state.links_on == on {
            return;
        }
        state.links_on = on;
        let n = self.nodes.len();
        for &(from, to) in &state.links {
            let count = &mut self.cuts[from * n + to];
            *count = if on { *count + 1 } else { *count - 1 };
        }
    }

    fn flap(&mut self, index: usize, on: bool) {
        let event = &self.scenario.events[index];
        let end_us = self.scenario.start_us() + seconds_to_us(event.end());
        let flap_us = seconds_to_us(event.flap.expect("only flapping partitions flap"));
        if self.healed || self.now_us >= end_us {
            return;
        }
        self.cut_links(index, on);
        if on {
            self.counters.partitions += 1;
        } else {
            self.counters.heals += 1;
        }
        self.push(self.now_us + flap_us, Event::Flap(index, !on));
    }

    fn shape_partition(&mut self, index: usize) -> String {
        let event = &self.scenario.events[index];
        let shape = event.shape.unwrap_or(Shape::Halves);
        let target = event.target.unwrap_or(Target::Random);
        let flap = event.flap;
        let leader = match self.current_leader() {
            Some(leader) => leader,
            None => self.partitions_rng.below(self.nodes.len() as u64) as usize,
        };
        let target = self.pick(target, &mut |_| true).unwrap_or(leader);
        let cut =
            crate::shapes::cut(shape, self.nodes.len(), leader, target, &mut self.partitions_rng);
        self.fault_states[index].links = cut.links;
        self.cut_links(index, true);
        self.counters.partitions += 1;
        self.undo_later(index);
        if let Some(flap) = flap {
            self.push(self.now_us + seconds_to_us(flap), Event::Flap(index, false));
        }
        let flapping = if flap.is_some() { ", flapping" } else { "" };
        format!("{}: {}{flapping}", shape.name(), cut.detail)
    }

    /// The replica leading the highest term among those running or paused, if any leads.
    fn current_leader(&self) -> Option<usize> {
        (0..self.nodes.len())
            .filter(|&i| self.nodes[i].alive() && self.nodes[i].replica.role() == Role::Leader)
            .max_by_key(|&i| (self.nodes[i].replica.term(), std::cmp::Reverse(i)))
    }

    /// Resolves `target` among the replicas `eligible` accepts, drawing from the nodes stream.
    fn pick(&mut self, target: Target, eligible: &mut dyn FnMut(&Node) -> bool) -> Option<usize> {
        let leader = self.current_leader();
        let mut candidates: Vec<usize> =
            (0..self.nodes.len()).filter(|&i| eligible(&self.nodes[i])).collect();
        match target {
            Target::Leader => return leader.filter(|i| candidates.contains(i)),
            Target::Replica(id) => {
                return candidates.contains(&usize::from(id.0)).then_some(usize::from(id.0))
            }
            Target::NonLeader => candidates.retain(|&i| Some(i) != leader),
            Target::Random => {}
        }
        match candidates.len() {
            0 => None,
            n => Some(candidates[self.nodes_rng.below(n as u64) as usize]),
        }
    }

    fn node_fault(&mut self, index: usize) -> String {
        let event = &self.scenario.events[index];
        let (kind, when) = (event.kind, event.when.unwrap_or(CrashPoint::Now));
        let target = event.target.unwrap_or(Target::Random);
        let victim = match kind {
            FaultKind::Crash => self.pick(target, &mut |node| node.alive()),
            FaultKind::Pause => self.pick(target, &mut |node| node.state == NodeState::Up),
            FaultKind::Restart => self.pick(target, &mut |node| !node.alive()),
            _ => self.pick(target, &mut |node| node.state == NodeState::Paused),
        };
        let Some(victim) = victim else {
            return format!("no replica fits target {target:?}; nothing happened");
        };
        self.fault_states[index].hit = Some(victim);
        match (kind, when) {
            (FaultKind::Crash, CrashPoint::AfterVote) => {
                self.nodes[victim].crash_armed = Some(index);
                format!("armed: {} crashes right after its next vote", NodeId(victim as u16))
            }
            (FaultKind::Crash, CrashPoint::Now) => self.crash(victim, index),
            (FaultKind::Pause, _) => {
                let node = &mut self.nodes[victim];
                node.state = NodeState::Paused;
                node.tick_at_us = None;
                self.counters.pauses += 1;
                self.undo_later(index);
                format!("paused {}", NodeId(victim as u16))
            }
            (FaultKind::Restart, _) => self.restart(victim),
            _ => self.resume(victim),
        }
    }

    /// Stops replica `victim` for fault `fault`, losing all but its disk.
    fn crash(&mut self, victim: usize, fault: usize) -> String {
        let node = &mut self.nodes[victim];
        let was = if node.replica.role() == Role::Leader { " (leader)" } else { "" };
        node.state = NodeState::Crashed;
        node.tick_at_us = None;
        node.inbox.clear();
        node.crash_armed = None;
        self.counters.crashes += 1;
        self.fault_states[fault].hit = Some(victim);
        self.undo_later(fault);
        format!("crashed {}{was}", NodeId(victim as u16))
    }

    /// Whether `reply` answers, a second time, a request its sender has forgotten by
    /// restarting after the request was sent (a late duplicate of it reached the new life).
    fn answer_forgotten_in_a_restart(&self, reply: &Message) -> bool {
        let Some(mid) = reply.body.mid() else { return false };
        let Some(call_us) = self.workload.answered_call_us(mid) else { return false };
        let restarted_at_us =
            self.nodes.get(usize::from(reply.src.0)).and_then(|n| n.restarted_at_us);
        restarted_at_us.is_some_and(|restart_us| restart_us > call_us)
    }

    /// Starts replica `index` again from its disk, as a follower with commit index 0.
    fn restart(&mut self, index: usize) -> String {
        let local_us = self.nodes[index].clock.local_us(self.now_us);
        let node = &mut self.nodes[index];
        assert!(!node.alive(), "restarting a running replica");
        // A new jitter seed: the same draws as its first life would be an artificial echo.
        let mut config = node.config.clone();
        config.seed = self.restarts_rng.next_u64();
        node.replica = Replica::new(config, node.disk.clone(), local_us);
        node.state = NodeState::Up;
        node.tick_at_us = None;
        node.inbox.clear();
        node.restarted_at_us = Some(self.now_us);
        self.invariants.on_restart(index);
        self.counters.restarts += 1;
        self.schedule_tick(index);
        let disk = &self.nodes[index].disk;
        format!(
            "restarted {} from disk: term {}, vote {:?}, {} entries",
            NodeId(index as u16),
            disk.term,
            disk.voted_for,
            disk.log.len()
        )
    }

    /// Unfreezes replica `index`: what waited in its inbox arrives now, in order.
    fn resume(&mut self, index: usize) -> String {
        let node = &mut self.nodes[index];
        node.state = NodeState::Up;
        let inbox = std::mem::take(&mut node.inbox);
        let held = inbox.len();
        for message in inbox {
            self.push(self.now_us, Event::Deliver(message));
        }
        self.counters.resumes += 1;
        self.schedule_tick(index);
        format!("resumed {} with {held} waiting messages", NodeId(index as u16))
    }

    /// Mends every partition and cut link, the course's and ours.
    fn heal_network(&mut self) -> String {
        self.side.fill(0);
        self.partitioned = false;
        for index in 0..self.fault_states.len() {
            self.cut_links(index, false);
        }
        debug_assert!(self.cuts.iter().all(|&count| count == 0));
        self.counters.heals += 1;
        "healed every partition and cut link".to_owned()
    }

    /// The fault phase is over: heal the network, resume and restart replicas, switch off
    /// scripted rules and per-link loss, and start the oracle.
    fn heal_for_liveness(&mut self) {
        self.heal_network();
        self.healed = true;
        let mut woken = Vec::new();
        for index in 0..self.nodes.len() {
            self.nodes[index].crash_armed = None;
            match self.nodes[index].state {
                NodeState::Paused => {
                    self.resume(index);
                    woken.push(format!("resumed {}", NodeId(index as u16)));
                }
                NodeState::Crashed => {
                    self.restart(index);
                    woken.push(format!("restarted {}", NodeId(index as u16)));
                }
                NodeState::Up | NodeState::Killed => {}
            }
        }
        let killed = self.nodes.iter().filter(|node| node.state == NodeState::Killed).count();
        let observed = self.observed();
        let oracle = self.oracle.as_mut().expect("a heal event only with an oracle");
        let judging = oracle.start(&observed, killed);
        let deadline_us = oracle.deadline_us();
        let detail = match woken.is_empty() {
            true => "fault phase over: network healed".to_owned(),
            false => format!("fault phase over: network healed, {}", woken.join(", ")),
        };
        self.record("heal", detail);
        if judging {
            self.push(self.now_us, Event::Probe);
            self.push(deadline_us, Event::Deadline);
        }
    }

    /// Sends a probe write for the oracle and plans the next, until one is acknowledged.
    fn probe(&mut self) {
        let Some(oracle) = self.oracle.as_mut() else { return };
        if !oracle.watching() || self.workload.probe_acknowledged_us().is_some() {
            return;
        }
        oracle.on_probe();
        let interval_us = oracle.probe_interval_us();
        let alive = self.alive();
        let request = self.workload.start_probe(self.now_us, &alive);
        self.send_request(request);
        self.push(self.now_us + interval_us, Event::Probe);
    }

    fn kill(&mut self, index: usize) -> String {
        let node = &mut self.nodes[index];
        let was = match (node.alive(), node.replica.role()) {
            (false, _) => " (already dead)",
            (true, Role::Leader) => " (leader)",
            (true, _) => "",
        };
        node.state = NodeState::Killed;
        node.tick_at_us = None;
        node.inbox.clear();
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

/// Each replica's clock drift: the scenario's list, else drawn from the clocks stream (only
/// when a maximum is set, so scenarios without drift draw nothing).
fn clock_drifts(scenario: &Scenario, seed: u64) -> Vec<i64> {
    let count = usize::from(scenario.replicas);
    if let Some(drifts) = &scenario.clocks.drift_ppm {
        return drifts.clone();
    }
    let max = scenario.clocks.drift_ppm_max;
    if max == 0 {
        return vec![0; count];
    }
    let mut rng = Rng::new(seed, Stream::Clocks);
    (0..count).map(|_| rng.between(0, 2 * max) as i64 - max as i64).collect()
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
        Event::Undo(index) => format!("end of fault #{index}"),
        Event::Flap(index, true) => format!("fault #{index} cuts again"),
        Event::Flap(index, false) => format!("fault #{index} heals for a while"),
        Event::Heal => "heal (fault phase over)".to_owned(),
        Event::Probe => "probe".to_owned(),
        Event::Deadline => "liveness deadline".to_owned(),
        Event::Timeout(index) => format!("client timeout of request {index}"),
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
                "term={term} prev={prev_log_index}/{prev_log_term} entries={} \
                 commit={leader_commit}",
                entries.len()
            )
        }
        Body::AppendEntriesResponse { term, success, match_index } => {
            format!("term={term} success={success} match={match_index}")
        }
    };
    format!("{head} {tail}")
}
