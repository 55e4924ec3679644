//! Leader election driven by the replicas' own timers (§5.2): randomized election timeouts
//! let one replica of five time out first and win, and the jitter is a pure function of the
//! configured seed, so the same seed gives the same timeouts and another seed others.

mod common;

use std::collections::BTreeMap;

use common::{config, Cluster};
use replica::{Config, DurableState, Input, NodeId, Replica, Role};

/// One-way delay of every replica-to-replica message.
const DELAY_US: u64 = 1_000;

/// Runs `c` by its timers until `end_us`, delivering each message `DELAY_US` after it was
/// sent unless it comes from or goes to a cut replica. Checks election safety (§5.2: at most
/// one leader per term) after every step and returns, for each term that had a leader, who
/// it was.
fn run_until(c: &mut Cluster, end_us: u64) -> BTreeMap<u64, NodeId> {
    let mut queue: Vec<(u64, replica::Message)> = Vec::new();
    let mut leaders = BTreeMap::new();
    loop {
        let (due_us, id) = (0..c.replicas.len() as u16)
            .map(|id| (c.replica(id).next_tick_us(), id))
            .min()
            .expect("replicas");
        let message_due = queue.first().is_some_and(|&(at_us, _)| at_us <= due_us);
        let next_us = if message_due { queue[0].0 } else { due_us };
        if next_us >= end_us {
            return leaders;
        }
        c.now_us = next_us;
        if message_due {
            let (_, message) = queue.remove(0);
            let (src, dst) = (usize::from(message.src.0), usize::from(message.dst.0));
            if !c.cut[src] && !c.cut[dst] {
                c.receive(message);
            }
        } else {
            c.step(id, Input::Tick);
        }
        queue.extend(c.in_flight.drain(..).map(|m| (next_us + DELAY_US, m)));
        for replica in c.replicas.iter().filter(|r| r.role() == Role::Leader) {
            let first = *leaders.entry(replica.term()).or_insert(replica.id());
            assert_eq!(first, replica.id(), "two leaders in term {}", replica.term());
        }
    }
}

#[test]
fn five_replicas_driven_by_ticks_elect_exactly_one_leader() {
    let mut c = Cluster::new(5);
    let first_to_time_out =
        (0..5).min_by_key(|&id| c.replica(id).next_tick_us()).map(NodeId).expect("replicas");
    let leaders = run_until(&mut c, 2_000_000);
    // The first timeout wins at once, and heartbeats keep it leader for two seconds.
    assert_eq!(leaders, BTreeMap::from([(1, first_to_time_out)]));
    for replica in &c.replicas {
        assert_eq!(replica.term(), 1);
        assert_eq!(replica.leader(), first_to_time_out);
        assert_eq!(replica.commit_index(), 1, "the leader's no-op is committed everywhere");
        let role = if replica.id() == first_to_time_out { Role::Leader } else { Role::Follower };
        assert_eq!(replica.role(), role);
    }

    // The same seeds replay the same run.
    let mut again = Cluster::new(5);
    assert_eq!(run_until(&mut again, 2_000_000), leaders);
}

#[test]
fn a_cut_off_leader_steps_down_a_new_one_is_elected_and_the_old_one_rejoins() {
    let mut c = Cluster::new(5);
    let leaders = run_until(&mut c, 1_000_000);
    let old = *leaders.get(&1).expect("a leader in term 1");
    c.cut[usize::from(old.0)] = true;
    let leaders = run_until(&mut c, 3_000_000);
    // Check-quorum made the old leader step down; since then it campaigns in vain.
    assert_ne!(c.replica(old.0).role(), Role::Leader);
    let (&term, &new) = leaders.last_key_value().expect("leaders");
    assert!(term > 1 && new != old, "{leaders:?}");
    // Healed, the old leader's higher term may force one more election (no pre-vote), but
    // its log is behind, so it cannot win; all five settle on one leader of the majority.
    c.cut[usize::from(old.0)] = false;
    let leaders = run_until(&mut c, 5_000_000);
    let (_, &last) = leaders.last_key_value().expect("leaders");
    assert_ne!(last, old);
    for replica in &c.replicas {
        assert_eq!(replica.leader(), last, "replica {:?}", replica.id());
        assert_eq!(replica.commit_index(), c.replica(last.0).commit_index());
    }
}

/// The first `count` election deadlines of a lone replica (its peers never answer).
fn deadlines(config: Config, count: usize) -> Vec<u64> {
    let mut replica = Replica::new(config, DurableState::default(), 0);
    let mut deadlines = Vec::new();
    for _ in 0..count {
        let due_us = replica.next_tick_us();
        deadlines.push(due_us);
        replica.step(due_us, Input::Tick, &mut Vec::new());
    }
    deadlines
}

#[test]
fn election_jitter_is_reproducible_for_a_seed_and_differs_across_seeds() {
    let seeded = |seed| Config { seed, ..config(0, 5) };
    assert_eq!(deadlines(seeded(7), 20), deadlines(seeded(7), 20));
    assert_ne!(deadlines(seeded(7), 20), deadlines(seeded(8), 20));
    // Every timeout lies in [min, max); across 100 seeds the first ones are nearly all apart.
    let mut firsts = Vec::new();
    for seed in 0..100 {
        let sequence = deadlines(seeded(seed), 10);
        let mut previous_us = 0;
        for due_us in sequence {
            assert!((150_000..300_000).contains(&(due_us - previous_us)), "{due_us}");
            previous_us = due_us;
        }
        firsts.push(deadlines(seeded(seed), 1)[0]);
    }
    firsts.sort_unstable();
    firsts.dedup();
    assert!(firsts.len() > 95, "only {} distinct first timeouts", firsts.len());
    // Replicas handed one seed still draw different timeouts.
    let same_seed: Vec<u64> =
        (0..5).map(|id| deadlines(Config { seed: 1, ..config(id, 5) }, 1)[0]).collect();
    let mut distinct = same_seed.clone();
    distinct.sort_unstable();
    distinct.dedup();
    assert_eq!(distinct.len(), 5, "{same_seed:?}");
}
