//! Slice algebra for the pushdown rules: composing two slices, and the slice of an op's
//! input that gives the same elements as a slice of its output (elementwise operands with
//! broadcasting, transposes, broadcasts, inserted axes, reductions, random-source views).
//! Each function returns the input's slice entries, or `None` when the slice cannot be
//! moved exactly; callers normalize the entries with `ir::build::slice_spec`, which checks
//! them against the input's shape.

use kiln_ir::op::SourceView;
use kiln_ir::{AxisSlice, SliceElem, SliceSpec};

/// The positions `outer` selects from the positions `inner` selects, as one range (`None`
/// if the step overflows).
pub fn compose_range(inner: AxisSlice, outer: AxisSlice) -> Option<AxisSlice> {
    let n = outer.len();
    if n == 0 {
        return Some(AxisSlice { start: 0, end: 0, step: 1 });
    }
    let first = inner.nth(outer.nth(0));
    let last = inner.nth(outer.nth(n - 1));
    let step = if n == 1 { 1 } else { inner.step.checked_mul(outer.step)? };
    Some(if step > 0 {
        AxisSlice { start: first, end: last + 1, step }
    } else {
        AxisSlice { start: last, end: first + 1, step }
    })
}

/// The canonical form of slice entries: a range of one element has step 1, an empty range
/// is `0..0` (the step of such a range is never used, and keeping it would let composition
/// make endless equivalent slices).
pub fn canonical(elems: &[SliceElem]) -> Vec<SliceElem> {
    elems
        .iter()
        .map(|&e| match e {
            SliceElem::Range(r) if r.is_empty() => SliceElem::Range(AxisSlice { start: 0, end: 0, step: 1 }),
            SliceElem::Range(r) if r.len() == 1 => {
                let p = r.nth(0);
                SliceElem::Range(AxisSlice { start: p, end: p + 1, step: 1 })
            }
            e => e,
        })
        .collect()
}

/// `x.slice(inner).slice(outer)` as one slice of `x`. `None` when `outer` takes an empty
/// range of a new axis of `inner` (a new axis of length 0 is not a slice entry).
pub fn compose(inner: &SliceSpec, outer: &SliceSpec) -> Option<Vec<SliceElem>> {
    let inner = inner.elems();
    let mut out = Vec::with_capacity(inner.len() + outer.elems().len());
    let mut i = 0;
    for &e2 in outer.elems() {
        if e2 == SliceElem::NewAxis {
            out.push(SliceElem::NewAxis);
            continue;
        }
        // The next entry of `inner` that makes an output axis; indices pass through.
        while let Some(&SliceElem::Index(p)) = inner.get(i) {
            out.push(SliceElem::Index(p));
            i += 1;
        }
        let e1 = *inner.get(i)?;
        i += 1;
        match (e1, e2) {
            (SliceElem::Range(r1), SliceElem::Range(r2)) => out.push(SliceElem::Range(compose_range(r1, r2)?)),
            (SliceElem::Range(r1), SliceElem::Index(j)) => out.push(SliceElem::Index(r1.nth(j))),
            (SliceElem::NewAxis, SliceElem::Range(r2)) if r2.len() == 1 => out.push(SliceElem::NewAxis),
            (SliceElem::NewAxis, SliceElem::Index(_)) => {}
            _ => return None,
        }
    }
    out.extend_from_slice(&inner[i..]);
    Some(out)
}

/// The slice of an elementwise operand of shape `x_shape` that gives `spec` of the result
/// (of shape `out_shape`): leading axes the operand lacks are skipped, and a stretched
/// length-1 axis is kept whole (a range) or indexed at 0.
pub fn operand(spec: &SliceSpec, out_shape: &[usize], x_shape: &[usize]) -> Vec<SliceElem> {
    let offset = out_shape.len() - x_shape.len();
    let mut out = Vec::new();
    let mut k = 0;
    for &e in spec.elems() {
        match e {
            SliceElem::NewAxis => {
                if k >= offset {
                    out.push(e);
                }
            }
            SliceElem::Range(_) | SliceElem::Index(_) => {
                if k >= offset {
                    let stretched = x_shape[k - offset] != out_shape[k];
                    out.push(match e {
                        _ if !stretched => e,
                        SliceElem::Range(_) => SliceElem::Range(AxisSlice::full(1)),
                        _ => SliceElem::Index(0),
                    });
                }
                k += 1;
            }
        }
    }
    out
}

/// `transpose(x, perm).slice(spec)` as `transpose(x.slice(s), perm2)`: returns `(s, perm2)`.
/// New axes of `spec` are appended to `x`'s slice and moved into place by `perm2`.
pub fn through_transpose(spec: &SliceSpec, perm: &[usize]) -> Option<(Vec<SliceElem>, Vec<usize>)> {
    let mut per_x: Vec<Option<SliceElem>> = vec![None; perm.len()];
    let mut k = 0;
    for &e in spec.elems() {
        if e != SliceElem::NewAxis {
            per_x[*perm.get(k)?] = Some(e);
            k += 1;
        }
    }
    let x_elems: Vec<SliceElem> = per_x.into_iter().collect::<Option<_>>()?;
    // Rank of each kept (range) axis of x among the kept axes.
    let mut rank = vec![usize::MAX; perm.len()];
    let mut n_kept = 0;
    for (j, e) in x_elems.iter().enumerate() {
        if matches!(e, SliceElem::Range(_)) {
            rank[j] = n_kept;
            n_kept += 1;
        }
    }
    let (mut new_perm, mut n_new, mut k) = (Vec::new(), 0, 0);
    for &e in spec.elems() {
        match e {
            SliceElem::NewAxis => {
                new_perm.push(n_kept + n_new);
                n_new += 1;
            }
            SliceElem::Range(_) => {
                new_perm.push(rank[perm[k]]);
                k += 1;
            }
            SliceElem::Index(_) => k += 1,
        }
    }
    let mut s = x_elems;
    s.extend(std::iter::repeat_n(SliceElem::NewAxis, n_new));
    Some((s, new_perm))
}

/// `insert_axis(x, axis).slice(spec)` as `x.slice(s)`: the inserted axis becomes a new axis
/// of the slice (or is dropped by an index). `None` for an empty range of it.
pub fn through_insert_axis(spec: &SliceSpec, axis: usize) -> Option<Vec<SliceElem>> {
    let mut out = Vec::new();
    let mut k = 0;
    for &e in spec.elems() {
        match e {
            SliceElem::NewAxis => out.push(e),
            _ if k == axis => {
                match e {
                    SliceElem::Range(r) if r.len() == 1 => out.push(SliceElem::NewAxis),
                    SliceElem::Index(_) => {}
                    _ => return None,
                }
                k += 1;
            }
            _ => {
                out.push(e);
                k += 1;
            }
        }
    }
    Some(out)
}

/// `broadcast_to(x, out_shape).slice(spec)` as `broadcast_to(x.slice(s), spec's shape)`:
/// returns `s`. Axes the broadcast adds or stretches are not sliced in `x`.
pub fn through_broadcast(spec: &SliceSpec, x_shape: &[usize], out_shape: &[usize]) -> Vec<SliceElem> {
    operand(spec, out_shape, x_shape)
}

/// `reduce(x, axes, keepdims).slice(spec)` as `reduce(x.slice(s), axes2, keepdims)`: the
/// slice of the kept axes moves below the reduction; reduced axes stay whole. Returns
/// `(s, axes2)`; `None` when `spec` adds axes or indexes a kept length-1 reduced axis.
pub fn through_reduce(
    spec: &SliceSpec,
    x_shape: &[usize],
    axes: &[usize],
    keepdims: bool,
) -> Option<(Vec<SliceElem>, Vec<usize>)> {
    let mut elems = spec.elems().iter().copied();
    let mut s = Vec::with_capacity(x_shape.len());
    for (j, &len) in x_shape.iter().enumerate() {
        let reduced = axes.contains(&j);
        let e = if reduced && !keepdims { None } else { Some(elems.next()?) };
        s.push(match e {
            Some(SliceElem::NewAxis) => return None,
            Some(SliceElem::Range(r)) if reduced && r.len() == 1 => SliceElem::Range(AxisSlice::full(len)),
            Some(_) if reduced => return None,
            Some(e) => e,
            None => SliceElem::Range(AxisSlice::full(len)),
        });
    }
    if elems.next().is_some() {
        return None;
    }
    let dropped_before = |a: usize| s[..a].iter().filter(|e| matches!(e, SliceElem::Index(_))).count();
    let new_axes = axes.iter().map(|&a| a - dropped_before(a)).collect();
    Some((s, new_axes))
}

/// `spec` as two slices applied one after the other: the first without new axes, the
/// second adding them (whole ranges elsewhere). Lets a rule push the first part below an
/// op that cannot take new axes.
pub fn split_new_axes(spec: &SliceSpec) -> (Vec<SliceElem>, Vec<SliceElem>) {
    let mut first = Vec::new();
    let mut then = Vec::new();
    for &e in spec.elems() {
        match e {
            SliceElem::NewAxis => then.push(e),
            SliceElem::Range(r) => {
                first.push(e);
                then.push(SliceElem::Range(AxisSlice::full(r.len())));
            }
            SliceElem::Index(_) => first.push(e),
        }
    }
    (first, then)
}

/// One axis of a view being composed: its base length, start and step, and whether an
/// index removes it.
#[derive(Copy, Clone)]
struct ViewAxis {
    base: i64,
    start: i64,
    step: i64,
    indexed: bool,
}

/// The view of a generated source that `spec` selects from the node holding `view` (of the
/// node's shape `shape`): ranges compose starts and steps, new axes get a base of 1, and an
/// index fixes a position and merges the axis into a neighbour, so the flat index of every
/// element in the generated array is unchanged. `None` on overflow or a 0-d result.
pub fn view_of_slice(view: &SourceView, spec: &SliceSpec) -> Option<SourceView> {
    let mut axes = Vec::with_capacity(spec.elems().len());
    let mut k = 0;
    for &e in spec.elems() {
        let axis = |k: usize| -> Option<(i64, i64, i64)> {
            Some((i64::try_from(*view.base.get(k)?).ok()?, *view.start.get(k)?, *view.step.get(k)?))
        };
        match e {
            SliceElem::NewAxis => axes.push(ViewAxis { base: 1, start: 0, step: 1, indexed: false }),
            SliceElem::Range(r) => {
                let (base, start, step) = axis(k)?;
                let first = if r.is_empty() { 0 } else { i64::try_from(r.nth(0)).ok()? };
                let start = start.checked_add(first.checked_mul(step)?)?;
                let step = step.checked_mul(r.step as i64)?;
                axes.push(ViewAxis { base, start, step, indexed: false });
                k += 1;
            }
            SliceElem::Index(i) => {
                let (base, start, step) = axis(k)?;
                let start = start.checked_add(i64::try_from(i).ok()?.checked_mul(step)?)?;
                axes.push(ViewAxis { base, start, step: 1, indexed: true });
                k += 1;
            }
        }
    }
    while let Some(j) = axes.iter().position(|a| a.indexed) {
        let a = axes[j];
        if j + 1 < axes.len() {
            // Fold the fixed position into the next axis: its base grows by a factor
            // `a.base`, its elements keep their flat index.
            let b = &mut axes[j + 1];
            b.start = a.start.checked_mul(b.base)?.checked_add(b.start)?;
            b.base = a.base.checked_mul(b.base)?;
        } else if j > 0 {
            let b = &mut axes[j - 1];
            b.start = b.start.checked_mul(a.base)?.checked_add(a.start)?;
            b.step = b.step.checked_mul(a.base)?;
            b.base = b.base.checked_mul(a.base)?;
        } else {
            return None;
        }
        axes.remove(j);
    }
    // Canonical form, so composing views never makes endless new equivalent ones: the step
    // of an axis of length 1 is never used, and an empty array reads no element at all.
    let shape = spec.out_shape();
    let empty = shape.contains(&0);
    for (a, &len) in axes.iter_mut().zip(shape.iter()) {
        if empty {
            a.start = 0;
        }
        if empty || len == 1 {
            a.step = 1;
        }
    }
    Some(SourceView {
        base: axes.iter().map(|a| usize::try_from(a.base).ok()).collect::<Option<_>>()?,
        start: axes.iter().map(|a| a.start).collect(),
        step: axes.iter().map(|a| a.step).collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use kiln_ir::build::slice_spec;
    use ndarray::{ArrayD, IxDyn, SliceInfoElem, s};

    fn spec(info: &[SliceInfoElem], shape: &[usize]) -> SliceSpec {
        SliceSpec::normalize(info, shape).unwrap()
    }

    /// The array `0, 1, 2, ...` of `shape` (each element is its flat index).
    fn iota(shape: &[usize]) -> ArrayD<i64> {
        let n: usize = shape.iter().product();
        ArrayD::from_shape_vec(IxDyn(shape), (0..n as i64).collect()).unwrap()
    }

    fn apply(a: &ArrayD<i64>, sp: &SliceSpec) -> ArrayD<i64> {
        let info: Vec<SliceInfoElem> = sp
            .elems()
            .iter()
            .map(|e| match *e {
                SliceElem::Range(r) => r.to_ndarray(),
                SliceElem::Index(i) => SliceInfoElem::Index(i as isize),
                SliceElem::NewAxis => SliceInfoElem::NewAxis,
            })
            .collect();
        a.slice(info.as_slice()).to_owned()
    }

    #[test]
    fn composed_slices_select_the_same_elements() {
        let shape = [7, 9];
        let a = iota(&shape);
        let inners = [
            s![1..6, ..;-2].as_ref().to_vec(),
            s![..;2, 3, ndarray::NewAxis].as_ref().to_vec(),
            s![2, 1..8;3].as_ref().to_vec(),
        ];
        for inner in &inners {
            let si = spec(inner, &shape);
            let mid = apply(&a, &si);
            let outers: Vec<Vec<SliceInfoElem>> = match mid.ndim() {
                1 => vec![
                    s![1..;2].as_ref().to_vec(),
                    s![-1].as_ref().to_vec(),
                    s![..;-1, ndarray::NewAxis].as_ref().to_vec(),
                ],
                2 => vec![s![1.., ..;-1].as_ref().to_vec(), s![0, ..].as_ref().to_vec(), s![.., 0].as_ref().to_vec()],
                _ => vec![s![..;-1, 1..2, 0].as_ref().to_vec()],
            };
            for outer in &outers {
                let so = spec(outer, mid.shape());
                let elems = compose(&si, &so).expect("composable");
                let one = slice_spec(&elems, &shape).unwrap();
                assert_eq!(apply(&a, &one), apply(&mid, &so), "{si} then {so} = {one}");
            }
        }
        let si = spec(s![ndarray::NewAxis, ..].as_ref(), &[3]);
        assert!(compose(&si, &spec(s![0..0, ..].as_ref(), &[1, 3])).is_none());
    }

    #[test]
    fn transposed_reduced_and_broadcast_slices_move_below() {
        // Transposes: (3, 4, 5) permuted by [2, 0, 1] is (5, 3, 4).
        let a = iota(&[3, 4, 5]);
        let t = a.clone().permuted_axes(IxDyn(&[2, 0, 1]));
        let sp = spec(s![1..4, ndarray::NewAxis, 2, ..;-1].as_ref(), t.shape());
        let (xs, perm2) = through_transpose(&sp, &[2, 0, 1]).unwrap();
        let moved = apply(&a, &slice_spec(&xs, a.shape()).unwrap()).permuted_axes(IxDyn(&perm2));
        assert_eq!(moved, apply(&t.to_owned(), &sp));
        // Inserted axes.
        let ins = a.clone().insert_axis(ndarray::Axis(1));
        let sp = spec(s![.., 0..1;-1, 1..3, 4].as_ref(), ins.shape());
        let xs = through_insert_axis(&sp, 1).unwrap();
        assert_eq!(apply(&a, &slice_spec(&xs, a.shape()).unwrap()), apply(&ins, &sp));
        // Reductions keep reduced axes whole.
        let sp = spec(s![2, 1..;2].as_ref(), &[3, 5]);
        let (xs, axes2) = through_reduce(&sp, &[3, 4, 5], &[1], false).unwrap();
        assert_eq!(xs, slice_spec(&xs, &[3, 4, 5]).unwrap().elems());
        let sliced = apply(&a, &slice_spec(&xs, a.shape()).unwrap());
        assert_eq!(sliced.sum_axis(ndarray::Axis(axes2[0])), apply(&a.sum_axis(ndarray::Axis(1)), &sp));
        assert!(through_reduce(&spec(s![ndarray::NewAxis, ..].as_ref(), &[3, 5]), &[3, 4, 5], &[1], false).is_none());
        let with_new = spec(s![1..3, ndarray::NewAxis, 4].as_ref(), &[3, 5]);
        let (first, then) = split_new_axes(&with_new);
        let first = slice_spec(&first, &[3, 5]).unwrap();
        let mid = apply(&iota(&[3, 5]), &first);
        let then = slice_spec(&then, mid.shape()).unwrap();
        assert_eq!(apply(&mid, &then), apply(&iota(&[3, 5]), &with_new));
        assert!(through_reduce(&spec(s![.., 0, ..].as_ref(), &[3, 1, 5]), &[3, 4, 5], &[1], true).is_none());
        // Broadcasting: (4, 1) to (2, 4, 6).
        let x = iota(&[4, 1]);
        let b = x.broadcast(IxDyn(&[2, 4, 6])).unwrap().to_owned();
        let sp = spec(s![1, 1..3, ndarray::NewAxis, 2..5].as_ref(), &[2, 4, 6]);
        let xs = through_broadcast(&sp, &[4, 1], &[2, 4, 6]);
        let want = apply(&b, &sp);
        let got = apply(&x, &slice_spec(&xs, &[4, 1]).unwrap());
        assert_eq!(got.broadcast(IxDyn(want.shape())).unwrap(), want);
    }

    #[test]
    fn views_keep_flat_indices() {
        let base = [6, 8, 5];
        let a = iota(&base);
        let view = SourceView::whole(&base);
        let cases = [
            s![1..5;2, 3, ..;-2].as_ref().to_vec(),
            s![2, .., 4].as_ref().to_vec(),
            s![ndarray::NewAxis, 5, 7, 1..4].as_ref().to_vec(),
            s![.., ..;-3, ndarray::NewAxis, 0].as_ref().to_vec(),
        ];
        for info in &cases {
            let sp = spec(info, &base);
            let want = apply(&a, &sp);
            let v = view_of_slice(&view, &sp).unwrap();
            let (offset, strides) = v.affine();
            let got = ArrayD::from_shape_fn(IxDyn(want.shape()), |p| {
                offset + (0..strides.len()).map(|k| p[k] as i64 * strides[k]).sum::<i64>()
            });
            assert_eq!(got, want, "{sp} gives {v}");
            // A view of a view composes too.
            let sp2 = spec(s![..;-1].as_ref(), want.shape());
            let v2 = view_of_slice(&v, &sp2).unwrap();
            let (o2, s2) = v2.affine();
            let want2 = apply(&want, &sp2);
            let got2 = ArrayD::from_shape_fn(IxDyn(want2.shape()), |p| {
                o2 + (0..strides.len()).map(|k| p[k] as i64 * s2[k]).sum::<i64>()
            });
            assert_eq!(got2, want2);
        }
        assert!(view_of_slice(&SourceView::whole(&[4]), &spec(s![2].as_ref(), &[4])).is_none(), "0-d");
    }
}
