//! Property tests of the pipeline over random expressions (random shapes, chunkings,
//! slices, layout ops, rechunks and reductions): the verifier holds after every pass with
//! every combination of passes, cull keeps exactly the reachable tasks, order is a
//! dependency-preserving renumbering, and every lowered task reads exactly the input blocks
//! holding the elements it needs.

use std::collections::{HashMap, HashSet};
use std::ops::Range;

use kiln_ir::build;
use kiln_ir::{
    ChunkAxis, Chunks, Distribution, Expr, F64Bits, NodeAux, Op, ReduceOp, SliceElem, TaskGraph, TaskId, TaskKey,
    TaskKind, UnaryOp,
};
use kiln_passes::cull::reachable;
use kiln_passes::verify::verify_graph;
use kiln_passes::{Cull, GraphPass, Order, PassOptions, build_graph};
use ndarray::SliceInfoElem;
use proptest::prelude::*;

/// One random source: per axis a length and either a uniform block size or cut points.
#[derive(Clone, Debug)]
struct SourceRecipe {
    axes: Vec<(usize, Option<usize>, Vec<usize>)>,
    seed: u64,
}

fn source_recipe() -> impl Strategy<Value = SourceRecipe> {
    let axis = (0usize..10, prop::option::of(1usize..5), prop::collection::vec(0usize..10, 0..4));
    (prop::collection::vec(axis, 0..4), any::<u64>()).prop_map(|(axes, seed)| SourceRecipe { axes, seed })
}

fn source(r: &SourceRecipe) -> Expr {
    let shape: Vec<usize> = r.axes.iter().map(|a| a.0).collect();
    let chunks: Vec<ChunkAxis> = r
        .axes
        .iter()
        .map(|(len, size, cuts)| match size {
            Some(s) => ChunkAxis::Size(*s),
            None => ChunkAxis::Explicit(lengths_from_cuts(*len, cuts)),
        })
        .collect();
    let dist = Distribution::Uniform { low: F64Bits(0.0), high: F64Bits(1.0) };
    build::random(dist, r.seed, &shape, &Chunks::per_axis(chunks)).unwrap()
}

/// Block lengths cutting `0..len` at `cuts` (taken modulo `len + 1`, so zero-length blocks
/// occur).
fn lengths_from_cuts(len: usize, cuts: &[usize]) -> Vec<usize> {
    let mut points: Vec<usize> = cuts.iter().map(|c| c % (len + 1)).collect();
    points.push(0);
    points.push(len);
    points.sort_unstable();
    points.windows(2).map(|w| w[1] - w[0]).collect()
}

/// One random step applied to the current expression; parameters are reduced modulo what
/// the expression allows, so every step is valid (or skipped).
#[derive(Clone, Debug)]
struct Step {
    kind: u8,
    params: Vec<u16>,
}

fn step() -> impl Strategy<Value = Step> {
    (0u8..9, prop::collection::vec(any::<u16>(), 12)).prop_map(|(kind, params)| Step { kind, params })
}

fn apply(x: &Expr, s: &Step) -> Option<Expr> {
    let mut p = s.params.iter().map(|&v| v as usize).cycle();
    let mut next = move || p.next().unwrap_or(0);
    let ndim = x.ndim();
    match s.kind {
        0 => {
            let mut info = Vec::new();
            for &len in x.shape().iter() {
                let e = match next() % 5 {
                    0 if len > 0 => {
                        SliceInfoElem::Index((next() % len) as isize - if next() % 2 == 0 { len as isize } else { 0 })
                    }
                    1 => SliceInfoElem::NewAxis,
                    _ => {
                        let start = (next() % (len + 3)) as isize - 1;
                        let end = (next() % (len + 3)) as isize - 1;
                        let step = [1, 1, 2, 3, -1, -2][next() % 6];
                        SliceInfoElem::Slice { start, end: Some(end), step }
                    }
                };
                info.push(e);
            }
            build::slice(x, &info).ok()
        }
        1 if ndim > 1 => {
            let mut perm: Vec<usize> = (0..ndim).collect();
            for i in (1..ndim).rev() {
                perm.swap(i, next() % (i + 1));
            }
            build::transpose(x, &perm).ok()
        }
        2 if ndim < 4 => build::insert_axis(x, next() % (ndim + 1)).ok(),
        3 if ndim < 4 => {
            let mut shape = vec![1 + next() % 3];
            shape.extend(x.shape().iter().map(|&d| if d == 1 { 1 + next() % 3 } else { d }));
            build::broadcast_to(x, &shape).ok()
        }
        4 => {
            let chunks: Vec<ChunkAxis> = x
                .shape()
                .iter()
                .map(|&len| {
                    if next() % 3 == 0 {
                        ChunkAxis::Explicit(lengths_from_cuts(len, &[next(), next()]))
                    } else {
                        ChunkAxis::Size(1 + next() % 4)
                    }
                })
                .collect();
            build::rechunk(x, &Chunks::per_axis(chunks)).ok()
        }
        5 => {
            let axes: Vec<usize> = (0..ndim).filter(|_| next() % 2 == 0).collect();
            build::reduce(ReduceOp::Sum, x, Some(&axes), next() % 2 == 0).ok()
        }
        6 if ndim > 0 => {
            // x minus its mean along one axis, kept as a length-1 axis: a broadcast binary.
            let m = build::reduce(ReduceOp::Mean, x, Some(&[next() % ndim]), true).ok()?;
            build::binary(kiln_ir::BinaryOp::Sub, x, &m).ok()
        }
        7 => build::unary(UnaryOp::Exp, x).ok(),
        _ => build::binary(kiln_ir::BinaryOp::Mul, x, &build::scalar(kiln_ir::Scalar::F64(2.0))).ok(),
    }
}

/// Builds the roots: the last expression, and an intermediate one when `two_roots`.
fn roots(src: &SourceRecipe, steps: &[Step], two_roots: bool) -> Vec<Expr> {
    let mut exprs = vec![source(src)];
    for s in steps {
        if let Some(e) = apply(exprs.last().unwrap(), s) {
            exprs.push(e);
        }
    }
    let last = exprs.last().unwrap().clone();
    if two_roots { vec![last, exprs[exprs.len() / 2].clone()] } else { vec![last] }
}

fn opts(split_every: usize, disabled: &[&str]) -> PassOptions {
    PassOptions {
        verify: true,
        split_every,
        disabled: disabled.iter().map(|s| s.to_string()).collect(),
        ..PassOptions::default()
    }
}

/// Each task's key with its dependencies' keys.
fn keyed(graph: &TaskGraph) -> HashMap<TaskKey, Vec<TaskKey>> {
    (0..graph.len())
        .map(|i| {
            let id = TaskId(i as u32);
            (graph.key(id), graph.deps(id).iter().map(|&d| graph.key(d)).collect())
        })
        .collect()
}

fn intersects(a: &Range<usize>, b: &Range<usize>) -> bool {
    a.start.max(b.start) < a.end.min(b.end)
}

/// Per input, the element region of the input that output region `out` of `e` reads.
fn needed(e: &Expr, out: &[Range<usize>]) -> Vec<Vec<Range<usize>>> {
    match e.op() {
        Op::Transpose(perm) => {
            let mut region = vec![0..0; e.ndim()];
            for (k, &p) in perm.iter().enumerate() {
                region[p] = out[k].clone();
            }
            vec![region]
        }
        Op::InsertAxis(axis) => {
            let mut region = out.to_vec();
            region.remove(*axis);
            vec![region]
        }
        Op::Slice(spec) => {
            let mut region = Vec::new();
            let mut j = 0;
            for elem in spec.elems() {
                match *elem {
                    SliceElem::Range(r) => {
                        let o = &out[j];
                        region.push(if o.is_empty() {
                            0..0
                        } else {
                            let (a, b) = (r.nth(o.start), r.nth(o.end - 1));
                            a.min(b)..a.max(b) + 1
                        });
                        j += 1;
                    }
                    SliceElem::Index(i) => region.push(i..i + 1),
                    SliceElem::NewAxis => j += 1,
                }
            }
            vec![region]
        }
        _ => e
            .inputs()
            .iter()
            .map(|x| {
                let offset = e.ndim() - x.ndim();
                (0..x.ndim())
                    .map(|k| if x.shape()[k] != e.shape()[k + offset] { 0..1 } else { out[k + offset].clone() })
                    .collect()
            })
            .collect(),
    }
}

/// Checks that every `Block` task reads the input blocks holding what it needs, and that
/// every reduction tree reads each partial of its output block exactly once.
fn check_dependencies(graph: &TaskGraph) -> Result<(), String> {
    for i in 0..graph.len() {
        let id = TaskId(i as u32);
        let task = graph.task(id);
        let e = &graph.node(task.node).expr;
        let deps = graph.deps(id);
        match task.kind {
            TaskKind::Block if e.op().is_source() => {}
            TaskKind::Block => {
                let out = e.chunks().block_region(&e.chunks().unravel(task.index));
                let needs = needed(e, &out);
                if matches!(e.op(), Op::Rechunk) {
                    let x = e.inputs()[0].chunks();
                    let region = &needs[0];
                    // Per axis, every input block meeting the region, or the block holding
                    // its start when the region is empty there; then their product, in C order.
                    let per_axis: Vec<Vec<usize>> = (0..x.ndim())
                        .map(|d| {
                            let axis = x.axis(d);
                            let hit: Vec<usize> = (0..axis.n_blocks())
                                .filter(|&b| intersects(&axis.block_range(b), &region[d]))
                                .collect();
                            if !hit.is_empty() {
                                hit
                            } else if axis.is_empty() {
                                vec![0]
                            } else {
                                vec![axis.block_of(region[d].start.min(axis.len() - 1))]
                            }
                        })
                        .collect();
                    let want: Vec<u64> = (0..x.n_blocks())
                        .filter(|&b| x.unravel(b).iter().zip(&per_axis).all(|(i, l)| l.contains(i)))
                        .collect();
                    let got: Vec<u64> = deps.iter().map(|&d| graph.task(d).index).collect();
                    if got != want {
                        return Err(format!("{} reads {got:?}, needs {want:?}", graph.key_string(id)));
                    }
                    continue;
                }
                for ((&d, x), region) in deps.iter().zip(e.inputs()).zip(&needs) {
                    let dep_region = x.chunks().block_region(&x.chunks().unravel(graph.task(d).index));
                    let holds = region
                        .iter()
                        .zip(&dep_region)
                        .all(|(n, h)| n.is_empty() || (h.start <= n.start && n.end <= h.end));
                    if !holds {
                        return Err(format!(
                            "{} needs {region:?} of its input but reads block {dep_region:?}",
                            graph.key_string(id)
                        ));
                    }
                }
                if let (Op::Slice(spec), NodeAux::Slice(pieces)) = (e.op(), &graph.node(task.node).aux) {
                    check_slice_table(spec, pieces, e, graph.task(deps[0]).index, task.index)
                        .map_err(|msg| format!("{}: {msg}", graph.key_string(id)))?;
                }
            }
            TaskKind::ReduceFinal => {
                let Op::Reduce { axes, .. } = e.op() else { return Err("final of a non-reduction".into()) };
                let x = e.inputs()[0].chunks();
                let kept: Vec<usize> = (0..x.ndim()).filter(|k| !axes.contains(k)).collect();
                let mut stack: Vec<TaskId> = deps.to_vec();
                let mut partials = Vec::new();
                while let Some(t) = stack.pop() {
                    match graph.task(t).kind {
                        TaskKind::ReducePartial => partials.push(graph.task(t).index),
                        _ => stack.extend_from_slice(graph.deps(t)),
                    }
                }
                partials.sort_unstable();
                let out_pos = e.chunks().unravel(task.index);
                let out_kept: Vec<usize> =
                    if e.ndim() == x.ndim() { kept.iter().map(|&k| out_pos[k]).collect() } else { out_pos.clone() };
                let want: Vec<u64> = (0..x.n_blocks())
                    .filter(|&b| {
                        let pos = x.unravel(b);
                        kept.iter().map(|&k| pos[k]).eq(out_kept.iter().copied())
                    })
                    .collect();
                if partials != want {
                    return Err(format!("{} combines partials {partials:?}, not {want:?}", graph.key_string(id)));
                }
            }
            _ => {}
        }
    }
    Ok(())
}

/// Checks a slice's side table against the spec for one output block that reads input
/// block `dep`: each piece names that block and selects exactly the output block's elements.
fn check_slice_table(
    spec: &kiln_ir::SliceSpec,
    pieces: &[Vec<kiln_ir::AxisPiece>],
    e: &Expr,
    dep: u64,
    out_block: u64,
) -> Result<(), String> {
    let x = e.inputs()[0].chunks();
    let dep_pos = x.unravel(dep);
    let out_pos = e.chunks().unravel(out_block);
    let (mut k, mut j) = (0, 0);
    for elem in spec.elems() {
        let axis = x.axis(k);
        match *elem {
            SliceElem::Range(r) => {
                let piece = pieces[k][out_pos[j]];
                let o = e.chunks().axis(j).block_range(out_pos[j]);
                let start = axis.block_start(piece.in_block);
                let selects = piece.local.len() == o.len()
                    && (0..o.len()).all(|i| start + piece.local.nth(i) == r.nth(o.start + i));
                if piece.in_block != dep_pos[k] || !selects {
                    return Err(format!("piece {piece:?} on axis {k} is wrong for output range {o:?}"));
                }
                k += 1;
                j += 1;
            }
            SliceElem::Index(i) => {
                let piece = pieces[k][0];
                let start = axis.block_start(piece.in_block);
                if piece.in_block != dep_pos[k] || start + piece.local.start != i || piece.local.len() != 1 {
                    return Err(format!("piece {piece:?} on axis {k} does not select index {i}"));
                }
                k += 1;
            }
            SliceElem::NewAxis => j += 1,
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn passes_keep_the_invariants(
        src in source_recipe(),
        steps in prop::collection::vec(step(), 0..5),
        two_roots in any::<bool>(),
        split_every in 2usize..5,
    ) {
        let roots = roots(&src, &steps, two_roots);
        let listing = kiln_ir::expr_text::listing(&roots);
        for disabled in [&[][..], &["cull"], &["order"], &["cull", "order"]] {
            let res = build_graph(&roots, &opts(split_every, disabled));
            prop_assert!(res.is_ok(), "{disabled:?}: {}\n{listing}", res.unwrap_err());
        }
        let lowered = build_graph(&roots, &opts(split_every, &["cull", "order"])).unwrap().0;
        prop_assert_eq!(check_dependencies(&lowered), Ok(()), "{}", listing);

        // Cull keeps exactly the reachable tasks, with their dependencies.
        let keep = reachable(&lowered);
        let all = keyed(&lowered);
        let want: HashMap<TaskKey, Vec<TaskKey>> = (0..lowered.len())
            .filter(|&i| keep[i])
            .map(|i| {
                let key = lowered.key(TaskId(i as u32));
                let deps = all[&key].clone();
                (key, deps)
            })
            .collect();
        let culled = Cull.run(lowered.clone(), &opts(split_every, &[])).unwrap().result;
        prop_assert_eq!(verify_graph(&culled), Ok(()));
        prop_assert_eq!(keyed(&culled), want);
        prop_assert_eq!(keep.iter().filter(|&&k| k).count(), culled.len());

        // Order renumbers without changing any task's dependencies.
        let ordered = Order.run(lowered.clone(), &opts(split_every, &[])).unwrap().result;
        prop_assert_eq!(verify_graph(&ordered), Ok(()));
        prop_assert_eq!(keyed(&ordered), all);
        let keys: HashSet<TaskKey> = (0..ordered.len()).map(|i| ordered.key(TaskId(i as u32))).collect();
        prop_assert_eq!(keys.len(), lowered.len());
    }
}

#[test]
fn chunk_cuts_cover_the_axis() {
    assert_eq!(lengths_from_cuts(5, &[2, 2, 7]), vec![1, 1, 0, 3]);
    assert_eq!(lengths_from_cuts(0, &[3]), vec![0, 0]);
}
