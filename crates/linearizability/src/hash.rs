//! A fixed, seedless hasher and a small open-addressing index table.
//!
//! The search memoizes millions of configurations, so the hash tables are on its hot path. We
//! use our own hasher instead of `RandomState` so that a run never depends on a per-process
//! random seed: the tables' internal order cannot reach any output, but keeping them seedless
//! also makes step counts and memory figures identical from run to run, which the budgets and
//! benchmarks rely on.

use std::hash::{Hash, Hasher};

/// Odd multiplier from the golden ratio; spreads consecutive integers across the word.
const GOLDEN_64: u64 = 0x9e37_79b9_7f4a_7c15;

/// Finalizer of SplitMix64: a cheap bijection whose output bits all depend on all input bits.
pub(crate) fn mix64(mut value: u64) -> u64 {
    value = (value ^ (value >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    value = (value ^ (value >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    value ^ (value >> 31)
}

/// The `index`-th value of a SplitMix64 sequence; used for per-operation Zobrist keys.
pub(crate) fn splitmix64(index: u64) -> u64 {
    mix64(index.wrapping_add(1).wrapping_mul(GOLDEN_64))
}

/// A multiply-rotate hasher over 8-byte words, in the spirit of rustc's Fx hasher.
///
/// Not collision resistant against an adversary; histories are our own data.
#[derive(Default)]
pub(crate) struct FixedHasher {
    state: u64,
}

impl FixedHasher {
    fn add_word(&mut self, word: u64) {
        self.state = (self.state.rotate_left(5) ^ word).wrapping_mul(GOLDEN_64);
    }
}

impl Hasher for FixedHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            self.add_word(u64::from_le_bytes(word));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut word = [0u8; 8];
            word[..rest.len()].copy_from_slice(rest);
            // The length goes into the top byte so that "a" and "a\0" differ.
            self.add_word(u64::from_le_bytes(word) ^ ((rest.len() as u64) << 56));
        }
    }

    fn write_u64(&mut self, value: u64) {
        self.add_word(value);
    }

    fn write_u32(&mut self, value: u32) {
        self.add_word(u64::from(value));
    }

    fn write_u8(&mut self, value: u8) {
        self.add_word(u64::from(value));
    }

    fn write_usize(&mut self, value: usize) {
        self.add_word(value as u64);
    }

    fn finish(&self) -> u64 {
        mix64(self.state)
    }
}

/// Hashes any `Hash` value with [`FixedHasher`].
pub(crate) fn hash_of<T: Hash + ?Sized>(value: &T) -> u64 {
    let mut hasher = FixedHasher::default();
    value.hash(&mut hasher);
    hasher.finish()
}

/// Marks an empty slot in [`IndexTable`].
const SLOT_EMPTY: u32 = u32::MAX;

/// An open-addressing set of `u32` indices into storage the caller owns.
///
/// The caller keeps the keys (and their hashes) in its own vectors and passes closures that
/// compare and rehash by index. This keeps each memo entry in one flat arena instead of one
/// heap allocation per entry.
pub(crate) struct IndexTable {
    slots: Vec<u32>,
    len: usize,
}

impl IndexTable {
    pub(crate) fn new() -> Self {
        IndexTable { slots: vec![SLOT_EMPTY; 16], len: 0 }
    }

    /// Number of indices stored.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Bytes held by the slot array.
    pub(crate) fn bytes(&self) -> usize {
        self.slots.capacity() * std::mem::size_of::<u32>()
    }

    /// Returns the stored index whose key equals the probe, if any.
    pub(crate) fn find(&self, hash: u64, is_match: impl Fn(u32) -> bool) -> Option<u32> {
        let mask = self.slots.len() - 1;
        let mut slot = (hash as usize) & mask;
        loop {
            let index = self.slots[slot];
            if index == SLOT_EMPTY {
                return None;
            }
            if is_match(index) {
                return Some(index);
            }
            slot = (slot + 1) & mask;
        }
    }

    /// Stores `index` under `hash`; the caller has checked with [`find`](Self::find) that no
    /// equal key is present. `hash_at` gives the hash of any stored index, for growing.
    pub(crate) fn insert(&mut self, hash: u64, index: u32, hash_at: impl Fn(u32) -> u64) {
        // Grow at a load factor of 1/2: linear probing degrades quickly beyond that.
        if (self.len + 1) * 2 > self.slots.len() {
            let grown = vec![SLOT_EMPTY; self.slots.len() * 2];
            let old = std::mem::replace(&mut self.slots, grown);
            for stored in old.into_iter().filter(|&stored| stored != SLOT_EMPTY) {
                self.place(hash_at(stored), stored);
            }
        }
        self.place(hash, index);
        self.len += 1;
    }

    fn place(&mut self, hash: u64, index: u32) {
        let mask = self.slots.len() - 1;
        let mut slot = (hash as usize) & mask;
        while self.slots[slot] != SLOT_EMPTY {
            slot = (slot + 1) & mask;
        }
        self.slots[slot] = index;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hasher_is_fixed_and_separates_lengths() {
        assert_eq!(hash_of("abc"), hash_of("abc"));
        assert_ne!(hash_of("a"), hash_of("a\0"));
        assert_ne!(hash_of(&1u64), hash_of(&2u64));
    }

    #[test]
    fn index_table_finds_what_it_stored_across_growth() {
        let keys: Vec<u64> = (0..1000).map(|i| i * 7).collect();
        let mut table = IndexTable::new();
        for (index, key) in keys.iter().enumerate() {
            let hash = mix64(*key);
            assert_eq!(table.find(hash, |i| keys[i as usize] == *key), None);
            table.insert(hash, index as u32, |i| mix64(keys[i as usize]));
        }
        assert_eq!(table.len(), 1000);
        for (index, key) in keys.iter().enumerate() {
            let found = table.find(mix64(*key), |i| keys[i as usize] == *key);
            assert_eq!(found, Some(index as u32));
        }
        assert_eq!(table.find(mix64(3), |i| keys[i as usize] == 3), None);
    }
}
