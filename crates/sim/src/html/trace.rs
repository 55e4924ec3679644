//! Reads what the report pages need out of a `--trace` text: each replica's role and term
//! over time, and deliveries per second.
//!
//! The format is the one `docs/reports.md` documents: tab-separated `event`, `time_us`,
//! `what` and the stepped replica's state (`ID Role term=T log=N commit=C`, `ID dead`,
//! `ID paused` or `-`). Lines that do not fit are counted and skipped, never fatal: a page
//! drawn from a partly garbled trace is still worth more than no page.

use std::collections::BTreeMap;

/// A replica's role, as the trace prints it.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Role {
    Follower,
    Candidate,
    Leader,
    /// A role this page does not know yet (drawn in a neutral colour with its name).
    Other(String),
}

impl Role {
    pub(crate) fn parse(text: &str) -> Role {
        match text {
            "Follower" => Role::Follower,
            "Candidate" => Role::Candidate,
            "Leader" => Role::Leader,
            other => Role::Other(other.to_owned()),
        }
    }

    pub(crate) fn name(&self) -> &str {
        match self {
            Role::Follower => "follower",
            Role::Candidate => "candidate",
            Role::Leader => "leader",
            Role::Other(name) => name,
        }
    }
}

/// What one trace line says about the replica it stepped.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Observed {
    Up { role: Role, term: u64 },
    Dead,
    Paused,
}

/// Message categories counted per second, in stacking order.
pub(crate) const MESSAGE_KINDS: [&str; 5] = [
    "append_entries",
    "append_entries_response",
    "request_vote",
    "request_vote_response",
    "client",
];

/// Everything the pages take from a trace.
#[derive(Debug, Default)]
pub(crate) struct TraceInfo {
    /// Per replica index: `(time_us, state)` each time the state differs from the previous
    /// line about that replica.
    pub(crate) states: Vec<Vec<(u64, Observed)>>,
    /// Per second of virtual time: deliveries per [`MESSAGE_KINDS`] entry.
    pub(crate) deliveries: BTreeMap<u64, [u64; MESSAGE_KINDS.len()]>,
    /// Lines read (the header excluded).
    pub(crate) lines: u64,
    /// Lines that did not parse.
    pub(crate) skipped: u64,
}

/// Parses `text` for a cluster of `replicas` replicas.
pub(crate) fn parse(text: &str, replicas: usize) -> TraceInfo {
    let mut info = TraceInfo { states: vec![Vec::new(); replicas], ..TraceInfo::default() };
    for line in text.lines() {
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        info.lines += 1;
        let mut columns = line.split('\t');
        let (Some(_event), Some(time), Some(what), Some(state)) =
            (columns.next(), columns.next(), columns.next(), columns.next())
        else {
            info.skipped += 1;
            continue;
        };
        let Ok(time_us) = time.parse::<u64>() else {
            info.skipped += 1;
            continue;
        };
        if let Some(rest) = what.strip_prefix("deliver ") {
            let kind = rest.split_whitespace().nth(1).unwrap_or("");
            let slot =
                MESSAGE_KINDS.iter().position(|k| *k == kind).unwrap_or(MESSAGE_KINDS.len() - 1);
            info.deliveries.entry(time_us / 1_000_000).or_default()[slot] += 1;
        }
        if state == "-" {
            continue;
        }
        match parse_state(state) {
            Some((index, observed)) if index < replicas => {
                let history = &mut info.states[index];
                if history.last().is_none_or(|(_, last)| *last != observed) {
                    history.push((time_us, observed));
                }
            }
            Some(_) => {}
            None => info.skipped += 1,
        }
    }
    info
}

/// Parses `ID Role term=T ...`, `ID dead` or `ID paused`; the id is hexadecimal, as
/// replicas print it.
fn parse_state(state: &str) -> Option<(usize, Observed)> {
    let mut words = state.split_whitespace();
    let index = usize::from_str_radix(words.next()?, 16).ok()?;
    let observed = match words.next()? {
        "dead" => Observed::Dead,
        "paused" => Observed::Paused,
        role => {
            let term = words.find_map(|w| w.strip_prefix("term="))?.parse().ok()?;
            Observed::Up { role: Role::parse(role), term }
        }
    };
    Some((index, observed))
}

#[cfg(test)]
mod tests {
    use super::*;

    const TRACE: &str = concat!(
        "# event\ttime_us\twhat\treplica state after the event\n",
        "1\t100\ttick 0001\t0001 Candidate term=1 log=0 commit=0\n",
        "2\t200\tdeliver 0001->0000 request_vote term=1 last=0/0",
        "\t0000 Follower term=1 log=0 commit=0\n",
        "3\t300\tdeliver 0000->0001 request_vote_response term=1 granted=true",
        "\t0001 Leader term=1 log=1 commit=0\n",
        "4\t1000300\tdeliver 0001->0000 append_entries term=1 prev=0/0 entries=1 commit=0",
        "\t0000 Follower term=1 log=1 commit=0\n",
        "5\t1000400\tfault #0\t-\n",
        "6\t1000500\tdeliver 0001->0000 append_entries term=1 prev=1/1 entries=0 commit=1",
        "\t0000 dead\n",
        "7\t1000600\tdeliver 0016->0001 get MID=A key=k\t0001 Leader term=1 log=2 commit=1\n",
        "garbage\n",
    );

    #[test]
    fn roles_terms_and_deaths_are_read() {
        let info = parse(TRACE, 2);
        assert_eq!(info.lines, 8);
        assert_eq!(info.skipped, 1);
        let leader = Observed::Up { role: Role::Leader, term: 1 };
        assert_eq!(info.states[1].last(), Some(&(300, leader)));
        // Unchanged states are not repeated.
        assert_eq!(info.states[0].len(), 2);
        assert_eq!(info.states[0][1], (1_000_500, Observed::Dead));
    }

    #[test]
    fn deliveries_are_counted_per_second_and_kind() {
        let info = parse(TRACE, 2);
        assert_eq!(info.deliveries[&0], [0, 0, 1, 1, 0]);
        assert_eq!(info.deliveries[&1], [2, 0, 0, 0, 1]);
    }
}
