//! The counter-based random generator behind `random.uniform` and `random.normal`: the
//! value at flat index `g` of an array depends only on `(seed, g)`, so any block of any
//! chunking computes its values independently and every chunking gives the same array.
//!
//! Bits are two rounds of the SplitMix64 finalizer ([`kiln_ir::token::mix64`]) over the
//! counter, keyed by the seed. Uniform floats take the top 53 bits; normal values use the
//! Box–Muller transform on the uniforms at counters `2g` and `2g + 1`.

use kiln_ir::token::mix64;

const SEED_KEY_1: u64 = 0x9E37_79B9_7F4A_7C15;
const SEED_KEY_2: u64 = 0xD1B5_4A32_D192_ED03;

/// The stream of one seed: its keys, derived once, then any counter in O(1).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct RandomStream {
    k1: u64,
    k2: u64,
}

impl RandomStream {
    /// The stream of `seed`.
    pub fn new(seed: u64) -> RandomStream {
        RandomStream { k1: mix64(seed ^ SEED_KEY_1), k2: mix64(seed ^ SEED_KEY_2) }
    }

    /// The stream's keys `(k1, k2)`: `bits(c) == mix64(mix64(c ^ k1) + k2)` (wrapping), for
    /// code generators that compute the bits themselves.
    pub fn keys(&self) -> (u64, u64) {
        (self.k1, self.k2)
    }

    /// 64 random bits for `counter`.
    #[inline]
    pub fn bits(&self, counter: u64) -> u64 {
        mix64(mix64(counter ^ self.k1).wrapping_add(self.k2))
    }

    /// A uniform `f64` in `[0, 1)` for counter `g` (a multiple of 2^-53).
    #[inline]
    pub fn uniform01(&self, g: u64) -> f64 {
        (self.bits(g) >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// A standard normal `f64` for flat index `g`, from the uniforms at counters `2g` and
    /// `2g + 1` (Box–Muller; the logarithm takes `1 - u`, which is never 0).
    #[inline]
    pub fn standard_normal(&self, g: u64) -> f64 {
        let c = g.wrapping_mul(2);
        let u1 = self.uniform01(c);
        let u2 = self.uniform01(c.wrapping_add(1));
        (-2.0 * (1.0 - u1).ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }
}

/// 64 random bits for `(seed, counter)`.
pub fn uniform_bits(seed: u64, counter: u64) -> u64 {
    RandomStream::new(seed).bits(counter)
}

/// A uniform `f64` in `[0, 1)` for `(seed, g)`.
pub fn uniform01(seed: u64, g: u64) -> f64 {
    RandomStream::new(seed).uniform01(g)
}

/// A standard normal `f64` for `(seed, g)`.
pub fn standard_normal(seed: u64, g: u64) -> f64 {
    RandomStream::new(seed).standard_normal(g)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mean_var(xs: impl Iterator<Item = f64>) -> (f64, f64) {
        let v: Vec<f64> = xs.collect();
        let n = v.len() as f64;
        let mean = v.iter().sum::<f64>() / n;
        let var = v.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / n;
        (mean, var)
    }

    #[test]
    fn deterministic_and_seed_dependent() {
        assert_eq!(uniform_bits(7, 123), uniform_bits(7, 123));
        assert_ne!(uniform_bits(7, 123), uniform_bits(8, 123));
        assert_ne!(uniform_bits(7, 123), uniform_bits(7, 124));
        assert_eq!(standard_normal(1, 5).to_bits(), RandomStream::new(1).standard_normal(5).to_bits());
        // Neighbouring seeds give unrelated streams.
        let same = (0..1000).filter(|&g| uniform01(1, g) == uniform01(2, g)).count();
        assert_eq!(same, 0);
    }

    #[test]
    fn uniform_moments_and_range() {
        let s = RandomStream::new(42);
        assert!((0..100_000).map(|g| s.uniform01(g)).all(|u| (0.0..1.0).contains(&u)));
        let (mean, var) = mean_var((0..1_000_000).map(|g| s.uniform01(g)));
        assert!((mean - 0.5).abs() < 2e-3, "mean {mean}");
        assert!((var - 1.0 / 12.0).abs() < 1e-3, "var {var}");
    }

    #[test]
    fn normal_moments() {
        let s = RandomStream::new(3);
        let xs: Vec<f64> = (0..1_000_000).map(|g| s.standard_normal(g)).collect();
        assert!(xs.iter().all(|x| x.is_finite()));
        let (mean, var) = mean_var(xs.iter().copied());
        assert!(mean.abs() < 5e-3, "mean {mean}");
        assert!((var - 1.0).abs() < 5e-3, "var {var}");
        let within_1sd = xs.iter().filter(|x| x.abs() < 1.0).count() as f64 / xs.len() as f64;
        assert!((within_1sd - 0.6827).abs() < 3e-3, "{within_1sd}");
    }
}
