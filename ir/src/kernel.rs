//! `Kernel`: the fused chunk kernel, plain data that codegen compiles and the kernel
//! interpreter runs. An SSA list of scalar instructions evaluated at every position of an
//! iteration space (an output block before any reduction) over typed array inputs, each
//! mapped onto the iteration axes (broadcast along the others), producing one output block
//! or a reduction's partial state.
//!
//! **Architecture invariant:** a kernel is independent of chunking and of the data: the same
//! kernel runs on every block of a fused node, it hashes and serializes the same in every
//! process (the JIT cache key, and what crosses the wire for distributed runs), and every
//! position-dependent value (random numbers, ranges) is a function of the block's global
//! region, which the caller passes in.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::dtype::DType;
use crate::error::{Error, Result};
use crate::op::{BinaryOp, Distribution, ReduceOp, UnaryOp};
use crate::scalar::{F64Bits, Scalar};
use crate::token::{StableHasher, Token};

/// The number of an SSA value: instruction `i` of the body defines `%i`.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ValueId(pub u32);

impl ValueId {
    /// As an index into the body.
    pub fn idx(self) -> usize {
        self.0 as usize
    }
}

/// An array input of a kernel: one block per task, read at the current position.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct KernelInput {
    /// Element type.
    pub dtype: DType,
    /// For each axis of the input block, the iteration axis it runs along (distinct). The
    /// input is broadcast along iteration axes it does not name, and along named axes where
    /// its block has length 1. NumPy broadcasting of an `m`-d input in an `n`-d space is
    /// `axes = [n - m, ..., n - 1]`.
    pub axes: Vec<u32>,
}

/// One instruction. Operands are earlier values; dtypes follow `ir::build`'s invariants
/// (binary operands share a dtype, casts are explicit).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Inst {
    /// Input `n`'s element at the current position.
    Load(u32),
    /// A constant.
    Const(Scalar),
    /// A counter-based random value of a generated source array of shape `base` (the value
    /// is a function of the seed and the flat C-order index in `base`): source axis `j`
    /// stands at `start[j] + pos * step[j]` where `pos` is the global position along
    /// iteration axis `axes[j]`, or at `start[j]` when `axes[j]` is `None` (a broadcast
    /// axis). `f64`.
    Random {
        /// The distribution.
        dist: Distribution,
        /// The seed.
        seed: u64,
        /// The whole generated array's shape.
        base: Vec<u64>,
        /// Source position at iteration position 0, per source axis.
        start: Vec<i64>,
        /// Source step per iteration step, per source axis.
        step: Vec<i64>,
        /// The iteration axis each source axis runs along.
        axes: Vec<Option<u32>>,
    },
    /// `start + i * step` with `i` the global position along iteration `axis`, in `start`'s
    /// dtype (NumPy's `arange`).
    Arange {
        /// First value.
        start: Scalar,
        /// Increment (same dtype as `start`).
        step: Scalar,
        /// The iteration axis.
        axis: u32,
    },
    /// NumPy's `linspace(start, stop, num, endpoint)` at the global position along `axis`.
    /// `f64`.
    Linspace {
        /// First value.
        start: F64Bits,
        /// Last value (included when `endpoint`).
        stop: F64Bits,
        /// Number of values.
        num: u64,
        /// Whether `stop` is the last value.
        endpoint: bool,
        /// The iteration axis.
        axis: u32,
    },
    /// An elementwise function of one value (`ir::op::UnaryOp` semantics).
    Unary(UnaryOp, ValueId),
    /// An elementwise function of two values of one dtype.
    Binary(BinaryOp, ValueId, ValueId),
    /// `cond ? then : else` (`cond` is `bool`; the others share a dtype).
    Where(ValueId, ValueId, ValueId),
    /// Conversion (NumPy `astype`).
    Cast(DType, ValueId),
}

/// What a kernel produces per task.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum KernelOutput {
    /// The value at every position: one output block of the iteration block's shape.
    Map(ValueId),
    /// The partial state of a reduction of the value over iteration `axes` (ascending):
    /// what a reduction's per-block step computes, without materializing the block.
    Reduce {
        /// The reduction.
        op: ReduceOp,
        /// Reduced iteration axes, ascending.
        axes: Vec<u32>,
        /// Whether the final result keeps reduced axes as length 1.
        keepdims: bool,
        /// The reduced value.
        value: ValueId,
    },
}

/// A fused chunk kernel.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Kernel {
    /// Number of iteration axes.
    pub ndim: u32,
    /// Array inputs, in the order a task's dependencies provide their blocks.
    pub inputs: Vec<KernelInput>,
    /// Instructions; instruction `i` defines `%i`.
    pub body: Vec<Inst>,
    /// The result.
    pub output: KernelOutput,
}

impl Kernel {
    /// The dtype of every value of the body (checks the body as it goes).
    pub fn dtypes(&self) -> Result<Vec<DType>> {
        let mut dt: Vec<DType> = Vec::with_capacity(self.body.len());
        for (i, inst) in self.body.iter().enumerate() {
            let get = |v: ValueId| -> Result<DType> {
                dt.get(v.idx())
                    .copied()
                    .ok_or_else(|| bad(format!("%{i} uses %{} which is not defined before it", v.0)))
            };
            let d = match inst {
                Inst::Load(n) => {
                    self.inputs.get(*n as usize).ok_or_else(|| bad(format!("%{i} loads missing input {n}")))?.dtype
                }
                Inst::Const(s) => s.dtype(),
                Inst::Random { base, start, step, axes, .. } => {
                    let mapped: Vec<u32> = axes.iter().flatten().copied().collect();
                    self.check_axes(i, &mapped)?;
                    if [start.len(), step.len(), axes.len()].iter().any(|&n| n != base.len()) {
                        return Err(bad(format!(
                            "%{i}: random source of {} axes with {} starts, {} steps, {} axes",
                            base.len(),
                            start.len(),
                            step.len(),
                            axes.len()
                        )));
                    }
                    DType::F64
                }
                Inst::Arange { start, step, axis } => {
                    self.check_axes(i, &[*axis])?;
                    if start.dtype() != step.dtype() {
                        return Err(bad(format!("%{i}: arange start {start} and step {step} differ in dtype")));
                    }
                    start.dtype()
                }
                Inst::Linspace { axis, .. } => {
                    self.check_axes(i, &[*axis])?;
                    DType::F64
                }
                Inst::Unary(op, a) => unary_dtype(*op, get(*a)?)
                    .ok_or_else(|| bad(format!("%{i}: {} of {}", op.name(), get(*a).unwrap_or(DType::Bool))))?,
                Inst::Binary(op, a, b) => {
                    let (x, y) = (get(*a)?, get(*b)?);
                    if x != y {
                        return Err(bad(format!("%{i}: {} of {x} and {y} (operands must share a dtype)", op.name())));
                    }
                    binary_dtype(*op, x).ok_or_else(|| bad(format!("%{i}: {} of {x}", op.name())))?
                }
                Inst::Where(c, a, b) => {
                    let (c, x, y) = (get(*c)?, get(*a)?, get(*b)?);
                    if c != DType::Bool || x != y {
                        return Err(bad(format!("%{i}: where({c}, {x}, {y})")));
                    }
                    x
                }
                Inst::Cast(to, a) => {
                    get(*a)?;
                    *to
                }
            };
            dt.push(d);
        }
        Ok(dt)
    }

    fn check_axes(&self, i: usize, axes: &[u32]) -> Result<()> {
        let mut seen = vec![false; self.ndim as usize];
        for &a in axes {
            if a >= self.ndim || std::mem::replace(&mut seen[a as usize], true) {
                return Err(bad(format!("%{i}: axes {axes:?} are not distinct axes of a {}-d space", self.ndim)));
            }
        }
        Ok(())
    }

    /// Checks the kernel: SSA order, dtypes, axes, and the output.
    pub fn verify(&self) -> Result<()> {
        for (n, input) in self.inputs.iter().enumerate() {
            self.check_axes(n, &input.axes).map_err(|_| bad(format!("input {n} has axes {:?}", input.axes)))?;
        }
        let dt = self.dtypes()?;
        let value = match &self.output {
            KernelOutput::Map(v) => *v,
            KernelOutput::Reduce { axes, value, .. } => {
                if axes.windows(2).any(|w| w[0] >= w[1]) || axes.iter().any(|&a| a >= self.ndim) {
                    return Err(bad(format!("reduce axes {axes:?} are not ascending axes of a {}-d space", self.ndim)));
                }
                *value
            }
        };
        if value.idx() >= dt.len() {
            return Err(bad(format!("the output %{} is not defined", value.0)));
        }
        Ok(())
    }

    /// The dtype of the result (of the block for `Map`, of the finished reduction for
    /// `Reduce`).
    pub fn out_dtype(&self) -> Result<DType> {
        let dt = self.dtypes()?;
        let at = |v: ValueId| dt.get(v.idx()).copied().ok_or_else(|| bad(format!("output %{} undefined", v.0)));
        match &self.output {
            KernelOutput::Map(v) => at(*v),
            KernelOutput::Reduce { op, value, .. } => Ok(op.out_dtype(at(*value)?)),
        }
    }

    /// The structural hash: equal kernels have equal tokens (the JIT cache key).
    pub fn token(&self) -> Token {
        use std::hash::Hash;
        let mut h = StableHasher::new();
        self.hash(&mut h);
        h.finish128()
    }
}

fn bad(msg: String) -> Error {
    Error::internal(format!("invalid kernel: {msg}"))
}

/// The dtype of a unary op on `d`, or `None` if the op does not take `d` (the builders cast
/// beforehand, so a kernel never needs that).
pub fn unary_dtype(op: UnaryOp, d: DType) -> Option<DType> {
    match op {
        UnaryOp::IsNan => Some(DType::Bool),
        UnaryOp::Not => (d == DType::Bool).then_some(DType::Bool),
        UnaryOp::Neg => (d != DType::Bool).then_some(d),
        u if u.needs_float() => d.is_float().then_some(d),
        _ => Some(d),
    }
}

/// The dtype of a binary op on two operands of dtype `d`, or `None` if it does not take `d`.
pub fn binary_dtype(op: BinaryOp, d: DType) -> Option<DType> {
    match op {
        BinaryOp::And | BinaryOp::Or => (d == DType::Bool).then_some(DType::Bool),
        o if o.is_predicate() => Some(DType::Bool),
        BinaryOp::Div => d.is_float().then_some(d),
        BinaryOp::Sub | BinaryOp::Rem | BinaryOp::Pow => (d != DType::Bool).then_some(d),
        _ => Some(d),
    }
}

impl fmt::Display for Kernel {
    /// ```text
    /// kernel(ndim=2; in0: f64 axes=[0, 1], in1: f64 axes=[0]) {
    ///   %0 = load in0
    ///   %1 = sin %0
    ///   return %1
    /// }
    /// ```
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "kernel(ndim={}", self.ndim)?;
        for (n, input) in self.inputs.iter().enumerate() {
            write!(f, "{} in{n}: {} axes={:?}", if n == 0 { ";" } else { "," }, input.dtype, input.axes)?;
        }
        writeln!(f, ") {{")?;
        for (i, inst) in self.body.iter().enumerate() {
            write!(f, "  %{i} = ")?;
            match inst {
                Inst::Load(n) => write!(f, "load in{n}")?,
                Inst::Const(s) => write!(f, "const {s}: {}", s.dtype())?,
                Inst::Random { dist, seed, base, start, step, axes } => {
                    match dist {
                        Distribution::Uniform { low, high } => write!(f, "random.uniform low={low} high={high}")?,
                        Distribution::Normal { mean, std } => write!(f, "random.normal mean={mean} std={std}")?,
                    }
                    write!(f, " seed={seed} base={base:?} start={start:?} step={step:?} axes=[")?;
                    for (j, a) in axes.iter().enumerate() {
                        let sep = if j > 0 { ", " } else { "" };
                        match a {
                            Some(a) => write!(f, "{sep}{a}")?,
                            None => write!(f, "{sep}-")?,
                        }
                    }
                    f.write_str("]")?
                }
                Inst::Arange { start, step, axis } => write!(f, "arange start={start} step={step} axis={axis}")?,
                Inst::Linspace { start, stop, num, endpoint, axis } => {
                    write!(f, "linspace start={start} stop={stop} num={num} endpoint={endpoint} axis={axis}")?
                }
                Inst::Unary(op, a) => write!(f, "{} %{}", op.name(), a.0)?,
                Inst::Binary(op, a, b) => write!(f, "{} %{}, %{}", op.name(), a.0, b.0)?,
                Inst::Where(c, a, b) => write!(f, "where %{}, %{}, %{}", c.0, a.0, b.0)?,
                Inst::Cast(to, a) => write!(f, "cast %{} to {to}", a.0)?,
            }
            writeln!(f)?;
        }
        match &self.output {
            KernelOutput::Map(v) => writeln!(f, "  return %{}", v.0)?,
            KernelOutput::Reduce { op, axes, keepdims, value } => {
                write!(f, "  reduce {} %{} axes={axes:?}", op.name(), value.0)?;
                if let ReduceOp::Var { ddof } | ReduceOp::Std { ddof } = op {
                    write!(f, " ddof={ddof}")?;
                }
                writeln!(f, "{}", if *keepdims { " keepdims" } else { "" })?
            }
        }
        f.write_str("}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `(sin(x)^2 + cos(y)^2) * x - y / 2`, summed: the A1 benchmark as one kernel.
    pub(crate) fn a1() -> Kernel {
        use BinaryOp::*;
        let v = ValueId;
        let uniform = Distribution::Uniform { low: F64Bits(0.0), high: F64Bits(1.0) };
        Kernel {
            ndim: 2,
            inputs: vec![KernelInput { dtype: DType::F64, axes: vec![0, 1] }],
            body: vec![
                Inst::Load(0),
                Inst::Random {
                    dist: uniform,
                    seed: 7,
                    base: vec![8192, 8192],
                    start: vec![0, 0],
                    step: vec![1, 1],
                    axes: vec![Some(0), Some(1)],
                },
                Inst::Unary(UnaryOp::Sin, v(0)),
                Inst::Const(Scalar::F64(2.0)),
                Inst::Binary(Pow, v(2), v(3)),
                Inst::Unary(UnaryOp::Cos, v(1)),
                Inst::Binary(Pow, v(5), v(3)),
                Inst::Binary(Add, v(4), v(6)),
                Inst::Binary(Mul, v(7), v(0)),
                Inst::Binary(Div, v(1), v(3)),
                Inst::Binary(Sub, v(8), v(9)),
            ],
            output: KernelOutput::Reduce { op: ReduceOp::Sum, axes: vec![0, 1], keepdims: false, value: v(10) },
        }
    }

    #[test]
    fn text_form() {
        let k = a1();
        k.verify().unwrap();
        assert_eq!(
            k.to_string(),
            "kernel(ndim=2; in0: f64 axes=[0, 1]) {
  %0 = load in0
  %1 = random.uniform low=0.0 high=1.0 seed=7 base=[8192, 8192] start=[0, 0] step=[1, 1] axes=[0, 1]
  %2 = sin %0
  %3 = const 2.0: f64
  %4 = pow %2, %3
  %5 = cos %1
  %6 = pow %5, %3
  %7 = add %4, %6
  %8 = mul %7, %0
  %9 = div %1, %3
  %10 = sub %8, %9
  reduce sum %10 axes=[0, 1]
}"
        );
        assert_eq!(k.out_dtype().unwrap(), DType::F64);
    }

    #[test]
    fn serde_round_trip_and_stable_token() {
        let k = a1();
        let json = serde_json::to_string(&k).unwrap();
        let back: Kernel = serde_json::from_str(&json).unwrap();
        assert_eq!(back, k);
        assert_eq!(back.token(), k.token());
        let mut other = k.clone();
        other.body[3] = Inst::Const(Scalar::F64(-0.0));
        assert_ne!(other.token(), k.token());
    }

    #[test]
    fn verify_rejects_bad_kernels() {
        let mut k = a1();
        k.body[4] = Inst::Binary(BinaryOp::Pow, ValueId(2), ValueId(12));
        assert!(k.verify().unwrap_err().to_string().contains("%4 uses %12"));
        let mut k = a1();
        k.body[3] = Inst::Const(Scalar::F32(2.0));
        assert!(k.verify().unwrap_err().to_string().contains("must share a dtype"));
        let mut k = a1();
        k.inputs[0].axes = vec![1, 1];
        assert!(k.verify().is_err());
        let mut k = a1();
        k.output = KernelOutput::Reduce { op: ReduceOp::Sum, axes: vec![1, 0], keepdims: false, value: ValueId(10) };
        assert!(k.verify().is_err());
        let mut k = a1();
        k.body.push(Inst::Unary(UnaryOp::Sqrt, ValueId(0)));
        k.body.push(Inst::Cast(DType::I64, ValueId(11)));
        k.body.push(Inst::Unary(UnaryOp::Sqrt, ValueId(12)));
        assert!(k.verify().unwrap_err().to_string().contains("%13: sqrt of i64"));
    }
}
