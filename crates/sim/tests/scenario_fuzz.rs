//! The scenario parser never panics. Feeds it seeded random bytes, random JSON values, and
//! mutations of every shipped scenario (bytes flipped, dropped, duplicated; fields renamed,
//! retyped, set out of range), and checks that each input either parses and validates or
//! is refused with an error that names the file — never a panic.

use std::path::Path;

use rand_chacha::rand_core::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::Value;
use sim::Scenario;

fn parse_without_panic(text: &str) -> bool {
    let outcome = std::panic::catch_unwind(|| Scenario::parse(text, Path::new("fuzz.json")));
    match outcome {
        Ok(Ok(_)) => true,
        Ok(Err(error)) => {
            let message = error.to_string();
            assert!(message.starts_with("fuzz.json"), "an error names the file: {message}");
            false
        }
        Err(_) => panic!("the parser panicked on:\n{text}"),
    }
}

fn seeds() -> Vec<String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scenarios");
    let mut texts = Vec::new();
    for dir in [root.clone(), root.join("regressions")] {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|ext| ext == "json") {
                texts.push(std::fs::read_to_string(path).unwrap());
            }
        }
    }
    texts.sort();
    assert!(texts.len() >= 4);
    texts
}

fn random_value(rng: &mut ChaCha8Rng, depth: u32) -> Value {
    match rng.next_u32() % if depth > 3 { 5 } else { 7 } {
        0 => Value::Null,
        1 => Value::Bool(rng.next_u32().is_multiple_of(2)),
        2 => Value::from(rng.next_u64() as i64),
        3 => Value::from(f64::from(rng.next_u32()) / 1000.0 - 1000.0),
        4 => Value::from(
            ["", "kill_leader", "part_end", "uniform", "x"][rng.next_u32() as usize % 5],
        ),
        5 => Value::Array((0..rng.next_u32() % 4).map(|_| random_value(rng, depth + 1)).collect()),
        _ => {
            let keys = [
                "lifetime", "replicas", "requests", "events", "type", "time", "drops", "network",
                "timing", "mix", "tests", "crash", "target", "duration", "swarm",
            ];
            let mut object = serde_json::Map::new();
            for _ in 0..rng.next_u32() % 5 {
                let key = keys[rng.next_u32() as usize % keys.len()];
                object.insert(key.to_owned(), random_value(rng, depth + 1));
            }
            Value::Object(object)
        }
    }
}

/// Replaces one randomly chosen value somewhere in `value` by a random one.
fn mutate(value: &mut Value, rng: &mut ChaCha8Rng) {
    match value {
        Value::Object(object) if !object.is_empty() && !rng.next_u32().is_multiple_of(4) => {
            let index = rng.next_u32() as usize % object.len();
            let key = object.keys().nth(index).unwrap().clone();
            mutate(object.get_mut(&key).unwrap(), rng);
        }
        Value::Array(array) if !array.is_empty() && !rng.next_u32().is_multiple_of(4) => {
            let index = rng.next_u32() as usize % array.len();
            mutate(&mut array[index], rng);
        }
        other => *other = random_value(rng, 0),
    }
}

#[test]
fn random_bytes_never_panic_the_parser() {
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    for _ in 0..5_000 {
        let len = rng.next_u32() as usize % 200;
        let bytes: Vec<u8> = (0..len).map(|_| (rng.next_u32() % 256) as u8).collect();
        parse_without_panic(&String::from_utf8_lossy(&bytes));
    }
}

#[test]
fn mutated_scenarios_never_panic_the_parser() {
    let mut rng = ChaCha8Rng::seed_from_u64(2);
    let mut accepted = 0;
    let mut refused = 0;
    for text in seeds() {
        let original: Value = serde_json::from_str(&text).unwrap();
        for _ in 0..400 {
            let mut value = original.clone();
            for _ in 0..1 + rng.next_u32() % 3 {
                mutate(&mut value, &mut rng);
            }
            if parse_without_panic(&value.to_string()) {
                accepted += 1;
            } else {
                refused += 1;
            }
        }
        // Byte-level damage: flip, drop or duplicate a byte of the original text.
        for _ in 0..200 {
            let mut bytes = text.clone().into_bytes();
            let at = rng.next_u32() as usize % bytes.len();
            match rng.next_u32() % 3 {
                0 => bytes[at] ^= 1 << (rng.next_u32() % 8),
                1 => {
                    bytes.remove(at);
                }
                _ => bytes.insert(at, bytes[at]),
            }
            parse_without_panic(&String::from_utf8_lossy(&bytes));
        }
    }
    assert!(accepted > 100 && refused > 100, "both outcomes occur: {accepted} / {refused}");
}
