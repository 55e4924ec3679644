//! The outcome of one run: verdicts, figures, the course's scores, the printed summary and
//! the JSON report. Field meanings are documented in `docs/reports.md`.

use std::fmt::Write as _;

use linearizability::{KvOperation, Verdict};
use serde::Serialize;

use crate::invariants::LeaderChange;
use crate::liveness::LivenessReport;
use crate::scenario::{Benchmarks, Scenario};
use crate::swarm::Mix;
use crate::workload::RequestStats;
use crate::world::{Failure, FamilyUse, FaultCounters, FaultRecord, MessageStats, Outcome};

/// The report format's version; bumped when a field changes meaning or goes away.
pub const REPORT_VERSION: u32 = 1;

/// The class of a run's result; each has its own exit code.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Class {
    /// Every invariant held and the history is linearizable.
    Pass,
    /// A Raft safety invariant broke (see `invariant_violation`).
    Safety,
    /// The client history is not linearizable.
    Linearizability,
    /// The cluster did not recover once the faults ended.
    Liveness,
    /// The checker spent its budget without a verdict.
    CheckerUnknown,
}

impl Class {
    /// The process exit code for this class. Bad input is 2 and a harness error 6.
    pub fn exit_code(self) -> u8 {
        match self {
            Class::Pass => 0,
            Class::Safety => 1,
            Class::Linearizability => 3,
            Class::Liveness => 4,
            Class::CheckerUnknown => 5,
        }
    }

    /// The name used in reports and summaries.
    pub fn name(self) -> &'static str {
        match self {
            Class::Pass => "pass",
            Class::Safety => "safety",
            Class::Linearizability => "linearizability",
            Class::Liveness => "liveness",
            Class::CheckerUnknown => "checker_unknown",
        }
    }
}

/// Reply latencies in virtual microseconds (ok, fail and redirect replies alike).
#[derive(Clone, Debug, Default, Serialize)]
pub struct Latency {
    /// Number of replies.
    pub samples: usize,
    /// The course's median: element `n/2` of the sorted samples.
    pub median_us: u64,
    /// Element `n*99/100` of the sorted samples.
    pub p99_us: u64,
    /// The largest sample.
    pub max_us: u64,
}

impl Latency {
    fn of(samples: &[u64]) -> Latency {
        let mut sorted = samples.to_vec();
        sorted.sort_unstable();
        let at = |i: usize| sorted.get(i).copied().unwrap_or(0);
        Latency {
            samples: sorted.len(),
            median_us: at(sorted.len() / 2),
            p99_us: at(sorted.len() * 99 / 100),
            max_us: sorted.last().copied().unwrap_or(0),
        }
    }
}

/// One of the course's four scored figures with its tier.
#[derive(Clone, Debug, Serialize)]
pub struct Figure {
    /// The figure's value (seconds for latency).
    pub value: f64,
    /// The scenario's three thresholds.
    pub thresholds: [f64; 3],
    /// 0 (bonus), 1 (full credit), 2 (partial) or 3 (none).
    pub tier: u8,
}

impl Figure {
    fn new(value: f64, thresholds: [f64; 3]) -> Figure {
        let tier = thresholds.iter().position(|&t| value < t).unwrap_or(3) as u8;
        Figure { value, thresholds, tier }
    }
}

/// The course's four figures, computed the course's way (PROTOCOL.md section 6).
#[derive(Clone, Debug, Serialize)]
pub struct Course {
    /// Replica-to-replica messages.
    pub total_msgs: Figure,
    /// Fail replies plus unanswered requests.
    pub failures: Figure,
    /// Duplicate ok replies.
    pub duplicates: Figure,
    /// Median latency in seconds.
    pub median_latency: Figure,
}

impl Course {
    fn new(
        benchmarks: &Benchmarks,
        messages: &MessageStats,
        requests: &RequestStats,
        latency: &Latency,
    ) -> Course {
        let failures = requests.failed + requests.unanswered_gets + requests.unanswered_puts;
        Course {
            total_msgs: Figure::new(messages.sent as f64, benchmarks.total_msgs),
            failures: Figure::new(failures as f64, benchmarks.failures),
            duplicates: Figure::new(requests.duplicates as f64, benchmarks.duplicates),
            median_latency: match latency.samples {
                // No reply, no latency: scored as no credit, never as the bonus of a zero.
                0 => Figure { value: f64::NAN, thresholds: benchmarks.median_latency, tier: 3 },
                _ => Figure::new(latency.median_us as f64 / 1e6, benchmarks.median_latency),
            },
        }
    }
}

/// Everything about one run; serialized as the JSON report.
#[derive(Clone, Debug, Serialize)]
pub struct RunReport {
    /// [`REPORT_VERSION`].
    pub version: u32,
    /// The scenario file as given on the command line.
    pub scenario: String,
    /// The scenario's description.
    pub description: Option<String>,
    /// The seed.
    pub seed: u64,
    /// The result class.
    pub class: Class,
    /// The fold of every event, as 16 hex digits: equal for equal runs.
    pub trace_hash: String,
    /// Events handled.
    pub events: u64,
    /// Virtual time at the end.
    pub end_us: u64,
    /// Why the run ended before the scenario's end, if it did.
    pub stopped_early: Option<String>,
    /// Number of replicas.
    pub replicas: u16,
    /// Leaders in order.
    pub leaders: Vec<LeaderChange>,
    /// Faults as they happened.
    pub faults: Vec<FaultRecord>,
    /// Replica-to-replica message counts.
    pub messages: MessageStats,
    /// Client request counts.
    pub requests: RequestStats,
    /// Reply latencies.
    pub latency: Latency,
    /// The first broken invariant, if any.
    pub invariant_violation: Option<Failure>,
    /// The linearizability verdict per key.
    pub linearizability: linearizability::Report,
    /// The course's figures, when the scenario carries thresholds.
    pub course: Option<Course>,
    /// Warnings from reading the scenario.
    pub warnings: Vec<String>,
    /// The command that replays this run.
    pub replay: String,
    /// How often each fault of the fault library fired.
    pub fault_counters: FaultCounters,
    /// Each fault family: whether the run configured it and how often it fired.
    pub fault_families: Vec<FamilyUse>,
    /// Families configured but never fired: a fault that was silently inert.
    pub inert_families: Vec<&'static str>,
    /// Each replica's clock drift, parts per million (all zero without `clocks`).
    pub clock_drift_ppm: Vec<i64>,
    /// Swarm mode's choice of families and strengths for this seed, in swarm mode.
    pub swarm: Option<Mix>,
    /// The liveness oracle's verdict, when the scenario asks for one.
    pub liveness: Option<LivenessReport>,
    /// Why the run counts as unavailable (a liveness failure without the oracle): clients
    /// sent requests and none was answered ok. `None` otherwise.
    pub unavailable: Option<String>,
    /// The client history that was checked.
    pub history: Vec<KvOperation>,
}

impl RunReport {
    /// Assembles the report of a finished run and checks its history.
    pub fn new(
        path: &str,
        scenario: &Scenario,
        warnings: Vec<String>,
        seed: u64,
        outcome: Outcome,
    ) -> RunReport {
        let history = outcome.workload.history();
        let candidates = apply_order(&history, &outcome.workload, &outcome.applied_mids);
        let linearizability = linearizability::check_kv_with_candidates(
            &history,
            &candidates,
            &linearizability::Budget::default(),
        );
        // A run in which clients sent requests and none was ever answered ok did not work,
        // whatever else held: that is a liveness failure even without the oracle.
        let requests = &outcome.requests;
        let unavailable = (requests.requests > 0 && requests.ok == 0).then(|| {
            format!(
                "requests unanswered: none of {} client requests was answered ok",
                requests.requests
            )
        });
        let live =
            !outcome.liveness.as_ref().is_some_and(LivenessReport::failed) && unavailable.is_none();
        // A safety failure outranks everything; a definite liveness failure outranks a
        // checker that could not decide.
        let class = match (&outcome.failure, linearizability.verdict, live) {
            (Some(_), _, _) => Class::Safety,
            (None, Verdict::NotLinearizable, _) => Class::Linearizability,
            (None, _, false) => Class::Liveness,
            (None, Verdict::Unknown, true) => Class::CheckerUnknown,
            (None, Verdict::Linearizable, true) => Class::Pass,
        };
        let inert_families = outcome
            .families
            .iter()
            .filter(|family| family.configured && family.fired == 0)
            .map(|family| family.family)
            .collect();
        let latency = Latency::of(&outcome.latencies_us);
        let course = scenario.tests.as_ref().map(|tests| {
            Course::new(&tests.benchmarks, &outcome.messages, &outcome.requests, &latency)
        });
        RunReport {
            version: REPORT_VERSION,
            scenario: path.to_owned(),
            description: scenario.description.clone(),
            seed,
            class,
            trace_hash: format!("{:016x}", outcome.trace_hash),
            events: outcome.events,
            end_us: outcome.end_us,
            stopped_early: outcome.stopped_early,
            replicas: scenario.replicas,
            leaders: outcome.leaders,
            faults: outcome.faults,
            messages: outcome.messages,
            requests: outcome.requests,
            latency,
            invariant_violation: outcome.failure,
            linearizability,
            course,
            warnings,
            replay: replay_command(path, seed, scenario.swarm),
            fault_counters: outcome.counters,
            fault_families: outcome.families,
            inert_families,
            clock_drift_ppm: outcome.clock_drift_ppm,
            swarm: outcome.swarm,
            liveness: outcome.liveness,
            unavailable,
            history,
        }
    }

    /// The human-readable summary `sim run` prints.
    pub fn summary(&self) -> String {
        let mut out = String::new();
        let seconds = |us: u64| us as f64 / 1e6;
        let _ = writeln!(out, "scenario     {} (seed {})", self.scenario, self.seed);
        if let Some(description) = &self.description {
            let _ = writeln!(out, "             {description}");
        }
        let leaders: Vec<String> = self
            .leaders
            .iter()
            .map(|l| format!("{} (term {}, {:.3} s)", l.leader, l.term, seconds(l.time_us)))
            .collect();
        let _ = writeln!(
            out,
            "leaders      {}",
            if leaders.is_empty() { "none".to_owned() } else { leaders.join(", ") }
        );
        for fault in &self.faults {
            let _ = writeln!(
                out,
                "fault        {:.3} s {}: {}",
                seconds(fault.time_us),
                fault.kind,
                fault.detail
            );
        }
        if let Some(mix) = &self.swarm {
            let on: Vec<String> = mix
                .iter()
                .filter(|(_, chosen)| chosen.as_str() != "off")
                .map(|(family, chosen)| format!("{family} ({chosen})"))
                .collect();
            let shown = if on.is_empty() { "every family off".to_owned() } else { on.join(", ") };
            let _ = writeln!(out, "swarm        {shown}");
        }
        let fired: Vec<String> = self
            .fault_families
            .iter()
            .filter(|family| family.configured)
            .map(|family| format!("{} {}", family.family, family.fired))
            .collect();
        if !fired.is_empty() {
            let _ = writeln!(out, "faults fired {}", fired.join(", "));
        }
        if !self.inert_families.is_empty() {
            let _ = writeln!(
                out,
                "inert        configured but never fired: {}",
                self.inert_families.join(", ")
            );
        }
        let m = &self.messages;
        let _ = writeln!(
            out,
            "messages     {} sent, {} dropped ({} by loss, {} by partition), {} to dead replicas",
            m.sent,
            m.dropped_by_loss + m.dropped_by_partition,
            m.dropped_by_loss,
            m.dropped_by_partition,
            m.lost_to_dead
        );
        let r = &self.requests;
        let _ = writeln!(
            out,
            "requests     {} operations, {} requests: {} ok, {} failed, {} redirected, \
             {} unanswered{}",
            r.operations,
            r.requests,
            r.ok,
            r.failed,
            r.redirected,
            r.unanswered_gets + r.unanswered_puts,
            match r.timed_out {
                0 => String::new(),
                n => format!(" ({n} of them timed out at the client and were sent again)"),
            }
        );
        if let Some(reason) = &self.unavailable {
            let _ = writeln!(out, "available    NO: {reason}");
        }
        let _ = writeln!(
            out,
            "latency      median {:.3} ms, p99 {:.3} ms, max {:.3} ms (virtual, {} replies)",
            self.latency.median_us as f64 / 1e3,
            self.latency.p99_us as f64 / 1e3,
            self.latency.max_us as f64 / 1e3,
            self.latency.samples
        );
        let invariants = match &self.invariant_violation {
            None => format!("ok ({} events checked)", self.events),
            Some(failure) => format!(
                "VIOLATED at event {} ({:.6} s): {}",
                failure.event,
                seconds(failure.time_us),
                failure.violation
            ),
        };
        let _ = writeln!(out, "invariants   {invariants}");
        let _ = writeln!(out, "linearizable {}", self.linearizability_line());
        for key in &self.linearizability.keys {
            if let Some(violation) = &key.violation {
                let _ = writeln!(out, "             key {}: {}", key.key, violation.explanation);
                let ops: Vec<String> = violation
                    .operation_ids
                    .iter()
                    .filter_map(|&id| self.history.get(id as usize))
                    .map(describe_operation)
                    .collect();
                for op in ops {
                    let _ = writeln!(out, "               {op}");
                }
            }
        }
        if let Some(course) = &self.course {
            let figure = |name: &str, f: &Figure| format!("{name} {} (tier {})", f.value, f.tier);
            let _ = writeln!(
                out,
                "course       {}, {}, {}, {}",
                figure("total_msgs", &course.total_msgs),
                figure("failures", &course.failures),
                figure("duplicates", &course.duplicates),
                figure("median_latency", &course.median_latency)
            );
        }
        if let Some(liveness) = &self.liveness {
            let _ = writeln!(out, "liveness     {}", liveness_line(liveness));
        }
        if let Some(reason) = &self.stopped_early {
            let _ = writeln!(out, "stopped      early: {reason}");
        }
        let _ = writeln!(out, "trace hash   {}", self.trace_hash);
        let verdict = match self.class {
            Class::Pass => "PASS",
            Class::Safety => "FAIL (safety: an invariant broke)",
            Class::Linearizability => "FAIL (linearizability: the history is not linearizable)",
            Class::Liveness => "FAIL (liveness: the cluster did not recover)",
            Class::CheckerUnknown => "UNKNOWN (checker budget spent)",
        };
        let _ = writeln!(out, "result       {verdict}");
        out
    }

    fn linearizability_line(&self) -> String {
        let keys = &self.linearizability.keys;
        let steps: u64 = keys.iter().map(|k| k.steps).sum();
        let count = |verdict| keys.iter().filter(|k| k.verdict == verdict).count();
        match self.linearizability.verdict {
            Verdict::Linearizable => format!("yes ({} keys, {steps} search steps)", keys.len()),
            Verdict::NotLinearizable => format!(
                "NO: {} of {} keys not linearizable",
                count(Verdict::NotLinearizable),
                keys.len()
            ),
            Verdict::Unknown => format!(
                "unknown: budget spent on {} of {} keys",
                count(Verdict::Unknown),
                keys.len()
            ),
        }
    }
}

/// The liveness oracle's verdict on one line.
fn liveness_line(liveness: &LivenessReport) -> String {
    let ms = |us: Option<u64>| us.map_or("-".to_owned(), |us| format!("{:.1} ms", us as f64 / 1e3));
    let heal_s = liveness.heal_us as f64 / 1e6;
    if let Some(reason) = &liveness.skipped {
        return format!("not judged (heal at {heal_s:.3} s): {reason}");
    }
    if let Some(diagnosis) = &liveness.diagnosis {
        let bound_ms = (liveness.deadline_us - liveness.heal_us) as f64 / 1e3;
        return format!("FAILED within {bound_ms:.0} ms of the heal at {heal_s:.3} s: {diagnosis}");
    }
    format!(
        "recovered {} after the heal at {heal_s:.3} s (leader {}, write {}, {} probes)",
        ms(liveness.recovered_after_us),
        ms(liveness.leader_after_us),
        ms(liveness.write_after_us),
        liveness.probes
    )
}

fn describe_operation(op: &KvOperation) -> String {
    let returned = match op.return_us {
        Some(us) => format!("{:.6} s", us as f64 / 1e6),
        None => "never".to_owned(),
    };
    format!(
        "op {} client {:04X}: {:?} -> {:?}, called {:.6} s, returned {returned}",
        op.id,
        op.client,
        op.input,
        op.outcome,
        op.call_us as f64 / 1e6
    )
}

/// The command that replays a run exactly. `--swarm` is spelled out even when the scenario
/// file turns swarm mode on itself, since it is harmless there and needed otherwise.
pub fn replay_command(path: &str, seed: u64, swarm: bool) -> String {
    let swarm = if swarm { " --swarm" } else { "" };
    format!("sim run {path} --seed {seed}{swarm}")
}

/// The servers' apply order per key, as history operation ids: the candidate linearization
/// the checker verifies in linear time before it searches. A put applied through two log
/// entries took effect at the first, so only first occurrences count.
fn apply_order(
    history: &[KvOperation],
    workload: &crate::workload::Workload,
    applied_mids: &[std::sync::Arc<str>],
) -> linearizability::Candidates {
    let by_mid: std::collections::BTreeMap<&str, &KvOperation> =
        history.iter().filter_map(|op| workload.mid_of(op.id).map(|mid| (mid, op))).collect();
    let mut seen = std::collections::BTreeSet::new();
    let mut candidates = linearizability::Candidates::new();
    for mid in applied_mids {
        let Some(op) = by_mid.get(&**mid) else { continue };
        if seen.insert(op.id) {
            candidates.entry(op.key.clone()).or_default().push(op.id);
        }
    }
    candidates
}
