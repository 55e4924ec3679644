//! Hand-written key-value histories, each small enough to verify by hand, covering overlap,
//! ties in time, failed operations, unknown outcomes, stale reads, several keys and budgets.

use linearizability::{
    check_kv, Budget, KvInput, KvOperation, Outcome, Report, UnknownCause, Verdict,
};

/// Builds histories tersely: `op(id, key, input, call, return, outcome)`.
fn op(
    id: u64,
    key: &str,
    input: KvInput,
    call_us: u64,
    return_us: Option<u64>,
    outcome: Outcome<String>,
) -> KvOperation {
    KvOperation { id, client: id, key: key.to_string(), input, call_us, return_us, outcome }
}

fn put(id: u64, value: &str, call_us: u64, return_us: u64) -> KvOperation {
    op(id, "k", KvInput::Put(value.into()), call_us, Some(return_us), Outcome::Ok(String::new()))
}

fn append(id: u64, value: &str, call_us: u64, return_us: u64) -> KvOperation {
    op(id, "k", KvInput::Append(value.into()), call_us, Some(return_us), ok(""))
}

fn get(id: u64, read: &str, call_us: u64, return_us: u64) -> KvOperation {
    op(id, "k", KvInput::Get, call_us, Some(return_us), ok(read))
}

fn ok(value: &str) -> Outcome<String> {
    Outcome::Ok(value.to_string())
}

fn verdict(history: &[KvOperation]) -> Verdict {
    check_kv(history, &Budget::default()).verdict
}

#[test]
fn empty_history_is_linearizable_with_no_keys() {
    let report = check_kv(&[], &Budget::default());
    assert_eq!(report.verdict, Verdict::Linearizable);
    assert!(report.keys.is_empty());
}

#[test]
fn unwritten_key_reads_empty_string() {
    assert_eq!(verdict(&[get(1, "", 0, 1)]), Verdict::Linearizable);
    assert_eq!(verdict(&[get(1, "x", 0, 1)]), Verdict::NotLinearizable);
}

#[test]
fn sequential_put_append_get() {
    let history = [put(1, "a", 0, 1), append(2, "b", 2, 3), get(3, "ab", 4, 5)];
    assert_eq!(verdict(&history), Verdict::Linearizable);
    let history = [put(1, "a", 0, 1), append(2, "b", 2, 3), get(3, "ba", 4, 5)];
    assert_eq!(verdict(&history), Verdict::NotLinearizable);
}

#[test]
fn overlapping_writes_may_take_effect_in_either_order() {
    // Both puts overlap each other; a later get may see either, but two later gets cannot
    // see b and then a, since nothing writes a after b.
    let puts = [put(1, "a", 0, 10), put(2, "b", 5, 15)];
    for read in ["a", "b"] {
        let history = [puts[0].clone(), puts[1].clone(), get(3, read, 20, 30)];
        assert_eq!(verdict(&history), Verdict::Linearizable, "read {read}");
    }
    let history = [puts[0].clone(), puts[1].clone(), get(3, "c", 20, 30)];
    assert_eq!(verdict(&history), Verdict::NotLinearizable);
    let history = [puts[0].clone(), puts[1].clone(), get(3, "b", 20, 30), get(4, "a", 31, 40)];
    assert_eq!(verdict(&history), Verdict::NotLinearizable);
}

#[test]
fn get_overlapping_a_put_may_see_before_or_after() {
    for read in ["", "a"] {
        let history = [put(1, "a", 0, 10), get(2, read, 5, 6)];
        assert_eq!(verdict(&history), Verdict::Linearizable, "read {read:?}");
    }
}

#[test]
fn equal_return_and_call_times_are_concurrent() {
    // The get is called at the instant the put returns: they are concurrent, so the get may
    // be ordered first.
    assert_eq!(verdict(&[put(1, "a", 0, 10), get(2, "", 10, 20)]), Verdict::Linearizable);
    // One microsecond later the put strictly precedes the get.
    assert_eq!(verdict(&[put(1, "a", 0, 10), get(2, "", 11, 20)]), Verdict::NotLinearizable);
    // Two operations at exactly the same instant, in both orders.
    assert_eq!(verdict(&[get(2, "a", 5, 5), put(1, "a", 5, 5)]), Verdict::Linearizable);
}

#[test]
fn failed_operations_never_take_effect() {
    let failed = op(1, "k", KvInput::Put("x".into()), 0, Some(10), Outcome::Failed);
    assert_eq!(verdict(&[failed.clone(), get(2, "", 20, 30)]), Verdict::Linearizable);
    assert_eq!(verdict(&[failed, get(2, "x", 20, 30)]), Verdict::NotLinearizable);
}

#[test]
fn pending_put_must_be_assumed_to_have_happened() {
    // The put never returned; the only explanation of the read is that it took effect.
    let pending = op(1, "k", KvInput::Put("x".into()), 0, None, Outcome::Unknown);
    assert_eq!(verdict(&[pending.clone(), get(2, "x", 10, 20)]), Verdict::Linearizable);
    // It can take effect long after it was called, here after another client's put.
    let history = [pending.clone(), put(2, "y", 10, 20), get(3, "y", 30, 40), get(4, "x", 50, 60)];
    assert_eq!(verdict(&history), Verdict::Linearizable);
    // But not before it was called.
    let late = op(1, "k", KvInput::Put("x".into()), 100, None, Outcome::Unknown);
    assert_eq!(verdict(&[late, get(2, "x", 10, 20)]), Verdict::NotLinearizable);
}

#[test]
fn pending_append_must_be_assumed_not_to_have_happened_yet() {
    let pending = op(1, "k", KvInput::Append("x".into()), 0, None, Outcome::Unknown);
    let history = [pending.clone(), append(2, "y", 10, 20), get(3, "y", 30, 40)];
    assert_eq!(verdict(&history), Verdict::Linearizable);
    // Once it is seen, it stays: a later read without it is a violation.
    let history = [pending.clone(), get(2, "x", 10, 20), get(3, "", 30, 40)];
    assert_eq!(verdict(&history), Verdict::NotLinearizable);
    // It can take effect at most once.
    let history = [pending, get(2, "x", 10, 20), append(3, "y", 30, 40), get(4, "xyx", 50, 60)];
    assert_eq!(verdict(&history), Verdict::NotLinearizable);
}

#[test]
fn returned_write_with_unknown_outcome_takes_effect_within_its_interval_or_never() {
    let unknown = op(1, "k", KvInput::Put("x".into()), 0, Some(10), Outcome::Unknown);
    assert_eq!(verdict(&[unknown.clone(), get(2, "", 20, 30)]), Verdict::Linearizable);
    assert_eq!(verdict(&[unknown.clone(), get(2, "x", 20, 30)]), Verdict::Linearizable);
    // It cannot take effect after it returned: here only a late effect would explain "x".
    let history = [unknown.clone(), put(2, "y", 20, 30), get(3, "x", 40, 50)];
    assert_eq!(verdict(&history), Verdict::NotLinearizable);
    // The same with an ok outcome must be seen.
    assert_eq!(verdict(&[put(1, "x", 0, 10), get(2, "", 20, 30)]), Verdict::NotLinearizable);
}

#[test]
fn read_with_unknown_result_constrains_nothing() {
    let unknown_get = op(2, "k", KvInput::Get, 20, Some(30), Outcome::Unknown);
    assert_eq!(verdict(&[put(1, "a", 0, 10), unknown_get]), Verdict::Linearizable);
}

#[test]
fn stale_read_is_reported_with_key_and_operations() {
    let history = [
        op(10, "k1", KvInput::Put("a".into()), 0, Some(100), ok("")),
        op(11, "k1", KvInput::Put("b".into()), 200, Some(300), ok("")),
        op(12, "k1", KvInput::Get, 400, Some(500), ok("a")),
    ];
    let report = check_kv(&history, &Budget::default());
    assert_eq!(report.verdict, Verdict::NotLinearizable);
    let (key, violation) = report.violation().expect("a violation");
    assert_eq!(key, "k1");
    // The stale get, and the newer put that completed before it started.
    assert_eq!(violation.operation_ids, vec![12, 11]);
    assert_eq!(
        violation.explanation,
        "key \"k1\": stale read: get returned \"a\" by client 12 [400us, 500us] cannot be \
         linearized; in \
         the longest legal order found (2 of 3 operations) the state before it is \"b\", set \
         by put \"b\" by client 11 [200us, 300us]"
    );
}

#[test]
fn keys_are_independent_and_sorted() {
    let history = [
        op(1, "b", KvInput::Put("1".into()), 0, Some(10), ok("")),
        op(2, "a", KvInput::Get, 20, Some(30), ok("")),
        op(3, "b", KvInput::Get, 20, Some(30), ok("1")),
        op(4, "c", KvInput::Get, 20, Some(30), ok("1")),
    ];
    let report = check_kv(&history, &Budget::default());
    let keys: Vec<(&str, Verdict, usize)> =
        report.keys.iter().map(|key| (key.key.as_str(), key.verdict, key.operations)).collect();
    // Key "c" reads a value only key "b" holds: refuted. The others finished in the first
    // round, before the refutation was seen.
    assert_eq!(
        keys,
        vec![
            ("a", Verdict::Linearizable, 1),
            ("b", Verdict::Linearizable, 2),
            ("c", Verdict::NotLinearizable, 1)
        ]
    );
    assert_eq!(report.verdict, Verdict::NotLinearizable);
    let violation = report.keys[2].violation.as_ref().unwrap();
    assert_eq!(violation.operation_ids, vec![4]);
    assert!(violation.explanation.contains("its initial value"), "{}", violation.explanation);
}

/// Many clients putting concurrently to one key, then a read of a value nobody wrote. The
/// search must try every subset of puts with every last writer (about n * 2^n configurations)
/// before it can say no.
fn hard_history(key: &str, clients: u64) -> Vec<KvOperation> {
    let mut history: Vec<KvOperation> = (0..clients)
        .map(|client| {
            let value = client.to_string();
            op(client, key, KvInput::Put(value), 0, Some(100), ok(""))
        })
        .collect();
    history.push(op(clients, key, KvInput::Get, 200, Some(300), ok("never written")));
    history
}

#[test]
fn budget_spent_gives_unknown_not_a_pass() {
    let history = hard_history("k", 12);
    let budget = Budget { steps_max: 500, memo_entries_max: 1_000_000 };
    let report = check_kv(&history, &budget);
    assert_eq!(report.verdict, Verdict::Unknown);
    assert_eq!(report.keys[0].unknown_cause, Some(UnknownCause::StepsSpent));
    assert_eq!(report.keys[0].steps, 500);

    let budget = Budget { steps_max: 1_000_000, memo_entries_max: 100 };
    let report = check_kv(&history, &budget);
    assert_eq!(report.verdict, Verdict::Unknown);
    assert_eq!(report.keys[0].unknown_cause, Some(UnknownCause::MemoSpent));
    assert_eq!(report.keys[0].memo_entries_peak, 100);
}

#[test]
fn refuted_key_stops_the_others() {
    // The hard key needs about a million steps; the stale key is refuted in the first round.
    let mut history = hard_history("hard", 16);
    history.extend([
        op(100, "stale", KvInput::Put("a".into()), 0, Some(1), ok("")),
        op(101, "stale", KvInput::Get, 2, Some(3), ok("")),
    ]);
    let report = check_kv(&history, &Budget::default());
    assert_eq!(report.verdict, Verdict::NotLinearizable);
    assert_eq!(report.keys[0].key, "hard");
    assert_eq!(report.keys[0].verdict, Verdict::Unknown);
    assert_eq!(report.keys[0].unknown_cause, Some(UnknownCause::OtherKeyRefuted));
    assert!(report.keys[0].steps < 10_000, "stopped early: {}", report.keys[0].steps);
    assert_eq!(report.keys[1].verdict, Verdict::NotLinearizable);
}

#[test]
fn reports_are_deterministic() {
    // Six keys of growing difficulty: the easiest is refuted after several rounds, some of
    // which run the keys on several threads; the others are then abandoned.
    let mut history = Vec::new();
    for key in 0..6u64 {
        let operations = hard_history(&format!("k{key}"), 11 + key);
        history.extend(operations.into_iter().map(|mut operation| {
            operation.id += 1000 * key;
            operation
        }));
    }
    let first: Report = check_kv(&history, &Budget::default());
    assert_eq!(first.keys[0].verdict, Verdict::NotLinearizable);
    for key in &first.keys[1..] {
        assert_eq!(key.unknown_cause, Some(UnknownCause::OtherKeyRefuted));
        assert!(key.steps > 10_000, "several rounds ran: {}", key.steps);
    }
    for _ in 0..3 {
        assert_eq!(check_kv(&history, &Budget::default()), first);
    }
}

#[test]
fn report_serializes_for_the_simulator() {
    let report = check_kv(&[put(1, "a", 0, 1), get(2, "b", 2, 3)], &Budget::default());
    let json = serde_json::to_value(&report).unwrap();
    assert_eq!(json["verdict"], "not_linearizable");
    assert_eq!(json["keys"][0]["key"], "k");
    assert_eq!(json["keys"][0]["verdict"], "not_linearizable");
    // The put of "a" is not needed to refute a read of "b", and nothing observed it.
    assert_eq!(json["keys"][0]["violation"]["operation_ids"], serde_json::json!([2]));
    assert_eq!(json["keys"][0]["violation"]["kind"], "never_written");
    assert_eq!(json["keys"][0]["violation"]["minimal"], serde_json::json!([2]));
    assert!(json["keys"][0]["violation"]["timeline"]
        .as_str()
        .unwrap()
        .contains("get returned \"b\""));
    assert_eq!(json["keys"][0]["candidate"], serde_json::Value::Null);
    assert_eq!(json["keys"][0]["unknown_cause"], serde_json::Value::Null);
}

#[test]
fn identical_pending_writes_each_take_effect_no_earlier_than_their_own_call() {
    // Two timed-out puts of the same value. The read at [1, 5] can only be explained by the
    // first one, called at 0; the second is called too late to help.
    let early = op(1, "k", KvInput::Put("x".into()), 0, None, Outcome::Unknown);
    let late = op(2, "k", KvInput::Put("x".into()), 10, None, Outcome::Unknown);
    let read = get(3, "x", 1, 5);
    assert_eq!(verdict(&[late.clone(), early.clone(), read.clone()]), Verdict::Linearizable);
    assert_eq!(verdict(&[early.clone(), late.clone(), read]), Verdict::Linearizable);
    // Both are needed here: "x" before the put of "y", and "x" again after it.
    let history = [early, late, get(3, "x", 1, 5), put(4, "y", 6, 7), get(5, "x", 20, 30)];
    assert_eq!(verdict(&history), Verdict::Linearizable);
}

#[test]
fn ok_outcome_without_return_must_still_take_effect() {
    // Odd but representable: the write is known to have happened, but no return time was
    // recorded. It may take effect at any point after its call, and must take effect.
    let unreturned = op(1, "k", KvInput::Put("x".into()), 0, None, ok(""));
    assert_eq!(verdict(&[unreturned.clone(), get(2, "", 10, 20)]), Verdict::Linearizable);
    let history = [unreturned, get(2, "x", 10, 20), get(3, "", 30, 40)];
    let report = check_kv(&history, &Budget::default());
    assert_eq!(report.verdict, Verdict::NotLinearizable);
    assert_eq!(report.keys[0].violation.as_ref().unwrap().operation_ids, vec![3, 1]);
}
