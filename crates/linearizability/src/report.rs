//! What the checker answers: a verdict per key and overall, with the work it took and, on a
//! violation, the operations involved and a sentence saying why.
//!
//! All of these serialize to JSON for the simulator's report. Verdicts are the strings
//! `"linearizable"`, `"not_linearizable"` and `"unknown"`.

use serde::{Deserialize, Serialize};

/// Limits on the work spent on each key. Both are counts, so a verdict never depends on the
/// speed of the machine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Budget {
    /// Model steps allowed per key before the key's verdict becomes `Unknown`.
    pub steps_max: u64,
    /// Memoized configurations allowed per key before the key's verdict becomes `Unknown`.
    /// One entry costs about 16 bytes plus one bit per operation of the key.
    pub memo_entries_max: u64,
}

impl Default for Budget {
    /// Ten million steps and five million memo entries per key: seconds of work and a few
    /// hundred megabytes at most, far beyond what the simulator's histories need.
    fn default() -> Self {
        Budget { steps_max: 10_000_000, memo_entries_max: 5_000_000 }
    }
}

/// The answer for a key or a whole history.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Some order of the operations explains every observed result.
    Linearizable,
    /// No order does.
    NotLinearizable,
    /// The checker stopped before deciding; see [`KeyReport::unknown_cause`]. Not a pass.
    Unknown,
}

/// Why a key's verdict is [`Verdict::Unknown`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UnknownCause {
    /// [`Budget::steps_max`] was reached.
    StepsSpent,
    /// [`Budget::memo_entries_max`] was reached.
    MemoSpent,
    /// Another key was refuted first, so the history is not linearizable and the search of
    /// this key was abandoned.
    OtherKeyRefuted,
}

/// What kind of anomaly a violation is, judged on its shrunk counterexample by the operation
/// that could not be linearized there (the "blocked" one).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ViolationKind {
    /// A read returned a value that had been overwritten before the read began: it would be
    /// legal had it been called earlier.
    StaleRead,
    /// A read missed a write that completed before the read began: it would be legal if that
    /// write had never happened.
    LostWrite,
    /// A read returned a value that no order of any of the writes produces.
    NeverWritten,
    /// None of the above, or the blocked operation is not a read.
    #[default]
    Other,
}

impl ViolationKind {
    /// A short phrase, such as `stale read`.
    pub fn describe(self) -> &'static str {
        match self {
            ViolationKind::StaleRead => "stale read",
            ViolationKind::LostWrite => "lost write",
            ViolationKind::NeverWritten => "read of a value never written",
            ViolationKind::Other => "not linearizable",
        }
    }
}

/// Why a key is not linearizable.
///
/// Everything here is computed from a shrunk counterexample: the key's operations with as many
/// removed as possible while it stays non-linearizable, removing only operations that no other
/// may observe (so the shrunk history's violation is one the full history has too).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Violation {
    /// The operations involved, by the caller's ids: first the one that could not be
    /// linearized at the deepest point the search reached, then the one that set the state it
    /// contradicts (when there is one), then, for a lost write, the write that was lost.
    pub operation_ids: Vec<u64>,
    /// One sentence naming the key, the kind, the operations and the state.
    pub explanation: String,
    /// The kind of anomaly.
    #[serde(default)]
    pub kind: ViolationKind,
    /// The ids of the shrunk counterexample, in call order.
    #[serde(default)]
    pub minimal: Vec<u64>,
    /// True if shrinking finished: removing any one operation of `minimal` is either not
    /// allowed or makes it linearizable. False if the shrink budget ran out first.
    #[serde(default)]
    pub minimal_complete: bool,
    /// The counterexample drawn as a timeline, several lines ending in a newline: one line per
    /// operation in call order with a bar over its interval, then the state where the search
    /// got stuck and why each candidate step fails there.
    #[serde(default)]
    pub timeline: String,
}

impl Violation {
    /// The explanation wrapped to 100 columns, then the timeline: what a person reads.
    pub fn render(&self) -> String {
        let mut text = String::new();
        let mut line = String::new();
        for word in self.explanation.split(' ') {
            if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > 100 {
                text.push_str(&line);
                text.push('\n');
                line = "  ".to_string();
            } else if !line.is_empty() {
                line.push(' ');
            }
            line.push_str(word);
        }
        text.push_str(&line);
        text.push('\n');
        text.push_str(&self.timeline);
        text
    }
}

/// Whether a candidate linearization given by the caller was accepted for a key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CandidateCheck {
    /// The candidate is a linearization: the key is linearizable and no search ran.
    Accepted,
    /// The candidate is not a linearization, for this reason; the key was searched instead.
    Rejected(CandidateRejection),
}

/// Why a candidate linearization is not one. Ids are the `id` fields of the operations.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CandidateRejection {
    /// The id is not an operation of this key.
    NotOnKey {
        /// The id.
        id: u64,
    },
    /// The id occurs twice.
    Repeated {
        /// The id.
        id: u64,
    },
    /// The operation is known never to have taken effect.
    Failed {
        /// The id.
        id: u64,
    },
    /// An operation with an ok outcome is missing from the candidate.
    Missing {
        /// The id.
        id: u64,
    },
    /// `later` comes after `earlier` in the candidate but returned before `earlier` was
    /// called.
    RealTime {
        /// The operation placed first.
        earlier: u64,
        /// The operation placed after it, which precedes it in real time.
        later: u64,
    },
    /// The model does not allow the operation's result in the state the candidate gives it.
    Illegal {
        /// The id.
        id: u64,
    },
}

impl std::fmt::Display for CandidateRejection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CandidateRejection::NotOnKey { id } => write!(f, "operation {id} is not on this key"),
            CandidateRejection::Repeated { id } => write!(f, "operation {id} occurs twice"),
            CandidateRejection::Failed { id } => {
                write!(f, "operation {id} failed, so it cannot have taken effect")
            }
            CandidateRejection::Missing { id } => {
                write!(f, "operation {id} completed but is missing")
            }
            CandidateRejection::RealTime { earlier, later } => write!(
                f,
                "operation {later} is placed after {earlier} but returned before it was called"
            ),
            CandidateRejection::Illegal { id } => {
                write!(f, "operation {id}'s result is impossible at its place in the order")
            }
        }
    }
}

/// The result for one key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyReport {
    /// The key.
    pub key: String,
    /// Its verdict.
    pub verdict: Verdict,
    /// Operations on this key in the history, including failed ones.
    pub operations: usize,
    /// Model steps spent on this key.
    pub steps: u64,
    /// The largest number of memoized configurations held for this key.
    pub memo_entries_peak: u64,
    /// Why the verdict is `Unknown`; `None` for the other verdicts.
    pub unknown_cause: Option<UnknownCause>,
    /// Present exactly when the verdict is `NotLinearizable`.
    pub violation: Option<Violation>,
    /// The verification of the caller's candidate linearization, if one was given for this
    /// key (see [`crate::check_kv_with_candidates`]).
    #[serde(default)]
    pub candidate: Option<CandidateCheck>,
}

/// The result for a whole history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Report {
    /// `NotLinearizable` if any key is, else `Unknown` if any key is, else `Linearizable`.
    pub verdict: Verdict,
    /// One report per key, sorted by key.
    pub keys: Vec<KeyReport>,
    /// Model steps over all keys.
    pub steps: u64,
    /// The most memo entries held at once over all keys (keys are searched side by side).
    pub memo_entries_peak: u64,
    /// An estimate of the most bytes the search held at once: memo tables, stored states and
    /// search stacks, over all keys.
    pub memory_bytes_peak: u64,
}

impl Report {
    /// The first key that was refuted, if any.
    pub fn violation(&self) -> Option<(&str, &Violation)> {
        self.keys
            .iter()
            .find_map(|key| key.violation.as_ref().map(|violation| (key.key.as_str(), violation)))
    }
}

/// Combines per-key verdicts: a refutation anywhere wins, then any undecided key.
pub(crate) fn combine(verdicts: impl IntoIterator<Item = Verdict>) -> Verdict {
    let mut combined = Verdict::Linearizable;
    for verdict in verdicts {
        match verdict {
            Verdict::NotLinearizable => return Verdict::NotLinearizable,
            Verdict::Unknown => combined = Verdict::Unknown,
            Verdict::Linearizable => {}
        }
    }
    combined
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verdicts_serialize_as_snake_case_strings() {
        assert_eq!(
            serde_json::to_string(&Verdict::NotLinearizable).unwrap(),
            "\"not_linearizable\""
        );
        assert_eq!(serde_json::to_string(&Verdict::Linearizable).unwrap(), "\"linearizable\"");
        assert_eq!(serde_json::to_string(&Verdict::Unknown).unwrap(), "\"unknown\"");
    }

    #[test]
    fn combine_prefers_refutation_then_unknown() {
        use Verdict::*;
        assert_eq!(combine([]), Linearizable);
        assert_eq!(combine([Linearizable, Unknown, Linearizable]), Unknown);
        assert_eq!(combine([Unknown, NotLinearizable]), NotLinearizable);
    }
}
