//! Software prefetch hints. The hardware prefetcher streams a run of memory only after it
//! has seen a few reads of it, and starts over at every 4 KiB page; a block of a larger
//! array is read as rows of a few pages each, far apart, so each row would begin with
//! that ramp-up. Loops over such rows ask for the first lines of each page of the next
//! row before they read the current one ([`row_pages`]): the stream is running by the
//! time the row is reached (measured: a strided 1024² block of a 8192² `f64` array summed
//! 15–25 % faster, as fast as a contiguous block). Pairwise sums go further and ask for the
//! next row into L2 a line per step as they read the current one ([`line_l2`]; about 10 %
//! faster again on a sum; `var` asks during its second pass over the row in cache, which
//! then overlaps the next row's reads); so do the JIT's pairwise leaves, integer sums and
//! `min`/`max` folds, for each input read in place, in their compiled loops (`jit::compile::hints_next_row`:
//! `(x * 2).sum()` 28 → 22.4 ms against asking in bursts before each leaf, which was
//! itself 20 % faster on `(x + x.t()).sum()` than no hints). A hint never faults and never
//! changes a result.

/// Bytes in a cache line.
pub(crate) const LINE: usize = 64;

/// Bytes in a page, the unit the hardware prefetcher streams within.
const PAGE: usize = 4096;

/// Most pages of one row asked for: past this a row is long enough that the ramp-up at
/// its pages no longer matters, and more hints would only queue up.
const MAX_PAGES: usize = 8;

/// Asks for the line holding `p` to be brought into the cache (a hint: any address will do).
#[inline(always)]
pub(crate) fn line<T>(p: *const T) {
    hint::<{ L1 }, T>(p)
}

/// Asks for the line holding `p` to be brought into the L2 cache, not L1: a hint that does
/// not hold one of L1's few miss buffers while it is served, so a loop can ask for a whole
/// row ahead, a line per step, without stalling its own reads.
#[inline(always)]
pub(crate) fn line_l2<T>(p: *const T) {
    hint::<{ L2 }, T>(p)
}

/// `_MM_HINT_T0` (into every cache level) and `_MM_HINT_T1` (into L2 and outward).
const L1: i32 = 3;
const L2: i32 = 2;

#[inline(always)]
fn hint<const LEVEL: i32, T>(p: *const T) {
    #[cfg(not(target_arch = "x86_64"))]
    let _ = p;
    #[cfg(target_arch = "x86_64")]
    // SAFETY: a prefetch never faults, whatever the address.
    unsafe {
        std::arch::x86_64::_mm_prefetch::<LEVEL>(p.cast())
    }
}

/// Asks for the first two lines of each page that the `bytes` bytes from `p` touch (at most
/// [`MAX_PAGES`] pages): the row a loop reads next.
#[inline]
pub(crate) fn row_pages<T>(p: *const T, bytes: usize) {
    let p = p.cast::<u8>();
    line(p);
    line(p.wrapping_add(LINE));
    let first = (p as usize) / PAGE;
    let last = (p as usize).wrapping_add(bytes.saturating_sub(1)) / PAGE;
    for page in (first + 1..=last).take(MAX_PAGES - 1) {
        let start = p.wrapping_add(page * PAGE - p as usize);
        line(start);
        line(start.wrapping_add(LINE));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(target_arch = "x86_64")]
    #[test]
    fn levels_are_the_intrinsics_hints() {
        assert_eq!((L1, L2), (std::arch::x86_64::_MM_HINT_T0, std::arch::x86_64::_MM_HINT_T1));
    }

    #[test]
    fn hints_accept_any_address() {
        // Null, dangling and out-of-range addresses: a hint must not fault.
        row_pages(std::ptr::null::<f64>(), 1 << 20);
        line_l2(std::ptr::null::<u8>().wrapping_add(12345));
        row_pages(usize::MAX as *const u8, 10_000);
        let v = vec![1.0f64; 3000];
        row_pages(v.as_ptr(), v.len() * 8);
        line(v.as_ptr().wrapping_add(1 << 40));
        assert_eq!(v.iter().sum::<f64>(), 3000.0);
    }
}
