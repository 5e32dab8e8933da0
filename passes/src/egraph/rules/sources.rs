//! Slices and rechunks pushed into sources: the source makes only the selected elements,
//! or makes them in the new chunks, with the same values. `full` keeps its value; an
//! integer `arange` gets a new start and step (a float `arange` only a shorter length,
//! since `start + i * step` rounds differently otherwise); a random source composes its
//! `SourceView` (values depend only on the flat index in the generated array);
//! `from_array` becomes a zero-copy view of the same data; `from_npy` composes the view of
//! the file it reads. `linspace` has its own file,
//! `linspace.rs`, since few of its slices are exact.

use kiln_ir::op::SourceView;
use kiln_ir::{Chunks, Expr, Op, Scalar, SliceElem, build};

use super::pushdown::slice_input;
use super::{Ctx, Term};
use crate::egraph::language::ENode;
use crate::egraph::slices;

/// Runs `f` on every leaf of the sliced class.
fn each_source<'a>(ctx: &Ctx<'a>, node: &ENode, mut f: impl FnMut(&'a Op) -> Option<Term>) -> Vec<Term> {
    let Some((_, x)) = slice_input(ctx, node) else { return Vec::new() };
    ctx.ops(x).filter(|(n, _)| n.children.is_empty()).filter_map(|(_, op)| f(op)).collect()
}

/// A replacement leaf from a node the builders made.
fn leaf(e: &Expr) -> Term {
    Term::Node { op: e.op().clone(), meta: e.meta().clone(), inputs: Vec::new() }
}

/// `full(v, sh)[s] → full(v, sh')`.
pub(super) fn slice_full(ctx: &Ctx<'_>, node: &ENode) -> Vec<Term> {
    let meta = ctx.node_meta(node);
    each_source(ctx, node, |op| match op {
        Op::Full(v) => Some(Term::Node { op: Op::Full(*v), meta: meta.clone(), inputs: Vec::new() }),
        _ => None,
    })
}

/// `arange(a, d)[i0..;k] → arange(a + i0·d, k·d)` for integers (wrapping, as the source
/// computes), a prefix of a float `arange`, and `arange(a, d)[i] → full(a + i·d)`.
pub(super) fn slice_arange(ctx: &Ctx<'_>, node: &ENode) -> Vec<Term> {
    let Some((spec, _)) = slice_input(ctx, node) else { return Vec::new() };
    let meta = ctx.node_meta(node);
    each_source(ctx, node, |op| {
        let Op::Arange { start, step } = *op else { return None };
        let [e] = spec.elems() else { return None };
        let new_op = match *e {
            SliceElem::Index(i) => Op::Full(arange_at(start, step, i)?),
            SliceElem::Range(r) if r.is_empty() => Op::Arange { start, step },
            SliceElem::Range(r) => {
                let (i0, k) = (r.nth(0), r.step);
                match (start, step) {
                    (Scalar::I32(a), Scalar::I32(d)) => Op::Arange {
                        start: Scalar::I32(a.wrapping_add((i0 as i32).wrapping_mul(d))),
                        step: Scalar::I32(d.wrapping_mul(k as i32)),
                    },
                    (Scalar::I64(a), Scalar::I64(d)) => Op::Arange {
                        start: Scalar::I64(a.wrapping_add((i0 as i64).wrapping_mul(d))),
                        step: Scalar::I64(d.wrapping_mul(k as i64)),
                    },
                    (Scalar::F32(_) | Scalar::F64(_), _) if i0 == 0 && k == 1 => Op::Arange { start, step },
                    _ => return None,
                }
            }
            SliceElem::NewAxis => return None,
        };
        Some(Term::Node { op: new_op, meta: meta.clone(), inputs: Vec::new() })
    })
}

/// Element `i` of `arange(start, step)`, computed as the source computes it.
fn arange_at(start: Scalar, step: Scalar, i: usize) -> Option<Scalar> {
    Some(match (start, step) {
        (Scalar::I32(a), Scalar::I32(d)) => Scalar::I32(a.wrapping_add((i as i32).wrapping_mul(d))),
        (Scalar::I64(a), Scalar::I64(d)) => Scalar::I64(a.wrapping_add((i as i64).wrapping_mul(d))),
        (Scalar::F32(a), Scalar::F32(d)) => Scalar::F32(a + i as f32 * d),
        (Scalar::F64(a), Scalar::F64(d)) => Scalar::F64(a + i as f64 * d),
        (Scalar::Bool(a), Scalar::Bool(d)) => {
            Scalar::Bool(i64::from(a).wrapping_add((i as i64).wrapping_mul(i64::from(d))) != 0)
        }
        _ => return None,
    })
}

/// `rechunk(src, C) → src` made in chunks `C`, for every source (`full`, `arange`,
/// `linspace`, `random` with or without a view, `from_array`). A source's op holds no
/// chunking: each element is a function of its global position (random numbers of their
/// flat index in the generated array), so generating the blocks of `C` directly gives the
/// same values, bit for bit, without making and then re-cutting the original blocks.
pub(super) fn rechunk_source(ctx: &Ctx<'_>, node: &ENode) -> Vec<Term> {
    if !matches!(ctx.op(node), Op::Rechunk) {
        return Vec::new();
    }
    let meta = ctx.node_meta(node);
    ctx.ops(node.children[0])
        // An external source's blocks are its own chunks, not a function of positions.
        .filter(|(n, op)| n.children.is_empty() && op.is_source() && !matches!(op, Op::External(_)))
        .map(|(_, op)| Term::Node { op: op.clone(), meta: meta.clone(), inputs: Vec::new() })
        .collect()
}

/// `random(seed, view)[s] → random(seed, view∘s)`: the same numbers, generated for the
/// selected elements only.
pub(super) fn slice_random(ctx: &Ctx<'_>, node: &ENode) -> Vec<Term> {
    let Some((spec, x)) = slice_input(ctx, node) else { return Vec::new() };
    let (meta, shape) = (ctx.node_meta(node), &ctx.meta(x).shape);
    each_source(ctx, node, |op| {
        let Op::Random { dist, seed, view } = op else { return None };
        let whole;
        let view: &SourceView = match view {
            Some(v) => v,
            None => {
                whole = SourceView::whole(shape);
                &whole
            }
        };
        let composed = slices::view_of_slice(view, spec)?;
        let e = build::random_view(*dist, *seed, &meta.shape, composed, &Chunks::Grid(meta.chunks.clone())).ok()?;
        Some(leaf(&e))
    })
}

/// `from_array(data)[s] → from_array(data[s])`, a zero-copy view of the same buffer.
pub(super) fn slice_from_array(ctx: &Ctx<'_>, node: &ENode) -> Vec<Term> {
    let Some((spec, _)) = slice_input(ctx, node) else { return Vec::new() };
    let meta = ctx.node_meta(node);
    each_source(ctx, node, |op| {
        let Op::FromArray(src) = op else { return None };
        let e = build::from_array_slice(src, spec, &Chunks::Grid(meta.chunks.clone())).ok()?;
        Some(leaf(&e))
    })
}

/// `from_npy(file, view)[s] → from_npy(file, view∘s)`: the block tasks read only the
/// selected elements from disk.
pub(super) fn slice_from_npy(ctx: &Ctx<'_>, node: &ENode) -> Vec<Term> {
    let Some((spec, _)) = slice_input(ctx, node) else { return Vec::new() };
    let meta = ctx.node_meta(node);
    each_source(ctx, node, |op| {
        let Op::FromNpy(src) = op else { return None };
        let e = build::from_npy(src.slice(spec)?, &Chunks::Grid(meta.chunks.clone())).ok()?;
        Some(leaf(&e))
    })
}
