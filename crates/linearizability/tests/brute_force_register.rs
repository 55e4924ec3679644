//! The checker, run with the register model, agrees with a brute-force twin on thousands of
//! small random compare-and-set histories shaped like the Jepsen logs: few distinct values,
//! many timed-out writes and CASes pending forever (often with equal inputs), CASes whose
//! compare failed, unobserved results and ties in time.
//!
//! The twin enumerates every subset of the unknown-outcome operations and every order of the
//! chosen ones that respects real time, and shares no code with the checker.

use linearizability::{
    check, CheckOptions, Operation, Outcome, RegisterInput, RegisterModel, RegisterOutput, Verdict,
};
use rand_chacha::rand_core::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;

type RegisterOperation = Operation<RegisterInput, RegisterOutput>;

/// Applies one chosen operation to the register, or says it is impossible.
fn apply(register: Option<i64>, operation: &RegisterOperation) -> Option<Option<i64>> {
    let result = match &operation.outcome {
        Outcome::Ok(result) => Some(*result),
        _ => None,
    };
    match (operation.input, result) {
        (RegisterInput::Read, Some(RegisterOutput::Read(read))) => {
            (read == register).then_some(register)
        }
        (RegisterInput::Read, _) => Some(register),
        (RegisterInput::Write(value), _) => Some(Some(value)),
        (RegisterInput::Cas { from, to }, Some(RegisterOutput::Cas { swapped: true })) => {
            (register == Some(from)).then_some(Some(to))
        }
        (RegisterInput::Cas { from, .. }, Some(RegisterOutput::Cas { swapped: false })) => {
            (register != Some(from)).then_some(register)
        }
        (RegisterInput::Cas { from, to }, _) => {
            Some(if register == Some(from) { Some(to) } else { register })
        }
    }
}

fn brute_force_linearizable(history: &[RegisterOperation]) -> bool {
    let candidates: Vec<&RegisterOperation> =
        history.iter().filter(|operation| operation.outcome != Outcome::Failed).collect();
    let unknown: Vec<usize> = (0..candidates.len())
        .filter(|&index| candidates[index].outcome == Outcome::Unknown)
        .collect();
    (0..1u32 << unknown.len()).any(|mask| {
        let chosen: Vec<&RegisterOperation> = (0..candidates.len())
            .filter(|index| match unknown.iter().position(|u| u == index) {
                Some(bit) => mask & (1 << bit) != 0,
                None => true,
            })
            .map(|index| candidates[index])
            .collect();
        explains(&chosen, &mut vec![false; chosen.len()], None)
    })
}

fn explains(chosen: &[&RegisterOperation], placed: &mut [bool], register: Option<i64>) -> bool {
    if placed.iter().all(|&done| done) {
        return true;
    }
    for next in 0..chosen.len() {
        let blocked = placed[next]
            || (0..chosen.len()).any(|other| {
                !placed[other]
                    && chosen[other]
                        .return_us
                        .is_some_and(|return_us| return_us < chosen[next].call_us)
            });
        if blocked {
            continue;
        }
        let Some(after) = apply(register, chosen[next]) else { continue };
        placed[next] = true;
        if explains(chosen, placed, after) {
            return true;
        }
        placed[next] = false;
    }
    false
}

struct Draw(ChaCha8Rng);

impl Draw {
    fn below(&mut self, bound: u64) -> u64 {
        self.0.next_u64() % bound
    }

    fn value(&mut self) -> i64 {
        self.below(3) as i64
    }
}

/// A random history; outputs are drawn freely, so both verdicts are common.
fn random_history(draw: &mut Draw) -> Vec<RegisterOperation> {
    let count = 1 + draw.below(7) as usize;
    (0..count)
        .map(|index| {
            let input = match draw.below(3) {
                0 => RegisterInput::Read,
                1 => RegisterInput::Write(draw.value()),
                _ => RegisterInput::Cas { from: draw.value(), to: draw.value() },
            };
            let call_us = draw.below(10);
            let outcome = match (draw.below(10), input) {
                (0, _) => Outcome::Failed,
                (1..=3, _) => Outcome::Unknown,
                (4, _) => Outcome::Ok(RegisterOutput::Unobserved),
                (_, RegisterInput::Read) => {
                    let read = match draw.below(4) {
                        0 => None,
                        _ => Some(draw.value()),
                    };
                    Outcome::Ok(RegisterOutput::Read(read))
                }
                (_, RegisterInput::Write(_)) => Outcome::Ok(RegisterOutput::Written),
                (_, RegisterInput::Cas { .. }) => {
                    Outcome::Ok(RegisterOutput::Cas { swapped: draw.below(2) == 0 })
                }
            };
            let return_us = match outcome {
                Outcome::Unknown if draw.below(3) > 0 => None,
                _ => Some(call_us + draw.below(5)),
            };
            Operation {
                id: index as u64,
                client: index as u64,
                key: "r".into(),
                input,
                call_us,
                return_us,
                outcome,
            }
        })
        .collect()
}

#[test]
fn register_checker_agrees_with_brute_force() {
    let mut counts = [0usize; 2];
    for seed in 0..4000u64 {
        let mut draw = Draw(ChaCha8Rng::seed_from_u64(seed));
        let history = random_history(&mut draw);
        let expected = brute_force_linearizable(&history);
        let report = check(&RegisterModel, &history, &CheckOptions::default());
        let expected_verdict =
            if expected { Verdict::Linearizable } else { Verdict::NotLinearizable };
        assert_eq!(report.verdict, expected_verdict, "seed {seed}: {history:#?}");
        counts[usize::from(expected)] += 1;
    }
    println!("register verdicts [refuted, linearizable]: {counts:?}");
    assert!(counts[0] >= 800 && counts[1] >= 800, "{counts:?}");
}
