//! Partition shapes: which directed links a `partition` event cuts.
//!
//! A shape is computed once, when the event fires, from the cluster size, the current leader
//! (for the shapes built around it), the event's target (for `isolate` and `bridge`) and the
//! partitions stream. The result is the list of cut links and a one-line description for the
//! report; the world counts cuts per link, so overlapping faults undo independently.

use replica::NodeId;

use crate::rng::Rng;
use crate::scenario::Shape;

/// The links a partition cuts and how to describe it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cut {
    /// Directed `(from, to)` replica indexes whose messages are dropped.
    pub links: Vec<(usize, usize)>,
    /// The shape's groups as the report shows them.
    pub detail: String,
}

/// Cuts `count` replicas into `shape`. `leader` is the replica the leader-centred shapes
/// centre on and `target` the one `isolate` and `bridge` centre on; both are chosen by the
/// caller (randomly when there is none).
pub fn cut(shape: Shape, count: usize, leader: usize, target: usize, rng: &mut Rng) -> Cut {
    let mut order = shuffled(count, rng);
    let first_is = |index: usize, order: &mut Vec<usize>| {
        let at = order.iter().position(|&i| i == index).expect("a replica index");
        order.swap(0, at);
    };
    match shape {
        Shape::Halves => split(&order, count / 2),
        Shape::Isolate => {
            first_is(target, &mut order);
            split(&order, 1)
        }
        Shape::IsolateLeader => {
            first_is(leader, &mut order);
            split(&order, 1)
        }
        Shape::LeaderMajority => {
            first_is(leader, &mut order);
            split(&order, count / 2 + 1)
        }
        Shape::LeaderMinority => {
            first_is(leader, &mut order);
            split(&order, (count - 1) / 2)
        }
        Shape::Bridge => {
            first_is(target, &mut order);
            bridge(&order)
        }
        Shape::Ring => ring(&order),
    }
}

/// A uniformly random order of `0..count` (Fisher-Yates on the partitions stream).
fn shuffled(count: usize, rng: &mut Rng) -> Vec<usize> {
    let mut order: Vec<usize> = (0..count).collect();
    for i in (1..count).rev() {
        let j = rng.below(i as u64 + 1) as usize;
        order.swap(i, j);
    }
    order
}

fn names(indexes: &[usize]) -> String {
    let mut sorted = indexes.to_vec();
    sorted.sort_unstable();
    let ids: Vec<String> = sorted.iter().map(|&i| NodeId(i as u16).to_string()).collect();
    ids.join(" ")
}

/// Two groups: the first `size` of `order` and the rest, cut both ways.
fn split(order: &[usize], size: usize) -> Cut {
    let (one, other) = order.split_at(size.min(order.len()));
    let mut links = Vec::new();
    for &a in one {
        for &b in other {
            links.push((a, b));
            links.push((b, a));
        }
    }
    links.sort_unstable();
    Cut { links, detail: format!("[{}] | [{}]", names(one), names(other)) }
}

/// `order[0]` hears everyone; the rest split into two sides that cannot hear each other.
fn bridge(order: &[usize]) -> Cut {
    let rest = &order[1..];
    let mut cut = split(rest, rest.len() / 2);
    cut.detail = format!("{} bridging {}", names(&order[..1]), cut.detail);
    cut
}

/// Replicas on a ring in `order`; each hears the `reach` nearest on either side, the fewest
/// that still make its own view a majority.
fn ring(order: &[usize]) -> Cut {
    let count = order.len();
    let reach = (count / 2).div_ceil(2);
    let mut links = Vec::new();
    for (i, &a) in order.iter().enumerate() {
        for (j, &b) in order.iter().enumerate() {
            let apart = i.abs_diff(j).min(count - i.abs_diff(j));
            if apart > reach {
                links.push((a, b));
            }
        }
    }
    links.sort_unstable();
    let ring: Vec<String> = order.iter().map(|&i| NodeId(i as u16).to_string()).collect();
    Cut { links, detail: format!("ring {} (each hears {reach} a side)", ring.join("-")) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Stream;

    fn heard(cut: &Cut, count: usize, a: usize) -> usize {
        (0..count).filter(|&b| !cut.links.contains(&(b, a))).count()
    }

    #[test]
    fn shapes_have_their_sizes() {
        let mut rng = Rng::new(1, Stream::Partitions);
        let halves = cut(Shape::Halves, 5, 0, 0, &mut rng);
        assert_eq!(halves.links.len(), 2 * 2 * 3);
        let isolate = cut(Shape::Isolate, 5, 0, 3, &mut rng);
        assert_eq!(heard(&isolate, 5, 3), 1, "{isolate:?}");
        let minority = cut(Shape::LeaderMinority, 5, 2, 0, &mut rng);
        assert_eq!(heard(&minority, 5, 2), 2, "{minority:?}");
        let majority = cut(Shape::LeaderMajority, 5, 2, 0, &mut rng);
        assert_eq!(heard(&majority, 5, 2), 3, "{majority:?}");
        let bridge = cut(Shape::Bridge, 5, 0, 4, &mut rng);
        assert_eq!(heard(&bridge, 5, 4), 5, "the bridge hears all: {bridge:?}");
        assert_eq!((0..4).map(|a| heard(&bridge, 5, a)).max(), Some(3));
    }

    #[test]
    fn every_replica_on_a_ring_hears_a_majority_but_not_everyone() {
        for count in [5, 7, 9] {
            let ring = cut(Shape::Ring, count, 0, 0, &mut Rng::new(2, Stream::Partitions));
            for a in 0..count {
                assert_eq!(heard(&ring, count, a), 2 * (count / 2).div_ceil(2) + 1);
                assert!(heard(&ring, count, a) > count / 2 && heard(&ring, count, a) < count);
            }
        }
    }
}
