//! Times the JIT against the kernel interpreter on one 1024×1024 block: in `f64`, the A1
//! kernel `(sin(x)^2 + cos(y)^2) * x - y/2` (`y` a random source) summed and as a map, and
//! summed with `y` a second input, the random source alone as a map and summed, `x > 0.5`
//! as a `bool` map and counted, `x.sum()`, `(x + 1) * 2` as a map, `x - m` with `m` a broadcast column then summed, and
//! `x + x.t()` summed; in `f32` (the `F32X4` loops), `(x + 1) * 2` and `sqrt(x*x + y*y)` as
//! maps and summed; plus the compile time of each kernel (first call, cache cold) and the
//! cost of a cache hit. Run with `cargo run -p kiln-codegen --release --example jit_speed`.

mod common;

use common::{a1, sum_or_map as output, time_s};
use kiln_codegen::{jit, kernel};
use kiln_ir::{BinaryOp, Chunk, DType, Inst, Kernel, KernelInput, KernelOutput, Scalar, UnaryOp, ValueId};
use ndarray::{Array1, Array2};

fn v(i: u32) -> ValueId {
    ValueId(i)
}

fn input(axes: &[u32]) -> KernelInput {
    KernelInput { dtype: DType::F64, axes: axes.to_vec() }
}

fn f32_input() -> KernelInput {
    KernelInput { dtype: DType::F32, axes: vec![0, 1] }
}

/// `(x + 1) * 2` over an `f32` block, mapped or summed.
fn f32_plus_one_times_two(reduce: bool) -> Kernel {
    Kernel {
        ndim: 2,
        inputs: vec![f32_input()],
        body: vec![
            Inst::Load(0),
            Inst::Const(Scalar::F32(1.0)),
            Inst::Binary(BinaryOp::Add, v(0), v(1)),
            Inst::Const(Scalar::F32(2.0)),
            Inst::Binary(BinaryOp::Mul, v(2), v(3)),
        ],
        output: output(reduce, 4),
    }
}

/// `sqrt(x*x + y*y)` over two `f32` blocks, mapped or summed.
fn f32_hypot(reduce: bool) -> Kernel {
    Kernel {
        ndim: 2,
        inputs: vec![f32_input(), f32_input()],
        body: vec![
            Inst::Load(0),
            Inst::Load(1),
            Inst::Binary(BinaryOp::Mul, v(0), v(0)),
            Inst::Binary(BinaryOp::Mul, v(1), v(1)),
            Inst::Binary(BinaryOp::Add, v(2), v(3)),
            Inst::Unary(UnaryOp::Sqrt, v(4)),
        ],
        output: output(reduce, 5),
    }
}

/// `sin(x)^2 + cos(y)^2` over two `f32` blocks, mapped or summed (`f64` polynomials on
/// promoted values).
fn f32_sin_cos(reduce: bool) -> Kernel {
    Kernel {
        ndim: 2,
        inputs: vec![f32_input(), f32_input()],
        body: vec![
            Inst::Load(0),
            Inst::Load(1),
            Inst::Unary(UnaryOp::Sin, v(0)),
            Inst::Unary(UnaryOp::Cos, v(1)),
            Inst::Binary(BinaryOp::Mul, v(2), v(2)),
            Inst::Binary(BinaryOp::Mul, v(3), v(3)),
            Inst::Binary(BinaryOp::Add, v(4), v(5)),
        ],
        output: output(reduce, 6),
    }
}

/// `x * 3 + y` over two integer blocks of dtype `d`, mapped or summed.
fn int_axpy(d: DType, reduce: bool) -> Kernel {
    let three = if d == DType::I64 { Scalar::I64(3) } else { Scalar::I32(3) };
    Kernel {
        ndim: 2,
        inputs: vec![KernelInput { dtype: d, axes: vec![0, 1] }; 2],
        body: vec![
            Inst::Load(0),
            Inst::Load(1),
            Inst::Const(three),
            Inst::Binary(BinaryOp::Mul, v(0), v(2)),
            Inst::Binary(BinaryOp::Add, v(3), v(1)),
        ],
        output: output(reduce, 4),
    }
}

/// `where(x > 0.5, x, 0.5)` over an `f64` block, mapped or summed.
fn clamp_below(reduce: bool) -> Kernel {
    Kernel {
        ndim: 2,
        inputs: vec![input(&[0, 1])],
        body: vec![
            Inst::Load(0),
            Inst::Const(Scalar::F64(0.5)),
            Inst::Binary(BinaryOp::Gt, v(0), v(1)),
            Inst::Where(v(2), v(0), v(1)),
        ],
        output: output(reduce, 3),
    }
}

/// `x > 0.5` over an `f64` block: a `bool` map, or the count of trues.
fn above_half(reduce: bool) -> Kernel {
    Kernel {
        ndim: 2,
        inputs: vec![input(&[0, 1])],
        body: vec![Inst::Load(0), Inst::Const(Scalar::F64(0.5)), Inst::Binary(BinaryOp::Gt, v(0), v(1))],
        output: output(reduce, 2),
    }
}

/// The A1 kernel with `y` a second input block instead of a random source.
fn a1_loaded(reduce: bool) -> Kernel {
    let mut k = a1(reduce);
    k.inputs.push(input(&[0, 1]));
    k.body[1] = Inst::Load(1);
    k
}

/// The random source alone, mapped or summed.
fn random_only(reduce: bool) -> Kernel {
    let mut k = a1(false);
    k.body.truncate(2);
    k.output = output(reduce, 1);
    k
}

fn main() {
    let n = 1024;
    let x = Chunk::new(Array2::from_shape_fn((n, n), |(i, j)| ((i * n + j) % 1000) as f64 * 1e-3).into_dyn());
    let y = Chunk::new(Array2::from_shape_fn((n, n), |(i, j)| ((i * 7 + j * 3) % 999) as f64 * 1e-3).into_dyn());
    let m = Chunk::new(Array1::from_shape_fn(n, |i| i as f64 * 0.5).into_dyn());
    let xf = Chunk::new(Array2::from_shape_fn((n, n), |(i, j)| ((i * n + j) % 1000) as f32 * 1e-3).into_dyn());
    let yf = Chunk::new(Array2::from_shape_fn((n, n), |(i, j)| ((i * 7 + j * 3) % 999) as f32 * 2e-3 - 1.0).into_dyn());
    let xi = Chunk::new(Array2::from_shape_fn((n, n), |(i, j)| (i * n + j) as i64 % 1000 - 500).into_dyn());
    let yi = Chunk::new(Array2::from_shape_fn((n, n), |(i, j)| (i * 7 + j * 3) as i64 % 999).into_dyn());
    let xi32 = Chunk::new(Array2::from_shape_fn((n, n), |(i, j)| ((i * n + j) % 1000) as i32 - 500).into_dyn());
    let yi32 = Chunk::new(Array2::from_shape_fn((n, n), |(i, j)| ((i * 7 + j * 3) % 999) as i32).into_dyn());
    let region = [0..n, 0..n];
    let space = [8192, 8192];
    let sum_x = Kernel { ndim: 2, inputs: vec![input(&[0, 1])], body: vec![Inst::Load(0)], output: output(true, 0) };
    let plus_one_times_two = Kernel {
        ndim: 2,
        inputs: vec![input(&[0, 1])],
        body: vec![
            Inst::Load(0),
            Inst::Const(Scalar::F64(1.0)),
            Inst::Binary(BinaryOp::Add, v(0), v(1)),
            Inst::Const(Scalar::F64(2.0)),
            Inst::Binary(BinaryOp::Mul, v(2), v(3)),
        ],
        output: output(false, 4),
    };
    let centered = Kernel {
        ndim: 2,
        inputs: vec![input(&[0, 1]), input(&[0])],
        body: vec![Inst::Load(0), Inst::Load(1), Inst::Binary(BinaryOp::Sub, v(0), v(1))],
        output: output(true, 2),
    };
    let x_plus_xt = Kernel {
        ndim: 2,
        inputs: vec![input(&[0, 1]), input(&[1, 0])],
        body: vec![Inst::Load(0), Inst::Load(1), Inst::Binary(BinaryOp::Add, v(0), v(1))],
        output: output(true, 2),
    };
    let cases: Vec<(&str, Kernel, Vec<&Chunk>)> = vec![
        ("A1 sum", a1(true), vec![&x]),
        ("A1 map", a1(false), vec![&x]),
        ("A1 sum, y loaded", a1_loaded(true), vec![&x, &y]),
        ("random map", random_only(false), vec![&x]),
        ("random sum", random_only(true), vec![&x]),
        ("x.sum()", sum_x, vec![&x]),
        ("(x+1)*2 map", plus_one_times_two, vec![&x]),
        ("(x - m[:,None]).sum()", centered, vec![&x, &m]),
        ("(x + x.t()).sum()", x_plus_xt, vec![&x, &x]),
        ("f32 (x+1)*2 map", f32_plus_one_times_two(false), vec![&xf]),
        ("f32 sqrt(x*x+y*y) map", f32_hypot(false), vec![&xf, &yf]),
        ("f32 ((x+1)*2).sum()", f32_plus_one_times_two(true), vec![&xf]),
        ("f32 sqrt(x*x+y*y).sum()", f32_hypot(true), vec![&xf, &yf]),
        ("where(x>.5,x,.5) map", clamp_below(false), vec![&x]),
        ("where(x>.5,x,.5).sum()", clamp_below(true), vec![&x]),
        ("x>.5 map (bool)", above_half(false), vec![&x]),
        ("(x>.5).sum()", above_half(true), vec![&x]),
        ("i64 x*3+y map", int_axpy(DType::I64, false), vec![&xi, &yi]),
        ("i64 (x*3+y).sum()", int_axpy(DType::I64, true), vec![&xi, &yi]),
        ("i32 x*3+y map", int_axpy(DType::I32, false), vec![&xi32, &yi32]),
        ("i32 (x*3+y).sum()", int_axpy(DType::I32, true), vec![&xi32, &yi32]),
        ("f32 sin²x+cos²y map", f32_sin_cos(false), vec![&xf, &yf]),
        ("f32 (sin²x+cos²y).sum()", f32_sin_cos(true), vec![&xf, &yf]),
    ];
    println!("{:<24} {:>12} {:>12} {:>8} {:>12}", "kernel (1024x1024)", "interp ms", "jit ms", "speedup", "compile us");
    for (name, k, ins) in &cases {
        let is_map = matches!(k.output, KernelOutput::Map(_));
        let run_jit = || {
            if is_map {
                jit::run_map(k, ins, &region).map(|_| ())
            } else {
                jit::run_partial(k, ins, &region, &space).map(|_| ())
            }
        };
        let before = jit::stats().compile_time;
        if let Err(e) = run_jit() {
            println!("{name:<24} declined by the JIT ({e}): the interpreter runs it");
            continue;
        }
        let compile = (jit::stats().compile_time - before).as_secs_f64() * 1e6;
        let reps = if name.starts_with("A1") { 7 } else { 21 };
        let t_interp = time_s(reps, || {
            if is_map {
                kernel::run_map(k, ins, &region).map(|_| ())
            } else {
                kernel::run_partial(k, ins, &region, &space).map(|_| ())
            }
        });
        let t_jit = time_s(reps, run_jit);
        println!(
            "{name:<24} {:>12.3} {:>12.3} {:>7.2}x {:>12.0}",
            t_interp * 1e3,
            t_jit * 1e3,
            t_interp / t_jit,
            compile
        );
    }
    // The cost of a cache hit: a call on a 1x1 block.
    let tiny = Chunk::new(Array2::<f64>::zeros((1, 1)).into_dyn());
    let (_, k, _) = &cases[2];
    let hit = time_s(2001, || jit::run_partial(k, &[&tiny], &[0..1, 0..1], &[1, 1]).map(|_| ()));
    println!("call on a 1x1 block (cache hit + setup): {:.2} us", hit * 1e6);
    println!("{:?}", jit::stats());
}
