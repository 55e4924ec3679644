//! The search's memory: interned model states and the set of configurations already
//! explored.
//!
//! A configuration is (the set of operations already linearized, the model state). Two paths
//! that reach the same configuration have the same future, so the search explores each one
//! once (Lowe's improvement to Wing and Gong). States are interned to small ids so that a
//! memo entry is a fixed-size row of words in one arena: `[hash, state id, bitset words...]`.

use std::hash::Hash;

use crate::hash::{hash_of, IndexTable};

/// Model states, each stored once and named by its position.
pub(crate) struct StateTable<S> {
    states: Vec<S>,
    hashes: Vec<u64>,
    index: IndexTable,
    heap_bytes: usize,
}

impl<S: Eq + Hash> StateTable<S> {
    pub(crate) fn new() -> Self {
        StateTable {
            states: Vec::new(),
            hashes: Vec::new(),
            index: IndexTable::new(),
            heap_bytes: 0,
        }
    }

    /// Returns the id of `state`, storing it if it is new. `heap_bytes` is what the state owns
    /// on the heap, for the memory estimate.
    pub(crate) fn intern(&mut self, state: S, heap_bytes: usize) -> u32 {
        let hash = hash_of(&state);
        let states = &self.states;
        if let Some(id) = self.index.find(hash, |id| states[id as usize] == state) {
            return id;
        }
        let id = self.states.len() as u32;
        let hashes = &self.hashes;
        self.index.insert(hash, id, |stored| hashes[stored as usize]);
        self.states.push(state);
        self.hashes.push(hash);
        self.heap_bytes += heap_bytes;
        id
    }

    pub(crate) fn get(&self, id: u32) -> &S {
        &self.states[id as usize]
    }

    /// Estimated bytes held.
    pub(crate) fn bytes(&self) -> usize {
        self.states.capacity() * std::mem::size_of::<S>()
            + self.hashes.capacity() * 8
            + self.index.bytes()
            + self.heap_bytes
    }
}

/// The set of explored configurations.
pub(crate) struct MemoSet {
    /// Words per bitset.
    bitset_words: usize,
    /// Rows of `2 + bitset_words` words.
    arena: Vec<u64>,
    index: IndexTable,
}

impl MemoSet {
    pub(crate) fn new(bitset_words: usize) -> Self {
        MemoSet { bitset_words, arena: Vec::new(), index: IndexTable::new() }
    }

    pub(crate) fn len(&self) -> usize {
        self.index.len()
    }

    /// Estimated bytes held.
    pub(crate) fn bytes(&self) -> usize {
        self.arena.capacity() * 8 + self.index.bytes()
    }

    /// Adds the configuration; returns false if it was already present. `hash` must be a
    /// function of `state` and `bitset` only.
    pub(crate) fn insert(&mut self, hash: u64, state: u32, bitset: &[u64]) -> bool {
        debug_assert_eq!(bitset.len(), self.bitset_words);
        let row_words = 2 + self.bitset_words;
        let arena = &self.arena;
        let is_match = |row: u32| {
            let start = row as usize * row_words;
            arena[start] == hash
                && arena[start + 1] == u64::from(state)
                && arena[start + 2..start + row_words] == *bitset
        };
        if self.index.find(hash, is_match).is_some() {
            return false;
        }
        let row = (self.arena.len() / row_words) as u32;
        self.index.insert(hash, row, |stored| arena[stored as usize * row_words]);
        self.arena.push(hash);
        self.arena.push(u64::from(state));
        self.arena.extend_from_slice(bitset);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memo_distinguishes_state_and_bitset() {
        let mut memo = MemoSet::new(2);
        assert!(memo.insert(5, 0, &[1, 0]));
        assert!(!memo.insert(5, 0, &[1, 0]));
        // Same hash, different contents: both must be kept.
        assert!(memo.insert(5, 1, &[1, 0]));
        assert!(memo.insert(5, 0, &[1, 1]));
        assert_eq!(memo.len(), 3);
    }

    #[test]
    fn states_are_interned_once() {
        let mut table = StateTable::new();
        let a = table.intern("a".to_string(), 1);
        let b = table.intern("b".to_string(), 1);
        assert_ne!(a, b);
        assert_eq!(table.intern("a".to_string(), 1), a);
        assert_eq!(table.get(b), "b");
    }
}
