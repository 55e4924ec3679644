//! A deposed leader never serves a stale read. Gets go through the log (§8: a leader must
//! not answer a read from its own state without checking it is still leader), so a leader
//! cut off from the majority cannot answer a get until the get's index is applied; if the
//! new leader committed another entry there, the answer is `fail`, never the old value. Cut
//! off for an election timeout, it steps down (check-quorum) and holds new requests.

mod common;

use common::{get, put, Cluster};
use replica::Role;

#[test]
fn a_leader_cut_off_from_the_majority_answers_a_get_fail_not_the_old_value() {
    let mut c = Cluster::new(3);
    c.elect(0);
    c.receive(put(0, "A", "k", "old"));
    c.deliver_all();
    assert_eq!(c.replies.len(), 1, "A is acknowledged");

    // Replica 0 is cut off; 1 and 2 elect 1 in term 2, which commits k=new.
    c.cut[0] = true;
    c.tick_when_due(1);
    c.deliver_all();
    assert_eq!(c.replica(1).role(), Role::Leader);
    c.receive(put(1, "B", "k", "new"));
    c.deliver_all();
    assert_eq!(c.replica(1).commit_index(), 4);
    assert_eq!(c.replies.len(), 2, "B is acknowledged");

    // Replica 0 still believes it leads term 1. It logs the get; it does not answer it.
    assert_eq!(c.replica(0).role(), Role::Leader);
    assert_eq!(
        c.receive(get(0, "C", "k")),
        "persist_entries from=3 [1:get(C k)]\n\
         send 0->1 append_entries term=1 prev=2/1 [1:get(C k)] commit=2\n\
         send 0->2 append_entries term=1 prev=2/1 [1:get(C k)] commit=2"
    );
    c.in_flight.clear();

    // More than an election timeout without hearing from a majority: it steps down, and a
    // new request is held, since it knows no leader.
    assert_eq!(c.tick_when_due(0), "");
    assert_eq!(c.replica(0).role(), Role::Follower);
    assert_eq!(c.receive(get(0, "D", "k")), "");

    // The partition heals. The new leader's heartbeat replaces index 3 with its own no-op:
    // the get can never take effect, so it is answered fail; D is redirected to the leader.
    c.cut[0] = false;
    assert_eq!(
        c.tick_when_due(1),
        "send 1->0 append_entries term=2 prev=2/1 [2:noop 2:put(B k=new)] commit=4\n\
         send 1->2 append_entries term=2 prev=4/2 [] commit=4"
    );
    assert_eq!(
        c.deliver(1, 0),
        "persist_state term=2 vote=none\n\
         reply 0->15 redirect D leader=1\n\
         persist_entries from=3 [2:noop 2:put(B k=new)]\n\
         reply 0->15 fail C leader=1\n\
         send 0->1 append_entries_response term=2 ok match=4"
    );
    assert_eq!(c.replica(0).state_machine().get("k"), "new");
}

#[test]
fn a_leader_steps_down_exactly_one_election_timeout_after_last_hearing_from_a_majority() {
    let mut c = Cluster::new(3);
    c.elect(0);
    let heard_us = c.now_us;
    c.cut[0] = true;
    // Heartbeats go out every 50 ms and are lost; at 150 ms (the minimum election timeout)
    // the leader gives up, even though its term has not changed.
    for at_ms in [50, 100] {
        assert_eq!(
            c.tick_when_due(0),
            "send 0->1 append_entries term=1 prev=1/1 [] commit=1\n\
             send 0->2 append_entries term=1 prev=1/1 [] commit=1"
        );
        assert_eq!(c.now_us, heard_us + at_ms * 1000);
        c.in_flight.clear();
    }
    assert_eq!(c.tick_when_due(0), "");
    assert_eq!(c.now_us, heard_us + 150_000);
    assert_eq!(c.replica(0).role(), Role::Follower);
    assert_eq!(c.replica(0).term(), 1);
}
