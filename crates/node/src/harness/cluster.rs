//! Replica processes and the simulator's sockets: one UDP socket per replica on 127.0.0.1,
//! whose port is the replica's first argument, a thread per socket that forwards what
//! arrives to one channel, and kill and restart of single replicas.

use std::fs::File;
use std::io;
use std::net::{Ipv4Addr, SocketAddr, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use replica::NodeId;

/// How a replica process is stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Signal {
    /// SIGTERM, as the course stops replicas.
    Term,
    /// SIGKILL: no chance to flush anything.
    Kill,
}

/// One datagram a replica sent to the simulator.
#[derive(Debug)]
pub struct Datagram {
    /// Index (= id) of the replica whose socket received it.
    pub from: usize,
    /// The replica's address.
    pub addr: SocketAddr,
    /// The bytes.
    pub bytes: Vec<u8>,
    /// When it arrived.
    pub at: Instant,
}

/// How to start the replicas.
#[derive(Clone, Debug)]
pub struct Launch {
    /// The `kvnode` binary (or the `3700kvstore` wrapper).
    pub program: PathBuf,
    /// How many replicas.
    pub replicas: u16,
    /// Where each replica's stderr goes (`replica-XXXX.log`) and, with `data_dirs`, its data.
    pub work_dir: PathBuf,
    /// Whether each replica gets `--data-dir work_dir/data-XXXX`.
    pub data_dirs: bool,
}

struct Slot {
    id: NodeId,
    socket: UdpSocket,
    child: Option<Child>,
    /// Learned from the replica's `hello`; until then the replica counts as dead.
    addr: Option<SocketAddr>,
    /// Stopped by the harness (not died on its own).
    killed: bool,
}

/// A running cluster of replica processes.
pub struct Cluster {
    launch: Launch,
    slots: Vec<Slot>,
    datagrams: Receiver<Datagram>,
    sender: Sender<Datagram>,
    stop: Arc<AtomicBool>,
    threads: Vec<JoinHandle<()>>,
}

impl Cluster {
    /// Binds one socket per replica, starts the receiver threads and the processes.
    pub fn start(launch: Launch, shuffle_seed: u64) -> io::Result<Cluster> {
        std::fs::create_dir_all(&launch.work_dir)?;
        let (sender, datagrams) = mpsc::channel();
        let stop = Arc::new(AtomicBool::new(false));
        let mut cluster =
            Cluster { launch, slots: Vec::new(), datagrams, sender, stop, threads: Vec::new() };
        for index in 0..cluster.launch.replicas {
            let socket = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0))?;
            let reader = socket.try_clone()?;
            // A short timeout so that the thread notices `stop` promptly.
            reader.set_read_timeout(Some(Duration::from_millis(50)))?;
            let (sender, stop) = (cluster.sender.clone(), cluster.stop.clone());
            let from = usize::from(index);
            cluster
                .threads
                .push(std::thread::spawn(move || receive(from, &reader, &sender, &stop)));
            let slot = Slot { id: NodeId(index), socket, child: None, addr: None, killed: false };
            cluster.slots.push(slot);
        }
        for index in 0..cluster.slots.len() {
            cluster.spawn(index, shuffle_seed)?;
        }
        Ok(cluster)
    }

    /// How many replicas.
    pub fn len(&self) -> usize {
        self.slots.len()
    }

    /// Whether there are no replicas.
    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    /// The stderr log of replica `index`.
    pub fn log_path(&self, index: usize) -> PathBuf {
        self.launch.work_dir.join(format!("replica-{}.log", self.slots[index].id))
    }

    fn data_dir(&self, index: usize) -> PathBuf {
        self.launch.work_dir.join(format!("data-{}", self.slots[index].id))
    }

    fn spawn(&mut self, index: usize, shuffle_seed: u64) -> io::Result<()> {
        let port = self.slots[index].socket.local_addr()?.port();
        let id = self.slots[index].id;
        let mut others: Vec<NodeId> =
            self.slots.iter().map(|slot| slot.id).filter(|&other| other != id).collect();
        // The course passes the other ids in no fixed order; so do we.
        let rotate = (shuffle_seed as usize).wrapping_add(index) % others.len().max(1);
        others.rotate_left(rotate);
        let log = File::options().create(true).append(true).open(self.log_path(index))?;
        let mut command = Command::new(&self.launch.program);
        if self.launch.data_dirs {
            command.arg("--data-dir").arg(self.data_dir(index));
        }
        command.arg(port.to_string()).arg(id.to_string());
        command.args(others.iter().map(NodeId::to_string));
        command.stdin(Stdio::null()).stdout(Stdio::null()).stderr(log);
        let slot = &mut self.slots[index];
        slot.child = Some(command.spawn()?);
        slot.addr = None;
        slot.killed = false;
        Ok(())
    }

    /// Waits until every replica said `hello` (routing its datagram nowhere) or the timeout.
    /// Other datagrams that arrive meanwhile are returned for the caller to route.
    pub fn await_hellos(&mut self, timeout: Duration) -> Vec<Datagram> {
        let deadline = Instant::now() + timeout;
        let mut early = Vec::new();
        while self.slots.iter().any(|slot| slot.addr.is_none() && slot.child.is_some()) {
            let Some(datagram) = self.recv_until(deadline) else { break };
            if !self.note_hello(&datagram) {
                early.push(datagram);
            }
        }
        early
    }

    /// If `datagram` is a `hello` from its socket's replica, records the replica's address.
    pub fn note_hello(&mut self, datagram: &Datagram) -> bool {
        let Ok(value) = serde_json::from_slice::<serde_json::Value>(&datagram.bytes) else {
            return false;
        };
        if value.get("type").and_then(|kind| kind.as_str()) != Some("hello") {
            return false;
        }
        self.slots[datagram.from].addr = Some(datagram.addr);
        true
    }

    /// The next datagram from any replica, or `None` at `deadline`.
    pub fn recv_until(&self, deadline: Instant) -> Option<Datagram> {
        let wait = deadline.saturating_duration_since(Instant::now());
        // A timeout and a closed channel both mean nothing more arrived in time.
        self.datagrams.recv_timeout(wait).ok()
    }

    /// Whether replica `index` is running and has said `hello`.
    pub fn is_alive(&self, index: usize) -> bool {
        let slot = &self.slots[index];
        slot.child.is_some() && slot.addr.is_some()
    }

    /// Sends `bytes` to replica `index` from its own socket; false if it is not alive.
    pub fn send_to(&self, index: usize, bytes: &[u8]) -> bool {
        let slot = &self.slots[index];
        match (slot.child.is_some(), slot.addr) {
            (true, Some(addr)) => slot.socket.send_to(bytes, addr).is_ok(),
            _ => false,
        }
    }

    /// Stops replica `index` with `signal` and reaps it.
    pub fn kill(&mut self, index: usize, signal: Signal) {
        let slot = &mut self.slots[index];
        let Some(mut child) = slot.child.take() else { return };
        slot.killed = true;
        slot.addr = None;
        match signal {
            Signal::Kill => {
                let _ = child.kill();
            }
            Signal::Term => {
                // std only sends SIGKILL; `kill -TERM` reaches our own child by its pid.
                let sent = Command::new("kill")
                    .args(["-TERM", &child.id().to_string()])
                    .stderr(Stdio::null())
                    .status();
                if !sent.is_ok_and(|status| status.success()) {
                    let _ = child.kill();
                }
            }
        }
        let _ = child.wait();
    }

    /// Starts replica `index` again (with the same data directory, if any).
    pub fn restart(&mut self, index: usize) -> io::Result<()> {
        self.kill(index, Signal::Kill);
        self.spawn(index, 0)
    }

    /// Replicas that exited although the harness did not stop them, with how they ended.
    /// Each is reported once and then counts as dead.
    pub fn reap_died(&mut self) -> Vec<(NodeId, String)> {
        let mut died = Vec::new();
        for slot in &mut self.slots {
            let Some(child) = &mut slot.child else { continue };
            if let Ok(Some(status)) = child.try_wait() {
                died.push((slot.id, status.to_string()));
                slot.child = None;
                slot.addr = None;
            }
        }
        died
    }

    /// Stops every replica with SIGTERM and joins the receiver threads.
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        for index in 0..self.slots.len() {
            self.kill(index, Signal::Term);
        }
        self.stop.store(true, Ordering::Relaxed);
        for thread in self.threads.drain(..) {
            let _ = thread.join();
        }
    }

    /// Routes replica-to-replica datagrams with no loss and no partition until `deadline`,
    /// handing every other datagram (replies to clients) to `on_other`, which returns true to
    /// stop early. For tests that need a working cluster rather than the course's faults.
    pub fn route_plainly_until(
        &mut self,
        deadline: Instant,
        mut on_other: impl FnMut(&Datagram) -> bool,
    ) {
        while let Some(datagram) = self.recv_until(deadline) {
            if self.note_hello(&datagram) {
                continue;
            }
            let dst = serde_json::from_slice::<serde_json::Value>(&datagram.bytes)
                .ok()
                .and_then(|value| value.get("dst").and_then(|dst| dst.as_str()).map(str::to_owned))
                .and_then(|dst| NodeId::parse(&dst));
            match dst {
                Some(NodeId::BROADCAST) => {
                    for index in (0..self.len()).filter(|&index| index != datagram.from) {
                        self.send_to(index, &datagram.bytes);
                    }
                }
                Some(dst) if usize::from(dst.0) < self.len() => {
                    self.send_to(usize::from(dst.0), &datagram.bytes);
                }
                _ => {
                    if on_other(&datagram) {
                        return;
                    }
                }
            }
        }
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        // Never leave processes behind, even when a test panics.
        self.shutdown();
    }
}

fn receive(from: usize, socket: &UdpSocket, sender: &Sender<Datagram>, stop: &AtomicBool) {
    let mut buffer = vec![0u8; 65_536];
    while !stop.load(Ordering::Relaxed) {
        match socket.recv_from(&mut buffer) {
            Ok((length, addr)) => {
                let datagram =
                    Datagram { from, addr, bytes: buffer[..length].to_vec(), at: Instant::now() };
                if sender.send(datagram).is_err() {
                    return;
                }
            }
            Err(_) => continue,
        }
    }
}

/// A fresh work directory under the system temp dir for one harness run.
pub fn fresh_work_dir(label: &str) -> PathBuf {
    static RUNS: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let run = RUNS.fetch_add(1, Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!(
        "kvharness-{}-{run}-{}",
        std::process::id(),
        sanitize(label)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn sanitize(label: &str) -> String {
    let name = Path::new(label).file_stem().and_then(|stem| stem.to_str()).unwrap_or("run");
    name.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' { c } else { '_' }).collect()
}
