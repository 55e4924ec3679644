//! A small, stable 64-bit hash for trace hashes and log-chain fingerprints.
//!
//! Stable means: the same bytes give the same hash on every run, machine and version of
//! Rust, which `std`'s `DefaultHasher` does not promise. It folds eight bytes at a time with
//! a multiply and a rotate (the mixing step of the Fx hash) and finishes with splitmix64's
//! avalanche, so that every input bit reaches every output bit. It is not a defence against
//! crafted collisions; nothing here hashes adversarial input.

use replica::{Body, Command, Entry, Message};

/// A 64-bit hash accumulator. (The name is historical: it began as FNV-1a, which hashed a
/// byte at a time and cost a fifth of a run's instructions.)
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fnv(u64);

impl Default for Fnv {
    fn default() -> Self {
        Fnv(0xCBF2_9CE4_8422_2325)
    }
}

impl Fnv {
    /// Folds in raw bytes, eight at a time; a short tail is zero-padded (callers that need
    /// lengths to matter prefix them, as [`Fnv::str`] does).
    pub fn bytes(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            self.word(u64::from_le_bytes(chunk.try_into().expect("eight bytes")));
        }
        let tail = chunks.remainder();
        if !tail.is_empty() {
            let mut padded = [0u8; 8];
            padded[..tail.len()].copy_from_slice(tail);
            self.word(u64::from_le_bytes(padded));
        }
    }

    fn word(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(0x517C_C1B7_2722_0A95);
    }

    /// Folds in a number.
    pub fn u64(&mut self, value: u64) {
        self.word(value);
    }

    /// Folds in a string, length-prefixed so that ("ab", "c") and ("a", "bc") differ.
    pub fn str(&mut self, value: &str) {
        self.u64(value.len() as u64);
        self.bytes(value.as_bytes());
    }

    /// The hash so far.
    pub fn finish(self) -> u64 {
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Folds in a log entry: its term and every field of its command.
    pub fn entry(&mut self, entry: &Entry) {
        self.u64(entry.term);
        match &entry.command {
            Command::Noop => self.u64(0),
            Command::Put { client, mid, key, value } => {
                self.u64(1);
                self.u64(u64::from(client.0));
                self.str(mid);
                self.str(key);
                self.str(value);
            }
            Command::Get { client, mid, key } => {
                self.u64(2);
                self.u64(u64::from(client.0));
                self.str(mid);
                self.str(key);
            }
        }
    }

    /// Folds in a whole message.
    pub fn message(&mut self, message: &Message) {
        self.u64(u64::from(message.src.0));
        self.u64(u64::from(message.dst.0));
        self.u64(u64::from(message.leader.0));
        self.str(message.body.type_name());
        match &message.body {
            Body::Hello => {}
            Body::Get { mid, key } => {
                self.str(mid);
                self.str(key);
            }
            Body::Put { mid, key, value } => {
                self.str(mid);
                self.str(key);
                self.str(value);
            }
            Body::Ok { mid, value } => {
                self.str(mid);
                self.str(value.as_deref().unwrap_or("\u{0}none"));
            }
            Body::Fail { mid } | Body::Redirect { mid } => self.str(mid),
            Body::RequestVote { term, last_log_index, last_log_term } => {
                self.u64(*term);
                self.u64(*last_log_index);
                self.u64(*last_log_term);
            }
            Body::RequestVoteResponse { term, vote_granted } => {
                self.u64(*term);
                self.u64(u64::from(*vote_granted));
            }
            Body::AppendEntries { term, prev_log_index, prev_log_term, entries, leader_commit } => {
                self.u64(*term);
                self.u64(*prev_log_index);
                self.u64(*prev_log_term);
                self.u64(*leader_commit);
                self.u64(entries.len() as u64);
                for entry in entries {
                    self.entry(entry);
                }
            }
            Body::AppendEntriesResponse { term, success, match_index } => {
                self.u64(*term);
                self.u64(u64::from(*success));
                self.u64(*match_index);
            }
        }
    }
}

/// The fingerprint of a log prefix: the hash of the previous prefix and the entry. Two logs
/// hold the same prefix up to an index exactly when their chain values there agree (up to
/// hash collisions).
pub fn chain(previous: u64, entry: &Entry) -> u64 {
    let mut fnv = Fnv::default();
    fnv.u64(previous);
    fnv.entry(entry);
    fnv.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn of(parts: &[&str]) -> u64 {
        let mut fnv = Fnv::default();
        for part in parts {
            fnv.str(part);
        }
        fnv.finish()
    }

    #[test]
    fn boundaries_and_single_bits_change_the_hash() {
        assert_ne!(of(&["ab", "c"]), of(&["a", "bc"]));
        assert_ne!(of(&["abcdefgh"]), of(&["abcdefgi"]));
        assert_ne!(of(&["abcdefghi"]), of(&["abcdefgh", "i"]));
        assert_ne!(of(&[""]), of(&[]));
        assert_eq!(of(&["same", "input"]), of(&["same", "input"]));
    }
}
