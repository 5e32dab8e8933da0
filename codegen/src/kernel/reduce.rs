//! Reductions inside a kernel: folds every tile of the reduced value into per-position
//! accumulators with the reference's folding algebra (`reference::reduce::fold`,
//! `arg::better`), and hands back the same [`PartialState`] the reference's `partial` gives
//! for the materialized block, so `combine` and `finalize` work on it unchanged.
//!
//! When the row axis is reduced, each row piece of a tile folds into one accumulator
//! (`fold_slice`, then `merge`); otherwise each element of a row piece steps its own
//! accumulator (one row of accumulators per kept row).

use std::marker::PhantomData;

use kiln_ir::{DType, ReduceOp};
use ndarray::{ArcArray, ArrayD, IxDyn};

use crate::error::{Error, Result};
use crate::kernel::tile::{AnySrc, Buf, Elem, Src};
use crate::kernel::walk::{Space, Span, TileRows, Trackers, c_strides};
use crate::reference::num::with_dtype;
use crate::reference::reduce::arg::{better, scan_slice};
use crate::reference::reduce::fold::{AnyAll, Fold, MinMax, ProdF64, ProdI64, SumF64, SumI64, pairwise_sum};
use crate::reference::reduce::{Accumulators, PartialState};

/// Where an `argmin`/`argmax` index comes from.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
enum ArgIndex {
    /// The flat C-order index in the whole space: a tracker plus the position in the row.
    Flat(usize),
    /// The global position along the row axis.
    Row,
    /// The global position along row axis `k` (the row axis is kept).
    Axis(usize),
}

/// The accumulators, flat in the state's C order.
#[derive(Clone, Debug)]
enum Acc {
    /// `sum`, `prod`, `mean`, `min`, `max`, `any`, `all`: one `Fold` accumulator each.
    Fold(Buf),
    /// `var`/`std`: count, mean and sum of squared deviations per position.
    Moments { n: Vec<u64>, mean: Vec<f64>, m2: Vec<f64> },
    /// `argmin`/`argmax`: best value and its index (-1: nothing seen yet).
    Arg { values: Buf, index: Vec<i64> },
}

/// The reduction of a kernel's value over one block.
#[derive(Clone, Debug)]
pub(super) struct Reducer {
    op: ReduceOp,
    /// Whether the row axis is reduced.
    along_rows: bool,
    /// The tracker of each row's first accumulator.
    kept: usize,
    arg: Option<ArgIndex>,
    /// Global start of the row axis.
    row_start: usize,
    /// Row axes (all but the last).
    outer: usize,
    acc: Acc,
    count: u64,
    /// The state's shape (the block's, reduced axes of length 1).
    shape: Vec<usize>,
}

/// How a reduction's partial states lie over a block walked with axis lengths `lens` (of a
/// kernel of `ndim` axes); the interpreter and the JIT derive their folds from it.
pub(crate) struct ReducedLayout {
    /// The walked axes folded: the kernel's reduced axes, or every axis for an argmin or
    /// argmax over several axes (the reference's argmin/argmax reduce one axis, or treat
    /// anything else as all).
    pub(crate) reduced: Vec<usize>,
    /// Elements folded into each state.
    pub(crate) count: u64,
    /// The states' shape in walked form (1 along reduced axes).
    pub(crate) state_shape: Vec<usize>,
    /// Per walked axis, the step between states (0 along reduced axes).
    pub(crate) kept_strides: Vec<i64>,
}

impl ReducedLayout {
    pub(crate) fn new(op: ReduceOp, axes: &[u32], lens: &[usize], ndim: usize) -> ReducedLayout {
        let walked = lens.len();
        let is_arg = matches!(op, ReduceOp::ArgMin | ReduceOp::ArgMax);
        let reduced: Vec<usize> = if is_arg && !(axes.len() == 1 && ndim > 1) {
            (0..walked).collect()
        } else {
            axes.iter().map(|&a| a as usize).collect()
        };
        let count = axes.iter().map(|&a| lens[a as usize] as u64).product();
        let mut state_shape = lens.to_vec();
        for &k in &reduced {
            state_shape[k] = 1;
        }
        let state_strides = c_strides(&state_shape);
        let kept_strides = (0..walked).map(|k| if reduced.contains(&k) { 0 } else { state_strides[k] }).collect();
        ReducedLayout { reduced, count, state_shape, kept_strides }
    }
}

impl Reducer {
    /// The reduction `op` over kernel axes `axes` of a value of dtype `dtype`, for the block
    /// `space` (walked form; `ndim` is the kernel's) of a whole space `whole` (flat indices
    /// count in it). Adds the trackers it needs to `trackers`.
    pub(super) fn new(
        op: ReduceOp,
        axes: &[u32],
        dtype: DType,
        space: &Space,
        ndim: usize,
        whole: &[usize],
        trackers: &mut Trackers,
    ) -> Result<Reducer> {
        let walked = space.lens.len();
        let last = space.last();
        let is_arg = matches!(op, ReduceOp::ArgMin | ReduceOp::ArgMax);
        let ReducedLayout { reduced, count, state_shape: walked_shape, kept_strides } =
            ReducedLayout::new(op, axes, &space.lens, ndim);
        let along_rows = reduced.contains(&last);
        let kept = trackers.add(0, &kept_strides);
        let arg = if !is_arg {
            None
        } else if reduced.len() == walked {
            let whole_walked: Vec<usize> = if ndim == 0 { vec![1] } else { whole.to_vec() };
            let cs = c_strides(&whole_walked);
            let init =
                space.starts.iter().zip(&cs).fold(0i64, |a, (&s, &c)| a.wrapping_add((s as i64).wrapping_mul(c)));
            Some(ArgIndex::Flat(trackers.add(init, &cs)))
        } else if along_rows {
            Some(ArgIndex::Row)
        } else {
            Some(ArgIndex::Axis(reduced[0]))
        };
        let n_acc: usize = walked_shape.iter().product();
        let acc = with_dtype!(dtype, T => initial::<T>(op, n_acc));
        let shape = if ndim == 0 { Vec::new() } else { walked_shape };
        Ok(Reducer { op, along_rows, kept, arg, row_start: space.starts[last], outer: last, acc, count, shape })
    }

    /// Folds one tile of the value.
    pub(super) fn fold(&mut self, value: AnySrc<'_>, tile: &TileRows, span: Span) -> Result<()> {
        match value {
            AnySrc::Bool(x) => self.fold_typed(x, tile, span),
            AnySrc::I32(x) => self.fold_typed(x, tile, span),
            AnySrc::I64(x) => self.fold_typed(x, tile, span),
            AnySrc::F32(x) => self.fold_typed(x, tile, span),
            AnySrc::F64(x) => self.fold_typed(x, tile, span),
        }
    }

    fn fold_typed<T: Elem>(&mut self, value: Src<'_, T>, tile: &TileRows, span: Span) -> Result<()> {
        use ReduceOp::*;
        let splat;
        let xs: &[T] = match value {
            Src::Slice(xs) => xs,
            Src::Splat(x) => {
                splat = vec![x; span.len()];
                &splat
            }
        };
        let float = T::DTYPE.is_float();
        match self.op {
            Sum if !float => self.fold_with(&SumI64::<T>(PhantomData), xs, tile, span),
            Sum | Mean => self.fold_with(&SumF64::<T>(PhantomData), xs, tile, span),
            Prod if float => self.fold_with(&ProdF64::<T>(PhantomData), xs, tile, span),
            Prod => self.fold_with(&ProdI64::<T>(PhantomData), xs, tile, span),
            Min => self.fold_with(&MinMax::<T, false>(PhantomData), xs, tile, span),
            Max => self.fold_with(&MinMax::<T, true>(PhantomData), xs, tile, span),
            Any => self.fold_with(&AnyAll::<T, false>(PhantomData), xs, tile, span),
            All => self.fold_with(&AnyAll::<T, true>(PhantomData), xs, tile, span),
            Var { .. } | Std { .. } => self.moments(xs, tile, span),
            ArgMin => self.arg::<T, false>(xs, tile, span),
            ArgMax => self.arg::<T, true>(xs, tile, span),
        }
    }

    /// The accumulators of each row of the tile: one per row, or one per position of the
    /// span.
    fn targets<'t>(&self, tile: &'t TileRows, span: Span) -> impl Iterator<Item = Range> + 't {
        let (kept, along_rows) = (self.kept, self.along_rows);
        (0..tile.n.min(span.rows)).map(move |r| {
            let k = tile.val(r, kept) as usize;
            if along_rows { k..k + 1 } else { k + span.s..k + span.s + span.n }
        })
    }

    fn fold_with<F: Fold>(&mut self, f: &F, xs: &[F::In], tile: &TileRows, span: Span) -> Result<()>
    where
        F::Acc: Elem,
    {
        let targets = self.targets(tile, span);
        let Acc::Fold(buf) = &mut self.acc else {
            return Err(state_mismatch(self.op));
        };
        let acc = buf.typed_mut::<F::Acc>()?;
        for (piece, range) in xs.chunks_exact(span.n.max(1)).zip(targets) {
            let a = acc.get_mut(range).ok_or_else(|| out_of_state(self.op))?;
            if self.along_rows {
                a[0] = f.merge(a[0], f.fold_slice(piece));
            } else {
                a.iter_mut().zip(piece).for_each(|(a, &x)| *a = f.step(*a, x));
            }
        }
        Ok(())
    }

    fn moments<T: Elem>(&mut self, xs: &[T], tile: &TileRows, span: Span) -> Result<()> {
        let targets = self.targets(tile, span);
        let Acc::Moments { n, mean, m2 } = &mut self.acc else {
            return Err(state_mismatch(self.op));
        };
        for (piece, range) in xs.chunks_exact(span.n.max(1)).zip(targets) {
            let (Some(n), Some(mean), Some(m2)) =
                (n.get_mut(range.clone()), mean.get_mut(range.clone()), m2.get_mut(range))
            else {
                return Err(out_of_state(self.op));
            };
            if self.along_rows {
                // Two passes over the piece, then Chan et al.'s merge (as `merge_moments`).
                let nb = piece.len() as u64;
                let fb = nb as f64;
                let mean_b = pairwise_sum(piece, &T::to_f64) / fb;
                let m2_b = pairwise_sum(piece, &|v: T| {
                    let d = v.to_f64() - mean_b;
                    d * d
                });
                if n[0] == 0 {
                    (n[0], mean[0], m2[0]) = (nb, mean_b, m2_b);
                } else {
                    let fa = n[0] as f64;
                    let total = fa + fb;
                    let delta = mean_b - mean[0];
                    mean[0] += delta * (fb / total);
                    m2[0] += m2_b + delta * delta * (fa * fb / total);
                    n[0] += nb;
                }
            } else {
                // Welford's update: one more element per position.
                for (((c, m), s), &x) in n.iter_mut().zip(mean.iter_mut()).zip(m2.iter_mut()).zip(piece) {
                    *c += 1;
                    let x = x.to_f64();
                    let delta = x - *m;
                    *m += delta / *c as f64;
                    *s += delta * (x - *m);
                }
            }
        }
        Ok(())
    }

    fn arg<T: Elem, const MAX: bool>(&mut self, xs: &[T], tile: &TileRows, span: Span) -> Result<()> {
        let targets = self.targets(tile, span);
        let (arg, row_start, along_rows, op, outer) = (self.arg, self.row_start, self.along_rows, self.op, self.outer);
        let Acc::Arg { values, index } = &mut self.acc else {
            return Err(state_mismatch(op));
        };
        let values = values.typed_mut::<T>()?;
        for (r, (piece, range)) in xs.chunks_exact(span.n.max(1)).zip(targets).enumerate() {
            let (Some(vs), Some(is)) = (values.get_mut(range.clone()), index.get_mut(range)) else {
                return Err(out_of_state(op));
            };
            if along_rows {
                let Some((v, i)) = scan_slice::<T, MAX>(piece) else { continue };
                let at = (span.s + i) as i64;
                let g = match arg {
                    Some(ArgIndex::Flat(t)) => tile.val(r, t).wrapping_add(at),
                    _ => row_start as i64 + at,
                };
                if is[0] < 0 || better::<T, MAX>(v, vs[0]) {
                    (vs[0], is[0]) = (v, g);
                }
            } else {
                let Some(ArgIndex::Axis(k)) = arg else {
                    return Err(state_mismatch(op));
                };
                let g = tile.pos(r, k, outer) as i64;
                for ((v, i), &x) in vs.iter_mut().zip(is.iter_mut()).zip(piece) {
                    if *i < 0 || better::<T, MAX>(x, *v) {
                        (*v, *i) = (x, g);
                    }
                }
            }
        }
        Ok(())
    }

    /// The partial state.
    pub(super) fn finish(self) -> Result<PartialState> {
        use ReduceOp::*;
        let shape = self.shape;
        let acc = match (self.acc, self.op) {
            (Acc::Fold(Buf::I64(v)), Sum | Prod) => Accumulators::Int(array(v, &shape)?),
            (Acc::Fold(Buf::F64(v)), Sum | Prod | Mean) => Accumulators::Float(array(v, &shape)?),
            (Acc::Fold(b), Min | Max) => Accumulators::Extreme(b.into_chunk(&shape)?),
            (Acc::Fold(Buf::Bool(v)), Any | All) => Accumulators::Logical(array(v, &shape)?),
            (Acc::Moments { mean, m2, .. }, Var { .. } | Std { .. }) => {
                Accumulators::Moments { mean: array(mean, &shape)?, m2: array(m2, &shape)? }
            }
            (Acc::Arg { values, index }, ArgMin | ArgMax) => {
                Accumulators::Arg { values: values.into_chunk(&shape)?, index: array(index, &shape)? }
            }
            (_, op) => return Err(state_mismatch(op)),
        };
        Ok(PartialState { count: self.count, acc })
    }
}

type Range = std::ops::Range<usize>;

/// The accumulators of no elements, as the reference's folds start them.
fn initial<T: Elem>(op: ReduceOp, n: usize) -> Acc {
    use ReduceOp::*;
    let float = T::DTYPE.is_float();
    match op {
        Sum if !float => Acc::Fold(Buf::filled(0i64, n)),
        Sum | Mean => Acc::Fold(Buf::filled(0.0f64, n)),
        Prod if float => Acc::Fold(Buf::filled(1.0f64, n)),
        Prod => Acc::Fold(Buf::filled(1i64, n)),
        Min => Acc::Fold(Buf::filled(T::MIN_IDENTITY, n)),
        Max => Acc::Fold(Buf::filled(T::MAX_IDENTITY, n)),
        Any => Acc::Fold(Buf::filled(false, n)),
        All => Acc::Fold(Buf::filled(true, n)),
        Var { .. } | Std { .. } => Acc::Moments { n: vec![0; n], mean: vec![0.0; n], m2: vec![0.0; n] },
        ArgMin | ArgMax => Acc::Arg { values: Buf::filled(T::default(), n), index: vec![-1; n] },
    }
}

fn array<T: Clone>(v: Vec<T>, shape: &[usize]) -> Result<ArcArray<T, IxDyn>> {
    ArrayD::from_shape_vec(IxDyn(shape), v)
        .map(|a| a.into_shared())
        .map_err(|e| Error::Internal(format!("kernel: reduction state of shape {shape:?}: {e}")))
}

fn state_mismatch(op: ReduceOp) -> Error {
    Error::Internal(format!("kernel: {} with accumulators of another reduction", op.name()))
}

fn out_of_state(op: ReduceOp) -> Error {
    Error::Internal(format!("kernel: {} accumulator outside the state", op.name()))
}
