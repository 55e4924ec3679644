//! Node identifiers: replicas and clients alike are named by a 16-bit id written as four
//! upper-case hex digits on the wire (`"0003"`); `FFFF` means broadcast or unknown.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The id of a replica or a client. Serializes as four upper-case hex digits.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct NodeId(pub u16);

impl NodeId {
    /// As a `dst`: every other replica. As a `leader`: no leader is known.
    pub const BROADCAST: NodeId = NodeId(0xFFFF);
    /// The same id as [`NodeId::BROADCAST`], read as "no leader known".
    pub const UNKNOWN: NodeId = NodeId(0xFFFF);

    /// Parses exactly four hex digits (upper-case, as the protocol writes them).
    pub fn parse(text: &str) -> Option<NodeId> {
        let bytes = text.as_bytes();
        if bytes.len() != 4
            || !bytes.iter().all(|b| b.is_ascii_digit() || (b'A'..=b'F').contains(b))
        {
            return None;
        }
        u16::from_str_radix(text, 16).ok().map(NodeId)
    }

    /// True for the broadcast / unknown id.
    pub fn is_unknown(self) -> bool {
        self == NodeId::UNKNOWN
    }
}

impl fmt::Display for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04X}", self.0)
    }
}

impl fmt::Debug for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04X}", self.0)
    }
}

impl Serialize for NodeId {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for NodeId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        NodeId::parse(&text).ok_or_else(|| {
            serde::de::Error::custom(format_args!(
                "invalid id {text:?}: want 4 upper-case hex digits"
            ))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::NodeId;

    #[test]
    fn parses_and_prints_four_hex_digits() {
        assert_eq!(NodeId::parse("001C"), Some(NodeId(0x1C)));
        assert_eq!(NodeId(0x1C).to_string(), "001C");
        assert_eq!(NodeId::parse("001c"), None);
        assert_eq!(NodeId::parse("01C"), None);
        assert_eq!(NodeId::parse("0001C"), None);
        assert!(NodeId::parse("FFFF").unwrap().is_unknown());
    }
}
