//! The history the checker reads: operations with an invocation time, a completion time (or
//! none) and an outcome.
//!
//! The JSON form (via serde) is the simulator's history format. One key-value operation looks
//! like this:
//!
//! ```json
//! {"id": 7, "client": 3, "key": "k1", "input": {"put": "v7"},
//!  "call_us": 1200, "return_us": 1350, "outcome": {"ok": ""}}
//! ```
//!
//! `input` is `"get"`, `{"put": s}` or `{"append": s}`; `outcome` is `{"ok": result}`,
//! `"failed"` or `"unknown"`; `return_us` is a number or `null` (never returned).

use serde::{Deserialize, Serialize};

/// What became of an operation, as far as the client knows.
///
/// Serialized externally tagged in snake case: `{"ok": result}`, `"failed"` or `"unknown"`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome<O> {
    /// The operation took effect and returned this result.
    Ok(O),
    /// The operation is known never to have taken effect; the checker drops it.
    Failed,
    /// The operation may or may not have taken effect, and its result is not known.
    Unknown,
}

/// One operation of a history, generic over the model's input and output types.
///
/// Times are closed intervals in one clock shared by all clients: operation A precedes B only
/// if `A.return_us < B.call_us`; equal times are concurrent. Readers of line-based formats
/// (see [`crate::read`]) store line numbers in the two time fields.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Operation<I, O> {
    /// The caller's id for the operation; unique within the history.
    pub id: u64,
    /// The client (process) that issued it.
    pub client: u64,
    /// The key it touches. Keys are checked independently; single-register histories use one
    /// constant key.
    pub key: String,
    /// What was asked.
    pub input: I,
    /// Invocation time.
    pub call_us: u64,
    /// Completion time; `None` if the operation never returned (pending forever). Required in
    /// JSON (write `null`), so that a misspelt field cannot silently mean "never returned".
    #[serde(deserialize_with = "Option::deserialize")]
    pub return_us: Option<u64>,
    /// What became of it.
    pub outcome: Outcome<O>,
}

/// The request of a key-value operation.
///
/// Serialized as `"get"`, `{"put": value}` or `{"append": value}`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KvInput {
    /// Read the key's value.
    Get,
    /// Replace the key's value.
    Put(String),
    /// Concatenate onto the key's value, with no separator.
    Append(String),
}

/// A key-value operation, as recorded by the simulator.
///
/// For a get, `Outcome::Ok` carries the value read. For a put or an append the payload of
/// `Outcome::Ok` is ignored; by convention it is the empty string.
pub type KvOperation = Operation<KvInput, String>;

/// A malformed operation, found by [`validate`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HistoryError {
    /// Two operations share an id.
    DuplicateId {
        /// The repeated id.
        id: u64,
    },
    /// An operation returned before it was invoked.
    ReturnBeforeCall {
        /// The operation's id.
        id: u64,
        /// Its invocation time.
        call_us: u64,
        /// Its completion time, earlier than `call_us`.
        return_us: u64,
    },
}

impl std::fmt::Display for HistoryError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            HistoryError::DuplicateId { id } => write!(f, "operation id {id} occurs twice"),
            HistoryError::ReturnBeforeCall { id, call_us, return_us } => {
                write!(f, "operation {id} returns at {return_us}us, before its call at {call_us}us")
            }
        }
    }
}

impl std::error::Error for HistoryError {}

/// Checks that ids are unique and that no operation returns before its call.
///
/// The checker itself does not require this (it treats a return before the call as a return
/// at the call), but such a history is almost certainly a recording bug, and readers reject
/// it.
pub fn validate<I, O>(history: &[Operation<I, O>]) -> Result<(), HistoryError> {
    let mut ids: Vec<u64> = history.iter().map(|operation| operation.id).collect();
    ids.sort_unstable();
    if let Some(pair) = ids.windows(2).find(|pair| pair[0] == pair[1]) {
        return Err(HistoryError::DuplicateId { id: pair[0] });
    }
    for operation in history {
        if let Some(return_us) = operation.return_us {
            if return_us < operation.call_us {
                return Err(HistoryError::ReturnBeforeCall {
                    id: operation.id,
                    call_us: operation.call_us,
                    return_us,
                });
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_form_is_externally_tagged_snake_case() {
        let operation = KvOperation {
            id: 7,
            client: 3,
            key: "k1".into(),
            input: KvInput::Put("v7".into()),
            call_us: 1200,
            return_us: None,
            outcome: Outcome::Unknown,
        };
        let text = serde_json::to_string(&operation).unwrap();
        let expected = concat!(
            r#"{"id":7,"client":3,"key":"k1","input":{"put":"v7"},"#,
            r#""call_us":1200,"return_us":null,"outcome":"unknown"}"#
        );
        assert_eq!(text, expected);
        assert_eq!(serde_json::from_str::<KvOperation>(&text).unwrap(), operation);
        let get = r#"{"id":1,"client":1,"key":"k","input":"get","call_us":1,"return_us":2,
            "outcome":{"ok":"x"}}"#;
        let parsed: KvOperation = serde_json::from_str(get).unwrap();
        assert_eq!(parsed.input, KvInput::Get);
        assert_eq!(parsed.outcome, Outcome::Ok("x".to_string()));
    }

    #[test]
    fn missing_return_field_is_an_error_not_pending() {
        let text = r#"{"id":1,"client":1,"key":"k","input":"get","call_us":1,"outcome":"failed"}"#;
        let error = serde_json::from_str::<KvOperation>(text).unwrap_err();
        assert!(error.to_string().contains("return_us"), "{error}");
    }

    #[test]
    fn validate_rejects_duplicates_and_backwards_intervals() {
        let mut history = vec![
            KvOperation {
                id: 1,
                client: 1,
                key: "k".into(),
                input: KvInput::Get,
                call_us: 5,
                return_us: Some(5),
                outcome: Outcome::Ok(String::new()),
            };
            2
        ];
        assert_eq!(validate(&history), Err(HistoryError::DuplicateId { id: 1 }));
        history[1].id = 2;
        assert_eq!(validate(&history), Ok(()));
        history[1].return_us = Some(4);
        assert_eq!(
            validate(&history),
            Err(HistoryError::ReturnBeforeCall { id: 2, call_us: 5, return_us: 4 })
        );
    }
}
