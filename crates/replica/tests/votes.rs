//! RequestVote (Figure 2; §5.2, §5.4.1): a replica votes at most once per term, only for a
//! candidate whose log is at least as up to date as its own (last term first, then length),
//! and answers a repeated request from the candidate it voted for the same way.

mod common;

use common::{durable, noop, put_entry, Cluster};
use replica::{Entry, NodeId, Role};

/// Replica 0 campaigns with `candidate_log` against replica 1 holding `voter_log`, both at
/// term 1; returns what replica 1 does with the vote request.
fn ask_for_vote(candidate_log: Vec<Entry>, voter_log: Vec<Entry>) -> String {
    let mut c = Cluster::with(
        3,
        |id| match id {
            0 => durable(1, candidate_log.clone()),
            _ => durable(1, voter_log.clone()),
        },
        |_| {},
    );
    c.tick_when_due(0);
    c.deliver(0, 1)
}

#[test]
fn a_candidate_whose_last_term_is_lower_is_denied_even_with_a_longer_log() {
    let candidate = vec![noop(1), noop(1), noop(1)];
    let voter = vec![noop(1), put_entry(2, "A", "k", "v")];
    assert_eq!(
        ask_for_vote(candidate, voter),
        "persist_state term=2 vote=none\n\
         send 1->0 request_vote_response term=2 denied"
    );
}

#[test]
fn a_candidate_with_the_same_last_term_but_a_shorter_log_is_denied() {
    let candidate = vec![noop(1), noop(1)];
    let voter = vec![noop(1), noop(1), put_entry(1, "A", "k", "v")];
    assert_eq!(
        ask_for_vote(candidate, voter),
        "persist_state term=2 vote=none\n\
         send 1->0 request_vote_response term=2 denied"
    );
}

#[test]
fn an_up_to_date_candidate_is_granted() {
    // A higher last term wins over a longer log; equal logs are up to date too.
    let granted = "persist_state term=2 vote=none\n\
                   persist_state term=2 vote=0\n\
                   send 1->0 request_vote_response term=2 granted";
    let candidate = vec![noop(1), noop(2)];
    let voter = vec![noop(1), noop(1), noop(1)];
    assert_eq!(ask_for_vote(candidate, voter), granted);
    assert_eq!(ask_for_vote(vec![noop(1)], vec![noop(1)]), granted);
    assert_eq!(ask_for_vote(vec![], vec![]), granted);
}

#[test]
fn one_vote_per_term_but_the_same_candidate_may_ask_twice() {
    let mut c = Cluster::new(3);
    c.tick_when_due(0);
    c.tick_when_due(2);
    assert_eq!(c.replica(0).term(), 1);
    assert_eq!(c.replica(2).term(), 1);
    let request = c.take(0, 1);
    assert_eq!(
        c.receive(request.clone()),
        "persist_state term=1 vote=none\n\
         persist_state term=1 vote=0\n\
         send 1->0 request_vote_response term=1 granted"
    );
    // A second candidate of the same term is refused; nothing new is persisted.
    assert_eq!(c.deliver(2, 1), "send 1->2 request_vote_response term=1 denied");
    // The first candidate asking again (a duplicate, or a retry after a lost answer) gets
    // the same vote without a second write.
    assert_eq!(c.receive(request), "send 1->0 request_vote_response term=1 granted");
    assert_eq!(c.replica(1).voted_for(), Some(NodeId(0)));

    assert_eq!(c.replica(1).voted_for(), Some(NodeId(0)));
}

#[test]
fn a_vote_delivered_twice_counts_once() {
    // Five replicas: the candidate needs three votes, its own and two others.
    let mut c = Cluster::new(5);
    c.tick_when_due(0);
    c.deliver(0, 1);
    let vote = c.take(1, 0);
    assert_eq!(c.receive(vote.clone()), "");
    assert_eq!(c.receive(vote), "");
    assert_eq!(c.replica(0).role(), Role::Candidate);
    c.deliver(0, 2);
    assert_eq!(
        c.deliver(2, 0),
        "persist_entries from=1 [1:noop]\n\
         send 0->1 append_entries term=1 prev=0/0 [1:noop] commit=0\n\
         send 0->2 append_entries term=1 prev=0/0 [1:noop] commit=0\n\
         send 0->3 append_entries term=1 prev=0/0 [1:noop] commit=0\n\
         send 0->4 append_entries term=1 prev=0/0 [1:noop] commit=0"
    );
}

#[test]
fn a_candidate_from_an_older_term_is_denied_and_learns_the_current_term() {
    let mut c = Cluster::with(3, |id| durable(if id == 1 { 5 } else { 1 }, vec![]), |_| {});
    c.tick_when_due(0);
    assert_eq!(c.deliver(0, 1), "send 1->0 request_vote_response term=5 denied");
    assert_eq!(c.deliver(1, 0), "persist_state term=5 vote=none");
    assert_eq!(c.replica(0).role(), Role::Follower);
}

#[test]
fn raft_messages_from_outside_the_cluster_or_from_itself_are_ignored() {
    // Regression: a leader handed its own RequestVote granted itself a vote and panicked on
    // the assertion that a leader never grants one; a stranger's higher term deposed it.
    let mut c = Cluster::new(3);
    c.elect(0);
    let to_self = replica::Message {
        src: NodeId(0),
        dst: NodeId(0),
        leader: NodeId(0),
        body: replica::Body::RequestVote { term: 1, last_log_index: 1, last_log_term: 1 },
    };
    assert_eq!(c.receive(to_self), "");
    let stranger = replica::Message {
        src: NodeId(9),
        dst: NodeId(0),
        leader: NodeId::UNKNOWN,
        body: replica::Body::RequestVote { term: 7, last_log_index: 9, last_log_term: 7 },
    };
    assert_eq!(c.receive(stranger), "");
    assert_eq!((c.replica(0).role(), c.replica(0).term()), (Role::Leader, 1));
}
