//! Pairs of mirrored blocks (`jit::run_pair`, `TaskKind::ReducePair`): block A of a 2-d
//! space reads a matrix's block (r, c) along its rows and the block (c, r) across them,
//! its mirror B the same two blocks the other way round. The pair's partial states must
//! equal each block's own, from the JIT and from the interpreter, bit for bit: float sums
//! and means computed in one pass (whatever the block lengths: shorter than a leaf, not a
//! multiple of 8, rows cut into pieces), and everything else one block after the other;
//! random pairs of random kernels too.

use std::ops::Range;

use kiln_ir::{BinaryOp, Chunk, DType, F64Bits, Inst, Kernel, KernelOutput, ReduceOp, Scalar, UnaryOp};
use ndarray::{Array2, s};

use proptest::prelude::*;

use super::ops::{kernel, v};
use crate::error::Error;
use crate::jit::fills::with_batching;
use crate::kernel::tests::prop::pair_case_of;
use crate::math::with_polynomials_in_interpreter;

/// An `n × n` matrix of distinct values with NaN, ±inf and -0.0 among them when `special`
/// (inexact fractions: sums in another order round differently).
fn matrix(n: usize, special: bool) -> Array2<f64> {
    Array2::from_shape_fn((n, n), |(i, j)| {
        let k = ((i * n + j) as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 40;
        let odd = [f64::NAN, f64::INFINITY, f64::NEG_INFINITY, -0.0];
        if special && k.is_multiple_of(251) { odd[(k / 251 % 4) as usize] } else { k as f64 / 3.7 - 1e6 }
    })
}

/// The view of `x` at `rows × cols`, as a chunk (strided: rows are `x`'s rows).
fn block(x: &Array2<f64>, rows: &Range<usize>, cols: &Range<usize>) -> Chunk {
    Chunk::from(x.to_shared().slice_move(s![rows.clone(), cols.clone()]).into_dyn())
}

/// [`block`] of `x` rounded to `f32`.
fn block_f32(x: &Array2<f32>, rows: &Range<usize>, cols: &Range<usize>) -> Chunk {
    Chunk::from(x.to_shared().slice_move(s![rows.clone(), cols.clone()]).into_dyn())
}

/// A reduction kernel over a 2-d space of `body` on input 0 read along the space and
/// input 1 across it (axes swapped), whose value is the body's last.
fn mirrored(op: ReduceOp, body: Vec<Inst>) -> Kernel {
    mirrored_of(DType::F64, op, body)
}

/// [`mirrored`] over inputs of `dtype`.
fn mirrored_of(dtype: DType, op: ReduceOp, body: Vec<Inst>) -> Kernel {
    mirrored_along(dtype, op, &[0, 1], body)
}

/// [`mirrored_of`] reduced over `axes`.
fn mirrored_along(dtype: DType, op: ReduceOp, axes: &[u32], body: Vec<Inst>) -> Kernel {
    let value = v(body.len() as u32 - 1);
    let output = KernelOutput::Reduce { op, axes: axes.to_vec(), keepdims: false, value };
    kernel(2, &[(dtype, &[0, 1]), (dtype, &[1, 0])], body, output)
}

/// Runs the pair of blocks `rows × cols` and `cols × rows` of `x` and checks both states
/// against each block's own on the JIT and on the interpreter; returns whether the pair
/// was summed in one pass.
fn check_pair(k: &Kernel, x: &Array2<f64>, rows: Range<usize>, cols: Range<usize>) -> bool {
    let (rc, cr) = if k.inputs[0].dtype == DType::F32 {
        let x = x.mapv(|v| v as f32);
        (block_f32(&x, &rows, &cols), block_f32(&x, &cols, &rows))
    } else {
        (block(x, &rows, &cols), block(x, &cols, &rows))
    };
    let (a, b): ([&Chunk; 2], [&Chunk; 2]) = ([&rc, &cr], [&cr, &rc]);
    let (ra, rb) = ([rows.clone(), cols.clone()], [cols.clone(), rows.clone()]);
    let space = [x.nrows(), x.ncols()];
    let what = format!("{k}\nblocks {rows:?} × {cols:?}");
    // The count is process-wide: pairs run one at a time here, so it counts this one.
    static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _alone = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
    let before = crate::jit::stats().one_pass_pairs;
    let (sa, sb) = crate::jit::run_pair(k, [&a, &b], [&ra, &rb], &space).unwrap_or_else(|e| panic!("{what}: {e}"));
    let one_pass = crate::jit::stats().one_pass_pairs > before;
    drop(_alone);
    for (got, inputs, region) in [(&sa, &a, &ra), (&sb, &b, &rb)] {
        let jit = crate::jit::run_partial(k, inputs, region, &space).unwrap();
        assert_eq!(format!("{got:?}"), format!("{jit:?}"), "{what}: JIT, one block at a time");
        let interp = with_polynomials_in_interpreter(|| crate::kernel::run_partial(k, inputs, region, &space));
        assert_eq!(format!("{got:?}"), format!("{:?}", interp.unwrap()), "{what}: interpreter");
    }
    one_pass
}

/// Block shapes: shorter than a leaf and than 8, not multiples of 8, exactly leaves, rows
/// cut into pieces (over 1024), square and not.
const SHAPES: [(usize, usize); 9] =
    [(1, 1), (3, 5), (8, 7), (9, 17), (100, 33), (128, 256), (130, 257), (260, 300), (1030, 9)];

fn blocks_of(n: usize) -> impl Iterator<Item = (Range<usize>, Range<usize>)> {
    SHAPES.into_iter().map(move |(a, b)| {
        // Block (r, c) below the diagonal's mirror: rows from 0, columns after them.
        let (rows, cols) = (0..a, a.min(n - b)..a.min(n - b) + b);
        (rows, cols)
    })
}

#[test]
fn sums_and_means_of_mirrored_blocks_take_one_pass() {
    let (finite, special) = (matrix(1040, false), matrix(1040, true));
    let add = vec![Inst::Load(0), Inst::Load(1), Inst::Binary(BinaryOp::Add, v(0), v(1))];
    let mixed = vec![
        Inst::Load(0),
        Inst::Load(1),
        Inst::Binary(BinaryOp::Sub, v(0), v(1)),
        Inst::Binary(BinaryOp::Mul, v(2), v(0)),
        Inst::Const(Scalar::F64(0.5)),
        Inst::Binary(BinaryOp::Add, v(3), v(4)),
    ];
    for (op, body) in [(ReduceOp::Sum, add.clone()), (ReduceOp::Mean, mixed), (ReduceOp::Sum, add)] {
        let k = mirrored(op, body);
        for x in [&finite, &special] {
            for (rows, cols) in blocks_of(x.nrows()) {
                assert!(check_pair(&k, x, rows.clone(), cols.clone()), "{rows:?} × {cols:?} summed in one pass");
            }
        }
    }
}

#[test]
fn sums_along_rows_take_one_pass_and_down_columns_one_block_after_the_other() {
    let x = matrix(1040, false);
    let body = vec![
        Inst::Load(0),
        Inst::Load(1),
        Inst::Const(Scalar::F64(3.0)),
        Inst::Binary(BinaryOp::Mul, v(1), v(2)),
        Inst::Binary(BinaryOp::Sub, v(0), v(3)),
    ];
    for op in [ReduceOp::Sum, ReduceOp::Mean] {
        for (rows, cols) in blocks_of(x.nrows()) {
            let along = mirrored_along(DType::F64, op, &[1], body.clone());
            assert!(check_pair(&along, &x, rows.clone(), cols.clone()), "{rows:?} × {cols:?} in one pass");
            check_pair(&mirrored_along(DType::F64, op, &[0], body.clone()), &x, rows, cols);
        }
    }
}

#[test]
fn f32_values_are_summed_in_f64_as_the_leaf_sums_them() {
    let x = matrix(600, false).mapv(|v| v / 1e3);
    let body = vec![
        Inst::Load(0),
        Inst::Load(1),
        Inst::Binary(BinaryOp::Mul, v(0), v(1)),
        Inst::Binary(BinaryOp::Sub, v(2), v(1)),
    ];
    for op in [ReduceOp::Sum, ReduceOp::Mean] {
        for (rows, cols) in blocks_of(x.nrows()).filter(|(r, _)| r.len() < 600) {
            let k = mirrored_of(DType::F32, op, body.clone());
            assert!(check_pair(&k, &x, rows.clone(), cols.clone()), "{rows:?} × {cols:?} summed in one pass");
        }
    }
}

#[test]
fn other_reductions_and_kernels_run_one_block_after_the_other() {
    let x = matrix(300, true);
    let add = vec![Inst::Load(0), Inst::Load(1), Inst::Binary(BinaryOp::Add, v(0), v(1))];
    for op in [ReduceOp::Max, ReduceOp::ArgMin, ReduceOp::Var { ddof: F64Bits(0.0) }, ReduceOp::Prod] {
        for (rows, cols) in blocks_of(x.nrows()).filter(|(r, _)| r.len() < 300) {
            check_pair(&mirrored(op, add.clone()), &x, rows, cols);
        }
    }
    // A third input that B does not share with A.
    let three = vec![
        Inst::Load(0),
        Inst::Load(1),
        Inst::Load(2),
        Inst::Binary(BinaryOp::Add, v(0), v(1)),
        Inst::Binary(BinaryOp::Mul, v(3), v(2)),
    ];
    let output = KernelOutput::Reduce { op: ReduceOp::Sum, axes: vec![0, 1], keepdims: false, value: v(4) };
    let k = kernel(2, &[(DType::F64, &[0, 1]), (DType::F64, &[1, 0]), (DType::F64, &[0, 1])], three, output);
    let other = matrix(300, false);
    let (rows, cols) = (0..40, 50..90);
    let (rc, cr) = (block(&x, &rows, &cols), block(&x, &cols, &rows));
    let (o1, o2) = (block(&other, &rows, &cols), block(&other, &cols, &rows));
    let (ra, rb) = ([rows.clone(), cols.clone()], [cols, rows]);
    let (sa, sb) = crate::jit::run_pair(&k, [&[&rc, &cr, &o1], &[&cr, &rc, &o2]], [&ra, &rb], &[300, 300]).unwrap();
    let want_a = crate::kernel::run_partial(&k, &[&rc, &cr, &o1], &ra, &[300, 300]).unwrap();
    let want_b = crate::kernel::run_partial(&k, &[&cr, &rc, &o2], &rb, &[300, 300]).unwrap();
    assert_eq!(format!("{sa:?} {sb:?}"), format!("{want_a:?} {want_b:?}"));
}

#[test]
fn transcendental_kernels_pair_inline_and_with_fills() {
    let x = matrix(1040, false).mapv(|v| v / 5e5);
    let body = vec![
        Inst::Load(0),
        Inst::Load(1),
        Inst::Unary(UnaryOp::Sin, v(0)),
        Inst::Unary(UnaryOp::Exp, v(1)),
        Inst::Binary(BinaryOp::Mul, v(2), v(3)),
    ];
    let k = mirrored(ReduceOp::Sum, body);
    for fills in [true, false] {
        for (rows, cols) in blocks_of(x.nrows()) {
            let one_pass = with_batching(fills, || check_pair(&k, &x, rows.clone(), cols.clone()));
            assert!(one_pass, "{rows:?} × {cols:?} with fills {fills} in one pass");
        }
        // Rows of A longer than a fill window: B's values are filled a window at a time.
        let wide = matrix(1200, false).mapv(|v| v / 5e5);
        assert!(with_batching(fills, || check_pair(&k, &wide, 0..7, 10..1110)), "wide rows in one pass");
    }
}

/// A random pair (`kernel::tests::prop::pair_case_of`) on the JIT, with fills and inline,
/// against each block on the interpreter: the same states bit for bit, or the same data
/// error.
fn check_random_pair(seed: u64, n_ops: usize) {
    let c = pair_case_of(seed, n_ops);
    let inputs: [Vec<&Chunk>; 2] = [c.inputs[0].iter().collect(), c.inputs[1].iter().collect()];
    let what = format!("{}\nregions {:?} space {:?}", c.kernel, c.regions, c.space);
    for fills in [true, false] {
        let got = with_batching(fills, || {
            crate::jit::run_pair(&c.kernel, [&inputs[0], &inputs[1]], [&c.regions[0], &c.regions[1]], &c.space)
        });
        let want = with_polynomials_in_interpreter(|| -> crate::Result<_> {
            Ok((
                crate::kernel::run_partial(&c.kernel, &inputs[0], &c.regions[0], &c.space)?,
                crate::kernel::run_partial(&c.kernel, &inputs[1], &c.regions[1], &c.space)?,
            ))
        });
        match (got, want) {
            (Ok(g), Ok(w)) => assert_eq!(format!("{g:?}"), format!("{w:?}"), "{what}"),
            (Err(Error::Compute(g)), Err(Error::Compute(w))) => assert_eq!(g, w, "{what}"),
            (Err(g), Err(Error::Internal(_))) => assert!(!matches!(g, Error::Compute(_)), "{what}"),
            (Err(Error::Unsupported(_)), _) => {}
            (g, w) => panic!("{what}\njit {g:?}\ninterpreter {w:?}"),
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn random_pairs_match_each_block_on_the_interpreter(seed in any::<u64>(), n_ops in 0usize..10) {
        check_random_pair(seed, n_ops);
    }
}
