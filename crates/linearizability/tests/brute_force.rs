//! The checker agrees with a brute-force twin on thousands of small random histories.
//!
//! The twin shares no code with the checker: it enumerates every subset of the unknown-outcome
//! operations and every order of the chosen operations that respects real time, and runs them
//! against one map holding all keys (so it also tests that checking keys apart is sound). The
//! histories are up to 7 operations over 1 or 2 keys, with ties in time, failed operations and
//! unknown outcomes, drawn from fixed seeds.

use std::collections::BTreeMap;

use linearizability::{check_kv, Budget, KvInput, KvOperation, Outcome, Verdict};
use rand_chacha::rand_core::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// True if some subset of the unknown operations, with all the ok ones, has an order that
/// respects real time and explains every read.
fn brute_force_linearizable(history: &[KvOperation]) -> bool {
    let candidates: Vec<&KvOperation> =
        history.iter().filter(|operation| operation.outcome != Outcome::Failed).collect();
    let unknown: Vec<usize> = (0..candidates.len())
        .filter(|&index| candidates[index].outcome == Outcome::Unknown)
        .collect();
    (0..1u32 << unknown.len()).any(|mask| {
        let chosen: Vec<&KvOperation> = (0..candidates.len())
            .filter(|index| match unknown.iter().position(|u| u == index) {
                Some(bit) => mask & (1 << bit) != 0,
                None => true,
            })
            .map(|index| candidates[index])
            .collect();
        let mut placed = vec![false; chosen.len()];
        some_order_explains(&chosen, &mut placed, &mut BTreeMap::new())
    })
}

/// Depth-first over orders: the next operation must not be preceded (in real time) by any
/// operation not yet placed, and must be legal in the current map.
fn some_order_explains(
    chosen: &[&KvOperation],
    placed: &mut [bool],
    map: &mut BTreeMap<String, String>,
) -> bool {
    if placed.iter().all(|&done| done) {
        return true;
    }
    for next in 0..chosen.len() {
        if placed[next] {
            continue;
        }
        let blocked = (0..chosen.len()).any(|other| {
            !placed[other]
                && other != next
                && chosen[other].return_us.is_some_and(|return_us| return_us < chosen[next].call_us)
        });
        if blocked {
            continue;
        }
        let operation = chosen[next];
        let before = map.get(&operation.key).cloned().unwrap_or_default();
        let after = match (&operation.input, &operation.outcome) {
            (KvInput::Get, Outcome::Ok(read)) if *read != before => continue,
            (KvInput::Get, _) => before.clone(),
            (KvInput::Put(value), _) => value.clone(),
            (KvInput::Append(suffix), _) => format!("{before}{suffix}"),
        };
        map.insert(operation.key.clone(), after);
        placed[next] = true;
        if some_order_explains(chosen, placed, map) {
            return true;
        }
        placed[next] = false;
        map.insert(operation.key.clone(), before);
    }
    false
}

/// A random number source with the few helpers the generators need.
struct Draw(ChaCha8Rng);

impl Draw {
    fn below(&mut self, bound: u64) -> u64 {
        self.0.next_u64() % bound
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len() as u64) as usize]
    }
}

const KEYS: [&str; 2] = ["k1", "k2"];
const VALUES: [&str; 3] = ["a", "b", "ab"];

fn random_input(draw: &mut Draw) -> KvInput {
    match draw.below(3) {
        0 => KvInput::Get,
        1 => KvInput::Put(draw.pick(&VALUES).to_string()),
        _ => KvInput::Append(draw.pick(&["a", "b"]).to_string()),
    }
}

/// A history that is linearizable by construction: operations take effect one by one at
/// random points of a coarse clock (so ties are common), and each gets an interval around its
/// point. About `unknown_percent` of them are then hidden behind unknown outcomes, and some
/// that are said never to have taken effect are marked failed or unknown.
fn linearizable_history(draw: &mut Draw, keys: usize, unknown_percent: u64) -> Vec<KvOperation> {
    let count = 1 + draw.below(7) as usize;
    let mut map: BTreeMap<&str, String> = BTreeMap::new();
    let mut points: Vec<u64> = (0..count).map(|_| draw.below(12)).collect();
    points.sort_unstable();
    let mut history = Vec::new();
    for (index, &point_us) in points.iter().enumerate() {
        let key = KEYS[draw.below(keys as u64) as usize];
        let input = random_input(draw);
        let call_us = point_us.saturating_sub(draw.below(4));
        let return_us = point_us + draw.below(4);
        let took_effect = !draw.chance(15);
        let value = map.entry(key).or_default();
        let read = value.clone();
        if took_effect {
            match &input {
                KvInput::Get => {}
                KvInput::Put(new) => *value = new.clone(),
                KvInput::Append(suffix) => value.push_str(suffix),
            }
        }
        let outcome = match (took_effect, &input) {
            (true, KvInput::Get) => Outcome::Ok(read),
            (true, _) => Outcome::Ok(String::new()),
            (false, _) if draw.chance(50) => Outcome::Failed,
            (false, _) => Outcome::Unknown,
        };
        let outcome = if draw.chance(unknown_percent) { Outcome::Unknown } else { outcome };
        let return_us = match outcome {
            Outcome::Unknown if draw.chance(60) => None,
            _ => Some(return_us),
        };
        history.push(KvOperation {
            id: index as u64,
            client: draw.below(3),
            key: key.to_string(),
            input,
            call_us,
            return_us,
            outcome,
        });
    }
    history
}

/// Small damage to a linearizable history: a read returns something else, a failed write is
/// said to have succeeded, or an interval moves.
fn perturb(draw: &mut Draw, history: &mut [KvOperation]) {
    let index = draw.below(history.len() as u64) as usize;
    let operation = &mut history[index];
    match draw.below(3) {
        0 => {
            operation.input = KvInput::Get;
            operation.outcome = Outcome::Ok(draw.pick(&["", "a", "b", "ab", "ba", "aa"]).into());
            operation.return_us = Some(operation.call_us + draw.below(3));
        }
        1 => {
            operation.outcome = Outcome::Ok(String::new());
            operation.return_us = Some(operation.call_us + draw.below(3));
        }
        _ => {
            let shift = draw.below(8);
            operation.call_us += shift;
            operation.return_us = operation.return_us.map(|return_us| return_us + shift);
        }
    }
}

/// A history with no structure at all.
fn random_history(draw: &mut Draw, keys: usize) -> Vec<KvOperation> {
    let count = 1 + draw.below(7) as usize;
    (0..count)
        .map(|index| {
            let input = random_input(draw);
            let call_us = draw.below(10);
            let outcome = match draw.below(10) {
                0 => Outcome::Failed,
                1 | 2 => Outcome::Unknown,
                _ if input == KvInput::Get => Outcome::Ok(draw.pick(&["", "a", "b", "ab"]).into()),
                _ => Outcome::Ok(String::new()),
            };
            let return_us = match outcome {
                Outcome::Unknown if draw.chance(50) => None,
                // Ok but never returned: must take effect, at any point after the call.
                Outcome::Ok(_) if draw.chance(5) => None,
                _ => Some(call_us + draw.below(5)),
            };
            KvOperation {
                id: 100 + index as u64,
                client: index as u64,
                key: KEYS[draw.below(keys as u64) as usize].to_string(),
                input,
                call_us,
                return_us,
                outcome,
            }
        })
        .collect()
}

#[test]
fn checker_agrees_with_brute_force() {
    let mut verdicts: BTreeMap<&str, [usize; 2]> = BTreeMap::new();
    for seed in 0..4000u64 {
        let mut draw = Draw(ChaCha8Rng::seed_from_u64(seed));
        let keys = 1 + (seed % 2) as usize;
        let (family, history) = match seed % 4 {
            0 => ("constructed", linearizable_history(&mut draw, keys, 15)),
            1 => ("constructed", linearizable_history(&mut draw, keys, 50)),
            2 => {
                let mut history = linearizable_history(&mut draw, keys, 20);
                perturb(&mut draw, &mut history);
                ("perturbed", history)
            }
            _ => ("random", random_history(&mut draw, keys)),
        };
        let expected = brute_force_linearizable(&history);
        let report = check_kv(&history, &Budget::default());
        let expected_verdict =
            if expected { Verdict::Linearizable } else { Verdict::NotLinearizable };
        assert_eq!(report.verdict, expected_verdict, "seed {seed} ({family}): {history:#?}");
        if family == "constructed" {
            assert!(expected, "seed {seed}: a constructed history must be linearizable");
        }
        verdicts.entry(family).or_default()[usize::from(expected)] += 1;
    }
    println!("verdicts by family, [refuted, linearizable]: {verdicts:?}");
    // Both verdicts must be common, or agreement would prove little.
    let [refuted, passed] =
        verdicts.values().fold([0, 0], |sum, counts| [sum[0] + counts[0], sum[1] + counts[1]]);
    assert!(refuted >= 600 && passed >= 600, "verdicts by family: {verdicts:?}");
    assert!(verdicts["perturbed"][0] >= 200, "verdicts by family: {verdicts:?}");
    assert!(verdicts["random"][1] >= 200, "verdicts by family: {verdicts:?}");
}

#[test]
fn brute_force_twin_sees_the_basic_cases() {
    let operation = |id, input, call_us, return_us, outcome| KvOperation {
        id,
        client: id,
        key: "k".into(),
        input,
        call_us,
        return_us,
        outcome,
    };
    let put_a = operation(1, KvInput::Put("a".into()), 0, Some(10), Outcome::Ok(String::new()));
    let stale = operation(2, KvInput::Get, 11, Some(12), Outcome::Ok(String::new()));
    let tied = operation(2, KvInput::Get, 10, Some(12), Outcome::Ok(String::new()));
    assert!(!brute_force_linearizable(&[put_a.clone(), stale]));
    assert!(brute_force_linearizable(&[put_a, tied]));
}
