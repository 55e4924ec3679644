//! Jepsen etcd logs: `INFO  jepsen.util - <process> <type> <f> <value>`, one event per line,
//! fields separated by tabs or runs of spaces. The object is one register that starts absent.
//!
//! | type | meaning |
//! |---|---|
//! | `:invoke` | a call: `:read nil`, `:write v` or `:cas [from to]` |
//! | `:ok` | it took effect; a read carries the value read (`nil` = absent) |
//! | `:fail` | a CAS whose compare failed, or a read that timed out (result unknown) |
//! | `:info` | timed out: outcome unknown, and the request may still be applied later |
//!
//! Lines without the `jepsen.util` prefix, and lines from the `:nemesis` process, are not
//! operations and are skipped.

use std::path::Path;

use super::{
    sort_by_call, OpenCalls, ReadError, ReadErrorKind, ReadOptions, RegisterOperation, TimedOut,
};
use crate::history::{Operation, Outcome};
use crate::register::{RegisterInput, RegisterOutput};

/// What every operation line starts with, after any leading whitespace.
pub(super) const LINE_PREFIX: &str = "jepsen.util - ";

/// The key all operations of a Jepsen log share.
pub const JEPSEN_KEY: &str = "register";

/// Parses a Jepsen log. `path` is only used in error messages.
pub fn parse_jepsen(
    text: &str,
    path: &Path,
    options: &ReadOptions,
) -> Result<Vec<RegisterOperation>, ReadError> {
    let mut open = OpenCalls::new();
    let mut history = Vec::new();
    // The first non-blank line that is not an operation: skipped, unless no line is one, in
    // which case the file is not a Jepsen log at all (a wrongly forced format, say).
    let mut first_skipped: Option<(usize, &str)> = None;
    let mut operation_lines = 0;
    for (index, line) in text.lines().enumerate() {
        let line_number = index + 1;
        let Some((_, fields)) = line.split_once(LINE_PREFIX) else {
            if !line.trim().is_empty() && first_skipped.is_none() {
                first_skipped = Some((line_number, line));
            }
            continue;
        };
        operation_lines += 1;
        let mut tokens = fields.split_whitespace();
        let process_field = tokens.next().unwrap_or("");
        if process_field == ":nemesis" {
            continue;
        }
        let process: u64 = process_field.parse().map_err(|_| {
            ReadError::malformed(path, line_number, "a process number", process_field)
        })?;
        let kind = tokens.next().unwrap_or("");
        let function = tokens.next().unwrap_or("");
        // A CAS value contains a space: `[3 0]`.
        let value = tokens.collect::<Vec<_>>().join(" ");
        let input = parse_input(path, line_number, function, &value, kind == ":invoke")?;
        if kind == ":invoke" {
            open.invoke(path, line_number, process, input)?;
            continue;
        }
        let (call_line, invoked) = open.complete(path, line_number, process)?;
        if std::mem::discriminant(&invoked) != std::mem::discriminant(&input) {
            let kind = ReadErrorKind::CompletionMismatch {
                process,
                invoked: format!("{invoked:?}"),
                completed: function.to_string(),
            };
            return Err(ReadError::new(path, Some(line_number), kind));
        }
        let (return_line, outcome) = match kind {
            ":ok" => {
                (Some(line_number), Outcome::Ok(ok_output(path, line_number, invoked, &value)?))
            }
            ":fail" => match invoked {
                RegisterInput::Cas { .. } => {
                    (Some(line_number), Outcome::Ok(RegisterOutput::Cas { swapped: false }))
                }
                // A read that timed out returned without a result.
                RegisterInput::Read => (Some(line_number), Outcome::Unknown),
                RegisterInput::Write(_) => (Some(line_number), Outcome::Failed),
            },
            ":info" => match options.timed_out {
                TimedOut::Pending => (None, Outcome::Unknown),
                TimedOut::ClosedAtInfoLine => {
                    (Some(line_number), Outcome::Ok(RegisterOutput::Unobserved))
                }
            },
            _ => {
                return Err(ReadError::malformed(
                    path,
                    line_number,
                    ":invoke, :ok, :fail or :info",
                    kind,
                ))
            }
        };
        history.push(operation(process, call_line, invoked, return_line, outcome));
    }
    if let (0, Some((line_number, line))) = (operation_lines, first_skipped) {
        let shown: String = line.chars().take(60).collect();
        let expected = "an `INFO  jepsen.util - <process> <type> <f> <value>` line";
        return Err(ReadError::malformed(path, line_number, expected, &shown));
    }
    for (process, call_line, input) in open.into_remaining() {
        history.push(operation(process, call_line, input, None, Outcome::Unknown));
    }
    sort_by_call(&mut history);
    Ok(history)
}

fn operation(
    process: u64,
    call_line: usize,
    input: RegisterInput,
    return_line: Option<usize>,
    outcome: Outcome<RegisterOutput>,
) -> RegisterOperation {
    Operation {
        id: call_line as u64,
        client: process,
        key: JEPSEN_KEY.to_string(),
        input,
        call_us: call_line as u64,
        return_us: return_line.map(|line| line as u64),
        outcome,
    }
}

/// The input named by `function`; on an invocation the value is its argument, otherwise it is
/// parsed by [`ok_output`] or ignored.
fn parse_input(
    path: &Path,
    line: usize,
    function: &str,
    value: &str,
    is_invoke: bool,
) -> Result<RegisterInput, ReadError> {
    match function {
        ":read" => Ok(RegisterInput::Read),
        ":write" if is_invoke => Ok(RegisterInput::Write(parse_integer(path, line, value)?)),
        // Completions repeat the argument or say `:timed-out`; the invocation's is used.
        ":write" => Ok(RegisterInput::Write(0)),
        ":cas" if is_invoke => {
            let (from, to) = parse_pair(path, line, value)?;
            Ok(RegisterInput::Cas { from, to })
        }
        ":cas" => Ok(RegisterInput::Cas { from: 0, to: 0 }),
        _ => Err(ReadError::malformed(path, line, ":read, :write or :cas", function)),
    }
}

fn ok_output(
    path: &Path,
    line: usize,
    invoked: RegisterInput,
    value: &str,
) -> Result<RegisterOutput, ReadError> {
    Ok(match invoked {
        RegisterInput::Read if value == "nil" => RegisterOutput::Read(None),
        RegisterInput::Read => RegisterOutput::Read(Some(parse_integer(path, line, value)?)),
        RegisterInput::Write(_) => RegisterOutput::Written,
        RegisterInput::Cas { .. } => RegisterOutput::Cas { swapped: true },
    })
}

fn parse_integer(path: &Path, line: usize, value: &str) -> Result<i64, ReadError> {
    value.parse().map_err(|_| ReadError::malformed(path, line, "an integer", value))
}

fn parse_pair(path: &Path, line: usize, value: &str) -> Result<(i64, i64), ReadError> {
    let malformed = || ReadError::malformed(path, line, "a pair like [1 2]", value);
    let inner =
        value.strip_prefix('[').and_then(|rest| rest.strip_suffix(']')).ok_or_else(malformed)?;
    let mut numbers = inner.split_whitespace().map(str::parse::<i64>);
    match (numbers.next(), numbers.next(), numbers.next()) {
        (Some(Ok(from)), Some(Ok(to)), None) => Ok((from, to)),
        _ => Err(malformed()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Vec<RegisterOperation>, ReadError> {
        parse_jepsen(text, Path::new("t.log"), &ReadOptions::default())
    }

    #[test]
    fn reads_tabs_and_spaces_and_keeps_timeouts_pending() {
        let text = "INFO  jepsen.util - 0\t:invoke\t:cas\t[3 0]\n\
                    INFO  jepsen.util - 1   :invoke   :write   4\n\
                    INFO  jepsen.util - 0\t:fail\t:cas\t[3 0]\n\
                    INFO  jepsen.util - 1\t:info\t:write\t:timed-out\n\
                    INFO  jepsen.util - 2\t:invoke\t:read\tnil\n\
                    INFO  jepsen.util - :nemesis\t:info\t:start\tnil\n\
                    INFO  jepsen.util - 2\t:ok\t:read\tnil\n";
        let history = parse(text).unwrap();
        assert_eq!(history.len(), 3);
        assert_eq!(history[0].input, RegisterInput::Cas { from: 3, to: 0 });
        assert_eq!(history[0].outcome, Outcome::Ok(RegisterOutput::Cas { swapped: false }));
        assert_eq!((history[0].call_us, history[0].return_us), (1, Some(3)));
        assert_eq!(history[1].input, RegisterInput::Write(4));
        assert_eq!((history[1].return_us, &history[1].outcome), (None, &Outcome::Unknown));
        assert_eq!(history[2].outcome, Outcome::Ok(RegisterOutput::Read(None)));
        assert_eq!(history[2].id, 5);

        let closed =
            ReadOptions { timed_out: TimedOut::ClosedAtInfoLine, ..ReadOptions::default() };
        let history = parse_jepsen(text, Path::new("t.log"), &closed).unwrap();
        assert_eq!(history[1].return_us, Some(4));
        assert_eq!(history[1].outcome, Outcome::Ok(RegisterOutput::Unobserved));
    }

    #[test]
    fn errors_name_the_line_and_the_problem() {
        let text = "INFO  jepsen.util - 0\t:invoke\t:write\tfour\n";
        let error = parse(text).unwrap_err();
        assert_eq!(error.to_string(), "t.log:1: expected an integer, found \"four\"");
        let text =
            "INFO  jepsen.util - 0\t:invoke\t:read\tnil\nINFO  jepsen.util - 1\t:ok\t:read\t1\n";
        let error = parse(text).unwrap_err();
        assert_eq!(error.line, Some(2));
        assert_eq!(error.kind, ReadErrorKind::CompletionWithoutInvocation { process: 1 });
        let text =
            "INFO  jepsen.util - 0\t:invoke\t:read\tnil\nINFO  jepsen.util - 0\t:ok\t:write\t1\n";
        let error = parse(text).unwrap_err();
        assert!(matches!(error.kind, ReadErrorKind::CompletionMismatch { process: 0, .. }));
    }

    #[test]
    fn a_file_without_any_operation_line_is_an_error_naming_its_first_line() {
        let text = "\n{:process 0, :type :invoke, :f :get, :key \"1\", :value nil}\n";
        let error = parse_jepsen(text, Path::new("h.txt"), &ReadOptions::default()).unwrap_err();
        let message = error.to_string();
        assert!(message.starts_with("h.txt:2"), "{message}");
        assert!(message.contains("jepsen.util"), "{message}");
        assert!(parse_jepsen("", Path::new("empty.log"), &ReadOptions::default())
            .unwrap()
            .is_empty());
    }
}
