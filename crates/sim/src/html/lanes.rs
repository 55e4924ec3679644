//! What the timeline draws besides operations: each replica's state over time, fault bands
//! and fault markers, all derived from the report (and the trace, when there is one).
//!
//! Fault kinds are open-ended (the fault library grows), so only the kinds whose meaning the
//! page relies on are named here; every other kind still appears, as a labelled marker.

use crate::report::RunReport;

use super::trace::{Observed, Role, TraceInfo};

/// What a replica lane shows over one stretch of time.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Shade {
    /// Running in `role`; `term` is known only from a trace.
    Up { role: Role, term: Option<u64> },
    /// Killed or crashed.
    Down,
    /// Paused: alive, holding its messages, not stepping.
    Paused,
}

/// One stretch of a replica lane.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Segment {
    pub(crate) start_us: u64,
    pub(crate) end_us: u64,
    pub(crate) shade: Shade,
}

/// A fault that lasts: drawn as a shaded band across every lane.
#[derive(Clone, Debug)]
pub(crate) struct Band {
    pub(crate) start_us: u64,
    pub(crate) end_us: u64,
    pub(crate) kind: String,
    pub(crate) detail: String,
    /// How the band ended: the closing fault's kind and detail, or the end of the run.
    pub(crate) ended_by: String,
}

/// A fault at an instant: drawn as a labelled tick in the fault lane.
#[derive(Clone, Debug)]
pub(crate) struct Marker {
    pub(crate) time_us: u64,
    pub(crate) kind: String,
    pub(crate) detail: String,
}

/// A change a fault made to one replica, read from its detail text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum NodeChange {
    Down,
    Restart,
    Pause,
    Resume,
}

/// Fault kinds that start a network band.
const NETWORK_KINDS: [&str; 4] = ["part_hard", "part_easy", "partition", "cut_link"];

/// The replicas' lanes: from the trace when there is one, else from the leader list (which
/// only says who led when). Kills, crashes, restarts, pauses and resumes come from the fault
/// records either way, since their times there are exact.
pub(crate) fn replica_segments(report: &RunReport, trace: Option<&TraceInfo>) -> Vec<Vec<Segment>> {
    let replicas = usize::from(report.replicas);
    let not_leading = || Shade::Up { role: Role::Other("not leading".to_owned()), term: None };
    // Points per replica, in time order: (time, change). Trace or leader points go first, so
    // that at equal times a fault record has the last word.
    let mut points: Vec<Vec<(u64, Point)>> = vec![Vec::new(); replicas];
    match trace {
        Some(info) => {
            for (index, states) in info.states.iter().enumerate().take(replicas) {
                for (time_us, observed) in states {
                    points[index].push((*time_us, Point::Observed(observed.clone())));
                }
            }
        }
        None => {
            let mut previous: Option<usize> = None;
            for change in &report.leaders {
                let Some(index) = replica_index(&change.leader.to_string(), replicas) else {
                    continue;
                };
                if let Some(old) = previous.filter(|&old| old != index) {
                    points[old].push((change.time_us, Point::Shade(not_leading())));
                }
                let leader = Shade::Up { role: Role::Leader, term: Some(change.term) };
                points[index].push((change.time_us, Point::Shade(leader)));
                previous = Some(index);
            }
        }
    }
    for record in &report.faults {
        for (index, change) in node_changes(&record.detail, replicas) {
            points[index].push((record.time_us, Point::Node(change)));
        }
    }
    let start = match trace {
        Some(_) => Shade::Up { role: Role::Follower, term: Some(0) },
        None => not_leading(),
    };
    points
        .into_iter()
        .map(|mut list| {
            list.sort_by_key(|(time_us, _)| *time_us);
            segments_of(&list, start.clone(), trace.is_some(), report.end_us)
        })
        .collect()
}

#[derive(Clone, Debug)]
enum Point {
    Observed(Observed),
    Shade(Shade),
    Node(NodeChange),
}

fn segments_of(points: &[(u64, Point)], start: Shade, traced: bool, end_us: u64) -> Vec<Segment> {
    let mut segments: Vec<Segment> = Vec::new();
    let mut current = start;
    let mut since = 0;
    // The shade before a pause, to return to on resume.
    let mut last_up = current.clone();
    for (time_us, point) in points {
        let next = match point {
            Point::Observed(Observed::Up { role, term }) => {
                Shade::Up { role: role.clone(), term: Some(*term) }
            }
            Point::Observed(Observed::Dead) | Point::Node(NodeChange::Down) => Shade::Down,
            Point::Observed(Observed::Paused) | Point::Node(NodeChange::Pause) => Shade::Paused,
            Point::Shade(shade) => shade.clone(),
            Point::Node(NodeChange::Restart) => {
                // A restarted replica is a follower that remembers its persisted term.
                let term = match &last_up {
                    Shade::Up { term, .. } => *term,
                    _ => None,
                };
                match traced {
                    true => Shade::Up { role: Role::Follower, term },
                    false => Shade::Up { role: Role::Other("not leading".to_owned()), term: None },
                }
            }
            Point::Node(NodeChange::Resume) => last_up.clone(),
        };
        if let Shade::Up { .. } = next {
            last_up = next.clone();
        }
        if next == current {
            continue;
        }
        if *time_us > since {
            segments.push(Segment { start_us: since, end_us: *time_us, shade: current });
        }
        current = next;
        since = *time_us;
    }
    if end_us > since {
        segments.push(Segment { start_us: since, end_us, shade: current });
    }
    segments
}

/// Reads `killed 0002`, `crashed 0002`, `restarted 0002`, `paused 0002` and `resumed 0002`
/// out of a fault's detail text (one detail may name several, as the final heal does).
fn node_changes(detail: &str, replicas: usize) -> Vec<(usize, NodeChange)> {
    let words: Vec<&str> = detail.split_whitespace().collect();
    words
        .windows(2)
        .filter_map(|pair| {
            let change = match pair[0] {
                "killed" | "crashed" => NodeChange::Down,
                "restarted" => NodeChange::Restart,
                "paused" => NodeChange::Pause,
                "resumed" => NodeChange::Resume,
                _ => return None,
            };
            Some((replica_index(pair[1], replicas)?, change))
        })
        .collect()
}

/// The index of a replica printed as four hexadecimal digits (`0003`), trailing punctuation
/// allowed.
fn replica_index(word: &str, replicas: usize) -> Option<usize> {
    let word = word.trim_end_matches(|c: char| !c.is_ascii_alphanumeric());
    if word.len() != 4 {
        return None;
    }
    usize::from_str_radix(word, 16).ok().filter(|&index| index < replicas)
}

/// Splits the fault records into lasting bands (partitions and cut links, until their end or
/// a heal) and instant markers (everything else, unknown kinds included).
pub(crate) fn bands_and_markers(report: &RunReport) -> (Vec<Band>, Vec<Marker>) {
    let mut open: Vec<Band> = Vec::new();
    let mut bands = Vec::new();
    let mut markers = Vec::new();
    for record in &report.faults {
        let kind = record.kind;
        let closing = format!("{kind} at {}: {}", super::seconds(record.time_us), record.detail);
        let mut end = |which: &dyn Fn(&Band) -> bool, first_only: bool| {
            while let Some(index) = open.iter().position(which) {
                let mut band = open.remove(index);
                band.end_us = record.time_us;
                band.ended_by.clone_from(&closing);
                bands.push(band);
                if first_only {
                    break;
                }
            }
        };
        let network = NETWORK_KINDS.contains(&kind);
        match kind {
            // The course's `part_end` mends the course's partitions only.
            "part_end" => end(&|band| band.kind.starts_with("part_"), false),
            "heal" => {
                end(&|_| true, false);
                markers.push(marker(record));
            }
            // A shaped partition or cut link with a duration ends on its own; the record
            // does not say which start it ends, so the oldest of its kind goes.
            _ if network && record.detail.starts_with("end of fault") => {
                end(&|band| band.kind == kind, true)
            }
            _ if network => open.push(Band {
                start_us: record.time_us,
                end_us: report.end_us,
                kind: kind.to_owned(),
                detail: record.detail.clone(),
                ended_by: "the end of the run".to_owned(),
            }),
            _ => markers.push(marker(record)),
        }
    }
    bands.extend(open);
    bands.sort_by_key(|band| (band.start_us, band.end_us));
    (bands, markers)
}

fn marker(record: &crate::world::FaultRecord) -> Marker {
    Marker { time_us: record.time_us, kind: record.kind.to_string(), detail: record.detail.clone() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_changes_are_read_from_details() {
        assert_eq!(node_changes("killed 0002 (leader)", 5), vec![(2, NodeChange::Down)]);
        assert_eq!(
            node_changes("fault phase over: network healed, resumed 0001, restarted 0004", 5),
            vec![(1, NodeChange::Resume), (4, NodeChange::Restart)]
        );
        assert_eq!(node_changes("armed: 0002 crashes right after its next vote", 5), vec![]);
        assert_eq!(node_changes("killed 0009", 5), vec![]);
    }

    #[test]
    fn segments_follow_points_and_resume_to_the_last_role() {
        let leader = Shade::Up { role: Role::Leader, term: Some(3) };
        let points = vec![
            (10, Point::Shade(leader.clone())),
            (20, Point::Node(NodeChange::Pause)),
            (30, Point::Node(NodeChange::Resume)),
            (40, Point::Node(NodeChange::Down)),
        ];
        let start = Shade::Up { role: Role::Follower, term: Some(0) };
        let segments = segments_of(&points, start, true, 50);
        let shades: Vec<(u64, u64, &Shade)> =
            segments.iter().map(|s| (s.start_us, s.end_us, &s.shade)).collect();
        assert_eq!(shades[1], (10, 20, &leader));
        assert_eq!(shades[2], (20, 30, &Shade::Paused));
        assert_eq!(shades[3], (30, 40, &leader));
        assert_eq!(shades[4], (40, 50, &Shade::Down));
    }
}
