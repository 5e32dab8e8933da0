//! Metadata of the nodes rules create: the inference `ir::build` performs, without the casts
//! and rechunks it inserts. A rule only makes a node whose inputs already have the dtypes
//! and chunks the op needs; when they do not, these functions return `None` and the rule
//! does not fire. The extractor rebuilds every new node through `ir::build` and checks that
//! both agree, and the tests below compare them on many inputs.

use kiln_ir::{AxisChunks, BinaryOp, ChunkGrid, DType, Meta, ReduceOp, Shape, SliceSpec, UnaryOp};

/// `op(x)`: the input's metadata with the result's dtype (weakness is kept, as the
/// builder keeps it).
pub fn unary(op: UnaryOp, x: &Meta) -> Option<Meta> {
    let d = x.dtype;
    let out = match op {
        UnaryOp::Neg if d == DType::Bool => return None,
        UnaryOp::Not if d != DType::Bool => return None,
        u if u.needs_float() && !d.is_float() => return None,
        UnaryOp::Not | UnaryOp::IsNan => DType::Bool,
        _ => d,
    };
    Some(Meta { dtype: out, ..x.clone() })
}

/// The broadcast shape of elementwise inputs and its chunks: every input axis of the
/// result's length must have the same chunks (stretched length-1 axes do not count).
pub fn elementwise_grid(inputs: &[&Meta]) -> Option<ChunkGrid> {
    let mut shape = Shape::scalar();
    for x in inputs {
        shape = Shape::broadcast("elementwise", &shape, &x.shape).ok()?;
    }
    let ndim = shape.ndim();
    let mut axes = Vec::with_capacity(ndim);
    for (d, &len) in shape.iter().enumerate() {
        let mut common: Option<&AxisChunks> = None;
        for x in inputs {
            let Some(k) = (d + x.shape.ndim()).checked_sub(ndim) else { continue };
            if x.shape[k] == len {
                let a = x.chunks.axis(k);
                match common {
                    None => common = Some(a),
                    Some(c) if c == a => {}
                    Some(_) => return None,
                }
            }
        }
        axes.push(common.cloned().unwrap_or_else(|| AxisChunks::single(len)));
    }
    Some(ChunkGrid::new(axes))
}

/// `op(a, b)` of same-dtype inputs whose chunks line up.
pub fn binary(op: BinaryOp, a: &Meta, b: &Meta) -> Option<Meta> {
    use BinaryOp::*;
    let d = a.dtype;
    let valid = b.dtype == d
        && match op {
            Sub | Rem | Pow => d != DType::Bool,
            Div => d.is_float(),
            And | Or => d == DType::Bool,
            _ => true,
        };
    if !valid {
        return None;
    }
    let grid = elementwise_grid(&[a, b])?;
    let weak = match (a.weak, b.weak) {
        (Some(x), Some(y)) if x == y && !op.is_predicate() => Some(x),
        _ => None,
    };
    let dtype = if op.is_predicate() { DType::Bool } else { d };
    Some(Meta { dtype, shape: grid.shape(), chunks: grid, weak })
}

/// `where(cond, a, b)` with a `bool` condition and same-dtype branches.
pub fn where_(cond: &Meta, a: &Meta, b: &Meta) -> Option<Meta> {
    if cond.dtype != DType::Bool || a.dtype != b.dtype {
        return None;
    }
    Some(Meta::new(a.dtype, elementwise_grid(&[cond, a, b])?))
}

/// `astype(x, dtype)` of a non-weak input.
pub fn astype(x: &Meta, dtype: DType) -> Meta {
    Meta { dtype, weak: None, ..x.clone() }
}

/// `x` sliced by `spec` (normalized against `x`'s shape).
pub fn slice(x: &Meta, spec: &SliceSpec) -> Meta {
    Meta::new(x.dtype, spec.out_chunks(&x.chunks))
}

/// `transpose(x, perm)` for a permutation of `x`'s axes.
pub fn transpose(x: &Meta, perm: &[usize]) -> Option<Meta> {
    let mut seen = vec![false; x.shape.ndim()];
    let valid =
        perm.len() == seen.len() && perm.iter().all(|&k| k < seen.len() && !std::mem::replace(&mut seen[k], true));
    valid
        .then(|| Meta::new(x.dtype, ChunkGrid::new(perm.iter().map(|&k| x.chunks.axis(k).clone()).collect::<Vec<_>>())))
}

/// `broadcast_to(x, shape)`: axes of `x` keep their chunks, new and stretched axes get one
/// block each.
pub fn broadcast_to(x: &Meta, shape: &[usize]) -> Option<Meta> {
    let offset = shape.len().checked_sub(x.shape.ndim())?;
    let mut axes = Vec::with_capacity(shape.len());
    for (d, &len) in shape.iter().enumerate() {
        axes.push(match d.checked_sub(offset) {
            Some(k) if x.shape[k] == len => x.chunks.axis(k).clone(),
            Some(k) if x.shape[k] != 1 => return None,
            _ => AxisChunks::single(len),
        });
    }
    Some(Meta::new(x.dtype, ChunkGrid::new(axes)))
}

/// A reduction of `x` over `axes` (sorted, distinct, in range).
pub fn reduce(op: ReduceOp, x: &Meta, axes: &[usize], keepdims: bool) -> Option<Meta> {
    let nd = x.shape.ndim();
    if axes.windows(2).any(|w| w[0] >= w[1]) || axes.iter().any(|&k| k >= nd) {
        return None;
    }
    if matches!(op, ReduceOp::ArgMin | ReduceOp::ArgMax) && axes.len() != 1 && axes.len() != nd {
        return None;
    }
    let mut out = Vec::with_capacity(nd);
    for k in 0..nd {
        if !axes.contains(&k) {
            out.push(x.chunks.axis(k).clone());
        } else if keepdims {
            out.push(AxisChunks::single(1));
        }
    }
    let grid = ChunkGrid::new(out);
    let n_reduced: usize = axes.iter().map(|&k| x.shape[k]).product();
    if op.needs_elements() && n_reduced == 0 && grid.shape().size() > 0 {
        return None;
    }
    Some(Meta::new(op.out_dtype(x.dtype), grid))
}

/// `x` in the chunks `grid` (covering `x`'s shape).
pub fn rechunk(x: &Meta, grid: &ChunkGrid) -> Option<Meta> {
    (grid.shape() == x.shape).then(|| Meta { chunks: grid.clone(), ..x.clone() })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing as t;
    use kiln_ir::{Expr, build};
    use ndarray::s;

    /// Builds `e` through `ir::build` and checks the derived metadata agrees.
    fn agrees(e: &Expr, derived: Option<Meta>) {
        assert_eq!(derived.as_ref(), Some(e.meta()), "{e:?}");
    }

    #[test]
    fn derived_metadata_matches_the_builders() {
        let x = t::uniform(&[10, 6], &[4, 3], 1);
        let row = t::uniform(&[6], &[3], 2);
        let col = t::uniform(&[10, 1], &[4, 1], 3);
        let two = t::scalar(2.0);
        for e in [t::add(&x, &row), t::mul(&x, &col), t::mul(&x, &two), t::add(&two, &two), t::mul(&row, &col)] {
            let (a, b) = (e.inputs()[0].meta(), e.inputs()[1].meta());
            let kiln_ir::Op::Binary(op) = e.op() else { unreachable!("a binary node") };
            agrees(&e, binary(*op, a, b));
        }
        let lt = build::binary(BinaryOp::Lt, &x, &two).unwrap();
        agrees(&lt, binary(BinaryOp::Lt, x.meta(), lt.inputs()[1].meta()));
        let w = build::where_(&lt, &x, &col).unwrap();
        agrees(&w, where_(lt.meta(), x.meta(), col.meta()));
        agrees(&t::exp(&x), unary(UnaryOp::Exp, x.meta()));
        let neg2 = build::unary(UnaryOp::Neg, &two).unwrap();
        agrees(&neg2, unary(UnaryOp::Neg, two.meta()));
        agrees(&t::astype(&x, DType::F32), Some(astype(x.meta(), DType::F32)));
        let sl = t::slice(&x, s![1..9;3, 2].as_ref());
        let kiln_ir::Op::Slice(spec) = sl.op() else { unreachable!("a slice node") };
        agrees(&sl, Some(super::slice(x.meta(), spec)));
        agrees(&t::transpose(&x, &[1, 0]), super::transpose(x.meta(), &[1, 0]));
        agrees(&t::broadcast_to(&col, &[3, 10, 6]), super::broadcast_to(col.meta(), &[3, 10, 6]));
        for (op, axes, keep) in
            [(ReduceOp::Sum, vec![1], false), (ReduceOp::Mean, vec![0], true), (ReduceOp::Max, vec![0, 1], false)]
        {
            let r = build::reduce(op, &x, Some(&axes), keep).unwrap();
            agrees(&r, reduce(op, x.meta(), &axes, keep));
        }
        let rc = super::rechunk(x.meta(), &kiln_ir::ChunkGrid::uniform(&[10, 6], &[5, 6]));
        agrees(&t::rechunk(&x, &[5, 6]), rc);
    }

    #[test]
    fn misaligned_or_invalid_inputs_are_refused() {
        let a = t::uniform(&[10, 6], &[4, 3], 1);
        let b = t::uniform(&[10, 6], &[5, 3], 1);
        assert!(binary(BinaryOp::Add, a.meta(), b.meta()).is_none(), "chunks differ");
        let i = t::full_i32(&[10, 6], &[4, 3], 1);
        assert!(binary(BinaryOp::Add, a.meta(), i.meta()).is_none(), "dtypes differ");
        assert!(binary(BinaryOp::Div, i.meta(), i.meta()).is_none(), "integer division is cast first");
        assert!(unary(UnaryOp::Sqrt, i.meta()).is_none());
        assert!(transpose(a.meta(), &[0, 0]).is_none());
        assert!(broadcast_to(a.meta(), &[10, 7]).is_none());
        assert!(
            reduce(ReduceOp::ArgMin, &t::uniform(&[2, 2, 2], &[1, 1, 1], 1).meta().clone(), &[0, 1], false).is_none()
        );
    }
}
