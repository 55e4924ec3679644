//! Datagrams to and from [`replica::Message`]: one JSON object per datagram, as the course
//! protocol requires. Decoding never panics on any input; every reason to drop a datagram is
//! a variant of [`DecodeError`] so that the process can count drops by kind.

use std::fmt;

use replica::{Message, NodeId};

/// The largest datagram the protocol allows (PROTOCOL.md section 1).
pub const DATAGRAM_BYTES_MAX: usize = 65_535;

/// Why a datagram was dropped.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DecodeError {
    /// Longer than [`DATAGRAM_BYTES_MAX`].
    Oversized {
        /// The datagram's length.
        bytes: usize,
    },
    /// Not a JSON document (or not UTF-8, or truncated).
    NotJson {
        /// The parser's complaint.
        reason: String,
    },
    /// Valid JSON that is not a message: a missing field, a malformed id, an unknown `type`.
    NotMessage {
        /// The parser's complaint.
        reason: String,
    },
    /// A well-formed message for another node: the simulator routes by `dst`, so this is
    /// someone's bug, and acting on it could make us answer for another replica.
    Misaddressed {
        /// The `dst` it carried.
        dst: NodeId,
    },
}

impl DecodeError {
    /// A short name of the kind, for counters.
    pub fn kind(&self) -> DropKind {
        match self {
            DecodeError::Oversized { .. } => DropKind::Oversized,
            DecodeError::NotJson { .. } => DropKind::NotJson,
            DecodeError::NotMessage { .. } => DropKind::NotMessage,
            DecodeError::Misaddressed { .. } => DropKind::Misaddressed,
        }
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DecodeError::Oversized { bytes } => {
                write!(f, "oversized datagram: {bytes} bytes, limit {DATAGRAM_BYTES_MAX}")
            }
            DecodeError::NotJson { reason } => write!(f, "not json: {reason}"),
            DecodeError::NotMessage { reason } => write!(f, "not a message: {reason}"),
            DecodeError::Misaddressed { dst } => write!(f, "addressed to {dst}, not to us"),
        }
    }
}

impl std::error::Error for DecodeError {}

/// The kinds of dropped datagram, in the order counters print them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum DropKind {
    /// See [`DecodeError::Oversized`].
    Oversized,
    /// See [`DecodeError::NotJson`].
    NotJson,
    /// See [`DecodeError::NotMessage`].
    NotMessage,
    /// See [`DecodeError::Misaddressed`].
    Misaddressed,
}

impl DropKind {
    /// Every kind, in print order.
    pub const ALL: [DropKind; 4] =
        [DropKind::Oversized, DropKind::NotJson, DropKind::NotMessage, DropKind::Misaddressed];

    /// The name printed in counters.
    pub fn name(self) -> &'static str {
        match self {
            DropKind::Oversized => "oversized",
            DropKind::NotJson => "not_json",
            DropKind::NotMessage => "not_message",
            DropKind::Misaddressed => "misaddressed",
        }
    }
}

/// Decodes one datagram received by replica `own`. Accepts messages addressed to `own` or
/// to the broadcast id.
pub fn decode(bytes: &[u8], own: NodeId) -> Result<Message, DecodeError> {
    if bytes.len() > DATAGRAM_BYTES_MAX {
        return Err(DecodeError::Oversized { bytes: bytes.len() });
    }
    let message: Message = serde_json::from_slice(bytes).map_err(|error| {
        let reason = error.to_string();
        match error.classify() {
            serde_json::error::Category::Data => DecodeError::NotMessage { reason },
            _ => DecodeError::NotJson { reason },
        }
    })?;
    if message.dst != own && message.dst != NodeId::BROADCAST {
        return Err(DecodeError::Misaddressed { dst: message.dst });
    }
    Ok(message)
}

/// Encodes one message as a datagram.
pub fn encode(message: &Message) -> Vec<u8> {
    // Serializing our own types into a Vec cannot fail: every map key is a string and no
    // Serialize impl of ours returns an error.
    serde_json::to_vec(message).expect("messages always serialize")
}

#[cfg(test)]
mod tests {
    use super::*;

    const OWN: NodeId = NodeId(2);

    #[test]
    fn each_kind_of_bad_datagram_is_named() {
        let kind = |bytes: &[u8]| decode(bytes, OWN).unwrap_err().kind();
        assert_eq!(kind(&vec![b' '; DATAGRAM_BYTES_MAX + 1]), DropKind::Oversized);
        assert_eq!(kind(b"{\"src\":"), DropKind::NotJson);
        assert_eq!(kind(b"\xff\xfe"), DropKind::NotJson);
        assert_eq!(kind(br#"{"src":"0015","dst":"0002","type":"get"}"#), DropKind::NotMessage);
        let bad_id =
            br#"{"src":"15","dst":"0002","leader":"FFFF","type":"get","MID":"A","key":"K"}"#;
        assert_eq!(kind(bad_id), DropKind::NotMessage);
        let other =
            br#"{"src":"0015","dst":"0003","leader":"FFFF","type":"get","MID":"A","key":"K"}"#;
        assert_eq!(kind(other), DropKind::Misaddressed);
    }

    #[test]
    fn a_good_request_decodes_and_a_reply_encodes_with_the_course_fields() {
        let get =
            br#"{"src":"0015","dst":"0002","leader":"FFFF","type":"get","MID":"A","key":"K"}"#;
        let message = decode(get, OWN).unwrap();
        assert_eq!(message.src, NodeId(0x15));
        assert_eq!(encode(&message), get.to_vec());
    }
}
