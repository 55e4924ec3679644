//! Verifying a linearization proposed by the caller, in one pass, before any search.
//!
//! The simulator knows the order in which the servers applied each key's operations. If the
//! system is correct, that order is a linearization, and checking it takes one model step per
//! operation instead of a search. A candidate that fails verification proves nothing (the
//! servers' order may be wrong while another order works), so the key is then searched as
//! usual; a candidate never decides `NotLinearizable` on its own.

use crate::history::{Operation, Outcome};
use crate::model::{Model, Step};
use crate::report::CandidateRejection;

/// Checks that `order` (operation ids) is a linearization of `ops`, one key's operations:
/// every id is an operation of the key, at most once, none failed, every operation with an ok
/// outcome is present, no operation is placed after one it precedes in real time, and every
/// step is legal in the model. Operations of unknown outcome may be present (they took effect
/// there) or absent (they never took effect). Returns the verdict and the model steps taken.
pub(crate) fn verify<M: Model>(
    model: &M,
    ops: &[&Operation<M::Input, M::Output>],
    order: &[u64],
) -> (Result<(), CandidateRejection>, u64) {
    // Ids sorted for lookup: deterministic, and no hashing of caller data.
    let mut by_id: Vec<(u64, usize)> =
        ops.iter().enumerate().map(|(index, operation)| (operation.id, index)).collect();
    by_id.sort_unstable();
    let mut placed = vec![false; ops.len()];
    let mut sequence = Vec::with_capacity(order.len());
    for &id in order {
        let Ok(position) = by_id.binary_search_by_key(&id, |&(id, _)| id) else {
            return (Err(CandidateRejection::NotOnKey { id }), 0);
        };
        let index = by_id[position].1;
        if placed[index] {
            return (Err(CandidateRejection::Repeated { id }), 0);
        }
        placed[index] = true;
        if matches!(ops[index].outcome, Outcome::Failed) {
            return (Err(CandidateRejection::Failed { id }), 0);
        }
        sequence.push(ops[index]);
    }
    if let Some(index) =
        (0..ops.len()).find(|&index| !placed[index] && matches!(ops[index].outcome, Outcome::Ok(_)))
    {
        return (Err(CandidateRejection::Missing { id: ops[index].id }), 0);
    }
    // Each operation must not have returned before any operation placed ahead of it was
    // called; the latest such call is enough to compare against.
    let mut latest_call: Option<(u64, u64)> = None;
    for operation in &sequence {
        if let (Some(return_us), Some((call_us, earlier))) = (operation.return_us, latest_call) {
            if return_us < call_us {
                return (Err(CandidateRejection::RealTime { earlier, later: operation.id }), 0);
            }
        }
        if latest_call.is_none_or(|(latest_us, _)| latest_us < operation.call_us) {
            latest_call = Some((operation.call_us, operation.id));
        }
    }
    let mut state = model.init();
    let mut steps = 0;
    for operation in &sequence {
        steps += 1;
        let output = match &operation.outcome {
            Outcome::Ok(output) => Some(output),
            _ => None,
        };
        match model.step(&state, &operation.input, output) {
            Step::Illegal => return (Err(CandidateRejection::Illegal { id: operation.id }), steps),
            Step::Unchanged => {}
            Step::Changed(next) => state = next,
        }
    }
    (Ok(()), steps)
}
