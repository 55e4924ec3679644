//! The replica under the only adversary we model: a network that reorders, duplicates,
//! delays and drops messages, partitions, and replicas that crash and restart from what they
//! persisted. For many seeds, after every step, it checks the Raft safety properties (§5.4,
//! Figure 3) and the client contract, and that no input makes a replica panic:
//!
//! - election safety: at most one leader per term;
//! - state machine safety: every replica's committed prefix agrees with every other's;
//! - a replica applies what it commits at once, in order, and its commit index never falls;
//! - an `ok` is sent only for a request whose entry is committed (a get reads the value the
//!   committed prefix gives at its entry); a `fail` or `redirect` only for a request that is
//!   never committed; no incarnation of a replica answers a request id twice.

mod common;

use std::collections::{BTreeMap, BTreeSet};

use common::{config, get, put};
use replica::{Action, Body, Command, Config, DurableState, Entry, Input, Message, Replica, Role};

/// splitmix64, as a tiny deterministic generator for the test's own choices.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// One replica slot: the running incarnation (if up), its disk and what it answered.
struct Node {
    replica: Option<Replica>,
    disk: DurableState,
    incarnation: u32,
    answered: BTreeSet<String>,
    commit_index: u64,
}

struct World {
    rng: Rng,
    /// Applied to every replica's config, at start and on restart.
    adjust: fn(&mut Config),
    size: u16,
    now_us: u64,
    nodes: Vec<Node>,
    cut: Vec<bool>,
    in_flight: Vec<Message>,
    /// Client requests sent so far, with the incarnation they reached (for duplicates).
    requests: Vec<(Message, u32)>,
    next_mid: u32,
    /// The committed log as far as any replica has committed it.
    committed: Vec<Entry>,
    leaders: BTreeMap<u64, u16>,
    /// Request ids of the entries in `committed`.
    committed_mids: BTreeSet<String>,
    /// Request ids answered `ok` in the current step, checked against `committed` after it.
    ok: Vec<String>,
    /// Request ids answered `fail` or `redirect`, and those of them answered in this step.
    refused: BTreeSet<String>,
    refused_now: Vec<String>,
    /// What each get answered `ok` read.
    reads: BTreeMap<String, String>,
}

impl World {
    fn new(seed: u64, size: u16, adjust: fn(&mut Config)) -> World {
        let nodes = (0..size)
            .map(|id| Node {
                replica: Some(Replica::new(
                    adjusted(config(id, size), adjust),
                    DurableState::default(),
                    0,
                )),
                disk: DurableState::default(),
                incarnation: 0,
                answered: BTreeSet::new(),
                commit_index: 0,
            })
            .collect();
        World {
            rng: Rng(seed),
            adjust,
            size,
            now_us: 0,
            nodes,
            cut: vec![false; usize::from(size)],
            in_flight: Vec::new(),
            requests: Vec::new(),
            next_mid: 0,
            committed: Vec::new(),
            leaders: BTreeMap::new(),
            committed_mids: BTreeSet::new(),
            ok: Vec::new(),
            refused: BTreeSet::new(),
            refused_now: Vec::new(),
            reads: BTreeMap::new(),
        }
    }

    /// One random step of the world.
    fn step(&mut self) {
        // Mostly deliveries, so that messages usually outpace the election timeouts (or no
        // election would ever finish), with a steady trickle of faults.
        match self.rng.below(1000) {
            0..=799 => self.deliver_one(),
            800..=829 => self.drop_one(),
            830..=909 => self.tick_next(),
            910..=969 => self.send_request(),
            970..=989 => self.duplicate_request(),
            990..=994 => self.toggle_cut(),
            _ => self.crash_or_restart(),
        }
        self.check();
    }

    fn deliver_one(&mut self) {
        if self.in_flight.is_empty() {
            return;
        }
        let position = self.rng.below(self.in_flight.len());
        let message = if self.rng.below(10) == 0 {
            self.in_flight[position].clone() // Duplicated: a copy stays in flight.
        } else {
            self.in_flight.remove(position)
        };
        let (src, dst) = (usize::from(message.src.0), usize::from(message.dst.0));
        if !self.cut[src] && !self.cut[dst] {
            self.run(message.dst.0, Input::Receive(message));
        }
    }

    fn drop_one(&mut self) {
        if !self.in_flight.is_empty() {
            let position = self.rng.below(self.in_flight.len());
            self.in_flight.remove(position);
        }
    }

    /// Moves time to the earliest timer of a running replica and ticks it.
    fn tick_next(&mut self) {
        let due = (0..self.size)
            .filter_map(|id| self.nodes[usize::from(id)].replica.as_ref().map(|r| (r, id)))
            .map(|(replica, id)| (replica.next_tick_us(), id))
            .min();
        if let Some((due_us, id)) = due {
            self.now_us = self.now_us.max(due_us);
            self.run(id, Input::Tick);
        }
    }

    fn send_request(&mut self) {
        let dst = self.rng.below(usize::from(self.size)) as u16;
        let mid = format!("M{}", self.next_mid);
        self.next_mid += 1;
        let key = ["a", "b"][self.rng.below(2)];
        let request =
            if self.rng.below(2) == 0 { put(dst, &mid, key, &mid) } else { get(dst, &mid, key) };
        self.requests.push((request.clone(), self.nodes[usize::from(dst)].incarnation));
        self.run(dst, Input::Receive(request));
    }

    /// Delivers an old client datagram again, to the same incarnation of its replica only:
    /// which request ids a replica answered is not durable, so a restarted replica would act
    /// on a stale duplicate as on a new request (a known limit, not checked here).
    fn duplicate_request(&mut self) {
        if self.requests.is_empty() {
            return;
        }
        let (request, incarnation) = self.requests[self.rng.below(self.requests.len())].clone();
        if self.nodes[usize::from(request.dst.0)].incarnation == incarnation {
            self.run(request.dst.0, Input::Receive(request));
        }
    }

    fn toggle_cut(&mut self) {
        if self.cut.iter().any(|&cut| cut) {
            self.cut.fill(false);
        } else {
            self.cut[self.rng.below(usize::from(self.size))] = true;
        }
    }

    /// Restarts a crashed replica from its disk if there is one, else crashes one at random.
    fn crash_or_restart(&mut self) {
        let down = self.nodes.iter().position(|node| node.replica.is_none());
        let id = down.unwrap_or_else(|| self.rng.below(usize::from(self.size)));
        let node = &mut self.nodes[id];
        if node.replica.take().is_none() {
            let config = adjusted(config(id as u16, self.size), self.adjust);
            node.replica = Some(Replica::new(config, node.disk.clone(), self.now_us));
            node.incarnation += 1;
            node.answered.clear();
            node.commit_index = 0;
        }
    }

    /// Steps replica `id` if it is running, and carries out its actions in order.
    fn run(&mut self, id: u16, input: Input) {
        let node = &mut self.nodes[usize::from(id)];
        let Some(replica) = node.replica.as_mut() else { return };
        let mut actions = Vec::new();
        replica.step(self.now_us, input, &mut actions);
        for action in actions {
            match action {
                Action::PersistState { term, voted_for } => {
                    node.disk.term = term;
                    node.disk.voted_for = voted_for;
                }
                Action::PersistEntries { from_index, entries } => {
                    node.disk.log.truncate(from_index as usize - 1);
                    node.disk.log.extend(entries);
                }
                Action::Send(message) => self.in_flight.push(message),
                Action::Reply(reply) => {
                    let mid = reply.body.mid().expect("replies carry an id").to_owned();
                    assert!(node.answered.insert(mid.clone()), "{mid} answered twice");
                    match reply.body {
                        Body::Ok { value: Some(read), .. } => {
                            self.reads.insert(mid.clone(), read);
                            self.ok.push(mid);
                        }
                        Body::Ok { value: None, .. } => self.ok.push(mid),
                        _ => {
                            self.refused.insert(mid.clone());
                            self.refused_now.push(mid);
                        }
                    }
                }
            }
        }
        assert_eq!(node.disk.log, replica.log(), "the log on disk is the log in memory");
    }

    fn check(&mut self) {
        for (id, node) in self.nodes.iter_mut().enumerate() {
            let Some(replica) = &node.replica else { continue };
            if replica.role() == Role::Leader {
                let leader = *self.leaders.entry(replica.term()).or_insert(id as u16);
                assert_eq!(leader, id as u16, "two leaders in term {}", replica.term());
            }
            assert!(replica.commit_index() >= node.commit_index, "commit index fell");
            assert_eq!(replica.last_applied(), replica.commit_index());
            node.commit_index = replica.commit_index();
            let prefix = &replica.log()[..replica.commit_index() as usize];
            let common = prefix.len().min(self.committed.len());
            assert_eq!(prefix[..common], self.committed[..common], "committed logs differ");
            for entry in &prefix[common..] {
                let Some(mid) = entry.command.mid() else { continue };
                assert!(!self.refused.contains(mid), "{mid} refused, then committed");
                self.committed_mids.insert(mid.to_owned());
            }
            if prefix.len() > self.committed.len() {
                self.committed = prefix.to_vec();
            }
        }
        for mid in self.ok.drain(..) {
            assert!(self.committed_mids.contains(&mid), "{mid} answered ok, not committed");
        }
        for mid in self.refused_now.drain(..) {
            assert!(!self.committed_mids.contains(&mid), "{mid} refused, yet committed");
        }
    }

    /// Every get answered `ok` read the value the committed log gives at its entry.
    fn check_reads(&self) {
        let mut values: BTreeMap<&str, &str> = BTreeMap::new();
        let mut applied: BTreeSet<&str> = BTreeSet::new();
        for entry in &self.committed {
            match &entry.command {
                Command::Put { mid, key, value, .. } if applied.insert(mid) => {
                    values.insert(key, value);
                }
                Command::Get { mid, key, .. } => {
                    if let Some(read) = self.reads.get(&**mid) {
                        assert_eq!(read, values.get(&**key).unwrap_or(&""), "get {mid}");
                    }
                }
                _ => {}
            }
        }
    }
}

fn adjusted(mut config: Config, adjust: fn(&mut Config)) -> Config {
    adjust(&mut config);
    config
}

#[test]
fn safety_holds_under_reordering_duplication_loss_partitions_and_restarts() {
    check_safety(|_| {});
}

/// The settings `kvnode` uses, but for the read lease (whose gets have no log entry, which
/// the checks here assume): eager replication to a majority, fast retransmit, and holding
/// requests at a stalled leader or a follower of a silent one.
#[test]
fn safety_holds_with_the_process_settings_too() {
    check_safety(|config| {
        config.eager_followers = 2;
        config.retransmit_interval_us = 5_000;
        config.stalled_hold_us = 20_000;
        config.silent_leader_hold_us = 100_000;
    });
}

fn check_safety(adjust: fn(&mut Config)) {
    let mut committed_total = 0;
    for seed in 0..200 {
        let mut world = World::new(seed, if seed % 2 == 0 { 3 } else { 5 }, adjust);
        for _ in 0..3_000 {
            world.step();
        }
        // Every get answered ok is committed (checked above), so the final committed log
        // holds it and says what it should have read.
        world.check_reads();
        committed_total += world.committed.len();
    }
    assert!(committed_total > 8_000, "the runs made progress: {committed_total}");
}
