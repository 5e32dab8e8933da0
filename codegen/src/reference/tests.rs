//! Tests of `run_task` on hand-lowered task graphs: a small lowering that follows the
//! dependency conventions of `TaskKind`, a sequential executor, and checks of the assembled
//! results against ndarray.

use std::collections::HashMap;
use std::ops::Range;
use std::sync::Arc;

use kiln_ir::build;
use kiln_ir::slice::slice_axis_pieces;
use kiln_ir::{
    AxisPiece, AxisSlice, BinaryOp, Chunk, Chunks, DType, Distribution, Expr, F64Bits, NodeAux, NodeId, Op, ReduceOp,
    Scalar, SliceElem, TaskGraph, TaskGraphBuilder, TaskId, TaskKind, Value,
};
use ndarray::{Array, ArrayD, Dimension, IxDyn, NewAxis, s};

use super::*;

/// Lowers expressions block by block (tests only; fan-in 2 for reductions).
struct Lowering {
    b: TaskGraphBuilder,
    /// Per lowered node: its id and the task of each block (in C order).
    done: HashMap<usize, (NodeId, Vec<TaskId>)>,
}

impl Lowering {
    fn new() -> Lowering {
        Lowering { b: TaskGraphBuilder::new(), done: HashMap::new() }
    }

    fn lower(&mut self, e: &Expr) -> Vec<TaskId> {
        if let Some((_, t)) = self.done.get(&e.addr()) {
            return t.clone();
        }
        let ins: Vec<Vec<TaskId>> = e.inputs().iter().map(|i| self.lower(i)).collect();
        let grid = e.chunks().clone();
        let aux = match e.op() {
            Op::Slice(spec) => NodeAux::Slice(slice_pieces(spec, e.inputs()[0].chunks())),
            _ => NodeAux::None,
        };
        let node = self.b.add_node(e.clone(), aux.clone());
        let mut tasks = Vec::new();
        if let Op::Reduce { axes, .. } = e.op() {
            let in_grid = e.inputs()[0].chunks().clone();
            let mut groups: std::collections::BTreeMap<Vec<usize>, Vec<TaskId>> = Default::default();
            for lin in 0..in_grid.n_blocks() {
                let t = self.b.add_task(node, TaskKind::ReducePartial, lin, &[ins[0][lin as usize]]);
                let kept: Vec<usize> = in_grid
                    .unravel(lin)
                    .iter()
                    .enumerate()
                    .filter(|(k, _)| !axes.contains(k))
                    .map(|(_, &i)| i)
                    .collect();
                groups.entry(kept).or_default().push(t);
            }
            for (out, partials) in groups.into_values().enumerate() {
                // One combine level when there are more than two partials.
                let last: Vec<TaskId> = if partials.len() > 2 {
                    let n_groups = partials.len().div_ceil(2) as u64;
                    partials
                        .chunks(2)
                        .enumerate()
                        .map(|(g, p)| {
                            let index = out as u64 * n_groups + g as u64;
                            self.b.add_task(node, TaskKind::ReduceCombine { level: 1 }, index, p)
                        })
                        .collect()
                } else {
                    partials
                };
                tasks.push(self.b.add_task(node, TaskKind::ReduceFinal, out as u64, &last));
            }
        } else {
            for lin in 0..grid.n_blocks() {
                let idx = grid.unravel(lin);
                let deps = deps_of(e, &idx, &ins, &aux);
                tasks.push(self.b.add_task(node, TaskKind::Block, lin, &deps));
            }
        }
        self.done.insert(e.addr(), (node, tasks.clone()));
        tasks
    }

    /// Lowers `e` as an output and runs the whole graph, returning the assembled result.
    fn compute(mut self, e: &Expr) -> Result<ArrayD<f64>> {
        let tasks = self.lower(e);
        let node = self.done[&e.addr()].0;
        self.b.add_output(node, tasks.clone());
        let g = self.b.finish();
        g.verify().map_err(|x| Error::Internal(x.to_string()))?;
        let values = execute(&g)?;
        assemble(e, &tasks.iter().map(|t| values[t.idx()].clone()).collect::<Vec<_>>())
    }
}

/// Dependencies of block `idx` of a non-reduction node.
fn deps_of(e: &Expr, idx: &[usize], ins: &[Vec<TaskId>], aux: &NodeAux) -> Vec<TaskId> {
    let block_of = |input: &Expr, in_idx: &[usize], k: usize| ins[k][input.chunks().ravel(in_idx) as usize];
    match e.op() {
        op if op.is_source() => vec![],
        Op::Unary(_) | Op::Binary(_) | Op::Where | Op::AsType | Op::BroadcastTo => e
            .inputs()
            .iter()
            .enumerate()
            .map(|(k, input)| {
                let off = e.ndim() - input.ndim();
                let in_idx: Vec<usize> = (0..input.ndim())
                    .map(|a| if input.shape()[a] == e.shape()[a + off] { idx[a + off] } else { 0 })
                    .collect();
                block_of(input, &in_idx, k)
            })
            .collect(),
        Op::Transpose(perm) => {
            let mut in_idx = vec![0; perm.len()];
            for (k, &p) in perm.iter().enumerate() {
                in_idx[p] = idx[k];
            }
            vec![block_of(&e.inputs()[0], &in_idx, 0)]
        }
        Op::InsertAxis(k) => {
            let mut in_idx = idx.to_vec();
            in_idx.remove(*k);
            vec![block_of(&e.inputs()[0], &in_idx, 0)]
        }
        Op::Slice(spec) => {
            let NodeAux::Slice(pieces) = aux else { unreachable!() };
            let (mut ia, mut oa, mut in_idx) = (0, 0, Vec::new());
            for el in spec.elems() {
                match el {
                    SliceElem::Range(_) => {
                        in_idx.push(pieces[ia][idx[oa]].in_block);
                        (ia, oa) = (ia + 1, oa + 1);
                    }
                    SliceElem::Index(_) => {
                        in_idx.push(pieces[ia][0].in_block);
                        ia += 1;
                    }
                    SliceElem::NewAxis => oa += 1,
                }
            }
            vec![block_of(&e.inputs()[0], &in_idx, 0)]
        }
        Op::Rechunk => {
            let input = &e.inputs()[0];
            let out = e.chunks().block_region(idx);
            (0..input.chunks().n_blocks())
                .filter(|&l| {
                    let r = input.chunks().block_region(&input.chunks().unravel(l));
                    r.iter().zip(&out).all(|(a, b)| a.start.max(b.start) < a.end.min(b.end))
                })
                .map(|l| ins[0][l as usize])
                .collect()
        }
        other => panic!("no test lowering for {}", other.name()),
    }
}

/// Per input axis: the pieces of a range, or the one piece holding an index.
fn slice_pieces(spec: &kiln_ir::SliceSpec, grid: &kiln_ir::ChunkGrid) -> Arc<[Vec<AxisPiece>]> {
    let mut out = Vec::new();
    for el in spec.elems() {
        let a = grid.axis(out.len());
        match *el {
            SliceElem::Range(r) => out.push(slice_axis_pieces(a, &r)),
            SliceElem::Index(i) => {
                let b = a.block_of(i);
                let local = AxisSlice { start: i - a.block_start(b), end: i - a.block_start(b) + 1, step: 1 };
                out.push(vec![AxisPiece { in_block: b, local }]);
            }
            SliceElem::NewAxis => {}
        }
    }
    out.into()
}

/// Runs every task in order.
fn execute(g: &TaskGraph) -> Result<Vec<Value>> {
    let mut values: Vec<Value> = Vec::with_capacity(g.len());
    for i in 0..g.len() {
        let id = TaskId(i as u32);
        let inputs: Vec<Value> = g.deps(id).iter().map(|d| values[d.idx()].clone()).collect();
        values.push(run_task(g, id, &inputs)?);
    }
    Ok(values)
}

/// The whole array of `e` from its blocks (as `f64`).
fn assemble(e: &Expr, blocks: &[Value]) -> Result<ArrayD<f64>> {
    let grid = e.chunks();
    let parts: Vec<(Chunk, Vec<Range<usize>>)> = blocks
        .iter()
        .enumerate()
        .map(|(l, v)| {
            let c = elementwise::astype(v.as_chunk().expect("a chunk"), DType::F64)?;
            Ok((c, grid.block_region(&grid.unravel(l as u64))))
        })
        .collect::<Result<_>>()?;
    let refs: Vec<(&Chunk, Vec<Range<usize>>)> = parts.iter().map(|(c, r)| (c, r.clone())).collect();
    let whole: Vec<Range<usize>> = e.shape().iter().map(|&d| 0..d).collect();
    let out = layout::rechunk(DType::F64, &whole, &refs)?;
    Ok(out.typed::<f64>().expect("f64").to_owned().into_owned())
}

fn data(shape: &[usize]) -> ArrayD<f64> {
    Array::from_shape_fn(IxDyn(shape), |i| ((i.slice().iter().fold(0, |a, &x| a * 7 + x) * 13) % 29) as f64 - 9.0)
}

fn source(a: &ArrayD<f64>, chunks: &[usize]) -> Expr {
    build::from_array(Chunk::new(a.clone()), &Chunks::from(chunks)).unwrap()
}

#[test]
fn elementwise_pipeline_with_casts_and_broadcasting() {
    let a = data(&[5, 6]);
    let ints = Chunk::new(a.mapv(|v| v as i32));
    let x = build::from_array(ints, &Chunks::from([2, 4])).unwrap();
    let row = source(&data(&[6]), &[3]);
    let y = build::binary(BinaryOp::Mul, &x, &build::scalar(Scalar::F64(0.5))).unwrap();
    let z = build::binary(BinaryOp::Add, &y, &row).unwrap();
    let w = build::where_(&build::binary(BinaryOp::Gt, &z, &build::scalar(Scalar::F64(0.0))).unwrap(), &z, &y).unwrap();
    let got = Lowering::new().compute(&w).unwrap();
    let zz = &a.mapv(|v| v * 0.5) + &data(&[6]);
    let expect = ndarray::Zip::from(&zz).and(&a).map_collect(|&z, &a| if z > 0.0 { z } else { a * 0.5 });
    assert_eq!(got, expect);
}

#[test]
fn reductions_through_partial_combine_and_final() {
    let a = data(&[7, 6, 5]);
    let x = source(&a, &[2, 4, 2]);
    let sum = build::reduce(ReduceOp::Sum, &x, Some(&[0, 2]), false).unwrap();
    let expect = a.sum_axis(ndarray::Axis(2)).sum_axis(ndarray::Axis(0));
    assert_eq!(Lowering::new().compute(&sum).unwrap(), expect);
    let mean = build::reduce(ReduceOp::Mean, &x, Some(&[1]), true).unwrap();
    let got = Lowering::new().compute(&mean).unwrap();
    let expect = a.mean_axis(ndarray::Axis(1)).unwrap().insert_axis(ndarray::Axis(1));
    assert!(got.iter().zip(&expect).all(|(g, e)| (g - e).abs() < 1e-12));
    let arg = build::reduce(ReduceOp::ArgMax, &x, None, false).unwrap();
    let flat: Vec<f64> = a.iter().copied().collect();
    let best = flat.iter().copied().fold(f64::MIN, f64::max);
    let at = flat.iter().position(|&v| v == best).unwrap();
    assert_eq!(Lowering::new().compute(&arg).unwrap().into_raw_vec_and_offset().0, vec![at as f64]);
    let var = build::reduce(ReduceOp::Var { ddof: F64Bits(1.0) }, &x, Some(&[0]), false).unwrap();
    let got = Lowering::new().compute(&var).unwrap();
    let expect = a.var_axis(ndarray::Axis(0), 1.0);
    assert!(got.iter().zip(&expect).all(|(g, e)| (g - e).abs() < 1e-9 * e.abs().max(1.0)));
}

#[test]
fn layout_ops_through_the_graph() {
    let a = data(&[10, 7, 3]);
    let x = source(&a, &[3, 4, 2]);
    let sl = build::slice(&x, s![1..9;-2, NewAxis, 5, ..;-1].as_ref()).unwrap();
    assert_eq!(Lowering::new().compute(&sl).unwrap(), a.slice(s![1..9;-2, NewAxis, 5, ..;-1].as_ref()).to_owned());
    let t = build::transpose(&x, &[2, 0, 1]).unwrap();
    assert_eq!(Lowering::new().compute(&t).unwrap(), a.clone().permuted_axes(IxDyn(&[2, 0, 1])));
    let e = build::insert_axis(&x, 1).unwrap();
    assert_eq!(Lowering::new().compute(&e).unwrap(), a.clone().insert_axis(ndarray::Axis(1)));
    let r = build::rechunk(&x, &Chunks::from([4, 3, 3])).unwrap();
    assert_eq!(Lowering::new().compute(&r).unwrap(), a);
    let col = source(&data(&[4, 1]), &[3, 1]);
    let bc = build::broadcast_to(&col, &[2, 4, 5]).unwrap();
    let expect = data(&[4, 1]).broadcast(IxDyn(&[2, 4, 5])).unwrap().to_owned();
    assert_eq!(Lowering::new().compute(&bc).unwrap(), expect);
}

#[test]
fn sources_do_not_depend_on_chunking() {
    let dist = Distribution::Uniform { low: F64Bits(-1.0), high: F64Bits(3.0) };
    let r1 = build::random(dist, 8, &[9, 11], &Chunks::from([4, 5])).unwrap();
    let r2 = build::random(dist, 8, &[9, 11], &Chunks::from([9, 2])).unwrap();
    assert_eq!(Lowering::new().compute(&r1).unwrap(), Lowering::new().compute(&r2).unwrap());
    let ls = build::linspace(0.0, 1.0, 11, true, &Chunks::from([4])).unwrap();
    assert_eq!(Lowering::new().compute(&ls).unwrap(), Array::linspace(0.0, 1.0, 11).into_dyn());
    let ar = build::arange(Scalar::I64(3), Scalar::I64(20), Scalar::I64(4), DType::I64, &Chunks::from([2])).unwrap();
    assert_eq!(Lowering::new().compute(&ar).unwrap().into_raw_vec_and_offset().0, vec![3.0, 7.0, 11.0, 15.0, 19.0]);
    let z = build::full(Scalar::I32(4), &[3, 2], &Chunks::from([2, 2])).unwrap();
    assert_eq!(Lowering::new().compute(&z).unwrap(), ArrayD::from_elem(IxDyn(&[3, 2]), 4.0));
}

#[test]
fn errors_name_the_task_or_pass_through() {
    let ints = Chunk::new(Array::from_shape_vec(IxDyn(&[3]), vec![2i64, 3, -1]).unwrap());
    let x = build::from_array(ints, &Chunks::from([2])).unwrap();
    let p = build::binary(BinaryOp::Pow, &x, &x).unwrap();
    let err = Lowering::new().compute(&p).unwrap_err();
    assert_eq!(err, Error::Compute("pow: integers to negative integer powers are not allowed".into()));
    // A value of the wrong kind or count is an internal error naming the task.
    let mut lw = Lowering::new();
    let tasks = lw.lower(&p);
    let g = lw.b.finish();
    let err = run_task(&g, tasks[0], &[]).unwrap_err();
    assert!(matches!(&err, Error::Internal(m) if m.starts_with("pow-") && m.contains("0 input values for 2")), "{err}");
    let state = Value::new(0u8, 1);
    let err = run_task(&g, tasks[0], &[state.clone(), state]).unwrap_err();
    assert!(err.to_string().contains("not an array chunk"), "{err}");
    let wrong = Value::chunk(Chunk::new(ArrayD::<i64>::zeros(IxDyn(&[5]))));
    let err = run_task(&g, tasks[0], &[wrong.clone(), wrong.clone()]).unwrap_err();
    assert!(err.to_string().contains("does not broadcast to the block shape [2]"), "{err}");
    let mut lw = Lowering::new();
    let tasks = lw.lower(&build::unary(kiln_ir::UnaryOp::Neg, &x).unwrap());
    let g = lw.b.finish();
    let err = run_task(&g, tasks[0], &[wrong]).unwrap_err();
    assert!(err.to_string().contains("computed a i64 block of shape [5], expected i64 [2]"), "{err}");
}
