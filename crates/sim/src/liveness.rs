//! The liveness oracle: once the faults are over, the cluster must serve again.
//!
//! When the fault phase ends the world heals everything the fault library broke (partitions,
//! cut links, per-link loss, scripted rules, pauses, crashed replicas) and hands the oracle a
//! deadline. From then on the oracle sends probe writes (a fresh one every probe interval
//! until one is acknowledged) and watches three milestones: some live replica leads, a probe
//! write is acknowledged `ok`, and every live replica has committed as far as the cluster had
//! when that write was acknowledged. Reaching the last one is recovery; missing the deadline
//! is a liveness failure with a diagnosis. Unavailability during the faults is expected and
//! never judged. With fewer live replicas than a majority (the course's kills are
//! permanent), nothing can be required and the oracle says so instead of failing.

use replica::{NodeId, Role};
use serde::Serialize;

/// What the oracle sees of one replica after an event.
#[derive(Clone, Copy, Debug)]
pub struct Observed {
    /// Running (neither crashed, killed nor paused).
    pub up: bool,
    /// Its role.
    pub role: Role,
    /// Its term.
    pub term: u64,
    /// Its commit index.
    pub commit_index: u64,
}

/// The oracle's verdict, as reported.
#[derive(Clone, Debug, Default, Serialize)]
pub struct LivenessReport {
    /// Virtual time the fault phase ended and everything was healed.
    pub heal_us: u64,
    /// Virtual time by which the cluster had to recover.
    pub deadline_us: u64,
    /// Whether it did.
    pub recovered: bool,
    /// Why nothing was judged, if nothing was (too few live replicas, or an early stop).
    pub skipped: Option<String>,
    /// From the heal to the first live leader, microseconds.
    pub leader_after_us: Option<u64>,
    /// From the heal to the first acknowledged probe write, microseconds.
    pub write_after_us: Option<u64>,
    /// From the heal to every live replica having caught up: the time to recover.
    pub recovered_after_us: Option<u64>,
    /// Probe writes sent.
    pub probes: u64,
    /// On failure, why: no leader, term churn, log not catching up, or requests unanswered.
    pub diagnosis: Option<String>,
}

/// The oracle of one run.
#[derive(Clone, Debug)]
pub struct Oracle {
    report: LivenessReport,
    probe_interval_us: u64,
    /// The highest term any replica held at the heal.
    term_at_heal: u64,
    /// The commit index every live replica must reach, once a probe write is acknowledged.
    catch_up_to: Option<u64>,
    started: bool,
    finished: bool,
}

impl Oracle {
    /// An oracle that heals at `heal_us` and judges `recover_within_us` later.
    pub fn new(heal_us: u64, recover_within_us: u64, probe_interval_us: u64) -> Oracle {
        let report = LivenessReport {
            heal_us,
            deadline_us: heal_us + recover_within_us,
            ..LivenessReport::default()
        };
        Oracle {
            report,
            probe_interval_us,
            term_at_heal: 0,
            catch_up_to: None,
            started: false,
            finished: false,
        }
    }

    /// When the fault phase ends.
    pub fn heal_us(&self) -> u64 {
        self.report.heal_us
    }

    /// When the oracle judges.
    pub fn deadline_us(&self) -> u64 {
        self.report.deadline_us
    }

    /// How long to wait before sending another probe.
    pub fn probe_interval_us(&self) -> u64 {
        self.probe_interval_us
    }

    /// Starts watching, right after the heal. `killed` replicas never come back; returns
    /// whether there is anything to judge.
    pub fn start(&mut self, replicas: &[Observed], killed: usize) -> bool {
        self.started = true;
        self.term_at_heal = replicas.iter().map(|r| r.term).max().unwrap_or(0);
        let count = replicas.len();
        if count - killed <= count / 2 {
            self.report.skipped = Some(format!(
                "only {} of {count} replicas can run; a majority is needed",
                count - killed
            ));
            self.finished = true;
        }
        !self.finished
    }

    /// Whether the oracle still wants probes and observations.
    pub fn watching(&self) -> bool {
        self.started && !self.finished
    }

    /// Whether a probe write has been acknowledged.
    pub fn write_acknowledged(&self) -> bool {
        self.report.write_after_us.is_some()
    }

    /// Counts a probe sent.
    pub fn on_probe(&mut self) {
        self.report.probes += 1;
    }

    /// Looks at the cluster at `now_us`; `probe_ok_us` is when the first probe write was
    /// acknowledged, if one was.
    pub fn observe(&mut self, now_us: u64, replicas: &[Observed], probe_ok_us: Option<u64>) {
        if !self.watching() {
            return;
        }
        let since = |at_us: u64| at_us.saturating_sub(self.report.heal_us);
        if self.report.leader_after_us.is_none()
            && replicas.iter().any(|r| r.up && r.role == Role::Leader)
        {
            self.report.leader_after_us = Some(since(now_us));
        }
        if let (None, Some(ok_us)) = (self.report.write_after_us, probe_ok_us) {
            self.report.write_after_us = Some(since(ok_us));
            self.catch_up_to = replicas.iter().map(|r| r.commit_index).max();
        }
        if let Some(target) = self.catch_up_to {
            if replicas.iter().all(|r| !r.up || r.commit_index >= target) {
                self.report.recovered_after_us = Some(since(now_us));
                self.report.recovered = true;
                self.finished = true;
            }
        }
    }

    /// Judges at the deadline, if recovery has not already been seen; `outstanding_probes`
    /// is how many probe writes were never answered.
    pub fn judge(&mut self, replicas: &[Observed], outstanding_probes: u64) {
        if !self.watching() {
            return;
        }
        self.finished = true;
        let term_now = replicas.iter().map(|r| r.term).max().unwrap_or(0);
        let leader = replicas.iter().enumerate().find(|(_, r)| r.up && r.role == Role::Leader);
        let diagnosis = if let Some(target) = self.catch_up_to {
            let behind: Vec<String> = replicas
                .iter()
                .enumerate()
                .filter(|(_, r)| r.up && r.commit_index < target)
                .map(|(i, r)| format!("{} at {}", NodeId(i as u16), r.commit_index))
                .collect();
            format!(
                "log not catching up: commit index {target} reached a leader, but {}",
                behind.join(", ")
            )
        } else if leader.is_none() && term_now > self.term_at_heal + 3 {
            format!(
                "term churn: terms went from {} to {term_now} since the heal and no live \
                 replica leads",
                self.term_at_heal
            )
        } else if leader.is_none() {
            format!("no leader: no live replica leads (term {term_now})")
        } else {
            let (index, replica) = leader.expect("checked above");
            format!(
                "requests unanswered: {} leads term {} but none of {} probe writes was \
                 acknowledged ({outstanding_probes} never answered)",
                NodeId(index as u16),
                replica.term,
                self.report.probes
            )
        };
        self.report.diagnosis = Some(diagnosis);
    }

    /// Marks the run as ended before the oracle could judge.
    pub fn cut_short(&mut self, reason: &str) {
        if !self.report.recovered && self.report.skipped.is_none() {
            self.report.skipped = Some(format!("the run ended early: {reason}"));
        }
        self.finished = true;
    }

    /// The verdict; a run that ended before the heal reports it as skipped.
    pub fn into_report(mut self) -> LivenessReport {
        if !self.started {
            self.report.skipped.get_or_insert_with(|| "the run ended before the heal".into());
        }
        self.report
    }
}

impl LivenessReport {
    /// Whether the oracle found a liveness failure.
    pub fn failed(&self) -> bool {
        self.diagnosis.is_some()
    }
}
