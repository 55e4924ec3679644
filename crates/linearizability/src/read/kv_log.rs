//! Porcupine's key-value logs: one EDN-style map per line,
//! `{:process P, :type T, :f F, :key "K", :value V}`, with `:get`, `:put` and `:append`.
//!
//! The published files only hold `:invoke` and `:ok`; `:fail` (never took effect) and `:info`
//! (timed out, pending forever) are accepted too, and an invocation still open at the end of
//! the file is pending forever.

use std::path::Path;

use super::{sort_by_call, OpenCalls, ReadError, ReadErrorKind, ReadOptions, TimedOut};
use crate::history::{KvInput, KvOperation, Operation, Outcome};

/// Parses a key-value log. `path` is only used in error messages.
pub fn parse_kv_log(
    text: &str,
    path: &Path,
    options: &ReadOptions,
) -> Result<Vec<KvOperation>, ReadError> {
    let mut open: OpenCalls<(String, KvInput)> = OpenCalls::new();
    let mut history = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let line_number = index + 1;
        if line.trim().is_empty() {
            continue;
        }
        let event = parse_line(line.trim(), path, line_number)?;
        let input = match (event.function, &event.value) {
            (":get", _) => KvInput::Get,
            (":put", Some(value)) => KvInput::Put(value.clone()),
            (":append", Some(value)) => KvInput::Append(value.clone()),
            (":put" | ":append", None) => {
                return Err(ReadError::malformed(path, line_number, "a quoted value", "nil"))
            }
            (other, _) => {
                return Err(ReadError::malformed(path, line_number, ":get, :put or :append", other))
            }
        };
        if event.kind == ":invoke" {
            open.invoke(path, line_number, event.process, (event.key, input))?;
            continue;
        }
        let (call_line, (key, invoked)) = open.complete(path, line_number, event.process)?;
        if std::mem::discriminant(&invoked) != std::mem::discriminant(&input) || key != event.key {
            let kind = ReadErrorKind::CompletionMismatch {
                process: event.process,
                invoked: format!("{invoked:?} on key {key:?}"),
                completed: format!("{input:?} on key {:?}", event.key),
            };
            return Err(ReadError::new(path, Some(line_number), kind));
        }
        let (return_line, outcome) = match event.kind {
            ":ok" => {
                let result = match invoked {
                    KvInput::Get => event.value.unwrap_or_default(),
                    _ => String::new(),
                };
                (Some(line_number), Outcome::Ok(result))
            }
            ":fail" => (Some(line_number), Outcome::Failed),
            ":info" => match options.timed_out {
                TimedOut::Pending => (None, Outcome::Unknown),
                // Taken as completed at the timeout, result unobserved: writes must have
                // happened; a read's value is unknown, so it is dropped.
                TimedOut::ClosedAtInfoLine => match invoked {
                    KvInput::Get => (Some(line_number), Outcome::Unknown),
                    _ => (Some(line_number), Outcome::Ok(String::new())),
                },
            },
            other => {
                let expected = ":invoke, :ok, :fail or :info";
                return Err(ReadError::malformed(path, line_number, expected, other));
            }
        };
        history.push(operation(event.process, call_line, key, invoked, return_line, outcome));
    }
    for (process, call_line, (key, input)) in open.into_remaining() {
        history.push(operation(process, call_line, key, input, None, Outcome::Unknown));
    }
    sort_by_call(&mut history);
    Ok(history)
}

fn operation(
    process: u64,
    call_line: usize,
    key: String,
    input: KvInput,
    return_line: Option<usize>,
    outcome: Outcome<String>,
) -> KvOperation {
    Operation {
        id: call_line as u64,
        client: process,
        key,
        input,
        call_us: call_line as u64,
        return_us: return_line.map(|line| line as u64),
        outcome,
    }
}

/// The fields of one line.
struct Event<'t> {
    process: u64,
    kind: &'t str,
    function: &'t str,
    key: String,
    /// `None` for `nil`.
    value: Option<String>,
}

fn parse_line<'t>(line: &'t str, path: &Path, line_number: usize) -> Result<Event<'t>, ReadError> {
    let mut cursor = Cursor { rest: line, path, line: line_number };
    cursor.expect("{:process ")?;
    let process_text = cursor.until(',')?;
    let process = process_text
        .parse()
        .map_err(|_| ReadError::malformed(path, line_number, "a process number", process_text))?;
    cursor.expect(", :type ")?;
    let kind = cursor.until(',')?;
    cursor.expect(", :f ")?;
    let function = cursor.until(',')?;
    cursor.expect(", :key ")?;
    let key = cursor.quoted()?;
    cursor.expect(", :value ")?;
    let value = if cursor.rest.starts_with("nil") {
        cursor.expect("nil")?;
        None
    } else {
        Some(cursor.quoted()?)
    };
    cursor.expect("}")?;
    if !cursor.rest.is_empty() {
        return Err(ReadError::malformed(path, line_number, "the end of the line", cursor.rest));
    }
    Ok(Event { process, kind, function, key, value })
}

/// Walks through one line, reporting the first thing out of place.
struct Cursor<'t, 'p> {
    rest: &'t str,
    path: &'p Path,
    line: usize,
}

impl<'t> Cursor<'t, '_> {
    fn expect(&mut self, literal: &'static str) -> Result<(), ReadError> {
        match self.rest.strip_prefix(literal) {
            Some(rest) => {
                self.rest = rest;
                Ok(())
            }
            None => Err(ReadError::malformed(self.path, self.line, literal, self.rest)),
        }
    }

    /// The text up to (not including) `end`.
    fn until(&mut self, end: char) -> Result<&'t str, ReadError> {
        let Some(position) = self.rest.find(end) else {
            return Err(ReadError::malformed(self.path, self.line, "a comma", self.rest));
        };
        let (token, rest) = self.rest.split_at(position);
        self.rest = rest;
        Ok(token)
    }

    /// A double-quoted string; `\"` and `\\` are unescaped.
    fn quoted(&mut self) -> Result<String, ReadError> {
        let malformed =
            |rest: &str| ReadError::malformed(self.path, self.line, "a quoted string", rest);
        let Some(body) = self.rest.strip_prefix('"') else { return Err(malformed(self.rest)) };
        let mut value = String::new();
        let mut chars = body.char_indices();
        while let Some((position, c)) = chars.next() {
            match c {
                '"' => {
                    self.rest = &body[position + 1..];
                    return Ok(value);
                }
                '\\' => match chars.next() {
                    Some((_, escaped)) => value.push(escaped),
                    None => break,
                },
                _ => value.push(c),
            }
        }
        Err(malformed(self.rest))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Vec<KvOperation>, ReadError> {
        parse_kv_log(text, Path::new("c.txt"), &ReadOptions::default())
    }

    #[test]
    fn pairs_invocations_with_completions_by_process() {
        let text = r#"{:process 9, :type :invoke, :f :append, :key "0", :value "x 9 0 y"}
{:process 2, :type :invoke, :f :get, :key "1", :value nil}
{:process 2, :type :ok, :f :get, :key "1", :value "x 0 0 yx 9 0 y"}
{:process 9, :type :ok, :f :append, :key "0", :value "x 9 0 y"}
{:process 3, :type :invoke, :f :put, :key "2", :value "v"}
"#;
        let history = parse(text).unwrap();
        assert_eq!(history.len(), 3);
        assert_eq!(history[0].input, KvInput::Append("x 9 0 y".into()));
        assert_eq!((history[0].call_us, history[0].return_us), (1, Some(4)));
        assert_eq!(history[1].outcome, Outcome::Ok("x 0 0 yx 9 0 y".into()));
        assert_eq!(history[1].key, "1");
        // Never completed: pending forever.
        assert_eq!((history[2].return_us, &history[2].outcome), (None, &Outcome::Unknown));
    }

    #[test]
    fn errors_name_the_line_and_the_problem() {
        let text = "{:process 9, :type :invoke, :f :append, :key 0, :value \"x\"}\n";
        let error = parse(text).unwrap_err();
        assert_eq!(
            error.to_string(),
            "c.txt:1: expected a quoted string, found \"0, :value \\\"x\\\"}\""
        );
        let text = "{:process 9, :type :invoke, :f :get, :key \"0\", :value nil}\n\
                    {:process 9, :type :invoke, :f :get, :key \"0\", :value nil}\n";
        let error = parse(text).unwrap_err();
        assert_eq!(error.kind, ReadErrorKind::InvocationWhileOpen { process: 9, open_line: 1 });
        assert_eq!(error.line, Some(2));
    }
}
