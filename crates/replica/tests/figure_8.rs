//! The Raft paper's Figure 8 (§5.4.2): a leader never commits an entry of an older term by
//! counting replicas, because a later leader may still overwrite it; the older entry becomes
//! committed only when an entry of the leader's own term after it is stored on a majority.
//!
//! Servers S1..S5 of the figure are replicas 0..4. AppendEntries carry one entry each, so the
//! transcript can place the term-2 entry on a majority before the leader's no-op.

mod common;

use common::{durable, noop, put_entry, render_log, Cluster};
use replica::Role;

/// Figure 8 (c): S1 leads term 4 and has replicated its term-2 entry at index 2 to S3 and S4
/// (a majority with itself), while S5 holds a term-3 entry at index 2 that it could still win
/// with. Returns the cluster at that point, with S2 and S5 unreachable so far.
fn figure_8_c() -> Cluster {
    let mut c = Cluster::with(
        5,
        |id| match id {
            0 | 1 => durable(3, vec![noop(1), put_entry(2, "A", "k", "x")]),
            2 | 3 => durable(3, vec![noop(1)]),
            _ => durable(3, vec![noop(1), put_entry(3, "B", "k", "y")]),
        },
        |config| config.append_entries_max = 1,
    );
    assert_eq!(
        c.tick_when_due(0),
        "persist_state term=4 vote=0\n\
         send 0->1 request_vote term=4 last=2/2\n\
         send 0->2 request_vote term=4 last=2/2\n\
         send 0->3 request_vote term=4 last=2/2\n\
         send 0->4 request_vote term=4 last=2/2"
    );
    c.drop_messages(0, 1); // S2 is slow: it takes no part until the end.

    // S5's last entry has term 3 > 2: S1's log is less up to date, S5 refuses (§5.4.1).
    assert_eq!(
        c.deliver(0, 4),
        "persist_state term=4 vote=none\n\
         send 4->0 request_vote_response term=4 denied"
    );
    for voter in [2, 3] {
        assert_eq!(
            c.deliver(0, voter),
            format!(
                "persist_state term=4 vote=none\n\
                 persist_state term=4 vote=0\n\
                 send {voter}->0 request_vote_response term=4 granted"
            )
        );
    }
    assert_eq!(c.deliver(4, 0), "");
    assert_eq!(c.deliver(2, 0), "");
    // Three votes of five: S1 leads term 4 and appends its no-op at index 3 (§8).
    assert_eq!(
        c.deliver(3, 0),
        "persist_entries from=3 [4:noop]\n\
         send 0->1 append_entries term=4 prev=2/2 [4:noop] commit=0\n\
         send 0->2 append_entries term=4 prev=2/2 [4:noop] commit=0\n\
         send 0->3 append_entries term=4 prev=2/2 [4:noop] commit=0\n\
         send 0->4 append_entries term=4 prev=2/2 [4:noop] commit=0"
    );
    c.drop_messages(0, 1);
    c.drop_messages(0, 4);

    // S3 and S4 lack index 2: they refuse, and S1 backs up to send its term-2 entry.
    for follower in [2, 3] {
        assert_eq!(
            c.deliver(0, follower),
            format!("send {follower}->0 append_entries_response term=4 refused hint=1")
        );
        assert_eq!(
            c.deliver(follower, 0),
            format!("send 0->{follower} append_entries term=4 prev=1/1 [2:put(A k=x)] commit=0")
        );
        assert_eq!(
            c.deliver(0, follower),
            format!(
                "persist_entries from=2 [2:put(A k=x)]\n\
                 send {follower}->0 append_entries_response term=4 ok match=2"
            )
        );
    }
    assert_eq!(c.deliver(2, 0), "send 0->2 append_entries term=4 prev=2/2 [4:noop] commit=0");
    // Index 2 is now on S1, S3 and S4, a majority. It is of term 2, not 4: no commit.
    assert_eq!(c.deliver(3, 0), "send 0->3 append_entries term=4 prev=2/2 [4:noop] commit=0");
    assert_eq!(c.replica(0).commit_index(), 0);
    c
}

#[test]
fn an_older_term_entry_on_a_majority_is_committed_only_with_one_of_the_current_term() {
    // Figure 8 (e): S1's no-op of term 4 reaches S3 and S4; index 3 is on a majority and of
    // the current term, so indexes 1-3 commit together and apply in order.
    let mut c = figure_8_c();
    assert_eq!(
        c.deliver(0, 2),
        "persist_entries from=3 [4:noop]\n\
         send 2->0 append_entries_response term=4 ok match=3"
    );
    assert_eq!(c.deliver(2, 0), "");
    assert_eq!(c.replica(0).commit_index(), 0, "index 3 is on S1 and S3 only");
    c.deliver(0, 3);
    assert_eq!(c.deliver(3, 0), "");
    assert_eq!(c.replica(0).commit_index(), 3);
    assert_eq!(c.replica(0).last_applied(), 3);
    assert_eq!(c.replica(0).state_machine().get("k"), "x");
}

#[test]
fn the_older_term_entry_not_committed_may_be_overwritten_by_a_later_leader() {
    // Figure 8 (d): why S1 must not count. S1 crashes before its no-op spreads; S5, whose
    // last entry has term 3, wins term 5 with votes from S2, S3 and S4 (all at last term 2
    // or 1) and replaces index 2 on S3. Had S1 called index 2 committed, a committed entry
    // would now be gone.
    let mut c = figure_8_c();
    c.cut[0] = true;
    c.in_flight.clear();
    assert_eq!(
        c.tick_when_due(4),
        "persist_state term=5 vote=4\n\
         send 4->0 request_vote term=5 last=2/3\n\
         send 4->1 request_vote term=5 last=2/3\n\
         send 4->2 request_vote term=5 last=2/3\n\
         send 4->3 request_vote term=5 last=2/3"
    );
    c.drop_messages(4, 0);
    assert_eq!(
        c.deliver(4, 1),
        "persist_state term=5 vote=none\n\
         persist_state term=5 vote=4\n\
         send 1->4 request_vote_response term=5 granted"
    );
    c.deliver(4, 2);
    c.deliver(4, 3);
    assert_eq!(c.deliver(1, 4), "");
    c.deliver(2, 4);
    assert_eq!(c.replica(4).role(), Role::Leader);
    c.in_flight.retain(|m| m.dst.0 == 2);
    assert_eq!(c.deliver(4, 2), "send 2->4 append_entries_response term=5 refused hint=1");
    assert_eq!(c.deliver(2, 4), "send 4->2 append_entries term=5 prev=1/1 [3:put(B k=y)] commit=0");
    assert_eq!(
        c.deliver(4, 2),
        "persist_entries from=2 [3:put(B k=y)]\n\
         send 2->4 append_entries_response term=5 ok match=2"
    );
    assert_eq!(render_log(c.replica(2)), "[1:noop 3:put(B k=y)]");
}
