//! Reductions as partial states: a [`PartialState`] per input block (`partial`), merged in
//! a fixed order up the combine tree (`combine`) and turned into the output block at the
//! end (`finalize`). States keep the input block's shape with the reduced axes set to 1,
//! count the elements folded into each position, and a state of zero elements is the
//! identity (`sum` 0, `any` false, `all` true, no best index).
//!
//! Accumulation follows NumPy: `sum`/`prod` of bools and integers wrap in `i64`, floats
//! accumulate in `f64` (`f32` results are cast at the end), `min`/`max`/`argmin`/`argmax`
//! propagate NaN, `mean` of nothing is NaN, `var` divides by `max(n - ddof, 0)`.

pub(crate) mod arg;
pub(crate) mod fold;
mod moments;

use std::marker::PhantomData;
use std::ops::Range;

use kiln_ir::{Chunk, DType, ReduceOp, with_chunk};
use ndarray::{ArcArray, ArrayViewD, Axis, IxDyn, Zip};

use crate::error::{Error, Result};
use crate::reference::num::{Num, maximum, minimum, with_chunk_pair};
use arg::{arg_merge, arg_partial};
use fold::{AnyAll, MinMax, ProdF64, ProdI64, SumF64, SumI64, fold_axes};
use moments::{merge_moments, moments};

type Arr<T> = ArcArray<T, IxDyn>;

/// The accumulators of a partial state, by kind of reduction.
#[derive(Clone, Debug, PartialEq)]
pub enum Accumulators {
    /// `sum`/`prod` of bools and integers, wrapping `i64`.
    Int(Arr<i64>),
    /// `sum`/`prod` of floats and the sums of `mean`, in `f64`.
    Float(Arr<f64>),
    /// `min`/`max`: the extreme so far, in the input's dtype.
    Extreme(Chunk),
    /// `var`/`std`: the mean and the sum of squared deviations from it.
    Moments {
        /// Per-position mean.
        mean: Arr<f64>,
        /// Per-position sum of squared deviations from the mean.
        m2: Arr<f64>,
    },
    /// `argmin`/`argmax`: the best value so far and its global index.
    Arg {
        /// Best values, in the input's dtype.
        values: Chunk,
        /// Their indices (along the reduced axis, or flat over the whole input).
        index: Arr<i64>,
    },
    /// `any`/`all`.
    Logical(Arr<bool>),
}

/// The partial result of a reduction over some input blocks.
#[derive(Clone, Debug, PartialEq)]
pub struct PartialState {
    /// Elements folded into every position (the same for all positions).
    pub count: u64,
    /// The accumulators, all of the state's shape.
    pub acc: Accumulators,
}

impl PartialState {
    /// The state's shape: the input block's, with reduced axes of length 1.
    pub fn shape(&self) -> &[usize] {
        match &self.acc {
            Accumulators::Int(a) => a.shape(),
            Accumulators::Float(a) | Accumulators::Moments { mean: a, .. } => a.shape(),
            Accumulators::Extreme(c) => c.shape(),
            Accumulators::Arg { index, .. } => index.shape(),
            Accumulators::Logical(a) => a.shape(),
        }
    }

    /// Bytes the accumulators hold.
    pub fn nbytes(&self) -> usize {
        let n = self.shape().iter().product::<usize>();
        match &self.acc {
            Accumulators::Int(_) | Accumulators::Float(_) => n * 8,
            Accumulators::Extreme(c) => c.nbytes(),
            Accumulators::Moments { .. } => n * 16,
            Accumulators::Arg { values, .. } => values.nbytes() + n * 8,
            Accumulators::Logical(_) => n,
        }
    }
}

/// The partial state of `op` over `axes` (ascending) of one input `block`, which lies at
/// `region` of an input of `input_shape` (argmin/argmax need global indices).
pub fn partial(
    op: ReduceOp,
    axes: &[usize],
    block: &Chunk,
    region: &[Range<usize>],
    input_shape: &[usize],
) -> Result<PartialState> {
    let shape = block.shape();
    let consistent = region.len() == shape.len()
        && input_shape.len() == shape.len()
        && region.iter().zip(shape).zip(input_shape).all(|((r, &s), &d)| r.len() == s && r.end <= d)
        && axes.windows(2).all(|w| w[0] < w[1])
        && axes.iter().all(|&k| k < shape.len());
    if !consistent {
        return Err(Error::Internal(format!(
            "{}: block of shape {shape:?} at {region:?} of an input of shape {input_shape:?} cannot reduce axes {axes:?}",
            op.name()
        )));
    }
    let count = axes.iter().map(|&k| shape[k] as u64).product();
    let acc = with_chunk!(block, a => partial_typed(op, a.view(), axes, region, input_shape, count));
    Ok(PartialState { count, acc })
}

fn partial_typed<T: Num>(
    op: ReduceOp,
    x: ArrayViewD<'_, T>,
    axes: &[usize],
    region: &[Range<usize>],
    input_shape: &[usize],
    count: u64,
) -> Accumulators {
    use ReduceOp::*;
    let float = T::DTYPE.is_float();
    match op {
        Sum if !float => Accumulators::Int(fold_axes(&SumI64::<T>(PhantomData), x, axes).into_shared()),
        Sum | Mean => Accumulators::Float(fold_axes(&SumF64::<T>(PhantomData), x, axes).into_shared()),
        Prod if float => Accumulators::Float(fold_axes(&ProdF64::<T>(PhantomData), x, axes).into_shared()),
        Prod => Accumulators::Int(fold_axes(&ProdI64::<T>(PhantomData), x, axes).into_shared()),
        Min => Accumulators::Extreme(Chunk::new(fold_axes(&MinMax::<T, false>(PhantomData), x, axes))),
        Max => Accumulators::Extreme(Chunk::new(fold_axes(&MinMax::<T, true>(PhantomData), x, axes))),
        Var { .. } | Std { .. } => {
            let (mean, m2) = moments(x, axes, count);
            Accumulators::Moments { mean: mean.into_shared(), m2: m2.into_shared() }
        }
        ArgMin | ArgMax => {
            let (values, index) = if op == ArgMax {
                arg_partial::<T, true>(x, axes, region, input_shape)
            } else {
                arg_partial::<T, false>(x, axes, region, input_shape)
            };
            Accumulators::Arg { values: Chunk::new(values), index: index.into_shared() }
        }
        Any => Accumulators::Logical(fold_axes(&AnyAll::<T, false>(PhantomData), x, axes).into_shared()),
        All => Accumulators::Logical(fold_axes(&AnyAll::<T, true>(PhantomData), x, axes).into_shared()),
    }
}

/// The states merged left to right (the order matters only for rounding).
pub fn combine(op: ReduceOp, states: &[&PartialState]) -> Result<PartialState> {
    let (first, rest) =
        states.split_first().ok_or_else(|| Error::Internal(format!("{}: nothing to combine", op.name())))?;
    // Cloning shares the buffers; the first in-place merge copies them (copy-on-write).
    let mut acc = (*first).clone();
    for s in rest {
        merge_into(op, &mut acc, s)?;
    }
    Ok(acc)
}

fn merge_into(op: ReduceOp, acc: &mut PartialState, other: &PartialState) -> Result<()> {
    use Accumulators as A;
    let mismatch = || {
        Error::Internal(format!(
            "{}: cannot merge states of shapes {:?} and {:?} ({} and {})",
            op.name(),
            acc.shape(),
            other.shape(),
            kind(&acc.acc),
            kind(&other.acc)
        ))
    };
    if acc.shape() != other.shape() || kind(&acc.acc) != kind(&other.acc) {
        return Err(mismatch());
    }
    if other.count == 0 {
        return Ok(());
    }
    if acc.count == 0 {
        *acc = other.clone();
        return Ok(());
    }
    let bad_op = || Error::Internal(format!("{}: unexpected {} state", op.name(), kind(&other.acc)));
    let na = acc.count;
    match (&mut acc.acc, &other.acc) {
        (A::Int(a), A::Int(b)) => match op {
            ReduceOp::Sum => Zip::from(a).and(b).for_each(|x, &y| *x = x.wrapping_add(y)),
            ReduceOp::Prod => Zip::from(a).and(b).for_each(|x, &y| *x = x.wrapping_mul(y)),
            _ => return Err(bad_op()),
        },
        (A::Float(a), A::Float(b)) => match op {
            ReduceOp::Sum | ReduceOp::Mean => Zip::from(a).and(b).for_each(|x, &y| *x += y),
            ReduceOp::Prod => Zip::from(a).and(b).for_each(|x, &y| *x *= y),
            _ => return Err(bad_op()),
        },
        (A::Extreme(a), A::Extreme(b)) => {
            let is_max = match op {
                ReduceOp::Max => true,
                ReduceOp::Min => false,
                _ => return Err(bad_op()),
            };
            with_chunk_pair!(a, b, (x, y) => {
                if is_max {
                    Zip::from(x).and(y).for_each(|v, &w| *v = maximum(*v, w));
                } else {
                    Zip::from(x).and(y).for_each(|v, &w| *v = minimum(*v, w));
                }
            }, else return Err(bad_op()))
        }
        (A::Moments { mean, m2 }, A::Moments { mean: mean_b, m2: m2_b }) => {
            merge_moments(mean, m2, na, mean_b, m2_b, other.count);
        }
        (A::Arg { values, index }, A::Arg { values: vb, index: ib }) => {
            let is_max = op == ReduceOp::ArgMax;
            with_chunk_pair!(values, vb, (x, y) => {
                if is_max { arg_merge::<_, true>(x, index, y, ib) } else { arg_merge::<_, false>(x, index, y, ib) }
            }, else return Err(bad_op()))
        }
        (A::Logical(a), A::Logical(b)) => match op {
            ReduceOp::Any => Zip::from(a).and(b).for_each(|x, &y| *x |= y),
            ReduceOp::All => Zip::from(a).and(b).for_each(|x, &y| *x &= y),
            _ => return Err(bad_op()),
        },
        _ => return Err(bad_op()),
    }
    acc.count += other.count;
    Ok(())
}

fn kind(acc: &Accumulators) -> &'static str {
    match acc {
        Accumulators::Int(_) => "integer",
        Accumulators::Float(_) => "float",
        Accumulators::Extreme(c) => match c.dtype() {
            DType::Bool => "bool extreme",
            DType::I32 => "i32 extreme",
            DType::I64 => "i64 extreme",
            DType::F32 => "f32 extreme",
            DType::F64 => "f64 extreme",
        },
        Accumulators::Moments { .. } => "moments",
        Accumulators::Arg { .. } => "arg",
        Accumulators::Logical(_) => "logical",
    }
}

/// The output block of `op` from the fully merged `state`: reduced axes are dropped unless
/// `keepdims`, and the result has `out_dtype` (`ReduceOp::out_dtype` of the input's).
pub fn finalize(op: ReduceOp, state: PartialState, axes: &[usize], keepdims: bool, out_dtype: DType) -> Result<Chunk> {
    use Accumulators as A;
    let name = op.name();
    let has_positions = state.shape().iter().product::<usize>() > 0;
    let no_identity =
        || Error::Compute(format!("{name}: zero-size array to reduction operation {name} which has no identity"));
    let n = state.count as f64;
    let floats = |a: Arr<f64>| if out_dtype == DType::F32 { Chunk::new(a.mapv(|v| v as f32)) } else { Chunk::F64(a) };
    let out = match (op, state.acc) {
        (ReduceOp::Sum | ReduceOp::Prod, A::Int(a)) => Chunk::I64(a),
        (ReduceOp::Sum | ReduceOp::Prod, A::Float(a)) => floats(a),
        (ReduceOp::Mean, A::Float(a)) => floats(a.mapv_into(|s| s / n)),
        (ReduceOp::Min | ReduceOp::Max, A::Extreme(c)) => {
            if state.count == 0 && has_positions {
                return Err(no_identity());
            }
            c
        }
        (ReduceOp::Var { ddof } | ReduceOp::Std { ddof }, A::Moments { m2, .. }) => {
            let divisor = (n - ddof.0).max(0.0);
            let sqrt = matches!(op, ReduceOp::Std { .. });
            floats(m2.mapv_into(|s| if sqrt { (s / divisor).sqrt() } else { s / divisor }))
        }
        (ReduceOp::ArgMin | ReduceOp::ArgMax, A::Arg { index, .. }) => {
            if state.count == 0 && has_positions {
                return Err(Error::Compute(format!("{name}: attempt to get {name} of an empty sequence")));
            }
            Chunk::I64(index)
        }
        (ReduceOp::Any | ReduceOp::All, A::Logical(a)) => Chunk::Bool(a),
        (_, acc) => return Err(Error::Internal(format!("{name}: cannot finalize a {} state", kind(&acc)))),
    };
    let out = if keepdims { out } else { drop_axes(name, out, axes)? };
    if out.dtype() != out_dtype {
        return Err(Error::Internal(format!("{name}: result is {} but the node is {out_dtype}", out.dtype())));
    }
    Ok(out)
}

/// Removes the length-1 `axes` (ascending) of `c`, without copying.
fn drop_axes(name: &str, c: Chunk, axes: &[usize]) -> Result<Chunk> {
    if axes.iter().any(|&k| c.shape().get(k) != Some(&1)) {
        return Err(Error::Internal(format!("{name}: state of shape {:?} lacks reduced axes {axes:?}", c.shape())));
    }
    Ok(with_chunk!(c, a => {
        let mut a = a;
        for &k in axes.iter().rev() {
            a = a.index_axis_move(Axis(k), 0);
        }
        Chunk::from(a)
    }))
}

#[cfg(test)]
// Block regions are arrays of ranges, one per axis; 1-d ones have a single range.
#[allow(clippy::single_range_in_vec_init)]
mod tests;
