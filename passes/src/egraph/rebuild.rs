//! From the chosen e-nodes back to expressions: iteratively, inputs first, each class once
//! (so shared values stay shared; `Expr::new` hash-conses the rest). A node the input
//! already had, over the same inputs, is reused as it was; every other node is made by the
//! checked `ir::build` constructors, and must come out with exactly its class's metadata.

use std::collections::HashMap;

use egg::Id;
use kiln_ir::{Chunks, Expr, Meta, Op, Token, build};

use crate::egraph::extract::Selection;
use crate::egraph::language::{EGraph, Key, node_key};

/// Makes one node with the checked builders: `op` over `inputs`, expected to have `meta`.
pub fn build_node(op: &Op, meta: &Meta, inputs: &[Expr]) -> Result<Expr, String> {
    let grid = || Chunks::Grid(meta.chunks.clone());
    let arg = |k: usize| inputs.get(k).ok_or_else(|| format!("{} is missing input {k}", op.name()));
    let len = || meta.shape.first().copied().ok_or_else(|| format!("{} is not 1-d", op.name()));
    let built = match op {
        Op::FromArray(src) => build::from_array(src.data().clone(), &grid()),
        Op::Full(v) if meta.weak.is_some() => Ok(build::scalar(*v)),
        Op::Full(v) => build::full(*v, &meta.shape, &grid()),
        Op::Arange { start, step } => build::arange_len(*start, *step, len()?, &grid()),
        Op::Linspace { start, stop, endpoint } => build::linspace(start.0, stop.0, len()?, *endpoint, &grid()),
        Op::Random { dist, seed, view: None } => build::random(*dist, *seed, &meta.shape, &grid()),
        Op::Random { dist, seed, view: Some(v) } => {
            build::random_view(*dist, *seed, &meta.shape, (**v).clone(), &grid())
        }
        Op::Unary(u) => build::unary(*u, arg(0)?),
        Op::Binary(b) => build::binary(*b, arg(0)?, arg(1)?),
        Op::Where => build::where_(arg(0)?, arg(1)?, arg(2)?),
        Op::AsType => Ok(build::astype(arg(0)?, meta.dtype)),
        Op::Reduce { op, axes, keepdims } => build::reduce(*op, arg(0)?, Some(axes), *keepdims),
        Op::Slice(spec) => build::slice_normalized(arg(0)?, spec),
        Op::Transpose(perm) => build::transpose(arg(0)?, perm),
        Op::InsertAxis(axis) => build::insert_axis(arg(0)?, *axis),
        Op::BroadcastTo => build::broadcast_to(arg(0)?, &meta.shape),
        Op::Rechunk => build::rechunk(arg(0)?, &grid()),
        Op::Fused { kernel, grid } => build::fused((**kernel).clone(), inputs.to_vec(), grid.clone()),
        Op::FromNpy(src) => build::from_npy((**src).clone(), &grid()),
        Op::External(src) => build::external(src.clone(), &grid()),
        Op::StoreNpy(target) => build::store_npy(arg(0)?, (**target).clone()),
    };
    let e = built.map_err(|err| format!("rebuilding {}: {err}", op.name()))?;
    if e.meta() != meta {
        return Err(format!(
            "rebuilding {} gave {} {} chunks={} (weak {:?}), expected {} {} chunks={} (weak {:?})",
            op.name(),
            e.dtype(),
            e.shape(),
            e.chunks(),
            e.meta().weak,
            meta.dtype,
            meta.shape,
            meta.chunks,
            meta.weak
        ));
    }
    Ok(e)
}

/// The expressions of the plan `sel` for `roots`.
pub fn rebuild(
    egraph: &EGraph,
    sel: &Selection,
    roots: &[Id],
    originals: &HashMap<(Key, Box<[Token]>), Expr>,
) -> Result<Vec<Expr>, String> {
    let mut built: HashMap<Id, Expr> = HashMap::new();
    let mut expanded_once: std::collections::HashSet<Id> = std::collections::HashSet::new();
    let mut stack: Vec<(Id, bool)> = roots.iter().rev().map(|&r| (egraph.find(r), false)).collect();
    while let Some((id, expanded)) = stack.pop() {
        if built.contains_key(&id) {
            continue;
        }
        let index = sel.get(id).ok_or_else(|| format!("class {id} has no chosen node"))?;
        let node = &egraph[id].nodes[index];
        if !expanded {
            if !expanded_once.insert(id) {
                return Err(format!("the plan has a cycle through class {id}"));
            }
            stack.push((id, true));
            for &c in node.children.iter().rev() {
                let c = egraph.find(c);
                if !built.contains_key(&c) {
                    stack.push((c, false));
                }
            }
            continue;
        }
        let inputs: Vec<Expr> = node
            .children
            .iter()
            .map(|&c| built.get(&egraph.find(c)).cloned().ok_or_else(|| format!("class {c} was not built first")))
            .collect::<Result<_, _>>()?;
        let tokens: Box<[Token]> = inputs.iter().map(Expr::token).collect();
        let e = match originals.get(&(node.key, tokens)) {
            Some(e) => e.clone(),
            None => {
                let (op, meta) = node_key(egraph, node);
                build_node(op, meta, &inputs)?
            }
        };
        built.insert(id, e);
    }
    roots
        .iter()
        .map(|&r| built.get(&egraph.find(r)).cloned().ok_or_else(|| "a root was not built".to_string()))
        .collect()
}
