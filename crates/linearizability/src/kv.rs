//! The key-value model: one key's string value, with get, put and append.
//!
//! Histories are partitioned by key before the search, so the state is a single string. Every
//! key starts as the empty string.

use crate::history::{KvInput, Outcome};
use crate::model::{Model, Step};

/// The sequential specification of one key of a string key-value store.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct KvModel;

impl Model for KvModel {
    type Input = KvInput;
    type Output = String;
    type State = String;

    fn init(&self) -> String {
        String::new()
    }

    fn step(&self, state: &String, input: &KvInput, output: Option<&String>) -> Step<String> {
        match input {
            KvInput::Get => match output {
                Some(read) if read != state => Step::Illegal,
                _ => Step::Unchanged,
            },
            KvInput::Put(value) if value == state => Step::Unchanged,
            KvInput::Put(value) => Step::Changed(value.clone()),
            KvInput::Append(suffix) if suffix.is_empty() => Step::Unchanged,
            KvInput::Append(suffix) => {
                let mut next = String::with_capacity(state.len() + suffix.len());
                next.push_str(state);
                next.push_str(suffix);
                Step::Changed(next)
            }
        }
    }

    fn is_read_only(&self, input: &KvInput) -> bool {
        matches!(input, KvInput::Get)
    }

    /// Only a get that returned a value observes anything: a put's value as the start of the
    /// value read, an append's suffix anywhere in it. Removing a write changes the state only
    /// from that write up to the next put, where every state starts with the put's value (or
    /// contains the append's suffix); a get that read none of those states is unaffected, and
    /// puts and appends are legal in any state.
    fn may_observe(
        &self,
        reader: &KvInput,
        reader_outcome: &Outcome<String>,
        writer: &KvInput,
    ) -> bool {
        let (KvInput::Get, Outcome::Ok(read)) = (reader, reader_outcome) else { return false };
        match writer {
            KvInput::Get => false,
            KvInput::Put(value) => read.starts_with(value.as_str()),
            KvInput::Append(suffix) => read.contains(suffix.as_str()),
        }
    }

    fn describe_operation(&self, input: &KvInput, outcome: &Outcome<String>) -> String {
        match (input, outcome) {
            (KvInput::Get, Outcome::Ok(read)) => format!("get returned {read:?}"),
            (KvInput::Get, _) => "get (result unknown)".to_string(),
            (KvInput::Put(value), Outcome::Unknown) => format!("put {value:?} (outcome unknown)"),
            (KvInput::Put(value), _) => format!("put {value:?}"),
            (KvInput::Append(suffix), Outcome::Unknown) => {
                format!("append {suffix:?} (outcome unknown)")
            }
            (KvInput::Append(suffix), _) => format!("append {suffix:?}"),
        }
    }

    fn describe_state(&self, state: &String) -> String {
        format!("{state:?}")
    }

    fn state_heap_bytes(&self, state: &String) -> usize {
        state.capacity()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_follow_the_specification() {
        let model = KvModel;
        let state = "ab".to_string();
        assert_eq!(model.step(&state, &KvInput::Get, Some(&"ab".into())), Step::Unchanged);
        assert_eq!(model.step(&state, &KvInput::Get, Some(&"a".into())), Step::Illegal);
        assert_eq!(model.step(&state, &KvInput::Get, None), Step::Unchanged);
        assert_eq!(
            model.step(&state, &KvInput::Append("c".into()), None),
            Step::Changed("abc".into())
        );
        assert_eq!(model.step(&state, &KvInput::Put("ab".into()), None), Step::Unchanged);
        assert_eq!(
            model.step(&state, &KvInput::Put("x".into()), Some(&String::new())),
            Step::Changed("x".into())
        );
    }
}
