//! A hand-cranked network for replica tests, and a one-line text rendering of actions.
//!
//! Tests build a [`Cluster`] of real [`Replica`]s, then move time and messages by hand: tick
//! one replica, deliver the oldest message from one replica to another, inject a client
//! request. Each step returns the actions it produced rendered one per line (see [`render`]),
//! so that a test compares the exact list against a literal transcript.

// Each test file uses a different part of this harness.
#![allow(dead_code)]

use replica::{
    Action, Body, Command, Config, DurableState, Entry, Input, Message, NodeId, Replica,
};

/// The client id used by tests (the course numbers clients from `replicas + 16`).
pub const CLIENT: NodeId = NodeId(0x15);

/// The configuration of replica `id` in a cluster of replicas `0..size`, jitter seed = `id`.
pub fn config(id: u16, size: u16) -> Config {
    let peers = (0..size).filter(|&peer| peer != id).map(NodeId).collect();
    Config::new(NodeId(id), peers, u64::from(id))
}

/// Replicas, virtual time and the messages sent but not yet delivered.
pub struct Cluster {
    /// Replica `i` has id `i`.
    pub replicas: Vec<Replica>,
    /// The time handed to every step.
    pub now_us: u64,
    /// Sent, undelivered replica-to-replica messages, oldest first.
    pub in_flight: Vec<Message>,
    /// Replies to clients, in the order they were sent.
    pub replies: Vec<Message>,
    /// Replicas cut off from all others: messages to or from them are dropped on delivery.
    pub cut: Vec<bool>,
}

impl Cluster {
    /// `size` fresh replicas with the default timings.
    pub fn new(size: u16) -> Cluster {
        Cluster::with(size, |_| DurableState::default(), |_| {})
    }

    /// `size` replicas restarted from `durable(id)`, their configs adjusted by `adjust`.
    pub fn with(
        size: u16,
        durable: impl Fn(u16) -> DurableState,
        adjust: impl Fn(&mut Config),
    ) -> Cluster {
        let replicas = (0..size)
            .map(|id| {
                let mut config = config(id, size);
                adjust(&mut config);
                Replica::new(config, durable(id), 0)
            })
            .collect();
        Cluster {
            replicas,
            now_us: 0,
            in_flight: Vec::new(),
            replies: Vec::new(),
            cut: vec![false; usize::from(size)],
        }
    }

    /// Replica `id`.
    pub fn replica(&self, id: u16) -> &Replica {
        &self.replicas[usize::from(id)]
    }

    /// Steps replica `id` with `input` at the current time; returns the rendered actions.
    pub fn step(&mut self, id: u16, input: Input) -> String {
        let mut actions = Vec::new();
        self.replicas[usize::from(id)].step(self.now_us, input, &mut actions);
        for action in &actions {
            match action {
                Action::Send(message) => self.in_flight.push(message.clone()),
                Action::Reply(message) => self.replies.push(message.clone()),
                Action::PersistState { .. } | Action::PersistEntries { .. } => {}
            }
        }
        render(&actions)
    }

    /// Ticks replica `id` at the current time.
    pub fn tick(&mut self, id: u16) -> String {
        self.step(id, Input::Tick)
    }

    /// Moves time to replica `id`'s next timer and ticks it there.
    pub fn tick_when_due(&mut self, id: u16) -> String {
        self.now_us = self.now_us.max(self.replica(id).next_tick_us());
        self.tick(id)
    }

    /// Hands `message` to its `dst` (a client request, or a message a test wrote by hand).
    pub fn receive(&mut self, message: Message) -> String {
        let dst = message.dst.0;
        self.step(dst, Input::Receive(message))
    }

    /// Delivers the oldest in-flight message from `src` to `dst`.
    pub fn deliver(&mut self, src: u16, dst: u16) -> String {
        let message = self.take(src, dst);
        self.receive(message)
    }

    /// Removes and returns the oldest in-flight message from `src` to `dst`.
    pub fn take(&mut self, src: u16, dst: u16) -> Message {
        let position = self
            .in_flight
            .iter()
            .position(|m| m.src == NodeId(src) && m.dst == NodeId(dst))
            .unwrap_or_else(|| panic!("no message in flight from {src} to {dst}"));
        self.in_flight.remove(position)
    }

    /// Drops every in-flight message from `src` to `dst`.
    pub fn drop_messages(&mut self, src: u16, dst: u16) {
        self.in_flight.retain(|m| !(m.src == NodeId(src) && m.dst == NodeId(dst)));
    }

    /// Delivers in-flight messages oldest first, including those they cause, until none is
    /// left; messages to or from a cut replica are dropped.
    pub fn deliver_all(&mut self) {
        while !self.in_flight.is_empty() {
            let message = self.in_flight.remove(0);
            let (src, dst) = (usize::from(message.src.0), usize::from(message.dst.0));
            if !self.cut[src] && !self.cut[dst] {
                self.receive(message);
            }
        }
    }

    /// Runs an election that replica `id` wins: it times out, and every message is delivered
    /// until the cluster is quiet (so followers also hold the leader's no-op).
    pub fn elect(&mut self, id: u16) {
        self.tick_when_due(id);
        self.deliver_all();
        assert_eq!(self.replica(id).leader(), NodeId(id), "replica {id} did not win");
    }
}

/// A client put from [`CLIENT`] to replica `dst`.
pub fn put(dst: u16, mid: &str, key: &str, value: &str) -> Message {
    let body = Body::Put { mid: mid.into(), key: key.into(), value: value.into() };
    Message { src: CLIENT, dst: NodeId(dst), leader: NodeId::UNKNOWN, body }
}

/// A client get from [`CLIENT`] to replica `dst`.
pub fn get(dst: u16, mid: &str, key: &str) -> Message {
    let body = Body::Get { mid: mid.into(), key: key.into() };
    Message { src: CLIENT, dst: NodeId(dst), leader: NodeId::UNKNOWN, body }
}

/// A log entry of `term` holding a no-op.
pub fn noop(term: u64) -> Entry {
    Entry { term, command: Command::Noop }
}

/// A log entry of `term` holding a put from [`CLIENT`].
pub fn put_entry(term: u64, mid: &str, key: &str, value: &str) -> Entry {
    let command =
        Command::Put { client: CLIENT, mid: mid.into(), key: key.into(), value: value.into() };
    Entry { term, command }
}

/// Durable state with `term`, no vote and `log`.
pub fn durable(term: u64, log: Vec<Entry>) -> DurableState {
    DurableState { term, voted_for: None, log }
}

/// Renders actions one per line, e.g. `send 0->1 append_entries term=4 prev=2/2 [4:noop]
/// commit=0`. Ids print in hex without leading zeros; `i/t` is an entry's index and term.
pub fn render(actions: &[Action]) -> String {
    actions.iter().map(render_action).collect::<Vec<_>>().join("\n")
}

fn render_action(action: &Action) -> String {
    match action {
        Action::PersistState { term, voted_for } => {
            let vote = voted_for.map_or("none".to_owned(), id);
            format!("persist_state term={term} vote={vote}")
        }
        Action::PersistEntries { from_index, entries } => {
            format!("persist_entries from={from_index} {}", render_entries(entries))
        }
        Action::Send(message) => format!("send {}", render_message(message)),
        Action::Reply(message) => {
            format!("reply {} leader={}", render_message(message), id(message.leader))
        }
    }
}

fn render_message(message: &Message) -> String {
    let route = format!("{}->{}", id(message.src), id(message.dst));
    let body = match &message.body {
        Body::RequestVote { term, last_log_index, last_log_term } => {
            format!("request_vote term={term} last={last_log_index}/{last_log_term}")
        }
        Body::RequestVoteResponse { term, vote_granted } => {
            let verdict = if *vote_granted { "granted" } else { "denied" };
            format!("request_vote_response term={term} {verdict}")
        }
        Body::AppendEntries { term, prev_log_index, prev_log_term, entries, leader_commit } => {
            let entries = render_entries(entries);
            let prev = format!("{prev_log_index}/{prev_log_term}");
            format!("append_entries term={term} prev={prev} {entries} commit={leader_commit}")
        }
        Body::AppendEntriesResponse { term, success: true, match_index } => {
            format!("append_entries_response term={term} ok match={match_index}")
        }
        Body::AppendEntriesResponse { term, success: false, match_index } => {
            format!("append_entries_response term={term} refused hint={match_index}")
        }
        Body::Ok { mid, value: Some(value) } => format!("ok {mid} value={value:?}"),
        Body::Ok { mid, value: None } => format!("ok {mid}"),
        Body::Fail { mid } => format!("fail {mid}"),
        Body::Redirect { mid } => format!("redirect {mid}"),
        Body::Get { mid, key } => format!("get {mid} {key}"),
        Body::Put { mid, key, value } => format!("put {mid} {key}={value}"),
        Body::Hello => "hello".to_owned(),
    };
    format!("{route} {body}")
}

fn render_entries(entries: &[Entry]) -> String {
    let entries: Vec<String> = entries.iter().map(render_entry).collect();
    format!("[{}]", entries.join(" "))
}

/// `term:command`, e.g. `2:put(A k=x)`, `4:get(B k)`, `4:noop`.
pub fn render_entry(entry: &Entry) -> String {
    let command = match &entry.command {
        Command::Noop => "noop".to_owned(),
        Command::Put { mid, key, value, .. } => format!("put({mid} {key}={value})"),
        Command::Get { mid, key, .. } => format!("get({mid} {key})"),
    };
    format!("{}:{command}", entry.term)
}

/// A replica's whole log, rendered like the entries of an AppendEntries.
pub fn render_log(replica: &Replica) -> String {
    render_entries(replica.log())
}

fn id(node: NodeId) -> String {
    format!("{:X}", node.0)
}

/// An AppendEntries written by hand, as leader `src` of `term` would send it to `dst`; `prev`
/// is `(prev_log_index, prev_log_term)`.
pub fn append_entries(
    src: u16,
    dst: u16,
    term: u64,
    prev: (u64, u64),
    entries: Vec<Entry>,
    leader_commit: u64,
) -> Message {
    let (prev_log_index, prev_log_term) = prev;
    let body = Body::AppendEntries { term, prev_log_index, prev_log_term, entries, leader_commit };
    Message { src: NodeId(src), dst: NodeId(dst), leader: NodeId(src), body }
}
