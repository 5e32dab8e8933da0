//! Reductions of a JIT-compiled kernel's value over one block: the row function computes
//! the value a row piece at a time into a small buffer, which is folded with the
//! interpreter's own folding algebra (`reference::reduce::fold`, `arg`) over the same
//! pieces in the same order (a row of at most 512 elements is one piece, a longer row is cut
//! into the interpreter's even segments of at most 1024). So the partial state equals the
//! interpreter's bit for bit, including the rounding of float sums. Float sums along rows
//! call the compiled pairwise leaf instead, integer sums along rows the compiled integer
//! sum and float `min`/`max` along rows the compiled extreme fold, with no buffer.

use std::marker::PhantomData;

use kiln_ir::{Chunk, DType, Element, ReduceOp};
use ndarray::{ArcArray, ArrayD, IxDyn};

use crate::error::{Error, Result};
use crate::jit::cache::Compiled;
use crate::jit::compile::RowFn;
use crate::jit::pair::Mirror;
use crate::jit::run::{RowCursor, Walk, call_row};
use crate::kernel::{ReducedLayout, c_strides};
use crate::reference::num::{Num, with_dtype};
use crate::reference::reduce::arg::{better, scan_slice};
use crate::reference::reduce::fold::{AnyAll, Fold, MinMax, ProdF64, ProdI64, SumF64, SumI64, pairwise_sum};
use crate::reference::reduce::{Accumulators, PartialState};

/// The interpreter's piece length for rows of `row_len` elements.
pub(super) fn piece_len(row_len: usize) -> usize {
    let row_len = row_len.max(1);
    if row_len <= 512 { row_len } else { row_len.div_ceil(row_len.div_ceil(1024)) }
}

/// C-order strides of `shape`.
/// Where the current piece goes.
#[derive(Copy, Clone, Debug)]
struct Piece {
    /// The row's first accumulator.
    kept: usize,
    /// The piece's first position in the row.
    s: usize,
    /// The flat index in the whole space of the row's first position (argmin/argmax).
    flat: i64,
    /// The global position of the row along the one reduced row axis (argmin/argmax).
    axis_pos: i64,
}

/// The geometry of a reduction over one block.
struct Geometry {
    along_rows: bool,
    shape: Vec<usize>,
    n_acc: usize,
    count: u64,
    kept_strides: Vec<i64>,
    flat_strides: Vec<i64>,
    flat_init: i64,
    arg_axis: Option<usize>,
    row_start: usize,
}

impl Geometry {
    fn new(op: ReduceOp, axes: &[u32], walk: &Walk, ndim: usize, whole: &[usize]) -> Geometry {
        let walked = walk.lens.len();
        let last = walked - 1;
        let is_arg = matches!(op, ReduceOp::ArgMin | ReduceOp::ArgMax);
        let ReducedLayout { reduced, count, state_shape: walked_shape, kept_strides } =
            ReducedLayout::new(op, axes, &walk.lens, ndim);
        let whole_walked: Vec<usize> = if ndim == 0 { vec![1] } else { whole.to_vec() };
        let flat_strides = c_strides(&whole_walked);
        let flat_init =
            walk.starts.iter().zip(&flat_strides).fold(0i64, |a, (&s, &c)| a.wrapping_add((s as i64).wrapping_mul(c)));
        let arg_axis = (is_arg && reduced.len() != walked).then(|| reduced[0]);
        Geometry {
            along_rows: reduced.contains(&last),
            n_acc: walked_shape.iter().product(),
            shape: if ndim == 0 { Vec::new() } else { walked_shape },
            count,
            kept_strides,
            flat_strides,
            flat_init,
            arg_axis,
            row_start: walk.starts[last],
        }
    }
}

/// Runs the row function over every piece of the block, handing each piece's values to
/// `fold` (a value that is a plain load of a unit-stride input is handed over in place).
fn for_each_piece<T: Num>(
    c: &Compiled,
    walk: &Walk,
    g: &Geometry,
    mut fold: impl FnMut(Piece, &[T]) -> Result<()>,
) -> Result<()> {
    if let Some(k) = c.direct {
        return for_each_row_piece(walk, g, |cursor, p, n| {
            let ptrs = cursor.ptrs(walk, p.s);
            // SAFETY: the value is input `k`, of its dtype `T`, read with unit stride (in
            // place or from its stage buffer): positions `p.s .. p.s + n` of the row are
            // `n` consecutive `T`s from its pointer, inside its block.
            let xs = unsafe { std::slice::from_raw_parts((*ptrs.add(k)).cast::<T>(), n) };
            fold(p, xs)
        });
    }
    let map = c.f.ok_or_else(|| Error::Internal("jit: a reduction without its map function".into()))?;
    let mut buf: Vec<T> = vec![T::default(); piece_len(walk.row_len())];
    for_each_row_piece(walk, g, |cursor, p, n| {
        // SAFETY: `buf` holds `piece_len >= n` elements of the value's dtype, and positions
        // `p.s .. p.s + n` lie inside the row.
        unsafe { call_row(c, map, walk, cursor, p.s, n, buf.as_mut_ptr() as *mut u8)? };
        fold(p, &buf[..n])
    })
}

/// Visits every piece of the block in the interpreter's order: `visit(cursor, piece, n)`
/// with the cursor at the piece's row and `n` its length.
fn for_each_row_piece(
    walk: &Walk,
    g: &Geometry,
    mut visit: impl FnMut(&mut RowCursor, Piece, usize) -> Result<()>,
) -> Result<()> {
    let row_len = walk.row_len();
    let seg = piece_len(row_len);
    let mut cursor = RowCursor::new(walk);
    let outer = walk.lens.len() - 1;
    for _ in 0..walk.n_rows() {
        let mut kept = 0i64;
        let mut flat = g.flat_init;
        for k in 0..outer {
            let p = cursor.at(k) as i64;
            kept = kept.wrapping_add(p.wrapping_mul(g.kept_strides[k]));
            flat = flat.wrapping_add(p.wrapping_mul(g.flat_strides[k]));
        }
        let axis_pos = g.arg_axis.filter(|&k| k < outer).map_or(0, |k| (walk.starts[k] + cursor.at(k)) as i64);
        for s in (0..row_len).step_by(seg) {
            let n = seg.min(row_len - s);
            visit(&mut cursor, Piece { kept: kept as usize, s, flat, axis_pos }, n)?;
        }
        cursor.advance(walk);
    }
    Ok(())
}

fn out_of_state() -> Error {
    Error::Internal("jit: reduction accumulator outside the state".into())
}

/// Folds with `f` into one accumulator per state position.
fn fold_with<F: Fold>(f: &F, c: &Compiled, walk: &Walk, g: &Geometry) -> Result<Vec<F::Acc>>
where
    F::In: Num,
{
    let mut acc = vec![f.identity(); g.n_acc];
    for_each_piece::<F::In>(c, walk, g, |p, xs| {
        if g.along_rows {
            let a = acc.get_mut(p.kept).ok_or_else(out_of_state)?;
            *a = f.merge(*a, f.fold_slice(xs));
        } else {
            let a = acc.get_mut(p.kept + p.s..p.kept + p.s + xs.len()).ok_or_else(out_of_state)?;
            a.iter_mut().zip(xs).for_each(|(a, &x)| *a = f.step(*a, x));
        }
        Ok(())
    })?;
    Ok(acc)
}

/// NumPy's pairwise sum of the value (as `f64`) over positions `s .. s + n` of the
/// cursor's row, with the compiled leaf summing runs of at most 128.
pub(super) fn pairwise(
    c: &Compiled,
    leaf: RowFn,
    walk: &Walk,
    cursor: &mut RowCursor,
    s: usize,
    n: usize,
) -> Result<f64> {
    if n <= 128 {
        if c.memory_bound && !c.hints_next_row {
            cursor.ahead(walk, s, n);
        }
        let mut out = 0.0f64;
        // SAFETY: `out` has room for the one `f64` the leaf stores; positions `s .. s + n`
        // lie inside the row.
        unsafe { call_row(c, leaf, walk, cursor, s, n, &mut out as *mut f64 as *mut u8)? };
        return Ok(out);
    }
    let half = n / 2;
    let half = half - half % 8;
    Ok(pairwise(c, leaf, walk, cursor, s, half)? + pairwise(c, leaf, walk, cursor, s + half, n - half)?)
}

/// Float `sum`/`mean` along rows with the compiled pairwise leaf: each piece's pairwise
/// sum merged into its accumulator, as `SumF64` folds it.
fn sum_by_leaf(c: &Compiled, leaf: RowFn, walk: &Walk, g: &Geometry) -> Result<Vec<f64>> {
    let mut acc = vec![0.0f64; g.n_acc];
    for_each_row_piece(walk, g, |cursor, p, n| {
        let sum = pairwise(c, leaf, walk, cursor, p.s, n)?;
        let a = acc.get_mut(p.kept).ok_or_else(out_of_state)?;
        *a += sum;
        Ok(())
    })?;
    Ok(acc)
}

/// Integer `sum` along rows with the compiled integer sum: the wrapping sums of runs of at
/// most 128 positions (each asking for its part of the next row, as the pairwise sums do:
/// in the compiled loop, or here before the call where it does not) added to the row's
/// accumulator; wrapping sums in any order are the interpreter's bits.
fn int_sum_by_rows(c: &Compiled, f: RowFn, walk: &Walk, g: &Geometry) -> Result<Vec<i64>> {
    let mut acc = vec![0i64; g.n_acc];
    for_each_row_piece(walk, g, |cursor, p, n| {
        let a = acc.get_mut(p.kept).ok_or_else(out_of_state)?;
        for s in (p.s..p.s + n).step_by(128) {
            let m = 128.min(p.s + n - s);
            if c.memory_bound && !c.hints_next_row {
                cursor.ahead(walk, s, m);
            }
            let mut sum = 0i64;
            // SAFETY: `sum` has room for the one `i64` the function stores; positions
            // `s .. s + m` lie inside the row, and `m` is below a fill window, so the call
            // is not cut into windows (each of which would store a sum).
            unsafe { call_row(c, f, walk, cursor, s, m, &mut sum as *mut i64 as *mut u8)? };
            *a = a.wrapping_add(sum);
        }
        Ok(())
    })?;
    Ok(acc)
}

/// `min`/`max` per state position: along rows with the compiled extreme fold (each piece
/// folded as `MinMax::fold_slice` folds it, then merged), otherwise as [`fold_with`].
fn extremes<T: Num, const MAX: bool>(f: &MinMax<T, MAX>, c: &Compiled, walk: &Walk, g: &Geometry) -> Result<Vec<T>> {
    let Some(fold) = c.extreme.filter(|_| g.along_rows) else {
        return fold_with(f, c, walk, g);
    };
    let mut acc = vec![f.identity(); g.n_acc];
    for_each_row_piece(walk, g, |cursor, p, n| {
        if n > crate::jit::fills::WINDOW {
            return Err(Error::Internal(format!("jit: a piece of {n} positions for the extreme fold")));
        }
        let mut v = T::default();
        // SAFETY: `v` has room for the one value of the kernel's float dtype `T` the fold
        // stores; positions `p.s .. p.s + n` lie inside the row, and `n` is at most a fill
        // window, so the call is not cut into windows.
        unsafe { call_row(c, fold, walk, cursor, p.s, n, &mut v as *mut T as *mut u8)? };
        let a = acc.get_mut(p.kept).ok_or_else(out_of_state)?;
        *a = f.merge(*a, v);
        Ok(())
    })?;
    Ok(acc)
}

/// Count, mean and M2 per state position (two passes per piece and Chan's merge along
/// rows, Welford's update across rows), as the interpreter computes them.
fn moments<T: Num>(c: &Compiled, walk: &Walk, g: &Geometry) -> Result<(Vec<f64>, Vec<f64>)> {
    let (mut n, mut mean, mut m2) = (vec![0u64; g.n_acc], vec![0.0f64; g.n_acc], vec![0.0f64; g.n_acc]);
    for_each_piece::<T>(c, walk, g, |p, piece| {
        if g.along_rows {
            let k = p.kept;
            let (Some(n), Some(mean), Some(m2)) = (n.get_mut(k), mean.get_mut(k), m2.get_mut(k)) else {
                return Err(out_of_state());
            };
            let nb = piece.len() as u64;
            let fb = nb as f64;
            let mean_b = pairwise_sum(piece, &T::to_f64) / fb;
            let m2_b = pairwise_sum(piece, &|v: T| {
                let d = v.to_f64() - mean_b;
                d * d
            });
            if *n == 0 {
                (*n, *mean, *m2) = (nb, mean_b, m2_b);
            } else {
                let fa = *n as f64;
                let total = fa + fb;
                let delta = mean_b - *mean;
                *mean += delta * (fb / total);
                *m2 += m2_b + delta * delta * (fa * fb / total);
                *n += nb;
            }
        } else {
            let r = p.kept + p.s..p.kept + p.s + piece.len();
            let (Some(n), Some(mean), Some(m2)) = (n.get_mut(r.clone()), mean.get_mut(r.clone()), m2.get_mut(r)) else {
                return Err(out_of_state());
            };
            for (((c, m), s), &x) in n.iter_mut().zip(mean.iter_mut()).zip(m2.iter_mut()).zip(piece) {
                *c += 1;
                let x = x.to_f64();
                let delta = x - *m;
                *m += delta / *c as f64;
                *s += delta * (x - *m);
            }
        }
        Ok(())
    })?;
    Ok((mean, m2))
}

/// Best values and their indices per state position.
fn arg<T: Num, const MAX: bool>(c: &Compiled, walk: &Walk, g: &Geometry) -> Result<(Vec<T>, Vec<i64>)> {
    let (mut values, mut index) = (vec![T::default(); g.n_acc], vec![-1i64; g.n_acc]);
    for_each_piece::<T>(c, walk, g, |p, piece| {
        if g.along_rows {
            let (Some(v0), Some(i0)) = (values.get_mut(p.kept), index.get_mut(p.kept)) else {
                return Err(out_of_state());
            };
            let Some((v, i)) = scan_slice::<T, MAX>(piece) else { return Ok(()) };
            let at = (p.s + i) as i64;
            let gi = if g.arg_axis.is_none() { p.flat.wrapping_add(at) } else { g.row_start as i64 + at };
            if *i0 < 0 || better::<T, MAX>(v, *v0) {
                (*v0, *i0) = (v, gi);
            }
        } else {
            let r = p.kept + p.s..p.kept + p.s + piece.len();
            let (Some(vs), Some(is)) = (values.get_mut(r.clone()), index.get_mut(r)) else {
                return Err(out_of_state());
            };
            for ((v, i), &x) in vs.iter_mut().zip(is.iter_mut()).zip(piece) {
                if *i < 0 || better::<T, MAX>(x, *v) {
                    (*v, *i) = (x, p.axis_pos);
                }
            }
        }
        Ok(())
    })?;
    Ok((values, index))
}

fn array<T: Clone>(v: Vec<T>, shape: &[usize]) -> Result<ArcArray<T, IxDyn>> {
    ArrayD::from_shape_vec(IxDyn(shape), v)
        .map(|a| a.into_shared())
        .map_err(|e| Error::Internal(format!("jit: reduction state of shape {shape:?}: {e}")))
}

fn chunk<T: Element>(v: Vec<T>, shape: &[usize]) -> Result<Chunk> {
    Ok(T::into_chunk(array(v, shape)?))
}

/// The partial state of `op` over kernel `axes` of the compiled kernel's value (of dtype
/// `dtype`) over the block `walk` (unsimplified) of a `ndim`-d space of shape `whole`.
pub(crate) fn partial(
    c: &Compiled,
    walk: &Walk,
    op: ReduceOp,
    axes: &[u32],
    dtype: DType,
    ndim: usize,
    whole: &[usize],
) -> Result<PartialState> {
    let g = Geometry::new(op, axes, walk, ndim, whole);
    let acc = with_dtype!(dtype, T => typed::<T>(op, c, walk, &g)?);
    Ok(PartialState { count: g.count, acc })
}

/// The partial states of two blocks (see [`super::try_run_pair`]): a float `sum` or `mean`
/// over every axis, or along the rows, of a 2-d block and its mirror in one pass when
/// `mirror` says how the second reads the first's inputs (`pair::sums_in_one_pass`),
/// otherwise one block after the other (the second then reads what the first left in
/// cache).
#[allow(clippy::too_many_arguments)]
pub(crate) fn pair_partial(
    c: [&Compiled; 2],
    walks: [&Walk; 2],
    mirror: Option<&Mirror>,
    op: ReduceOp,
    axes: &[u32],
    dtype: DType,
    ndim: usize,
    whole: &[usize],
) -> Result<(PartialState, PartialState)> {
    let g = walks.map(|w| Geometry::new(op, axes, w, ndim, whole));
    let mirrored = walks[0].lens.len() == 2 && walks[1].lens == [walks[0].lens[1], walks[0].lens[0]];
    // One state, or (summed along the rows of 2-d blocks) one per row.
    let per_row = mirrored && axes == [1];
    let folded = g.iter().all(|g| g.along_rows && (g.n_acc == 1 || per_row));
    let summed = matches!(op, ReduceOp::Sum | ReduceOp::Mean) && dtype.is_float();
    match (c[0].leaf, mirror) {
        (Some(leaf), Some(mirror)) if mirrored && folded && summed => {
            let [a, b] = super::pair::sums_in_one_pass(c[0], leaf, walks[0], mirror, per_row)?;
            super::cache::count_one_pass_pair();
            let state = |sums: Vec<f64>, g: &Geometry| {
                array(sums, &g.shape).map(|acc| PartialState { count: g.count, acc: Accumulators::Float(acc) })
            };
            Ok((state(a, &g[0])?, state(b, &g[1])?))
        }
        _ => Ok((
            partial(c[0], walks[0], op, axes, dtype, ndim, whole)?,
            partial(c[1], walks[1], op, axes, dtype, ndim, whole)?,
        )),
    }
}

/// The partial state of an empty block (no code runs).
pub(crate) fn partial_empty(
    walk: &Walk,
    op: ReduceOp,
    axes: &[u32],
    dtype: DType,
    ndim: usize,
    whole: &[usize],
) -> Result<PartialState> {
    let g = Geometry::new(op, axes, walk, ndim, whole);
    Ok(PartialState { count: g.count, acc: empty(op, dtype, &g)? })
}

fn typed<T: Num>(op: ReduceOp, c: &Compiled, walk: &Walk, g: &Geometry) -> Result<Accumulators> {
    use ReduceOp::*;
    let float = T::DTYPE.is_float();
    let shape = &g.shape;
    Ok(match op {
        Sum if !float => {
            let sums = match c.int_sum {
                Some(f) if g.along_rows => int_sum_by_rows(c, f, walk, g)?,
                _ => fold_with(&SumI64::<T>(PhantomData), c, walk, g)?,
            };
            Accumulators::Int(array(sums, shape)?)
        }
        Sum | Mean => {
            let sums = match c.leaf {
                Some(leaf) if g.along_rows => sum_by_leaf(c, leaf, walk, g)?,
                _ => fold_with(&SumF64::<T>(PhantomData), c, walk, g)?,
            };
            Accumulators::Float(array(sums, shape)?)
        }
        Prod if float => Accumulators::Float(array(fold_with(&ProdF64::<T>(PhantomData), c, walk, g)?, shape)?),
        Prod => Accumulators::Int(array(fold_with(&ProdI64::<T>(PhantomData), c, walk, g)?, shape)?),
        Min => Accumulators::Extreme(chunk(extremes(&MinMax::<T, false>(PhantomData), c, walk, g)?, shape)?),
        Max => Accumulators::Extreme(chunk(extremes(&MinMax::<T, true>(PhantomData), c, walk, g)?, shape)?),
        Any => Accumulators::Logical(array(fold_with(&AnyAll::<T, false>(PhantomData), c, walk, g)?, shape)?),
        All => Accumulators::Logical(array(fold_with(&AnyAll::<T, true>(PhantomData), c, walk, g)?, shape)?),
        Var { .. } | Std { .. } => {
            let (mean, m2) = moments::<T>(c, walk, g)?;
            Accumulators::Moments { mean: array(mean, shape)?, m2: array(m2, shape)? }
        }
        ArgMin | ArgMax => {
            let (values, index) = if op == ArgMax { arg::<T, true>(c, walk, g)? } else { arg::<T, false>(c, walk, g)? };
            Accumulators::Arg { values: chunk(values, shape)?, index: array(index, shape)? }
        }
    })
}

/// The accumulators of no elements (an empty block), as the interpreter starts them.
fn empty(op: ReduceOp, dtype: DType, g: &Geometry) -> Result<Accumulators> {
    use ReduceOp::*;
    let (n, shape) = (g.n_acc, &g.shape);
    fn extreme<T: Num>(max: bool, n: usize, shape: &[usize]) -> Result<Chunk> {
        chunk(vec![if max { T::MAX_IDENTITY } else { T::MIN_IDENTITY }; n], shape)
    }
    let float = dtype.is_float();
    Ok(match op {
        Sum if !float => Accumulators::Int(array(vec![0i64; n], shape)?),
        Sum | Mean => Accumulators::Float(array(vec![0.0f64; n], shape)?),
        Prod if float => Accumulators::Float(array(vec![1.0f64; n], shape)?),
        Prod => Accumulators::Int(array(vec![1i64; n], shape)?),
        Min | Max => Accumulators::Extreme(with_dtype!(dtype, T => extreme::<T>(op == Max, n, shape)?)),
        Any => Accumulators::Logical(array(vec![false; n], shape)?),
        All => Accumulators::Logical(array(vec![true; n], shape)?),
        Var { .. } | Std { .. } => {
            Accumulators::Moments { mean: array(vec![0.0; n], shape)?, m2: array(vec![0.0; n], shape)? }
        }
        ArgMin | ArgMax => Accumulators::Arg {
            values: with_dtype!(dtype, T => chunk(vec![T::default(); n], shape)?),
            index: array(vec![-1i64; n], shape)?,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pieces_follow_the_interpreters_tiling() {
        assert_eq!(piece_len(0), 1);
        assert_eq!(piece_len(300), 300);
        assert_eq!(piece_len(512), 512);
        assert_eq!(piece_len(600), 600);
        assert_eq!(piece_len(1025), 513);
        assert_eq!(c_strides(&[2, 3, 4]), vec![12, 4, 1]);
    }
}
