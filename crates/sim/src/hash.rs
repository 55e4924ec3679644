//! A small, stable 64-bit hash (FNV-1a) for trace hashes and log-chain fingerprints.
//!
//! Stable means: the same bytes give the same hash on every run, machine and version of
//! Rust, which `std`'s `DefaultHasher` does not promise.

use replica::{Body, Command, Entry, Message};

/// An FNV-1a accumulator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fnv(u64);

impl Default for Fnv {
    fn default() -> Self {
        Fnv(0xCBF2_9CE4_8422_2325)
    }
}

impl Fnv {
    /// Folds in raw bytes.
    pub fn bytes(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.0 ^= u64::from(byte);
            self.0 = self.0.wrapping_mul(0x0000_0100_0000_01B3);
        }
    }

    /// Folds in a number.
    pub fn u64(&mut self, value: u64) {
        self.bytes(&value.to_le_bytes());
    }

    /// Folds in a string, length-prefixed so that ("ab", "c") and ("a", "bc") differ.
    pub fn str(&mut self, value: &str) {
        self.u64(value.len() as u64);
        self.bytes(value.as_bytes());
    }

    /// The hash so far.
    pub fn finish(self) -> u64 {
        self.0
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
