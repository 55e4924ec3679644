//! The opt-in settings for real deployments: a read lease answers gets without a log round
//! only while no other leader can exist, replicas that heard from a live leader ignore
//! RequestVote, a lost AppendEntries to an answering follower is resent quickly, and a
//! leader that cannot commit holds new requests instead of logging them, and a follower
//! whose leader went silent holds requests instead of redirecting them to it.

mod common;

use common::{get, put, Cluster};
use replica::{Body, Config, DurableState, Message, NodeId, Role};

/// The settings under test: lease 100 ms, elections after 150 to 300 ms.
fn leased(config: &mut Config) {
    config.read_lease_us = 100_000;
    config.retransmit_interval_us = 5_000;
    config.stalled_hold_us = 20_000;
    config.silent_leader_hold_us = 100_000;
}

fn cluster() -> Cluster {
    Cluster::with(3, |_| DurableState::default(), leased)
}

#[test]
fn a_leader_answers_gets_from_its_lease_and_through_the_log_once_it_lapses() {
    let mut c = cluster();
    c.elect(0);
    c.receive(put(0, "A", "k", "1"));
    c.deliver_all();
    assert_eq!(c.replies.len(), 1, "A is acknowledged");
    // The put's entry reached a majority just now: the get is answered at once, no sends.
    assert_eq!(c.receive(get(0, "B", "k")), "reply 0->15 ok B value=\"1\" leader=0");
    // Past the lease, the get goes through the log again.
    c.now_us += 100_000;
    let logged = c.receive(get(0, "C", "k"));
    assert!(logged.starts_with("persist_entries"), "{logged}");
    c.deliver_all();
    assert_eq!(c.replies.last().unwrap().body.mid(), Some("C"));
}

#[test]
fn a_follower_that_heard_from_its_leader_ignores_request_vote() {
    let mut c = cluster();
    c.elect(0);
    // Replica 2 campaigns with a log as good as any; replica 1 heard from 0 just now and
    // ignores it, keeping its term, so the lease of 0 cannot overlap a new leader.
    let term = c.replica(1).term();
    let last_log_index = c.replica(1).log().len() as u64;
    let body = Body::RequestVote { term: term + 1, last_log_index, last_log_term: term };
    let vote = Message { src: NodeId(2), dst: NodeId(1), leader: NodeId::UNKNOWN, body };
    assert_eq!(c.receive(vote.clone()), "");
    assert_eq!(c.replica(1).term(), term);
    // A minimum election timeout after it last heard from 0, it votes again.
    c.now_us += 150_000;
    assert!(c.receive(vote).ends_with("granted"));
}

#[test]
fn a_lost_append_entries_to_an_answering_follower_is_resent_after_the_retransmit_interval() {
    let mut c = cluster();
    c.elect(0);
    c.receive(put(0, "A", "k", "1"));
    c.drop_messages(0, 1);
    c.drop_messages(0, 2);
    // 5 ms later, not a heartbeat interval later, the put goes out again.
    assert_eq!(c.replica(0).next_tick_us(), c.now_us + 5_000);
    let resent = c.tick_when_due(0);
    assert_eq!(resent.lines().count(), 2, "{resent}");
    c.deliver_all();
    assert_eq!(c.replies.len(), 1, "A is acknowledged");
}

#[test]
fn a_stalled_leader_holds_new_requests_and_they_are_redirected_to_the_next_leader() {
    let mut c = cluster();
    c.elect(0);
    c.cut[0] = true;
    c.receive(put(0, "A", "k", "1"));
    c.in_flight.clear();
    c.now_us += 20_000;
    // A has waited 20 ms uncommitted: B is held, not logged.
    assert_eq!(c.receive(put(0, "B", "k", "2")), "");
    assert_eq!(c.replica(0).log().len(), 2, "only the no-op and A");
    // 0 steps down; 1 wins; once 0 hears from it, B is redirected there.
    while c.replica(0).role() == Role::Leader {
        c.tick_when_due(0);
        c.in_flight.clear();
    }
    assert_eq!(c.replica(0).role(), Role::Follower);
    c.tick_when_due(1);
    c.deliver_all();
    c.cut[0] = false;
    c.tick_when_due(1);
    let healed = c.deliver(1, 0);
    assert!(healed.contains("reply 0->15 redirect B leader=1"), "{healed}");
}

#[test]
fn a_follower_whose_leader_went_silent_holds_requests_until_it_hears_from_a_leader() {
    let mut c = cluster();
    c.elect(0);
    assert_eq!(c.receive(get(1, "A", "k")), "reply 1->15 redirect A leader=0");
    // 100 ms without a word from 0: the next request is held, not sent to 0.
    c.now_us += 100_000;
    assert_eq!(c.receive(get(1, "B", "k")), "");
    // The next AppendEntries from the leader releases it.
    c.tick(0);
    let heard = c.deliver(0, 1);
    assert!(heard.starts_with("reply 1->15 redirect B leader=0"), "{heard}");
}

#[test]
fn a_new_entry_goes_at_once_only_to_the_followers_a_majority_needs() {
    let mut c = Cluster::with(5, |_| DurableState::default(), |config| config.eager_followers = 1);
    c.elect(0);
    // One eager follower is raised to the two that make a majority with the leader.
    let sent = c.receive(put(0, "A", "k", "1"));
    assert_eq!(sent.lines().filter(|line| line.starts_with("send")).count(), 2, "{sent}");
    c.deliver_all();
    assert_eq!(c.replies.len(), 1, "A is acknowledged by a majority");
}
