//! Reproduces every verdict of `shared/histories/porcupine/VERDICTS.md`: 102 Jepsen etcd logs
//! (plus the empty `etcd_095.log`, which gets no verdict) and 6 key-value logs. A negative
//! control shows that the reader keeps timed-out operations pending: closing them at their
//! `:info` line instead flips 21 of the 23 linearizable Jepsen verdicts.
//!
//! The data lives outside this crate. Without it the tests print a note and pass, unless the
//! `CI` environment variable is set, in which case they fail.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use linearizability::read::{ReadOptions, TimedOut};
use linearizability::{check_file, FileCheckOptions, Verdict};

/// The data folder, or `None` (after a note) when it is absent outside CI.
fn data_folder() -> Option<PathBuf> {
    let folder =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/histories/porcupine");
    if folder.join("VERDICTS.md").is_file() {
        return Some(folder);
    }
    if std::env::var_os("CI").is_some() {
        panic!("CI is set but the Porcupine histories are missing: {}", folder.display());
    }
    println!("note: skipping, no Porcupine histories at {}", folder.display());
    None
}

/// File name -> expected verdict (`None` for the empty file), from VERDICTS.md's tables.
fn expected_verdicts(folder: &Path) -> BTreeMap<String, Option<Verdict>> {
    let text = std::fs::read_to_string(folder.join("VERDICTS.md")).unwrap();
    let mut expected = BTreeMap::new();
    for line in text.lines() {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        if cells.len() < 3 || !(cells[1].starts_with("jepsen/") || cells[1].starts_with("kv/")) {
            continue;
        }
        let verdict = match cells[2] {
            "linearizable" => Some(Verdict::Linearizable),
            "NOT linearizable" => Some(Verdict::NotLinearizable),
            other if other.starts_with("none") => None,
            other => panic!("unexpected verdict cell {other:?} for {}", cells[1]),
        };
        expected.insert(cells[1].to_string(), verdict);
    }
    expected
}

fn count(
    expected: &BTreeMap<String, Option<Verdict>>,
    prefix: &str,
    verdict: Option<Verdict>,
) -> usize {
    expected.iter().filter(|(name, v)| name.starts_with(prefix) && **v == verdict).count()
}

#[test]
fn every_published_verdict_is_reproduced() {
    let Some(folder) = data_folder() else { return };
    let expected = expected_verdicts(&folder);
    // The table itself, so that a parsing slip cannot make this test vacuous.
    assert_eq!(count(&expected, "jepsen/", Some(Verdict::Linearizable)), 23);
    assert_eq!(count(&expected, "jepsen/", Some(Verdict::NotLinearizable)), 79);
    assert_eq!(count(&expected, "jepsen/", None), 1);
    assert_eq!(count(&expected, "kv/", Some(Verdict::Linearizable)), 3);
    assert_eq!(count(&expected, "kv/", Some(Verdict::NotLinearizable)), 3);

    let mut mismatches = Vec::new();
    for (name, verdict) in &expected {
        let file = check_file(&folder.join(name), &FileCheckOptions::default())
            .unwrap_or_else(|error| panic!("{error}"));
        let got = file.report.as_ref().map(|report| report.verdict);
        if got != *verdict {
            mismatches.push(format!("{name}: got {got:?}, expected {verdict:?}"));
            continue;
        }
        match &file.report {
            None => assert_eq!(file.operations, 0, "{name}: only an empty file has no verdict"),
            Some(report) if report.verdict == Verdict::NotLinearizable => {
                let (_, violation) = report.violation().expect("a refuted key has a violation");
                assert!(!violation.operation_ids.is_empty(), "{name}");
                assert!(violation.explanation.contains("cannot be linearized"), "{name}");
            }
            Some(_) => {}
        }
    }
    assert!(mismatches.is_empty(), "verdicts differ:\n{}", mismatches.join("\n"));
}

/// Step counts are deterministic, so they guard the search's efficiency without timing it.
/// A plain WGL search needs about 1.2M and 0.9M steps on these two logs.
#[test]
fn hardest_linearizable_logs_stay_cheap() {
    let Some(folder) = data_folder() else { return };
    for (name, steps_max) in [("jepsen/etcd_002.log", 250_000), ("jepsen/etcd_007.log", 100_000)] {
        let file = check_file(&folder.join(name), &FileCheckOptions::default()).unwrap();
        let report = file.report.unwrap();
        assert_eq!(report.verdict, Verdict::Linearizable, "{name}");
        assert!(report.steps <= steps_max, "{name}: {} steps", report.steps);
    }
}

#[test]
fn closing_timed_out_operations_at_their_info_line_flips_21_of_23() {
    let Some(folder) = data_folder() else { return };
    let linearizable: Vec<String> = expected_verdicts(&folder)
        .into_iter()
        .filter(|(name, verdict)| {
            name.starts_with("jepsen/") && *verdict == Some(Verdict::Linearizable)
        })
        .map(|(name, _)| name)
        .collect();
    assert_eq!(linearizable.len(), 23);
    let closed = FileCheckOptions {
        read: ReadOptions { timed_out: TimedOut::ClosedAtInfoLine, ..ReadOptions::default() },
        ..FileCheckOptions::default()
    };
    let mut flipped = 0;
    for name in &linearizable {
        let pending = check_file(&folder.join(name), &FileCheckOptions::default()).unwrap();
        assert_eq!(pending.report.unwrap().verdict, Verdict::Linearizable, "{name}");
        let report = check_file(&folder.join(name), &closed).unwrap().report.unwrap();
        assert_ne!(report.verdict, Verdict::Unknown, "{name}");
        flipped += usize::from(report.verdict == Verdict::NotLinearizable);
    }
    assert_eq!(flipped, 21);
}
