//! Blocked transposition, the inner loop of staging: rows that lie one element apart in
//! the input (a transposed block's) are copied into consecutive rows of a buffer a
//! [`BLOCK`]×[`BLOCK`] square at a time, fetching the input's lines into L2 a few squares
//! ahead. Squares of 8-byte elements are transposed in AVX-512 registers where the CPU has it,
//! others element by element; both copy the same bits.

use crate::kernel::simd::wide;
use crate::prefetch::{LINE, line_l2};
use crate::reference::num::Num;

/// The side of a square: rows copied together, and positions along the row per square.
pub(super) const BLOCK: usize = 8;

/// Positions along the row whose input lines are fetched into L2 ahead of the square being
/// copied (two squares: enough to hide the memory's latency). Not into L1: the lines of one
/// position lie a multiple of 4 KiB apart when rows are (a transposed block of a wide
/// array), so they all fall into the same L1 set, whose 12 ways the lines in flight would
/// overflow. Measured on the blocks of a transposed 8192² `f64` array, one thread: 54–58 ms
/// against 66 ms in a C model of this loop, 73–76 ms against 77 ms here.
const PREFETCH: usize = 2 * BLOCK;

/// Copies `rows` rows (a multiple of [`BLOCK`]) whose element `j` lies at `src + r +
/// j * step` (row `r`), `row_len` elements each, into `out` one row after another.
///
/// # Safety
///
/// `src + r + j * step` must address an initialized `T` for every `r < rows` and
/// `j < row_len`.
pub(super) unsafe fn transpose_rows<T: Num>(src: *const T, step: isize, rows: usize, row_len: usize, out: &mut [T]) {
    debug_assert!(rows.is_multiple_of(BLOCK) && out.len() >= rows * row_len);
    #[cfg(target_arch = "x86_64")]
    if size_of::<T>() == 8 && crate::kernel::simd::has_avx512() {
        // SAFETY: the CPU has AVX-512; an 8-byte `Elem` (`i64`, `f64`) is plain bits, so
        // copying it as a `u64` copies the value, and the caller's promise covers the rest.
        unsafe {
            let out = std::slice::from_raw_parts_mut(out.as_mut_ptr().cast::<u64>(), out.len());
            return avx512::transpose_rows(src.cast::<u64>(), step, rows, row_len, out);
        }
    }
    wide(
        #[inline(always)]
        // SAFETY: the caller's promise.
        || unsafe { blocked(src, step, rows, row_len, out, square) },
    )
}

/// The walk of [`transpose_rows`] with `square` copying each full square (`square(from,
/// step, to, pitch)`: element `r` of line `j` at `from + r + j * step` lands at
/// `to[r * pitch + j]`); positions past the last full square are copied one by one.
///
/// # Safety
///
/// As [`transpose_rows`]; `square` must read only the square's elements.
#[inline(always)]
unsafe fn blocked<T: Copy>(
    src: *const T,
    step: isize,
    rows: usize,
    row_len: usize,
    out: &mut [T],
    square: impl Fn(*const T, isize, &mut [T], usize),
) {
    let out = &mut out[..rows * row_len];
    let per_line = (LINE / size_of::<T>()).max(1);
    let full = row_len / BLOCK * BLOCK;
    for jb in (0..full).step_by(BLOCK) {
        for j in jb + PREFETCH..(jb + PREFETCH + BLOCK).min(row_len) {
            for r in (0..rows).step_by(per_line) {
                line_l2(src.wrapping_offset(r as isize + j as isize * step));
            }
        }
        for rb in (0..rows).step_by(BLOCK) {
            // SAFETY: rows `rb .. rb + BLOCK` of positions `jb .. jb + BLOCK`, all in bounds.
            let from = unsafe { src.offset(rb as isize + jb as isize * step) };
            square(from, step, &mut out[rb * row_len + jb..], row_len);
        }
    }
    for j in full..row_len {
        for r in 0..rows {
            // SAFETY: `r < rows` and `j < row_len`: the caller's promise.
            out[r * row_len + j] = unsafe { *src.offset(r as isize + j as isize * step) };
        }
    }
}

/// One square, element by element (see [`blocked`]).
#[inline(always)]
fn square<T: Num>(from: *const T, step: isize, to: &mut [T], pitch: usize) {
    let mut lines = [[T::default(); BLOCK]; BLOCK];
    for (j, line) in lines.iter_mut().enumerate() {
        // SAFETY: `blocked` hands over a square whose lines are in bounds.
        *line = unsafe { from.offset(j as isize * step).cast::<[T; BLOCK]>().read_unaligned() };
    }
    for r in 0..BLOCK {
        to[r * pitch..r * pitch + BLOCK].copy_from_slice(&std::array::from_fn::<T, BLOCK, _>(|j| lines[j][r]));
    }
}

#[cfg(target_arch = "x86_64")]
mod avx512 {
    //! The 8×8 square of 64-bit elements in AVX-512 registers.

    use std::arch::x86_64::*;

    use super::{BLOCK, blocked};

    /// [`super::transpose_rows`] for 64-bit elements.
    ///
    /// # Safety
    ///
    /// The CPU must have AVX-512 F, and the promise of [`super::transpose_rows`] hold.
    #[target_feature(enable = "avx512f")]
    pub(super) unsafe fn transpose_rows(src: *const u64, step: isize, rows: usize, row_len: usize, out: &mut [u64]) {
        // SAFETY: the caller's promise; `square` reads the square's lines only, and this
        // function has its features.
        unsafe { blocked(src, step, rows, row_len, out, |from, step, to, pitch| square(from, step, to, pitch)) }
    }

    /// Transposes the square of 8 lines at `from + j * step` into 8 rows of `to`, `pitch`
    /// apart: three rounds of shuffles (pairs, quads, halves).
    #[inline]
    #[target_feature(enable = "avx512f")]
    fn square(from: *const u64, step: isize, to: &mut [u64], pitch: usize) {
        assert!(to.len() >= 7 * pitch + BLOCK);
        // SAFETY: `blocked` hands over a square whose 8 lines of 8 elements are in bounds.
        let l: [__m512i; 8] =
            std::array::from_fn(|j| unsafe { _mm512_loadu_si512(from.offset(j as isize * step).cast()) });
        // Pairs: t[2k] holds elements (0, 2, 4, 6) of lines 2k and 2k + 1 interleaved,
        // t[2k + 1] elements (1, 3, 5, 7).
        let t = [
            _mm512_unpacklo_epi64(l[0], l[1]),
            _mm512_unpackhi_epi64(l[0], l[1]),
            _mm512_unpacklo_epi64(l[2], l[3]),
            _mm512_unpackhi_epi64(l[2], l[3]),
            _mm512_unpacklo_epi64(l[4], l[5]),
            _mm512_unpackhi_epi64(l[4], l[5]),
            _mm512_unpacklo_epi64(l[6], l[7]),
            _mm512_unpackhi_epi64(l[6], l[7]),
        ];
        // Quads: element e of lines 0-3 (or 4-7), then element e + 4.
        let (lo, hi) = (_mm512_setr_epi64(0, 1, 8, 9, 4, 5, 12, 13), _mm512_setr_epi64(2, 3, 10, 11, 6, 7, 14, 15));
        let u = [
            _mm512_permutex2var_epi64(t[0], lo, t[2]),
            _mm512_permutex2var_epi64(t[1], lo, t[3]),
            _mm512_permutex2var_epi64(t[0], hi, t[2]),
            _mm512_permutex2var_epi64(t[1], hi, t[3]),
            _mm512_permutex2var_epi64(t[4], lo, t[6]),
            _mm512_permutex2var_epi64(t[5], lo, t[7]),
            _mm512_permutex2var_epi64(t[4], hi, t[6]),
            _mm512_permutex2var_epi64(t[5], hi, t[7]),
        ];
        // Halves: row e is element e of all 8 lines.
        let (first, second) =
            (_mm512_setr_epi64(0, 1, 2, 3, 8, 9, 10, 11), _mm512_setr_epi64(4, 5, 6, 7, 12, 13, 14, 15));
        for e in 0..4 {
            let row_e = _mm512_permutex2var_epi64(u[e], first, u[e + 4]);
            let row_e4 = _mm512_permutex2var_epi64(u[e], second, u[e + 4]);
            // SAFETY: rows `e` and `e + 4` of `to` hold 8 elements (asserted above).
            unsafe {
                _mm512_storeu_si512(to[e * pitch..].as_mut_ptr().cast(), row_e);
                _mm512_storeu_si512(to[(e + 4) * pitch..].as_mut_ptr().cast(), row_e4);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `rows` rows of `row_len` read transposed from a `row_len`×`width` array of
    /// distinct values, starting at column `col`.
    fn check<T: Num>(rows: usize, row_len: usize, width: usize, col: usize, value: impl Fn(usize) -> T) -> Vec<T> {
        let src: Vec<T> = (0..row_len * width).map(&value).collect();
        let mut out = vec![T::default(); rows * row_len];
        // SAFETY: element `col + r + j * width` with `r < rows <= width - col`, `j < row_len`.
        unsafe { transpose_rows(src.as_ptr().add(col), width as isize, rows, row_len, &mut out) };
        for r in 0..rows {
            for j in 0..row_len {
                let (got, want) = (out[r * row_len + j], src[col + r + j * width]);
                // NaNs aside (their bits are checked below).
                #[allow(clippy::eq_op)]
                let both_nan = got != got && want != want;
                assert!(got == want || both_nan, "row {r}, position {j}: {got:?} != {want:?}");
            }
        }
        // The element-by-element squares give the same.
        let mut plain = vec![T::default(); rows * row_len];
        // SAFETY: as above.
        unsafe { blocked(src.as_ptr().add(col), width as isize, rows, row_len, &mut plain, square) };
        assert_eq!(format!("{plain:?}"), format!("{out:?}"));
        out
    }

    #[test]
    fn squares_and_edges() {
        for (rows, row_len, width, col) in
            [(8, 8, 8, 0), (8, 3, 9, 1), (16, 21, 40, 7), (32, 1024, 33, 1), (8, 17, 8, 0)]
        {
            check(rows, row_len, width, col, |i| i as f64 * 0.5 - 3.0);
            check(rows, row_len, width, col, |i| (i as i64).wrapping_mul(-0x1234_5678_9abc));
            check(rows, row_len, width, col, |i| i as f32);
            check(rows, row_len, width, col, |i| i as i32 - 100);
            check(rows, row_len, width, col, |i| i % 3 == 0);
        }
        // NaN payloads and negative zero survive (bits are copied, not values).
        let bits = |i: usize| 0x7ff8_0000_0000_0001 + i as u64 + if i.is_multiple_of(3) { 1 << 63 } else { 0 };
        let out = check(8, 9, 8, 0, |i| f64::from_bits(bits(i)));
        let want: Vec<u64> = (0..8).flat_map(|r| (0..9).map(move |j| bits(r + j * 8))).collect();
        assert_eq!(out.iter().map(|v| v.to_bits()).collect::<Vec<_>>(), want);
        let out = check(8, 9, 8, 0, |i| if i % 2 == 0 { -0.0f64 } else { 1.0 });
        assert_eq!(out[0].to_bits(), (-0.0f64).to_bits());
    }
}
