//! Log entries: the commands a leader orders, each stamped with the term it was created in.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::NodeId;

/// One log entry. Index positions are implicit: the first entry of a log has index 1.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct Entry {
    /// The term of the leader that created the entry.
    pub term: u64,
    /// What applying the entry does.
    pub command: Command,
}

/// A command in the log. Gets go through the log too, so that a get is answered only by a
/// leader whose term's entry at that index was committed: no stale read is possible.
///
/// Its strings are shared (`Arc<str>`), so that copying entries into AppendEntries messages,
/// which the leader does for every follower, allocates nothing.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Command {
    /// Appended by every new leader so that it can commit entries of its own term (§8).
    Noop,
    /// Set `key` to `value`; applied at most once per `mid` (exactly-once under retries).
    Put {
        /// The client that asked.
        client: NodeId,
        /// The client's request id.
        #[serde(rename = "MID")]
        mid: Arc<str>,
        /// The key written.
        key: Arc<str>,
        /// The value written.
        value: Arc<str>,
    },
    /// Read `key` at this point of the log.
    Get {
        /// The client that asked.
        client: NodeId,
        /// The client's request id.
        #[serde(rename = "MID")]
        mid: Arc<str>,
        /// The key read.
        key: Arc<str>,
    },
}

impl Command {
    /// The client request id this command answers, if it comes from a client.
    pub fn mid(&self) -> Option<&str> {
        match self {
            Command::Noop => None,
            Command::Put { mid, .. } | Command::Get { mid, .. } => Some(mid),
        }
    }
}
