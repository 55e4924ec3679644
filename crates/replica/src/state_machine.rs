//! The replicated key-value state machine: what applying committed entries builds.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use crate::Command;

/// The key-value map plus the set of put request ids already applied, so that a put that
/// reaches the log twice under one id takes effect once.
#[derive(Clone, Default, Debug, PartialEq, Eq)]
pub struct StateMachine {
    values: BTreeMap<Arc<str>, Arc<str>>,
    applied_put_mids: BTreeSet<Arc<str>>,
}

impl StateMachine {
    /// Applies one committed command and returns the value a get reads (`""` if the key was
    /// never written); puts and no-ops return `None`.
    pub fn apply(&mut self, command: &Command) -> Option<String> {
        match command {
            Command::Noop => None,
            Command::Put { mid, key, value, .. } => {
                if self.applied_put_mids.insert(mid.clone()) {
                    self.values.insert(key.clone(), value.clone());
                }
                None
            }
            Command::Get { key, .. } => Some(self.get(key).to_owned()),
        }
    }

    /// The current value of `key`, `""` if never written.
    pub fn get(&self, key: &str) -> &str {
        self.values.get(key).map_or("", |value| value)
    }

    /// Whether a put with this request id has been applied.
    pub fn has_applied_put(&self, mid: &str) -> bool {
        self.applied_put_mids.contains(mid)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::NodeId;

    fn put(mid: &str, value: &str) -> Command {
        Command::Put { client: NodeId(0x15), mid: mid.into(), key: "k".into(), value: value.into() }
    }

    #[test]
    fn a_put_applied_twice_under_one_id_takes_effect_once() {
        let mut machine = StateMachine::default();
        machine.apply(&put("A", "1"));
        machine.apply(&put("B", "2"));
        machine.apply(&put("A", "1"));
        assert_eq!(machine.get("k"), "2");
        assert!(machine.has_applied_put("A"));
        let get = Command::Get { client: NodeId(0x15), mid: "C".into(), key: "k".into() };
        assert_eq!(machine.apply(&get).as_deref(), Some("2"));
        let unknown = Command::Get { client: NodeId(0x15), mid: "D".into(), key: "x".into() };
        assert_eq!(machine.apply(&unknown).as_deref(), Some(""));
    }
}
