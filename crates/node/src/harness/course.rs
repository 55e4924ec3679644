//! The course's config files (PROTOCOL.md section 5), read as they are, with the defaults
//! the course simulator applies and the time scale our harness adds.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::Deserialize;

/// Why a config could not be used.
#[derive(Debug)]
pub enum ConfigError {
    /// It could not be read.
    Io {
        /// The file.
        path: PathBuf,
        /// What failed.
        source: std::io::Error,
    },
    /// It is not a valid config.
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong, with line and column when the parser knows them.
        reason: String,
    },
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigError::Io { path, source } => write!(f, "{}: {source}", path.display()),
            ConfigError::Invalid { path, reason } => write!(f, "{}: {reason}", path.display()),
        }
    }
}

impl std::error::Error for ConfigError {}

/// One fault event.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    /// Kill the believed leader; clients forget it.
    KillLeader,
    /// Kill a random living replica that is not the believed leader.
    KillNonLeader,
    /// Partition with the believed leader in the majority.
    PartEasy,
    /// Partition with a random majority; clients forget the leader.
    PartHard,
    /// Heal the partition.
    PartEnd,
}

impl EventKind {
    /// The config's name for it.
    pub fn name(self) -> &'static str {
        match self {
            EventKind::KillLeader => "kill_leader",
            EventKind::KillNonLeader => "kill_non_leader",
            EventKind::PartEasy => "part_easy",
            EventKind::PartHard => "part_hard",
            EventKind::PartEnd => "part_end",
        }
    }
}

/// A scheduled event.
#[derive(Clone, Copy, Debug, PartialEq, Deserialize)]
pub struct Event {
    /// What happens.
    #[serde(rename = "type")]
    pub kind: EventKind,
    /// Seconds from the first request.
    #[serde(rename = "time")]
    pub time_s: f64,
}

/// Three thresholds `[bonus, full, partial]` per figure; below each (strictly) earns it.
#[derive(Clone, Copy, Debug, PartialEq, Deserialize)]
pub struct Benchmarks {
    /// Replica-to-replica messages.
    pub total_msgs: [f64; 3],
    /// Fail replies plus unanswered requests.
    pub failures: [f64; 3],
    /// Duplicate `ok` replies.
    pub duplicates: [f64; 3],
    /// Median latency in seconds.
    pub median_latency: [f64; 3],
}

/// The `tests` section.
#[derive(Clone, Copy, Debug, PartialEq, Deserialize)]
pub struct Tests {
    /// The four figures' thresholds.
    pub benchmarks: Benchmarks,
    /// Most unanswered gets, as a fraction of generated gets.
    #[serde(default = "half")]
    pub maximum_get_fail_fraction: f64,
    /// Most unanswered puts, as a fraction of generated puts.
    #[serde(default = "half")]
    pub maximum_put_fail_fraction: f64,
    /// Most failed get generations, as a fraction of generated gets.
    #[serde(default = "tenth")]
    pub maximum_get_generation_fail_fraction: f64,
    /// Sets the message floor (see [`CourseConfig::message_floor`]).
    #[serde(default = "half")]
    pub maximum_appends_batched_fraction: f64,
}

/// A course config, with the course simulator's defaults filled in.
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct CourseConfig {
    /// Seconds of client traffic.
    #[serde(rename = "lifetime")]
    pub lifetime_s: f64,
    /// Number of replicas.
    pub replicas: u16,
    /// Number of client operations, spread evenly over the lifetime.
    pub requests: u64,
    /// Seed of the random choices, if the config fixes one.
    #[serde(default)]
    pub seed: Option<u64>,
    /// Probability that an operation is a get.
    #[serde(default = "default_mix")]
    pub mix: f64,
    /// Seconds from launch to the first request.
    #[serde(default = "default_start_wait_s", rename = "start_wait")]
    pub start_wait_s: f64,
    /// Seconds from the last request to the end.
    #[serde(default = "default_end_wait_s", rename = "end_wait")]
    pub end_wait_s: f64,
    /// Probability of dropping each replica-to-replica copy.
    #[serde(default)]
    pub drops: f64,
    /// The run stops when the message total reaches this.
    #[serde(default = "default_max_packets")]
    pub max_packets: u64,
    /// Faults, in time order.
    #[serde(default)]
    pub events: Vec<Event>,
    /// Thresholds and check fractions.
    pub tests: Tests,
    /// Whether the message floor is a pass rule: not for a time-scaled run, whose higher
    /// request rate lets more entries share one AppendEntries than the floor assumes.
    #[serde(skip, default = "yes")]
    pub floor_applies: bool,
    /// Some shipped configs put this at the top level, where the course ignores it.
    #[serde(default)]
    maximum_get_generation_fail_fraction: Option<f64>,
}

/// The shortest start wait a time-scaled run keeps: the first election takes up to 2.4 s.
pub const START_WAIT_S_MIN: f64 = 3.0;

fn yes() -> bool {
    true
}
fn half() -> f64 {
    0.5
}
fn tenth() -> f64 {
    0.1
}
fn default_mix() -> f64 {
    0.8
}
fn default_start_wait_s() -> f64 {
    5.0
}
fn default_end_wait_s() -> f64 {
    2.0
}
fn default_max_packets() -> u64 {
    20_000
}

impl CourseConfig {
    /// Reads a config file; also returns warnings (ignored fields) for the caller to print.
    pub fn read(path: &Path) -> Result<(CourseConfig, Vec<String>), ConfigError> {
        let text = std::fs::read_to_string(path)
            .map_err(|source| ConfigError::Io { path: path.to_owned(), source })?;
        let invalid = |reason: String| ConfigError::Invalid { path: path.to_owned(), reason };
        let config: CourseConfig =
            serde_json::from_str(&text).map_err(|error| invalid(error.to_string()))?;
        if config.lifetime_s < 5.0 || !(3..=21).contains(&config.replicas) {
            return Err(invalid("lifetime must be at least 5 and replicas 3 to 21".to_owned()));
        }
        if !(0.0..=1.0).contains(&config.mix) || !(0.0..=1.0).contains(&config.drops) {
            return Err(invalid("mix and drops must be probabilities".to_owned()));
        }
        let mut warnings = Vec::new();
        if config.maximum_get_generation_fail_fraction.is_some() {
            warnings.push(format!(
                "{}: top-level maximum_get_generation_fail_fraction is ignored (as the course \
                 does); the default {} applies",
                path.display(),
                config.tests.maximum_get_generation_fail_fraction
            ));
        }
        Ok((config, warnings))
    }

    /// The config with every duration (lifetime, waits, event times) multiplied by `scale`.
    /// Request count and probabilities stay, so the request rate grows as time shrinks. The
    /// start wait is not shrunk below [`START_WAIT_S_MIN`]: the replicas' election timeouts
    /// are real time, and requests before the first leader would skew the run.
    pub fn time_scaled(&self, scale: f64) -> CourseConfig {
        let mut config = self.clone();
        config.floor_applies &= scale == 1.0;
        config.lifetime_s *= scale;
        config.start_wait_s =
            (config.start_wait_s * scale).max(START_WAIT_S_MIN.min(config.start_wait_s));
        config.end_wait_s *= scale;
        for event in &mut config.events {
            event.time_s *= scale;
        }
        config
    }

    /// The fewest messages a passing run may send: designs that skip replication fall below.
    pub fn message_floor(&self) -> f64 {
        self.requests as f64
            * f64::from(self.replicas)
            * (1.0 - self.mix)
            * (1.0 - self.tests.maximum_appends_batched_fraction)
    }
}
