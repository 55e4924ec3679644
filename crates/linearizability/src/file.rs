//! Checking a history file: read it, pick the model its format implies, check it, and render
//! the result as the text `sim check` prints.
//!
//! The library reads no clock; a caller that wants the elapsed time measures around
//! [`check_path`] or [`check_file`], and maps [`FileReport::verdict`] to its exit code.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::check::{check, CheckOptions, TimeUnit};
use crate::kv::KvModel;
use crate::read::{read_history, FileHistory, HistoryFormat, ReadError, ReadOptions};
use crate::register::RegisterModel;
use crate::report::{Budget, Report, UnknownCause, Verdict};

/// How to read and check a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileCheckOptions {
    /// Limits per key.
    pub budget: Budget,
    /// Reader settings, including a forced format.
    pub read: ReadOptions,
    /// Whether to shrink and explain violations (see [`CheckOptions::explain`]).
    pub explain: bool,
}

impl Default for FileCheckOptions {
    /// The default budget and reader, violations explained.
    fn default() -> Self {
        FileCheckOptions { budget: Budget::default(), read: ReadOptions::default(), explain: true }
    }
}

/// The result of checking one file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FileReport {
    /// The file.
    pub path: PathBuf,
    /// Its format.
    pub format: HistoryFormat,
    /// Operations read, including failed ones.
    pub operations: usize,
    /// The checker's report; `None` when the file holds no operations, which gets no verdict.
    pub report: Option<Report>,
}

impl FileReport {
    /// The overall verdict; `None` for a file without operations.
    pub fn verdict(&self) -> Option<Verdict> {
        self.report.as_ref().map(|report| report.verdict)
    }

    /// The text `sim check` prints: see the [`fmt::Display`] implementation.
    pub fn render(&self) -> String {
        self.to_string()
    }
}

/// One line per key (verdict, operations, steps, memo peak), a total line, and for every
/// refuted key its explanation and timeline. No times: the caller adds the elapsed time.
///
/// ```text
/// file jepsen/etcd_000.log (jepsen, 85 operations)
/// key "register": not linearizable, 85 operations, 1263 steps, memo peak 300
/// total: not linearizable, 1 key, 1263 steps, memo peak 300, about 24 KiB
/// key "register": stale read: read returned 2 by client 4 [line 3, line 9] cannot be ...
/// stale read on key "register": 3 of 85 operations remain after shrinking
/// ...
/// ```
impl fmt::Display for FileReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "file {} ({}, {} operations)",
            self.path.display(),
            self.format,
            self.operations
        )?;
        let Some(report) = &self.report else {
            return writeln!(f, "total: no operations, no verdict");
        };
        for key in &report.keys {
            write!(
                f,
                "key {:?}: {}, {} operations, {} steps, memo peak {}",
                key.key,
                verdict_text(key.verdict),
                key.operations,
                key.steps,
                key.memo_entries_peak
            )?;
            match key.unknown_cause {
                Some(UnknownCause::StepsSpent) => write!(f, " (step budget spent)")?,
                Some(UnknownCause::MemoSpent) => write!(f, " (memo budget spent)")?,
                Some(UnknownCause::OtherKeyRefuted) => write!(f, " (stopped: another key failed)")?,
                None => {}
            }
            writeln!(f)?;
        }
        let keys = report.keys.len();
        writeln!(
            f,
            "total: {}, {keys} key{}, {} steps, memo peak {}, about {} KiB",
            verdict_text(report.verdict),
            if keys == 1 { "" } else { "s" },
            report.steps,
            report.memo_entries_peak,
            report.memory_bytes_peak.div_ceil(1024)
        )?;
        for key in &report.keys {
            if let Some(violation) = &key.violation {
                write!(f, "{}", violation.render())?;
            }
        }
        Ok(())
    }
}

fn verdict_text(verdict: Verdict) -> &'static str {
    match verdict {
        Verdict::Linearizable => "linearizable",
        Verdict::NotLinearizable => "NOT linearizable",
        Verdict::Unknown => "unknown",
    }
}

/// Reads and checks one history file: Jepsen logs against [`RegisterModel`], key-value logs
/// and the simulator's JSON against [`KvModel`], partitioned by key.
pub fn check_file(path: &Path, options: &FileCheckOptions) -> Result<FileReport, ReadError> {
    let (format, history) = read_history(path, &options.read)?;
    let time_unit = match format {
        HistoryFormat::JepsenRegister | HistoryFormat::KvLog => TimeUnit::Line,
        HistoryFormat::SimJson => TimeUnit::Microseconds,
    };
    let check_options =
        CheckOptions { budget: options.budget, time_unit, explain: options.explain };
    let report = match &history {
        _ if history.is_empty() => None,
        FileHistory::Register(history) => Some(check(&RegisterModel, history, &check_options)),
        FileHistory::Kv(history) => Some(check(&KvModel, history, &check_options)),
    };
    Ok(FileReport { path: path.to_path_buf(), format, operations: history.len(), report })
}

/// What `sim check FILE [--format jepsen|kv|sim]` calls: reads `path` in `format` (sniffed from
/// the content if `None`; parse the flag with `str::parse::<HistoryFormat>()`), checks it
/// within `budget` and explains any violation. Print the result with [`FileReport::render`].
pub fn check_path(
    path: &Path,
    format: Option<HistoryFormat>,
    budget: &Budget,
) -> Result<FileReport, ReadError> {
    let read = ReadOptions { format, ..ReadOptions::default() };
    check_file(path, &FileCheckOptions { budget: *budget, read, explain: true })
}
