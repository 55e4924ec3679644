//! Our stand-in for the course's grading simulator, on 127.0.0.1 only: it starts replica
//! processes, routes their datagrams with the course's loss and partitions, plays its eight
//! clients and faults, and judges the run by the course's rules.
//!
//! - [`cluster`]: processes, sockets, kill and restart.
//! - [`course`]: the course's config files.
//! - [`run`]: one config played in real time.
//! - [`outcome`]: the pass rules, the four figures and their tiers.

pub mod cluster;
pub mod course;
pub mod outcome;
pub mod run;
