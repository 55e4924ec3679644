//! Checking a whole history: partition by key, search the keys side by side in deterministic
//! rounds, stop at the first refuted key, and assemble the report.
//!
//! Keys are independent objects, so a history is linearizable exactly when every key's
//! sub-history is (linearizability is local; Herlihy and Wing, 1990). Searching them side by
//! side matters because one key can be quick to refute while another is expensive to decide:
//! checking keys one at a time can stall on the expensive one. Each round gives every open key
//! the same quota of steps, possibly on several threads, and only looks at the results when all
//! are done, so the verdicts, step counts and memory figures never depend on thread timing.

use std::collections::BTreeMap;

use crate::candidate::verify;
use crate::explain::explain;
use crate::history::{KvOperation, Operation};
use crate::kv::KvModel;
use crate::model::Model;
use crate::report::{
    combine, Budget, CandidateCheck, CandidateRejection, KeyReport, Report, UnknownCause, Verdict,
    Violation, ViolationKind,
};
use crate::search::{Refutation, Search, SearchEnd};

/// Steps per key in the first round. Small histories finish within it, on the calling thread.
const ROUND_STEPS_FIRST: u64 = 4096;
/// Rounds double in length up to this many steps per key, which bounds how far the other keys
/// run on after a refutation.
const ROUND_STEPS_MAX: u64 = 1 << 18;

/// What the time fields of the operations count, for explanations.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum TimeUnit {
    /// Microseconds of simulated time (the simulator's histories).
    #[default]
    Microseconds,
    /// Line numbers of a log file, counted from 1.
    Line,
}

impl TimeUnit {
    pub(crate) fn format(self, time: u64) -> String {
        match self {
            TimeUnit::Microseconds => format!("{time}us"),
            TimeUnit::Line => format!("line {time}"),
        }
    }
}

/// How to check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CheckOptions {
    /// Limits per key.
    pub budget: Budget,
    /// How to print times in explanations.
    pub time_unit: TimeUnit,
    /// Whether to shrink a refuted key to a counterexample and explain it (kind, shrunk ids,
    /// timeline). Costs extra searches, of small histories mostly, only when a key is refuted.
    /// When false, a violation carries only the ids and the sentence from the key's own search,
    /// with kind [`ViolationKind::Other`] and no timeline.
    pub explain: bool,
}

impl Default for CheckOptions {
    /// The default budget, times in microseconds, violations explained.
    fn default() -> Self {
        CheckOptions { budget: Budget::default(), time_unit: TimeUnit::default(), explain: true }
    }
}

/// Per key, the operation ids of a candidate linearization, in order. See
/// [`check_kv_with_candidates`].
pub type Candidates = BTreeMap<String, Vec<u64>>;

/// Checks a key-value history against [`KvModel`], with times in microseconds.
pub fn check_kv(history: &[KvOperation], budget: &Budget) -> Report {
    check(&KvModel, history, &CheckOptions { budget: *budget, ..CheckOptions::default() })
}

/// [`check_kv`], first trying a candidate linearization per key.
///
/// `candidates` maps a key to the `id`s ([`crate::Operation::id`]) of that key's operations in
/// the order the servers applied them. It must list every operation of the key with an ok
/// outcome (gets included), may list operations of unknown outcome that were applied (they
/// are then taken to have taken effect there), and must not list failed ones. A candidate is
/// verified in one pass: one model step per operation, plus a real-time check. If it holds, the
/// key is linearizable without a search; if not, the key is searched as usual, so a wrong
/// candidate costs time but never changes a verdict. Keys without a candidate are searched.
/// [`KeyReport::candidate`] says what became of each candidate.
pub fn check_kv_with_candidates(
    history: &[KvOperation],
    candidates: &Candidates,
    budget: &Budget,
) -> Report {
    let options = CheckOptions { budget: *budget, ..CheckOptions::default() };
    check_with_candidates(&KvModel, history, candidates, &options)
}

/// [`check`], first trying a candidate linearization per key; see [`check_kv_with_candidates`].
pub fn check_with_candidates<M: Model>(
    model: &M,
    history: &[Operation<M::Input, M::Output>],
    candidates: &Candidates,
    options: &CheckOptions,
) -> Report {
    check_on_threads(model, history, Some(candidates), options, None)
}

/// Checks a history against `model`, partitioned by key.
///
/// Deterministic: the same history, model and budget give the same report, on any machine and
/// with any number of threads.
pub fn check<M: Model>(
    model: &M,
    history: &[Operation<M::Input, M::Output>],
    options: &CheckOptions,
) -> Report {
    check_on_threads(model, history, None, options, None)
}

/// [`check`], with the number of threads fixed by the caller (tests) or, if `None`, taken from
/// the machine.
fn check_on_threads<M: Model>(
    model: &M,
    history: &[Operation<M::Input, M::Output>],
    candidates: Option<&Candidates>,
    options: &CheckOptions,
    threads: Option<usize>,
) -> Report {
    let mut partitions: BTreeMap<&str, Vec<&ModelOperation<M>>> = BTreeMap::new();
    for operation in history {
        partitions.entry(operation.key.as_str()).or_default().push(operation);
    }
    // Call order, so that shrinking and timelines do not depend on the order of the input.
    for operations in partitions.values_mut() {
        operations.sort_by_key(|operation| (operation.call_us, operation.id));
    }
    // A verified candidate settles its key; the others are searched.
    let mut searches: Vec<Search<'_, '_, M>> = Vec::new();
    let mut plans: Vec<KeyPlan> = Vec::new();
    for (key, operations) in &partitions {
        let verified = candidates
            .and_then(|candidates| candidates.get(*key))
            .map(|order| verify(model, operations, order));
        match verified {
            Some((Ok(()), steps)) => plans.push(KeyPlan::Accepted { steps }),
            rejected => {
                plans.push(KeyPlan::Searched {
                    search: searches.len(),
                    candidate: rejected.map(|(result, steps)| (result.err(), steps)),
                });
                searches.push(Search::new(model, operations, &options.budget));
            }
        }
    }
    let memory = run_rounds(&mut searches, threads);

    let keys: Vec<KeyReport> = partitions
        .iter()
        .zip(&plans)
        .map(|((key, operations), plan)| match plan {
            KeyPlan::Accepted { steps } => KeyReport {
                key: key.to_string(),
                verdict: Verdict::Linearizable,
                operations: operations.len(),
                steps: *steps,
                memo_entries_peak: 0,
                unknown_cause: None,
                violation: None,
                candidate: Some(CandidateCheck::Accepted),
            },
            KeyPlan::Searched { search, candidate } => {
                let mut report = key_report(model, key, operations, &searches[*search], options);
                if let Some((rejection, steps)) = candidate {
                    report.steps += steps;
                    // `verify` returns an error exactly when it does not accept.
                    report.candidate = rejection.clone().map(CandidateCheck::Rejected);
                }
                report
            }
        })
        .collect();
    Report {
        verdict: combine(keys.iter().map(|key| key.verdict)),
        steps: keys.iter().map(|key| key.steps).sum(),
        memo_entries_peak: memory.memo_entries_peak,
        memory_bytes_peak: memory.bytes_peak,
        keys,
    }
}

/// An operation of `M`'s history.
type ModelOperation<M> = Operation<<M as Model>::Input, <M as Model>::Output>;

/// How a key is decided.
enum KeyPlan {
    /// Its candidate linearization was verified in `steps` model steps.
    Accepted { steps: u64 },
    /// By the search with this index; `candidate` is the rejection of a candidate given for it
    /// and the steps verifying it took.
    Searched { search: usize, candidate: Option<(Option<CandidateRejection>, u64)> },
}

/// Peak memory over all keys at once.
#[derive(Default)]
struct MemoryPeak {
    memo_entries_peak: u64,
    bytes_peak: u64,
}

/// Runs every search to its end, round by round; stops the rest at the first refutation.
fn run_rounds<M: Model>(
    searches: &mut [Search<'_, '_, M>],
    mut threads: Option<usize>,
) -> MemoryPeak {
    // The machine is asked only when a round has several open keys: the query reads system
    // files, which would dominate the time of a small history.
    let mut peak = MemoryPeak::default();
    let mut round_steps = ROUND_STEPS_FIRST;
    let mut first_round = true;
    loop {
        let mut open: Vec<&mut Search<'_, '_, M>> =
            searches.iter_mut().filter(|search| search.end().is_none()).collect();
        if open.is_empty() {
            return peak;
        }
        let threads = match (first_round || open.len() == 1, threads) {
            (true, _) => 1,
            (false, Some(count)) => count,
            (false, None) => {
                let count = std::thread::available_parallelism().map_or(1, |count| count.get());
                *threads.insert(count)
            }
        };
        if threads == 1 {
            for search in &mut open {
                search.run(round_steps);
            }
        } else {
            let per_thread = open.len().div_ceil(threads);
            std::thread::scope(|scope| {
                for chunk in open.chunks_mut(per_thread) {
                    scope.spawn(move || {
                        for search in chunk {
                            search.run(round_steps);
                        }
                    });
                }
            });
        }
        // Memo tables only grow while a search runs, so the sum peaks at a round's end.
        peak.memo_entries_peak =
            peak.memo_entries_peak.max(searches.iter().map(|search| search.memo_entries()).sum());
        peak.bytes_peak =
            peak.bytes_peak.max(searches.iter().map(|search| search.memory_bytes()).sum());
        let refuted = searches
            .iter()
            .any(|search| matches!(search.end(), Some(SearchEnd::NotLinearizable(_))));
        for search in searches.iter_mut() {
            if refuted {
                search.abandon(UnknownCause::OtherKeyRefuted);
            }
            if search.end().is_some() {
                search.release_memory();
            }
        }
        first_round = false;
        round_steps = (round_steps * 2).min(ROUND_STEPS_MAX);
    }
}

fn key_report<M: Model>(
    model: &M,
    key: &str,
    operations: &[&ModelOperation<M>],
    search: &Search<'_, '_, M>,
    options: &CheckOptions,
) -> KeyReport {
    let (verdict, unknown_cause, violation) = match search.end() {
        Some(SearchEnd::Linearizable) => (Verdict::Linearizable, None, None),
        Some(SearchEnd::NotLinearizable(refutation)) => {
            let violation = if options.explain {
                let steps = search.steps();
                explain(model, key, operations, steps, &options.budget, options.time_unit)
            } else {
                describe_refutation(model, key, search, refutation, options.time_unit)
            };
            (Verdict::NotLinearizable, None, Some(violation))
        }
        Some(SearchEnd::Unknown(cause)) => (Verdict::Unknown, Some(*cause), None),
        // Unreachable: `run_rounds` ends every search.
        None => (Verdict::Unknown, Some(UnknownCause::StepsSpent), None),
    };
    KeyReport {
        key: key.to_string(),
        verdict,
        operations: operations.len(),
        steps: search.steps(),
        memo_entries_peak: search.memo_entries_peak(),
        unknown_cause,
        violation,
        candidate: None,
    }
}

/// The violation as the key's own search found it, without shrinking: the blocked operation,
/// the one that set the state, and a sentence such as `key "k": get returned "a" by client 3
/// [1200us, 1300us] cannot be linearized; ... the state before it is "b", set by put "b" ...`.
fn describe_refutation<M: Model>(
    model: &M,
    key: &str,
    search: &Search<'_, '_, M>,
    refutation: &Refutation,
    time_unit: TimeUnit,
) -> Violation {
    let describe = |op: usize| {
        let operation = search.operation(op);
        let returned = match operation.return_us {
            Some(return_us) => time_unit.format(return_us),
            None => "never returned".to_string(),
        };
        format!(
            "{} by client {} [{}, {}]",
            model.describe_operation(&operation.input, &operation.outcome),
            operation.client,
            time_unit.format(operation.call_us),
            returned
        )
    };
    let state = model.describe_state(search.state(refutation.state));
    let set_by = match refutation.writer {
        Some(writer) => format!("set by {}", describe(writer)),
        None => "its initial value".to_string(),
    };
    let explanation = format!(
        "key {key:?}: {} cannot be linearized; in the longest legal order found ({} of {} \
         operations) the state before it is {state}, {set_by}",
        describe(refutation.blocked),
        refutation.depth,
        search.searched_operations(),
    );
    let mut operation_ids = vec![search.operation(refutation.blocked).id];
    operation_ids.extend(refutation.writer.map(|writer| search.operation(writer).id));
    Violation {
        operation_ids,
        explanation,
        kind: ViolationKind::Other,
        minimal: Vec::new(),
        minimal_complete: false,
        timeline: String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::{KvInput, Outcome};

    /// Keys of growing difficulty, all linearizable: each has `n` concurrent puts and then a
    /// read of the value of the put listed first, which the search tries last.
    fn history() -> Vec<KvOperation> {
        let mut history = Vec::new();
        for key in 0..5u64 {
            let puts = 10 + key;
            for client in 0..puts {
                history.push(KvOperation {
                    id: key * 100 + client,
                    client,
                    key: format!("k{key}"),
                    input: KvInput::Put(client.to_string()),
                    call_us: 0,
                    return_us: Some(10),
                    outcome: Outcome::Ok(String::new()),
                });
            }
            history.push(KvOperation {
                id: key * 100 + 99,
                client: 99,
                key: format!("k{key}"),
                input: KvInput::Get,
                call_us: 20,
                return_us: Some(30),
                outcome: Outcome::Ok("0".into()),
            });
        }
        history
    }

    #[test]
    fn reports_do_not_depend_on_the_number_of_threads() {
        let history = history();
        let options = CheckOptions::default();
        let alone = check_on_threads(&KvModel, &history, None, &options, Some(1));
        assert_eq!(alone.verdict, Verdict::Linearizable);
        assert!(alone.keys.iter().all(|key| key.steps > ROUND_STEPS_FIRST), "{alone:?}");
        for threads in [2, 3, 8] {
            let shared = check_on_threads(&KvModel, &history, None, &options, Some(threads));
            assert_eq!(shared, alone, "{threads} threads");
        }
    }
}
