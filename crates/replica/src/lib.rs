//! A Raft-replicated key-value replica as a pure, sans-IO state machine.
//!
//! The replica is driven from outside: the caller hands it the current virtual time and one
//! [`Input`] (a received [`Message`] or a timer tick) and gets back a list of [`Action`]s
//! (state to persist, messages to send, replies to clients) as data. It reads no clock, does
//! no IO and owns no random number generator: its election timeout jitter is a pure function
//! of the seed in its [`Config`]. The same inputs at the same times always give the same
//! actions, which is what lets the simulator in `crates/sim` replay a run from its seed.
//!
//! The protocol is Raft as in the extended paper ("In Search of an Understandable Consensus
//! Algorithm", Ongaro and Ousterhout), Figure 2, with a no-op on election (§8), check-quorum
//! step-down, and gets and puts both ordered through the log so that both are linearizable.
//! Client-facing messages use the course protocol's field names so that the same replica can
//! be put on UDP unchanged.

mod ids;
mod log;
mod message;
mod raft;
mod state_machine;

pub use ids::NodeId;
pub use log::{Command, Entry};
pub use message::{Body, Message};
#[cfg(feature = "plant")]
pub use raft::plant::Plant;
pub use raft::{Action, Config, DurableState, Input, Replica, Role};
pub use state_machine::StateMachine;
