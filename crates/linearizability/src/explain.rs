//! Explaining a refuted key: shrink its history, search the shrunk history again to find where
//! it gets stuck, name the kind of anomaly, and draw the counterexample as a timeline.
//!
//! Everything is a function of the key's operations, so the same history always gives the same
//! text. A timeline looks like this (times are ranks, not to scale):
//!
//! ```text
//! stale read on key "k1": 3 of 3 operations remain after shrinking
//!  id  client  operation  |0us                                       500us|
//!  10      10  put "a"    |[=====]                                        |
//!  11      11  put "b"    |                [======]                       |
//!  12      12  get "a"    |                                [=====]        | stuck
//! longest legal order: 10, 11; the state is then "b", set by 11
//! candidates there:
//!   12 get "a": illegal in state "b"
//! 12 would be legal had it been called earlier: the value it read had been overwritten
//! ```

use std::collections::HashSet;
use std::fmt::Write as _;
use std::hash::BuildHasherDefault;

use crate::check::TimeUnit;
use crate::hash::FixedHasher;
use crate::history::{Operation, Outcome};
use crate::model::{Model, Step};
use crate::report::{Budget, Violation, ViolationKind};
use crate::search::{Refutation, Search, SearchEnd};
use crate::shrink::{search_to_end, shrink};

/// Width of the whole timeline, in columns.
const WIDTH_MAX: usize = 100;
/// Widest operation description in a timeline row; longer ones lose their middle.
const OPERATION_WIDTH_MAX: usize = 40;
/// Widest state description in the lines under the rows.
const STATE_WIDTH_MAX: usize = 40;
/// Columns of the bars, at most.
const BARS_WIDTH_MAX: usize = 48;
/// Candidates listed at the stuck point, at most.
const CANDIDATES_SHOWN_MAX: usize = 8;
/// Writes the never-written test enumerates, at most (it tries their subsets).
const WRITES_ENUMERATED_MAX: usize = 16;
/// (subset, state) pairs the never-written test visits, at most.
const WRITE_ORDERS_VISITED_MAX: usize = 100_000;

/// An operation of `M`'s history.
type ModelOperation<M> = Operation<<M as Model>::Input, <M as Model>::Output>;

/// Builds the violation of a refuted key. `ops` are the key's operations in call order and
/// `key_steps` what refuting them took.
pub(crate) fn explain<M: Model>(
    model: &M,
    key: &str,
    ops: &[&ModelOperation<M>],
    key_steps: u64,
    budget: &Budget,
    time_unit: TimeUnit,
) -> Violation {
    let shrunk = shrink(model, ops, key_steps, budget);
    let minimal: Vec<&ModelOperation<M>> = shrunk.kept.iter().map(|&index| ops[index]).collect();
    let mut search = Search::new(model, &minimal, budget);
    let refutation = match search.run(u64::MAX) {
        Some(SearchEnd::NotLinearizable(refutation)) => refutation.clone(),
        // Unreachable: the shrunk history was refuted with a smaller budget than this one.
        _ => {
            return Violation {
                operation_ids: Vec::new(),
                explanation: format!("key {key:?}: not linearizable"),
                kind: ViolationKind::Other,
                minimal: minimal.iter().map(|operation| operation.id).collect(),
                minimal_complete: false,
                timeline: String::new(),
            }
        }
    };
    // The shrunk history holds no operation the search leaves out, so the search's operation
    // indices are positions in `minimal`.
    let blocked = minimal[refutation.blocked];
    let writer = refutation.writer.map(|writer| minimal[writer]);
    let (kind, lost) = classify(model, &minimal, blocked, budget);
    let state = search.state(refutation.state);

    let mut operation_ids = vec![blocked.id];
    operation_ids.extend(writer.map(|writer| writer.id));
    if let Some(lost) = lost.filter(|lost| !operation_ids.contains(&lost.id)) {
        operation_ids.push(lost.id);
    }
    let describe = |operation: &ModelOperation<M>| {
        format!(
            "{} by client {} [{}, {}]",
            model.describe_operation(&operation.input, &operation.outcome),
            operation.client,
            time_unit.format(operation.call_us),
            operation.return_us.map_or("never returned".to_string(), |t| time_unit.format(t)),
        )
    };
    let set_by = match writer {
        Some(writer) => format!("set by {}", describe(writer)),
        None => "its initial value".to_string(),
    };
    let explanation = format!(
        "key {key:?}: {}: {} cannot be linearized; in the longest legal order found ({} of {} \
         operations) the state before it is {}, {set_by}",
        kind.describe(),
        describe(blocked),
        refutation.depth,
        minimal.len(),
        model.describe_state(state),
    );
    let drawing = Drawing { model, key, minimal: &minimal, time_unit };
    let timeline = drawing.render(ops.len(), shrunk.complete, &refutation, state, kind, lost);
    Violation {
        operation_ids,
        explanation,
        kind,
        minimal: minimal.iter().map(|operation| operation.id).collect(),
        minimal_complete: shrunk.complete,
        timeline,
    }
}

/// Names the kind of anomaly, from the blocked operation of the shrunk history; for a lost
/// write, also returns the write that was lost.
///
/// Only a read with a result is classified. In order: if no order of any subset of the writes
/// (ignoring time) yields a state where the read is legal, it read a value never written; if
/// calling it at the start of the history makes the history linearizable, it is a stale read;
/// if removing one write that returned before the read was called does, that write was lost.
fn classify<'h, M: Model>(
    model: &M,
    minimal: &[&'h ModelOperation<M>],
    blocked: &ModelOperation<M>,
    budget: &Budget,
) -> (ViolationKind, Option<&'h ModelOperation<M>>) {
    let Outcome::Ok(read) = &blocked.outcome else { return (ViolationKind::Other, None) };
    if !model.is_read_only(&blocked.input) {
        return (ViolationKind::Other, None);
    }
    let is_blocked = |operation: &ModelOperation<M>| operation.id == blocked.id;
    if never_written(model, minimal, blocked, read) == Some(true) {
        return (ViolationKind::NeverWritten, None);
    }
    let linearizable = |history: &[&ModelOperation<M>]| {
        matches!(search_to_end(model, history, budget).0, SearchEnd::Linearizable)
    };
    let start_us = minimal.iter().map(|operation| operation.call_us).min().unwrap_or(0);
    let earlier = Operation { call_us: start_us, ..blocked.clone() };
    let moved: Vec<&ModelOperation<M>> = minimal
        .iter()
        .map(|&operation| if is_blocked(operation) { &earlier } else { operation })
        .collect();
    if linearizable(&moved) {
        return (ViolationKind::StaleRead, None);
    }
    for &write in minimal {
        let completed_before = write.return_us.is_some_and(|t| t < blocked.call_us);
        if !completed_before
            || model.is_read_only(&write.input)
            || !matches!(write.outcome, Outcome::Ok(_))
        {
            continue;
        }
        let without: Vec<&ModelOperation<M>> =
            minimal.iter().copied().filter(|operation| operation.id != write.id).collect();
        if linearizable(&without) {
            return (ViolationKind::LostWrite, Some(write));
        }
    }
    (ViolationKind::Other, None)
}

/// Whether `read` is illegal in every state that some order of some of the writes reaches,
/// ignoring time. `None` if there are too many writes or orders to tell.
fn never_written<M: Model>(
    model: &M,
    minimal: &[&ModelOperation<M>],
    blocked: &ModelOperation<M>,
    read: &M::Output,
) -> Option<bool> {
    let writes: Vec<&ModelOperation<M>> = minimal
        .iter()
        .copied()
        .filter(|operation| {
            operation.id != blocked.id
                && !model.is_read_only(&operation.input)
                && !matches!(operation.outcome, Outcome::Failed)
        })
        .collect();
    if writes.len() > WRITES_ENUMERATED_MAX {
        return None;
    }
    // Only looked up, never iterated, so its order cannot reach the output.
    let mut visited: HashSet<(u32, M::State), BuildHasherDefault<FixedHasher>> = HashSet::default();
    let mut pending = vec![(0u32, model.init())];
    while let Some((mask, state)) = pending.pop() {
        if !visited.insert((mask, state.clone())) {
            continue;
        }
        if visited.len() > WRITE_ORDERS_VISITED_MAX {
            return None;
        }
        if model.step(&state, &blocked.input, Some(read)) != Step::Illegal {
            return Some(false);
        }
        for (index, write) in writes.iter().enumerate() {
            if mask & (1 << index) != 0 {
                continue;
            }
            let output = match &write.outcome {
                Outcome::Ok(output) => Some(output),
                _ => None,
            };
            let next = match model.step(&state, &write.input, output) {
                Step::Illegal => continue,
                Step::Unchanged => state.clone(),
                Step::Changed(next) => next,
            };
            pending.push((mask | (1 << index), next));
        }
    }
    Some(true)
}

/// What the timeline is drawn from.
struct Drawing<'a, 'h, M: Model> {
    model: &'a M,
    key: &'a str,
    minimal: &'a [&'h ModelOperation<M>],
    time_unit: TimeUnit,
}

impl<M: Model> Drawing<'_, '_, M> {
    fn render(
        &self,
        original: usize,
        complete: bool,
        refutation: &Refutation,
        state: &M::State,
        kind: ViolationKind,
        lost: Option<&ModelOperation<M>>,
    ) -> String {
        let model = self.model;
        let minimal = self.minimal;
        let blocked = minimal[refutation.blocked];
        let mut out = String::new();
        let stopped = if complete { "" } else { " (shrinking stopped early)" };
        let _ = writeln!(
            out,
            "{} on key {:?}: {} of {original} operations remain after shrinking{stopped}",
            kind.describe(),
            self.key,
            minimal.len(),
        );
        self.draw_rows(&mut out, blocked.id);

        let state_text = shorten(&model.describe_state(state), STATE_WIDTH_MAX);
        let order: Vec<String> =
            refutation.order.iter().map(|&op| minimal[op].id.to_string()).collect();
        let _ = writeln!(out, "longest legal order found: {}", join_tail(&order, WIDTH_MAX - 27));
        let set_by = match refutation.writer {
            Some(writer) => format!("set by {}", minimal[writer].id),
            None => "the initial state".to_string(),
        };
        let _ = writeln!(out, "state then: {state_text}, {set_by}");

        let _ = writeln!(out, "candidates there:");
        let candidates = self.candidates(refutation);
        for &op in candidates.iter().take(CANDIDATES_SHOWN_MAX) {
            let operation = minimal[op];
            let output = match &operation.outcome {
                Outcome::Ok(output) => Some(output),
                _ => None,
            };
            let reason = match model.step(state, &operation.input, output) {
                Step::Illegal => "illegal in this state".to_string(),
                Step::Unchanged if output.is_none() => {
                    "would change nothing; its outcome is unknown".to_string()
                }
                Step::Unchanged => "legal, but no order of the rest follows".to_string(),
                Step::Changed(next) => format!(
                    "legal (state becomes {}), but no order of the rest follows",
                    shorten(&model.describe_state(&next), STATE_WIDTH_MAX)
                ),
            };
            let description = model.describe_operation(&operation.input, &operation.outcome);
            let line = format!(
                "  {} {}: {reason}",
                operation.id,
                shorten(&description, OPERATION_WIDTH_MAX)
            );
            let _ = writeln!(out, "{}", shorten(&line, WIDTH_MAX));
        }
        if candidates.len() > CANDIDATES_SHOWN_MAX {
            let _ = writeln!(out, "  ... and {} more", candidates.len() - CANDIDATES_SHOWN_MAX);
        }
        let id = blocked.id;
        let why = match (kind, lost) {
            (ViolationKind::StaleRead, _) => Some(format!(
                "{id} would be legal had it been called earlier: the value it read had been \
                 overwritten"
            )),
            (ViolationKind::LostWrite, Some(lost)) => Some(format!(
                "{id} would be legal without {}, which returned before {id} was called: that \
                 write was lost",
                lost.id
            )),
            (ViolationKind::NeverWritten, _) => {
                Some(format!("no order of any of the writes gives the value {id} read"))
            }
            _ => None,
        };
        if let Some(why) = why {
            let _ = writeln!(out, "{}", shorten(&why, WIDTH_MAX));
        }
        out
    }

    /// The header and one row per operation: id, client, operation, bar, marker.
    fn draw_rows(&self, out: &mut String, blocked_id: u64) {
        let minimal = self.minimal;
        let descriptions: Vec<String> = minimal
            .iter()
            .map(|operation| {
                let text = self.model.describe_operation(&operation.input, &operation.outcome);
                shorten(&text, OPERATION_WIDTH_MAX)
            })
            .collect();
        let digits = |value: u64| value.to_string().len();
        let id_width = minimal.iter().map(|operation| digits(operation.id)).max().unwrap_or(1);
        let id_width = id_width.max(3);
        let client_width = minimal.iter().map(|o| digits(o.client)).max().unwrap_or(1).max(6);
        let operation_width =
            descriptions.iter().map(|text| text.chars().count()).max().unwrap_or(0).max(9);
        let marker = " stuck";
        let used = id_width + 2 + client_width + 2 + operation_width + 2 + 2 + marker.len();
        let bars_width = WIDTH_MAX.saturating_sub(used).clamp(12, BARS_WIDTH_MAX);

        // Columns by rank of time: the order of events is what matters, not their spacing.
        let mut times: Vec<u64> = minimal
            .iter()
            .flat_map(|operation| [Some(operation.call_us), operation.return_us])
            .flatten()
            .collect();
        times.sort_unstable();
        times.dedup();
        let column = |time: u64| {
            let rank = times.partition_point(|&t| t < time);
            if times.len() < 2 {
                0
            } else {
                rank * (bars_width - 2) / (times.len() - 1)
            }
        };
        let first = times.first().map_or(String::new(), |&t| self.time_unit.format(t));
        let last = times.last().map_or(String::new(), |&t| self.time_unit.format(t));
        let gap = bars_width.saturating_sub(first.len() + last.len()).max(1);
        let _ = writeln!(
            out,
            "{:>id_width$}  {:>client_width$}  {:<operation_width$}  |{first}{}{last}|",
            "id",
            "client",
            "operation",
            " ".repeat(gap),
        );
        for (operation, description) in minimal.iter().zip(&descriptions) {
            let mut bar = vec![' '; bars_width];
            let start = column(operation.call_us);
            match operation.return_us {
                Some(return_us) => {
                    let end = column(return_us.max(operation.call_us));
                    for cell in &mut bar[start..=end] {
                        *cell = '=';
                    }
                    bar[start] = '[';
                    bar[end] = if start == end { '|' } else { ']' };
                }
                None => {
                    // Never returned: pending to the end of time.
                    for cell in &mut bar[start..] {
                        *cell = '=';
                    }
                    bar[start] = '[';
                    bar[bars_width - 1] = '>';
                }
            }
            let bar: String = bar.into_iter().collect();
            let marker = if operation.id == blocked_id { marker } else { "" };
            let (id, client) = (operation.id, operation.client);
            let _ = write!(out, "{id:>id_width$}  {client:>client_width$}  ");
            let _ = writeln!(out, "{description:<operation_width$}  |{bar}|{marker}");
        }
    }

    /// The operations the search could have linearized next at its stuck point: pending, and
    /// called no later than the blocked operation returned.
    fn candidates(&self, refutation: &Refutation) -> Vec<usize> {
        let blocked = self.minimal[refutation.blocked];
        let done: Vec<usize> =
            refutation.order.iter().chain(&refutation.dropped).copied().collect();
        (0..self.minimal.len())
            .filter(|op| !done.contains(op))
            .filter(|&op| blocked.return_us.is_none_or(|t| self.minimal[op].call_us <= t))
            .collect()
    }
}

/// `items` joined by commas, the first ones replaced by `...` if that is wider than `width`:
/// the last steps of an order are the ones that matter.
fn join_tail(items: &[String], width: usize) -> String {
    if items.is_empty() {
        return "(none)".to_string();
    }
    let mut shown: Vec<&str> = Vec::new();
    let mut used = 0;
    for item in items.iter().rev() {
        if used + item.len() + 5 > width && !shown.is_empty() {
            shown.push("...");
            break;
        }
        used += item.len() + 2;
        shown.push(item);
    }
    shown.reverse();
    shown.join(", ")
}

/// `text`, cut in the middle to at most `width` characters.
fn shorten(text: &str, width: usize) -> String {
    let count = text.chars().count();
    if count <= width {
        return text.to_string();
    }
    let keep = width.saturating_sub(3);
    let head: String = text.chars().take(keep - keep / 2).collect();
    let tail: String = text.chars().skip(count - keep / 2).collect();
    format!("{head}...{tail}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shorten_keeps_both_ends() {
        assert_eq!(shorten("abcdef", 6), "abcdef");
        assert_eq!(shorten("put \"0123456789abcdef\"", 12), "put \"...def\"");
        assert_eq!(shorten("put \"0123456789abcdef\"", 12).chars().count(), 12);
    }

    #[test]
    fn join_tail_keeps_the_last_items() {
        let items: Vec<String> = (1..=30).map(|n| n.to_string()).collect();
        assert_eq!(join_tail(&items[..3], 20), "1, 2, 3");
        assert_eq!(join_tail(&items, 20), "..., 27, 28, 29, 30");
        assert_eq!(join_tail(&[], 20), "(none)");
    }
}
