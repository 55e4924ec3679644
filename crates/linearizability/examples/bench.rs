//! Checks every history under a Porcupine test-data folder and prints one table row per file,
//! then a table comparing our times and memory with the Porcupine v1.3.0 figures quoted in
//! issue 3.
//!
//! ```text
//! cargo run --release -p linearizability --example bench -- /work/shared/histories/porcupine
//! cargo run --release -p linearizability --example bench -- FOLDER --runs 9
//! ```
//!
//! Per file: the verdict and the one `VERDICTS.md` expects, model steps, the median time of
//! `--runs` verdict-only checks (default 5; Porcupine's figures are verdict-only too), the time
//! of one check that also shrinks and explains a violation, peak memo entries, the library's
//! estimate of peak bytes held by the search, and how much the process's peak resident set
//! grew during the file (Linux only; `-` elsewhere).
//!
//! Exits 1 if any verdict differs from the expected one. Times are measured here, around the
//! library calls; the library itself reads no clock.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use linearizability::{check_file, FileCheckOptions, Verdict};

/// Porcupine v1.3.0 on the project's 2-core build machine, from issue 3: the history (a file,
/// or a group of files), milliseconds per check, and megabytes allocated per check.
const PORCUPINE: [(&str, f64, Option<f64>); 10] = [
    ("jepsen/ (all 102 logs)", 398.0, None),
    ("jepsen/etcd_002.log", 150.0, Some(28.0)),
    ("jepsen/etcd_007.log", 98.0, Some(17.0)),
    ("jepsen/etcd_057.log", 48.0, Some(10.0)),
    ("jepsen/etcd_099.log", 48.0, Some(11.0)),
    ("jepsen/etcd_040.log", 9.2, Some(3.0)),
    ("kv/c10-ok.txt", 0.64, Some(0.7)),
    ("kv/c10-bad.txt", 0.41, Some(0.6)),
    ("kv/c50-ok.txt", 176.0, Some(94.0)),
    ("kv/c50-bad.txt", 26.0, Some(14.0)),
];

/// What one file gave.
struct Row {
    verdict: &'static str,
    steps: u64,
    time: Duration,
    explain_time: Duration,
    memo_peak: u64,
    bytes_peak: u64,
    rss_growth_kib: Option<u64>,
}

fn main() -> ExitCode {
    let mut args = std::env::args_os().skip(1);
    let Some(folder) = args.next().map(PathBuf::from) else {
        eprintln!("usage: bench <folder with jepsen/, kv/ and VERDICTS.md> [--runs N]");
        return ExitCode::from(2);
    };
    let runs: usize = match (args.next(), args.next()) {
        (None, _) => 5,
        (Some(flag), Some(count)) if flag == "--runs" => match count.to_str().map(str::parse) {
            Some(Ok(count)) if count > 0 => count,
            _ => {
                eprintln!("--runs wants a positive number");
                return ExitCode::from(2);
            }
        },
        _ => {
            eprintln!("usage: bench <folder> [--runs N]");
            return ExitCode::from(2);
        }
    };
    let expected = match std::fs::read_to_string(folder.join("VERDICTS.md")) {
        Ok(text) => expected_verdicts(&text),
        Err(error) => {
            eprintln!("{}: {error}", folder.join("VERDICTS.md").display());
            return ExitCode::from(2);
        }
    };
    println!(
        "{:<22} {:<17} {:<17} {:>9} {:>9} {:>10} {:>9} {:>8} {:>8}",
        "file",
        "verdict",
        "expected",
        "steps",
        "time_ms",
        "explain_ms",
        "memo_peak",
        "kib_est",
        "kib_rss"
    );
    let mut mismatches = 0;
    let mut rows: BTreeMap<&str, Row> = BTreeMap::new();
    for (name, expected) in &expected {
        let row = match measure(&folder.join(name), runs) {
            Ok(row) => row,
            Err(error) => {
                eprintln!("{error}");
                mismatches += 1;
                continue;
            }
        };
        let flag = if row.verdict == *expected { "" } else { "  MISMATCH" };
        mismatches += usize::from(row.verdict != *expected);
        let rss = row.rss_growth_kib.map_or("-".to_string(), |kib| kib.to_string());
        println!(
            "{name:<22} {:<17} {expected:<17} {:>9} {:>9.3} {:>10.3} {:>9} {:>8} {rss:>8}{flag}",
            row.verdict,
            row.steps,
            milliseconds(row.time),
            milliseconds(row.explain_time),
            row.memo_peak,
            row.bytes_peak / 1024,
        );
        rows.insert(name.as_str(), row);
    }
    let total: Duration = rows.values().map(|row| row.time).sum();
    println!(
        "{} files, {mismatches} mismatches, {:.1} ms in total (median of {runs} runs each)",
        expected.len(),
        milliseconds(total)
    );
    println!();
    compare(&rows);
    if mismatches == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

/// Checks one file `runs` times without explanations (median time) and once with them.
fn measure(path: &Path, runs: usize) -> Result<Row, linearizability::read::ReadError> {
    let quick = FileCheckOptions { explain: false, ..FileCheckOptions::default() };
    let rss_before = resident_kib("VmRSS");
    reset_peak_resident();
    let mut times = Vec::with_capacity(runs);
    let mut file = None;
    for _ in 0..runs {
        let started = Instant::now();
        let result = check_file(path, &quick)?;
        times.push(started.elapsed());
        file = Some(result);
    }
    let rss_growth_kib = match (rss_before, resident_kib("VmHWM")) {
        (Some(before), Some(peak)) => Some(peak.saturating_sub(before)),
        _ => None,
    };
    let started = Instant::now();
    check_file(path, &FileCheckOptions::default())?;
    let explain_time = started.elapsed();
    times.sort_unstable();
    let report = file.and_then(|file| file.report);
    let (verdict, steps, memo_peak, bytes_peak) = match &report {
        Some(report) => (
            verdict_name(Some(report.verdict)),
            report.steps,
            report.memo_entries_peak,
            report.memory_bytes_peak,
        ),
        None => (verdict_name(None), 0, 0, 0),
    };
    Ok(Row {
        verdict,
        steps,
        time: times[times.len() / 2],
        explain_time,
        memo_peak,
        bytes_peak,
        rss_growth_kib,
    })
}

/// Prints our figures next to Porcupine's, with the ratio of times (ours / Porcupine's).
fn compare(rows: &BTreeMap<&str, Row>) {
    println!(
        "{:<24} {:>10} {:>10} {:>7} {:>12} {:>9} {:>9}",
        "vs Porcupine v1.3.0",
        "porc_ms",
        "our_ms",
        "ratio",
        "porc_MB_alloc",
        "our_MB_est",
        "our_MB_rss"
    );
    let jepsen: Vec<&Row> =
        rows.iter().filter(|(name, _)| name.starts_with("jepsen/")).map(|(_, row)| row).collect();
    for (name, porcupine_ms, porcupine_mb) in PORCUPINE {
        let (time, bytes, rss_kib) = if name.starts_with("jepsen/ (") {
            let time: Duration = jepsen.iter().map(|row| row.time).sum();
            let bytes = jepsen.iter().map(|row| row.bytes_peak).max().unwrap_or(0);
            let rss = jepsen.iter().filter_map(|row| row.rss_growth_kib).max();
            (time, bytes, rss)
        } else {
            match rows.get(name) {
                Some(row) => (row.time, row.bytes_peak, row.rss_growth_kib),
                None => continue,
            }
        };
        let ours_ms = milliseconds(time);
        let porcupine_mb = porcupine_mb.map_or("-".to_string(), |mb| format!("{mb:.1}"));
        let rss = rss_kib.map_or("-".to_string(), |kib| format!("{:.1}", kib as f64 / 1024.0));
        println!(
            "{name:<24} {porcupine_ms:>10.2} {ours_ms:>10.2} {:>7.3} {porcupine_mb:>12} {:>9.1} \
             {rss:>9}",
            ours_ms / porcupine_ms,
            bytes as f64 / (1024.0 * 1024.0),
        );
    }
    println!(
        "ratio = our median time / Porcupine's; the goal is at most 0.5. Porcupine's memory is \
         bytes allocated per check;\nours is the peak held (the library's estimate, and the \
         growth of the peak resident set, which includes reading the file)."
    );
}

fn milliseconds(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1e3
}

/// A `kB` field of `/proc/self/status`, such as `VmRSS` or `VmHWM`; `None` off Linux.
fn resident_kib(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|line| line.starts_with(field))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Resets the peak resident set (`VmHWM`) to the current one, so that each file's peak is its
/// own (Linux 4.0 and later; elsewhere the peak only grows and the figure is an upper bound).
fn reset_peak_resident() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
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
