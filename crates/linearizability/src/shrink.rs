//! Shrinking a refuted key's history to a small counterexample that still is one.
//!
//! Removing operations from a non-linearizable history can make it linearizable (the removed
//! operation was part of the contradiction) or keep it non-linearizable. Only the second kind
//! of removal is kept, and every candidate removal is checked with the real search, so the
//! result is non-linearizable by construction.
//!
//! That alone is not enough: a removal can also *create* a different violation. Dropping the
//! put of "a" from `put a; put b; get -> a` leaves `put b; get -> a`, still refuted, but now
//! for a read of a value nobody wrote, which says nothing about the stale read we started
//! with. So an operation is removable only if no remaining operation may observe it
//! ([`Model::may_observe`]); then removing it from any linearizable history leaves a
//! linearizable one, and the shrunk history's violation is one the original already had: adding
//! the removed operations back cannot explain it.
//!
//! The loop is delta debugging: try to remove chunks of operations, latest calls first, halving
//! the chunk size down to single operations, and repeat single removals until none succeeds.
//! The result is 1-minimal: removing any one remaining operation is either not allowed or makes
//! the history linearizable. The work is bounded by step budgets, per re-check and in total, so
//! a huge history may shrink only partly (still a valid counterexample, reported as not
//! minimal), and everything is deterministic.

use crate::history::{Operation, Outcome};
use crate::model::Model;
use crate::report::Budget;
use crate::search::{Search, SearchEnd};

/// The shrunk history, as positions in the key's operations in call order.
pub(crate) struct Shrunk {
    pub(crate) kept: Vec<usize>,
    /// False when the budget ran out before the history was 1-minimal.
    pub(crate) complete: bool,
}

/// Model steps all the re-checks of one shrink may spend, unless the key's own search took
/// more (then twice that).
const SHRINK_STEPS_MIN: u64 = 500_000;
/// Model steps one re-check may spend beyond four times what the key's own search took. A
/// subset that takes longer to decide is kept as it is (and the result is then not claimed to
/// be 1-minimal): some subsets of a refuted history are linearizable only after a long search,
/// and one of those must not eat the whole shrink budget.
const CHECK_STEPS_EXTRA: u64 = 10_000;

/// Runs a search over `ops` to its end within `budget`.
pub(crate) fn search_to_end<M: Model>(
    model: &M,
    ops: &[&Operation<M::Input, M::Output>],
    budget: &Budget,
) -> (SearchEnd, u64) {
    let mut search = Search::new(model, ops, budget);
    let end = search.run(u64::MAX).cloned();
    // `run` with an unlimited quota always ends the search.
    (end.unwrap_or(SearchEnd::Unknown(crate::report::UnknownCause::StepsSpent)), search.steps())
}

/// Shrinks `ops` (one key's operations in call order, known to be non-linearizable).
/// `key_steps` is what refuting them took, which scales the shrink budget.
pub(crate) fn shrink<M: Model>(
    model: &M,
    ops: &[&Operation<M::Input, M::Output>],
    key_steps: u64,
    budget: &Budget,
) -> Shrunk {
    // Failed operations and reads of unknown result never reach the search, so removing them
    // changes nothing and needs no check.
    let mut kept: Vec<usize> = (0..ops.len())
        .filter(|&index| {
            let operation = ops[index];
            match operation.outcome {
                Outcome::Failed => false,
                Outcome::Unknown => !model.is_read_only(&operation.input),
                Outcome::Ok(_) => true,
            }
        })
        .collect();
    let mut steps_left = SHRINK_STEPS_MIN.max(key_steps.saturating_mul(2));
    let check_steps_max = key_steps.saturating_mul(4).saturating_add(CHECK_STEPS_EXTRA);
    let mut chunk = kept.len().div_ceil(2).max(1);
    loop {
        let mut removed_any = false;
        let mut undecided = false;
        // Chunks from the end first: operations after the contradiction go most easily, and
        // every later check is cheaper without them.
        let mut end = kept.len();
        while end > 0 {
            if steps_left == 0 {
                return Shrunk { kept, complete: false };
            }
            let start = end.saturating_sub(chunk);
            let removed = &kept[start..end];
            let rest: Vec<usize> = kept[..start].iter().chain(&kept[end..]).copied().collect();
            if removable(model, ops, removed, &rest) {
                let subset: Vec<&Operation<M::Input, M::Output>> =
                    rest.iter().map(|&index| ops[index]).collect();
                let check_budget = Budget { steps_max: steps_left.min(check_steps_max), ..*budget };
                let (outcome, steps) = search_to_end(model, &subset, &check_budget);
                steps_left = steps_left.saturating_sub(steps);
                match outcome {
                    SearchEnd::NotLinearizable(_) => {
                        kept = rest;
                        removed_any = true;
                        end = start.min(kept.len());
                        continue;
                    }
                    SearchEnd::Unknown(_) => undecided = true,
                    SearchEnd::Linearizable => {}
                }
            }
            end = start;
        }
        if chunk == 1 && !removed_any {
            return Shrunk { kept, complete: !undecided };
        }
        // Single removals repeat until a pass removes nothing; larger chunks halve.
        chunk = chunk.div_ceil(2).min(kept.len()).max(1);
    }
}

/// True if every operation in `removed` can go without creating a violation: they can be
/// removed one at a time, each when no operation still present may observe it.
pub(crate) fn removable<M: Model>(
    model: &M,
    ops: &[&Operation<M::Input, M::Output>],
    removed: &[usize],
    rest: &[usize],
) -> bool {
    let observed_by = |writer: usize, reader: usize| {
        let (writer, reader) = (ops[writer], ops[reader]);
        // An operation that will be dropped by the search observes nothing.
        !matches!(reader.outcome, Outcome::Failed)
            && model.may_observe(&reader.input, &reader.outcome, &writer.input)
    };
    if removed.iter().any(|&writer| rest.iter().any(|&reader| observed_by(writer, reader))) {
        return false;
    }
    // Within the removed set, readers go before what they observe; a cycle (two CASes that
    // each compare against the other's value) blocks the removal.
    let mut pending: Vec<usize> = removed.to_vec();
    while !pending.is_empty() {
        let free = pending.iter().position(|&writer| {
            pending.iter().all(|&reader| reader == writer || !observed_by(writer, reader))
        });
        match free {
            Some(position) => {
                pending.remove(position);
            }
            None => return false,
        }
    }
    true
}
