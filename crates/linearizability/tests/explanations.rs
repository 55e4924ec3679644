//! Violations are explained from a shrunk counterexample: these tests prove that shrinking
//! keeps a history refuted, keeps only a subset, removes only operations nobody observed and
//! ends 1-minimal; that stale reads, lost writes and reads of values never written are named
//! as such; and that the explanation text is deterministic, compared literally with snapshots
//! in `tests/snapshots/` (regenerate them with `UPDATE_EXPECT=1 cargo test`, then review the
//! diff).

use std::path::PathBuf;

use linearizability::{
    check, check_kv, Budget, CheckOptions, KvInput, KvModel, KvOperation, Operation, Outcome,
    RegisterInput, RegisterModel, RegisterOutput, Verdict, Violation, ViolationKind,
};
use rand_chacha::rand_core::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;

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
    op(id, "k", KvInput::Put(value.into()), call_us, Some(return_us), ok(""))
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

/// The single violation of a refuted history.
fn violation(history: &[KvOperation]) -> Violation {
    let report = check_kv(history, &Budget::default());
    assert_eq!(report.verdict, Verdict::NotLinearizable, "{history:#?}");
    report.violation().expect("a refuted key has a violation").1.clone()
}

/// Compares `actual` with `tests/snapshots/<name>.txt`, or rewrites the file when
/// `UPDATE_EXPECT` is set.
fn expect_snapshot(name: &str, actual: &str) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/snapshots")
        .join(format!("{name}.txt"));
    if std::env::var_os("UPDATE_EXPECT").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|error| {
        panic!("{}: {error}; run with UPDATE_EXPECT=1 to create it", path.display())
    });
    assert_eq!(actual, expected, "snapshot {name} differs; UPDATE_EXPECT=1 rewrites it");
}

/// Everything a reader sees of a violation, as one text.
fn shown(violation: &Violation) -> String {
    violation.render()
}

/// A stale read buried among noise: unrelated gets, a failed put and a put nobody read.
fn noisy_stale_read() -> Vec<KvOperation> {
    vec![
        put(1, "a", 0, 100),
        get(2, "a", 110, 120),
        op(3, "k", KvInput::Put("zzz".into()), 130, Some(140), Outcome::Failed),
        put(4, "b", 200, 300),
        get(5, "b", 310, 320),
        op(6, "k", KvInput::Get, 330, Some(340), Outcome::Unknown),
        get(7, "a", 400, 500),
        get(8, "b", 510, 520),
    ]
}

#[test]
fn stale_read_shrinks_to_three_operations_and_fits_one_screen() {
    let violation = violation(&noisy_stale_read());
    assert_eq!(violation.kind, ViolationKind::StaleRead);
    assert_eq!(violation.minimal, vec![1, 4, 7]);
    assert!(violation.minimal_complete);
    assert_eq!(violation.operation_ids, vec![7, 4]);
    let text = shown(&violation);
    assert!(text.lines().count() <= 25, "{text}");
    assert!(text.lines().all(|line| line.chars().count() <= 100), "{text}");
    expect_snapshot("stale_read", &text);
}

#[test]
fn lost_append_is_a_lost_write() {
    let history = [append(1, "x", 0, 10), append(2, "y", 20, 30), get(3, "y", 40, 50)];
    let violation = violation(&history);
    assert_eq!(violation.kind, ViolationKind::LostWrite);
    assert_eq!(violation.minimal, vec![1, 2, 3]);
    assert!(violation.operation_ids.contains(&1), "{violation:?}");
    expect_snapshot("lost_write", &shown(&violation));
}

#[test]
fn read_of_a_value_nobody_wrote() {
    let history = [put(1, "a", 0, 10), put(2, "b", 20, 30), get(3, "c", 40, 50)];
    let violation = violation(&history);
    assert_eq!(violation.kind, ViolationKind::NeverWritten);
    // Neither put was observed, and the read is refuted without them.
    assert_eq!(violation.minimal, vec![3]);
    expect_snapshot("never_written", &shown(&violation));
}

#[test]
fn long_values_and_pending_operations_stay_within_100_columns() {
    let value = "0123456789abcdef0000000000000001";
    let newer = "fedcba98765432100000000000000002";
    let history = [
        op(10_001, "k", KvInput::Put(value.into()), 1_000_000, None, Outcome::Unknown),
        put(10_002, newer, 2_000_000, 2_500_000),
        get(10_003, newer, 2_600_000, 2_700_000),
        get(10_004, value, 2_800_000, 2_900_000),
        get(10_005, newer, 3_000_000, 3_100_000),
    ];
    let violation = violation(&history);
    let text = shown(&violation);
    assert!(text.lines().all(|line| line.chars().count() <= 100), "{text}");
    expect_snapshot("long_values", &text);
}

#[test]
fn jepsen_register_stale_read() {
    let operation = |id, input, call_us, return_us, output| Operation {
        id,
        client: id,
        key: "register".to_string(),
        input,
        call_us,
        return_us: Some(return_us),
        outcome: Outcome::Ok(output),
    };
    let history = [
        operation(1, RegisterInput::Write(1), 1, 2, RegisterOutput::Written),
        operation(
            3,
            RegisterInput::Cas { from: 1, to: 4 },
            3,
            4,
            RegisterOutput::Cas { swapped: true },
        ),
        operation(5, RegisterInput::Read, 5, 6, RegisterOutput::Read(Some(1))),
        operation(7, RegisterInput::Read, 7, 8, RegisterOutput::Read(Some(4))),
    ];
    let options =
        CheckOptions { time_unit: linearizability::TimeUnit::Line, ..CheckOptions::default() };
    let report = check(&RegisterModel, &history, &options);
    let violation = report.violation().unwrap().1;
    assert_eq!(violation.kind, ViolationKind::StaleRead);
    // The last read observed nothing the violation needs, so it goes.
    assert_eq!(violation.minimal, vec![1, 3, 5]);
    expect_snapshot("register_stale_read", &shown(violation));
}

#[test]
fn explanations_do_not_depend_on_the_order_of_the_input() {
    let history = noisy_stale_read();
    let first = violation(&history);
    let mut reversed = history.clone();
    reversed.reverse();
    assert_eq!(violation(&reversed), first);
    for _ in 0..3 {
        assert_eq!(violation(&history), first);
    }
}

/// Linearizability of `history` (one key), straight from the checker.
fn linearizable(history: &[KvOperation]) -> bool {
    check_kv(history, &Budget::default()).verdict == Verdict::Linearizable
}

/// True if the model says some remaining operation may observe `writer`, i.e. the shrinker
/// is not allowed to remove it.
fn observed(history: &[KvOperation], writer: &KvOperation) -> bool {
    use linearizability::Model;
    history.iter().any(|reader| {
        reader.id != writer.id
            && reader.outcome != Outcome::Failed
            && KvModel.may_observe(&reader.input, &reader.outcome, &writer.input)
    })
}

/// Random small single-key histories with appends (so that writes observe one another through
/// the values read), refuted ones only: the shrunk history is refuted, a subset of the
/// original, and 1-minimal.
#[test]
fn shrunk_histories_are_refuted_subsets_and_one_minimal() {
    let mut refuted = 0;
    for seed in 0..600u64 {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut below = |bound: u64| rng.next_u64() % bound;
        let count = 3 + below(6);
        let history: Vec<KvOperation> = (0..count)
            .map(|id| {
                let call_us = below(20);
                let return_us = call_us + below(6);
                let (input, outcome) = match below(4) {
                    0 => (KvInput::Put(["a", "b"][below(2) as usize].into()), ok("")),
                    1 => (KvInput::Append(["a", "b"][below(2) as usize].into()), ok("")),
                    _ => (KvInput::Get, ok(["", "a", "b", "ab", "ba"][below(5) as usize])),
                };
                let outcome = if below(8) == 0 { Outcome::Unknown } else { outcome };
                op(id, "k", input, call_us, Some(return_us), outcome)
            })
            .collect();
        if linearizable(&history) {
            continue;
        }
        refuted += 1;
        let violation = violation(&history);
        assert!(violation.minimal_complete, "seed {seed}");
        let minimal: Vec<KvOperation> = history
            .iter()
            .filter(|operation| violation.minimal.contains(&operation.id))
            .cloned()
            .collect();
        assert_eq!(minimal.len(), violation.minimal.len(), "seed {seed}: a subset");
        assert!(!linearizable(&minimal), "seed {seed}: still refuted");
        for removed in &minimal {
            let rest: Vec<KvOperation> =
                minimal.iter().filter(|other| other.id != removed.id).cloned().collect();
            assert!(
                observed(&rest, removed) || linearizable(&rest),
                "seed {seed}: operation {} could still go: {minimal:#?}",
                removed.id
            );
        }
    }
    assert!(refuted >= 150, "only {refuted} refuted histories");
}
