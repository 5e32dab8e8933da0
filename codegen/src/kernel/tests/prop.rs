//! Differential property tests: random well-typed kernels (every op over bool, i32, i64,
//! f32 and f64 with casts, random/arange/linspace sources, 1-4 inputs with random axes
//! maps, broadcasting and strided, reversed, transposed or Fortran-order blocks, 0-3 axes,
//! blocks with empty, length-1 and longer-than-a-tile rows) run by the interpreter and op
//! by op by the reference; maps must agree bit for bit, reductions exactly for
//! min/max/arg*/any/all and to 1e-12 of the data's scale for sums, means, variances and
//! products (which may reassociate), also when a block is split and the states combined.
//! A second family of cases reads inputs across their layout (transposed, so the
//! interpreter stages them a band at a time) over blocks with many rows of every length.

use std::ops::Range;

use kiln_ir::{
    BinaryOp, Chunk, DType, Distribution, F64Bits, Inst, Kernel, KernelInput, KernelOutput, ReduceOp, Scalar, UnaryOp,
    ValueId, kernel::binary_dtype, kernel::unary_dtype, with_chunk,
};
use ndarray::{ArrayD, Axis, IxDyn, ShapeBuilder, SliceInfoElem};
use proptest::prelude::*;

use super::{check_map, check_reduce, oracle, values};
use crate::kernel::exec::Ctx;
use crate::kernel::load::input_geom;
use crate::kernel::run_partial;
use crate::random::RandomStream;

/// A deterministic stream of choices.
struct Gen {
    stream: RandomStream,
    counter: u64,
}

impl Gen {
    fn new(seed: u64) -> Gen {
        Gen { stream: RandomStream::new(seed), counter: 0 }
    }

    fn below(&mut self, n: usize) -> usize {
        self.counter += 1;
        (self.stream.bits(self.counter) % n.max(1) as u64) as usize
    }

    fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }

    fn pick<T: Copy>(&mut self, xs: &[T]) -> T {
        xs[self.below(xs.len())]
    }

    fn unit(&mut self) -> f64 {
        self.counter += 1;
        self.stream.uniform01(self.counter)
    }
}

/// One test case: a kernel, its input blocks and the block's place in the space.
#[derive(Debug)]
pub(crate) struct Case {
    pub(crate) kernel: Kernel,
    pub(crate) inputs: Vec<Chunk>,
    pub(crate) region: Vec<Range<usize>>,
    pub(crate) space: Vec<usize>,
}

fn scalar(g: &mut Gen, d: DType) -> Scalar {
    match d {
        DType::Bool => Scalar::Bool(g.chance(50)),
        DType::I32 => Scalar::I32(if g.chance(5) { g.pick(&[i32::MIN, i32::MAX]) } else { g.below(41) as i32 - 20 }),
        DType::I64 => Scalar::I64(if g.chance(5) { g.pick(&[i64::MIN, i64::MAX]) } else { g.below(41) as i64 - 20 }),
        DType::F32 | DType::F64 => {
            let v = if g.chance(6) {
                g.pick(&[f64::NAN, f64::INFINITY, f64::NEG_INFINITY, 0.0, -0.0, 0.5, 2.0])
            } else if g.chance(30) {
                g.below(11) as f64 - 5.0
            } else {
                (g.unit() * 2.0 - 1.0) * g.pick(&[1.0, 10.0, 1000.0, 1e-3])
            };
            Scalar::F64(v).cast(d)
        }
    }
}

/// A block of `shape` and random values in a random memory layout; `across` prefers the
/// layouts that keep an input read across its layout so (C order, strided, reversed).
fn input_block(g: &mut Gen, d: DType, shape: &[usize], across: bool) -> Chunk {
    let layout = if across { g.pick(&[0, 0, 0, 0, 2, 3, 1, 4]) } else { g.below(5) };
    let make = |g: &mut Gen, shape: &[usize], fortran: bool| {
        let n: usize = shape.iter().product();
        let vals: Vec<Scalar> = (0..n).map(|_| scalar(g, d)).collect();
        let c = super::ops::block_of(d, &vals);
        with_chunk!(c, a => {
            let v: Vec<_> = a.iter().copied().collect();
            let arr = if fortran {
                ArrayD::from_shape_vec(IxDyn(shape).f(), v)
            } else {
                ArrayD::from_shape_vec(IxDyn(shape), v)
            };
            Chunk::from(arr.expect("shape").into_shared())
        })
    };
    match layout {
        1 => make(g, shape, true),
        2 => {
            // Every other element of a larger block.
            let bigger: Vec<usize> = shape.iter().map(|&s| 2 * s + 1).collect();
            let info: Vec<SliceInfoElem> =
                shape.iter().map(|_| SliceInfoElem::Slice { start: 1, end: None, step: 2 }).collect();
            let c = make(g, &bigger, false);
            with_chunk!(c, a => Chunk::from(a.slice_move(info.as_slice())))
        }
        3 => {
            let c = make(g, shape, false);
            let flip: Vec<bool> = shape.iter().map(|_| g.chance(50)).collect();
            with_chunk!(c, a => {
                let mut a = a;
                for (k, &f) in flip.iter().enumerate() {
                    if f {
                        a.invert_axis(Axis(k));
                    }
                }
                Chunk::from(a)
            })
        }
        4 if shape.len() > 1 => {
            // Stored transposed (reversed axis order), viewed back in the logical order.
            let rev: Vec<usize> = shape.iter().rev().copied().collect();
            let c = make(g, &rev, false);
            with_chunk!(c, a => Chunk::from(a.reversed_axes()))
        }
        _ => make(g, shape, false),
    }
}

fn unary_ops() -> [UnaryOp; 15] {
    use UnaryOp::*;
    [Neg, Abs, Sqrt, Exp, Ln, Log10, Sin, Cos, Tan, Tanh, Floor, Ceil, Round, Not, IsNan]
}

fn binary_ops() -> [BinaryOp; 16] {
    use BinaryOp::*;
    [Add, Sub, Mul, Div, Rem, Pow, Minimum, Maximum, Eq, Ne, Lt, Le, Gt, Ge, And, Or]
}

/// A random well-typed body over the given inputs.
fn body(g: &mut Gen, ndim: u32, inputs: &[KernelInput], lens: &[usize], n_ops: usize) -> (Vec<Inst>, Vec<DType>) {
    let mut body: Vec<Inst> = (0..inputs.len() as u32).map(Inst::Load).collect();
    let mut dt: Vec<DType> = inputs.iter().map(|i| i.dtype).collect();
    let push = |body: &mut Vec<Inst>, dt: &mut Vec<DType>, inst: Inst, d: DType| {
        body.push(inst);
        dt.push(d);
        ValueId(body.len() as u32 - 1)
    };
    // Prefer recent values, so chains grow deep.
    let choose = |g: &mut Gen, dt: &[DType], want: Option<DType>| -> Option<ValueId> {
        let cands: Vec<usize> = (0..dt.len()).filter(|&i| want.is_none_or(|d| dt[i] == d)).collect();
        if cands.is_empty() {
            return None;
        }
        let k = if g.chance(60) { cands.len() - 1 - g.below(cands.len().min(3)) } else { g.below(cands.len()) };
        Some(ValueId(cands[k] as u32))
    };
    if body.is_empty() {
        let d = g.pick(&DType::ALL);
        let s = scalar(g, d);
        push(&mut body, &mut dt, Inst::Const(s), d);
    }
    for _ in 0..n_ops {
        let kind = g.below(100);
        if kind < 5 {
            let d = g.pick(&DType::ALL);
            let s = scalar(g, d);
            push(&mut body, &mut dt, Inst::Const(s), d);
        } else if kind < 12 {
            let m = g.below(4);
            let base: Vec<u64> = (0..m).map(|_| 1 + g.below(60) as u64).collect();
            let mut free: Vec<u32> = (0..ndim).collect();
            let axes: Vec<Option<u32>> =
                (0..m)
                    .map(|_| {
                        if !free.is_empty() && g.chance(75) {
                            Some(free.swap_remove(g.below(free.len())))
                        } else {
                            None
                        }
                    })
                    .collect();
            let start = base.iter().map(|&b| g.below(b as usize) as i64).collect();
            let step = (0..m).map(|_| g.pick(&[-2, -1, 0, 1, 1, 1, 2, 3])).collect();
            let dist = if g.chance(50) {
                Distribution::Uniform { low: F64Bits(-1.0), high: F64Bits(g.pick(&[1.0, 5.0])) }
            } else {
                Distribution::Normal { mean: F64Bits(0.5), std: F64Bits(2.0) }
            };
            let seed = g.below(1000) as u64;
            push(&mut body, &mut dt, Inst::Random { dist, seed, base, start, step, axes }, DType::F64);
        } else if kind < 17 && ndim > 0 {
            let d = g.pick(&DType::ALL);
            let (start, step) = match d {
                DType::F32 | DType::F64 => {
                    (Scalar::F64(g.pick(&[-3.5, 0.0, 1e8])).cast(d), Scalar::F64(g.pick(&[0.1, -0.25, 3.0])).cast(d))
                }
                _ => (scalar(g, d), scalar(g, d)),
            };
            let axis = g.below(ndim as usize) as u32;
            push(&mut body, &mut dt, Inst::Arange { start, step, axis }, d);
        } else if kind < 21 && ndim > 0 {
            let axis = g.below(ndim as usize) as u32;
            let num = (lens[axis as usize] + g.below(5)) as u64;
            let (start, stop) = (F64Bits(g.pick(&[0.0, -1.0, 2.5])), F64Bits(g.pick(&[1.0, 2.5, 100.0])));
            push(&mut body, &mut dt, Inst::Linspace { start, stop, num, endpoint: g.chance(50), axis }, DType::F64);
        } else if kind < 45 {
            let Some(a) = choose(g, &dt, None) else { continue };
            let d = dt[a.idx()];
            let ops: Vec<UnaryOp> = unary_ops().into_iter().filter(|&op| unary_dtype(op, d).is_some()).collect();
            let op = g.pick(&ops);
            let out = unary_dtype(op, d).unwrap_or(d);
            push(&mut body, &mut dt, Inst::Unary(op, a), out);
        } else if kind < 78 {
            let Some(a) = choose(g, &dt, None) else { continue };
            let d = dt[a.idx()];
            let ops: Vec<BinaryOp> = binary_ops().into_iter().filter(|&op| binary_dtype(op, d).is_some()).collect();
            let op = g.pick(&ops);
            let b = if (op == BinaryOp::Pow && (d.is_int() || g.chance(50))) || g.chance(20) {
                // A constant operand: small exponents (and NumPy's fast paths) for pow.
                let s = if op == BinaryOp::Pow {
                    Scalar::F64(g.pick(&[0.0, 1.0, 2.0, 3.0, 0.5, -1.0, -0.5])).cast(d)
                } else {
                    scalar(g, d)
                };
                push(&mut body, &mut dt, Inst::Const(s), d)
            } else {
                choose(g, &dt, Some(d)).unwrap_or(a)
            };
            let (a, b) = if op != BinaryOp::Pow && g.chance(30) { (b, a) } else { (a, b) };
            let out = binary_dtype(op, d).unwrap_or(d);
            push(&mut body, &mut dt, Inst::Binary(op, a, b), out);
        } else if kind < 88 {
            let Some(c) = choose(g, &dt, Some(DType::Bool)) else { continue };
            let Some(a) = choose(g, &dt, None) else { continue };
            let b = choose(g, &dt, Some(dt[a.idx()])).unwrap_or(a);
            let d = dt[a.idx()];
            push(&mut body, &mut dt, Inst::Where(c, a, b), d);
        } else {
            let Some(a) = choose(g, &dt, None) else { continue };
            let to = g.pick(&DType::ALL);
            push(&mut body, &mut dt, Inst::Cast(to, a), to);
        }
    }
    (body, dt)
}

/// The axes of an input read across its layout: every axis but perhaps some leading ones,
/// shuffled, with the row axis (the last) before the one before it, so that the input steps
/// further along the row than from one row to the next.
fn across_axes(g: &mut Gen, nd: usize) -> Vec<u32> {
    let mut axes: Vec<u32> = (0..nd as u32).filter(|&a| a as usize + 2 >= nd || g.chance(75)).collect();
    for k in (1..axes.len()).rev() {
        axes.swap(k, g.below(k + 1));
    }
    let pos = |axes: &[u32], a: usize| axes.iter().position(|&x| x as usize == a).unwrap_or(0);
    let (row, before) = (pos(&axes, nd - 1), pos(&axes, nd - 2));
    if row > before {
        axes.swap(row, before);
    }
    axes
}

fn case(seed: u64, ndim: u32, n_ops: usize, reduce: bool) -> Case {
    case_of(seed, ndim, n_ops, reduce, false)
}

/// A case; `across` (with 2 axes or more) gives blocks of many rows and inputs mostly read
/// across their layout (see [`across_axes`]).
pub(crate) fn case_of(seed: u64, ndim: u32, n_ops: usize, reduce: bool, across: bool) -> Case {
    let g = &mut Gen::new(seed);
    let nd = ndim as usize;
    let across = across && nd >= 2;
    let mut lens: Vec<usize> = (0..nd).map(|_| g.pick(&[1, 1, 2, 3, 4, 7])).collect();
    if nd > 0 {
        lens[nd - 1] = g.pick(&[1, 2, 3, 5, 17, 100, 1023, 1024, 1025, 2100]);
        if across {
            lens[nd - 2] = g.pick(&[2, 7, 8, 9, 16, 17, 31, 32, 33, 40, 64, 65, 70, 100, 129, 257]);
            lens[nd - 1] = g.pick(&[1, 2, 3, 5, 8, 9, 17, 100, 511, 512, 513, 1024, 1025, 2100]);
        }
        if g.chance(4) {
            lens[g.below(nd)] = 0;
        }
        let most = if across { 24_000 } else { 12_000 };
        while lens.iter().product::<usize>() > most {
            lens[nd - 1] /= 2;
        }
    }
    let region: Vec<Range<usize>> = lens
        .iter()
        .map(|&l| {
            let s = g.below(4);
            s..s + l
        })
        .collect();
    let space: Vec<usize> = region.iter().map(|r| r.end + g.below(3)).collect();
    let n_inputs = if across { 1 + g.below(3) } else { g.below(5) };
    let mut specs = Vec::new();
    let mut inputs = Vec::new();
    for _ in 0..n_inputs {
        let dtype = g.pick(&DType::ALL);
        let axes = if across && g.chance(85) {
            across_axes(g, nd)
        } else {
            let mut axes: Vec<u32> = (0..ndim).filter(|_| g.chance(65)).collect();
            for k in (1..axes.len()).rev() {
                axes.swap(k, g.below(k + 1));
            }
            axes
        };
        let broadcast = if across { 4 } else { 20 };
        let shape: Vec<usize> = axes.iter().map(|&a| if g.chance(broadcast) { 1 } else { lens[a as usize] }).collect();
        inputs.push(input_block(g, dtype, &shape, across));
        specs.push(KernelInput { dtype, axes });
    }
    let (mut body, mut dt) = body(g, ndim, &specs, &lens, n_ops);
    if across && !specs.is_empty() && g.chance(80) {
        // Make the result depend on an input (most likely one read across its layout).
        let (last, k) = (ValueId(body.len() as u32 - 1), g.below(specs.len()));
        let d = dt[last.idx()];
        let mut x = ValueId(k as u32);
        if dt[k] != d {
            body.push(Inst::Cast(d, x));
            dt.push(d);
            x = ValueId(body.len() as u32 - 1);
        }
        use BinaryOp::*;
        let ops: Vec<BinaryOp> =
            [Add, Sub, Mul, Minimum, Maximum, Lt].into_iter().filter(|&op| binary_dtype(op, d).is_some()).collect();
        let op = g.pick(&ops);
        body.push(Inst::Binary(op, last, x));
    }
    let value = ValueId(body.len() as u32 - 1);
    let output = if reduce {
        use ReduceOp::*;
        let op = g.pick(&[
            Sum,
            Prod,
            Min,
            Max,
            Mean,
            Var { ddof: F64Bits(0.0) },
            Std { ddof: F64Bits(1.0) },
            ArgMin,
            ArgMax,
            Any,
            All,
        ]);
        let axes: Vec<u32> = (0..ndim).filter(|_| g.chance(50)).collect();
        let axes = match op {
            ArgMin | ArgMax if g.chance(70) && ndim > 0 => vec![g.below(nd) as u32],
            _ => axes,
        };
        KernelOutput::Reduce { op, axes, keepdims: g.chance(50), value }
    } else {
        KernelOutput::Map(value)
    };
    Case { kernel: Kernel { ndim, inputs: specs, body, output }, inputs, region, space }
}

/// A pair of mirrored blocks (`TaskKind::ReducePair`): a reduction kernel over a 2-d space
/// whose inputs come in pairs, one of a matrix's block (r, c) read along the space and one of
/// its block (c, r) read across it; `inputs[k]` are the input blocks of block `regions[k]`
/// (the second the first's mirror, reading the same blocks the other way round).
#[derive(Debug)]
pub(crate) struct PairCase {
    pub(crate) kernel: Kernel,
    pub(crate) inputs: [Vec<Chunk>; 2],
    pub(crate) regions: [Vec<Range<usize>>; 2],
    pub(crate) space: Vec<usize>,
}

/// A random [`PairCase`]: one or two matrices of any dtype and layout, `n_ops` random
/// instructions, mostly cast to a float, a float-summing reduction most of the time (over both axes, along rows or
/// down columns), anything else sometimes.
pub(crate) fn pair_case_of(seed: u64, n_ops: usize) -> PairCase {
    let g = &mut Gen::new(seed);
    let a = g.pick(&[1, 3, 8, 9, 17, 64, 100, 129, 300]);
    let b = g.pick(&[1, 2, 8, 13, 128, 260, 1025]).min(40_000 / a);
    let (r0, gap) = (g.below(3), g.below(3));
    let rows = r0..r0 + a;
    let cols = rows.end + gap..rows.end + gap + b;
    let n = cols.end + g.below(2);
    let (mut specs, mut inputs): (Vec<KernelInput>, [Vec<Chunk>; 2]) = (Vec::new(), [Vec::new(), Vec::new()]);
    for _ in 0..1 + usize::from(g.chance(30)) {
        let dtype = if g.chance(75) { g.pick(&[DType::F64, DType::F32]) } else { g.pick(&DType::ALL) };
        let m = input_block(g, dtype, &[n, n], true);
        let view = |r: &Range<usize>, c: &Range<usize>| with_chunk!(&m, x => Chunk::from(x.clone().slice_move(ndarray::s![r.clone(), c.clone()]).into_dyn()));
        let (rc, cr) = (view(&rows, &cols), view(&cols, &rows));
        specs.push(KernelInput { dtype, axes: vec![0, 1] });
        specs.push(KernelInput { dtype, axes: vec![1, 0] });
        inputs[0].extend([rc.clone(), cr.clone()]);
        inputs[1].extend([cr, rc]);
    }
    let (mut body, dt) = body(g, 2, &specs, &[a, b], n_ops);
    let d = dt[body.len() - 1];
    if g.chance(80) && binary_dtype(BinaryOp::Sub, dt[0]).is_some() && binary_dtype(BinaryOp::Add, d).is_some() {
        // Depend on both inputs of a pair, whatever the random body did.
        let (x, y) = (ValueId(0), ValueId(1));
        body.push(Inst::Binary(BinaryOp::Sub, x, y));
        body.push(Inst::Cast(d, ValueId(body.len() as u32 - 1)));
        body.push(Inst::Binary(BinaryOp::Add, ValueId(body.len() as u32 - 1), ValueId(body.len() as u32 - 3)));
    }
    if g.chance(70) {
        // Mostly a float value, which sums take one pass over.
        body.push(Inst::Cast(g.pick(&[DType::F64, DType::F32]), ValueId(body.len() as u32 - 1)));
    }
    use ReduceOp::*;
    let op = if g.chance(80) { g.pick(&[Sum, Mean]) } else { g.pick(&[Prod, Max, ArgMin, Var { ddof: F64Bits(0.0) }]) };
    let axes = g.pick(&[&[0u32, 1][..], &[1], &[0]]).to_vec();
    let value = ValueId(body.len() as u32 - 1);
    let kernel =
        Kernel { ndim: 2, inputs: specs, body, output: KernelOutput::Reduce { op, axes, keepdims: false, value } };
    PairCase { kernel, inputs, regions: [vec![rows.clone(), cols.clone()], vec![cols, rows]], space: vec![n, n] }
}

/// The scale of rounding errors in a sum-like reduction of `block`: the sum of magnitudes
/// (and of squares for variances), over finite elements.
pub(super) fn scale(op: ReduceOp, block: &Chunk) -> f64 {
    let xs: Vec<f64> = values(block).into_iter().filter(|x| x.is_finite()).collect();
    match op {
        ReduceOp::Var { .. } | ReduceOp::Std { .. } => xs.iter().map(|x| x * x).sum(),
        _ => xs.iter().map(|x| x.abs()).sum(),
    }
}

/// Asserts a finished reduction equals the reference's: exactly for the order-free ops,
/// within `1e-12 * scale` (see [`scale`]) for the others.
pub(super) fn assert_close(op: ReduceOp, got: &Chunk, want: &Chunk, scale: f64, what: &str) {
    assert_eq!((got.dtype(), got.shape()), (want.dtype(), want.shape()), "{what}");
    use ReduceOp::*;
    let exact = matches!(op, Min | Max | ArgMin | ArgMax | Any | All) || !want.dtype().is_float();
    if exact {
        match (got, want) {
            (Chunk::I64(a), Chunk::I64(b)) => assert_eq!(a, b, "{what}"),
            _ => {
                for (a, b) in values(got).into_iter().zip(values(want)) {
                    assert!(a == b || (a.is_nan() && b.is_nan()), "{what}: {a:?} != {b:?}");
                }
            }
        }
        return;
    }
    let f32_ulp = if want.dtype() == DType::F32 { 2.4e-7 } else { 0.0 };
    for (a, b) in values(got).into_iter().zip(values(want)) {
        if a == b || (a.is_nan() && b.is_nan()) {
            continue;
        }
        let (a2, b2) = if matches!(op, Std { .. }) { (a * a, b * b) } else { (a, b) };
        let huge = |v: f64| !v.is_finite() || v.abs() > 1e200 || (op == Prod && v != 0.0 && v.abs() < 1e-200);
        if huge(a2) || huge(b2) || !scale.is_finite() || scale > 1e250 {
            // Overflow (or underflow) midway depends on the order of accumulation.
            continue;
        }
        let tol = 1e-12 * b2.abs().max(scale).max(f64::MIN_POSITIVE) + f32_ulp * b2.abs();
        assert!((a2 - b2).abs() <= tol, "{what}: {a:?} vs {b:?} (scale {scale})");
    }
}

fn slice_block(c: &Chunk, axis: usize, r: Range<usize>) -> Chunk {
    with_chunk!(c, a => Chunk::from(a.clone().slice_axis_move(Axis(axis), ndarray::Slice::from(r)).into_dyn()))
}

/// The inputs of a sub-block: each input cut along `axis` where it runs along it.
fn split_inputs(k: &Kernel, inputs: &[Chunk], axis: usize, r: Range<usize>) -> Vec<Chunk> {
    k.inputs
        .iter()
        .zip(inputs)
        .map(|(spec, c)| match spec.axes.iter().position(|&a| a as usize == axis) {
            Some(j) if c.shape()[j] > 1 => slice_block(c, j, r.clone()),
            _ => c.clone(),
        })
        .collect()
}

fn run_case(c: &Case) {
    let refs: Vec<&Chunk> = c.inputs.iter().collect();
    let KernelOutput::Reduce { op, value, .. } = c.kernel.output else {
        let _ = check_map(&c.kernel, &refs, &c.region);
        return;
    };
    let Ok(whole) = check_reduce(&c.kernel, &refs, &c.region, &c.space) else { return };
    let block = oracle::value(&c.kernel, &refs, &c.region, value).expect("the oracle ran before");
    let s = scale(op, &block);
    // The block cut in two along a reduced axis, the states combined.
    let KernelOutput::Reduce { ref axes, .. } = c.kernel.output else { return };
    let reduced: Vec<usize> = match op {
        ReduceOp::ArgMin | ReduceOp::ArgMax if axes.len() != 1 => (0..c.region.len()).collect(),
        _ => axes.iter().map(|&a| a as usize).collect(),
    };
    let Some(axis) = reduced.into_iter().find(|&a| c.region[a].len() >= 2) else { return };
    let len = c.region[axis].len();
    let mid = len / 2;
    let mut states = Vec::new();
    for part in [0..mid, mid..len] {
        let mut region = c.region.clone();
        region[axis] = c.region[axis].start + part.start..c.region[axis].start + part.end;
        let ins = split_inputs(&c.kernel, &c.inputs, axis, part);
        let ins: Vec<&Chunk> = ins.iter().collect();
        states.push(run_partial(&c.kernel, &ins, &region, &c.space).expect("the whole block ran"));
    }
    let combined = oracle::finish(&c.kernel, &states.iter().collect::<Vec<_>>()).expect("finished before");
    assert_close(op, &combined, &whole, s, &format!("{}\nsplit, region {:?}", c.kernel, c.region));
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn map_kernels_match_the_reference(seed in any::<u64>(), ndim in 0u32..4, n_ops in 0usize..14) {
        run_case(&case(seed, ndim, n_ops, false));
    }

    #[test]
    fn reduce_kernels_match_the_reference(seed in any::<u64>(), ndim in 0u32..4, n_ops in 0usize..10) {
        run_case(&case(seed, ndim, n_ops, true));
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1000, ..ProptestConfig::default() })]

    #[test]
    fn kernels_reading_across_layouts_match_the_reference(
        seed in any::<u64>(),
        ndim in 2u32..4,
        n_ops in 0usize..10,
        reduce in any::<bool>(),
    ) {
        run_case(&case_of(seed, ndim, n_ops, reduce, true));
    }
}

#[test]
fn cases_reading_across_layouts_are_staged() {
    // A good part of such cases stage an input, through every path of the band copy: runs of
    // consecutive rows (transposed squares), other rows (reversed, strided, or crossing
    // an outer axis), and bands shorter than a group.
    let (mut staged, mut fallback, mut squares, n) = (0, 0, 0, 300);
    for seed in 0..n {
        let c = case_of(seed, 2 + (seed % 2) as u32, 4, seed % 3 == 0, true);
        let refs: Vec<&Chunk> = c.inputs.iter().collect();
        let value = match c.kernel.output {
            KernelOutput::Map(v) | KernelOutput::Reduce { value: v, .. } => v,
        };
        let Ok(ctx) = Ctx::new(&c.kernel, &refs, &c.region, value, false) else { continue };
        if ctx.plan.staged_inputs.is_empty() {
            continue;
        }
        staged += 1;
        let (last, outer) = (ctx.space.last(), ctx.space.last() - 1);
        for &k in &ctx.plan.staged_inputs {
            let strides = &input_geom(k, &c.kernel.inputs[k], &c.inputs[k], &ctx.space.lens).unwrap().strides;
            if strides[outer] == 1 && ctx.space.lens[outer] >= 8 && strides[last] != 0 {
                squares += 1;
            } else {
                fallback += 1;
            }
        }
    }
    assert!(staged * 3 > n, "only {staged} of {n} cases stage an input");
    assert!(squares > 50 && fallback > 20, "{squares} staged by squares, {fallback} otherwise");
}

#[test]
fn generated_kernels_cover_the_ops() {
    // The generator reaches every kind of instruction and layout.
    let mut kinds = std::collections::BTreeSet::new();
    for seed in 0..300 {
        let c = case(seed, 2, 12, seed % 2 == 0);
        c.kernel.verify().unwrap();
        for inst in &c.kernel.body {
            kinds.insert(format!("{inst:?}").split(['(', ' ']).next().unwrap_or("").to_string());
        }
    }
    for k in ["Load", "Const", "Random", "Arange", "Linspace", "Unary", "Binary", "Where", "Cast"] {
        assert!(kinds.contains(k), "{k} never generated: {kinds:?}");
    }
}
