//! Candidate linearizations (the servers' apply order per key): a valid one is accepted in one
//! pass without a search; a wrong one is rejected with its reason and the key is searched, so
//! the verdict never depends on the candidate. Checked on hand-written cases and, against the
//! plain checker, on random histories with random and with correct candidates.

use std::collections::BTreeMap;

use linearizability::{
    check_kv, check_kv_with_candidates, Budget, CandidateCheck, CandidateRejection, Candidates,
    KvInput, KvOperation, Outcome, Verdict,
};
use rand_chacha::rand_core::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn op(id: u64, input: KvInput, call_us: u64, return_us: Option<u64>, outcome: &str) -> KvOperation {
    KvOperation {
        id,
        client: id,
        key: "k".into(),
        input,
        call_us,
        return_us,
        outcome: Outcome::Ok(outcome.into()),
    }
}

fn put(id: u64, value: &str, call_us: u64, return_us: u64) -> KvOperation {
    op(id, KvInput::Put(value.into()), call_us, Some(return_us), "")
}

fn get(id: u64, read: &str, call_us: u64, return_us: u64) -> KvOperation {
    op(id, KvInput::Get, call_us, Some(return_us), read)
}

fn candidates(order: &[u64]) -> Candidates {
    BTreeMap::from([("k".to_string(), order.to_vec())])
}

/// Two overlapping puts and a read of the second: only the order 1, 2, 3 works.
fn history() -> Vec<KvOperation> {
    vec![put(1, "a", 0, 10), put(2, "b", 5, 15), get(3, "b", 20, 30)]
}

#[test]
fn a_valid_candidate_is_accepted_without_a_search() {
    let report = check_kv_with_candidates(&history(), &candidates(&[1, 2, 3]), &Budget::default());
    assert_eq!(report.verdict, Verdict::Linearizable);
    let key = &report.keys[0];
    assert_eq!(key.candidate, Some(CandidateCheck::Accepted));
    // One model step per operation, and no memo at all.
    assert_eq!((key.steps, key.memo_entries_peak), (3, 0));
}

#[test]
fn a_wrong_candidate_falls_back_to_search() {
    let budget = Budget::default();
    let cases = [
        (vec![2, 1, 3], CandidateRejection::Illegal { id: 3 }),
        (vec![3, 1, 2], CandidateRejection::RealTime { earlier: 3, later: 1 }),
        (vec![1, 3], CandidateRejection::Missing { id: 2 }),
        (vec![1, 2, 2, 3], CandidateRejection::Repeated { id: 2 }),
        (vec![1, 2, 9, 3], CandidateRejection::NotOnKey { id: 9 }),
    ];
    for (order, rejection) in cases {
        let report = check_kv_with_candidates(&history(), &candidates(&order), &budget);
        assert_eq!(report.verdict, Verdict::Linearizable, "{order:?}");
        assert_eq!(report.keys[0].candidate, Some(CandidateCheck::Rejected(rejection)));
        assert!(report.keys[0].memo_entries_peak > 0, "{order:?}: the key was searched");
    }
    // A failed operation cannot be in the apply order.
    let mut history = history();
    history.push(KvOperation { outcome: Outcome::Failed, ..put(4, "c", 40, 50) });
    let report = check_kv_with_candidates(&history, &candidates(&[1, 2, 3, 4]), &budget);
    assert_eq!(
        report.keys[0].candidate,
        Some(CandidateCheck::Rejected(CandidateRejection::Failed { id: 4 }))
    );
}

#[test]
fn a_candidate_never_decides_a_violation() {
    // Not linearizable: the candidate is rejected, and the search, not the candidate, refutes.
    let history = [put(1, "a", 0, 10), put(2, "b", 20, 30), get(3, "a", 40, 50)];
    let report = check_kv_with_candidates(&history, &candidates(&[1, 2, 3]), &Budget::default());
    assert_eq!(report.verdict, Verdict::NotLinearizable);
    assert!(matches!(report.keys[0].candidate, Some(CandidateCheck::Rejected(_))));
    assert_eq!(report.keys[0].violation.as_ref().unwrap().operation_ids, vec![3, 2]);
}

#[test]
fn unknown_outcomes_may_be_listed_or_left_out() {
    let pending = KvOperation { return_us: None, outcome: Outcome::Unknown, ..put(1, "x", 0, 0) };
    let history = [pending, get(2, "x", 10, 20), put(3, "y", 30, 40), get(4, "y", 50, 60)];
    let budget = Budget::default();
    let report = check_kv_with_candidates(&history, &candidates(&[1, 2, 3, 4]), &budget);
    assert_eq!(report.keys[0].candidate, Some(CandidateCheck::Accepted));
    // Left out, it never took effect, and then the read of "x" is impossible.
    let report = check_kv_with_candidates(&history, &candidates(&[2, 3, 4]), &budget);
    assert_eq!(
        report.keys[0].candidate,
        Some(CandidateCheck::Rejected(CandidateRejection::Illegal { id: 2 }))
    );
    assert_eq!(report.verdict, Verdict::Linearizable);
}

/// Random histories built from a known sequential order (so that order is a valid candidate),
/// sometimes damaged, with candidates that are the true order or a shuffle of it: the verdict
/// always equals the plain checker's, and a true order of an undamaged history is accepted.
#[test]
fn verdicts_with_candidates_equal_verdicts_without() {
    let mut accepted = 0;
    for seed in 0..2000u64 {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut below = |bound: u64| rng.next_u64() % bound;
        let count = 1 + below(7);
        let mut value = String::new();
        let mut history = Vec::new();
        for id in 0..count {
            let point_us = id * 10 + below(5);
            let (input, read) = match below(3) {
                0 => (KvInput::Get, value.clone()),
                1 => {
                    value = format!("v{id}");
                    (KvInput::Put(value.clone()), String::new())
                }
                _ => {
                    value.push('a');
                    (KvInput::Append("a".into()), String::new())
                }
            };
            let call_us = point_us.saturating_sub(below(15));
            history.push(op(id, input, call_us, Some(point_us + below(15)), &read));
        }
        let damaged = below(3) == 0;
        if damaged {
            let index = below(count) as usize;
            history[index].outcome = Outcome::Ok("zz".into());
            history[index].input = KvInput::Get;
        }
        let mut order: Vec<u64> = (0..count).collect();
        let shuffled = below(2) == 0;
        if shuffled {
            for i in (1..order.len()).rev() {
                order.swap(i, below(i as u64 + 1) as usize);
            }
        }
        let plain = check_kv(&history, &Budget::default());
        let with = check_kv_with_candidates(&history, &candidates(&order), &Budget::default());
        assert_eq!(with.verdict, plain.verdict, "seed {seed}");
        let candidate = with.keys[0].candidate.as_ref().unwrap();
        if !damaged && !shuffled {
            assert_eq!(candidate, &CandidateCheck::Accepted, "seed {seed}");
        }
        if *candidate == CandidateCheck::Accepted {
            assert_eq!(plain.verdict, Verdict::Linearizable, "seed {seed}");
            accepted += 1;
        }
    }
    assert!(accepted >= 600, "{accepted}");
}
