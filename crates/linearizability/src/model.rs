//! The sequential specification the checker searches against.
//!
//! A model is a deterministic state machine: an initial state, and a step that says whether an
//! operation with a given input and observed output is legal in a state, and what state it
//! leads to. The checker asks whether the concurrent history can be ordered so that every
//! step is legal.

use std::fmt::Debug;
use std::hash::Hash;

use crate::history::Outcome;

/// The result of applying one operation to a state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step<S> {
    /// The observed output is impossible in this state.
    Illegal,
    /// Legal, and the state does not change (a read, or a compare that failed).
    Unchanged,
    /// Legal, and the state becomes this one.
    Changed(S),
}

/// A sequential object that histories are checked against.
///
/// Implementations must be deterministic and pure: the checker calls [`Model::step`] many
/// times on the same arguments and memoizes states by equality.
pub trait Model: Sync {
    /// What an operation asks for.
    type Input: Clone + Eq + Hash + Debug + Send + Sync;
    /// What an operation returns.
    type Output: Clone + Debug + Send + Sync;
    /// The object's state.
    type State: Clone + Eq + Hash + Debug + Send + Sync;

    /// The state before any operation.
    fn init(&self) -> Self::State;

    /// Applies `input` in `state`. `output` is `None` when the result is unknown; the step is
    /// then legal whenever some result would be, and has its normal effect.
    fn step(
        &self,
        state: &Self::State,
        input: &Self::Input,
        output: Option<&Self::Output>,
    ) -> Step<Self::State>;

    /// True if `input` never changes the state. An operation with such an input and an unknown
    /// result constrains nothing, so the checker drops it before searching.
    fn is_read_only(&self, input: &Self::Input) -> bool;

    /// True if an operation with this input and observed output never changes the state when
    /// its step is legal: a read, or a compare-and-set that reports a failed compare. The
    /// search linearizes such an operation as soon as it is a legal candidate, without trying
    /// alternatives, which is sound only under this condition. Defaults to
    /// [`is_read_only`](Model::is_read_only).
    fn never_changes_state(&self, input: &Self::Input, _output: &Self::Output) -> bool {
        self.is_read_only(input)
    }

    /// True if the step of `reader`, with its outcome, may depend on the effect of `writer`:
    /// removing `writer` from a linearizable history could then make `reader` illegal, as when
    /// a read returned the value a put wrote.
    ///
    /// Used only to shrink counterexamples: an operation that no other may observe can be
    /// removed without creating a violation of its own. Answering `true` too often is safe
    /// (it keeps more operations); answering `false` wrongly could shrink a history into a
    /// different violation. The default keeps every operation that changes the state.
    fn may_observe(
        &self,
        reader: &Self::Input,
        reader_outcome: &Outcome<Self::Output>,
        writer: &Self::Input,
    ) -> bool {
        let _ = (reader, reader_outcome);
        !self.is_read_only(writer)
    }

    /// A short phrase for explanations, such as `get returned "a"` or `cas 1->4 (swapped)`.
    fn describe_operation(&self, input: &Self::Input, outcome: &Outcome<Self::Output>) -> String;

    /// A short phrase for a state, such as `"ab"` or `absent`.
    fn describe_state(&self, state: &Self::State) -> String;

    /// Heap bytes owned by a state, for the memory figures in reports. Zero by default.
    fn state_heap_bytes(&self, _state: &Self::State) -> usize {
        0
    }
}
