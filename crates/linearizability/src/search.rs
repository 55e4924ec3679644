//! The search for one key: Wing and Gong's backtracking over the history's call and return
//! events, with Lowe's memoization of explored configurations (the approach Porcupine uses).
//!
//! The history becomes a doubly linked list of call and return entries in time order. At each
//! node the search scans from the head: a call entry is a candidate to linearize next; the
//! first return entry it meets is a barrier, because that operation must be linearized before
//! anything called after its return. Linearizing an operation unlinks both of its entries
//! ("lifting" it) and restarts the scan; backtracking links them back.
//!
//! Unknown outcomes. An operation whose outcome is unknown is optional: it may be linearized,
//! with its result unconstrained, or never take effect. If it never returned it has no return
//! entry, so it never blocks anything. If it returned, reaching its return entry unlinearized
//! means "it never took effect": it is dropped there, which is as good as dropping it earlier
//! because a dropped operation constrains nothing.
//!
//! Three reductions keep the search small without changing its answer:
//! - a required operation that never changes the state (a read, a compare that failed; see
//!   [`Model::never_changes_state`]) is linearized as soon as it is a legal candidate, with no
//!   alternatives tried at that node. If any order completes the history from here, moving
//!   that operation to the front of it gives another: its own step is legal now, the states of
//!   all other steps are the same (it changed nothing where it was), and being a candidate it
//!   follows every pending operation in real time. Porcupine has no such rule;
//! - an optional operation whose step leaves the state unchanged is not linearized, since
//!   leaving it pending keeps every option open;
//! - optional, never-returned operations with equal inputs are interchangeable, so they are
//!   linearized in call order only (the Jepsen logs have many timed-out writes of the same
//!   value).
//!
//! The search is resumable: [`Search::run`] works for a quota of steps and can be called again,
//! so that several keys can share the machine in deterministic rounds.

use std::collections::HashMap;
use std::hash::BuildHasherDefault;

use crate::hash::{mix64, splitmix64, FixedHasher};
use crate::history::{Operation, Outcome};
use crate::memo::{MemoSet, StateTable};
use crate::model::{Model, Step};
use crate::report::{Budget, UnknownCause};

/// End of the linked list.
const NIL: u32 = u32::MAX;
/// The head sentinel's entry index.
const HEAD: u32 = 0;
/// A step result meaning the step was illegal; see [`Search::step`].
const STEP_ILLEGAL: u32 = u32::MAX;
/// A step result meaning the step was legal and left the state unchanged.
const STEP_UNCHANGED: u32 = u32::MAX - 1;

/// How a finished search ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum SearchEnd {
    Linearizable,
    NotLinearizable(Refutation),
    Unknown(UnknownCause),
}

/// Where the search got furthest before failing: `blocked` could not be linearized after
/// `depth` operations, in `state`, which `writer` set (or the initial state if `None`).
/// `order` lists the operations linearized at that point, in order; `dropped` the optional
/// ones that were taken never to have happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Refutation {
    pub(crate) depth: usize,
    pub(crate) blocked: usize,
    pub(crate) state: u32,
    pub(crate) writer: Option<usize>,
    pub(crate) order: Vec<usize>,
    pub(crate) dropped: Vec<usize>,
}

/// How an operation left the pending set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Move {
    /// Linearized, one of several candidates the node tries in turn.
    Chosen,
    /// Linearized as the node's only move: its step left the state unchanged (see the module
    /// docs), so the node has no alternative to try when this move fails.
    Forced,
    /// An optional operation that never took effect, discarded at its return entry, after every
    /// call before it was tried: the node has nothing left to try either.
    Dropped,
}

/// One linearized (or dropped) operation on the search stack.
#[derive(Debug, Clone, Copy)]
struct Frame {
    call_entry: u32,
    state_before: u32,
    how: Move,
    /// The node's step results: where they start in `Search::results`, and how many the scan
    /// had read when it made this move.
    results_start: u32,
    results_read: u32,
}

/// What stepping a node's candidates found.
enum Evaluated {
    /// This required operation must go next.
    Forced(usize),
    /// Every candidate was stepped; the node tries them in turn.
    Branch,
    /// The budget ran out.
    StepsSpent,
}

/// An operation as the search sees it.
struct SearchOp<'h, M: Model> {
    source: &'h Operation<M::Input, M::Output>,
    /// `None` when the result is unknown.
    output: Option<&'h M::Output>,
    optional: bool,
    /// Required, and never changes the state (see [`Model::never_changes_state`]): linearized
    /// as soon as it is a legal candidate.
    forcible: bool,
    /// For an optional, never-returned operation: the previous one in call order with the same
    /// input. This one may be linearized only after that one.
    twin_before: Option<u32>,
}

/// The search state for one key.
pub(crate) struct Search<'h, 'm, M: Model> {
    model: &'m M,
    ops: Vec<SearchOp<'h, M>>,
    steps_max: u64,
    memo_entries_max: u64,
    // The event list. Entry 0 is the head sentinel; `entry_op` and `entry_is_return` describe
    // the others.
    next: Vec<u32>,
    prev: Vec<u32>,
    entry_op: Vec<u32>,
    entry_is_return: Vec<bool>,
    op_call_entry: Vec<u32>,
    op_return_entry: Vec<u32>,
    // The configuration.
    linearized: Vec<u64>,
    linearized_hash: u64,
    zobrist: Vec<u64>,
    required_left: usize,
    state: u32,
    stack: Vec<Frame>,
    cursor: u32,
    /// True when the search has just moved to a node and not yet stepped its candidates.
    node_fresh: bool,
    /// The step results of the nodes on the current path, each node's after its parent's.
    results: Vec<u32>,
    /// Where the current node's results start in `results`, and how many the scan has read.
    node_results_start: usize,
    node_results_read: usize,
    // Memory and accounting.
    states: StateTable<M::State>,
    memo: MemoSet,
    steps: u64,
    /// Memo entries when the memo was released; the memo only grows until then.
    memo_entries_peak: u64,
    deepest: Option<Refutation>,
    end: Option<SearchEnd>,
}

impl<'h, 'm, M: Model> Search<'h, 'm, M> {
    /// Prepares the search of one key's operations.
    pub(crate) fn new(
        model: &'m M,
        history: &[&'h Operation<M::Input, M::Output>],
        budget: &Budget,
    ) -> Self {
        let mut ops: Vec<SearchOp<'h, M>> = Vec::new();
        for &source in history {
            let output = match &source.outcome {
                // Known not to have taken effect: it cannot explain or contradict anything.
                Outcome::Failed => continue,
                // A read with an unknown result constrains nothing.
                Outcome::Unknown if model.is_read_only(&source.input) => continue,
                Outcome::Unknown => None,
                Outcome::Ok(output) => Some(output),
            };
            let forcible =
                output.is_some_and(|output| model.never_changes_state(&source.input, output));
            ops.push(SearchOp {
                source,
                output,
                optional: output.is_none(),
                forcible,
                twin_before: None,
            });
        }
        link_twins(&mut ops);

        // Calls sort before returns at equal times, so equal call and return times are
        // concurrent. A return before its call is treated as a return at the call.
        let mut events: Vec<(u64, bool, u32)> = Vec::with_capacity(ops.len() * 2);
        for (index, op) in ops.iter().enumerate() {
            events.push((op.source.call_us, false, index as u32));
            if let Some(return_us) = op.source.return_us {
                events.push((return_us.max(op.source.call_us), true, index as u32));
            }
        }
        events.sort_unstable();

        let entries = events.len() + 1;
        let mut entry_op = vec![NIL; entries];
        let mut entry_is_return = vec![false; entries];
        let mut op_call_entry = vec![NIL; ops.len()];
        let mut op_return_entry = vec![NIL; ops.len()];
        for (position, &(_, is_return, op)) in events.iter().enumerate() {
            let entry = position as u32 + 1;
            entry_op[entry as usize] = op;
            entry_is_return[entry as usize] = is_return;
            if is_return {
                op_return_entry[op as usize] = entry;
            } else {
                op_call_entry[op as usize] = entry;
            }
        }
        // Entries are linked in array order; the head's `prev` is never read.
        let mut next: Vec<u32> = (1..=entries as u32).collect();
        next[entries - 1] = NIL;
        let prev = (0..entries as u32).map(|entry| entry.wrapping_sub(1)).collect();

        let bitset_words = ops.len().div_ceil(64);
        let mut states = StateTable::new();
        let init = model.init();
        let init_bytes = model.state_heap_bytes(&init);
        let state = states.intern(init, init_bytes);
        Search {
            model,
            required_left: ops.iter().filter(|op| !op.optional).count(),
            zobrist: (0..ops.len() as u64).map(splitmix64).collect(),
            ops,
            steps_max: budget.steps_max,
            memo_entries_max: budget.memo_entries_max,
            next,
            prev,
            entry_op,
            entry_is_return,
            op_call_entry,
            op_return_entry,
            linearized: vec![0; bitset_words],
            linearized_hash: 0,
            state,
            stack: Vec::new(),
            cursor: if entries > 1 { 1 } else { NIL },
            node_fresh: true,
            results: Vec::new(),
            node_results_start: 0,
            node_results_read: 0,
            states,
            memo: MemoSet::new(bitset_words),
            steps: 0,
            memo_entries_peak: 0,
            deepest: None,
            end: None,
        }
    }

    /// Searches for up to `steps_quota` more model steps. Returns how the search ended, or
    /// `None` if the quota ran out first.
    pub(crate) fn run(&mut self, steps_quota: u64) -> Option<&SearchEnd> {
        if self.end.is_none() {
            self.end = self.search(self.steps.saturating_add(steps_quota));
        }
        self.end.as_ref()
    }

    /// Abandons the search with an `Unknown` verdict.
    pub(crate) fn abandon(&mut self, cause: UnknownCause) {
        if self.end.is_none() {
            self.end = Some(SearchEnd::Unknown(cause));
        }
    }

    pub(crate) fn end(&self) -> Option<&SearchEnd> {
        self.end.as_ref()
    }

    pub(crate) fn steps(&self) -> u64 {
        self.steps
    }

    /// Memo entries held now.
    pub(crate) fn memo_entries(&self) -> u64 {
        self.memo.len() as u64
    }

    /// The most memo entries this search has held.
    pub(crate) fn memo_entries_peak(&self) -> u64 {
        self.memo_entries_peak.max(self.memo_entries())
    }

    /// Operations that take part in the search (failed ones and unknown reads excluded).
    pub(crate) fn searched_operations(&self) -> usize {
        self.ops.len()
    }

    /// Estimated bytes held by this search.
    pub(crate) fn memory_bytes(&self) -> u64 {
        let lists = (self.next.capacity() + self.prev.capacity() + self.entry_op.capacity()) * 4
            + self.entry_is_return.capacity();
        let stack =
            self.stack.capacity() * std::mem::size_of::<Frame>() + self.results.capacity() * 4;
        (self.memo.bytes() + self.states.bytes() + lists + stack) as u64
    }

    /// Frees the memo and the stack once the search has ended; the counts stay, and so do the
    /// states, which the explanation of a violation names.
    pub(crate) fn release_memory(&mut self) {
        self.memo_entries_peak = self.memo_entries_peak();
        self.memo = MemoSet::new(0);
        self.stack = Vec::new();
        self.results = Vec::new();
    }

    pub(crate) fn operation(&self, op: usize) -> &'h Operation<M::Input, M::Output> {
        self.ops[op].source
    }

    pub(crate) fn state(&self, id: u32) -> &M::State {
        self.states.get(id)
    }

    fn search(&mut self, pause_at_steps: u64) -> Option<SearchEnd> {
        loop {
            if self.required_left == 0 {
                return Some(SearchEnd::Linearizable);
            }
            if self.memo.len() as u64 >= self.memo_entries_max {
                return Some(SearchEnd::Unknown(UnknownCause::MemoSpent));
            }
            if self.node_fresh {
                // Rounds pause only between nodes, so a node's step results are never lost;
                // a round may overrun its quota by one node's candidates.
                if self.steps >= pause_at_steps {
                    return None;
                }
                match self.evaluate_candidates() {
                    Evaluated::StepsSpent => {
                        return Some(SearchEnd::Unknown(UnknownCause::StepsSpent))
                    }
                    Evaluated::Forced(op) => {
                        if !self.try_consume(op, self.state, Move::Forced) && !self.backtrack() {
                            return Some(self.refutation());
                        }
                        continue;
                    }
                    Evaluated::Branch => {}
                }
            }
            let entry = self.cursor;
            // Every call was tried and no barrier met: the pending required operations all
            // lack a return (ok outcomes that never returned) and none can go next.
            if entry == NIL {
                let stuck = (0..self.ops.len())
                    .find(|&op| !self.ops[op].optional && !self.is_linearized(op));
                if let Some(op) = stuck {
                    self.note_barrier(op);
                }
                if !self.backtrack() {
                    return Some(self.refutation());
                }
                continue;
            }
            let op = self.entry_op[entry as usize] as usize;
            if self.entry_is_return[entry as usize] {
                let consumed = if self.ops[op].optional {
                    self.try_consume(op, self.state, Move::Dropped)
                } else {
                    self.note_barrier(op);
                    false
                };
                if !consumed && !self.backtrack() {
                    return Some(self.refutation());
                }
                continue;
            }
            if self.waits_for_twin(op) {
                self.cursor = self.next[entry as usize];
                continue;
            }
            // This node's candidates were stepped, in this order, by `evaluate_candidates`.
            let result = self.results[self.node_results_start + self.node_results_read];
            self.node_results_read += 1;
            let next_state = match result {
                STEP_ILLEGAL => None,
                STEP_UNCHANGED if self.ops[op].optional => None,
                STEP_UNCHANGED => Some(self.state),
                id => (id != self.state || !self.ops[op].optional).then_some(id),
            };
            if !next_state.is_some_and(|next_state| self.try_consume(op, next_state, Move::Chosen))
            {
                self.cursor = self.next[entry as usize];
            }
        }
    }

    /// Steps every candidate of the node just reached, in list order, and keeps the results for
    /// the scan that tries them. Stops early at a forced move (see the module docs): a required
    /// candidate whose step is legal and leaves the state unchanged.
    fn evaluate_candidates(&mut self) -> Evaluated {
        self.node_fresh = false;
        let mut entry = self.next[HEAD as usize];
        while entry != NIL && !self.entry_is_return[entry as usize] {
            let op = self.entry_op[entry as usize] as usize;
            entry = self.next[entry as usize];
            if self.waits_for_twin(op) {
                continue;
            }
            if self.steps >= self.steps_max {
                return Evaluated::StepsSpent;
            }
            self.steps += 1;
            let result = self.step(op);
            self.results.push(result);
            if result == STEP_UNCHANGED && self.ops[op].forcible {
                return Evaluated::Forced(op);
            }
        }
        Evaluated::Branch
    }

    /// True if `op` is an optional, never-returned operation whose earlier-called twin is still
    /// pending, so it may not go next (see [`link_twins`]).
    fn waits_for_twin(&self, op: usize) -> bool {
        self.ops[op].twin_before.is_some_and(|twin| !self.is_linearized(twin as usize))
    }

    /// The model step of `op` in the current state, as [`STEP_ILLEGAL`], [`STEP_UNCHANGED`] or
    /// the new state's id.
    fn step(&mut self, op: usize) -> u32 {
        let state = self.states.get(self.state);
        let result = match self.model.step(state, &self.ops[op].source.input, self.ops[op].output) {
            Step::Illegal => STEP_ILLEGAL,
            Step::Unchanged => STEP_UNCHANGED,
            Step::Changed(next) => {
                let heap_bytes = self.model.state_heap_bytes(&next);
                self.states.intern(next, heap_bytes)
            }
        };
        // State ids never reach the two markers: that would take four billion states of at
        // least 24 bytes each, far beyond any memory the budgets allow.
        result
    }

    fn is_linearized(&self, op: usize) -> bool {
        self.linearized[op / 64] & (1 << (op % 64)) != 0
    }

    fn flip(&mut self, op: usize) {
        self.linearized[op / 64] ^= 1 << (op % 64);
        self.linearized_hash ^= self.zobrist[op];
    }

    /// Linearizes (or discards, if the move is a drop) `op`, moving to `next_state`, unless
    /// that configuration was explored before. Returns whether it moved.
    fn try_consume(&mut self, op: usize, next_state: u32, how: Move) -> bool {
        self.flip(op);
        let hash = self.linearized_hash ^ mix64(u64::from(next_state));
        if !self.memo.insert(hash, next_state, &self.linearized) {
            self.flip(op);
            return false;
        }
        let call_entry = self.op_call_entry[op];
        self.stack.push(Frame {
            call_entry,
            state_before: self.state,
            how,
            results_start: self.node_results_start as u32,
            results_read: self.node_results_read as u32,
        });
        self.node_results_start = self.results.len();
        self.node_results_read = 0;
        self.lift(op);
        self.state = next_state;
        if !self.ops[op].optional {
            self.required_left -= 1;
        }
        self.cursor = self.next[HEAD as usize];
        self.node_fresh = true;
        true
    }

    /// Undoes moves until one leaves an untried alternative. Returns false when none does.
    fn backtrack(&mut self) -> bool {
        while let Some(frame) = self.stack.pop() {
            self.results.truncate(self.node_results_start);
            self.node_results_start = frame.results_start as usize;
            self.node_results_read = frame.results_read as usize;
            let op = self.entry_op[frame.call_entry as usize] as usize;
            self.unlift(op);
            self.flip(op);
            self.state = frame.state_before;
            if !self.ops[op].optional {
                self.required_left += 1;
            }
            // Forced and dropped moves were their node's last option (see `Move`).
            if frame.how == Move::Chosen {
                self.cursor = self.next[frame.call_entry as usize];
                self.node_fresh = false;
                return true;
            }
        }
        false
    }

    fn lift(&mut self, op: usize) {
        self.unlink(self.op_call_entry[op]);
        let return_entry = self.op_return_entry[op];
        if return_entry != NIL {
            self.unlink(return_entry);
        }
    }

    /// Exactly reverses [`lift`](Self::lift); entries are relinked in the reverse order.
    fn unlift(&mut self, op: usize) {
        let return_entry = self.op_return_entry[op];
        if return_entry != NIL {
            self.relink(return_entry);
        }
        self.relink(self.op_call_entry[op]);
    }

    fn unlink(&mut self, entry: u32) {
        let (prev, next) = (self.prev[entry as usize], self.next[entry as usize]);
        self.next[prev as usize] = next;
        if next != NIL {
            self.prev[next as usize] = prev;
        }
    }

    fn relink(&mut self, entry: u32) {
        let (prev, next) = (self.prev[entry as usize], self.next[entry as usize]);
        self.next[prev as usize] = entry;
        if next != NIL {
            self.prev[next as usize] = entry;
        }
    }

    /// Remembers the deepest point where a required operation blocked the search.
    fn note_barrier(&mut self, blocked: usize) {
        let depth = self.stack.len();
        if self.deepest.as_ref().is_some_and(|deepest| deepest.depth >= depth) {
            return;
        }
        // The writer is the last move that changed the state.
        let mut state_after = self.state;
        let mut writer = None;
        for frame in self.stack.iter().rev() {
            if frame.state_before != state_after {
                writer = Some(self.entry_op[frame.call_entry as usize] as usize);
                break;
            }
            state_after = frame.state_before;
        }
        let (mut order, mut dropped) = (Vec::new(), Vec::new());
        for frame in &self.stack {
            let op = self.entry_op[frame.call_entry as usize] as usize;
            match frame.how {
                Move::Dropped => dropped.push(op),
                Move::Chosen | Move::Forced => order.push(op),
            }
        }
        let state = self.state;
        self.deepest = Some(Refutation { depth, blocked, state, writer, order, dropped });
    }

    fn refutation(&self) -> SearchEnd {
        match &self.deepest {
            Some(deepest) => SearchEnd::NotLinearizable(deepest.clone()),
            // Unreachable: every failed node notes the operation it could not place.
            None => SearchEnd::Unknown(UnknownCause::StepsSpent),
        }
    }
}

/// Sets `twin_before` on optional, never-returned operations with equal inputs, in call
/// order. Swapping two such operations in any linearization gives another one, so requiring
/// the earlier-called one to go first loses nothing.
fn link_twins<M: Model>(ops: &mut [SearchOp<'_, M>]) {
    let mut order: Vec<usize> = (0..ops.len())
        .filter(|&index| ops[index].optional && ops[index].source.return_us.is_none())
        .collect();
    order.sort_by_key(|&index| (ops[index].source.call_us, index));
    // Only looked up, never iterated, so its order cannot reach the output.
    let mut last_by_input: HashMap<&M::Input, u32, BuildHasherDefault<FixedHasher>> =
        HashMap::default();
    for index in order {
        let source = ops[index].source;
        ops[index].twin_before = last_by_input.insert(&source.input, index as u32);
    }
}
