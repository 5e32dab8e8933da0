//! Checked constructors of expression nodes: each validates its inputs (shapes, axes,
//! dtypes), infers the node's metadata, applies NumPy's promotion by inserting explicit
//! casts, and aligns the chunks of elementwise operands by inserting rechunks. Errors name
//! the op and the shapes involved. No data is touched and nothing is allocated per chunk.

use std::sync::Arc;

use crate::chunk::Chunk;
use crate::chunks::{AxisChunks, ChunkGrid, Chunks};
use crate::dtype::DType;
use crate::error::{Error, Result};
use crate::expr::{Expr, Meta};
use crate::external::ExternalBlocks;
use crate::kernel::{Kernel, KernelOutput};
use crate::npy::{NpySource, NpyTarget};
use crate::op::{BinaryOp, Distribution, Op, ReduceOp, SourceArray, SourceView, UnaryOp};
use crate::scalar::{F64Bits, Scalar};
use crate::shape::Shape;
use crate::slice::{SliceElem, SliceSpec};

/// A node over the user's in-memory data.
pub fn from_array(data: Chunk, chunks: &Chunks) -> Result<Expr> {
    let grid = chunks.resolve(data.shape(), data.dtype())?;
    let dtype = data.dtype();
    Ok(Expr::new(Op::FromArray(SourceArray::new(data)), vec![], Meta::new(dtype, grid)))
}

/// An array filled with `value`.
pub fn full(value: Scalar, shape: &[usize], chunks: &Chunks) -> Result<Expr> {
    let grid = chunks.resolve(shape, value.dtype())?;
    Ok(Expr::new(Op::Full(value), vec![], Meta::new(value.dtype(), grid)))
}

/// A Rust scalar operand: 0-d, promoting weakly.
pub fn scalar(value: Scalar) -> Expr {
    let meta = Meta { weak: Some(value.kind()), ..Meta::new(value.dtype(), ChunkGrid::single(&[])) };
    Expr::new(Op::Full(value), vec![], meta)
}

/// NumPy's `arange(start, stop, step)` with elements of `dtype`.
pub fn arange(start: Scalar, stop: Scalar, step: Scalar, dtype: DType, chunks: &Chunks) -> Result<Expr> {
    let (a, b, s) = (start.as_f64(), stop.as_f64(), step.as_f64());
    if s == 0.0 || !s.is_finite() || !a.is_finite() || !b.is_finite() {
        return Err(Error::invalid("arange", format!("invalid range {start}..{stop} with step {step}")));
    }
    let n = ((b - a) / s).ceil().max(0.0) as usize;
    let grid = chunks.resolve(&[n], dtype)?;
    let op = Op::Arange { start: start.cast(dtype), step: step.cast(dtype) };
    Ok(Expr::new(op, vec![], Meta::new(dtype, grid)))
}

/// NumPy's `linspace(start, stop, num, endpoint)` (`f64`).
pub fn linspace(start: f64, stop: f64, num: usize, endpoint: bool, chunks: &Chunks) -> Result<Expr> {
    let grid = chunks.resolve(&[num], DType::F64)?;
    let op = Op::Linspace { start: F64Bits(start), stop: F64Bits(stop), endpoint };
    Ok(Expr::new(op, vec![], Meta::new(DType::F64, grid)))
}

/// Counter-based random numbers of `f64`.
pub fn random(dist: Distribution, seed: u64, shape: &[usize], chunks: &Chunks) -> Result<Expr> {
    let grid = chunks.resolve(shape, DType::F64)?;
    Ok(Expr::new(Op::Random { dist, seed, view: None }, vec![], Meta::new(DType::F64, grid)))
}

/// Conversion to `dtype` (returns `x` itself when it already has that dtype).
pub fn astype(x: &Expr, dtype: DType) -> Expr {
    if x.dtype() == dtype {
        return x.clone();
    }
    if let Op::Full(v) = x.op()
        && x.meta().weak.is_some()
    {
        let meta = Meta { dtype, ..x.meta().clone() };
        return Expr::new(Op::Full(v.cast(dtype)), vec![], meta);
    }
    let meta = Meta { dtype, weak: None, ..x.meta().clone() };
    Expr::new(Op::AsType, vec![x.clone()], meta)
}

/// The dtype two operands compute in, with weak scalars promoting weakly.
fn common_dtype(op: &str, xs: &[&Expr]) -> Result<DType> {
    let strong: Vec<DType> = xs.iter().filter(|x| x.meta().weak.is_none()).map(|x| x.dtype()).collect();
    let mut d = match strong.split_first() {
        Some((&first, rest)) => rest.iter().fold(first, |a, &b| DType::promote(a, b)),
        // Only scalars: promote them as ordinary values.
        None => return Ok(xs.iter().map(|x| x.dtype()).reduce(DType::promote).expect("non-empty")),
    };
    for x in xs.iter().filter(|x| x.meta().weak.is_some()) {
        d = d.promote_weak(x.meta().weak.expect("weak"));
    }
    for x in xs.iter().filter(|x| x.meta().weak.is_some()) {
        if let Op::Full(v) = x.op()
            && !v.fits(d)
        {
            return Err(Error::invalid(op, format!("scalar {v} is out of bounds for {d}")));
        }
    }
    Ok(d)
}

/// Broadcast shape and aligned chunks of elementwise operands; rechunks operands whose
/// chunks differ along a shared axis to the common (finest) chunking, as Dask does.
fn align(op: &str, xs: &[Expr]) -> Result<(Vec<Expr>, ChunkGrid)> {
    let mut shape = Shape::scalar();
    for x in xs {
        shape = Shape::broadcast(op, &shape, x.shape()).map_err(|_| {
            let shapes: Vec<String> = xs.iter().map(|x| x.shape().to_string()).collect();
            Error::invalid(op, format!("operands could not be broadcast together with shapes {}", shapes.join(" ")))
        })?;
    }
    let ndim = shape.ndim();
    let mut axes = Vec::with_capacity(ndim);
    for (d, &len) in shape.iter().enumerate() {
        let mut common: Option<AxisChunks> = None;
        for x in xs {
            let Some(k) = (d + x.ndim()).checked_sub(ndim) else { continue };
            if x.shape()[k] == len {
                let a = x.chunks().axis(k);
                common = Some(match common {
                    None => a.clone(),
                    Some(c) => AxisChunks::common(&c, a),
                });
            }
        }
        axes.push(common.unwrap_or_else(|| AxisChunks::single(len)));
    }
    let grid = ChunkGrid::new(axes);
    let aligned = xs
        .iter()
        .map(|x| {
            let own: Vec<AxisChunks> = (0..x.ndim())
                .map(|k| {
                    let d = k + ndim - x.ndim();
                    if x.shape()[k] == shape[d] { grid.axis(d).clone() } else { x.chunks().axis(k).clone() }
                })
                .collect();
            let own = ChunkGrid::new(own);
            if &own == x.chunks() { x.clone() } else { rechunk_to(x, own) }
        })
        .collect();
    Ok((aligned, grid))
}

/// An elementwise function of one argument, casting integers to float where the function
/// needs it. Rounding ops on integers return `x` unchanged.
pub fn unary(op: UnaryOp, x: &Expr) -> Result<Expr> {
    let d = x.dtype();
    let (input, out) = match op {
        UnaryOp::Neg if d == DType::Bool => {
            return Err(Error::invalid("neg", "negation of a bool array is not supported; use not()"));
        }
        UnaryOp::Floor | UnaryOp::Ceil | UnaryOp::Round if !d.is_float() => return Ok(x.clone()),
        UnaryOp::Not => (astype(x, DType::Bool), DType::Bool),
        UnaryOp::IsNan => (x.clone(), DType::Bool),
        u if u.needs_float() => (astype(x, d.to_float()), d.to_float()),
        _ => (x.clone(), d),
    };
    let meta = Meta { dtype: out, ..input.meta().clone() };
    Ok(Expr::new(Op::Unary(op), vec![input], meta))
}

/// An elementwise function of two arguments with NumPy promotion and broadcasting.
pub fn binary(op: BinaryOp, a: &Expr, b: &Expr) -> Result<Expr> {
    use BinaryOp::*;
    let name = op.name();
    let mut d = common_dtype(name, &[a, b])?;
    let weak = match (a.meta().weak, b.meta().weak) {
        (Some(x), Some(y)) if x == y => Some(x),
        _ => None,
    };
    match op {
        Sub if d == DType::Bool => {
            return Err(Error::invalid(name, "subtraction of bool arrays is not supported; use astype() or xor"));
        }
        Div if !d.is_float() => d = DType::F64,
        Rem | Pow if d == DType::Bool => d = DType::I64,
        And | Or => d = DType::Bool,
        _ => {}
    }
    let (inputs, grid) = align(name, &[astype(a, d), astype(b, d)])?;
    let out = if op.is_predicate() { DType::Bool } else { d };
    let shape = grid.shape();
    let meta = Meta { dtype: out, shape, chunks: grid, weak: if op.is_predicate() { None } else { weak } };
    Ok(Expr::new(Op::Binary(op), inputs, meta))
}

/// `where(cond, a, b)`: `cond` is cast to `bool`, `a` and `b` to their common dtype.
pub fn where_(cond: &Expr, a: &Expr, b: &Expr) -> Result<Expr> {
    let d = common_dtype("where", &[a, b])?;
    let (inputs, grid) = align("where", &[astype(cond, DType::Bool), astype(a, d), astype(b, d)])?;
    Ok(Expr::new(Op::Where, inputs, Meta::new(d, grid)))
}

/// Normalizes reduction axes: in range, distinct, sorted.
fn reduce_axes(op: &str, x: &Expr, axes: &[usize]) -> Result<Box<[usize]>> {
    let mut sorted = axes.to_vec();
    sorted.sort_unstable();
    for w in sorted.windows(2) {
        if w[0] == w[1] {
            return Err(Error::invalid(op, format!("duplicate value in axes {axes:?}")));
        }
    }
    if let Some(&bad) = sorted.iter().find(|&&k| k >= x.ndim()) {
        return Err(Error::invalid(
            op,
            format!("axis {bad} is out of bounds for array of dimension {} (shape {})", x.ndim(), x.shape()),
        ));
    }
    Ok(sorted.into())
}

/// A reduction over `axes` (`None`: all axes).
pub fn reduce(op: ReduceOp, x: &Expr, axes: Option<&[usize]>, keepdims: bool) -> Result<Expr> {
    let name = op.name();
    let all: Vec<usize> = (0..x.ndim()).collect();
    let axes = reduce_axes(name, x, axes.unwrap_or(&all))?;
    if matches!(op, ReduceOp::ArgMin | ReduceOp::ArgMax) && axes.len() != 1 && axes.len() != x.ndim() {
        return Err(Error::invalid(name, format!("takes one axis or all axes, not {axes:?}")));
    }
    let n_reduced: usize = axes.iter().map(|&k| x.shape()[k]).product();
    let mut out_axes = Vec::new();
    for k in 0..x.ndim() {
        if axes.contains(&k) {
            if keepdims {
                out_axes.push(AxisChunks::single(1));
            }
        } else {
            out_axes.push(x.chunks().axis(k).clone());
        }
    }
    let grid = ChunkGrid::new(out_axes);
    if op.needs_elements() && n_reduced == 0 && grid.shape().size() > 0 {
        return Err(Error::invalid(
            name,
            format!(
                "zero-size array to reduction operation {name} which has no identity (shape {}, axes {axes:?})",
                x.shape()
            ),
        ));
    }
    let meta = Meta::new(op.out_dtype(x.dtype()), grid);
    Ok(Expr::new(Op::Reduce { op, axes, keepdims }, vec![x.clone()], meta))
}

/// Basic slicing with ndarray's `s![...]` elements.
pub fn slice(x: &Expr, info: &[ndarray::SliceInfoElem]) -> Result<Expr> {
    let spec = SliceSpec::normalize(info, x.shape())?;
    if spec.is_identity(x.shape()) {
        return Ok(x.clone());
    }
    let meta = Meta::new(x.dtype(), spec.out_chunks(x.chunks()));
    Ok(Expr::new(Op::Slice(spec), vec![x.clone()], meta))
}

/// Axis permutation (`perm[k]` is the input axis that becomes output axis `k`).
pub fn transpose(x: &Expr, perm: &[usize]) -> Result<Expr> {
    let mut seen = vec![false; x.ndim()];
    let valid = perm.len() == x.ndim() && perm.iter().all(|&k| k < x.ndim() && !std::mem::replace(&mut seen[k], true));
    if !valid {
        return Err(Error::invalid(
            "transpose",
            format!("axes {perm:?} are not a permutation of the {} axes of an array of shape {}", x.ndim(), x.shape()),
        ));
    }
    if perm.iter().enumerate().all(|(i, &k)| i == k) {
        return Ok(x.clone());
    }
    let grid = ChunkGrid::new(perm.iter().map(|&k| x.chunks().axis(k).clone()).collect::<Vec<_>>());
    Ok(Expr::new(Op::Transpose(perm.into()), vec![x.clone()], Meta::new(x.dtype(), grid)))
}

/// A new length-1 axis at position `axis` (`axis <= ndim`).
pub fn insert_axis(x: &Expr, axis: usize) -> Result<Expr> {
    if axis > x.ndim() {
        return Err(Error::invalid(
            "insert_axis",
            format!("axis {axis} is out of bounds for inserting into an array of shape {}", x.shape()),
        ));
    }
    let mut axes = x.chunks().axes().to_vec();
    axes.insert(axis, AxisChunks::single(1));
    Ok(Expr::new(Op::InsertAxis(axis), vec![x.clone()], Meta::new(x.dtype(), ChunkGrid::new(axes))))
}

/// NumPy's `broadcast_to`: axes of `x` keep their chunks, new and stretched axes get one
/// block each.
pub fn broadcast_to(x: &Expr, shape: &[usize]) -> Result<Expr> {
    let out = Shape::from(shape);
    let compatible = out.ndim() >= x.ndim()
        && x.shape().iter().enumerate().all(|(k, &len)| {
            let o = out[k + out.ndim() - x.ndim()];
            len == o || len == 1
        });
    if !compatible {
        return Err(Error::invalid(
            "broadcast_to",
            format!("cannot broadcast an array of shape {} to shape {out}", x.shape()),
        ));
    }
    if out == *x.shape() {
        return Ok(x.clone());
    }
    let offset = out.ndim() - x.ndim();
    let axes: Vec<AxisChunks> = (0..out.ndim())
        .map(|d| match d.checked_sub(offset) {
            Some(k) if x.shape()[k] == out[d] => x.chunks().axis(k).clone(),
            _ => AxisChunks::single(out[d]),
        })
        .collect();
    Ok(Expr::new(Op::BroadcastTo, vec![x.clone()], Meta::new(x.dtype(), ChunkGrid::new(axes))))
}

/// The same values in new chunks (returns `x` when the chunks already match).
pub fn rechunk(x: &Expr, chunks: &Chunks) -> Result<Expr> {
    let grid = chunks.resolve(x.shape(), x.dtype())?;
    Ok(rechunk_to(x, grid))
}

fn rechunk_to(x: &Expr, grid: ChunkGrid) -> Expr {
    if &grid == x.chunks() {
        return x.clone();
    }
    // Rechunking a rechunk reads the original blocks directly.
    let base = if matches!(x.op(), Op::Rechunk) { &x.inputs()[0] } else { x };
    if &grid == base.chunks() {
        return base.clone();
    }
    let meta = Meta { chunks: grid, ..x.meta().clone() };
    Expr::new(Op::Rechunk, vec![base.clone()], meta)
}

/// A fused node: `kernel` over `inputs` (its inputs, in order), run once per block of
/// `grid`, the chunking of the iteration space. Checks the kernel and that each input's
/// shape and chunks line up with the iteration axes it maps onto (length-1 axes broadcast).
pub fn fused(kernel: Kernel, inputs: Vec<Expr>, grid: ChunkGrid) -> Result<Expr> {
    let bad = |msg: String| Error::invalid("fused", msg);
    kernel.verify().map_err(|e| bad(e.to_string()))?;
    if kernel.ndim as usize != grid.ndim() || kernel.inputs.len() != inputs.len() {
        return Err(bad(format!(
            "a {}-d kernel of {} inputs over a {}-d grid with {} inputs",
            kernel.ndim,
            kernel.inputs.len(),
            grid.ndim(),
            inputs.len()
        )));
    }
    for (n, (spec, x)) in kernel.inputs.iter().zip(&inputs).enumerate() {
        let fits = spec.dtype == x.dtype()
            && spec.axes.len() == x.ndim()
            && spec.axes.iter().enumerate().all(|(j, &a)| {
                let (len, axis) = (x.shape()[j], grid.axis(a as usize));
                len == 1 || (len == axis.len() && x.chunks().axis(j) == axis)
            });
        if !fits {
            return Err(bad(format!(
                "input {n} ({} {} chunks {}) does not line up with axes {:?} of the grid {grid}",
                x.dtype(),
                x.shape(),
                x.chunks(),
                spec.axes
            )));
        }
    }
    let dtype = kernel.out_dtype().map_err(|e| bad(e.to_string()))?;
    let chunks = match &kernel.output {
        KernelOutput::Map(_) => grid.clone(),
        KernelOutput::Reduce { axes, keepdims, .. } => {
            let mut out = Vec::new();
            for (k, a) in grid.axes().iter().enumerate() {
                if !axes.contains(&(k as u32)) {
                    out.push(a.clone());
                } else if *keepdims {
                    out.push(AxisChunks::single(1));
                }
            }
            ChunkGrid::new(out)
        }
    };
    let op = Op::Fused { kernel: std::sync::Arc::new(kernel), grid };
    Ok(Expr::new(op, inputs, Meta::new(dtype, chunks)))
}

/// A normalized slice from its entries (as [`SliceSpec::elems`] returns them): exactly one
/// `Range` or `Index` per axis of `shape`, each in range, with `NewAxis` entries anywhere.
/// The optimizer composes slices with it; anything else is an error, never clamped.
pub fn slice_spec(elems: &[SliceElem], shape: &[usize]) -> Result<SliceSpec> {
    let spec = SliceSpec::normalize(&slice_info(elems), shape)?;
    if spec.elems() != elems {
        return Err(Error::invalid(
            "slice",
            format!("{elems:?} is not a normalized slice of an array of shape {}", Shape::from(shape)),
        ));
    }
    Ok(spec)
}

/// Basic slicing with an already normalized spec (checked against `x`'s shape again).
pub fn slice_normalized(x: &Expr, spec: &SliceSpec) -> Result<Expr> {
    let spec = slice_spec(spec.elems(), x.shape())?;
    if spec.is_identity(x.shape()) {
        return Ok(x.clone());
    }
    let meta = Meta::new(x.dtype(), spec.out_chunks(x.chunks()));
    Ok(Expr::new(Op::Slice(spec), vec![x.clone()], meta))
}

/// NumPy's `arange` given its length: `len` elements `start + i * step`, in the dtype of
/// `start` and `step` (which must agree). A slice of an integer `arange` is one of these.
pub fn arange_len(start: Scalar, step: Scalar, len: usize, chunks: &Chunks) -> Result<Expr> {
    let dtype = start.dtype();
    if step.dtype() != dtype {
        return Err(Error::invalid("arange", format!("start {start} and step {step} have different dtypes")));
    }
    let grid = chunks.resolve(&[len], dtype)?;
    Ok(Expr::new(Op::Arange { start, step }, vec![], Meta::new(dtype, grid)))
}

/// Random numbers of shape `shape` that are the part `view` of a larger generated array
/// (the same values as slicing that array): what a slice pushed into a random source
/// becomes. Every element the view selects must lie inside `view.base`.
pub fn random_view(dist: Distribution, seed: u64, shape: &[usize], view: SourceView, chunks: &Chunks) -> Result<Expr> {
    let bad = |msg: String| Error::invalid("random", msg);
    let nd = shape.len();
    if view.base.len() != nd || view.start.len() != nd || view.step.len() != nd {
        return Err(bad(format!("view {view} does not have the {nd} axes of shape {}", Shape::from(shape))));
    }
    if view.base.iter().try_fold(1i64, |acc, &d| i64::try_from(d).ok().and_then(|d| acc.checked_mul(d))).is_none() {
        return Err(bad(format!("view {view}: the base array is too large")));
    }
    // An empty array reads no element: only its view's axis count matters.
    let n_checked = if shape.contains(&0) { 0 } else { nd };
    for k in 0..n_checked {
        let (base, start, step) = (view.base[k] as i64, view.start[k], view.step[k]);
        let last =
            (shape[k] as i64).checked_sub(1).and_then(|n| n.checked_mul(step)).and_then(|d| d.checked_add(start));
        let inside = |p: i64| (0..base).contains(&p);
        let fits = match last {
            _ if step == 0 => false,
            Some(last) => inside(start) && inside(last),
            None => false,
        };
        if !fits {
            return Err(bad(format!(
                "view {view} selects elements outside its base on axis {k} (shape {})",
                Shape::from(shape)
            )));
        }
    }
    let grid = chunks.resolve(shape, DType::F64)?;
    let view = if view == SourceView::whole(shape) { None } else { Some(std::sync::Arc::new(view)) };
    Ok(Expr::new(Op::Random { dist, seed, view }, vec![], Meta::new(DType::F64, grid)))
}

/// A node over a zero-copy view of the user's data: `src` sliced by `spec` (normalized
/// against the data's shape). What a slice pushed into `from_array` becomes.
pub fn from_array_slice(src: &SourceArray, spec: &SliceSpec, chunks: &Chunks) -> Result<Expr> {
    let spec = slice_spec(spec.elems(), src.data().shape())?;
    let info = slice_info(spec.elems());
    let view = crate::with_chunk!(src.data().clone(), a => Chunk::from(a.slice_move(info.as_slice())));
    from_array(view, chunks)
}

/// A node reading `source` (the whole file or a view of it) in `chunks`. The view must stay
/// inside the file's data.
pub fn from_npy(source: NpySource, chunks: &Chunks) -> Result<Expr> {
    if !source.fits() {
        return Err(Error::invalid(
            "from_npy",
            format!(
                "{}: view {source} of shape {} selects elements outside the file",
                source.file.path.display(),
                Shape::from(source.shape.as_slice())
            ),
        ));
    }
    let dtype = source.header.dtype;
    let grid = chunks.resolve(&source.shape, dtype)?;
    Ok(Expr::new(Op::FromNpy(std::sync::Arc::new(source)), vec![], Meta::new(dtype, grid)))
}

/// A node whose blocks `source` makes, in `chunks`, which must be the source's own.
pub fn external(source: Arc<ExternalBlocks>, chunks: &Chunks) -> Result<Expr> {
    let grid = chunks.resolve(&source.grid.shape(), source.dtype)?;
    if grid != source.grid {
        return Err(Error::invalid(
            "external",
            format!("{} blocks come in chunks {}, not {grid}", source.name, source.grid),
        ));
    }
    let meta = Meta::new(source.dtype, grid);
    Ok(Expr::new(Op::External(source), vec![], meta))
}

/// A node writing `x` into the `.npy` file `target` (whose header must describe `x`'s dtype
/// and shape): its value is the number of data bytes written (`i64`, 0-d).
pub fn store_npy(x: &Expr, target: NpyTarget) -> Result<Expr> {
    let h = &target.header;
    if h.dtype != x.dtype() || h.shape.as_slice() != &x.shape()[..] || h.big_endian || h.fortran_order {
        return Err(Error::invalid(
            "store_npy",
            format!(
                "{}: a {} C-order header {:?} cannot hold a {} array of shape {}",
                target.path.display(),
                h.descr(),
                h.shape,
                x.dtype(),
                x.shape()
            ),
        ));
    }
    let meta = Meta::new(DType::I64, ChunkGrid::single(&[]));
    Ok(Expr::new(Op::StoreNpy(std::sync::Arc::new(target)), vec![x.clone()], meta))
}

/// The ndarray slice entries selecting what normalized entries select.
fn slice_info(elems: &[SliceElem]) -> Vec<ndarray::SliceInfoElem> {
    elems
        .iter()
        .map(|e| match *e {
            SliceElem::Range(r) => r.to_ndarray(),
            SliceElem::Index(i) => ndarray::SliceInfoElem::Index(i as isize),
            SliceElem::NewAxis => ndarray::SliceInfoElem::NewAxis,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ones(shape: &[usize], chunks: &[usize]) -> Expr {
        full(Scalar::F64(1.0), shape, &Chunks::from(chunks)).unwrap()
    }

    #[test]
    fn weak_scalars_keep_dtype_and_casts_are_explicit() {
        let x = full(Scalar::F32(1.0), &[4], &Chunks::from([2])).unwrap();
        let y = binary(BinaryOp::Mul, &x, &scalar(Scalar::F64(2.0))).unwrap();
        assert_eq!(y.dtype(), DType::F32);
        assert_eq!(y.inputs()[1].dtype(), DType::F32);
        let i = full(Scalar::I32(1), &[4], &Chunks::from([2])).unwrap();
        let z = binary(BinaryOp::Add, &i, &x).unwrap();
        assert_eq!(z.dtype(), DType::F64);
        assert!(matches!(z.inputs()[0].op(), Op::AsType));
        assert_eq!(binary(BinaryOp::Div, &i, &i).unwrap().dtype(), DType::F64);
        assert_eq!(binary(BinaryOp::Lt, &i, &scalar(Scalar::F64(0.5))).unwrap().inputs()[0].dtype(), DType::F64);
        let err = binary(BinaryOp::Add, &i, &scalar(Scalar::I64(1 << 40))).unwrap_err();
        assert_eq!(err.to_string(), "add: scalar 1099511627776 is out of bounds for i32");
    }

    #[test]
    fn misaligned_chunks_are_rechunked_to_the_common_grid() {
        let a = ones(&[10, 6], &[4, 6]);
        let b = ones(&[10, 1], &[5, 1]);
        let c = binary(BinaryOp::Add, &a, &b).unwrap();
        assert_eq!(c.chunks().to_string(), "([4, 1, 3, 2], 6)");
        assert!(matches!(c.inputs()[0].op(), Op::Rechunk));
        assert!(matches!(c.inputs()[1].op(), Op::Rechunk));
        assert_eq!(c.inputs()[1].chunks().to_string(), "([4, 1, 3, 2], 1)");
        let err = binary(BinaryOp::Add, &a, &ones(&[3], &[3])).unwrap_err();
        assert_eq!(err.to_string(), "add: operands could not be broadcast together with shapes (10, 6) (3,)");
    }

    #[test]
    fn reductions_check_axes_and_identities() {
        let a = ones(&[10, 6], &[4, 6]);
        let s = reduce(ReduceOp::Sum, &a, Some(&[1]), false).unwrap();
        assert_eq!((s.shape().to_string(), s.chunks().to_string()), ("(10,)".into(), "(4×2+2,)".into()));
        let k = reduce(ReduceOp::Mean, &a, Some(&[0]), true).unwrap();
        assert_eq!(k.shape().to_string(), "(1, 6)");
        assert!(reduce(ReduceOp::Sum, &a, Some(&[2]), false).is_err());
        assert!(reduce(ReduceOp::Sum, &a, Some(&[1, 1]), false).is_err());
        let empty = ones(&[0, 3], &[1, 1]);
        let err = reduce(ReduceOp::Max, &empty, None, false).unwrap_err();
        assert!(err.to_string().starts_with("max: zero-size array"), "{err}");
        assert!(reduce(ReduceOp::Max, &empty, Some(&[1]), false).is_ok());
        assert_eq!(reduce(ReduceOp::Sum, &empty, None, false).unwrap().dtype(), DType::F64);
    }

    #[test]
    fn layout_ops_validate() {
        let a = ones(&[10, 6], &[4, 6]);
        assert_eq!(transpose(&a, &[1, 0]).unwrap().chunks().to_string(), "(6, 4×2+2)");
        assert!(transpose(&a, &[0, 0]).is_err());
        assert_eq!(insert_axis(&a, 2).unwrap().shape().to_string(), "(10, 6, 1)");
        assert!(insert_axis(&a, 3).is_err());
        assert_eq!(broadcast_to(&a, &[2, 10, 6]).unwrap().chunks().to_string(), "(2, 4×2+2, 6)");
        assert!(broadcast_to(&a, &[10, 7]).is_err());
        assert_eq!(rechunk(&a, &Chunks::from([10, 6])).unwrap().chunks().to_string(), "(10, 6)");
        assert_eq!(rechunk(&a, &Chunks::from([4, 6])).unwrap(), a);
    }

    #[test]
    fn fused_nodes_check_their_inputs() {
        use crate::kernel::{Inst, KernelInput, ValueId};
        let x = ones(&[10, 6], &[4, 6]);
        let row = ones(&[6], &[6]);
        let kernel = |out: KernelOutput| Kernel {
            ndim: 2,
            inputs: vec![
                KernelInput { dtype: DType::F64, axes: vec![0, 1] },
                KernelInput { dtype: DType::F64, axes: vec![1] },
            ],
            body: vec![Inst::Load(0), Inst::Load(1), Inst::Binary(BinaryOp::Add, ValueId(0), ValueId(1))],
            output: out,
        };
        let map =
            fused(kernel(KernelOutput::Map(ValueId(2))), vec![x.clone(), row.clone()], x.chunks().clone()).unwrap();
        assert_eq!((map.shape().to_string(), map.chunks().to_string()), ("(10, 6)".into(), "(4×2+2, 6)".into()));
        let red = KernelOutput::Reduce { op: ReduceOp::Mean, axes: vec![1], keepdims: false, value: ValueId(2) };
        let r = fused(kernel(red), vec![x.clone(), row.clone()], x.chunks().clone()).unwrap();
        assert_eq!((r.shape().to_string(), r.dtype()), ("(10,)".into(), DType::F64));
        let err = fused(kernel(KernelOutput::Map(ValueId(2))), vec![row.clone(), x.clone()], x.chunks().clone());
        assert!(err.unwrap_err().to_string().contains("does not line up"));
    }

    #[test]
    fn normalized_slices_are_checked_not_clamped() {
        use crate::slice::AxisSlice;
        let a = ones(&[10, 6], &[4, 6]);
        let spec = SliceSpec::normalize(ndarray::s![2..9;3, 1, ndarray::NewAxis].as_ref(), a.shape()).unwrap();
        assert_eq!(slice_spec(spec.elems(), a.shape()).unwrap(), spec);
        let s = slice_normalized(&a, &spec).unwrap();
        assert_eq!(s, slice(&a, ndarray::s![2..9;3, 1, ndarray::NewAxis].as_ref()).unwrap());
        let too_long = [SliceElem::Range(AxisSlice { start: 0, end: 11, step: 1 }), SliceElem::Index(0)];
        assert!(slice_spec(&too_long, a.shape()).is_err());
        assert!(slice_spec(&[SliceElem::Index(3)], a.shape()).is_err(), "missing axes are not padded");
        assert!(slice_spec(&[SliceElem::Index(3), SliceElem::Index(6)], a.shape()).is_err());
        let whole = SliceSpec::normalize(ndarray::s![.., ..].as_ref(), a.shape()).unwrap();
        assert_eq!(slice_normalized(&a, &whole).unwrap(), a);
    }

    #[test]
    fn arange_of_a_length() {
        let a = arange_len(Scalar::I32(5), Scalar::I32(-2), 4, &Chunks::from([3])).unwrap();
        assert_eq!(
            (a.dtype(), a.shape().to_string(), a.chunks().to_string()),
            (DType::I32, "(4,)".into(), "(3+1,)".into())
        );
        assert_eq!(
            a,
            arange(Scalar::I32(5), Scalar::I32(-3), Scalar::I32(-2), DType::I32, &Chunks::from([3])).unwrap()
        );
        assert!(arange_len(Scalar::I32(5), Scalar::I64(1), 4, &Chunks::from([3])).is_err());
    }

    #[test]
    fn random_views_stay_inside_their_base() {
        let dist = Distribution::Uniform { low: F64Bits(0.0), high: F64Bits(1.0) };
        let view = SourceView { base: vec![6, 8], start: vec![5, 1], step: vec![-2, 3] };
        let r = random_view(dist, 1, &[3, 3], view.clone(), &Chunks::from([2, 2])).unwrap();
        assert!(matches!(r.op(), Op::Random { view: Some(v), .. } if **v == view));
        assert!(random_view(dist, 1, &[4, 3], view.clone(), &Chunks::from([2, 2])).is_err());
        assert!(random_view(dist, 1, &[3, 4], view.clone(), &Chunks::from([2, 2])).is_err());
        assert!(random_view(dist, 1, &[3], view, &Chunks::from([2])).is_err());
        let whole = random_view(dist, 1, &[6, 8], SourceView::whole(&[6, 8]), &Chunks::from([2, 2])).unwrap();
        assert_eq!(whole, random(dist, 1, &[6, 8], &Chunks::from([2, 2])).unwrap());
        let empty = SourceView { base: vec![6, 2], start: vec![6, 9], step: vec![1, 1] };
        assert!(random_view(dist, 1, &[0, 3], empty, &Chunks::from([2, 2])).is_ok());
    }

    #[test]
    fn sliced_sources_are_views_of_the_same_data() {
        let data = Chunk::new(ndarray::Array2::from_shape_fn((4, 6), |(i, j)| (i * 6 + j) as i64).into_dyn());
        let x = from_array(data.clone(), &Chunks::from([2, 3])).unwrap();
        let Op::FromArray(src) = x.op() else { panic!("a from_array node") };
        let spec = SliceSpec::normalize(ndarray::s![1..4;2, 5, ndarray::NewAxis].as_ref(), &[4, 6]).unwrap();
        let y = from_array_slice(src, &spec, &Chunks::from([1, 1])).unwrap();
        let Op::FromArray(view) = y.op() else { panic!("a from_array node") };
        let v = view.data().typed::<i64>().unwrap();
        assert_eq!(v.shape(), &[2, 1]);
        assert_eq!(v.iter().copied().collect::<Vec<_>>(), vec![11, 23]);
        assert_eq!(v.as_ptr() as usize, data.typed::<i64>().unwrap().as_ptr() as usize + 11 * 8);
        assert_eq!(y, from_array_slice(src, &spec, &Chunks::from([1, 1])).unwrap());
        assert!(from_array_slice(src, &spec, &Chunks::from([1])).is_err());
    }

    #[test]
    fn npy_nodes_check_views_and_targets() {
        use crate::npy::{NpyFile, NpyHeader};
        let file = NpyFile { path: "/d/x.npy".into(), len: 128 + 96, modified_ns: 1 };
        let header = NpyHeader {
            dtype: DType::F64,
            big_endian: false,
            fortran_order: false,
            shape: vec![3, 4],
            data_offset: 128,
        };
        let src = NpySource::whole(file, header);
        let x = from_npy(src.clone(), &Chunks::from([2, 4])).unwrap();
        assert_eq!(
            (x.dtype(), x.shape().to_vec(), x.chunks().to_string()),
            (DType::F64, vec![3, 4], "(2+1, 4)".into())
        );
        let outside = NpySource { offset: 1, ..src.clone() };
        assert!(from_npy(outside, &Chunks::from([2, 4])).unwrap_err().to_string().contains("/d/x.npy"));
        let other = NpySource { file: NpyFile { modified_ns: 2, ..src.file.clone() }, ..src };
        assert_ne!(from_npy(other, &Chunks::from([2, 4])).unwrap(), x);
        let stored = store_npy(&x, NpyTarget::new("/d/y.npy".into(), DType::F64, &[3, 4])).unwrap();
        assert_eq!((stored.dtype(), stored.ndim()), (DType::I64, 0));
        let err = store_npy(&x, NpyTarget::new("/d/y.npy".into(), DType::F32, &[3, 4])).unwrap_err();
        assert!(err.to_string().contains("/d/y.npy"));
    }
}
