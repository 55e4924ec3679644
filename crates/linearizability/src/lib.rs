//! A linearizability checker for histories of concurrent operations whose outcomes may be
//! unknown.
//!
//! A history lists operations with an invocation time, a completion time (or none, if the
//! client never heard back) and an outcome: ok with a result, failed (known not to have taken
//! effect) or unknown (may have taken effect at any point after the call, or never). The
//! checker asks whether some total order of the operations, consistent with real time, explains
//! every result under a sequential [`Model`]. It answers [`Verdict::Linearizable`],
//! [`Verdict::NotLinearizable`] with the operations involved, or [`Verdict::Unknown`] when its
//! [`Budget`] is spent.
//!
//! The search is Wing and Gong's, with Lowe's memoization, per key (see [`check`]). Nothing in
//! this crate reads a clock, and every figure it reports is deterministic.
//!
//! Where to start:
//! - [`check_kv`]: the simulator's entry point, a key-value history in, a [`Report`] out.
//! - [`check`]: the same for any [`Model`]; [`KvModel`] and [`RegisterModel`] come with it.
//! - [`check_file`]: reads a Jepsen etcd log, a Porcupine key-value log or a JSON history (see
//!   [`read`]) and checks it with the matching model.
//! - [`check_kv_with_candidates`]: the same, first verifying the servers' apply order per key
//!   in one pass; a key whose order checks out needs no search.
//! - [`check_path`]: what `sim check FILE [--format jepsen|kv|sim]` calls; print the result
//!   with [`FileReport::render`].
//! - A refuted key's [`Violation`] comes from a shrunk counterexample: its kind (stale read,
//!   lost write, read of a value never written), the shrunk ids and a timeline
//!   ([`Violation::render`]).
//! - `examples/bench.rs`: the Porcupine histories as a table of verdicts, steps, times and
//!   memory, and a comparison with Porcupine's own figures.
//!
//! ```
//! use linearizability::{check_kv, Budget, KvInput, KvOperation, Outcome, Verdict};
//!
//! let put = |id, value: &str, call_us, return_us| KvOperation {
//!     id,
//!     client: id,
//!     key: "k".into(),
//!     input: KvInput::Put(value.into()),
//!     call_us,
//!     return_us: Some(return_us),
//!     outcome: Outcome::Ok(String::new()),
//! };
//! let stale_get = KvOperation {
//!     id: 3,
//!     client: 3,
//!     key: "k".into(),
//!     input: KvInput::Get,
//!     call_us: 30,
//!     return_us: Some(40),
//!     outcome: Outcome::Ok("a".into()),
//! };
//! let history = [put(1, "a", 0, 10), put(2, "b", 11, 20), stale_get];
//! let report = check_kv(&history, &Budget::default());
//! assert_eq!(report.verdict, Verdict::NotLinearizable);
//! assert_eq!(report.keys[0].violation.as_ref().unwrap().operation_ids, vec![3, 2]);
//! ```

mod candidate;
mod check;
mod explain;
mod file;
mod hash;
mod history;
mod kv;
mod memo;
mod model;
pub mod read;
mod register;
mod report;
mod search;
mod shrink;

pub use check::{
    check, check_kv, check_kv_with_candidates, check_with_candidates, Candidates, CheckOptions,
    TimeUnit,
};
pub use file::{check_file, check_path, FileCheckOptions, FileReport};
pub use history::{validate, HistoryError, KvInput, KvOperation, Operation, Outcome};
pub use kv::KvModel;
pub use model::{Model, Step};
pub use register::{RegisterInput, RegisterModel, RegisterOutput};
pub use report::{
    Budget, CandidateCheck, CandidateRejection, KeyReport, Report, UnknownCause, Verdict,
    Violation, ViolationKind,
};
