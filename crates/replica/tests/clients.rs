//! Client requests: a follower redirects to the leader it knows, or holds the request until
//! it knows one; no request id is answered twice, even when its datagram arrives twice; a put
//! is applied exactly once, even when a retry with the same id reaches a new leader. Requests
//! take effect only through the log and are answered when applied (§8).

mod common;

use common::{get, put, render_log, Cluster};
use replica::Role;

#[test]
fn a_follower_holds_a_request_until_it_knows_a_leader_then_redirects_it_once() {
    let mut c = Cluster::new(3);
    // No leader yet: the request is held, and its duplicate is not held twice.
    assert_eq!(c.receive(get(1, "A", "k")), "");
    assert_eq!(c.receive(get(1, "A", "k")), "");
    c.tick_when_due(0);
    c.deliver(0, 1);
    c.deliver(0, 2);
    c.deliver(1, 0);
    // Voting for 0 is not knowing a leader; the first AppendEntries of term 1 is.
    assert_eq!(
        c.deliver(0, 1),
        "reply 1->15 redirect A leader=0\n\
         persist_entries from=1 [1:noop]\n\
         send 1->0 append_entries_response term=1 ok match=1"
    );
    // A follower that knows the leader redirects at once; a request id seen before is not
    // answered again.
    assert_eq!(c.receive(get(1, "A", "k")), "");
    assert_eq!(c.receive(put(1, "B", "k", "v")), "reply 1->15 redirect B leader=0");
    assert_eq!(c.receive(put(1, "B", "k", "v")), "");
    assert_eq!(c.replies.len(), 2);
}

#[test]
fn a_candidate_that_wins_logs_the_requests_it_held() {
    let mut c = Cluster::new(3);
    assert_eq!(c.receive(put(0, "A", "k", "v")), "");
    c.tick_when_due(0);
    c.deliver(0, 1);
    assert_eq!(
        c.deliver(1, 0),
        "persist_entries from=1 [1:noop]\n\
         send 0->1 append_entries term=1 prev=0/0 [1:noop] commit=0\n\
         send 0->2 append_entries term=1 prev=0/0 [1:noop] commit=0\n\
         persist_entries from=2 [1:put(A k=v)]"
    );
    c.in_flight.retain(|m| m.dst.0 == 1 || m.src.0 == 1);
    assert_eq!(
        c.deliver(0, 1),
        "persist_entries from=1 [1:noop]\n\
         send 1->0 append_entries_response term=1 ok match=1"
    );
    assert_eq!(c.deliver(1, 0), "send 0->1 append_entries term=1 prev=1/1 [1:put(A k=v)] commit=1");
    c.deliver(0, 1);
    assert_eq!(c.deliver(1, 0), "reply 0->15 ok A leader=0");
}

#[test]
fn a_put_arriving_twice_at_the_leader_is_logged_applied_and_answered_once() {
    let mut c = Cluster::new(3);
    c.elect(0);
    assert_eq!(
        c.receive(put(0, "A", "k", "v")),
        "persist_entries from=2 [1:put(A k=v)]\n\
         send 0->1 append_entries term=1 prev=1/1 [1:put(A k=v)] commit=1\n\
         send 0->2 append_entries term=1 prev=1/1 [1:put(A k=v)] commit=1"
    );
    assert_eq!(c.receive(put(0, "A", "k", "v")), "", "pending: neither logged nor answered");
    c.deliver_all();
    assert_eq!(c.receive(put(0, "A", "k", "v")), "", "answered already");
    assert_eq!(render_log(c.replica(0)), "[1:noop 1:put(A k=v)]");
    let answers: Vec<String> = c.replies.iter().map(|m| format!("{:?}", m.body)).collect();
    assert_eq!(answers, [r#"Ok { mid: "A", value: None }"#]);
}

#[test]
fn a_put_retried_under_the_same_id_at_a_new_leader_takes_effect_once() {
    let mut c = Cluster::new(3);
    c.elect(0);
    // A reaches replica 1's log, but the answer is lost and replica 0 dies uncommitted.
    c.receive(put(0, "A", "k", "first"));
    c.drop_messages(0, 2);
    c.deliver(0, 1);
    c.in_flight.clear();
    c.cut[0] = true;
    c.elect(1);
    // Replica 1 commits A with its no-op; then B overwrites k; then the retry of A arrives.
    c.receive(put(1, "B", "k", "second"));
    c.deliver_all();
    assert_eq!(c.replica(1).state_machine().get("k"), "second");
    // A was already applied at index 2: replica 1 answers at once and logs nothing.
    assert_eq!(c.receive(put(1, "A", "k", "first")), "reply 1->15 ok A leader=1");
    assert_eq!(render_log(c.replica(1)), "[1:noop 1:put(A k=first) 2:noop 2:put(B k=second)]");
    assert_eq!(c.replica(1).state_machine().get("k"), "second");
}

#[test]
fn a_put_retried_before_its_first_entry_is_applied_is_logged_again_but_applied_once() {
    let mut c = Cluster::new(3);
    c.elect(0);
    c.receive(put(0, "A", "k", "first"));
    c.drop_messages(0, 2);
    c.deliver(0, 1);
    c.in_flight.clear();
    c.cut[0] = true;
    // Replica 1 wins term 2 but has not committed A yet when B and the retry of A arrive.
    c.tick_when_due(1);
    c.deliver(1, 2);
    c.deliver(2, 1);
    assert_eq!(c.replica(1).role(), Role::Leader);
    c.receive(put(1, "B", "k", "second"));
    c.receive(put(1, "A", "k", "first"));
    c.deliver_all();
    assert_eq!(
        render_log(c.replica(1)),
        "[1:noop 1:put(A k=first) 2:noop 2:put(B k=second) 2:put(A k=first)]"
    );
    // The second A entry is skipped by the state machine: B's value stands.
    assert_eq!(c.replica(1).state_machine().get("k"), "second");
    // The follower learns the commit index from the next heartbeat and applies the same.
    c.tick_when_due(1);
    c.deliver_all();
    assert_eq!(c.replica(2).last_applied(), 5);
    assert_eq!(c.replica(2).state_machine().get("k"), "second");
    let answers: Vec<String> = c.replies.iter().map(|m| format!("{:?}", m.body)).collect();
    assert_eq!(answers, [r#"Ok { mid: "B", value: None }"#, r#"Ok { mid: "A", value: None }"#]);
}

#[test]
fn a_request_at_an_index_reused_by_a_later_term_of_the_same_leader_is_still_answered() {
    // Regression: pending requests were keyed by index alone, so a replica that led, lost
    // its tail and led again overwrote the older request logged at a reused index; that one
    // was never answered. Both are answered when the index is applied (§5.3: an entry is
    // known by index and term).
    let mut c = Cluster::new(3);
    c.elect(0);
    c.cut[0] = true;
    for mid in ["M", "N", "O"] {
        c.receive(put(0, mid, "k", "old"));
    }
    c.in_flight.clear();
    // Replica 1 leads term 2; its heartbeat replaces 0's tail with its no-op and commits it.
    c.elect(1);
    c.cut[0] = false;
    c.tick_when_due(1);
    c.drop_messages(1, 2);
    assert_eq!(
        c.deliver(1, 0),
        "persist_state term=2 vote=none\n\
         persist_entries from=2 [2:noop]\n\
         reply 0->15 fail M leader=1\n\
         send 0->1 append_entries_response term=2 ok match=2"
    );
    // Replica 1 is lost; 0 leads term 3 and logs R at index 4, where O (term 1) once was.
    c.cut[1] = true;
    c.in_flight.clear();
    c.tick_when_due(0);
    c.deliver(0, 2);
    c.deliver(2, 0);
    assert_eq!(c.replica(0).role(), Role::Leader);
    c.receive(put(0, "R", "k", "r"));
    c.drop_messages(0, 1);
    assert_eq!(render_log(c.replica(0)), "[1:noop 2:noop 3:noop 3:put(R k=r)]");
    c.deliver(0, 2);
    assert_eq!(
        c.deliver(2, 0),
        "reply 0->15 fail N leader=0\n\
         send 0->2 append_entries term=3 prev=3/3 [3:put(R k=r)] commit=3"
    );
    c.deliver(0, 2);
    assert_eq!(c.deliver(2, 0), "reply 0->15 fail O leader=0\nreply 0->15 ok R leader=0");
}

#[test]
fn a_one_replica_cluster_answers_as_soon_as_it_logs() {
    // Regression: the request was registered as pending after its append had already
    // committed and applied it, so a lone replica never answered.
    let mut c = Cluster::new(1);
    assert_eq!(c.tick_when_due(0), "persist_state term=1 vote=0\npersist_entries from=1 [1:noop]");
    assert_eq!(
        c.receive(put(0, "A", "k", "v")),
        "persist_entries from=2 [1:put(A k=v)]\nreply 0->15 ok A leader=0"
    );
    assert_eq!(
        c.receive(get(0, "B", "k")),
        "persist_entries from=3 [1:get(B k)]\nreply 0->15 ok B value=\"v\" leader=0"
    );
}
