//! The scenario format: what a run simulates.
//!
//! A scenario is a JSON object. Its core fields are those of the course's configs
//! (`../shared/cs3700/configs`), read unchanged and with the same meaning; our own
//! extensions (`description`, `network`, `timing`) are optional. Parsing is strict: an
//! unknown field, a wrong type or a value out of range is an error naming the field, line
//! and column. The field reference is `docs/scenarios.md`.

use std::fmt;
use std::path::{Path, PathBuf};

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
}

/// One scheduled fault.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultEvent {
    /// What happens.
    #[serde(rename = "type")]
    pub kind: FaultKind,
    /// Seconds after the first request.
    #[serde(deserialize_with = "seconds")]
    pub time: f64,
}

/// The course's five faults (PROTOCOL.md section 5).
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
        }
    }
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

/// Per-message delay: uniform between the bounds, in virtual microseconds.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Network {
    /// Smallest delay.
    #[serde(default = "default_delay_us_min")]
    pub delay_us_min: u64,
    /// Largest delay.
    #[serde(default = "default_delay_us_max")]
    pub delay_us_max: u64,
}

impl Default for Network {
    fn default() -> Self {
        Network { delay_us_min: default_delay_us_min(), delay_us_max: default_delay_us_max() }
    }
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
}

impl Default for Timing {
    fn default() -> Self {
        Timing {
            election_timeout_ms_min: default_election_timeout_ms_min(),
            election_timeout_ms_max: default_election_timeout_ms_max(),
            heartbeat_interval_ms: default_heartbeat_interval_ms(),
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

fn seconds<'de, D: Deserializer<'de>>(deserializer: D) -> Result<f64, D::Error> {
    let value = f64::deserialize(deserializer)?;
    if !value.is_finite() || value < 0.0 || value > 1e6 {
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
        if self.requests == 0 {
            return Err(invalid("requests", "must be at least 1".to_owned()));
        }
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
        let text = "{\"lifetime\": 30, \"replicas\": 5, \"requests\": 100,\n \"events\": [{\"type\": \"part_easy\", \"time\": 5}, {\"type\": \"kil_leader\", \"time\": 6}]}";
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
    fn the_misplaced_course_field_is_accepted_with_a_warning() {
        let text = r#"{"lifetime": 30, "replicas": 5, "requests": 1,
            "maximum_get_generation_fail_fraction": 0.2}"#;
        let loaded = parse(text).unwrap();
        assert_eq!(loaded.warnings.len(), 1);
        assert!(loaded.warnings[0].contains("maximum_get_generation_fail_fraction"));
    }
}
