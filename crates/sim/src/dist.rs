//! Message delays drawn from a distribution, in whole virtual microseconds.
//!
//! The shaped distributions need a logarithm and an exponential. `f64::ln` and `f64::exp`
//! call the platform's math library, whose last bit may differ between machines, and one
//! different bit in one delay would change a run's trace. So this module computes both with
//! basic arithmetic only (`+ - * /`, which IEEE 754 rounds the same everywhere) and rounds
//! every delay to an integer.

use crate::rng::Rng;
use crate::scenario::{Distribution, Network};

const LN_2: f64 = std::f64::consts::LN_2;

/// The natural logarithm of a positive, finite `x`, from arithmetic alone: `x = m * 2^e`
/// with `m` in `[1, 2)`, and `ln m = 2 atanh((m - 1) / (m + 1))` as a series that converges
/// fast because the argument is below 1/3.
pub fn ln(x: f64) -> f64 {
    assert!(x > 0.0 && x.is_finite(), "ln of {x}");
    let bits = x.to_bits();
    let exponent = ((bits >> 52) & 0x7FF) as i64;
    let (mantissa, exponent) = if exponent == 0 {
        // Subnormal: scale into the normal range first.
        let scaled = x * (1u64 << 54) as f64;
        let bits = scaled.to_bits();
        (
            f64::from_bits((bits & !(0x7FF_u64 << 52)) | (1023 << 52)),
            ((bits >> 52) & 0x7FF) as i64 - 1077,
        )
    } else {
        (f64::from_bits((bits & !(0x7FF_u64 << 52)) | (1023 << 52)), exponent - 1023)
    };
    let z = (mantissa - 1.0) / (mantissa + 1.0);
    let z2 = z * z;
    let (mut term, mut sum) = (z, 0.0);
    for k in 0..30 {
        sum += term / f64::from(2 * k + 1);
        term *= z2;
    }
    exponent as f64 * LN_2 + 2.0 * sum
}

/// `e^y` for `y` from 0 to 700, from arithmetic alone: `y = k ln 2 + r` with `r` in
/// `[0, ln 2)`, a Taylor series for `e^r`, and an exact power of two for `2^k`.
pub fn exp(y: f64) -> f64 {
    assert!((0.0..=700.0).contains(&y), "exp of {y}");
    let k = (y / LN_2) as i64;
    let r = y - k as f64 * LN_2;
    let (mut term, mut sum) = (1.0, 1.0);
    for i in 1..25 {
        term = term * r / f64::from(i);
        sum += term;
    }
    sum * f64::from_bits(((1023 + k) as u64) << 52)
}

/// Rounds a non-negative delay to whole microseconds, clamped to `max_us`.
fn whole_us(delay: f64, max_us: u64) -> u64 {
    if delay >= max_us as f64 {
        max_us
    } else {
        (delay + 0.5) as u64
    }
}

/// A delay for a shaped distribution, drawn from `rng`; the uniform default is drawn by the
/// caller from the network stream, as it always was.
pub fn shaped_delay_us(network: &Network, rng: &mut Rng) -> u64 {
    let (min_us, max_us) = (network.delay_us_min, network.delay_us_max);
    match network.distribution {
        Distribution::Uniform => rng.between(min_us, max_us),
        Distribution::Constant => min_us,
        Distribution::Exponential => {
            let mean_us = network.delay_us_mean.unwrap_or((max_us - min_us) / 2).max(1);
            // Inverse transform: -ln(1 - u) is exponential with mean 1; 1 - u is in (0, 1].
            let excess = -ln(1.0 - rng.unit()) * mean_us as f64;
            whole_us(min_us as f64 + excess, max_us)
        }
        Distribution::Pareto => {
            // Inverse transform: min * (1 - u)^(-1/shape).
            let power = -ln(1.0 - rng.unit()) / network.pareto_shape;
            if power > ln(max_us as f64 / min_us as f64) {
                return max_us; // Far in the tail: the cap, without an exp that overflows.
            }
            whole_us(min_us as f64 * exp(power), max_us)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Stream;

    #[test]
    fn ln_and_exp_agree_with_the_platform_to_a_few_ulps() {
        for &x in &[1e-300, 1e-9, 0.001, 0.5, 1.0, 1.5, 2.0, 3.0, 10.0, 12345.678, 1e300] {
            let ours = ln(x);
            assert!((ours - x.ln()).abs() <= 1e-14 * x.ln().abs().max(1.0), "ln {x}: {ours}");
        }
        for &y in &[0.0, 0.1, 0.693, 1.0, 5.0, 20.0, 100.0, 700.0] {
            let ours = exp(y);
            assert!((ours - y.exp()).abs() <= 1e-13 * y.exp(), "exp {y}: {ours}");
        }
    }

    fn network(distribution: Distribution) -> Network {
        Network {
            delay_us_min: 100,
            delay_us_max: 100_000,
            distribution,
            delay_us_mean: Some(1_000),
            ..Network::default()
        }
    }

    fn sorted_draws(distribution: Distribution) -> Vec<u64> {
        let mut rng = Rng::new(5, Stream::Delays);
        let network = network(distribution);
        let mut draws: Vec<u64> =
            (0..10_000).map(|_| shaped_delay_us(&network, &mut rng)).collect();
        draws.sort_unstable();
        draws
    }

    #[test]
    fn shaped_delays_stay_in_bounds_and_have_their_shape() {
        assert!(sorted_draws(Distribution::Constant).iter().all(|&d| d == 100));
        let exponential = sorted_draws(Distribution::Exponential);
        let mean = exponential.iter().sum::<u64>() / exponential.len() as u64;
        assert!((1_000..1_200).contains(&mean), "min 100 plus mean 1000: {mean}");
        let pareto = sorted_draws(Distribution::Pareto);
        assert!(pareto[0] >= 100 && pareto[pareto.len() - 1] <= 100_000);
        // Shape 1.5: the median is 100 * 2^(2/3) ~ 159, the 99th percentile
        // 100 * 100^(2/3) ~ 2154.
        let median = pareto[pareto.len() / 2];
        assert!((150..170).contains(&median), "{median}");
        assert!(pareto[pareto.len() * 99 / 100] > 10 * median, "a long tail");
    }
}
