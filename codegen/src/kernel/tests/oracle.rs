//! The oracle of the differential tests: a kernel evaluated op by op on whole blocks with
//! the reference kernels (`reference::elementwise` and `reference::source`), each value
//! materialized, then reduced with `reference::reduce`.

use std::ops::Range;

use kiln_ir::op::SourceView;
use kiln_ir::{Chunk, DType, Inst, Kernel, KernelOutput, ReduceOp, ValueId, with_chunk};
use ndarray::{ArrayD, IxDyn};

use crate::error::{Error, Result};
use crate::reference::num::Float;
use crate::reference::{elementwise, reduce, source};

/// Input `n`'s block read at every position of a block of `shape` (its axes mapped by the
/// kernel, broadcast along the others).
fn spread(c: &Chunk, axes: &[u32], shape: &[usize]) -> Chunk {
    with_chunk!(c, a => {
        let lens = a.shape().to_vec();
        Chunk::new(ArrayD::from_shape_fn(IxDyn(shape), |idx| {
            let at: Vec<usize> =
                axes.iter().zip(&lens).map(|(&ax, &len)| if len == 1 { 0 } else { idx[ax as usize] }).collect();
            a[at.as_slice()]
        }))
    })
}

/// A chunk whose axis `j` lies along block axis `axes[j]` (or nowhere), spread over a block
/// of `shape`.
fn place(c: &Chunk, axes: &[Option<u32>], shape: &[usize]) -> Chunk {
    with_chunk!(c, a => Chunk::new(ArrayD::from_shape_fn(IxDyn(shape), |idx| {
        let at: Vec<usize> = axes.iter().map(|ax| ax.map_or(0, |ax| idx[ax as usize])).collect();
        a[at.as_slice()]
    })))
}

/// Which values the output depends on.
fn live(kernel: &Kernel, output: ValueId) -> Vec<bool> {
    let mut live = vec![false; kernel.body.len()];
    live[output.idx()] = true;
    for i in (0..kernel.body.len()).rev() {
        if live[i] {
            for v in crate::kernel::plan::operands(&kernel.body[i]) {
                live[v.idx()] = true;
            }
        }
    }
    live
}

/// The shape an elementwise result takes: 0-d while every operand is (constants), else the
/// block's.
fn result_shape(operands: &[&Chunk], block: &[usize]) -> Vec<usize> {
    if operands.iter().all(|c| c.shape().is_empty()) { Vec::new() } else { block.to_vec() }
}

/// `x ** e` with a 1-element exponent that is not a `Const`: `powf` everywhere (the
/// reference would take NumPy's scalar fast path, which kernels apply to constants only).
fn plain_pow(x: &Chunk, e: &Chunk, shape: &[usize]) -> Option<Chunk> {
    fn go<T: Float>(x: &ndarray::ArcArray<T, IxDyn>, e: T, shape: &[usize]) -> Option<Chunk> {
        let xs = x.broadcast(IxDyn(shape))?;
        Some(Chunk::new(xs.map(|&v| v.powf(e))))
    }
    match (x, e) {
        (Chunk::F64(x), Chunk::F64(e)) => go(x, *e.iter().next()?, shape),
        (Chunk::F32(x), Chunk::F32(e)) => go(x, *e.iter().next()?, shape),
        _ => None,
    }
}

/// The value of `output` over the block at `region`, materialized op by op.
pub(super) fn value(kernel: &Kernel, inputs: &[&Chunk], region: &[Range<usize>], output: ValueId) -> Result<Chunk> {
    let shape: Vec<usize> = region.iter().map(|r| r.len()).collect();
    let dtypes = kernel.dtypes().map_err(|e| Error::Internal(e.to_string()))?;
    if shape.contains(&0) {
        return Ok(source::full(kiln_ir::Scalar::Bool(false).cast(dtypes[output.idx()]), &shape));
    }
    let live = live(kernel, output);
    let mut vals: Vec<Option<Chunk>> = vec![None; kernel.body.len()];
    for (i, inst) in kernel.body.iter().enumerate() {
        if !live[i] {
            continue;
        }
        let get = |v: &ValueId| vals[v.idx()].as_ref().ok_or_else(|| Error::Internal(format!("%{} missing", v.0)));
        let c = match inst {
            Inst::Load(n) => spread(inputs[*n as usize], &kernel.inputs[*n as usize].axes, &shape),
            Inst::Const(s) => source::full(*s, &[]),
            Inst::Random { dist, seed, base, start, step, axes } => {
                let node_shape: Vec<usize> = axes.iter().map(|a| a.map_or(1, |a| region[a as usize].end)).collect();
                let node_region: Vec<Range<usize>> =
                    axes.iter().map(|a| a.map_or(0..1, |a| region[a as usize].clone())).collect();
                let view = SourceView {
                    base: base.iter().map(|&b| b as usize).collect(),
                    start: start.clone(),
                    step: step.clone(),
                };
                let r = source::random(*dist, *seed, &node_shape, Some(&view), &node_region)?;
                let local: Vec<Option<u32>> = axes.to_vec();
                place(&r, &local, &shape)
            }
            Inst::Arange { start, step, axis } => {
                let r = source::arange(*start, *step, region[*axis as usize].clone())?;
                place(&r, &[Some(*axis)], &shape)
            }
            Inst::Linspace { start, stop, num, endpoint, axis } => {
                let r = source::linspace(start.0, stop.0, *endpoint, *num as usize, region[*axis as usize].clone());
                place(&r, &[Some(*axis)], &shape)
            }
            Inst::Unary(op, a) => elementwise::unary(*op, get(a)?)?,
            Inst::Binary(op, a, b) => {
                let (x, y) = (get(a)?, get(b)?);
                let out_shape = result_shape(&[x, y], &shape);
                let is_const = matches!(kernel.body[b.idx()], Inst::Const(_));
                match (op, is_const, y.len()) {
                    (kiln_ir::BinaryOp::Pow, false, 1) if y.dtype().is_float() => {
                        plain_pow(x, y, &out_shape).ok_or_else(|| Error::Internal("pow".into()))?
                    }
                    _ => elementwise::binary(*op, x, y, &out_shape)?,
                }
            }
            Inst::Where(c, a, b) => {
                let (c, x, y) = (get(c)?, get(a)?, get(b)?);
                elementwise::where_(c, x, y, &result_shape(&[c, x, y], &shape))?
            }
            Inst::Cast(to, a) => elementwise::astype(get(a)?, *to)?,
        };
        vals[i] = Some(c);
    }
    let out = vals[output.idx()].take().ok_or_else(|| Error::Internal("no output".into()))?;
    Ok(
        with_chunk!(out, a => Chunk::new(a.broadcast(IxDyn(&shape)).ok_or_else(|| Error::Internal("shape".into()))?.to_owned())),
    )
}

/// The output block of a `Map` kernel.
pub(super) fn map(kernel: &Kernel, inputs: &[&Chunk], region: &[Range<usize>]) -> Result<Chunk> {
    let KernelOutput::Map(v) = kernel.output else { return Err(Error::Internal("not a map".into())) };
    value(kernel, inputs, region, v)
}

/// The reference partial state of a `Reduce` kernel's materialized value.
pub(super) fn partial(
    kernel: &Kernel,
    inputs: &[&Chunk],
    region: &[Range<usize>],
    space: &[usize],
) -> Result<reduce::PartialState> {
    let KernelOutput::Reduce { op, axes, value: v, .. } = &kernel.output else {
        return Err(Error::Internal("not a reduction".into()));
    };
    let block = value(kernel, inputs, region, *v)?;
    let axes: Vec<usize> = axes.iter().map(|&a| a as usize).collect();
    reduce::partial(*op, &axes, &block, region, space)
}

/// `finalize(combine([state]))` of a `Reduce` kernel's state.
pub(super) fn finish(kernel: &Kernel, states: &[&reduce::PartialState]) -> Result<Chunk> {
    let KernelOutput::Reduce { op, axes, keepdims, value: v } = &kernel.output else {
        return Err(Error::Internal("not a reduction".into()));
    };
    let dtypes = kernel.dtypes().map_err(|e| Error::Internal(e.to_string()))?;
    let axes: Vec<usize> = axes.iter().map(|&a| a as usize).collect();
    let out: DType = op.out_dtype(dtypes[v.idx()]);
    let state = reduce::combine(*op, states)?;
    reduce::finalize(*op, state, &axes, *keepdims, out)
}

/// The reduction of a `Reduce` kernel.
pub(super) fn reduce_op(kernel: &Kernel) -> Option<ReduceOp> {
    match &kernel.output {
        KernelOutput::Reduce { op, .. } => Some(*op),
        KernelOutput::Map(_) => None,
    }
}
