//! The AppendEntries receiver (Figure 2, receiver rules 1-5; §5.3) under a network that
//! delays, duplicates and reorders: the consistency check, conflict truncation of
//! uncommitted entries only, commit = min(leader commit, last new entry), no truncation of
//! entries that match, and no panic on a malformed request. Also the leader's side: a stale
//! success response never moves next_index back.

mod common;

use common::{append_entries, durable, noop, put, put_entry, render_log, Cluster};
use replica::{Body, Message, NodeId};

/// A 3-replica cluster in which replica 1 restarts at `term` holding `log`.
fn follower_with(term: u64, log: Vec<replica::Entry>) -> Cluster {
    Cluster::with(3, |id| durable(term, if id == 1 { log.clone() } else { vec![] }), |_| {})
}

#[test]
fn follower_commit_is_the_leader_commit_capped_at_the_last_entry_verified() {
    // Replica 1 holds three term-1 entries; only index 1 is known to match the leader.
    let log = vec![noop(1), put_entry(1, "A", "k", "a"), put_entry(1, "B", "k", "b")];
    let mut c = follower_with(1, log);
    // A heartbeat verifies index 1 only: commit 1, not 3, though the leader committed 3.
    assert_eq!(
        c.receive(append_entries(0, 1, 2, (1, 1), vec![], 3)),
        "persist_state term=2 vote=none\n\
         send 1->0 append_entries_response term=2 ok match=1"
    );
    assert_eq!(c.replica(1).commit_index(), 1);
    assert_eq!(c.replica(1).state_machine().get("k"), "", "put A is not applied");
    // The leader's index 2 differs: the uncommitted tail is replaced, then committed.
    assert_eq!(
        c.receive(append_entries(0, 1, 2, (1, 1), vec![put_entry(2, "C", "k", "c")], 3)),
        "persist_entries from=2 [2:put(C k=c)]\n\
         send 1->0 append_entries_response term=2 ok match=2"
    );
    assert_eq!(c.replica(1).commit_index(), 2);
    assert_eq!(render_log(c.replica(1)), "[1:noop 2:put(C k=c)]");
    assert_eq!(c.replica(1).state_machine().get("k"), "c");
}

#[test]
fn a_conflicting_uncommitted_suffix_is_truncated_after_a_refusal_that_skips_its_term() {
    let log = vec![noop(1), noop(2), noop(2), noop(2)];
    let mut c = follower_with(2, log);
    assert_eq!(
        c.receive(append_entries(0, 1, 3, (1, 1), vec![], 1)),
        "persist_state term=3 vote=none\n\
         send 1->0 append_entries_response term=3 ok match=1"
    );
    // The leader (term 3) holds [1:noop 3:noop 3:put]; it first probes at index 3.
    // Index 3 conflicts (term 2): the hint skips all of term 2, down to the commit index.
    assert_eq!(
        c.receive(append_entries(0, 1, 3, (3, 3), vec![put_entry(3, "A", "k", "v")], 1)),
        "send 1->0 append_entries_response term=3 refused hint=1"
    );
    assert_eq!(
        c.receive(append_entries(0, 1, 3, (1, 1), vec![noop(3), put_entry(3, "A", "k", "v")], 1)),
        "persist_entries from=2 [3:noop 3:put(A k=v)]\n\
         send 1->0 append_entries_response term=3 ok match=3"
    );
    assert_eq!(render_log(c.replica(1)), "[1:noop 3:noop 3:put(A k=v)]");
}

#[test]
fn a_late_duplicate_append_entries_never_truncates_matching_entries() {
    let mut c = follower_with(1, vec![noop(1)]);
    let first = append_entries(0, 1, 1, (1, 1), vec![put_entry(1, "A", "k", "a")], 1);
    let second = append_entries(
        0,
        1,
        1,
        (1, 1),
        vec![put_entry(1, "A", "k", "a"), put_entry(1, "B", "k", "b")],
        1,
    );
    assert_eq!(
        c.receive(second),
        "persist_entries from=2 [1:put(A k=a) 1:put(B k=b)]\n\
         send 1->0 append_entries_response term=1 ok match=3"
    );
    // The older request arrives late: every entry it carries is present, so nothing is
    // written, B survives, and the answer vouches only for what this request covered.
    assert_eq!(c.receive(first.clone()), "send 1->0 append_entries_response term=1 ok match=2");
    assert_eq!(c.receive(first), "send 1->0 append_entries_response term=1 ok match=2");
    assert_eq!(render_log(c.replica(1)), "[1:noop 1:put(A k=a) 1:put(B k=b)]");
}

#[test]
fn malformed_append_entries_are_refused_or_ignored_without_panicking() {
    let mut c = follower_with(1, vec![noop(1), put_entry(1, "A", "k", "a")]);
    c.receive(append_entries(0, 1, 1, (2, 1), vec![], 2));
    assert_eq!(c.replica(1).commit_index(), 2);
    // prev_log_index far past the log: refused with a hint at our last index.
    assert_eq!(
        c.receive(append_entries(0, 1, 1, (u64::MAX, 1), vec![noop(1)], u64::MAX)),
        "send 1->0 append_entries_response term=1 refused hint=2"
    );
    // Index 0 has term 0 in every log; a request claiming otherwise is refused.
    assert_eq!(
        c.receive(append_entries(0, 1, 1, (0, 7), vec![], 0)),
        "send 1->0 append_entries_response term=1 refused hint=0"
    );
    // Entries that contradict the committed index 2 are ignored: no write, no answer (the
    // higher term itself is still adopted, as from any message).
    assert_eq!(
        c.receive(append_entries(0, 1, 2, (1, 1), vec![put_entry(2, "X", "k", "x")], 2)),
        "persist_state term=2 vote=none"
    );
    assert_eq!(render_log(c.replica(1)), "[1:noop 1:put(A k=a)]");
    assert_eq!(c.replica(1).state_machine().get("k"), "a");
}

#[test]
fn malformed_append_entries_responses_are_ignored_or_clamped_without_panicking() {
    let mut c = Cluster::new(3);
    c.elect(0);
    let response = |success, match_index| Message {
        src: NodeId(1),
        dst: NodeId(0),
        leader: NodeId(0),
        body: Body::AppendEntriesResponse { term: 1, success, match_index },
    };
    // A success for entries the leader never had is not an answer to anything it sent.
    assert_eq!(c.receive(response(true, 99)), "");
    assert_eq!(c.replica(0).commit_index(), 1);
    // A refusal hint past the log is clamped: the leader retries from its own end.
    assert_eq!(
        c.receive(response(false, u64::MAX)),
        "send 0->1 append_entries term=1 prev=1/1 [] commit=1"
    );
}

#[test]
fn a_stale_success_response_does_not_move_next_index_back() {
    let mut c = Cluster::new(3);
    c.elect(0);
    // Replica 2 is away; the leader keeps sending to it, and those messages are lost.
    c.cut[2] = true;
    c.receive(put(0, "A", "k", "a"));
    c.receive(put(0, "B", "k", "b"));
    // A heartbeat carries both A and B; the first request (A only) is delivered after it.
    c.now_us += 50_000;
    c.tick(0);
    c.drop_messages(0, 2);
    let heartbeat_ab = c.in_flight.pop().expect("heartbeat to 1");
    let request_a = c.take(0, 1);
    assert_eq!(
        c.receive(heartbeat_ab),
        "persist_entries from=2 [1:put(A k=a) 1:put(B k=b)]\n\
         send 1->0 append_entries_response term=1 ok match=3"
    );
    assert_eq!(c.receive(request_a), "send 1->0 append_entries_response term=1 ok match=2");
    assert_eq!(c.deliver(1, 0), "reply 0->15 ok A leader=0\nreply 0->15 ok B leader=0");
    // The late answer for A alone: nothing is resent, and the next put goes after B.
    assert_eq!(c.deliver(1, 0), "");
    assert_eq!(
        c.receive(put(0, "C", "k", "c")),
        "persist_entries from=4 [1:put(C k=c)]\n\
         send 0->1 append_entries term=1 prev=3/1 [1:put(C k=c)] commit=3"
    );
}
