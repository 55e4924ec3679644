//! Raft's safety properties, checked after every simulated event.
//!
//! The checker watches each replica through two windows: the persist actions it emits (its
//! simulated disk) and its public accessors. It holds, per replica, the chain fingerprint of
//! every log prefix (see [`crate::hash::chain`]), which turns log matching and "committed
//! entries never change" into comparisons of numbers. The properties are those of the Raft
//! paper's Figure 3: election safety, log matching, leader completeness and state machine
//! safety, plus the durability rules of Figure 2 (term and vote persisted before use).

use std::collections::BTreeMap;
use std::fmt;

use replica::{Action, NodeId, Replica, Role};

use crate::hash::chain;

/// A broken invariant: which one, and the facts that break it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Violation {
    /// The invariant's name, e.g. `election_safety`.
    pub invariant: &'static str,
    /// What was seen.
    pub message: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.invariant, self.message)
    }
}

/// A replica becoming leader: the sequence of these is printed and reported.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct LeaderChange {
    /// When it was first seen leading.
    pub time_us: u64,
    /// Its term.
    pub term: u64,
    /// The leader.
    pub leader: NodeId,
}

/// What the checker knows of one replica.
#[derive(Clone, Debug, Default)]
struct Mirror {
    /// Persisted term and vote.
    term: u64,
    voted_for: Option<NodeId>,
    /// Chain fingerprint and term of each persisted entry; index 1 is element 0.
    chain: Vec<u64>,
    terms: Vec<u64>,
    commit_index: u64,
    last_applied: u64,
    /// The highest commit index this replica reached in any earlier life: a restarted
    /// replica starts again from commit 0, but its disk must still never rewrite an entry it
    /// once knew committed (a committed entry is in every later leader's log, §5.4).
    commit_floor: u64,
}

/// The invariant checker of one run.
#[derive(Clone, Debug)]
pub struct Invariants {
    mirrors: Vec<Mirror>,
    /// The leader of each term seen so far.
    leaders: BTreeMap<u64, NodeId>,
    /// The chain fingerprint at each (index, term) any replica ever stored.
    positions: BTreeMap<(u64, u64), u64>,
    /// The chain fingerprint of each committed index, as first committed anywhere.
    committed: Vec<u64>,
    /// The term of the replica that first committed each index: the entry was committed in
    /// that term or an earlier one.
    committed_terms: Vec<u64>,
    /// Every leader, in order.
    pub leader_changes: Vec<LeaderChange>,
}

impl Invariants {
    /// A checker for `replicas` replicas that all start empty.
    pub fn new(replicas: usize) -> Invariants {
        Invariants {
            mirrors: vec![Mirror::default(); replicas],
            leaders: BTreeMap::new(),
            positions: BTreeMap::new(),
            committed: Vec::new(),
            committed_terms: Vec::new(),
            leader_changes: Vec::new(),
        }
    }

    /// Replica `index` restarted from its disk: its persisted term, vote and log are kept,
    /// and its commit and apply indexes start again from 0, so they may rise again to where
    /// they were without counting as moving back.
    pub fn on_restart(&mut self, index: usize) {
        let mirror = &mut self.mirrors[index];
        mirror.commit_floor = mirror.commit_floor.max(mirror.commit_index);
        mirror.commit_index = 0;
        mirror.last_applied = 0;
    }

    /// Checks replica `index` after it stepped at `now_us` and emitted `actions`.
    pub fn after_step(
        &mut self,
        now_us: u64,
        index: usize,
        replica: &Replica,
        actions: &[Action],
    ) -> Result<(), Violation> {
        let id = replica.id();
        for action in actions {
            match action {
                Action::PersistState { term, voted_for } => {
                    self.on_persist_state(id, index, *term, *voted_for)?
                }
                Action::PersistEntries { from_index, entries } => {
                    self.on_persist_entries(id, index, *from_index, entries)?
                }
                Action::Send(_) | Action::Reply(_) => {}
            }
        }
        self.check_durable(id, index, replica)?;
        self.check_election_safety(now_us, id, index, replica)?;
        self.check_commit(id, index, replica)
    }

    fn on_persist_state(
        &mut self,
        id: NodeId,
        index: usize,
        term: u64,
        voted_for: Option<NodeId>,
    ) -> Result<(), Violation> {
        let mirror = &mut self.mirrors[index];
        if term < mirror.term {
            return Err(violation(
                "term_monotonic",
                format!("{id} persisted term {term} after term {}", mirror.term),
            ));
        }
        if term == mirror.term && mirror.voted_for.is_some() && voted_for != mirror.voted_for {
            return Err(violation(
                "one_vote_per_term",
                format!(
                    "{id} changed its vote in term {term} from {:?} to {voted_for:?}",
                    mirror.voted_for
                ),
            ));
        }
        mirror.term = term;
        mirror.voted_for = voted_for;
        Ok(())
    }

    fn on_persist_entries(
        &mut self,
        id: NodeId,
        index: usize,
        from_index: u64,
        entries: &[replica::Entry],
    ) -> Result<(), Violation> {
        let mirror = &mut self.mirrors[index];
        let stored = mirror.chain.len() as u64;
        if from_index == 0 || from_index > stored + 1 {
            return Err(violation(
                "log_contiguous",
                format!("{id} persisted entries from index {from_index} with {stored} stored"),
            ));
        }
        let committed = mirror.commit_index.max(mirror.commit_floor);
        if from_index <= committed {
            return Err(violation(
                "committed_entries_never_change",
                format!("{id} rewrote index {from_index} at or below its commit index {committed}"),
            ));
        }
        mirror.chain.truncate(from_index as usize - 1);
        mirror.terms.truncate(from_index as usize - 1);
        for entry in entries {
            let previous = mirror.chain.last().copied().unwrap_or(0);
            let fingerprint = chain(previous, entry);
            mirror.chain.push(fingerprint);
            mirror.terms.push(entry.term);
            let position = (mirror.chain.len() as u64, entry.term);
            let seen = *self.positions.entry(position).or_insert(fingerprint);
            if seen != fingerprint {
                return Err(violation(
                    "log_matching",
                    format!(
                        "{id} stored an entry at index {} term {} whose log prefix differs from \
                         another replica's at the same index and term",
                        position.0, position.1
                    ),
                ));
            }
        }
        Ok(())
    }

    /// The replica must act only on what it persisted: its term, vote and log equal the disk.
    fn check_durable(&self, id: NodeId, index: usize, replica: &Replica) -> Result<(), Violation> {
        let mirror = &self.mirrors[index];
        let log = replica.log();
        let same_log = log.len() == mirror.terms.len()
            && log.last().map(|entry| entry.term) == mirror.terms.last().copied();
        if replica.term() != mirror.term || replica.voted_for() != mirror.voted_for || !same_log {
            return Err(violation(
                "persist_before_use",
                format!(
                    "{id} holds term {} vote {:?} and {} entries, but persisted term {} vote {:?} \
                     and {} entries",
                    replica.term(),
                    replica.voted_for(),
                    log.len(),
                    mirror.term,
                    mirror.voted_for,
                    mirror.terms.len()
                ),
            ));
        }
        Ok(())
    }

    fn check_election_safety(
        &mut self,
        now_us: u64,
        id: NodeId,
        index: usize,
        replica: &Replica,
    ) -> Result<(), Violation> {
        if replica.role() != Role::Leader {
            return Ok(());
        }
        let term = replica.term();
        match self.leaders.get(&term) {
            Some(&leader) if leader == id => return Ok(()),
            Some(&leader) => {
                return Err(violation(
                    "election_safety",
                    format!("{id} and {leader} are both leaders of term {term}"),
                ))
            }
            None => {}
        }
        self.leaders.insert(term, id);
        self.leader_changes.push(LeaderChange { time_us: now_us, term, leader: id });
        // Leader completeness (§5.4, Figure 3): a leader holds every entry committed in an
        // earlier term. Only earlier terms: a candidate that collected its votes before a
        // pause may lead a stale term after newer leaders committed more; it can commit
        // nothing, as its voters have moved on. An entry first committed by a replica in term
        // `u` was committed in `u` or before, so comparing against `u` never accuses wrongly.
        let mirror = &self.mirrors[index];
        let required = self.committed_terms.iter().rposition(|&committed_in| committed_in < term);
        if let Some(last) = required {
            if mirror.chain.get(last) != Some(&self.committed[last]) {
                return Err(violation(
                    "leader_completeness",
                    format!(
                        "{id} leads term {term} without the entries committed before it, up to \
                         index {}",
                        last + 1
                    ),
                ));
            }
        }
        Ok(())
    }

    fn check_commit(
        &mut self,
        id: NodeId,
        index: usize,
        replica: &Replica,
    ) -> Result<(), Violation> {
        let mirror = &mut self.mirrors[index];
        let commit_index = replica.commit_index();
        let last_applied = replica.last_applied();
        if commit_index < mirror.commit_index || last_applied < mirror.last_applied {
            return Err(violation(
                "commit_monotonic",
                format!(
                    "{id} moved commit {} -> {commit_index}, applied {} -> {last_applied}",
                    mirror.commit_index, mirror.last_applied
                ),
            ));
        }
        if commit_index > mirror.chain.len() as u64 || last_applied > commit_index {
            return Err(violation(
                "apply_committed_only",
                format!(
                    "{id} has commit {commit_index} and applied {last_applied} with {} entries",
                    mirror.chain.len()
                ),
            ));
        }
        // State machine safety: every replica commits (and so applies) the same entry at each
        // index.
        for position in mirror.commit_index + 1..=commit_index {
            let fingerprint = mirror.chain[position as usize - 1];
            match self.committed.get(position as usize - 1) {
                Some(&known) if known != fingerprint => {
                    return Err(violation(
                        "state_machine_safety",
                        format!("{id} committed a different entry at index {position}"),
                    ));
                }
                Some(_) => {}
                None => {
                    self.committed.push(fingerprint);
                    self.committed_terms.push(replica.term());
                }
            }
        }
        mirror.commit_index = commit_index;
        mirror.last_applied = last_applied;
        Ok(())
    }
}

fn violation(invariant: &'static str, message: String) -> Violation {
    Violation { invariant, message }
}
