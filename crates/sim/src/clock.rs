//! Per-replica clocks: a linear map between virtual time and the time a replica reads.
//!
//! The replica reads no clock; it is handed `now_us` and answers with the time it next
//! needs a tick. A replica whose clock drifts is handed its own reading of virtual time,
//! `v + v * drift_ppm / 1e6`, and its tick deadline is mapped back to the first virtual
//! instant at which its clock reaches it. A constant offset between clocks would change
//! nothing (the replica only compares its own readings), so only the rate is modelled. All
//! arithmetic is on integers.

const PPM: i128 = 1_000_000;

/// One replica's clock.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Clock {
    /// Parts per million faster (positive) or slower (negative) than virtual time; within
    /// `crate::scenario::DRIFT_PPM_LIMIT`, so the clock always moves forward.
    pub drift_ppm: i64,
}

impl Clock {
    /// The clock's reading at virtual time `virtual_us` (rounded down).
    pub fn local_us(self, virtual_us: u64) -> u64 {
        if self.drift_ppm == 0 {
            return virtual_us;
        }
        let local = i128::from(virtual_us) * (PPM + i128::from(self.drift_ppm)) / PPM;
        u64::try_from(local).unwrap_or(u64::MAX)
    }

    /// The first virtual time at which the clock reads `local_us` or later.
    pub fn virtual_us(self, local_us: u64) -> u64 {
        if self.drift_ppm == 0 || local_us == u64::MAX {
            return local_us;
        }
        let rate = PPM + i128::from(self.drift_ppm);
        let guess = (i128::from(local_us) * PPM + rate - 1) / rate;
        let mut guess = u64::try_from(guess).unwrap_or(u64::MAX);
        // The division rounds; step to the exact first instant (at most a step or two).
        while guess < u64::MAX && self.local_us(guess) < local_us {
            guess += 1;
        }
        while guess > 0 && self.local_us(guess - 1) >= local_us {
            guess -= 1;
        }
        guess
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_clock_maps_back_to_the_first_instant_it_reads_a_time() {
        for drift_ppm in [-500_000, -123_457, -1, 0, 1, 50_000, 333_333, 500_000] {
            let clock = Clock { drift_ppm };
            for local_us in [0, 1, 2, 999, 150_000, 1_234_567, 10_000_000_019] {
                let virtual_us = clock.virtual_us(local_us);
                assert!(clock.local_us(virtual_us) >= local_us, "{drift_ppm} {local_us}");
                if virtual_us > 0 {
                    assert!(clock.local_us(virtual_us - 1) < local_us, "{drift_ppm} {local_us}");
                }
            }
        }
        assert_eq!(Clock { drift_ppm: 100_000 }.local_us(1_000_000), 1_100_000);
        assert_eq!(Clock { drift_ppm: -100_000 }.virtual_us(900_000), 1_000_000);
        assert_eq!(Clock::default().virtual_us(u64::MAX), u64::MAX);
    }
}
