//! The replica as a real process, and a harness that plays the course simulator against it.
//!
//! - [`wire`]: datagrams to and from [`replica::Message`]; never panics on input.
//! - [`storage`]: durable term, vote and log for `--data-dir`.
//! - [`process`]: the `kvnode` process loop: real clock, UDP socket, actions carried out in
//!   order.
//! - [`harness`]: the course simulator's role on 127.0.0.1: routing, drops, partitions, the
//!   eight clients, faults, the correctness rules and the four scored figures.

pub mod harness;
pub mod process;
pub mod storage;
pub mod wire;
