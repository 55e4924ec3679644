//! Planted bugs: the replica misbehaving in one chosen way, to prove the simulator catches it.
//!
//! Compiled only with the `plant` feature, so no normal build carries any of this. A replica
//! whose [`Config::plant`](crate::Config) names a [`Plant`] breaks exactly that one rule; the
//! hooks in `raft.rs` are one line each and call the helpers below. Each bug is modelled on a
//! failure that public Raft implementations really shipped; `sim hunt` measures how many seeds
//! the simulator needs to catch each one, and `docs/planted.md` holds the table.
//!
//! This module is a child of `raft`, so its helpers may touch the replica's private state;
//! they are the only code that does so from outside `raft.rs`.

use std::fmt;

use super::{Action, Replica, Role};
use crate::{Body, Command, Message, NodeId, StateMachine};

/// One planted bug. See [`Plant::description`] for what each breaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Plant {
    /// A leader answers gets from its own state machine without confirming it still leads.
    StaleRead,
    /// A voter grants its vote without the log up-to-date check (§5.4.1).
    VoteWithoutLogCheck,
    /// A leader commits an entry of an older term by counting replicas (Figure 8).
    CommitOldTerm,
    /// A leader acknowledges a put as soon as it is in its own log.
    AckBeforeMajority,
    /// A candidate that gives up within its term forgets its vote, so it can vote again.
    ForgetVote,
    /// A candidate counts vote replies from older terms, and the same voter more than once.
    CountStaleVotes,
    /// A leader cut off from the majority never steps down (no check-quorum).
    NeverStepDown,
    /// A granted vote is not persisted before the reply leaves.
    UnpersistedVote,
    /// A put that reaches the leader again (a retry or a duplicate) is applied again.
    NoDuplicateDetection,
    /// A follower commits up to the leader's commit index, past the entries it verified.
    CommitPastVerified,
}

impl Plant {
    /// Every planted bug, in the order the issue lists them.
    pub const ALL: [Plant; 10] = [
        Plant::StaleRead,
        Plant::VoteWithoutLogCheck,
        Plant::CommitOldTerm,
        Plant::AckBeforeMajority,
        Plant::ForgetVote,
        Plant::CountStaleVotes,
        Plant::NeverStepDown,
        Plant::UnpersistedVote,
        Plant::NoDuplicateDetection,
        Plant::CommitPastVerified,
    ];

    /// The name `--plant` takes.
    pub fn name(self) -> &'static str {
        match self {
            Plant::StaleRead => "stale_read",
            Plant::VoteWithoutLogCheck => "vote_without_log_check",
            Plant::CommitOldTerm => "commit_old_term",
            Plant::AckBeforeMajority => "ack_before_majority",
            Plant::ForgetVote => "forget_vote",
            Plant::CountStaleVotes => "count_stale_votes",
            Plant::NeverStepDown => "never_step_down",
            Plant::UnpersistedVote => "unpersisted_vote",
            Plant::NoDuplicateDetection => "no_duplicate_detection",
            Plant::CommitPastVerified => "commit_past_verified",
        }
    }

    /// One line: what the bug does.
    pub fn description(self) -> &'static str {
        match self {
            Plant::StaleRead => {
                "a leader answers gets from local state without confirming it still leads"
            }
            Plant::VoteWithoutLogCheck => "a voter grants its vote without the log check",
            Plant::CommitOldTerm => {
                "a leader commits an entry of an older term by counting replicas (Figure 8)"
            }
            Plant::AckBeforeMajority => "a leader acknowledges a put before a majority stored it",
            Plant::ForgetVote => {
                "a candidate stepping down within its term forgets its vote and can vote twice"
            }
            Plant::CountStaleVotes => {
                "a candidate counts vote replies from older terms and the same voter twice"
            }
            Plant::NeverStepDown => "a leader cut off from the majority never steps down",
            Plant::UnpersistedVote => {
                "a granted vote is not persisted before the reply, so a restart forgets it"
            }
            Plant::NoDuplicateDetection => {
                "a put that reaches the leader twice (retry or duplicate) is applied twice"
            }
            Plant::CommitPastVerified => {
                "a follower commits up to the leader's commit, past the entries it verified"
            }
        }
    }

    /// The bug named `name`, if there is one.
    pub fn parse(name: &str) -> Option<Plant> {
        Plant::ALL.into_iter().find(|plant| plant.name() == name)
    }
}

impl fmt::Display for Plant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Applies a committed command; with [`Plant::NoDuplicateDetection`], a put is applied under
/// an id made unique by its index, so the state machine never recognises a second copy.
pub(super) fn apply(
    plant: Option<Plant>,
    machine: &mut StateMachine,
    index: u64,
    command: &Command,
) -> Option<String> {
    match (plant, command) {
        (Some(Plant::NoDuplicateDetection), Command::Put { client, mid, key, value }) => {
            let mid = format!("{mid}#{index}").into();
            machine.apply(&Command::Put {
                client: *client,
                mid,
                key: key.clone(),
                value: value.clone(),
            })
        }
        _ => machine.apply(command),
    }
}

impl Replica {
    /// Whether this replica carries `plant`.
    pub(super) fn planted(&self, plant: Plant) -> bool {
        self.config.plant == Some(plant)
    }

    /// [`Plant::StaleRead`]: a leader answers a get at once from its state machine. Returns
    /// whether the request was handled.
    pub(super) fn plant_stale_read(
        &mut self,
        request: &Message,
        actions: &mut Vec<Action>,
    ) -> bool {
        let Body::Get { mid, key } = &request.body else { return false };
        if !self.planted(Plant::StaleRead) || self.role != Role::Leader {
            return false;
        }
        if self.answered.contains(mid) || self.pending_mids.contains(mid) {
            return true; // A copy of a request already handled is dropped, as without the bug.
        }
        let value = Some(self.machine.get(key).to_owned());
        self.reply(request.src, Body::Ok { mid: mid.clone(), value }, actions);
        true
    }

    /// [`Plant::NoDuplicateDetection`]: a leader logs every put it receives, even one whose
    /// id it has answered, logged or applied. A copy it already answered is logged without
    /// being answered again. Returns whether the request was handled.
    pub(super) fn plant_log_every_put(
        &mut self,
        now_us: u64,
        request: &Message,
        actions: &mut Vec<Action>,
    ) -> bool {
        let Body::Put { mid, key, value } = &request.body else { return false };
        if !self.planted(Plant::NoDuplicateDetection) || self.role != Role::Leader {
            return false;
        }
        if self.answered.contains(mid) || self.pending_mids.contains(mid) {
            let (mid, key, value) =
                (mid.as_str().into(), key.as_str().into(), value.as_str().into());
            self.append(now_us, Command::Put { client: request.src, mid, key, value }, actions);
        } else {
            self.log_request(now_us, request.clone(), actions);
        }
        true
    }

    /// [`Plant::AckBeforeMajority`]: the put just logged at `(index, term)` is answered `ok`
    /// now, before any follower stored it.
    pub(super) fn plant_ack_early(&mut self, key: (u64, u64), actions: &mut Vec<Action>) {
        if !self.planted(Plant::AckBeforeMajority) {
            return;
        }
        if !self.pending.get(&key).is_some_and(|pending| pending.put) {
            return; // Gets are still answered when applied.
        }
        if let Some(pending) = self.pending.remove(&key) {
            self.pending_mids.remove(&pending.mid);
            self.reply(pending.client, Body::Ok { mid: pending.mid, value: None }, actions);
        }
    }

    /// [`Plant::ForgetVote`]: a candidate that recognises another leader of its term forgets
    /// (and persists forgetting) the vote it gave itself.
    pub(super) fn plant_forget_vote(&mut self, actions: &mut Vec<Action>) {
        if self.planted(Plant::ForgetVote) && self.role == Role::Candidate {
            self.voted_for = None;
            actions.push(Action::PersistState { term: self.term, voted_for: None });
        }
    }

    /// [`Plant::CountStaleVotes`]: a candidate counts any granted vote, whatever its term and
    /// however often the voter was counted. Returns whether the reply was handled.
    pub(super) fn plant_count_any_vote(
        &mut self,
        now_us: u64,
        voter: NodeId,
        vote_granted: bool,
        actions: &mut Vec<Action>,
    ) -> bool {
        if !self.planted(Plant::CountStaleVotes) {
            return false;
        }
        if self.role == Role::Candidate && vote_granted {
            self.votes.push(voter);
            if self.votes.len() >= self.quorum() {
                self.become_leader(now_us, actions);
            }
        }
        true
    }

    /// [`Plant::UnpersistedVote`]: drops the persist action a vote just pushed, if any.
    pub(super) fn plant_forget_to_persist(&mut self, actions: &mut Vec<Action>) {
        if self.planted(Plant::UnpersistedVote)
            && matches!(actions.last(), Some(Action::PersistState { voted_for: Some(_), .. }))
        {
            actions.pop();
        }
    }

    /// [`Plant::CommitPastVerified`]: the follower's commit index as the leader's, capped only
    /// by the end of its own log, not by the entries this message verified.
    pub(super) fn plant_commit_past_verified(&self, leader_commit: u64, commit: u64) -> u64 {
        match self.planted(Plant::CommitPastVerified) {
            true => leader_commit.min(self.last_log_index()),
            false => commit,
        }
    }
}
