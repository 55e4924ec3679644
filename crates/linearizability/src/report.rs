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

/// Why a key is not linearizable.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Violation {
    /// The operations involved, by the caller's ids: first the one that could not be
    /// linearized at the deepest point the search reached, then the one that set the state it
    /// contradicts (when there is one).
    pub operation_ids: Vec<u64>,
    /// One sentence naming the key, the operations and the state.
    pub explanation: String,
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
