//! The register model: one integer register that may be absent, with read, write and
//! compare-and-set. This is the object of the Jepsen etcd histories.

use serde::{Deserialize, Serialize};

use crate::history::Outcome;
use crate::model::{Model, Step};

/// A register operation's request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RegisterInput {
    /// Read the value.
    Read,
    /// Replace the value.
    Write(i64),
    /// Replace the value with `to` if it is `from`.
    Cas {
        /// The value the register must hold.
        from: i64,
        /// The value it then takes.
        to: i64,
    },
}

/// A register operation's result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RegisterOutput {
    /// The value read; `None` if the register was absent.
    Read(Option<i64>),
    /// The write completed.
    Written,
    /// Whether the compare held and the swap happened.
    Cas {
        /// True if the register held `from` and now holds `to`.
        swapped: bool,
    },
    /// The operation took effect but its result was not observed: any result is accepted. A
    /// CAS swaps if its compare holds. (Unlike `Outcome::Unknown`, the operation cannot be
    /// assumed never to have happened.)
    Unobserved,
}

/// The sequential specification of a register that starts absent.
///
/// A completed CAS that reports `swapped: false` is legal only if the register did not hold
/// `from` (the compare failed), as in Porcupine's etcd model. A CAS with an unknown result
/// swaps if the compare holds and is a no-op otherwise.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RegisterModel;

impl Model for RegisterModel {
    type Input = RegisterInput;
    type Output = RegisterOutput;
    type State = Option<i64>;

    fn init(&self) -> Option<i64> {
        None
    }

    fn step(
        &self,
        state: &Option<i64>,
        input: &RegisterInput,
        output: Option<&RegisterOutput>,
    ) -> Step<Option<i64>> {
        let changed_to = |value: i64| {
            if *state == Some(value) {
                Step::Unchanged
            } else {
                Step::Changed(Some(value))
            }
        };
        match (*input, output) {
            (RegisterInput::Read, None | Some(RegisterOutput::Unobserved)) => Step::Unchanged,
            (RegisterInput::Read, Some(RegisterOutput::Read(value))) if value == state => {
                Step::Unchanged
            }
            (
                RegisterInput::Write(value),
                None | Some(RegisterOutput::Written | RegisterOutput::Unobserved),
            ) => changed_to(value),
            (RegisterInput::Cas { from, to }, None | Some(RegisterOutput::Unobserved))
                if *state == Some(from) =>
            {
                changed_to(to)
            }
            (RegisterInput::Cas { .. }, None | Some(RegisterOutput::Unobserved)) => Step::Unchanged,
            (RegisterInput::Cas { from, to }, Some(RegisterOutput::Cas { swapped: true }))
                if *state == Some(from) =>
            {
                changed_to(to)
            }
            (RegisterInput::Cas { from, .. }, Some(RegisterOutput::Cas { swapped: false }))
                if *state != Some(from) =>
            {
                Step::Unchanged
            }
            // Wrong value read, a compare that contradicts the state, or an output that does
            // not belong to the input.
            _ => Step::Illegal,
        }
    }

    fn is_read_only(&self, input: &RegisterInput) -> bool {
        matches!(input, RegisterInput::Read)
    }

    fn never_changes_state(&self, input: &RegisterInput, output: &RegisterOutput) -> bool {
        matches!(
            (input, output),
            (RegisterInput::Read, _)
                | (RegisterInput::Cas { .. }, RegisterOutput::Cas { swapped: false })
        )
    }

    /// A write or a swap observed through the value it leaves: a read that returned it, or a
    /// swap (or a CAS of unknown outcome) that compared against it. A CAS that reports a failed
    /// compare, or one whose result was unobserved, may be affected by any write (it depends on
    /// the state not holding a value, or may start to apply), so it observes every writer.
    fn may_observe(
        &self,
        reader: &RegisterInput,
        reader_outcome: &Outcome<RegisterOutput>,
        writer: &RegisterInput,
    ) -> bool {
        let written = match *writer {
            RegisterInput::Read => return false,
            RegisterInput::Write(value) => value,
            RegisterInput::Cas { to, .. } => to,
        };
        match (*reader, reader_outcome) {
            (RegisterInput::Read, Outcome::Ok(RegisterOutput::Read(read))) => {
                *read == Some(written)
            }
            (RegisterInput::Read | RegisterInput::Write(_), _) => false,
            (RegisterInput::Cas { .. }, Outcome::Failed) => false,
            (
                RegisterInput::Cas { .. },
                Outcome::Ok(RegisterOutput::Cas { swapped: false } | RegisterOutput::Unobserved),
            ) => true,
            (RegisterInput::Cas { from, .. }, _) => from == written,
        }
    }

    fn describe_operation(
        &self,
        input: &RegisterInput,
        outcome: &Outcome<RegisterOutput>,
    ) -> String {
        let verb = match *input {
            RegisterInput::Read => "read".to_string(),
            RegisterInput::Write(value) => format!("write {value}"),
            RegisterInput::Cas { from, to } => format!("cas {from}->{to}"),
        };
        match outcome {
            Outcome::Ok(RegisterOutput::Read(value)) => {
                format!("{verb} returned {}", describe_value(*value))
            }
            Outcome::Ok(RegisterOutput::Written) => verb,
            Outcome::Ok(RegisterOutput::Cas { swapped: true }) => format!("{verb} (swapped)"),
            Outcome::Ok(RegisterOutput::Cas { swapped: false }) => {
                format!("{verb} (compare failed)")
            }
            Outcome::Ok(RegisterOutput::Unobserved) => format!("{verb} (result unobserved)"),
            Outcome::Failed => format!("{verb} (failed)"),
            Outcome::Unknown => format!("{verb} (outcome unknown)"),
        }
    }

    fn describe_state(&self, state: &Option<i64>) -> String {
        describe_value(*state)
    }
}

fn describe_value(value: Option<i64>) -> String {
    match value {
        Some(value) => value.to_string(),
        None => "nil".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cas_semantics() {
        let model = RegisterModel;
        let cas = RegisterInput::Cas { from: 1, to: 2 };
        let swapped = RegisterOutput::Cas { swapped: true };
        let refused = RegisterOutput::Cas { swapped: false };
        assert_eq!(model.step(&Some(1), &cas, Some(&swapped)), Step::Changed(Some(2)));
        assert_eq!(model.step(&Some(3), &cas, Some(&swapped)), Step::Illegal);
        assert_eq!(model.step(&Some(1), &cas, Some(&refused)), Step::Illegal);
        assert_eq!(model.step(&None, &cas, Some(&refused)), Step::Unchanged);
        assert_eq!(model.step(&Some(1), &cas, None), Step::Changed(Some(2)));
        assert_eq!(model.step(&Some(3), &cas, None), Step::Unchanged);
        let unobserved = RegisterOutput::Unobserved;
        assert_eq!(model.step(&Some(1), &cas, Some(&unobserved)), Step::Changed(Some(2)));
        assert_eq!(model.step(&Some(3), &cas, Some(&unobserved)), Step::Unchanged);
    }

    #[test]
    fn reads_and_writes() {
        let model = RegisterModel;
        let read_nil = RegisterOutput::Read(None);
        assert_eq!(model.step(&None, &RegisterInput::Read, Some(&read_nil)), Step::Unchanged);
        assert_eq!(model.step(&Some(0), &RegisterInput::Read, Some(&read_nil)), Step::Illegal);
        assert_eq!(model.step(&None, &RegisterInput::Write(4), None), Step::Changed(Some(4)));
        let written = RegisterOutput::Written;
        assert_eq!(model.step(&Some(4), &RegisterInput::Write(4), Some(&written)), Step::Unchanged);
        assert_eq!(
            model.step(&Some(4), &RegisterInput::Write(4), Some(&RegisterOutput::Read(None))),
            Step::Illegal
        );
    }
}
