//! Readers for history files: Jepsen etcd logs and Porcupine key-value logs (both described
//! in `shared/histories/porcupine/FORMAT.md`), and the simulator's JSON history.
//!
//! The two log formats have no timestamps: the order of lines is real-time order. Their
//! readers store 1-based line numbers in `call_us` and `return_us` and use the invocation's
//! line number as the operation id, so reports point back into the file. A completion belongs
//! to the open invocation of the same process. An invocation that never completes, or whose
//! completion is `:info` (timed out), has an unknown outcome and stays pending to the end of
//! time: it may have taken effect at any point after its call, or never.

mod jepsen;
mod json;
mod kv_log;

use std::fmt;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::history::{KvOperation, Operation};
use crate::register::{RegisterInput, RegisterOutput};

pub use jepsen::{parse_jepsen, JEPSEN_KEY};
pub use json::parse_sim_json;
pub use kv_log::parse_kv_log;

/// A register operation, as read from a Jepsen log.
pub type RegisterOperation = Operation<RegisterInput, RegisterOutput>;

/// The file formats the readers understand.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum HistoryFormat {
    /// `INFO  jepsen.util - <process> <type> <f> <value>` lines: a compare-and-set register.
    JepsenRegister,
    /// `{:process P, :type T, :f F, :key "K", :value V}` lines: a string key-value store.
    KvLog,
    /// The simulator's JSON: an array of [`KvOperation`], or an object whose `history` field
    /// holds one.
    SimJson,
}

impl HistoryFormat {
    /// The name used on the command line and in reports: `jepsen`, `kv` or `sim`.
    pub fn name(self) -> &'static str {
        match self {
            HistoryFormat::JepsenRegister => "jepsen",
            HistoryFormat::KvLog => "kv",
            HistoryFormat::SimJson => "sim",
        }
    }

    /// Guesses the format from the first non-blank character or line; `None` if the text is
    /// blank or unrecognized.
    pub fn sniff(text: &str) -> Option<HistoryFormat> {
        let first_line = text.lines().map(str::trim).find(|line| !line.is_empty())?;
        if first_line.starts_with("{:") {
            Some(HistoryFormat::KvLog)
        } else if first_line.starts_with('[') || first_line.starts_with('{') {
            Some(HistoryFormat::SimJson)
        } else if text.contains(jepsen::LINE_PREFIX) {
            Some(HistoryFormat::JepsenRegister)
        } else {
            None
        }
    }
}

impl fmt::Display for HistoryFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A format name that is not `jepsen`, `kv` or `sim`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownFormatName {
    /// The name given.
    pub name: String,
}

impl fmt::Display for UnknownFormatName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unknown history format {:?}; expected jepsen, kv or sim", self.name)
    }
}

impl std::error::Error for UnknownFormatName {}

impl std::str::FromStr for HistoryFormat {
    type Err = UnknownFormatName;

    /// Parses `jepsen`, `kv` or `sim`, the names [`HistoryFormat::name`] gives.
    fn from_str(name: &str) -> Result<Self, Self::Err> {
        match name {
            "jepsen" => Ok(HistoryFormat::JepsenRegister),
            "kv" => Ok(HistoryFormat::KvLog),
            "sim" => Ok(HistoryFormat::SimJson),
            _ => Err(UnknownFormatName { name: name.to_string() }),
        }
    }
}

/// What to do with operations that timed out (`:info`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum TimedOut {
    /// Pending to the end of time: they may take effect at any point after their call. This is
    /// the correct reading.
    #[default]
    Pending,
    /// Closed at the `:info` line as if they had completed there with an unobserved result,
    /// which is how a naive reader (or Porcupine's checker fed such a return) takes them: the
    /// operation must take effect between its call and the timeout. Wrong for Jepsen logs,
    /// where a timed-out request may be applied later or never; it exists so that a test can
    /// show the difference it makes.
    ClosedAtInfoLine,
}

/// Reader settings.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReadOptions {
    /// How to treat timed-out operations.
    pub timed_out: TimedOut,
    /// The file's format; `None` to guess it from the content (see [`HistoryFormat::sniff`]).
    pub format: Option<HistoryFormat>,
}

/// A history read from a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileHistory {
    /// From a Jepsen log; one key.
    Register(Vec<RegisterOperation>),
    /// From a key-value log or the simulator's JSON.
    Kv(Vec<KvOperation>),
}

impl FileHistory {
    /// Number of operations.
    pub fn len(&self) -> usize {
        match self {
            FileHistory::Register(history) => history.len(),
            FileHistory::Kv(history) => history.len(),
        }
    }

    /// True if there are no operations.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A file that could not be read as a history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadError {
    /// The file.
    pub path: PathBuf,
    /// The 1-based line the problem is on, when there is one.
    pub line: Option<usize>,
    /// What is wrong.
    pub kind: ReadErrorKind,
}

/// What is wrong with a history file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReadErrorKind {
    /// The file could not be read.
    Io {
        /// The operating system's message.
        message: String,
    },
    /// The text does not look like any known format.
    UnknownFormat,
    /// A field or token is not what the format allows here.
    Malformed {
        /// What the format allows.
        expected: &'static str,
        /// What the line has instead.
        found: String,
    },
    /// A completion for a process with no open invocation.
    CompletionWithoutInvocation {
        /// The process.
        process: u64,
    },
    /// An invocation by a process whose previous invocation is still open.
    InvocationWhileOpen {
        /// The process.
        process: u64,
        /// The line of the open invocation.
        open_line: usize,
    },
    /// A completion whose operation differs from its invocation's.
    CompletionMismatch {
        /// The process.
        process: u64,
        /// The invocation's operation.
        invoked: String,
        /// The completion's operation.
        completed: String,
    },
    /// The JSON does not hold a history.
    Json {
        /// serde_json's message, without its position.
        message: String,
        /// The 1-based column.
        column: usize,
    },
    /// The operations are inconsistent (see [`crate::HistoryError`]).
    History {
        /// The problem.
        message: String,
    },
}

impl ReadError {
    pub(crate) fn new(path: &Path, line: Option<usize>, kind: ReadErrorKind) -> Self {
        ReadError { path: path.to_path_buf(), line, kind }
    }

    pub(crate) fn malformed(path: &Path, line: usize, expected: &'static str, found: &str) -> Self {
        let found = found.to_string();
        ReadError::new(path, Some(line), ReadErrorKind::Malformed { expected, found })
    }
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.path.display())?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        if let ReadErrorKind::Json { column, .. } = self.kind {
            write!(f, ":{column}")?;
        }
        write!(f, ": {}", self.kind)
    }
}

impl fmt::Display for ReadErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReadErrorKind::Io { message } => write!(f, "cannot read: {message}"),
            ReadErrorKind::UnknownFormat => {
                write!(f, "not a Jepsen log, a key-value log or a JSON history")
            }
            ReadErrorKind::Malformed { expected, found } => {
                write!(f, "expected {expected}, found {found:?}")
            }
            ReadErrorKind::CompletionWithoutInvocation { process } => {
                write!(f, "completion by process {process}, which has no open invocation")
            }
            ReadErrorKind::InvocationWhileOpen { process, open_line } => write!(
                f,
                "invocation by process {process}, whose invocation on line {open_line} is still \
                 open"
            ),
            ReadErrorKind::CompletionMismatch { process, invoked, completed } => {
                write!(f, "completion of {completed} by process {process}, which invoked {invoked}")
            }
            ReadErrorKind::Json { message, .. } => write!(f, "{message}"),
            ReadErrorKind::History { message } => write!(f, "{message}"),
        }
    }
}

impl std::error::Error for ReadError {}

/// Reads a history file in the format `options` forces, or else guessing it from its content
/// (a file that is not in a forced format fails to parse, naming the line). A blank file gives
/// an empty history in the format forced or, failing that, the one its name suggests (Jepsen
/// for `.log`, key-value log for `.txt`, JSON otherwise).
pub fn read_history(
    path: &Path,
    options: &ReadOptions,
) -> Result<(HistoryFormat, FileHistory), ReadError> {
    let text = std::fs::read_to_string(path).map_err(|error| {
        ReadError::new(path, None, ReadErrorKind::Io { message: error.to_string() })
    })?;
    let format = match options.format.or_else(|| HistoryFormat::sniff(&text)) {
        Some(format) => format,
        None if text.trim().is_empty() => match path.extension().and_then(|ext| ext.to_str()) {
            Some("log") => HistoryFormat::JepsenRegister,
            Some("txt") => HistoryFormat::KvLog,
            _ => HistoryFormat::SimJson,
        },
        None => return Err(ReadError::new(path, None, ReadErrorKind::UnknownFormat)),
    };
    if text.trim().is_empty() {
        let history = match format {
            HistoryFormat::JepsenRegister => FileHistory::Register(Vec::new()),
            _ => FileHistory::Kv(Vec::new()),
        };
        return Ok((format, history));
    }
    let history = match format {
        HistoryFormat::JepsenRegister => FileHistory::Register(parse_jepsen(&text, path, options)?),
        HistoryFormat::KvLog => FileHistory::Kv(parse_kv_log(&text, path, options)?),
        HistoryFormat::SimJson => FileHistory::Kv(parse_sim_json(&text, path)?),
    };
    Ok((format, history))
}

/// Tracks the open invocation of each process in a line-based log and turns completions into
/// operations. Shared by both log formats.
pub(crate) struct OpenCalls<I> {
    /// Open invocations by process: (line, input). A `BTreeMap` so that operations still open
    /// at the end of the file come out in a fixed order.
    open: std::collections::BTreeMap<u64, (usize, I)>,
}

impl<I> OpenCalls<I> {
    pub(crate) fn new() -> Self {
        OpenCalls { open: std::collections::BTreeMap::new() }
    }

    /// Records an invocation on `line`.
    pub(crate) fn invoke(
        &mut self,
        path: &Path,
        line: usize,
        process: u64,
        input: I,
    ) -> Result<(), ReadError> {
        if let Some(&(open_line, _)) = self.open.get(&process) {
            let kind = ReadErrorKind::InvocationWhileOpen { process, open_line };
            return Err(ReadError::new(path, Some(line), kind));
        }
        self.open.insert(process, (line, input));
        Ok(())
    }

    /// Takes the open invocation a completion on `line` belongs to: (its line, its input).
    pub(crate) fn complete(
        &mut self,
        path: &Path,
        line: usize,
        process: u64,
    ) -> Result<(usize, I), ReadError> {
        self.open.remove(&process).ok_or_else(|| {
            ReadError::new(path, Some(line), ReadErrorKind::CompletionWithoutInvocation { process })
        })
    }

    /// The invocations never completed, by process.
    pub(crate) fn into_remaining(self) -> impl Iterator<Item = (u64, usize, I)> {
        self.open.into_iter().map(|(process, (line, input))| (process, line, input))
    }
}

/// Orders operations by invocation, which is also id order for the log formats.
pub(crate) fn sort_by_call<I, O>(history: &mut [Operation<I, O>]) {
    history.sort_by_key(|operation| (operation.call_us, operation.id));
}
