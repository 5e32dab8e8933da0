//! Rules that remove work: identities (slice, transpose, rechunk, astype), transpose and
//! rechunk chains, and exact algebraic identities (`x*1`, `x/1`, `--x`, constant `where`).

use kiln_ir::{BinaryOp, Op, Scalar, SliceElem, UnaryOp};

use super::{Ctx, Term};
use crate::egraph::language::ENode;
use crate::egraph::meta;

/// `t(t(x, p), q) → t(x, p∘q)`, or `x` when the composition keeps every axis in place.
pub(super) fn transpose_transpose(ctx: &Ctx<'_>, node: &ENode) -> Vec<Term> {
    let Op::Transpose(q) = ctx.op(node) else { return Vec::new() };
    let mut out = Vec::new();
    for (inner, op) in ctx.ops(node.children[0]) {
        let Op::Transpose(p) = op else { continue };
        let x = inner.children[0];
        let Some(perm) = q.iter().map(|&k| p.get(k).copied()).collect::<Option<Vec<usize>>>() else { continue };
        if perm.iter().enumerate().all(|(i, &k)| i == k) {
            out.push(Term::Class(x));
        } else if let Some(m) = meta::transpose(ctx.meta(x), &perm) {
            out.push(Term::Node { op: Op::Transpose(perm.into()), meta: m, inputs: vec![Term::Class(x)] });
        }
    }
    out
}

/// `t(x, [0, 1, ...]) → x`.
pub(super) fn identity_transpose(ctx: &Ctx<'_>, node: &ENode) -> Vec<Term> {
    match ctx.op(node) {
        Op::Transpose(p) if p.iter().enumerate().all(|(i, &k)| i == k) => vec![Term::Class(node.children[0])],
        _ => Vec::new(),
    }
}

/// `x[..] → x` for a slice that selects every element of `x` in order (a whole range, or
/// any one-element range of a length-1 axis).
pub(super) fn identity_slice(ctx: &Ctx<'_>, node: &ENode) -> Vec<Term> {
    let Op::Slice(spec) = ctx.op(node) else { return Vec::new() };
    let shape = &ctx.meta(node.children[0]).shape;
    let whole = spec.elems().len() == shape.len()
        && spec.elems().iter().zip(shape.iter()).all(|(e, &len)| match e {
            SliceElem::Range(r) => r.len() == len && (r.step == 1 || len <= 1),
            _ => false,
        });
    if whole { vec![Term::Class(node.children[0])] } else { Vec::new() }
}

/// `rechunk(x, chunks(x)) → x`.
pub(super) fn identity_rechunk(ctx: &Ctx<'_>, node: &ENode) -> Vec<Term> {
    match ctx.op(node) {
        Op::Rechunk if ctx.meta(node.children[0]).chunks == ctx.node_meta(node).chunks => {
            vec![Term::Class(node.children[0])]
        }
        _ => Vec::new(),
    }
}

/// `astype(x, dtype(x)) → x`.
pub(super) fn identity_astype(ctx: &Ctx<'_>, node: &ENode) -> Vec<Term> {
    match ctx.op(node) {
        Op::AsType if ctx.meta(node.children[0]).dtype == ctx.node_meta(node).dtype => {
            vec![Term::Class(node.children[0])]
        }
        _ => Vec::new(),
    }
}

/// `rechunk(rechunk(x, a), b) → rechunk(x, b)`, or `x` when it already has chunks `b`.
pub(super) fn rechunk_rechunk(ctx: &Ctx<'_>, node: &ENode) -> Vec<Term> {
    if !matches!(ctx.op(node), Op::Rechunk) {
        return Vec::new();
    }
    let target = &ctx.node_meta(node).chunks;
    let mut out = Vec::new();
    for (inner, op) in ctx.ops(node.children[0]) {
        if !matches!(op, Op::Rechunk) {
            continue;
        }
        let x = inner.children[0];
        if ctx.meta(x).chunks == *target {
            out.push(Term::Class(x));
        } else if let Some(m) = meta::rechunk(ctx.meta(x), target) {
            out.push(Term::Node { op: Op::Rechunk, meta: m, inputs: vec![Term::Class(x)] });
        }
    }
    out
}

/// Whether `v` is exactly one (`1.0` by bits, `1`, `true`).
fn is_one(v: Option<Scalar>) -> bool {
    match v {
        Some(Scalar::F64(x)) => x.to_bits() == 1.0f64.to_bits(),
        Some(Scalar::F32(x)) => x.to_bits() == 1.0f32.to_bits(),
        Some(Scalar::I32(x)) => x == 1,
        Some(Scalar::I64(x)) => x == 1,
        Some(Scalar::Bool(x)) => x,
        None => false,
    }
}

/// `x * 1 → x` and `1 * x → x` (the runner keeps it only when `x` has the product's
/// metadata: no broadcast, no change of weakness).
pub(super) fn mul_one(ctx: &Ctx<'_>, node: &ENode) -> Vec<Term> {
    if !matches!(ctx.op(node), Op::Binary(BinaryOp::Mul)) {
        return Vec::new();
    }
    let (a, b) = (node.children[0], node.children[1]);
    let mut out = Vec::new();
    if is_one(ctx.constant(b)) {
        out.push(Term::Class(a));
    }
    if is_one(ctx.constant(a)) {
        out.push(Term::Class(b));
    }
    out
}

/// `x / 1 → x`.
pub(super) fn div_one(ctx: &Ctx<'_>, node: &ENode) -> Vec<Term> {
    match ctx.op(node) {
        Op::Binary(BinaryOp::Div) if is_one(ctx.constant(node.children[1])) => vec![Term::Class(node.children[0])],
        _ => Vec::new(),
    }
}

/// `-(-x) → x`.
pub(super) fn neg_neg(ctx: &Ctx<'_>, node: &ENode) -> Vec<Term> {
    if !matches!(ctx.op(node), Op::Unary(UnaryOp::Neg)) {
        return Vec::new();
    }
    ctx.ops(node.children[0])
        .filter(|(_, op)| matches!(op, Op::Unary(UnaryOp::Neg)))
        .map(|(inner, _)| Term::Class(inner.children[0]))
        .collect()
}

/// `where(c, a, b) → a` when `c` is constantly true, `b` when constantly false.
pub(super) fn where_constant(ctx: &Ctx<'_>, node: &ENode) -> Vec<Term> {
    if !matches!(ctx.op(node), Op::Where) {
        return Vec::new();
    }
    match ctx.constant(node.children[0]) {
        Some(c) if c.truthy() => vec![Term::Class(node.children[1])],
        Some(_) => vec![Term::Class(node.children[2])],
        None => Vec::new(),
    }
}
