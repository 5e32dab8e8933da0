//! Slices pushed into `linspace`, only where the result is provably the same bit for bit.
//!
//! kiln's `linspace(start, stop, n, endpoint)` computes element `i` as NumPy does (see
//! `codegen::reference::source::linspace`; [`Linspace::at`] is the same formula):
//! `i * step + start` with `step = (stop - start) / div` (`div` is `n - 1` with the
//! endpoint, `n` without), except that the last element is exactly `stop` with the
//! endpoint, and that a zero `step` switches to `(i / div) * (stop - start) + start`.
//!
//! A sliced linspace is another linspace only when the new op computes every selected
//! element with the same roundings. The op has no offset, so the new one starts at the
//! same `start`; it then matches the old one exactly when its own step, computed from its
//! own `stop` and `num` the way the interpreters compute it, is `k · step` to the bit, for a
//! slice `[0..;k]` with `k` a power of two: `j · (k·step)` and `(j·k) · step` are then the
//! same real number (scaling by a power of two is exact), rounded once, then added to the
//! same `start`. The new `stop` is found by trying the few values that can give that step
//! (the old last selected element with the endpoint, `start + len · k·step` and its
//! neighbours without), each checked by recomputing the step as the interpreters do.
//!
//! Not pushed, because no `linspace` reproduces them in general: an offset start
//! (`fl(fl(i0·step + start) + fl(j·step))` rounds twice where the original
//! `fl((i0 + j)·step + start)` rounds once), a step that is not a power of two
//! (`fl(j·fl(k·step))` rounds twice), negative steps, and slices of a linspace whose step
//! is zero, infinite or NaN. Exact for any linspace: one element (an index, or a range of
//! one element) becomes a `full` of that element's value, computed with the interpreters'
//! formula; an empty range becomes an empty linspace.

use kiln_ir::{Op, Scalar, SliceElem};

use super::pushdown::slice_input;
use super::{Ctx, Term};
use crate::egraph::language::ENode;

/// The parameters of a `linspace` of `n` elements.
#[derive(Copy, Clone, Debug)]
struct Linspace {
    start: f64,
    stop: f64,
    n: usize,
    endpoint: bool,
}

impl Linspace {
    /// The divisor of `stop - start`.
    fn div(&self) -> usize {
        if self.endpoint { self.n.saturating_sub(1) } else { self.n }
    }

    /// The step, computed as the interpreters compute it (NaN without a divisor).
    fn step(&self) -> f64 {
        let div = self.div();
        if div > 0 { (self.stop - self.start) / div as f64 } else { f64::NAN }
    }

    /// Element `i`, exactly as `codegen::reference::source::linspace` and the kernel
    /// interpreter compute it.
    fn at(&self, i: usize) -> f64 {
        let (div, delta, step) = (self.div(), self.stop - self.start, self.step());
        if self.endpoint && self.n > 1 && i == self.n - 1 {
            self.stop
        } else if div == 0 {
            self.start
        } else if step == 0.0 {
            (i as f64 / div as f64) * delta + self.start
        } else {
            i as f64 * step + self.start
        }
    }

    /// Whether element `i` is `i * step + start`, with the step finite and not zero.
    fn is_affine_at(&self, i: usize) -> bool {
        let step = self.step();
        !(self.endpoint && self.n > 1 && i == self.n - 1) && self.div() > 0 && step.is_finite() && step != 0.0
    }

    /// `self[0..;k]` with `len` elements as one linspace with the same values, if there
    /// is one (see the module docs).
    fn strided_prefix(&self, k: usize, len: usize) -> Option<Linspace> {
        // Positions convert to `f64` exactly below 2^53.
        const EXACT: usize = 1 << 53;
        if len < 2 || !k.is_power_of_two() || (len - 1).checked_mul(k)? >= self.n.min(EXACT) {
            return None;
        }
        let last = (len - 1) * k;
        let endpoint_last = self.endpoint && self.n > 1 && last == self.n - 1;
        if !self.is_affine_at(0) || (!endpoint_last && !self.is_affine_at(last)) {
            return None;
        }
        let step = k as f64 * self.step();
        if !step.is_finite() {
            return None;
        }
        let with_endpoint = Linspace { start: self.start, stop: self.at(last), n: len, endpoint: true };
        let mut candidates = vec![with_endpoint];
        if !endpoint_last {
            let stop = len as f64 * step + self.start;
            for stop in [stop, stop.next_down(), stop.next_up()] {
                candidates.push(Linspace { start: self.start, stop, n: len, endpoint: false });
            }
        }
        candidates.into_iter().find(|c| c.step().to_bits() == step.to_bits() && c.is_affine_at(0))
    }
}

/// `linspace[i] → full(value)`, `linspace[0..;2^p] → linspace(start, stop', len)` when
/// exact, and an empty range to an empty linspace (see the module docs).
pub(super) fn slice_linspace(ctx: &Ctx<'_>, node: &ENode) -> Vec<Term> {
    let Some((spec, x)) = slice_input(ctx, node) else { return Vec::new() };
    let [elem] = spec.elems() else { return Vec::new() };
    let meta = ctx.node_meta(node);
    let n = ctx.meta(x).shape.first().copied().unwrap_or(0);
    ctx.ops(x)
        .filter_map(|(_, op)| {
            let Op::Linspace { start, stop, endpoint } = *op else { return None };
            let old = Linspace { start: start.0, stop: stop.0, n, endpoint };
            let new_op = match *elem {
                SliceElem::Index(i) => Op::Full(Scalar::F64(old.at(i))),
                SliceElem::Range(r) if r.is_empty() => op.clone(),
                SliceElem::Range(r) if r.len() == 1 => Op::Full(Scalar::F64(old.at(r.nth(0)))),
                SliceElem::Range(r) if r.start == 0 && r.step > 0 => {
                    let new = old.strided_prefix(r.step as usize, r.len())?;
                    Op::Linspace { start, stop: kiln_ir::F64Bits(new.stop), endpoint: new.endpoint }
                }
                _ => return None,
            };
            Some(Term::Node { op: new_op, meta: meta.clone(), inputs: Vec::new() })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The elements of `l`.
    fn values(l: &Linspace) -> Vec<u64> {
        (0..l.n).map(|i| l.at(i).to_bits()).collect()
    }

    /// Checks that every pushed strided prefix has the original's elements, bit for bit,
    /// and returns how many of the tried ones were pushed.
    fn pushed(cases: &[(f64, f64, usize, bool)]) -> (usize, usize) {
        let (mut tried, mut pushed) = (0, 0);
        for &(start, stop, n, endpoint) in cases {
            let old = Linspace { start, stop, n, endpoint };
            let all = values(&old);
            for k in [1, 2, 4, 8] {
                for len in 2..=n.div_ceil(k) {
                    tried += 1;
                    let Some(new) = old.strided_prefix(k, len) else { continue };
                    pushed += 1;
                    let want: Vec<u64> = (0..len).map(|j| all[j * k]).collect();
                    assert_eq!(values(&new), want, "{old:?}[..{len};{k}] as {new:?}");
                }
            }
        }
        (tried, pushed)
    }

    #[test]
    fn strided_prefixes_are_pushed_only_with_identical_values() {
        let mut cases = vec![
            (0.0, 1.0, 101, true),
            (0.0, 1.0, 100, false),
            (0.1, 0.7, 7, true),
            (-3.5, 11.25, 64, true),
            (1e-300, 2e-300, 33, false),
            (5.0, -5.0, 21, true),
            (-0.0, 1.0, 9, true),
            (1.0, 1.0 + 1e-15, 17, true),
        ];
        // Awkward decimal bounds, where the rounding of the step matters.
        for i in 1..40 {
            cases.push((0.1 * i as f64, 0.3 + 0.7 * i as f64, 3 + i * 7 % 50, i % 2 == 0));
        }
        let (tried, pushed) = pushed(&cases);
        // Most prefixes can be expressed; the rest stay slices.
        assert!(pushed * 2 > tried, "{pushed} of {tried}");
    }

    #[test]
    fn inexact_or_degenerate_prefixes_are_not_pushed() {
        let l = Linspace { start: 0.0, stop: 1.0, n: 10, endpoint: true };
        assert!(l.strided_prefix(3, 3).is_none(), "step 3 is not a power of two");
        assert!(l.strided_prefix(2, 6).is_none(), "past the end");
        assert!(l.strided_prefix(1, 1).is_none(), "one element is a full");
        let flat = Linspace { start: 2.0, stop: 2.0, n: 10, endpoint: true };
        assert!(flat.strided_prefix(1, 5).is_none(), "a zero step uses another formula");
        let huge = Linspace { start: -f64::MAX, stop: f64::MAX, n: 10, endpoint: true };
        assert!(huge.strided_prefix(1, 5).is_none(), "an infinite step");
        let nan = Linspace { start: f64::NAN, stop: 1.0, n: 10, endpoint: true };
        assert!(nan.strided_prefix(1, 5).is_none());
    }

    #[test]
    fn single_elements_follow_the_interpreters_formula() {
        // np.linspace(0, 1, 5) and np.linspace(0.1, 0.7, 7)[4:7].
        let l = Linspace { start: 0.0, stop: 1.0, n: 5, endpoint: true };
        assert_eq!((0..5).map(|i| l.at(i)).collect::<Vec<_>>(), vec![0.0, 0.25, 0.5, 0.75, 1.0]);
        let l = Linspace { start: 0.1, stop: 0.7, n: 7, endpoint: true };
        assert_eq!(l.at(6), 0.7);
        let flat = Linspace { start: -0.0, stop: -0.0, n: 3, endpoint: true };
        assert_eq!([flat.at(0).to_bits(), flat.at(2).to_bits()], [0.0f64.to_bits(), (-0.0f64).to_bits()]);
    }
}
