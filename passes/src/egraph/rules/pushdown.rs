//! Slice pushdown: a slice moves below the op that makes its input, so the op computes
//! only the selected part. Each rule matches a `slice` node and the nodes of its input's
//! class; the slice algebra is in `crate::egraph::slices`. A slice moved below a `rechunk`
//! keeps its chunking with a smaller `rechunk` above it, since chunks are part of a value's
//! meaning here.

use egg::Id;
use kiln_ir::{Op, SliceSpec};

use super::{Ctx, Term};
use crate::egraph::language::ENode;
use crate::egraph::{meta, slices};

/// The spec and input class of a `slice` node.
pub(super) fn slice_input<'a>(ctx: &Ctx<'a>, node: &ENode) -> Option<(&'a SliceSpec, Id)> {
    match ctx.op(node) {
        Op::Slice(spec) => Some((spec, node.children[0])),
        _ => None,
    }
}

/// Runs `f` on every node of the sliced class, collecting the replacements it finds.
fn each_input_node<'a>(
    ctx: &Ctx<'a>,
    node: &ENode,
    mut f: impl FnMut(&'a SliceSpec, &'a ENode, &'a Op) -> Option<Term>,
) -> Vec<Term> {
    let Some((spec, x)) = slice_input(ctx, node) else { return Vec::new() };
    ctx.ops(x).filter_map(|(inner, op)| f(spec, inner, op)).collect()
}

/// `x[s][t] → x[s∘t]`.
pub(super) fn slice_slice(ctx: &Ctx<'_>, node: &ENode) -> Vec<Term> {
    each_input_node(ctx, node, |outer, inner, op| {
        let Op::Slice(s) = op else { return None };
        let elems = slices::compose(s, outer)?;
        ctx.slice(Term::Class(inner.children[0]), &elems)
    })
}

/// `f(x, y)[s] → f(x[s'], y[s''])` for unary and binary functions, `where` and `astype`.
pub(super) fn slice_elementwise(ctx: &Ctx<'_>, node: &ENode) -> Vec<Term> {
    each_input_node(ctx, node, |spec, inner, op| {
        if !op.is_elementwise() {
            return None;
        }
        let out_shape = &ctx.node_meta(inner).shape;
        let mut inputs = Vec::with_capacity(inner.children.len());
        for &c in inner.children.iter() {
            let shape = &ctx.meta(c).shape;
            if shape.ndim() == 0 {
                inputs.push(Term::Class(c));
            } else {
                inputs.push(ctx.slice(Term::Class(c), &slices::operand(spec, out_shape, shape))?);
            }
        }
        let m: Vec<&kiln_ir::Meta> = inputs.iter().map(|t| ctx.term_meta(t)).collect();
        let meta = match op {
            Op::Unary(u) => meta::unary(*u, m[0])?,
            Op::Binary(b) => meta::binary(*b, m[0], m[1])?,
            Op::Where => meta::where_(m[0], m[1], m[2])?,
            Op::AsType => meta::astype(m[0], ctx.node_meta(inner).dtype),
            _ => return None,
        };
        Some(Term::Node { op: op.clone(), meta, inputs })
    })
}

/// `broadcast_to(x, sh)[s] → broadcast_to(x[s'], sh')` (or `x[s']` when that already has
/// the result's shape).
pub(super) fn slice_broadcast_to(ctx: &Ctx<'_>, node: &ENode) -> Vec<Term> {
    each_input_node(ctx, node, |spec, inner, op| {
        if !matches!(op, Op::BroadcastTo) {
            return None;
        }
        let x = inner.children[0];
        let elems = slices::through_broadcast(spec, &ctx.meta(x).shape, &ctx.node_meta(inner).shape);
        let sliced = ctx.slice(Term::Class(x), &elems)?;
        let shape = spec.out_shape();
        if ctx.term_meta(&sliced).shape == shape {
            return Some(sliced);
        }
        let meta = meta::broadcast_to(ctx.term_meta(&sliced), &shape)?;
        Some(Term::Node { op: Op::BroadcastTo, meta, inputs: vec![sliced] })
    })
}

/// `insert_axis(x, a)[s] → x[s']`, the inserted axis becoming a new axis of the slice.
pub(super) fn slice_insert_axis(ctx: &Ctx<'_>, node: &ENode) -> Vec<Term> {
    each_input_node(ctx, node, |spec, inner, op| {
        let Op::InsertAxis(axis) = op else { return None };
        let elems = slices::through_insert_axis(spec, *axis)?;
        ctx.slice(Term::Class(inner.children[0]), &elems)
    })
}

/// `t(x, p)[s] → t(x[s'], p')`, the slice permuted onto `x`'s axes.
pub(super) fn slice_transpose(ctx: &Ctx<'_>, node: &ENode) -> Vec<Term> {
    each_input_node(ctx, node, |spec, inner, op| {
        let Op::Transpose(perm) = op else { return None };
        let (elems, perm2) = slices::through_transpose(spec, perm)?;
        let sliced = ctx.slice(Term::Class(inner.children[0]), &elems)?;
        if perm2.iter().enumerate().all(|(i, &k)| i == k) {
            return Some(sliced);
        }
        let meta = meta::transpose(ctx.term_meta(&sliced), &perm2)?;
        Some(Term::Node { op: Op::Transpose(perm2.into()), meta, inputs: vec![sliced] })
    })
}

/// `rechunk(x, C)[s] → rechunk(x[s], C')`, where `C'` is the chunking the slice had: `C`
/// sliced by `s` (`ir::SliceSpec::out_chunks`). When `x[s]` already has chunks `C'` it is
/// the result itself, with no rechunk. Same elements, same chunks, fewer read.
pub(super) fn slice_rechunk(ctx: &Ctx<'_>, node: &ENode) -> Vec<Term> {
    let target = &ctx.node_meta(node).chunks;
    each_input_node(ctx, node, |spec, inner, op| {
        if !matches!(op, Op::Rechunk) {
            return None;
        }
        let sliced = ctx.slice(Term::Class(inner.children[0]), spec.elems())?;
        if ctx.term_meta(&sliced).chunks == *target {
            return Some(sliced);
        }
        let meta = meta::rechunk(ctx.term_meta(&sliced), target)?;
        Some(Term::Node { op: Op::Rechunk, meta, inputs: vec![sliced] })
    })
}

/// `reduce(x, axes)[s] → reduce(x[s'], axes')` when `s` slices only kept axes (new axes
/// of `s` stay in a slice above the reduction).
pub(super) fn slice_reduce(ctx: &Ctx<'_>, node: &ENode) -> Vec<Term> {
    each_input_node(ctx, node, |spec, inner, op| {
        let Op::Reduce { op: r, axes, keepdims } = op else { return None };
        let x = inner.children[0];
        let (first, then) = slices::split_new_axes(spec);
        let first = kiln_ir::build::slice_spec(&first, &ctx.node_meta(inner).shape).ok()?;
        let (elems, axes2) = slices::through_reduce(&first, &ctx.meta(x).shape, axes, *keepdims)?;
        let sliced = ctx.slice(Term::Class(x), &elems)?;
        if matches!(sliced, Term::Class(_)) {
            return None;
        }
        let meta = meta::reduce(*r, ctx.term_meta(&sliced), &axes2, *keepdims)?;
        let reduced = Term::Node {
            op: Op::Reduce { op: *r, axes: axes2.into(), keepdims: *keepdims },
            meta,
            inputs: vec![sliced],
        };
        ctx.slice(reduced, &then)
    })
}
