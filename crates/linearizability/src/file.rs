//! Checking a history file: read it, pick the model its format implies, and check it.
//!
//! The library reads no clock; a caller that wants the elapsed time measures around
//! [`check_file`].

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::check::{check, CheckOptions, TimeUnit};
use crate::kv::KvModel;
use crate::read::{read_history, FileHistory, HistoryFormat, ReadError, ReadOptions};
use crate::register::RegisterModel;
use crate::report::{Budget, Report};

/// How to read and check a file.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FileCheckOptions {
    /// Limits per key.
    pub budget: Budget,
    /// Reader settings.
    pub read: ReadOptions,
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

/// Reads and checks one history file: Jepsen logs against [`RegisterModel`], key-value logs
/// and the simulator's JSON against [`KvModel`], partitioned by key.
pub fn check_file(path: &Path, options: &FileCheckOptions) -> Result<FileReport, ReadError> {
    let (format, history) = read_history(path, &options.read)?;
    let time_unit = match format {
        HistoryFormat::JepsenRegister | HistoryFormat::KvLog => TimeUnit::Line,
        HistoryFormat::SimJson => TimeUnit::Microseconds,
    };
    let check_options = CheckOptions { budget: options.budget, time_unit };
    let report = match &history {
        _ if history.is_empty() => None,
        FileHistory::Register(history) => Some(check(&RegisterModel, history, &check_options)),
        FileHistory::Kv(history) => Some(check(&KvModel, history, &check_options)),
    };
    Ok(FileReport { path: path.to_path_buf(), format, operations: history.len(), report })
}
