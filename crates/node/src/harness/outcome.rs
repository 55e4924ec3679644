//! What one run recorded, the course's pass rules (PROTOCOL.md section 6) and its four
//! scored figures with their tiers.

use std::fmt::Write as _;
use std::time::Duration;

use replica::NodeId;

use super::course::CourseConfig;

/// The record of one run.
#[derive(Clone, Debug, Default)]
pub struct Outcome {
    /// Believed leaders, in the order they were first believed.
    pub leaders: Vec<NodeId>,
    /// Events as they were applied.
    pub events: Vec<String>,
    /// Replicas the harness killed.
    pub killed: Vec<NodeId>,
    /// Replicas that exited on their own, with their exit status.
    pub died: Vec<String>,
    /// Replica-to-replica messages (a broadcast counts `replicas - 1`).
    pub total_msgs: u64,
    /// Copies dropped by loss or partition.
    pub dropped_msgs: u64,
    /// Get requests sent, retries included.
    pub get_requests: u64,
    /// Put requests sent, retries included.
    pub put_requests: u64,
    /// Operations that were gets.
    pub generated_gets: u64,
    /// Operations that were puts (failed get generations included).
    pub generated_puts: u64,
    /// Gets that became puts because the client had no key yet.
    pub failed_get_generations: u64,
    /// Puts answered `ok`.
    pub puts_acked: u64,
    /// `ok` replies after the last event was applied (all of them if there are none).
    pub oks_after_last_event: u64,
    /// `ok` replies for a MID already answered `ok`.
    pub duplicates: u64,
    /// `redirect` and `fail` replies.
    pub redirects: u64,
    /// `fail` replies.
    pub fail_replies: u64,
    /// Gets outstanding at the end.
    pub unanswered_gets: u64,
    /// Puts outstanding at the end.
    pub unanswered_puts: u64,
    /// Gets whose `ok` carried a value no linearization allows.
    pub incorrect_gets: u64,
    /// Every incorrect message or answer, described.
    pub incorrect: Vec<String>,
    /// Reply latencies (ok, redirect and fail alike).
    pub latencies: Vec<Duration>,
    /// Anything else worth printing.
    pub notes: Vec<String>,
}

/// The four scored figures and their tiers.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Figures {
    /// `total_msgs`, `failures`, `duplicates`, `median_latency` (seconds).
    pub values: [f64; 4],
    /// Tier per figure: 0 bonus, 1 full credit, 2 partial, 3 none.
    pub tiers: [u8; 4],
}

/// The figures' names, in order.
pub const FIGURE_NAMES: [&str; 4] = ["total_msgs", "failures", "duplicates", "median_latency"];

impl Outcome {
    /// The median latency as the course takes it: element `n / 2` of the sorted samples.
    pub fn median_latency(&self) -> Option<Duration> {
        let mut sorted = self.latencies.clone();
        sorted.sort_unstable();
        sorted.get(sorted.len() / 2).copied()
    }

    /// Fail replies plus unanswered requests.
    pub fn failures(&self) -> u64 {
        self.fail_replies + self.unanswered_gets + self.unanswered_puts
    }

    /// Every pass rule the run broke; empty when it passes.
    pub fn violations(&self, config: &CourseConfig) -> Vec<String> {
        let mut broken: Vec<String> =
            self.incorrect.iter().map(|reason| format!("incorrect: {reason}")).collect();
        for died in &self.died {
            broken.push(format!("replica died: {died}"));
        }
        if self.puts_acked == 0 {
            broken.push("no put was acknowledged".to_owned());
        }
        let tests = &config.tests;
        let gets = self.generated_gets.max(1) as f64;
        let puts = self.generated_puts.max(1) as f64;
        let fraction_checks = [
            (
                "unanswered gets",
                self.unanswered_gets as f64 / gets,
                tests.maximum_get_fail_fraction,
            ),
            (
                "unanswered puts",
                self.unanswered_puts as f64 / puts,
                tests.maximum_put_fail_fraction,
            ),
            (
                "failed get generations",
                self.failed_get_generations as f64 / gets,
                tests.maximum_get_generation_fail_fraction,
            ),
        ];
        for (what, fraction, maximum) in fraction_checks {
            if fraction > maximum {
                broken.push(format!("{what}: fraction {fraction:.3} above {maximum}"));
            }
        }
        let floor = config.message_floor();
        if config.floor_applies && (self.total_msgs as f64) < floor {
            broken.push(format!("total messages {} below the floor {floor}", self.total_msgs));
        }
        broken
    }

    /// The four figures and their tiers against the config's thresholds.
    pub fn figures(&self, config: &CourseConfig) -> Figures {
        let median_s = self.median_latency().map_or(f64::INFINITY, |median| median.as_secs_f64());
        let values =
            [self.total_msgs as f64, self.failures() as f64, self.duplicates as f64, median_s];
        let benchmarks = &config.tests.benchmarks;
        let thresholds = [
            benchmarks.total_msgs,
            benchmarks.failures,
            benchmarks.duplicates,
            benchmarks.median_latency,
        ];
        let mut tiers = [3u8; 4];
        for (tier, (value, limits)) in tiers.iter_mut().zip(values.iter().zip(thresholds)) {
            *tier = limits.iter().position(|limit| value < limit).map_or(3, |at| at as u8);
        }
        Figures { values, tiers }
    }

    /// A human-readable summary, one fact per line.
    pub fn render(&self, config: &CourseConfig) -> String {
        let mut text = String::new();
        let leaders: Vec<String> = self.leaders.iter().map(NodeId::to_string).collect();
        let killed: Vec<String> = self.killed.iter().map(NodeId::to_string).collect();
        let _ = writeln!(text, "leaders      {}", leaders.join(" "));
        let _ = writeln!(text, "events       {}", self.events.join("; "));
        let _ = writeln!(
            text,
            "replicas     killed [{}], died [{}]",
            killed.join(" "),
            self.died.join(", ")
        );
        let _ =
            writeln!(text, "messages     {} total, {} dropped", self.total_msgs, self.dropped_msgs);
        let _ = writeln!(
            text,
            "requests     {} gets, {} puts sent; {} redirects ({} fail); {} puts acked; \
             {} duplicates; unanswered {} gets, {} puts",
            self.get_requests,
            self.put_requests,
            self.redirects,
            self.fail_replies,
            self.puts_acked,
            self.duplicates,
            self.unanswered_gets,
            self.unanswered_puts
        );
        let mean_ms = if self.latencies.is_empty() {
            0.0
        } else {
            self.latencies.iter().map(Duration::as_secs_f64).sum::<f64>() * 1e3
                / self.latencies.len() as f64
        };
        let median_ms = self.median_latency().map_or(f64::NAN, |m| m.as_secs_f64() * 1e3);
        let _ = writeln!(
            text,
            "latency      median {median_ms:.3} ms, mean {mean_ms:.3} ms ({} samples)",
            self.latencies.len()
        );
        if !config.floor_applies {
            let _ = writeln!(
                text,
                "note         message floor {} not applied to a time-scaled run",
                config.message_floor()
            );
        }
        for note in &self.notes {
            let _ = writeln!(text, "note         {note}");
        }
        let figures = self.figures(config);
        for (name, (value, tier)) in
            FIGURE_NAMES.iter().zip(figures.values.iter().zip(figures.tiers))
        {
            let _ = writeln!(
                text,
                "figure       {name:<15} {value:<10} tier {tier} ({})",
                tier_name(tier)
            );
        }
        let broken = self.violations(config);
        if broken.is_empty() {
            let _ = writeln!(text, "checks       ok");
        }
        for violation in &broken {
            let _ = writeln!(text, "FAILED       {violation}");
        }
        let _ = writeln!(text, "result       {}", if broken.is_empty() { "PASS" } else { "FAIL" });
        text
    }
}

/// What a tier earns.
pub fn tier_name(tier: u8) -> &'static str {
    match tier {
        0 => "bonus",
        1 => "full credit",
        2 => "partial",
        _ => "no credit",
    }
}
