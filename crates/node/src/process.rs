//! The replica as a UDP process: command-line options, the real clock, and the loop that
//! turns datagrams into [`Input`]s and [`Action`]s into datagrams and disk writes.
//!
//! No protocol logic lives here. The loop only decodes, steps the replica, persists and
//! sends, in the order the replica lists its actions, and ticks the replica when
//! [`Replica::next_tick_us`] comes due (the socket's read timeout is the timer).

use std::collections::BTreeMap;
use std::fmt;
use std::hash::{BuildHasher, Hasher};
use std::io;
use std::net::{Ipv4Addr, SocketAddr, UdpSocket};
use std::path::PathBuf;
use std::time::{Duration, Instant, SystemTime};

use replica::{Action, Body, Config, DurableState, Input, Message, NodeId, Replica};

use crate::storage::{StorageError, Store};
use crate::wire::{self, DropKind};

/// What the command line asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Options {
    /// The simulator's UDP port on localhost; every datagram goes there.
    pub port: u16,
    /// This replica's id.
    pub id: NodeId,
    /// The other replicas' ids.
    pub peers: Vec<NodeId>,
    /// Where term, vote and log are kept; `None` keeps them in memory.
    pub data_dir: Option<PathBuf>,
}

/// The usage line printed on a bad command line.
pub const USAGE: &str = "usage: kvnode [--data-dir DIR] <UDP port> <own id> <other ids...>";

/// A command line that cannot be run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ArgsError(pub String);

impl fmt::Display for ArgsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}\n{USAGE}", self.0)
    }
}

impl std::error::Error for ArgsError {}

impl Options {
    /// Parses the arguments after the program name.
    pub fn parse(args: impl IntoIterator<Item = String>) -> Result<Options, ArgsError> {
        let mut data_dir = None;
        let mut positional = Vec::new();
        let mut args = args.into_iter();
        while let Some(arg) = args.next() {
            if arg == "--data-dir" {
                let dir =
                    args.next().ok_or_else(|| ArgsError("--data-dir needs a value".into()))?;
                data_dir = Some(PathBuf::from(dir));
            } else if let Some(dir) = arg.strip_prefix("--data-dir=") {
                data_dir = Some(PathBuf::from(dir));
            } else {
                positional.push(arg);
            }
        }
        let [port, id, peers @ ..] = positional.as_slice() else {
            return Err(ArgsError("missing the port or the own id".into()));
        };
        let port = port.parse().map_err(|_| ArgsError(format!("bad UDP port {port:?}")))?;
        let parse_id = |text: &String| {
            NodeId::parse(text).ok_or_else(|| ArgsError(format!("bad id {text:?}")))
        };
        let id = parse_id(id)?;
        let peers = peers.iter().map(parse_id).collect::<Result<Vec<_>, _>>()?;
        if peers.contains(&id) || id.is_unknown() {
            return Err(ArgsError(format!("own id {id} must be a replica and not a peer")));
        }
        Ok(Options { port, id, peers, data_dir })
    }
}

/// Why the process stopped.
#[derive(Debug)]
pub enum RunError {
    /// The socket could not be set up.
    Socket(io::Error),
    /// The data directory failed; a replica that cannot persist must not send.
    Storage(StorageError),
}

impl fmt::Display for RunError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RunError::Socket(error) => write!(f, "socket: {error}"),
            RunError::Storage(error) => write!(f, "storage: {error}"),
        }
    }
}

impl std::error::Error for RunError {}

/// The replica settings for real processes on one machine, where a datagram takes tens of
/// microseconds and every replica-to-replica message counts against the course's budget:
///
/// - heartbeats only to idle followers, and rarely (400 ms); elections after 1.2 to 2.4 s of
///   silence, so that two lost heartbeats in a row (the course drops up to 30%) do not
///   start one;
/// - a new entry goes at once only to the two followers that answered last (with the
///   leader, a majority of five); the others get entries batched with their heartbeats;
/// - a lost AppendEntries to a follower that has been answering is resent after 20 ms;
/// - gets are answered from a read lease of 0.9 s, three quarters of the minimum election
///   timeout, which tolerates clocks whose rates differ by up to 25%; the processes share
///   one machine's monotonic clock, so the margin is ample;
/// - a follower that has not heard from its leader for 500 ms (a heartbeat interval and a
///   margin) holds client requests rather than sending clients to a leader that may be dead;
/// - a leader whose oldest uncommitted entry waited 100 ms holds new requests, so that a
///   leader cut off by a partition does not log requests that would later fail.
pub fn process_config(id: NodeId, peers: Vec<NodeId>, seed: u64) -> Config {
    let mut config = Config::new(id, peers, seed);
    config.election_timeout_us_min = 1_200_000;
    config.election_timeout_us_max = 2_400_000;
    config.heartbeat_interval_us = 400_000;
    config.retransmit_interval_us = 20_000;
    config.eager_followers = 2;
    config.read_lease_us = 900_000;
    config.stalled_hold_us = 100_000;
    config.silent_leader_hold_us = 500_000;
    config
}

/// A seed for the election jitter from the OS: std's `RandomState` is keyed from OS
/// randomness, and the pid and wall time are mixed in for good measure.
pub fn os_seed() -> u64 {
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u32(std::process::id());
    let since_epoch = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).unwrap_or_default();
    hasher.write_u128(since_epoch.as_nanos());
    hasher.finish()
}

/// How often the drop counters are printed when they changed.
const COUNTERS_INTERVAL: Duration = Duration::from_secs(5);

/// How long the simulator's port may refuse datagrams before the process exits, so that
/// replicas do not outlive a simulator that died without stopping them.
const SIMULATOR_GONE_AFTER: Duration = Duration::from_secs(5);

/// The longest the loop sleeps without a datagram, even when the replica needs no tick.
const IDLE_WAIT_US_MAX: u64 = 1_000_000;

/// One running replica process.
struct Node {
    id: NodeId,
    socket: UdpSocket,
    replica: Replica,
    store: Option<Store>,
    started: Instant,
    dropped: BTreeMap<DropKind, u64>,
    counters_printed: Instant,
    counters_changed: bool,
    /// Since when receives fail with "connection refused", if they do.
    refused_since: Option<Instant>,
}

/// Runs the replica until the process is killed (the course stops replicas with SIGTERM,
/// whose default action ends the process) or storage fails.
pub fn run(options: &Options) -> Result<(), RunError> {
    let (store, durable) = match &options.data_dir {
        Some(dir) => {
            let (store, durable) = Store::open(dir).map_err(RunError::Storage)?;
            (Some(store), durable)
        }
        None => (None, DurableState::default()),
    };
    let socket = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).map_err(RunError::Socket)?;
    // Connected: the kernel then delivers only datagrams from the simulator's port.
    let simulator = SocketAddr::from((Ipv4Addr::LOCALHOST, options.port));
    socket.connect(simulator).map_err(RunError::Socket)?;
    let started = Instant::now();
    let config = process_config(options.id, options.peers.clone(), os_seed());
    let replica = Replica::new(config, durable, 0);
    let mut node = Node {
        id: options.id,
        socket,
        replica,
        store,
        started,
        dropped: BTreeMap::new(),
        counters_printed: started,
        counters_changed: false,
        refused_since: None,
    };
    let hello = Message {
        src: options.id,
        dst: NodeId::BROADCAST,
        leader: NodeId::UNKNOWN,
        body: Body::Hello,
    };
    node.send(&hello);
    node.serve()
}

impl Node {
    fn now_us(&self) -> u64 {
        self.started.elapsed().as_micros() as u64
    }

    fn serve(&mut self) -> Result<(), RunError> {
        let mut buffer = vec![0u8; wire::DATAGRAM_BYTES_MAX + 1];
        let mut actions = Vec::new();
        loop {
            let now_us = self.now_us();
            let next_tick_us = self.replica.next_tick_us();
            if next_tick_us <= now_us {
                self.step(now_us, Input::Tick, &mut actions)?;
                continue;
            }
            let wait_us = (next_tick_us - now_us).min(IDLE_WAIT_US_MAX);
            self.socket
                .set_read_timeout(Some(Duration::from_micros(wait_us)))
                .map_err(RunError::Socket)?;
            match self.socket.recv(&mut buffer) {
                Ok(length) => match self.decode_received(&buffer[..length]) {
                    Ok(message) => {
                        let now_us = self.now_us();
                        self.step(now_us, Input::Receive(message), &mut actions)?;
                    }
                    Err(error) => {
                        let count = self.dropped.entry(error.kind()).or_default();
                        *count += 1;
                        self.counters_changed = true;
                        let mut reason = error.to_string();
                        truncate_at_char(&mut reason, 200);
                        eprintln!(
                            "kvnode {}: warning: dropped datagram ({}, {} so far): {reason}",
                            self.id,
                            error.kind().name(),
                            count
                        );
                    }
                },
                Err(error)
                    if matches!(
                        error.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                    ) => {}
                // An ICMP "port unreachable" from an earlier send: the simulator's socket is
                // closed. Keep serving a while (it may be a blip), but do not outlive it.
                Err(error) if error.kind() == io::ErrorKind::ConnectionRefused => {
                    self.refused_since.get_or_insert_with(Instant::now);
                    std::thread::sleep(Duration::from_millis(10));
                }
                Err(error) => eprintln!("kvnode {}: warning: receive failed: {error}", self.id),
            }
            self.maybe_print_counters();
            if self.refused_since.is_some_and(|since| since.elapsed() >= SIMULATOR_GONE_AFTER) {
                eprintln!("kvnode {}: the simulator's port refuses datagrams; exiting", self.id);
                eprintln!("kvnode {}: dropped datagrams: {}", self.id, self.counters_line());
                return Ok(());
            }
        }
    }

    /// Decodes a datagram that arrived, which also shows the simulator is there.
    fn decode_received(&mut self, bytes: &[u8]) -> Result<Message, wire::DecodeError> {
        self.refused_since = None;
        wire::decode(bytes, self.id)
    }

    /// Steps the replica and carries out its actions in order; everything persisted is
    /// synced before the first message after it goes out.
    fn step(
        &mut self,
        now_us: u64,
        input: Input,
        actions: &mut Vec<Action>,
    ) -> Result<(), RunError> {
        actions.clear();
        self.replica.step(now_us, input, actions);
        for action in actions.drain(..) {
            match action {
                Action::PersistState { term, voted_for } => {
                    if let Some(store) = &mut self.store {
                        store.persist_state(term, voted_for);
                    }
                }
                Action::PersistEntries { from_index, entries } => {
                    if let Some(store) = &mut self.store {
                        store.persist_entries(from_index, &entries).map_err(RunError::Storage)?;
                    }
                }
                Action::Send(message) | Action::Reply(message) => {
                    if let Some(store) = &mut self.store {
                        if store.is_unsynced() {
                            store.sync().map_err(RunError::Storage)?;
                        }
                    }
                    self.send(&message);
                }
            }
        }
        // Persisted state with no message after it must be durable too before the next step.
        if let Some(store) = &mut self.store {
            if store.is_unsynced() {
                store.sync().map_err(RunError::Storage)?;
            }
        }
        Ok(())
    }

    fn send(&mut self, message: &Message) {
        let bytes = wire::encode(message);
        match self.socket.send(&bytes) {
            Ok(_) => {}
            // The pending error of an earlier datagram (ICMP port unreachable): see `serve`.
            Err(error) if error.kind() == io::ErrorKind::ConnectionRefused => {
                self.refused_since.get_or_insert_with(Instant::now);
            }
            // UDP gives no delivery promise anyway; Raft retries what matters.
            Err(error) => eprintln!(
                "kvnode {}: warning: send of {} failed: {error}",
                self.id,
                message.body.type_name()
            ),
        }
    }

    fn maybe_print_counters(&mut self) {
        if !self.counters_changed || self.counters_printed.elapsed() < COUNTERS_INTERVAL {
            return;
        }
        self.counters_changed = false;
        self.counters_printed = Instant::now();
        eprintln!("kvnode {}: dropped datagrams so far: {}", self.id, self.counters_line());
    }

    fn counters_line(&self) -> String {
        let counts: Vec<String> = DropKind::ALL
            .iter()
            .map(|kind| format!("{}={}", kind.name(), self.dropped.get(kind).copied().unwrap_or(0)))
            .collect();
        counts.join(" ")
    }
}

/// Cuts `text` to at most `bytes_max` bytes at a character boundary.
fn truncate_at_char(text: &mut String, bytes_max: usize) {
    if text.len() <= bytes_max {
        return;
    }
    let mut cut = bytes_max;
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    text.truncate(cut);
    text.push('…');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(line: &str) -> Vec<String> {
        line.split_whitespace().map(str::to_owned).collect()
    }

    #[test]
    fn the_course_command_line_and_the_data_dir_flag_parse() {
        let options = Options::parse(args("4000 0001 0000 0002")).unwrap();
        assert_eq!(options.port, 4000);
        assert_eq!(options.id, NodeId(1));
        assert_eq!(options.peers, vec![NodeId(0), NodeId(2)]);
        assert_eq!(options.data_dir, None);
        let options = Options::parse(args("--data-dir /tmp/x 4000 0001 0000")).unwrap();
        assert_eq!(options.data_dir, Some(PathBuf::from("/tmp/x")));
        assert!(Options::parse(args("4000")).is_err());
        assert!(Options::parse(args("4000 1 0000")).is_err());
        assert!(Options::parse(args("4000 0001 0001")).is_err());
    }
}
