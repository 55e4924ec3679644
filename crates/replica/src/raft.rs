//! The Raft state machine proper: roles, terms, elections, replication, commit and apply.

use std::collections::{BTreeMap, BTreeSet};

use crate::{Body, Command, Entry, Message, NodeId, StateMachine};

/// Static settings of one replica.
#[derive(Clone, Debug)]
pub struct Config {
    /// This replica's id.
    pub id: NodeId,
    /// The other replicas' ids.
    pub peers: Vec<NodeId>,
    /// Lower bound of the randomized election timeout.
    pub election_timeout_us_min: u64,
    /// Upper bound (exclusive) of the randomized election timeout.
    pub election_timeout_us_max: u64,
    /// How long a leader lets a follower go without an AppendEntries before it sends one.
    pub heartbeat_interval_us: u64,
    /// Most entries carried by one AppendEntries.
    pub append_entries_max: usize,
    /// How soon a leader resends an unanswered AppendEntries to a follower that answered
    /// within the last heartbeat interval. A lost message then costs this long rather than a
    /// heartbeat interval, while a silent (dead or cut off) follower still gets only
    /// heartbeats. 0 (the default) resends only at heartbeats.
    pub retransmit_interval_us: u64,
    /// How many followers a leader sends a new entry to at once: 0 (the default) means all;
    /// otherwise it is raised to what a majority needs, and the followers that answered
    /// most recently are chosen. The others get new entries with their next heartbeat or
    /// answer, batched, which saves messages and costs nothing in commit latency while the
    /// chosen ones answer.
    pub eager_followers: usize,
    /// Read lease: for this long after appending an entry of its term that a majority has
    /// since stored, a leader answers gets from its own state machine, without a log round.
    /// 0 (the default) turns leases off, and every get goes through the log.
    ///
    /// Why it is safe: a follower that stored the entry received it after it was appended,
    /// and, with leases on, ignores RequestVote until `election_timeout_us_min` after it last
    /// heard from its leader (a leader ignores them while it leads). So no other leader can
    /// be elected until `election_timeout_us_min` after the append, as measured by the
    /// followers' clocks. The clock assumption: clocks run at rates that differ by less than
    /// `1 - read_lease_us / election_timeout_us_min` (a lease of 3/4 of the minimum election
    /// timeout tolerates clocks 25% apart). `Replica::new` rejects a lease that is not below
    /// the minimum election timeout.
    pub read_lease_us: u64,
    /// A follower that has not heard from its leader for this long (it may have died) holds
    /// client requests instead of redirecting them there, and redirects them when it hears
    /// from a leader again. Without it, clients bounce between followers and a dead leader
    /// until the election. 0 (the default) always redirects.
    pub silent_leader_hold_us: u64,
    /// A leader whose oldest uncommitted entry has waited this long (it is probably cut off
    /// from a majority) holds new client requests instead of logging them, so that they are
    /// redirected to the next leader rather than logged, lost and answered `fail`. 0 (the
    /// default) never holds.
    pub stalled_hold_us: u64,
    /// The planted bug this replica carries, if any (`plant` feature only; see `plant.rs`).
    #[cfg(feature = "plant")]
    pub plant: Option<plant::Plant>,
    /// Seed of the election timeout jitter (mixed with `id`, so that replicas given one seed
    /// still draw different timeouts).
    pub seed: u64,
}

impl Config {
    /// A configuration with the default timings: elections after 150 to 300 ms of silence,
    /// heartbeats every 50 ms.
    pub fn new(id: NodeId, peers: Vec<NodeId>, seed: u64) -> Config {
        Config {
            id,
            peers,
            election_timeout_us_min: 150_000,
            election_timeout_us_max: 300_000,
            heartbeat_interval_us: 50_000,
            append_entries_max: 64,
            retransmit_interval_us: 0,
            eager_followers: 0,
            read_lease_us: 0,
            stalled_hold_us: 0,
            silent_leader_hold_us: 0,
            #[cfg(feature = "plant")]
            plant: None,
            seed,
        }
    }
}

/// What a replica keeps across a crash: current term, vote and log (Figure 2, "Persistent
/// state on all servers").
#[derive(Clone, Default, Debug, PartialEq, Eq)]
pub struct DurableState {
    /// The latest term this replica has seen.
    pub term: u64,
    /// The candidate voted for in `term`, if any.
    pub voted_for: Option<NodeId>,
    /// The log; index 1 is `log[0]`.
    pub log: Vec<Entry>,
}

/// The role a replica plays in its current term.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Role {
    /// Follows a leader (or waits for one).
    Follower,
    /// Asks for votes.
    Candidate,
    /// Orders client requests.
    Leader,
}

/// One input to [`Replica::step`].
#[derive(Clone, Debug)]
pub enum Input {
    /// A message from another replica or from a client.
    Receive(Message),
    /// Time has passed; the replica checks its timers against `now_us`.
    Tick,
}

/// One output of [`Replica::step`]. Actions come in the order they must be carried out: a
/// persist action precedes every message that depends on it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    /// Make term and vote durable before sending anything that follows.
    PersistState {
        /// The current term.
        term: u64,
        /// The vote in that term.
        voted_for: Option<NodeId>,
    },
    /// Make the log durable: drop every entry from `from_index` on, then append `entries`
    /// (whose first index is `from_index`).
    PersistEntries {
        /// Index of the first entry replaced or appended.
        from_index: u64,
        /// The entries stored from that index on.
        entries: Vec<Entry>,
    },
    /// Send a message to another replica.
    Send(Message),
    /// Send a reply to a client.
    Reply(Message),
}

/// What a leader knows of one follower (Figure 2, "Volatile state on leaders").
#[derive(Clone, Debug)]
struct Progress {
    /// Index of the next entry to send.
    next_index: u64,
    /// Highest index known to be replicated on the follower.
    match_index: u64,
    /// When the last AppendEntries went out.
    sent_us: u64,
    /// Whether an AppendEntries is unanswered; a new one waits for the answer or a heartbeat.
    in_flight: bool,
    /// When the follower last answered in this term.
    heard_us: u64,
}

/// A client request this replica put in its log and still has to answer. Pending requests
/// are keyed by `(index, term)`: a replica that led twice may have logged two requests at one
/// index, and each must be answered when that index is applied.
#[derive(Clone, Debug)]
struct Pending {
    client: NodeId,
    mid: String,
    /// Whether the request is a put, which may have taken effect under another entry.
    put: bool,
}

/// One Raft replica of the key-value store. See the crate documentation.
#[derive(Debug)]
pub struct Replica {
    config: Config,
    term: u64,
    voted_for: Option<NodeId>,
    log: Vec<Entry>,
    role: Role,
    leader: NodeId,
    commit_index: u64,
    last_applied: u64,
    machine: StateMachine,
    election_deadline_us: u64,
    /// How many election timeouts have been drawn; feeds the jitter.
    timeouts_drawn: u64,
    votes: Vec<NodeId>,
    progress: BTreeMap<NodeId, Progress>,
    /// Since when this replica leads; check-quorum grace starts here.
    leader_since_us: u64,
    /// Requests in the log awaiting apply, by the `(index, term)` of their entry.
    pending: BTreeMap<(u64, u64), Pending>,
    /// Request ids in `pending`, to ignore a request that arrives twice.
    pending_mids: BTreeSet<String>,
    /// Requests that reached a follower or candidate that knows no leader yet.
    held: Vec<Message>,
    /// Every request id this replica has answered; none is answered twice.
    answered: BTreeSet<String>,
    /// When this follower last accepted an AppendEntries from its leader.
    leader_heard_us: u64,
    /// While leading: when each uncommitted entry of this term was appended, by index.
    appended_us: BTreeMap<u64, u64>,
    /// While leading with leases on: until when gets may be answered without the log.
    lease_until_us: u64,
}

impl Replica {
    /// Starts a replica from its durable state (empty on first start) as a follower.
    pub fn new(config: Config, durable: DurableState, now_us: u64) -> Replica {
        assert!(config.election_timeout_us_min < config.election_timeout_us_max);
        assert!(config.heartbeat_interval_us < config.election_timeout_us_min);
        assert!(config.append_entries_max > 0);
        assert!(config.read_lease_us < config.election_timeout_us_min);
        assert!(!config.peers.contains(&config.id));
        let mut replica = Replica {
            config,
            term: durable.term,
            voted_for: durable.voted_for,
            log: durable.log,
            role: Role::Follower,
            leader: NodeId::UNKNOWN,
            commit_index: 0,
            last_applied: 0,
            machine: StateMachine::default(),
            election_deadline_us: 0,
            timeouts_drawn: 0,
            votes: Vec::new(),
            progress: BTreeMap::new(),
            leader_since_us: 0,
            pending: BTreeMap::new(),
            pending_mids: BTreeSet::new(),
            held: Vec::new(),
            answered: Default::default(),
            leader_heard_us: 0,
            appended_us: BTreeMap::new(),
            lease_until_us: 0,
        };
        replica.reset_election_deadline(now_us);
        replica
    }

    /// Feeds one input at virtual time `now_us` and appends the resulting actions.
    pub fn step(&mut self, now_us: u64, input: Input, actions: &mut Vec<Action>) {
        match input {
            Input::Tick => self.on_tick(now_us, actions),
            Input::Receive(message) => self.on_message(now_us, message, actions),
        }
    }

    /// The virtual time at which the replica next needs a [`Input::Tick`]. Ticks earlier than
    /// this are harmless no-ops.
    pub fn next_tick_us(&self) -> u64 {
        match self.role {
            Role::Follower | Role::Candidate => self.election_deadline_us,
            Role::Leader => {
                let append = self.progress.values().map(|p| self.append_due_us(p)).min();
                append.unwrap_or(u64::MAX).min(self.quorum_deadline_us())
            }
        }
    }

    /// This replica's id.
    pub fn id(&self) -> NodeId {
        self.config.id
    }

    /// The current role.
    pub fn role(&self) -> Role {
        self.role
    }

    /// The current term.
    pub fn term(&self) -> u64 {
        self.term
    }

    /// The vote cast in the current term.
    pub fn voted_for(&self) -> Option<NodeId> {
        self.voted_for
    }

    /// The leader this replica believes in, or [`NodeId::UNKNOWN`].
    pub fn leader(&self) -> NodeId {
        self.leader
    }

    /// Highest index known to be committed.
    pub fn commit_index(&self) -> u64 {
        self.commit_index
    }

    /// Highest index applied to the state machine.
    pub fn last_applied(&self) -> u64 {
        self.last_applied
    }

    /// The log; index 1 is element 0.
    pub fn log(&self) -> &[Entry] {
        &self.log
    }

    /// The applied key-value state.
    pub fn state_machine(&self) -> &StateMachine {
        &self.machine
    }

    fn last_log_index(&self) -> u64 {
        self.log.len() as u64
    }

    fn last_log_term(&self) -> u64 {
        self.log.last().map_or(0, |entry| entry.term)
    }

    /// The term of the entry at `index`; index 0 has term 0.
    fn term_at(&self, index: u64) -> Option<u64> {
        match index {
            0 => Some(0),
            _ => self.log.get(index as usize - 1).map(|entry| entry.term),
        }
    }

    /// Votes or copies needed out of the whole cluster, this replica included.
    fn quorum(&self) -> usize {
        let cluster = self.config.peers.len() + 1;
        cluster / 2 + 1
    }

    // ---- timers ----

    fn on_tick(&mut self, now_us: u64, actions: &mut Vec<Action>) {
        match self.role {
            Role::Follower | Role::Candidate => {
                if now_us >= self.election_deadline_us {
                    self.become_candidate(now_us, actions);
                }
            }
            Role::Leader => {
                if now_us >= self.quorum_deadline_us() {
                    // Check-quorum: a leader that has not heard from a majority for an election
                    // timeout may have been replaced; it stops acting as leader.
                    self.become_follower(now_us, self.term, actions);
                    return;
                }
                let peers: Vec<NodeId> = self.progress.keys().copied().collect();
                for peer in peers {
                    if now_us >= self.append_due_us(&self.progress[&peer]) {
                        self.send_append_entries(now_us, peer, actions);
                    }
                }
            }
        }
    }

    /// When the leader next sends to a follower: a heartbeat interval after the last
    /// AppendEntries, or sooner, the retransmit interval, if that one is unanswered and the
    /// follower has been answering (so the message was probably lost, not the follower).
    fn append_due_us(&self, progress: &Progress) -> u64 {
        let answering = progress.heard_us + self.config.heartbeat_interval_us > progress.sent_us;
        let retransmit = self.config.retransmit_interval_us > 0;
        let interval = if retransmit && progress.in_flight && answering {
            self.config.retransmit_interval_us.min(self.config.heartbeat_interval_us)
        } else {
            self.config.heartbeat_interval_us
        };
        progress.sent_us.saturating_add(interval)
    }

    /// When a leader gives up unless it hears from more followers: an election timeout after
    /// the latest time by which a majority (itself included) had answered.
    fn quorum_deadline_us(&self) -> u64 {
        #[cfg(feature = "plant")]
        if self.planted(plant::Plant::NeverStepDown) {
            return u64::MAX;
        }
        // The leader counts itself, so it needs quorum - 1 followers.
        let needed = self.quorum() - 1;
        let heard_by_majority_us = match needed {
            0 => u64::MAX - self.config.election_timeout_us_min,
            n => {
                kth_largest(self.progress.values().map(|p| p.heard_us), n).max(self.leader_since_us)
            }
        };
        heard_by_majority_us + self.config.election_timeout_us_min
    }

    /// Draws the next randomized election timeout (§5.2): a pure function of the configured
    /// seed, this replica's id and how many timeouts it drew before, so a run replays exactly.
    /// The id is mixed in so that replicas handed one common seed still time out apart.
    fn reset_election_deadline(&mut self, now_us: u64) {
        let span_us = self.config.election_timeout_us_max - self.config.election_timeout_us_min;
        let stream = splitmix64(self.config.seed ^ (u64::from(self.config.id.0) << 48));
        let draw = splitmix64(stream ^ splitmix64(self.timeouts_drawn));
        self.timeouts_drawn += 1;
        self.election_deadline_us = now_us + self.config.election_timeout_us_min + draw % span_us;
    }

    // ---- role changes ----

    fn become_follower(&mut self, now_us: u64, term: u64, actions: &mut Vec<Action>) {
        assert!(term >= self.term);
        let was_leader = self.role == Role::Leader;
        if term > self.term {
            self.term = term;
            self.voted_for = None;
            self.leader = NodeId::UNKNOWN;
            actions.push(Action::PersistState { term, voted_for: None });
        }
        if was_leader {
            self.leader = NodeId::UNKNOWN;
            self.reset_election_deadline(now_us);
        }
        self.role = Role::Follower;
        self.votes.clear();
        self.progress.clear();
        self.appended_us.clear();
        self.lease_until_us = 0;
    }

    fn become_candidate(&mut self, now_us: u64, actions: &mut Vec<Action>) {
        self.role = Role::Candidate;
        self.term += 1;
        self.voted_for = Some(self.config.id);
        self.leader = NodeId::UNKNOWN;
        self.votes = vec![self.config.id];
        self.reset_election_deadline(now_us);
        actions.push(Action::PersistState { term: self.term, voted_for: self.voted_for });
        if self.votes.len() >= self.quorum() {
            self.become_leader(now_us, actions);
            return;
        }
        for &peer in &self.config.peers {
            let body = Body::RequestVote {
                term: self.term,
                last_log_index: self.last_log_index(),
                last_log_term: self.last_log_term(),
            };
            actions.push(Action::Send(self.message(peer, body)));
        }
    }

    fn become_leader(&mut self, now_us: u64, actions: &mut Vec<Action>) {
        assert_eq!(self.role, Role::Candidate);
        self.role = Role::Leader;
        self.leader = self.config.id;
        self.leader_since_us = now_us;
        self.votes.clear();
        self.appended_us.clear();
        self.lease_until_us = 0;
        let next_index = self.last_log_index() + 1;
        self.progress = self
            .config
            .peers
            .iter()
            .map(|&peer| {
                let progress = Progress {
                    next_index,
                    match_index: 0,
                    sent_us: now_us,
                    in_flight: false,
                    heard_us: now_us,
                };
                (peer, progress)
            })
            .collect();
        // A no-op of the new term lets the leader commit everything before it (§8).
        self.append(now_us, Command::Noop, actions);
        let held = std::mem::take(&mut self.held);
        for request in held {
            self.on_client_request(now_us, request, actions);
        }
    }

    // ---- messages ----

    fn on_message(&mut self, now_us: u64, message: Message, actions: &mut Vec<Action>) {
        if let Some(term) = message.body.term() {
            if !self.config.peers.contains(&message.src) {
                // Raft traffic from outside the cluster (or from ourselves) cannot be a vote or
                // a leader of ours; acting on it could make this replica vote for itself twice
                // or see a second leader in its own term.
                return;
            }
            if matches!(message.body, Body::RequestVote { .. }) && self.leader_is_fresh(now_us) {
                // With read leases, a replica that recently heard from a leader must not
                // help elect another (nor adopt the candidate's term), or a lease could
                // overlap a new leader's term; see `Config::read_lease_us`.
                return;
            }
            if term > self.term {
                self.become_follower(now_us, term, actions);
            }
        }
        let src = message.src;
        match message.body {
            Body::Get { .. } | Body::Put { .. } => self.on_client_request(now_us, message, actions),
            Body::RequestVote { term, last_log_index, last_log_term } => {
                self.on_request_vote(now_us, src, term, last_log_index, last_log_term, actions)
            }
            Body::RequestVoteResponse { term, vote_granted } => {
                self.on_request_vote_response(now_us, src, term, vote_granted, actions)
            }
            Body::AppendEntries { term, prev_log_index, prev_log_term, entries, leader_commit } => {
                let request = AppendRequest { term, prev_log_index, prev_log_term, leader_commit };
                self.on_append_entries(now_us, src, request, entries, actions)
            }
            Body::AppendEntriesResponse { term, success, match_index } => {
                self.on_append_entries_response(now_us, src, term, success, match_index, actions)
            }
            // Replies and hellos are never addressed to a replica; ignore them.
            Body::Hello | Body::Ok { .. } | Body::Fail { .. } | Body::Redirect { .. } => {}
        }
    }

    /// Whether a follower's leader has been silent for `silent_leader_hold_us`.
    fn leader_is_silent(&self, now_us: u64) -> bool {
        let hold_us = self.config.silent_leader_hold_us;
        hold_us > 0 && now_us >= self.leader_heard_us + hold_us
    }

    /// With leases on: whether this replica leads, or heard from its leader within the
    /// minimum election timeout.
    fn leader_is_fresh(&self, now_us: u64) -> bool {
        if self.config.read_lease_us == 0 {
            return false;
        }
        match self.role {
            Role::Leader => true,
            Role::Candidate => false,
            Role::Follower => {
                !self.leader.is_unknown()
                    && now_us < self.leader_heard_us + self.config.election_timeout_us_min
            }
        }
    }

    fn on_request_vote(
        &mut self,
        now_us: u64,
        candidate: NodeId,
        term: u64,
        last_log_index: u64,
        last_log_term: u64,
        actions: &mut Vec<Action>,
    ) {
        // Election restriction (§5.4.1): vote only for a log at least as up to date as ours,
        // comparing the last entries' terms first and, on a tie, the logs' lengths.
        let up_to_date =
            (last_log_term, last_log_index) >= (self.last_log_term(), self.last_log_index());
        #[cfg(feature = "plant")]
        let up_to_date = up_to_date || self.planted(plant::Plant::VoteWithoutLogCheck);
        // One vote per term (§5.2); asking again in the same term gets the same answer, so a
        // candidate whose first response was lost still collects our vote.
        let free = self.voted_for.is_none() || self.voted_for == Some(candidate);
        // A candidate of an older term is refused and learns our term from the response.
        let grant = term == self.term && free && up_to_date;
        if grant {
            assert_ne!(self.role, Role::Leader, "a leader voted for itself in its term");
            if self.voted_for.is_none() {
                self.voted_for = Some(candidate);
                actions.push(Action::PersistState { term: self.term, voted_for: Some(candidate) });
                #[cfg(feature = "plant")]
                self.plant_forget_to_persist(actions);
            }
            // Figure 2, "Rules for Servers, Followers": granting a vote restarts the timer.
            self.reset_election_deadline(now_us);
        }
        let body = Body::RequestVoteResponse { term: self.term, vote_granted: grant };
        actions.push(Action::Send(self.message(candidate, body)));
    }

    fn on_request_vote_response(
        &mut self,
        now_us: u64,
        voter: NodeId,
        term: u64,
        vote_granted: bool,
        actions: &mut Vec<Action>,
    ) {
        #[cfg(feature = "plant")]
        if self.plant_count_any_vote(now_us, voter, vote_granted, actions) {
            return;
        }
        if self.role != Role::Candidate || term != self.term || !vote_granted {
            return; // Not campaigning, a reply from another term, or a refusal.
        }
        if self.votes.contains(&voter) {
            return; // A duplicate vote counts once.
        }
        self.votes.push(voter);
        if self.votes.len() >= self.quorum() {
            self.become_leader(now_us, actions);
        }
    }

    fn on_append_entries(
        &mut self,
        now_us: u64,
        leader: NodeId,
        request: AppendRequest,
        entries: Vec<Entry>,
        actions: &mut Vec<Action>,
    ) {
        if request.term < self.term {
            // A deposed leader learns our term from the refusal (Figure 2, receiver rule 1).
            self.send_append_entries_response(leader, false, 0, actions);
            return;
        }
        assert_eq!(request.term, self.term);
        assert_ne!(self.role, Role::Leader, "two leaders in term {}", self.term);
        self.follow(now_us, leader, actions);

        // Receiver rule 2: the entry before the new ones must match the leader's.
        if self.term_at(request.prev_log_index) != Some(request.prev_log_term) {
            let hint = self.conflict_hint(request.prev_log_index);
            self.send_append_entries_response(leader, false, hint, actions);
            return;
        }
        let last_new_index = request.prev_log_index + entries.len() as u64;
        if let Some(offset) = self.first_new_entry(request.prev_log_index, &entries) {
            let from_index = request.prev_log_index + 1 + offset as u64;
            if from_index <= self.commit_index {
                // A committed entry is in every later leader's log (§5.4, Leader
                // Completeness), so a message that contradicts one is not from a correct
                // leader of this term: keep the committed log and do not answer.
                return;
            }
            // Receiver rules 3-4: drop the conflicting suffix, append what is new. An entry
            // already present is never dropped, so a duplicated or reordered AppendEntries
            // cannot erase entries that a later one added.
            self.log.truncate(from_index as usize - 1);
            let new_entries = entries[offset..].to_vec();
            self.log.extend(new_entries.iter().cloned());
            actions.push(Action::PersistEntries { from_index, entries: new_entries });
        }

        // Receiver rule 5: commit up to the leader's commit index, but only over entries this
        // message verified; entries past them may still differ from the leader's.
        let commit = request.leader_commit.min(last_new_index);
        #[cfg(feature = "plant")]
        let commit = self.plant_commit_past_verified(request.leader_commit, commit);
        if commit > self.commit_index {
            self.commit_index = commit;
            self.apply_committed(actions);
        }
        self.send_append_entries_response(leader, true, last_new_index, actions);
    }

    /// Recognises `leader` as the leader of the current term: a candidate gives up (§5.2), the
    /// election timer restarts, and held requests are redirected to it.
    fn follow(&mut self, now_us: u64, leader: NodeId, actions: &mut Vec<Action>) {
        #[cfg(feature = "plant")]
        self.plant_forget_vote(actions);
        self.role = Role::Follower;
        self.votes.clear();
        self.reset_election_deadline(now_us);
        self.leader_heard_us = now_us;
        // Requests held while the leader was unknown or silent can go to it now.
        self.leader = leader;
        self.redirect_held(actions);
    }

    /// The hint in a refusal: the leader may resend from `hint + 1`. With no entry at
    /// `prev_log_index`, that is just past our log; with a conflicting one, it skips back over
    /// the whole conflicting term in one round trip (§5.3, "the follower can include the term
    /// of the conflicting entry"), but never below our commit index, which every leader shares.
    fn conflict_hint(&self, prev_log_index: u64) -> u64 {
        let Some(conflict_term) = self.term_at(prev_log_index) else {
            return self.last_log_index();
        };
        let mut index = prev_log_index;
        while index > self.commit_index + 1 && self.term_at(index - 1) == Some(conflict_term) {
            index -= 1;
        }
        index.saturating_sub(1)
    }

    /// The offset in `entries` of the first one not already in our log (a conflict or past
    /// its end), or `None` when every entry is already present.
    fn first_new_entry(&self, prev_log_index: u64, entries: &[Entry]) -> Option<usize> {
        entries.iter().enumerate().position(|(offset, entry)| {
            let index = prev_log_index + 1 + offset as u64;
            self.term_at(index) != Some(entry.term)
        })
    }

    fn send_append_entries_response(
        &mut self,
        leader: NodeId,
        success: bool,
        match_index: u64,
        actions: &mut Vec<Action>,
    ) {
        let body = Body::AppendEntriesResponse { term: self.term, success, match_index };
        actions.push(Action::Send(self.message(leader, body)));
    }

    fn on_append_entries_response(
        &mut self,
        now_us: u64,
        follower: NodeId,
        term: u64,
        success: bool,
        match_index: u64,
        actions: &mut Vec<Action>,
    ) {
        if self.role != Role::Leader || term != self.term {
            return; // Not leading, or an answer to an older term's request.
        }
        let last_log_index = self.last_log_index();
        if success && match_index > last_log_index {
            return; // Claims entries we never sent: not an answer to any request of ours.
        }
        let progress = self.progress.get_mut(&follower).expect("peers have progress");
        progress.heard_us = now_us;
        progress.in_flight = false;
        if success {
            // Responses may arrive out of order: a stale one never moves either index back.
            progress.match_index = progress.match_index.max(match_index);
            progress.next_index = progress.next_index.max(match_index + 1);
            self.maybe_advance_commit(actions);
            self.maybe_release_held(now_us, actions);
        } else {
            // Retry from the follower's hint, within our log and never below what it has.
            let retry_from = match_index.saturating_add(1).min(last_log_index + 1);
            progress.next_index = retry_from.max(progress.match_index + 1);
        }
        let progress = &self.progress[&follower];
        if progress.next_index <= last_log_index || !success {
            self.send_append_entries(now_us, follower, actions);
        }
    }

    // ---- client requests ----

    fn on_client_request(&mut self, now_us: u64, request: Message, actions: &mut Vec<Action>) {
        #[cfg(feature = "plant")]
        if self.plant_stale_read(&request, actions)
            || self.plant_log_every_put(now_us, &request, actions)
        {
            return;
        }
        let Some(mid) = request.body.mid() else { return };
        if self.answered.contains(mid) || self.pending_mids.contains(mid) {
            return; // A request that arrives twice is answered once.
        }
        if matches!(&request.body, Body::Put { mid, .. } if self.machine.has_applied_put(mid)) {
            // A retry of a put that already took effect: it must not take effect again, and
            // it did succeed, so any replica that applied it may say so.
            let mid = mid.to_owned();
            self.reply(request.src, Body::Ok { mid, value: None }, actions);
            return;
        }
        match self.role {
            Role::Leader
                if self.lease_holds(now_us) && matches!(request.body, Body::Get { .. }) =>
            {
                // Under a read lease no other leader exists and everything committed is
                // applied here, so the state machine's value is current (linearizable).
                let Body::Get { mid, key } = request.body else { unreachable!("matched a get") };
                let value = Some(self.machine.get(&key).to_owned());
                self.reply(request.src, Body::Ok { mid, value }, actions);
            }
            Role::Leader if self.is_stalled(now_us) => {
                // Probably cut off from a majority: hold it unacted-on, so that it can be
                // redirected to the next leader instead of failing later.
                if !self.held.iter().any(|held| held.body.mid() == Some(mid)) {
                    self.held.push(request);
                }
            }
            Role::Leader => self.log_request(now_us, request, actions),
            Role::Follower | Role::Candidate
                if self.leader.is_unknown() || self.leader_is_silent(now_us) =>
            {
                // Hold it until a leader is known; it has not been acted on.
                if !self.held.iter().any(|held| held.body.mid() == Some(mid)) {
                    self.held.push(request);
                }
            }
            Role::Follower | Role::Candidate => {
                // This replica will never log the request, so it can never take effect here.
                let reply = Body::Redirect { mid: mid.to_owned() };
                self.reply(request.src, reply, actions);
            }
        }
    }

    /// Orders a client request through the log (gets too, so that no read is stale, §8); it
    /// is answered when its index is applied.
    fn log_request(&mut self, now_us: u64, request: Message, actions: &mut Vec<Action>) {
        assert_eq!(self.role, Role::Leader);
        let client = request.src;
        let (command, put) = match request.body {
            Body::Put { mid, key, value } => {
                let (mid, key, value) = (mid.into(), key.into(), value.into());
                (Command::Put { client, mid, key, value }, true)
            }
            Body::Get { mid, key } => {
                (Command::Get { client, mid: mid.into(), key: key.into() }, false)
            }
            _ => unreachable!("only client requests reach log_request"),
        };
        let mid = command.mid().expect("client command").to_owned();
        // Registered before appending: in a one-replica cluster the append commits at once.
        let key = (self.last_log_index() + 1, self.term);
        self.pending_mids.insert(mid.clone());
        self.pending.insert(key, Pending { client, mid, put });
        let index = self.append(now_us, command, actions);
        assert_eq!(index, key.0);
        #[cfg(feature = "plant")]
        self.plant_ack_early(key, actions);
    }

    /// Whether a read lease is in force (see [`Config::read_lease_us`]).
    fn lease_holds(&self, now_us: u64) -> bool {
        self.role == Role::Leader && now_us < self.lease_until_us
    }

    /// Whether this leader's oldest uncommitted entry has waited `stalled_hold_us`.
    fn is_stalled(&self, now_us: u64) -> bool {
        let hold_us = self.config.stalled_hold_us;
        let oldest = self.appended_us.values().next();
        hold_us > 0 && oldest.is_some_and(|&appended_us| now_us >= appended_us + hold_us)
    }

    /// Logs the requests a stalled leader held, once it commits again.
    fn maybe_release_held(&mut self, now_us: u64, actions: &mut Vec<Action>) {
        if self.role != Role::Leader || self.held.is_empty() || self.is_stalled(now_us) {
            return;
        }
        for request in std::mem::take(&mut self.held) {
            self.on_client_request(now_us, request, actions);
        }
    }

    fn redirect_held(&mut self, actions: &mut Vec<Action>) {
        let held = std::mem::take(&mut self.held);
        for request in held {
            let mid = request.body.mid().expect("only client requests are held").to_owned();
            self.reply(request.src, Body::Redirect { mid }, actions);
        }
    }

    fn reply(&mut self, client: NodeId, body: Body, actions: &mut Vec<Action>) {
        let mid = body.mid().expect("replies carry a request id");
        let fresh = self.answered.insert(mid.to_owned());
        assert!(fresh, "request {mid} answered twice");
        let message = self.message(client, body);
        actions.push(Action::Reply(message));
    }

    // ---- replication ----

    /// Appends a command of the current term to the leader's log and sends it on.
    fn append(&mut self, now_us: u64, command: Command, actions: &mut Vec<Action>) -> u64 {
        assert_eq!(self.role, Role::Leader);
        let entry = Entry { term: self.term, command };
        self.log.push(entry.clone());
        let index = self.last_log_index();
        self.appended_us.insert(index, now_us);
        actions.push(Action::PersistEntries { from_index: index, entries: vec![entry] });
        for peer in self.eager_peers() {
            self.send_append_entries(now_us, peer, actions);
        }
        self.maybe_advance_commit(actions);
        index
    }

    /// The followers a new entry goes to at once (see [`Config::eager_followers`]): those
    /// not waiting for an answer, among all or among the most recently heard.
    fn eager_peers(&self) -> Vec<NodeId> {
        let mut peers: Vec<(&NodeId, &Progress)> = self.progress.iter().collect();
        let eager = self.config.eager_followers;
        if eager > 0 {
            // Most recently heard first; ties by id, so the choice is deterministic.
            peers.sort_by_key(|(&peer, progress)| (std::cmp::Reverse(progress.heard_us), peer));
            peers.truncate(eager.max(self.quorum() - 1));
        }
        peers
            .into_iter()
            .filter(|(_, progress)| !progress.in_flight)
            .map(|(&peer, _)| peer)
            .collect()
    }

    fn send_append_entries(&mut self, now_us: u64, peer: NodeId, actions: &mut Vec<Action>) {
        let progress = self.progress.get_mut(&peer).expect("a peer of the leader");
        progress.sent_us = now_us;
        progress.in_flight = true;
        let prev_log_index = progress.next_index - 1;
        let prev_log_term = self.term_at(prev_log_index).expect("next_index within the log");
        let from = prev_log_index as usize;
        let to = self.log.len().min(from + self.config.append_entries_max);
        let body = Body::AppendEntries {
            term: self.term,
            prev_log_index,
            prev_log_term,
            entries: self.log[from..to].to_vec(),
            leader_commit: self.commit_index,
        };
        actions.push(Action::Send(self.message(peer, body)));
    }

    /// Commits the highest index stored on a majority, if it is of the current term: an older
    /// term's entry is committed only indirectly, by committing one of ours after it (§5.4.2,
    /// Figure 8).
    fn maybe_advance_commit(&mut self, actions: &mut Vec<Action>) {
        let matched = self.progress.values().map(|p| p.match_index);
        let majority_index =
            kth_largest(matched.chain(std::iter::once(self.last_log_index())), self.quorum());
        let ours = self.term_at(majority_index) == Some(self.term);
        #[cfg(feature = "plant")]
        let ours = ours || self.planted(plant::Plant::CommitOldTerm);
        if majority_index > self.commit_index && ours {
            self.commit_index = majority_index;
            // The newest entry a majority stores was appended at `appended_us`: every one of
            // that majority heard from us since then (see `Config::read_lease_us`).
            if let Some(&appended_us) = self.appended_us.get(&majority_index) {
                if self.config.read_lease_us > 0 {
                    let until_us = appended_us + self.config.read_lease_us;
                    self.lease_until_us = self.lease_until_us.max(until_us);
                }
            }
            self.appended_us = self.appended_us.split_off(&(majority_index + 1));
            self.apply_committed(actions);
        }
    }

    /// Applies committed entries in order, once each, and answers the requests they settle.
    fn apply_committed(&mut self, actions: &mut Vec<Action>) {
        assert!(self.commit_index <= self.last_log_index());
        while self.last_applied < self.commit_index {
            self.last_applied += 1;
            let index = self.last_applied;
            let entry = &self.log[index as usize - 1];
            #[cfg(not(feature = "plant"))]
            let read = self.machine.apply(&entry.command);
            #[cfg(feature = "plant")]
            let read = plant::apply(self.config.plant, &mut self.machine, index, &entry.command);
            let (term, mid) = (entry.term, entry.command.mid().map(str::to_owned));
            self.answer_pending(index, term, mid, read, actions);
        }
    }

    /// Answers every request this replica logged at `index`, now that the entry of `term`
    /// (carrying request `mid`, if any) is applied there.
    fn answer_pending(
        &mut self,
        index: u64,
        term: u64,
        mid: Option<String>,
        read: Option<String>,
        actions: &mut Vec<Action>,
    ) {
        let keys: Vec<(u64, u64)> =
            self.pending.range((index, 0)..=(index, u64::MAX)).map(|(&key, _)| key).collect();
        for key in keys {
            let pending = self.pending.remove(&key).expect("key just listed");
            self.pending_mids.remove(&pending.mid);
            let ours = key.1 == term && mid.as_deref() == Some(pending.mid.as_str());
            // An entry is known by its index and term (Log Matching, §5.3): if another entry
            // was committed at our index, ours can never be, and the request took effect only
            // if it is a put whose id was applied from another entry. Otherwise it never will
            // through this replica's entry, and the client may safely retry.
            let body = if ours {
                Body::Ok { mid: pending.mid, value: read.clone() }
            } else if pending.put && self.machine.has_applied_put(&pending.mid) {
                Body::Ok { mid: pending.mid, value: None }
            } else {
                Body::Fail { mid: pending.mid }
            };
            self.reply(pending.client, body, actions);
        }
    }

    fn message(&self, dst: NodeId, body: Body) -> Message {
        Message { src: self.config.id, dst, leader: self.leader, body }
    }
}

/// The header fields of an AppendEntries, bundled to keep the handler's signature short.
struct AppendRequest {
    term: u64,
    prev_log_index: u64,
    prev_log_term: u64,
    leader_commit: u64,
}

/// The `k`-th largest (from 1) of `values`. Runs after every step of a leader, so clusters
/// of up to 32 replicas are handled on the stack, without allocating.
fn kth_largest(values: impl Iterator<Item = u64>, k: usize) -> u64 {
    const ON_STACK: usize = 32;
    let mut stack = [0u64; ON_STACK];
    let mut len = 0;
    let mut spilled = Vec::new();
    for value in values {
        if len < ON_STACK {
            stack[len] = value;
            len += 1;
        } else {
            spilled.push(value);
        }
    }
    let all: &mut [u64] = if spilled.is_empty() {
        &mut stack[..len]
    } else {
        spilled.extend_from_slice(&stack);
        &mut spilled
    };
    assert!(k >= 1 && k <= all.len(), "k-th largest of {} values with k = {k}", all.len());
    all.sort_unstable_by(|a, b| b.cmp(a));
    all[k - 1]
}

/// A 64-bit mixing function (splitmix64's finalizer): a pure function of its input, used for
/// election jitter so that the replica owns no random number generator.
fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[cfg(feature = "plant")]
#[path = "plant.rs"]
pub mod plant;

#[cfg(test)]
mod tests {
    use super::kth_largest;

    #[test]
    fn kth_largest_matches_a_sort_on_and_off_the_stack() {
        let small = [5u64, 1, 9, 3, 9];
        assert_eq!(kth_largest(small.iter().copied(), 1), 9);
        assert_eq!(kth_largest(small.iter().copied(), 2), 9);
        assert_eq!(kth_largest(small.iter().copied(), 3), 5);
        assert_eq!(kth_largest(small.iter().copied(), 5), 1);
        let large: Vec<u64> = (0..70).map(|i| (i * 37) % 101).collect();
        let mut sorted = large.clone();
        sorted.sort_unstable_by(|a, b| b.cmp(a));
        for k in [1, 31, 32, 33, 70] {
            assert_eq!(kth_largest(large.iter().copied(), k), sorted[k - 1], "k = {k}");
        }
    }
}
