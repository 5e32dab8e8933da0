//! Wider vectors for the tile loops: the loops are compiled a second time for AVX2 and a
//! third time for AVX-512, and each tile picks the best version the CPU has (detected
//! once). The versions compute the same values bit for bit: the loops are integer and IEEE
//! operations whose results do not depend on the instructions chosen (Rust never contracts
//! `a * b + c` into a fused multiply-add), and library calls (`sin`, `pow`) are the same
//! calls in every version.

use std::sync::OnceLock;

/// The vector extensions this CPU has, best first.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
enum Level {
    /// AVX-512 F/DQ/VL/BW: 8 lanes of `f64`, 64-bit multiplies and conversions.
    Avx512,
    /// AVX2: 4 lanes of `f64`.
    Avx2,
    /// What the compilation target guarantees.
    Baseline,
}

fn level() -> Level {
    static LEVEL: OnceLock<Level> = OnceLock::new();
    *LEVEL.get_or_init(|| {
        #[cfg(target_arch = "x86_64")]
        {
            use std::arch::is_x86_feature_detected as has;
            if has!("avx512f") && has!("avx512dq") && has!("avx512vl") && has!("avx512bw") {
                return Level::Avx512;
            }
            if has!("avx2") {
                return Level::Avx2;
            }
        }
        Level::Baseline
    })
}

/// Whether this CPU has the AVX-512 extensions the wide loops use (F, DQ, VL, BW).
#[cfg(target_arch = "x86_64")]
pub(crate) fn has_avx512() -> bool {
    level() == Level::Avx512
}

/// Whether this CPU has vectors wider than 128 bits (AVX2 or AVX-512) for [`wide`] loops.
pub(crate) fn has_wide_vectors() -> bool {
    level() != Level::Baseline
}

/// Runs `f`, a tile loop, compiled for the widest vectors this CPU has (`f` and what it
/// inlines are compiled once per level).
#[inline(always)]
pub(crate) fn wide<R>(f: impl FnOnce() -> R) -> R {
    #[cfg(target_arch = "x86_64")]
    match level() {
        // SAFETY: `level` found every feature `avx512` enables on this CPU.
        Level::Avx512 => return unsafe { avx512(f) },
        // SAFETY: `level` found AVX2 on this CPU.
        Level::Avx2 => return unsafe { avx2(f) },
        Level::Baseline => {}
    }
    f()
}

/// `f()` compiled with AVX-512.
///
/// # Safety
///
/// The CPU must support AVX-512 F, DQ, VL and BW.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512dq,avx512vl,avx512bw,avx2,fma")]
unsafe fn avx512<R>(f: impl FnOnce() -> R) -> R {
    f()
}

/// `f()` compiled with AVX2.
///
/// # Safety
///
/// The CPU must support AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn avx2<R>(f: impl FnOnce() -> R) -> R {
    f()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_level_computes_the_same() {
        let xs: Vec<f64> = (0..1000).map(|i| (i as f64 * 0.37).sin() * 1e3).collect();
        let f = |x: &[f64]| {
            x.iter()
                .fold(0u64, |acc, &v| acc.wrapping_add(((v * 3.0 + 1.5) / 7.0).floor().to_bits() ^ (v as i64 as u64)))
        };
        let plain = f(&xs);
        assert_eq!(wide(|| f(&xs)), plain);
        #[cfg(target_arch = "x86_64")]
        if level() != Level::Baseline {
            // SAFETY: the CPU has AVX2 (it has AVX-512 or AVX2).
            assert_eq!(unsafe { avx2(|| f(&xs)) }, plain);
        }
    }
}
