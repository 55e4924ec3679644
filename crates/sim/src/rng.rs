//! Named random streams, all derived from one seed.
//!
//! Every source of randomness in a run (the network, the workload, the faults, each
//! replica's election jitter) draws from its own ChaCha8 stream of the same seed, so that
//! adding a draw to one stream never shifts the draws of another: a change to the client
//! model does not reshuffle the network. Each fault family of the fault library has its own
//! stream too, so switching one family on leaves every other family's draws where they were.

use rand_chacha::rand_core::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// The named streams of a run.
#[derive(Clone, Copy, Debug)]
pub enum Stream {
    /// Message delays and drops.
    Network,
    /// Client choices: which client, which operation, which key, which replica.
    Workload,
    /// Which replicas a fault hits.
    Faults,
    /// Delays drawn from a shaped distribution (anything but the default uniform).
    Delays,
    /// Whether a message is delivered twice, and the second copy's delay.
    Duplication,
    /// Per-link loss.
    LinkLoss,
    /// Which replica a crash, restart, pause or resume hits.
    Nodes,
    /// Partition shapes: who ends up on which side.
    Partitions,
    /// Each replica's clock drift.
    Clocks,
    /// The election-jitter seed of each restarted replica.
    Restarts,
    /// Swarm mode's choice of fault families and strengths.
    Swarm,
    /// The seed handed to replica `i` for its election jitter.
    Replica(u16),
}

impl Stream {
    fn id(self) -> u64 {
        match self {
            Stream::Network => 1,
            Stream::Workload => 2,
            Stream::Faults => 3,
            Stream::Delays => 4,
            Stream::Duplication => 5,
            Stream::LinkLoss => 6,
            Stream::Nodes => 7,
            Stream::Partitions => 8,
            Stream::Clocks => 9,
            Stream::Restarts => 10,
            Stream::Swarm => 11,
            Stream::Replica(index) => 1_000 + u64::from(index),
        }
    }
}

/// One stream's generator with the few draws the simulator needs.
#[derive(Clone, Debug)]
pub struct Rng {
    inner: ChaCha8Rng,
}

impl Rng {
    /// The generator of `stream` for the run with this `seed`.
    pub fn new(seed: u64, stream: Stream) -> Rng {
        let mut inner = ChaCha8Rng::seed_from_u64(seed);
        inner.set_stream(stream.id());
        Rng { inner }
    }

    /// A uniform 64-bit value.
    pub fn next_u64(&mut self) -> u64 {
        self.inner.next_u64()
    }

    /// A uniform value in `0..n`; `n` must be positive. (Lemire's multiply-shift; the bias
    /// is below 2^-40 for the small ranges drawn here.)
    pub fn below(&mut self, n: u64) -> u64 {
        assert!(n > 0, "empty range");
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }

    /// A uniform value in `min..=max`.
    pub fn between(&mut self, min: u64, max: u64) -> u64 {
        assert!(min <= max);
        min + self.below(max - min + 1)
    }

    /// A uniform float in `[0, 1)`.
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// True with probability `p`. Never draws when `p` is 0, so a scenario without drops
    /// leaves the stream untouched.
    pub fn chance(&mut self, p: f64) -> bool {
        p > 0.0 && self.unit() < p
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_are_reproducible_and_independent() {
        let a: Vec<u64> = (0..4).map(|_| Rng::new(7, Stream::Network).next_u64()).collect();
        assert!(a.windows(2).all(|w| w[0] == w[1]));
        let mut network = Rng::new(7, Stream::Network);
        let mut workload = Rng::new(7, Stream::Workload);
        assert_ne!(network.next_u64(), workload.next_u64());
        let mut other_seed = Rng::new(8, Stream::Network);
        assert_ne!(Rng::new(7, Stream::Network).next_u64(), other_seed.next_u64());
    }

    #[test]
    fn draws_stay_in_range() {
        let mut rng = Rng::new(1, Stream::Faults);
        for _ in 0..10_000 {
            assert!(rng.below(5) < 5);
            let x = rng.between(3, 4);
            assert!(x == 3 || x == 4);
            let u = rng.unit();
            assert!((0.0..1.0).contains(&u));
        }
        assert!(!rng.chance(0.0));
    }
}
