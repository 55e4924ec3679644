//! Checks every history under a Porcupine test-data folder and prints one table row per file:
//! the verdict, the verdict `VERDICTS.md` expects, model steps, elapsed time, peak memo
//! entries and the library's estimate of peak bytes held by the search.
//!
//! ```text
//! cargo run --release -p linearizability --example bench -- /work/shared/histories/porcupine
//! ```
//!
//! Exits 1 if any verdict differs from the expected one. Elapsed time is measured here, around
//! the library call; the library itself reads no clock.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use linearizability::{check_file, FileCheckOptions, Verdict};

fn main() -> ExitCode {
    let Some(folder) = std::env::args_os().nth(1).map(PathBuf::from) else {
        eprintln!("usage: bench <folder with jepsen/, kv/ and VERDICTS.md>");
        return ExitCode::from(2);
    };
    let expected = match std::fs::read_to_string(folder.join("VERDICTS.md")) {
        Ok(text) => expected_verdicts(&text),
        Err(error) => {
            eprintln!("{}: {error}", folder.join("VERDICTS.md").display());
            return ExitCode::from(2);
        }
    };
    println!(
        "{:<22} {:<17} {:<17} {:>10} {:>10} {:>10} {:>10}",
        "file", "verdict", "expected", "steps", "time_ms", "memo_peak", "kib_peak"
    );
    let mut mismatches = 0;
    let mut total = Duration::ZERO;
    for (name, expected) in &expected {
        let path = folder.join(name);
        let started = Instant::now();
        let result = check_file(&path, &FileCheckOptions::default());
        let elapsed = started.elapsed();
        total += elapsed;
        let row = match result {
            Ok(file) => match file.report {
                Some(report) => {
                    let verdict = verdict_name(Some(report.verdict));
                    let kib = report.memory_bytes_peak / 1024;
                    (verdict, report.steps, report.memo_entries_peak, kib)
                }
                None => (verdict_name(None), 0, 0, 0),
            },
            Err(error) => {
                eprintln!("{error}");
                ("read error", 0, 0, 0)
            }
        };
        let (verdict, steps, memo_peak, kib_peak) = row;
        let flag = if verdict == *expected { "" } else { "  MISMATCH" };
        mismatches += usize::from(verdict != *expected);
        println!(
            "{name:<22} {verdict:<17} {expected:<17} {steps:>10} {:>10.3} {memo_peak:>10} \
             {kib_peak:>10}{flag}",
            elapsed.as_secs_f64() * 1e3
        );
    }
    println!(
        "{} files, {mismatches} mismatches, {:.1} ms in total",
        expected.len(),
        total.as_secs_f64() * 1e3
    );
    if mismatches == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

fn verdict_name(verdict: Option<Verdict>) -> &'static str {
    match verdict {
        Some(Verdict::Linearizable) => "linearizable",
        Some(Verdict::NotLinearizable) => "not_linearizable",
        Some(Verdict::Unknown) => "unknown",
        None => "empty",
    }
}

/// File name -> expected verdict name, from the tables' first two columns.
fn expected_verdicts(text: &str) -> BTreeMap<String, &'static str> {
    let mut expected = BTreeMap::new();
    for line in text.lines() {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        if cells.len() < 3 || !(cells[1].starts_with("jepsen/") || cells[1].starts_with("kv/")) {
            continue;
        }
        let verdict = match cells[2] {
            "linearizable" => "linearizable",
            "NOT linearizable" => "not_linearizable",
            other if other.starts_with("none") => "empty",
            _ => continue,
        };
        expected.insert(cells[1].to_string(), verdict);
    }
    expected
}
