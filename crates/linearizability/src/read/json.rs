//! The simulator's JSON history: an array of [`KvOperation`] (see [`crate::history`] for one
//! operation's form), or an object whose `history` field holds one; other fields of the object
//! are ignored.

use std::path::Path;

use serde::Deserialize;

use super::{ReadError, ReadErrorKind};
use crate::history::{validate, KvOperation};

/// The object form; other fields (seed, scenario, ...) are the simulator's business.
#[derive(Deserialize)]
struct Wrapped {
    history: Vec<KvOperation>,
}

/// Parses a JSON history and checks it with [`validate`]. `path` is only used in error
/// messages.
pub fn parse_sim_json(text: &str, path: &Path) -> Result<Vec<KvOperation>, ReadError> {
    let parsed = if text.trim_start().starts_with('[') {
        serde_json::from_str::<Vec<KvOperation>>(text)
    } else {
        serde_json::from_str::<Wrapped>(text).map(|wrapped| wrapped.history)
    };
    let history = parsed.map_err(|error| {
        // serde_json appends " at line L column C" to its message; the position has its own
        // fields here.
        let message = error.to_string();
        let message = match message.rfind(" at line ") {
            Some(position) => message[..position].to_string(),
            None => message,
        };
        let kind = ReadErrorKind::Json { message, column: error.column() };
        ReadError::new(path, Some(error.line()), kind)
    })?;
    validate(&history).map_err(|error| {
        ReadError::new(path, None, ReadErrorKind::History { message: error.to_string() })
    })?;
    Ok(history)
}

#[cfg(test)]
mod tests {
    use super::*;

    const OPERATION: &str = r#"{"id": 1, "client": 2, "key": "k", "input": {"put": "v"},
        "call_us": 10, "return_us": null, "outcome": "unknown"}"#;

    #[test]
    fn accepts_an_array_or_an_object_with_a_history() {
        let path = Path::new("h.json");
        let from_array = parse_sim_json(&format!("[{OPERATION}]"), path).unwrap();
        let wrapped = format!("{{\"seed\": 7, \"history\": [{OPERATION}]}}");
        assert_eq!(parse_sim_json(&wrapped, path).unwrap(), from_array);
        assert_eq!(from_array[0].return_us, None);
    }

    #[test]
    fn errors_name_line_column_and_field() {
        let path = Path::new("h.json");
        let text = "[\n{\"id\": 1, \"client\": 2, \"key\": \"k\", \"input\": \"gett\"}\n]";
        let error = parse_sim_json(text, path).unwrap_err();
        assert_eq!(error.line, Some(2));
        let shown = error.to_string();
        assert!(shown.starts_with("h.json:2:"), "{shown}");
        assert!(shown.contains("gett"), "{shown}");
        let duplicate = format!("[{OPERATION}, {OPERATION}]");
        let error = parse_sim_json(&duplicate, path).unwrap_err();
        assert_eq!(error.to_string(), "h.json: operation id 1 occurs twice");
    }
}
