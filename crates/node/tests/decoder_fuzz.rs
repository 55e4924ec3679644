//! The datagram decoder never panics: thousands of seeded random byte strings, and valid
//! messages with random mutations (flipped, dropped, inserted and swapped bytes, truncation),
//! each either decode to a message that re-encodes and decodes to itself, or are refused.

use node::wire::{decode, encode};
use rand_chacha::rand_core::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use replica::{Body, Command, Entry, Message, NodeId};

const OWN: NodeId = NodeId(1);

fn below(rng: &mut ChaCha8Rng, n: usize) -> usize {
    (rng.next_u64() % n as u64) as usize
}

/// Valid datagrams of every message type, addressed to `OWN`.
fn valid_messages() -> Vec<Vec<u8>> {
    let put =
        Command::Put { client: NodeId(0x15), mid: "M1".into(), key: "k".into(), value: "v".into() };
    let bodies = vec![
        Body::Hello,
        Body::Get { mid: "ABCDEF0123456789".into(), key: "K".repeat(32) },
        Body::Put { mid: "M".into(), key: "K".into(), value: "0123456789abcdef".into() },
        Body::Ok { mid: "M".into(), value: Some("v".into()) },
        Body::Fail { mid: "M".into() },
        Body::Redirect { mid: "M".into() },
        Body::RequestVote { term: 4, last_log_index: 9, last_log_term: 3 },
        Body::RequestVoteResponse { term: 4, vote_granted: true },
        Body::AppendEntries {
            term: 5,
            prev_log_index: 2,
            prev_log_term: 1,
            entries: vec![
                Entry { term: 5, command: put },
                Entry { term: 5, command: Command::Noop },
            ],
            leader_commit: 2,
        },
        Body::AppendEntriesResponse { term: 5, success: false, match_index: 1 },
    ];
    bodies
        .into_iter()
        .map(|body| encode(&Message { src: NodeId(0), dst: OWN, leader: NodeId(0), body }))
        .collect()
}

fn check(bytes: &[u8]) {
    if let Ok(message) = decode(bytes, OWN) {
        let again = decode(&encode(&message), OWN).expect("a decoded message re-decodes");
        assert_eq!(again, message);
    }
}

#[test]
fn arbitrary_bytes_never_panic_the_decoder() {
    let mut rng = ChaCha8Rng::seed_from_u64(0x5EED);
    let alphabet = b"{}[]\":,0123456789abcdefABCDEF-.eE \\u\ntrufalsn";
    for case in 0..20_000 {
        let length = below(&mut rng, 300);
        let bytes: Vec<u8> = if case % 2 == 0 {
            (0..length).map(|_| rng.next_u64() as u8).collect()
        } else {
            // JSON-ish bytes reach deeper into the parser than uniform noise does.
            (0..length).map(|_| alphabet[below(&mut rng, alphabet.len())]).collect()
        };
        check(&bytes);
    }
}

#[test]
fn mutated_valid_messages_never_panic_the_decoder() {
    let mut rng = ChaCha8Rng::seed_from_u64(0xB1A5);
    let valid = valid_messages();
    for bytes in &valid {
        assert!(decode(bytes, OWN).is_ok(), "{}", String::from_utf8_lossy(bytes));
    }
    for _ in 0..20_000 {
        let mut bytes = valid[below(&mut rng, valid.len())].clone();
        for _ in 0..=below(&mut rng, 4) {
            let at = below(&mut rng, bytes.len().max(1));
            match below(&mut rng, 5) {
                0 if !bytes.is_empty() => bytes[at] = rng.next_u64() as u8,
                1 if !bytes.is_empty() => {
                    bytes.remove(at);
                }
                2 => bytes.insert(at.min(bytes.len()), b"{}[]\",:0-9"[below(&mut rng, 10)]),
                3 => bytes.truncate(at),
                _ if bytes.len() > 1 => {
                    let other = below(&mut rng, bytes.len());
                    bytes.swap(at, other);
                }
                _ => {}
            }
        }
        check(&bytes);
    }
}

#[test]
fn deep_nesting_and_huge_numbers_are_refused_not_fatal() {
    check("[".repeat(100_000).as_bytes());
    check("{\"a\":".repeat(20_000).as_bytes());
    check(br#"{"src":"0000","dst":"0001","leader":"0000","type":"request_vote","term":1e400}"#);
    check(br#"{"src":"0000","dst":"0001","leader":"0000","type":"request_vote","term":-1}"#);
    check(format!("\"{}\"", "\\u0000".repeat(10_000)).as_bytes());
}
