//! Swarm mode: each seed chooses its own mix of faults.
//!
//! Running every fault family at once at full strength hides bugs as well as it finds them
//! (a cluster that is always partitioned never gets far enough to misbehave), so swarm mode
//! flips a coin per family, seeded by the run's `swarm` stream: a family that is off is
//! truly off (zero probability, no events), and one that is on gets a strength drawn for
//! this seed. The chosen faults are added to the scenario's own, all inside the first 60% of
//! the client lifetime, and the liveness oracle is switched on (with a 10-second bound unless
//! the scenario states one) so every swarm run also checks recovery.

use std::collections::BTreeMap;

use replica::NodeId;

use crate::rng::{Rng, Stream};
use crate::scenario::{
    CrashPoint, Distribution, FaultEvent, FaultKind, LinkLoss, Liveness, Scenario, Shape, Target,
};

/// The recovery bound swarm runs use when the scenario sets none.
const DEFAULT_RECOVER_WITHIN_MS: u64 = 10_000;

/// The swarm's families, in the order their coins are flipped.
pub const FAMILIES: [&str; 9] = [
    "loss",
    "delay",
    "duplication",
    "link_loss",
    "partitions",
    "link_cuts",
    "crashes",
    "pauses",
    "clocks",
];

/// Each family's choice for one seed: `off`, or what was switched on.
pub type Mix = BTreeMap<&'static str, String>;

/// The scenario with this seed's swarm faults added, and the mix that was chosen.
pub fn expand(base: &Scenario, seed: u64) -> (Scenario, Mix) {
    let mut scenario = base.clone();
    let mut rng = Rng::new(seed, Stream::Swarm);
    let mut mix = Mix::new();
    let count = u64::from(scenario.replicas);
    let window = scenario.lifetime * 0.6;
    for family in FAMILIES {
        // One coin per family, always drawn, so one family's strength draws never shift
        // whether the next family is on.
        let on = rng.below(2) == 1;
        let mut family_rng = Rng::new(seed ^ fnv_of(family), Stream::Swarm);
        let chosen =
            if on { choose(family, &mut scenario, &mut family_rng, count, window) } else { None };
        mix.insert(family, chosen.unwrap_or_else(|| "off".to_owned()));
    }
    scenario.liveness.get_or_insert(Liveness {
        recover_within_ms: DEFAULT_RECOVER_WITHIN_MS,
        probe_interval_ms: 1_000,
        after: None,
    });
    scenario.max_packets = scenario.max_packets.max(1_000_000);
    (scenario, mix)
}

/// A per-family sub-seed, so each family draws its strength from its own sequence.
fn fnv_of(name: &str) -> u64 {
    let mut fnv = crate::hash::Fnv::default();
    fnv.str(name);
    fnv.finish()
}

/// Switches `family` on in `scenario` and describes it; `None` if it cannot apply (a
/// one-replica cluster has no links to cut).
fn choose(
    family: &str,
    scenario: &mut Scenario,
    rng: &mut Rng,
    count: u64,
    window: f64,
) -> Option<String> {
    let ratio = |rng: &mut Rng, low: f64, high: f64| low + (high - low) * rng.unit();
    let time = |rng: &mut Rng| (window * rng.unit() * 1000.0).round() / 1000.0;
    let seconds =
        |rng: &mut Rng, low: f64, high: f64| (ratio(rng, low, high) * 1000.0).round() / 1000.0;
    let replica = |rng: &mut Rng| NodeId(rng.below(count) as u16);
    let times = |rng: &mut Rng| 1 + rng.below(4) as usize;
    let network = &mut scenario.network;
    match family {
        "loss" => {
            scenario.drops = scenario.drops.max(ratio(rng, 0.01, 0.2));
            Some(format!("drops {:.3}", scenario.drops))
        }
        "delay" => {
            let distribution =
                [Distribution::Constant, Distribution::Exponential, Distribution::Pareto]
                    [rng.below(3) as usize];
            network.distribution = distribution;
            network.delay_us_min = network.delay_us_min.max(50);
            network.delay_us_max = network.delay_us_max.max(rng.between(2_000, 40_000));
            network.delay_us_mean = Some(rng.between(200, 5_000));
            network.pareto_shape = ratio(rng, 0.8, 3.0);
            let name = format!("{distribution:?}").to_lowercase();
            Some(format!("{name} {}..{} us", network.delay_us_min, network.delay_us_max))
        }
        "duplication" => {
            network.duplicate_ratio = ratio(rng, 0.01, 0.3);
            Some(format!("duplicate_ratio {:.3}", network.duplicate_ratio))
        }
        "link_loss" if count > 1 => {
            for _ in 0..times(rng) {
                let from = replica(rng);
                let to = NodeId(((u64::from(from.0) + 1 + rng.below(count - 1)) % count) as u16);
                network.links.push(LinkLoss { from, to, loss_ratio: ratio(rng, 0.2, 1.0) });
            }
            Some(format!("{} lossy links", network.links.len()))
        }
        "partitions" if count > 1 => {
            let shapes = [
                Shape::Halves,
                Shape::Isolate,
                Shape::IsolateLeader,
                Shape::LeaderMajority,
                Shape::LeaderMinority,
                Shape::Bridge,
                Shape::Ring,
            ];
            let n = times(rng);
            for _ in 0..n {
                let mut event = FaultEvent::at(FaultKind::Partition, time(rng));
                event.shape = Some(shapes[rng.below(shapes.len() as u64) as usize]);
                event.duration = Some(seconds(rng, 0.3, 3.0));
                if rng.below(4) == 0 {
                    event.flap = Some(seconds(rng, 0.1, 0.5));
                }
                scenario.events.push(event);
            }
            Some(format!("{n} partitions"))
        }
        "link_cuts" if count > 1 => {
            let n = times(rng);
            for _ in 0..n {
                let mut event = FaultEvent::at(FaultKind::CutLink, time(rng));
                let from = replica(rng);
                event.from = Some(from);
                event.to =
                    Some(NodeId(((u64::from(from.0) + 1 + rng.below(count - 1)) % count) as u16));
                event.duration = Some(seconds(rng, 0.3, 3.0));
                scenario.events.push(event);
            }
            Some(format!("{n} one-way cuts"))
        }
        "crashes" => {
            let n = times(rng);
            for _ in 0..n {
                let mut event = FaultEvent::at(FaultKind::Crash, time(rng));
                event.target = Some([Target::Leader, Target::Random][rng.below(2) as usize]);
                event.duration = Some(seconds(rng, 0.1, 3.0));
                if rng.below(4) == 0 {
                    event.when = Some(CrashPoint::AfterVote);
                }
                scenario.events.push(event);
            }
            Some(format!("{n} crash-restarts"))
        }
        "pauses" => {
            let n = times(rng);
            for _ in 0..n {
                let mut event = FaultEvent::at(FaultKind::Pause, time(rng));
                event.target = Some([Target::Leader, Target::Random][rng.below(2) as usize]);
                event.duration = Some(seconds(rng, 0.05, 2.0));
                scenario.events.push(event);
            }
            Some(format!("{n} pauses"))
        }
        "clocks" => {
            scenario.clocks.drift_ppm_max = rng.between(1_000, 200_000);
            Some(format!("drift up to {} ppm", scenario.clocks.drift_ppm_max))
        }
        _ => None,
    }
}
