//! Messages between replicas and between replicas and clients.
//!
//! Every message carries `src`, `dst`, `leader` and `type`, as the course protocol requires;
//! client messages use its field names (`MID`, `key`, `value`). The replicas' own Raft
//! messages are further `type`s that the course simulator routes without looking inside.

use serde::{Deserialize, Serialize};

use crate::{Entry, NodeId};

/// One datagram's worth of JSON: the routing header and a typed body.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct Message {
    /// The sender.
    pub src: NodeId,
    /// The receiver, or [`NodeId::BROADCAST`].
    pub dst: NodeId,
    /// The sender's idea of the current leader, or [`NodeId::UNKNOWN`].
    pub leader: NodeId,
    /// The message proper, tagged by `type`.
    #[serde(flatten)]
    pub body: Body,
}

/// The typed part of a message.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Body {
    /// Sent once by a replica process at start-up (UDP only).
    Hello,
    /// Client request: read `key`.
    Get {
        /// Request id, unique per request (a retry gets a new one).
        #[serde(rename = "MID")]
        mid: String,
        /// The key to read.
        key: String,
    },
    /// Client request: write `value` to `key`.
    Put {
        /// Request id.
        #[serde(rename = "MID")]
        mid: String,
        /// The key to write.
        key: String,
        /// The value to write.
        value: String,
    },
    /// Reply: the request took effect; gets carry the value read (`""` if never written).
    Ok {
        /// Id of the request answered.
        #[serde(rename = "MID")]
        mid: String,
        /// The value read, for a get.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        value: Option<String>,
    },
    /// Reply: the request will never take effect; retry at `leader`.
    Fail {
        /// Id of the request answered.
        #[serde(rename = "MID")]
        mid: String,
    },
    /// Reply: this replica is not the leader and did not act; retry at `leader`.
    Redirect {
        /// Id of the request answered.
        #[serde(rename = "MID")]
        mid: String,
    },
    /// Raft: a candidate asks for a vote (Figure 2, RequestVote RPC).
    RequestVote {
        /// The candidate's term.
        term: u64,
        /// Index of the candidate's last log entry.
        last_log_index: u64,
        /// Term of the candidate's last log entry.
        last_log_term: u64,
    },
    /// Raft: the answer to [`Body::RequestVote`].
    RequestVoteResponse {
        /// The voter's current term.
        term: u64,
        /// Whether the vote was granted.
        vote_granted: bool,
    },
    /// Raft: the leader replicates entries and heartbeats (Figure 2, AppendEntries RPC).
    AppendEntries {
        /// The leader's term.
        term: u64,
        /// Index of the entry just before `entries`.
        prev_log_index: u64,
        /// Term of that entry.
        prev_log_term: u64,
        /// Entries to store (empty for a heartbeat).
        entries: Vec<Entry>,
        /// The leader's commit index.
        leader_commit: u64,
    },
    /// Raft: the answer to [`Body::AppendEntries`].
    AppendEntriesResponse {
        /// The follower's current term.
        term: u64,
        /// Whether the consistency check passed and the entries were stored.
        success: bool,
        /// On success, the index of the last entry now known to match the leader's log. On
        /// failure, a hint: the leader may retry from `match_index + 1` (the follower's
        /// last index or the start of the conflicting term), never below its own match.
        match_index: u64,
    },
}

impl Body {
    /// The request id of a client request or reply.
    pub fn mid(&self) -> Option<&str> {
        match self {
            Body::Get { mid, .. }
            | Body::Put { mid, .. }
            | Body::Ok { mid, .. }
            | Body::Fail { mid }
            | Body::Redirect { mid } => Some(mid),
            _ => None,
        }
    }

    /// The term carried by a Raft message, if this is one.
    pub fn term(&self) -> Option<u64> {
        match self {
            Body::RequestVote { term, .. }
            | Body::RequestVoteResponse { term, .. }
            | Body::AppendEntries { term, .. }
            | Body::AppendEntriesResponse { term, .. } => Some(*term),
            _ => None,
        }
    }

    /// The wire name of this body's `type`.
    pub fn type_name(&self) -> &'static str {
        match self {
            Body::Hello => "hello",
            Body::Get { .. } => "get",
            Body::Put { .. } => "put",
            Body::Ok { .. } => "ok",
            Body::Fail { .. } => "fail",
            Body::Redirect { .. } => "redirect",
            Body::RequestVote { .. } => "request_vote",
            Body::RequestVoteResponse { .. } => "request_vote_response",
            Body::AppendEntries { .. } => "append_entries",
            Body::AppendEntriesResponse { .. } => "append_entries_response",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Command;

    fn round_trip(message: &Message, json: &str) {
        assert_eq!(serde_json::to_string(message).unwrap(), json);
        assert_eq!(&serde_json::from_str::<Message>(json).unwrap(), message);
    }

    #[test]
    fn client_messages_use_the_course_field_names() {
        let get = Message {
            src: NodeId(0x15),
            dst: NodeId(2),
            leader: NodeId::UNKNOWN,
            body: Body::Get { mid: "ABC123".into(), key: "K1".into() },
        };
        round_trip(
            &get,
            r#"{"src":"0015","dst":"0002","leader":"FFFF","type":"get","MID":"ABC123","key":"K1"}"#,
        );
        let ok = Message {
            src: NodeId(2),
            dst: NodeId(0x15),
            leader: NodeId(2),
            body: Body::Ok { mid: "ABC123".into(), value: Some(String::new()) },
        };
        round_trip(
            &ok,
            r#"{"src":"0002","dst":"0015","leader":"0002","type":"ok","MID":"ABC123","value":""}"#,
        );
        let put_ok = Message { body: Body::Ok { mid: "M".into(), value: None }, ..ok };
        round_trip(&put_ok, r#"{"src":"0002","dst":"0015","leader":"0002","type":"ok","MID":"M"}"#);
    }

    #[test]
    fn raft_messages_round_trip() {
        let append = Message {
            src: NodeId(0),
            dst: NodeId(1),
            leader: NodeId(0),
            body: Body::AppendEntries {
                term: 3,
                prev_log_index: 1,
                prev_log_term: 2,
                entries: vec![Entry {
                    term: 3,
                    command: Command::Put {
                        client: NodeId(0x15),
                        mid: "M".into(),
                        key: "k".into(),
                        value: "v".into(),
                    },
                }],
                leader_commit: 1,
            },
        };
        let json = serde_json::to_string(&append).unwrap();
        assert_eq!(serde_json::from_str::<Message>(&json).unwrap(), append);
    }

    #[test]
    fn a_message_without_its_header_is_rejected() {
        let missing_leader = r#"{"src":"0015","dst":"0002","type":"get","MID":"A","key":"K"}"#;
        assert!(serde_json::from_str::<Message>(missing_leader).is_err());
        let bad_id =
            r#"{"src":"15","dst":"0002","leader":"FFFF","type":"get","MID":"A","key":"K"}"#;
        assert!(serde_json::from_str::<Message>(bad_id).is_err());
    }
}
