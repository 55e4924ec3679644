//! The scenario format: what a run simulates.
//!
//! A scenario is a JSON object. Its core fields are those of the course's configs
//! (`../shared/cs3700/configs`), read unchanged and with the same meaning; our own
//! extensions (`description`, `network`, `timing`) are optional. Parsing is strict: an
//! unknown field, a wrong type or a value out of range is an error naming the field, line
//! and column. The field reference is `docs/scenarios.md`.
//!
//! The fault library's fields (`events` beyond the course's five types, `network`'s delay
//! shapes, duplication and per-link loss, `schedule`, `clocks`, `liveness` and `swarm`) are
//! all optional, and their defaults reproduce a course config's meaning exactly.

use std::fmt;
use std::path::{Path, PathBuf};

use replica::NodeId;
use serde::{Deserialize, Deserializer, Serialize};

/// A parsed, validated scenario. Times in the course's fields are seconds, as in the course
/// configs; our own fields carry their unit in their name.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// Free text shown in reports.
    #[serde(default)]
    pub description: Option<String>,
    /// Seconds of client traffic.
    #[serde(deserialize_with = "positive_seconds")]
    pub lifetime: f64,
    /// Number of replicas.
    #[serde(deserialize_with = "replica_count")]
    pub replicas: u16,
    /// Number of client operations, spread evenly over `lifetime`.
    pub requests: u32,
    /// The course's seed field; `sim run --seed` takes precedence.
    #[serde(default)]
    pub seed: Option<u64>,
    /// Probability that an operation is a get.
    #[serde(default = "default_mix", deserialize_with = "probability")]
    pub mix: f64,
    /// Seconds after start before the first request.
    #[serde(default = "default_start_wait", deserialize_with = "seconds")]
    pub start_wait: f64,
    /// Seconds after the last request before the run stops.
    #[serde(default = "default_end_wait", deserialize_with = "seconds")]
    pub end_wait: f64,
    /// Probability of dropping each replica-to-replica message.
    #[serde(default, deserialize_with = "probability")]
    pub drops: f64,
    /// The run stops when this many replica-to-replica messages were sent.
    #[serde(default = "default_max_packets")]
    pub max_packets: u64,
    /// Faults, at seconds after the first request.
    #[serde(default)]
    pub events: Vec<FaultEvent>,
    /// The course's grading thresholds.
    #[serde(default)]
    pub tests: Option<Tests>,
    /// Misplaced in some course configs; the course ignores it here, and so do we (warning).
    #[serde(default, deserialize_with = "optional_probability", skip_serializing)]
    pub maximum_get_generation_fail_fraction: Option<f64>,
    /// Message delays.
    #[serde(default)]
    pub network: Network,
    /// Replica timers.
    #[serde(default)]
    pub timing: Timing,
    /// Scripted message rules: drop or delay matching messages in a window of virtual time.
    #[serde(default)]
    pub schedule: Vec<ScheduleRule>,
    /// Per-replica clock drift.
    #[serde(default)]
    pub clocks: Clocks,
    /// The liveness oracle; off when absent.
    #[serde(default)]
    pub liveness: Option<Liveness>,
    /// Swarm mode: each seed chooses which fault families are on, and how strong.
    #[serde(default)]
    pub swarm: bool,
    /// Extensions of the course's client model; the defaults are the course's clients.
    #[serde(default)]
    pub clients: Clients,
    /// The planted bug every replica carries (`sim run --plant`); never read from a file.
    #[cfg(feature = "plant")]
    #[serde(skip)]
    pub plant: Option<replica::Plant>,
}

/// How the clients differ from the course's. The defaults change nothing, so a scenario
/// without `clients` draws exactly what it drew before.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Clients {
    /// With N above 0, every client reads and writes the same N keys (`key-0` to
    /// `key-{N-1}`), so one client's write is another's read; 0 keeps the course's model,
    /// where each client reads only keys it wrote itself.
    #[serde(default)]
    pub keys: u32,
    /// A request unanswered this long is abandoned (it stays in the history as unknown) and
    /// its operation is sent again under a new request id to another living replica. 0 (the
    /// default) never times out, as the course's clients.
    #[serde(default)]
    pub timeout_ms: u64,
}

/// One scheduled fault. The course's five types take only `type` and `time`; the fault
/// library's types take the optional fields that apply to them (checked when parsing).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(try_from = "RawFaultEvent")]
pub struct FaultEvent {
    /// What happens.
    #[serde(rename = "type")]
    pub kind: FaultKind,
    /// Seconds after the first request.
    pub time: f64,
    /// Which replica a node fault hits, or which replica a partition shape centres on.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target: Option<Target>,
    /// Seconds until the fault undoes itself (restart, resume or heal); none means never.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duration: Option<f64>,
    /// The partition's shape.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shape: Option<Shape>,
    /// Seconds of each half-period of a flapping partition: cut, then healed, then cut again,
    /// until `duration` ends.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub flap: Option<f64>,
    /// The sending end of a cut link.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from: Option<NodeId>,
    /// The receiving end of a cut link.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to: Option<NodeId>,
    /// When a crash strikes: at once, or right after the target next persists a vote.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub when: Option<CrashPoint>,
}

/// A fault event as written, before the fields are checked against its type.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFaultEvent {
    #[serde(rename = "type")]
    kind: FaultKind,
    #[serde(deserialize_with = "seconds")]
    time: f64,
    #[serde(default)]
    target: Option<Target>,
    #[serde(default, deserialize_with = "optional_positive_seconds")]
    duration: Option<f64>,
    #[serde(default)]
    shape: Option<Shape>,
    #[serde(default, deserialize_with = "optional_positive_seconds")]
    flap: Option<f64>,
    #[serde(default)]
    from: Option<NodeId>,
    #[serde(default)]
    to: Option<NodeId>,
    #[serde(default)]
    when: Option<CrashPoint>,
}

impl TryFrom<RawFaultEvent> for FaultEvent {
    type Error = String;

    fn try_from(raw: RawFaultEvent) -> Result<FaultEvent, String> {
        use FaultKind::*;
        let kind = raw.kind;
        // Which optional fields each type takes; anything else is a mistake worth naming.
        let (target, duration, shape, flap, link, when) = match kind {
            KillLeader | KillNonLeader | PartEasy | PartHard | PartEnd | Heal => {
                (false, false, false, false, false, false)
            }
            Crash => (true, true, false, false, false, true),
            Pause => (true, true, false, false, false, false),
            Restart | Resume => (true, false, false, false, false, false),
            Partition => (true, true, true, true, false, false),
            CutLink => (false, true, false, false, true, false),
        };
        let given = [
            ("target", raw.target.is_some(), target),
            ("duration", raw.duration.is_some(), duration),
            ("shape", raw.shape.is_some(), shape),
            ("flap", raw.flap.is_some(), flap),
            ("from", raw.from.is_some(), link),
            ("to", raw.to.is_some(), link),
            ("when", raw.when.is_some(), when),
        ];
        if let Some((field, _, _)) = given.iter().find(|(_, present, allowed)| *present && !allowed)
        {
            return Err(format!("field `{field}` does not apply to `{}`", kind.name()));
        }
        if kind == CutLink {
            let (Some(from), Some(to)) = (raw.from, raw.to) else {
                return Err("`cut_link` needs both `from` and `to`".to_owned());
            };
            if from == to {
                return Err(format!("`cut_link` from {from} to itself"));
            }
        }
        if raw.flap.is_some() && raw.duration.is_none() {
            return Err("a flapping partition needs a `duration` to flap within".to_owned());
        }
        if matches!(raw.target, Some(Target::Leader | Target::NonLeader))
            && matches!(kind, Restart | Resume)
        {
            return Err(format!("`{}` takes a replica id or `random` as target", kind.name()));
        }
        Ok(FaultEvent {
            kind,
            time: raw.time,
            target: raw.target,
            duration: raw.duration,
            shape: raw.shape,
            flap: raw.flap,
            from: raw.from,
            to: raw.to,
            when: raw.when,
        })
    }
}

impl FaultEvent {
    /// A fault of `kind` at `time` seconds with no optional fields.
    pub fn at(kind: FaultKind, time: f64) -> FaultEvent {
        FaultEvent {
            kind,
            time,
            target: None,
            duration: None,
            shape: None,
            flap: None,
            from: None,
            to: None,
            when: None,
        }
    }

    /// Seconds after the first request at which this fault's effect ends: its time plus its
    /// duration, or its time for a fault that lasts until something undoes it.
    pub fn end(&self) -> f64 {
        self.time + self.duration.unwrap_or(0.0)
    }
}

/// The course's five faults (PROTOCOL.md section 5) and the fault library's.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FaultKind {
    /// Kill the replica the simulator believes leads; clients forget the leader.
    KillLeader,
    /// Kill a random living replica that is not the believed leader.
    KillNonLeader,
    /// Partition into a majority that contains the believed leader and a minority.
    PartEasy,
    /// Partition into a random majority and minority; clients forget the leader.
    PartHard,
    /// Heal the partition.
    PartEnd,
    /// Stop a replica; it loses everything it did not persist.
    Crash,
    /// Start a stopped replica again from what it persisted.
    Restart,
    /// Freeze a replica: it keeps its state, and messages to it wait until it resumes.
    Pause,
    /// Unfreeze a paused replica.
    Resume,
    /// Cut the network into a shape (see [`Shape`]).
    Partition,
    /// Cut one direction of one link.
    CutLink,
    /// Heal every partition and cut link, the course's and ours.
    Heal,
}

impl FaultKind {
    /// The name used in scenarios and reports.
    pub fn name(self) -> &'static str {
        match self {
            FaultKind::KillLeader => "kill_leader",
            FaultKind::KillNonLeader => "kill_non_leader",
            FaultKind::PartEasy => "part_easy",
            FaultKind::PartHard => "part_hard",
            FaultKind::PartEnd => "part_end",
            FaultKind::Crash => "crash",
            FaultKind::Restart => "restart",
            FaultKind::Pause => "pause",
            FaultKind::Resume => "resume",
            FaultKind::Partition => "partition",
            FaultKind::CutLink => "cut_link",
            FaultKind::Heal => "heal",
        }
    }
}

/// Which replica a fault hits. Written `"leader"`, `"non_leader"`, `"random"` or a replica
/// id such as `"0002"`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    /// The replica that leads the highest term now (the believed leader if none does).
    Leader,
    /// A random replica other than the leader.
    NonLeader,
    /// A random replica that the fault can hit.
    Random,
    /// This replica.
    Replica(NodeId),
}

impl Serialize for Target {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Target::Leader => serializer.serialize_str("leader"),
            Target::NonLeader => serializer.serialize_str("non_leader"),
            Target::Random => serializer.serialize_str("random"),
            Target::Replica(id) => id.serialize(serializer),
        }
    }
}

impl<'de> Deserialize<'de> for Target {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        match text.as_ref() {
            "leader" => Ok(Target::Leader),
            "non_leader" => Ok(Target::NonLeader),
            "random" => Ok(Target::Random),
            other => NodeId::parse(other).map(Target::Replica).ok_or_else(|| {
                serde::de::Error::custom(format_args!(
                    "invalid target {other:?}: want `leader`, `non_leader`, `random` or a \
                     replica id of 4 upper-case hex digits"
                ))
            }),
        }
    }
}

/// The shapes a `partition` event can cut the network into.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Shape {
    /// Two random halves, as even as the count allows (neither a majority when it is even).
    Halves,
    /// The target alone against the rest.
    Isolate,
    /// The leader alone against the rest.
    IsolateLeader,
    /// A majority holding the leader against the rest.
    LeaderMajority,
    /// A minority holding the leader against a majority.
    LeaderMinority,
    /// Two sides that cannot hear each other and one replica (the target) that hears both.
    Bridge,
    /// A random ring where each replica hears only its neighbours, so every replica sees a
    /// majority but no two majorities are the same.
    Ring,
}

impl Shape {
    /// The name used in scenarios and reports.
    pub fn name(self) -> &'static str {
        match self {
            Shape::Halves => "halves",
            Shape::Isolate => "isolate",
            Shape::IsolateLeader => "isolate_leader",
            Shape::LeaderMajority => "leader_majority",
            Shape::LeaderMinority => "leader_minority",
            Shape::Bridge => "bridge",
            Shape::Ring => "ring",
        }
    }
}

/// When a crash strikes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CrashPoint {
    /// At the event's time.
    Now,
    /// Once armed at the event's time, right after the target persists a vote for another
    /// replica and before the response leaves: the vote must survive the crash.
    AfterVote,
}

/// The course's grading section.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tests {
    /// Thresholds of the four scored figures.
    pub benchmarks: Benchmarks,
    /// Largest allowed fraction of unanswered gets.
    #[serde(default = "default_half", deserialize_with = "probability")]
    pub maximum_get_fail_fraction: f64,
    /// Largest allowed fraction of unanswered puts.
    #[serde(default = "default_half", deserialize_with = "probability")]
    pub maximum_put_fail_fraction: f64,
    /// Largest allowed fraction of gets that could not be generated.
    #[serde(default = "default_generation_fail", deserialize_with = "probability")]
    pub maximum_get_generation_fail_fraction: f64,
    /// Sets the floor on total messages.
    #[serde(default = "default_half", deserialize_with = "probability")]
    pub maximum_appends_batched_fraction: f64,
}

/// Three strictly compared thresholds per figure: below the first is tier 0 (bonus), below
/// the second tier 1 (full credit), below the third tier 2 (partial), else tier 3.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Benchmarks {
    /// Replica-to-replica messages.
    pub total_msgs: [f64; 3],
    /// Fail replies plus unanswered requests.
    pub failures: [f64; 3],
    /// Duplicate ok replies.
    pub duplicates: [f64; 3],
    /// Median reply latency in seconds.
    pub median_latency: [f64; 3],
}

/// The network between replicas: delays, duplication and per-link loss. Client traffic
/// only takes the delay.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Network {
    /// Smallest delay.
    #[serde(default = "default_delay_us_min")]
    pub delay_us_min: u64,
    /// Largest delay.
    #[serde(default = "default_delay_us_max")]
    pub delay_us_max: u64,
    /// How delays are drawn between the bounds.
    #[serde(default)]
    pub distribution: Distribution,
    /// Mean of an exponential delay's excess over `delay_us_min`; by default half the span.
    #[serde(default)]
    pub delay_us_mean: Option<u64>,
    /// Shape (alpha) of a Pareto delay: smaller is a longer tail.
    #[serde(default = "default_pareto_shape")]
    pub pareto_shape: f64,
    /// Probability that a replica-to-replica message is delivered twice.
    #[serde(default, deserialize_with = "probability")]
    pub duplicate_ratio: f64,
    /// Extra loss on single directed links, on top of `drops`.
    #[serde(default)]
    pub links: Vec<LinkLoss>,
    /// Probability that a client's request reaches its replica a second time, late.
    #[serde(default, deserialize_with = "probability")]
    pub client_duplicate_ratio: f64,
    /// The late copy of a client request arrives uniformly between `delay_us_min` and this.
    #[serde(default = "default_client_duplicate_delay_us_max")]
    pub client_duplicate_delay_us_max: u64,
}

impl Default for Network {
    fn default() -> Self {
        Network {
            delay_us_min: default_delay_us_min(),
            delay_us_max: default_delay_us_max(),
            distribution: Distribution::Uniform,
            delay_us_mean: None,
            pareto_shape: default_pareto_shape(),
            duplicate_ratio: 0.0,
            links: Vec::new(),
            client_duplicate_ratio: 0.0,
            client_duplicate_delay_us_max: default_client_duplicate_delay_us_max(),
        }
    }
}

/// How a message's delay is drawn; every draw is clamped to `delay_us_max`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Distribution {
    /// Uniform between the bounds (the default, and the course's model).
    #[default]
    Uniform,
    /// Always `delay_us_min`: messages on one link never overtake each other.
    Constant,
    /// `delay_us_min` plus an exponential excess of mean `delay_us_mean`.
    Exponential,
    /// Pareto with scale `delay_us_min` and shape `pareto_shape`: mostly fast, rarely slow.
    Pareto,
}

/// Loss on one directed link.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LinkLoss {
    /// The sender.
    pub from: NodeId,
    /// The receiver.
    pub to: NodeId,
    /// Probability of dropping each message on this link.
    #[serde(deserialize_with = "probability")]
    pub loss_ratio: f64,
}

/// A scripted rule: what happens to replica-to-replica messages that match it.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScheduleRule {
    /// Drop the message, or add `delay_us` to its delay.
    pub action: RuleAction,
    /// Only messages from this replica; any when absent.
    #[serde(default)]
    pub from: Option<NodeId>,
    /// Only messages to this replica; any when absent.
    #[serde(default)]
    pub to: Option<NodeId>,
    /// Only messages of this type; any when absent.
    #[serde(default)]
    pub message: Option<MessageType>,
    /// First virtual time (from the run's start, as in the trace) the rule applies.
    pub start_us: u64,
    /// First virtual time the rule no longer applies.
    pub end_us: u64,
    /// Extra delay for `delay` rules.
    #[serde(default)]
    pub delay_us: u64,
}

impl ScheduleRule {
    /// Whether this rule applies to a message of `type_name` from `from` to `to` sent at
    /// `now_us`.
    pub fn matches(&self, now_us: u64, from: NodeId, to: NodeId, type_name: &str) -> bool {
        (self.start_us..self.end_us).contains(&now_us)
            && self.from.is_none_or(|id| id == from)
            && self.to.is_none_or(|id| id == to)
            && self.message.is_none_or(|message| message.name() == type_name)
    }
}

/// What a scripted rule does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RuleAction {
    /// The message is lost.
    Drop,
    /// The message arrives `delay_us` later than the network would deliver it.
    Delay,
}

/// The Raft message types a rule can name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MessageType {
    /// A candidate asks for a vote.
    RequestVote,
    /// A vote granted or refused.
    RequestVoteResponse,
    /// Entries or a heartbeat from a leader.
    AppendEntries,
    /// A follower's answer to AppendEntries.
    AppendEntriesResponse,
}

impl MessageType {
    /// The wire name, as `replica::Body::type_name` gives it.
    pub fn name(self) -> &'static str {
        match self {
            MessageType::RequestVote => "request_vote",
            MessageType::RequestVoteResponse => "request_vote_response",
            MessageType::AppendEntries => "append_entries",
            MessageType::AppendEntriesResponse => "append_entries_response",
        }
    }
}

/// Per-replica clock rates. A replica's clock reads `v + v * drift_ppm / 1e6` at virtual
/// time `v`, so its timers run fast (positive drift) or slow (negative).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Clocks {
    /// Each replica's drift in parts per million, one per replica; overrides the draw.
    #[serde(default)]
    pub drift_ppm: Option<Vec<i64>>,
    /// Each replica's drift is drawn uniformly from `-drift_ppm_max..=drift_ppm_max`.
    #[serde(default)]
    pub drift_ppm_max: u64,
}

/// The most a clock may drift: half again as fast, or half as fast.
pub const DRIFT_PPM_LIMIT: u64 = 500_000;

/// The liveness oracle's settings.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Liveness {
    /// Once the fault phase ends, a leader must commit a new write and every live replica
    /// must catch up to it within this many milliseconds.
    pub recover_within_ms: u64,
    /// How often the oracle sends a fresh probe write while none has been acknowledged.
    #[serde(default = "default_probe_interval_ms")]
    pub probe_interval_ms: u64,
    /// Seconds after the first request at which the fault phase ends; by default, when the
    /// last fault ends.
    #[serde(
        default,
        deserialize_with = "optional_seconds",
        skip_serializing_if = "Option::is_none"
    )]
    pub after: Option<f64>,
}

/// Replica timers, in virtual milliseconds.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Timing {
    /// Lower bound of the randomized election timeout.
    #[serde(default = "default_election_timeout_ms_min")]
    pub election_timeout_ms_min: u64,
    /// Upper bound of the randomized election timeout.
    #[serde(default = "default_election_timeout_ms_max")]
    pub election_timeout_ms_max: u64,
    /// Longest a leader stays silent towards a follower.
    #[serde(default = "default_heartbeat_interval_ms")]
    pub heartbeat_interval_ms: u64,
    /// Most entries one AppendEntries carries; a lagging follower catches up in batches.
    #[serde(default = "default_append_entries_max")]
    pub append_entries_max: usize,
}

impl Default for Timing {
    fn default() -> Self {
        Timing {
            election_timeout_ms_min: default_election_timeout_ms_min(),
            election_timeout_ms_max: default_election_timeout_ms_max(),
            heartbeat_interval_ms: default_heartbeat_interval_ms(),
            append_entries_max: default_append_entries_max(),
        }
    }
}

fn default_mix() -> f64 {
    0.8
}
fn default_start_wait() -> f64 {
    5.0
}
fn default_end_wait() -> f64 {
    2.0
}
fn default_max_packets() -> u64 {
    20_000
}
fn default_half() -> f64 {
    0.5
}
fn default_generation_fail() -> f64 {
    0.1
}
fn default_delay_us_min() -> u64 {
    100
}
fn default_delay_us_max() -> u64 {
    400
}
fn default_election_timeout_ms_min() -> u64 {
    150
}
fn default_election_timeout_ms_max() -> u64 {
    300
}
fn default_heartbeat_interval_ms() -> u64 {
    50
}
fn default_pareto_shape() -> f64 {
    1.5
}
fn default_append_entries_max() -> usize {
    64
}
fn default_client_duplicate_delay_us_max() -> u64 {
    1_000_000
}
fn default_probe_interval_ms() -> u64 {
    1_000
}

fn seconds<'de, D: Deserializer<'de>>(deserializer: D) -> Result<f64, D::Error> {
    let value = f64::deserialize(deserializer)?;
    if !value.is_finite() || !(0.0..=1e6).contains(&value) {
        return Err(serde::de::Error::custom(format_args!(
            "{value} is out of range: want seconds from 0 to 1000000"
        )));
    }
    Ok(value)
}

fn positive_seconds<'de, D: Deserializer<'de>>(deserializer: D) -> Result<f64, D::Error> {
    let value = seconds(deserializer)?;
    if value <= 0.0 {
        return Err(serde::de::Error::custom("must be more than 0 seconds"));
    }
    Ok(value)
}

fn optional_seconds<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<f64>, D::Error> {
    seconds(deserializer).map(Some)
}

fn optional_positive_seconds<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<f64>, D::Error> {
    positive_seconds(deserializer).map(Some)
}

fn probability<'de, D: Deserializer<'de>>(deserializer: D) -> Result<f64, D::Error> {
    let value = f64::deserialize(deserializer)?;
    if !(0.0..=1.0).contains(&value) {
        return Err(serde::de::Error::custom(format_args!(
            "{value} is out of range: want a probability from 0 to 1"
        )));
    }
    Ok(value)
}

fn optional_probability<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<f64>, D::Error> {
    probability(deserializer).map(Some)
}

fn replica_count<'de, D: Deserializer<'de>>(deserializer: D) -> Result<u16, D::Error> {
    let value = u16::deserialize(deserializer)?;
    if !(1..=64).contains(&value) {
        return Err(serde::de::Error::custom(format_args!(
            "{value} is out of range: want 1 to 64 replicas"
        )));
    }
    Ok(value)
}

/// Why a scenario could not be used.
#[derive(Debug)]
pub enum ScenarioError {
    /// The file could not be read.
    Read {
        /// The file.
        path: PathBuf,
        /// What the OS said.
        source: std::io::Error,
    },
    /// The text is not a valid scenario.
    Parse {
        /// The file.
        path: PathBuf,
        /// The field, as a path like `events[2].type`, or `.` for the document.
        field: String,
        /// 1-based line of the error.
        line: usize,
        /// 1-based column of the error.
        column: usize,
        /// What is wrong.
        message: String,
    },
    /// The fields parse but do not fit together.
    Invalid {
        /// The file.
        path: PathBuf,
        /// The field at fault.
        field: &'static str,
        /// What is wrong.
        message: String,
    },
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ScenarioError::Read { path, source } => {
                write!(f, "{}: cannot read scenario: {source}", path.display())
            }
            ScenarioError::Parse { path, field, line, column, message } => {
                write!(f, "{}:{line}:{column}: field `{field}`: {message}", path.display())
            }
            ScenarioError::Invalid { path, field, message } => {
                write!(f, "{}: field `{field}`: {message}", path.display())
            }
        }
    }
}

impl std::error::Error for ScenarioError {}

/// A scenario and the warnings its parsing raised.
#[derive(Clone, Debug)]
pub struct Loaded {
    /// The scenario.
    pub scenario: Scenario,
    /// Tolerated oddities, one sentence each.
    pub warnings: Vec<String>,
}

impl Scenario {
    /// Reads and validates the scenario at `path`.
    pub fn load(path: &Path) -> Result<Loaded, ScenarioError> {
        let text = std::fs::read_to_string(path)
            .map_err(|source| ScenarioError::Read { path: path.to_owned(), source })?;
        Scenario::parse(&text, path)
    }

    /// Parses and validates scenario text; `path` only names it in errors.
    pub fn parse(text: &str, path: &Path) -> Result<Loaded, ScenarioError> {
        let parse_error = |field: String, inner: &serde_json::Error| {
            let text = inner.to_string();
            let message = match text.rsplit_once(" at line ") {
                Some((message, _)) => message.to_owned(),
                None => text,
            };
            ScenarioError::Parse {
                path: path.to_owned(),
                field,
                line: inner.line(),
                column: inner.column(),
                message,
            }
        };
        let mut deserializer = serde_json::Deserializer::from_str(text);
        let scenario: Scenario = serde_path_to_error::deserialize(&mut deserializer)
            .map_err(|error| parse_error(error.path().to_string(), error.inner()))?;
        deserializer.end().map_err(|error| parse_error(".".to_owned(), &error))?;
        let warnings = scenario.validate(path)?;
        Ok(Loaded { scenario, warnings })
    }

    fn validate(&self, path: &Path) -> Result<Vec<String>, ScenarioError> {
        let invalid = |field, message: String| ScenarioError::Invalid {
            path: path.to_owned(),
            field,
            message,
        };
        if self.network.delay_us_min > self.network.delay_us_max {
            return Err(invalid(
                "network.delay_us_min",
                format!(
                    "{} is above delay_us_max {}",
                    self.network.delay_us_min, self.network.delay_us_max
                ),
            ));
        }
        let timing = &self.timing;
        if timing.election_timeout_ms_min >= timing.election_timeout_ms_max {
            return Err(invalid(
                "timing.election_timeout_ms_min",
                "must be below election_timeout_ms_max".to_owned(),
            ));
        }
        if timing.heartbeat_interval_ms == 0
            || timing.heartbeat_interval_ms >= timing.election_timeout_ms_min
        {
            return Err(invalid(
                "timing.heartbeat_interval_ms",
                "must be above 0 and below election_timeout_ms_min".to_owned(),
            ));
        }
        if timing.append_entries_max == 0 {
            return Err(invalid("timing.append_entries_max", "must be at least 1".to_owned()));
        }
        if self.network.client_duplicate_delay_us_max < self.network.delay_us_min {
            return Err(invalid(
                "network.client_duplicate_delay_us_max",
                "must not be below delay_us_min".to_owned(),
            ));
        }
        if self.requests == 0 {
            return Err(invalid("requests", "must be at least 1".to_owned()));
        }
        self.validate_faults(path)?;
        let mut warnings = Vec::new();
        if self.maximum_get_generation_fail_fraction.is_some() {
            warnings.push(
                "field `maximum_get_generation_fail_fraction` at the top level is ignored, as the \
                 course simulator ignores it; it belongs in `tests` (the default 0.1 applies)"
                    .to_owned(),
            );
        }
        Ok(warnings)
    }

    /// Checks the fault library's fields against each other and the replica count.
    fn validate_faults(&self, path: &Path) -> Result<(), ScenarioError> {
        let invalid = |field, message: String| ScenarioError::Invalid {
            path: path.to_owned(),
            field,
            message,
        };
        let count = self.replicas;
        let outside = |id: &Option<NodeId>| id.is_some_and(|id| id.0 >= count);
        for (index, event) in self.events.iter().enumerate() {
            let target = match event.target {
                Some(Target::Replica(id)) => Some(id),
                _ => None,
            };
            if outside(&target) || outside(&event.from) || outside(&event.to) {
                return Err(invalid(
                    "events",
                    format!("events[{index}] names a replica beyond the {count} there are"),
                ));
            }
        }
        let network = &self.network;
        if network.distribution == Distribution::Pareto
            && (network.delay_us_min == 0 || !(0.1..=100.0).contains(&network.pareto_shape))
        {
            return Err(invalid(
                "network.pareto_shape",
                "a Pareto delay needs delay_us_min above 0 and a shape from 0.1 to 100".to_owned(),
            ));
        }
        if network.delay_us_mean == Some(0) {
            return Err(invalid("network.delay_us_mean", "must be above 0".to_owned()));
        }
        for (index, link) in network.links.iter().enumerate() {
            if link.from == link.to || outside(&Some(link.from)) || outside(&Some(link.to)) {
                return Err(invalid(
                    "network.links",
                    format!("links[{index}] must join two different replicas of the {count}"),
                ));
            }
        }
        for (index, rule) in self.schedule.iter().enumerate() {
            let problem = if rule.start_us >= rule.end_us {
                Some("start_us must be below end_us")
            } else if outside(&rule.from) || outside(&rule.to) {
                Some("names a replica beyond the cluster")
            } else if (rule.action == RuleAction::Delay) != (rule.delay_us > 0) {
                Some("delay_us must be above 0 exactly for `delay` rules")
            } else {
                None
            };
            if let Some(problem) = problem {
                return Err(invalid("schedule", format!("schedule[{index}]: {problem}")));
            }
        }
        let clocks = &self.clocks;
        if clocks.drift_ppm_max > DRIFT_PPM_LIMIT {
            return Err(invalid(
                "clocks.drift_ppm_max",
                format!("{} is above the limit {DRIFT_PPM_LIMIT}", clocks.drift_ppm_max),
            ));
        }
        if let Some(drifts) = &clocks.drift_ppm {
            if drifts.len() != usize::from(count)
                || drifts.iter().any(|drift| drift.unsigned_abs() > DRIFT_PPM_LIMIT)
            {
                return Err(invalid(
                    "clocks.drift_ppm",
                    format!("want one drift per replica ({count}), each within {DRIFT_PPM_LIMIT}"),
                ));
            }
        }
        if let Some(liveness) = &self.liveness {
            if liveness.recover_within_ms == 0 || liveness.probe_interval_ms == 0 {
                return Err(invalid(
                    "liveness",
                    "recover_within_ms and probe_interval_ms must be above 0".to_owned(),
                ));
            }
        }
        Ok(())
    }

    /// Seconds after the first request at which the last scheduled fault (or scripted rule)
    /// ends; 0 when there is none.
    pub fn fault_phase_end(&self) -> f64 {
        let events = self.events.iter().map(FaultEvent::end);
        let start_us = self.start_us();
        let rules =
            self.schedule.iter().map(|rule| rule.end_us.saturating_sub(start_us) as f64 / 1e6);
        events.chain(rules).fold(0.0, f64::max)
    }

    /// Microseconds from the start of the run to the first request.
    pub fn start_us(&self) -> u64 {
        seconds_to_us(self.start_wait)
    }

    /// Microseconds from the start of the run to its end.
    pub fn end_us(&self) -> u64 {
        seconds_to_us(self.start_wait + self.lifetime + self.end_wait)
    }
}

/// Converts seconds to whole microseconds, rounding to nearest.
pub fn seconds_to_us(seconds: f64) -> u64 {
    (seconds * 1e6).round() as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Loaded, ScenarioError> {
        Scenario::parse(text, Path::new("test.json"))
    }

    #[test]
    fn a_minimal_scenario_gets_the_course_defaults() {
        let loaded = parse(r#"{"lifetime": 30, "replicas": 5, "requests": 100}"#).unwrap();
        let scenario = loaded.scenario;
        assert_eq!(scenario.mix, 0.8);
        assert_eq!(scenario.start_wait, 5.0);
        assert_eq!(scenario.end_wait, 2.0);
        assert_eq!(scenario.max_packets, 20_000);
        assert!(loaded.warnings.is_empty());
    }

    #[test]
    fn errors_name_the_field_line_and_column() {
        let text = concat!(
            "{\"lifetime\": 30, \"replicas\": 5, \"requests\": 100,\n \"events\": [",
            "{\"type\": \"part_easy\", \"time\": 5}, {\"type\": \"kil_leader\", \"time\": 6}]}"
        );
        let error = parse(text).unwrap_err().to_string();
        assert!(error.starts_with("test.json:2:"), "{error}");
        assert!(error.contains("field `events[1].type`"), "{error}");
        assert!(error.contains("unknown variant `kil_leader`"), "{error}");

        let error = parse("{\"lifetime\": 30, \"replicas\": 5, \"requests\": 1, \"dorps\": 0.1}")
            .unwrap_err()
            .to_string();
        assert!(error.contains("unknown field `dorps`"), "{error}");

        let error = parse("{\"lifetime\": 30, \"replicas\": 5, \"requests\": 1,\n\"drops\": 1.5}")
            .unwrap_err()
            .to_string();
        assert!(error.starts_with("test.json:2:"), "{error}");
        assert!(error.contains("field `drops`: 1.5 is out of range"), "{error}");

        let error = parse("{\"lifetime\": \"long\", \"replicas\": 5, \"requests\": 1}")
            .unwrap_err()
            .to_string();
        assert!(error.contains("field `lifetime`: invalid type: string"), "{error}");

        let error = parse("{\"lifetime\": 30, \"replicas\": 5}").unwrap_err().to_string();
        assert!(error.contains("missing field `requests`"), "{error}");

        let error = parse("{\"lifetime\": 30, \"replicas\": 5, \"requests\": 1} x").unwrap_err();
        assert!(error.to_string().contains("trailing characters"), "{error}");
    }

    #[test]
    fn fields_that_do_not_fit_together_are_named() {
        let text = r#"{"lifetime": 30, "replicas": 5, "requests": 1,
            "network": {"delay_us_min": 500, "delay_us_max": 100}}"#;
        let error = parse(text).unwrap_err().to_string();
        assert!(error.contains("field `network.delay_us_min`"), "{error}");
    }

    #[test]
    fn fault_fields_are_checked_against_their_type() {
        let base = r#""lifetime": 30, "replicas": 5, "requests": 1"#;
        let with_events = |events: &str| parse(&format!("{{{base}, \"events\": [{events}]}}"));
        let error = with_events(r#"{"type": "kill_leader", "time": 1, "target": "leader"}"#)
            .unwrap_err()
            .to_string();
        assert!(error.contains("field `events[0]`"), "{error}");
        assert!(error.contains("`target` does not apply to `kill_leader`"), "{error}");
        let error = with_events(r#"{"type": "crash", "time": 1, "target": "leeder"}"#)
            .unwrap_err()
            .to_string();
        assert!(error.contains("field `events[0].target`: invalid target"), "{error}");
        let error = with_events(r#"{"type": "partition", "time": 1, "shape": "donut"}"#)
            .unwrap_err()
            .to_string();
        assert!(error.contains("unknown variant `donut`"), "{error}");
        let error = with_events(r#"{"type": "cut_link", "time": 1, "from": "0001"}"#)
            .unwrap_err()
            .to_string();
        assert!(error.contains("needs both `from` and `to`"), "{error}");
        let error = with_events(r#"{"type": "crash", "time": 1, "target": "0009"}"#)
            .unwrap_err()
            .to_string();
        assert!(error.contains("field `events`: events[0] names a replica beyond"), "{error}");
        let event =
            r#"{"type": "partition", "time": 1, "shape": "ring", "duration": 2, "flap": 0.5}"#;
        let loaded = with_events(event).unwrap();
        assert_eq!(loaded.scenario.events[0].shape, Some(Shape::Ring));
        assert_eq!(loaded.scenario.fault_phase_end(), 3.0);
    }

    #[test]
    fn new_sections_are_strict_and_default_to_off() {
        let loaded = parse(r#"{"lifetime": 30, "replicas": 5, "requests": 1}"#).unwrap();
        let scenario = loaded.scenario;
        assert!(!scenario.swarm && scenario.liveness.is_none() && scenario.schedule.is_empty());
        assert_eq!(scenario.network.distribution, Distribution::Uniform);
        assert_eq!(scenario.network.duplicate_ratio, 0.0);
        assert_eq!(scenario.clocks.drift_ppm_max, 0);
        let error = parse(
            r#"{"lifetime": 30, "replicas": 5, "requests": 1,
            "clocks": {"drift_ppm": [1, 2]}}"#,
        )
        .unwrap_err()
        .to_string();
        assert!(error.contains("field `clocks.drift_ppm`"), "{error}");
        let error = parse(
            r#"{"lifetime": 30, "replicas": 5, "requests": 1,
            "schedule": [{"action": "delay", "start_us": 5, "end_us": 9}]}"#,
        )
        .unwrap_err()
        .to_string();
        assert!(error.contains("schedule[0]: delay_us must be above 0"), "{error}");
        let error = parse(
            r#"{"lifetime": 30, "replicas": 5, "requests": 1,
            "liveness": {"recover_within_ms": 100, "probe_ms": 5}}"#,
        )
        .unwrap_err()
        .to_string();
        assert!(error.contains("unknown field `probe_ms`"), "{error}");
    }

    #[test]
    fn the_misplaced_course_field_is_accepted_with_a_warning() {
        let text = r#"{"lifetime": 30, "replicas": 5, "requests": 1,
            "maximum_get_generation_fail_fraction": 0.2}"#;
        let loaded = parse(text).unwrap();
        assert_eq!(loaded.warnings.len(), 1);
        assert!(loaded.warnings[0].contains("maximum_get_generation_fail_fraction"));
    }
}
