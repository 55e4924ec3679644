//! Replies from an older term are ignored (Figure 2, "Rules for Servers": terms order all
//! messages, §5.1): a RequestVoteResponse granted in an earlier term is not a vote now, and
//! an AppendEntriesResponse from an earlier term moves neither match_index nor commit.

mod common;

use common::{durable, put, Cluster};
use replica::{Body, Message, NodeId, Role};

#[test]
fn a_vote_granted_in_an_older_term_does_not_count() {
    let mut c = Cluster::new(3);
    c.tick_when_due(0);
    c.deliver(0, 1);
    let old_vote = c.take(1, 0);
    c.in_flight.clear();
    // The election of term 1 times out before the vote arrives; replica 0 tries term 2.
    assert_eq!(
        c.tick_when_due(0),
        "persist_state term=2 vote=0\n\
         send 0->1 request_vote term=2 last=0/0\n\
         send 0->2 request_vote term=2 last=0/0"
    );
    assert_eq!(c.receive(old_vote), "");
    assert_eq!(c.replica(0).role(), Role::Candidate);
    // A vote of the current term does count.
    c.deliver(0, 2);
    assert_eq!(
        c.deliver(2, 0),
        "persist_entries from=1 [2:noop]\n\
         send 0->1 append_entries term=2 prev=0/0 [2:noop] commit=0\n\
         send 0->2 append_entries term=2 prev=0/0 [2:noop] commit=0"
    );
}

#[test]
fn an_append_entries_response_from_an_older_term_moves_neither_match_nor_commit() {
    // Everyone restarts at term 1; replica 0 leads term 2 and commits its no-op.
    let mut c = Cluster::with(3, |_| durable(1, vec![]), |_| {});
    c.elect(0);
    assert_eq!(c.replica(0).commit_index(), 1);
    assert_eq!(
        c.receive(put(0, "A", "k", "v")),
        "persist_entries from=2 [2:put(A k=v)]\n\
         send 0->1 append_entries term=2 prev=1/2 [2:put(A k=v)] commit=1\n\
         send 0->2 append_entries term=2 prev=1/2 [2:put(A k=v)] commit=1"
    );
    // Delayed answers from term 1 claiming index 2: if they counted, index 2 (of term 2)
    // would be on all three replicas and the put would commit and be answered.
    for follower in [1, 2] {
        let stale = Message {
            src: NodeId(follower),
            dst: NodeId(0),
            leader: NodeId::UNKNOWN,
            body: Body::AppendEntriesResponse { term: 1, success: true, match_index: 2 },
        };
        assert_eq!(c.receive(stale), "");
    }
    assert_eq!(c.replica(0).commit_index(), 1);
    // The real answers of term 2 commit it.
    c.deliver(0, 1);
    assert_eq!(c.deliver(1, 0), "reply 0->15 ok A leader=0");
    assert_eq!(c.replica(0).commit_index(), 2);
}
