//! `Op`: the collection-level operations an expression node performs, with their
//! parameters. An op plus its inputs' metadata determines the node's dtype, shape and
//! chunks (see `build.rs`); the op's parameters are part of the node's token.

use std::fmt;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use crate::chunk::Chunk;
use crate::chunks::ChunkGrid;
use crate::dtype::DType;
use crate::external::ExternalBlocks;
use crate::kernel::Kernel;
use crate::npy::{NpySource, NpyTarget};
use crate::scalar::{F64Bits, Scalar};
use crate::slice::SliceSpec;
use crate::token::StableHasher;
use crate::with_chunk;

/// An operation of an expression node.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Op {
    /// The user's in-memory array; its blocks are zero-copy views.
    FromArray(SourceArray),
    /// Every element equal to one value: `zeros`, `ones`, `full`, and Rust scalars (0-d).
    Full(Scalar),
    /// `start + i * step` along a 1-d array, computed in the node's dtype (NumPy's `arange`).
    Arange {
        /// First value.
        start: Scalar,
        /// Increment.
        step: Scalar,
    },
    /// Evenly spaced `f64` values from `start` to `stop` (NumPy's `linspace`).
    Linspace {
        /// First value.
        start: F64Bits,
        /// Last value (included when `endpoint`).
        stop: F64Bits,
        /// Whether `stop` is the last value.
        endpoint: bool,
    },
    /// Counter-based random numbers: the element at flat (C-order) index `i` of the whole
    /// array depends only on `(seed, i)`, never on the chunking.
    Random {
        /// The distribution.
        dist: Distribution,
        /// The seed.
        seed: u64,
        /// The part of a larger generated array this node holds (after slices were pushed
        /// into the source); `None`: the whole array of the node's shape.
        view: Option<Arc<SourceView>>,
    },
    /// An elementwise function of one input of the node's dtype (`is_nan` and `not` give
    /// `bool`).
    Unary(UnaryOp),
    /// An elementwise function of two inputs of the same dtype (cast beforehand), with
    /// NumPy broadcasting.
    Binary(BinaryOp),
    /// `where(cond, a, b)`: `cond` is `bool`; `a` and `b` have the node's dtype.
    Where,
    /// Conversion to the node's dtype (NumPy `astype`, unsafe casting).
    AsType,
    /// A reduction over `axes` (sorted, distinct).
    Reduce {
        /// What to compute.
        op: ReduceOp,
        /// The reduced axes of the input, ascending.
        axes: Box<[usize]>,
        /// Whether reduced axes stay as length-1 axes.
        keepdims: bool,
    },
    /// Basic slicing (ranges, steps, integer indices, new axes).
    Slice(SliceSpec),
    /// Axis permutation: output axis `k` is input axis `perm[k]`.
    Transpose(Box<[usize]>),
    /// A new length-1 axis at this position.
    InsertAxis(usize),
    /// Broadcast to the node's shape (NumPy `broadcast_to`); new axes get one block.
    BroadcastTo,
    /// The same values cut into the node's chunks.
    Rechunk,
    /// A group of blockwise ops fused into one kernel, run once per block of `grid` (the
    /// chunking of the kernel's iteration space); the node's inputs are the kernel's inputs,
    /// in order. With a `Map` kernel the node is the iteration space itself (`grid` is its
    /// chunking); with a `Reduce` kernel the node is the reduction's result, lowered like
    /// `Reduce` (per-block partial states, a combine tree, a final step).
    Fused {
        /// The kernel.
        kernel: Arc<Kernel>,
        /// The chunking of the iteration space.
        grid: ChunkGrid,
    },
    /// Elements of a `.npy` file on disk (the whole array, or the view of it that slices
    /// pushed into the source select); each block task reads only its block's bytes.
    FromNpy(Arc<NpySource>),
    /// Blocks made by user code when their tasks run (`from_delayed_chunks`), in the
    /// source's own chunks (see [`crate::external`]).
    External(Arc<ExternalBlocks>),
    /// Writes its input into a `.npy` file (whose header was written and whose length was
    /// set beforehand): one task per input block writes that block's bytes in place, and a
    /// combine tree ends in one task. The node's value is the number of data bytes written
    /// (`i64`, 0-d). Lowered like a reduction over every axis.
    StoreNpy(Arc<NpyTarget>),
}

/// The part of a generated source array a node holds: node element `p` is element
/// `start[k] + p[k] * step[k]` (on each axis `k`) of a source array of shape `base`. Random
/// numbers are a function of the flat index in `base`, so a slice of a random array pushed
/// into its source keeps its values.
#[derive(Clone, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct SourceView {
    /// Shape of the whole generated array.
    pub base: Vec<usize>,
    /// Source position of the node's first element, per axis.
    pub start: Vec<i64>,
    /// Source step per node step, per axis (negative walks backwards).
    pub step: Vec<i64>,
}

impl SourceView {
    /// The flat index in `base` of node element `p` is `offset + Σ p[k] * strides[k]`:
    /// returns `(offset, strides)`.
    pub fn affine(&self) -> (i64, Vec<i64>) {
        let nd = self.base.len();
        let mut base_strides = vec![1i64; nd];
        for k in (0..nd.saturating_sub(1)).rev() {
            base_strides[k] = base_strides[k + 1] * self.base[k + 1] as i64;
        }
        let offset = self.start.iter().zip(&base_strides).map(|(s, b)| s * b).sum();
        let strides = self.step.iter().zip(&base_strides).map(|(s, b)| s * b).collect();
        (offset, strides)
    }

    /// The identity view of an array of `shape`.
    pub fn whole(shape: &[usize]) -> SourceView {
        SourceView { base: shape.to_vec(), start: vec![0; shape.len()], step: vec![1; shape.len()] }
    }
}

impl fmt::Display for SourceView {
    /// `[2..;1, 9..;-2] of (10, 10)`: per axis the start and step, then the base shape.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let axes: Vec<String> = self.start.iter().zip(&self.step).map(|(a, s)| format!("{a}..;{s}")).collect();
        write!(f, "[{}] of {}", axes.join(", "), crate::shape::Shape::from(self.base.as_slice()))
    }
}

/// A probability distribution for [`Op::Random`].
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Distribution {
    /// Uniform on `[low, high)`.
    Uniform {
        /// Lower bound (inclusive).
        low: F64Bits,
        /// Upper bound (exclusive).
        high: F64Bits,
    },
    /// Gaussian.
    Normal {
        /// Mean.
        mean: F64Bits,
        /// Standard deviation.
        std: F64Bits,
    },
}

/// Elementwise functions of one argument.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[allow(missing_docs)]
pub enum UnaryOp {
    Neg,
    Abs,
    Sqrt,
    Exp,
    Ln,
    Log10,
    Sin,
    Cos,
    Tan,
    Tanh,
    Floor,
    Ceil,
    /// Round half to even (NumPy `round`).
    Round,
    /// Logical not (input is `bool`).
    Not,
    /// `x != x` (always false for integers); output is `bool`.
    IsNan,
}

/// Elementwise functions of two arguments.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[allow(missing_docs)]
pub enum BinaryOp {
    Add,
    Sub,
    Mul,
    /// True division (inputs are floats, cast beforehand).
    Div,
    /// Floor modulo: the result has the divisor's sign (Python's `%`); `x % 0 == 0` for
    /// integers.
    Rem,
    Pow,
    /// NaN-propagating minimum.
    Minimum,
    /// NaN-propagating maximum.
    Maximum,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    /// Logical and (inputs are `bool`).
    And,
    /// Logical or (inputs are `bool`).
    Or,
}

/// Reductions.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum ReduceOp {
    /// Sum (integers accumulate in `i64`).
    Sum,
    /// Product (integers accumulate in `i64`).
    Prod,
    /// NaN-propagating minimum.
    Min,
    /// NaN-propagating maximum.
    Max,
    /// Arithmetic mean.
    Mean,
    /// Variance with `ddof` delta degrees of freedom.
    Var {
        /// Delta degrees of freedom.
        ddof: F64Bits,
    },
    /// Standard deviation with `ddof` delta degrees of freedom.
    Std {
        /// Delta degrees of freedom.
        ddof: F64Bits,
    },
    /// Flat or per-axis index of the first minimum (NaN counts as the minimum).
    ArgMin,
    /// Flat or per-axis index of the first maximum (NaN counts as the maximum).
    ArgMax,
    /// Whether any element is non-zero.
    Any,
    /// Whether every element is non-zero.
    All,
}

impl UnaryOp {
    /// The name in text forms and in the API.
    pub fn name(self) -> &'static str {
        use UnaryOp::*;
        match self {
            Neg => "neg",
            Abs => "abs",
            Sqrt => "sqrt",
            Exp => "exp",
            Ln => "ln",
            Log10 => "log10",
            Sin => "sin",
            Cos => "cos",
            Tan => "tan",
            Tanh => "tanh",
            Floor => "floor",
            Ceil => "ceil",
            Round => "round",
            Not => "not",
            IsNan => "is_nan",
        }
    }

    /// Whether the function is only defined on floats (integer inputs are cast to float).
    pub fn needs_float(self) -> bool {
        use UnaryOp::*;
        matches!(self, Sqrt | Exp | Ln | Log10 | Sin | Cos | Tan | Tanh)
    }
}

impl BinaryOp {
    /// The name in text forms and in the API.
    pub fn name(self) -> &'static str {
        use BinaryOp::*;
        match self {
            Add => "add",
            Sub => "sub",
            Mul => "mul",
            Div => "div",
            Rem => "rem",
            Pow => "pow",
            Minimum => "minimum",
            Maximum => "maximum",
            Eq => "eq",
            Ne => "ne",
            Lt => "lt",
            Le => "le",
            Gt => "gt",
            Ge => "ge",
            And => "and",
            Or => "or",
        }
    }

    /// Whether the result is `bool` (comparisons and logic).
    pub fn is_predicate(self) -> bool {
        use BinaryOp::*;
        matches!(self, Eq | Ne | Lt | Le | Gt | Ge | And | Or)
    }
}

impl ReduceOp {
    /// The name in text forms and in the API.
    pub fn name(self) -> &'static str {
        use ReduceOp::*;
        match self {
            Sum => "sum",
            Prod => "prod",
            Min => "min",
            Max => "max",
            Mean => "mean",
            Var { .. } => "var",
            Std { .. } => "std",
            ArgMin => "argmin",
            ArgMax => "argmax",
            Any => "any",
            All => "all",
        }
    }

    /// The result dtype for an input of dtype `d` (NumPy's rules).
    pub fn out_dtype(self, d: DType) -> DType {
        use ReduceOp::*;
        match self {
            Sum | Prod => d.sum_dtype(),
            Min | Max => d,
            Mean | Var { .. } | Std { .. } => {
                if d.is_float() {
                    d
                } else {
                    DType::F64
                }
            }
            ArgMin | ArgMax => DType::I64,
            Any | All => DType::Bool,
        }
    }

    /// Whether the reduction of zero elements is an error (no identity).
    pub fn needs_elements(self) -> bool {
        use ReduceOp::*;
        matches!(self, Min | Max | ArgMin | ArgMax)
    }
}

impl Op {
    /// The operation's name, as the text forms print it.
    pub fn name(&self) -> &'static str {
        match self {
            Op::FromArray(_) => "from_array",
            Op::Full(_) => "full",
            Op::Arange { .. } => "arange",
            Op::Linspace { .. } => "linspace",
            Op::Random { dist: Distribution::Uniform { .. }, .. } => "random.uniform",
            Op::Random { dist: Distribution::Normal { .. }, .. } => "random.normal",
            Op::Unary(u) => u.name(),
            Op::Binary(b) => b.name(),
            Op::Where => "where",
            Op::AsType => "astype",
            Op::Reduce { op, .. } => op.name(),
            Op::Slice(_) => "slice",
            Op::Transpose(_) => "transpose",
            Op::InsertAxis(_) => "insert_axis",
            Op::BroadcastTo => "broadcast_to",
            Op::Rechunk => "rechunk",
            Op::FromNpy(_) => "from_npy",
            Op::External(_) => "external",
            Op::StoreNpy(_) => "store_npy",
            Op::Fused { .. } => "fused",
        }
    }

    /// Whether the op reads no other node (a source of data).
    pub fn is_source(&self) -> bool {
        matches!(
            self,
            Op::FromArray(_)
                | Op::Full(_)
                | Op::Arange { .. }
                | Op::Linspace { .. }
                | Op::Random { .. }
                | Op::FromNpy(_)
                | Op::External(_)
        )
    }

    /// Whether each output block depends only on the same-position blocks of its inputs
    /// (elementwise ops and casts).
    pub fn is_elementwise(&self) -> bool {
        matches!(self, Op::Unary(_) | Op::Binary(_) | Op::Where | Op::AsType)
    }

    /// Writes the parameters that differ from their defaults, as `k=v` items.
    pub fn write_params(&self, out: &mut Vec<String>, ndim_in: usize) {
        match self {
            Op::FromNpy(src) => src.write_params(out),
            Op::External(src) => out.push(format!("from={}", src.name)),
            Op::StoreNpy(target) => out.push(format!("file={}", target.name())),
            Op::FromArray(_)
            | Op::Unary(_)
            | Op::Binary(_)
            | Op::Where
            | Op::AsType
            | Op::BroadcastTo
            | Op::Rechunk => {}
            Op::Full(v) => out.push(v.to_string()),
            Op::Arange { start, step } => {
                out.push(format!("start={start}"));
                out.push(format!("step={step}"));
            }
            Op::Linspace { start, stop, endpoint } => {
                out.push(format!("start={start}"));
                out.push(format!("stop={stop}"));
                if !endpoint {
                    out.push("endpoint=false".into());
                }
            }
            Op::Random { dist, seed, view } => {
                out.push(format!("seed={seed}"));
                if let Some(v) = view {
                    out.push(format!("view={v}"));
                }
                match dist {
                    Distribution::Uniform { low, high } => {
                        if low.0 != 0.0 || high.0 != 1.0 {
                            out.push(format!("low={low}"));
                            out.push(format!("high={high}"));
                        }
                    }
                    Distribution::Normal { mean, std } => {
                        if mean.0 != 0.0 || std.0 != 1.0 {
                            out.push(format!("mean={mean}"));
                            out.push(format!("std={std}"));
                        }
                    }
                }
            }
            Op::Reduce { op, axes, keepdims } => {
                if axes.len() != ndim_in {
                    out.push(format!("axes={axes:?}"));
                }
                if *keepdims {
                    out.push("keepdims".into());
                }
                if let ReduceOp::Var { ddof } | ReduceOp::Std { ddof } = op
                    && ddof.0 != 0.0
                {
                    out.push(format!("ddof={ddof}"));
                }
            }
            Op::Slice(spec) => out.push(spec.to_string()),
            Op::Transpose(perm) => out.push(format!("axes={perm:?}")),
            Op::InsertAxis(k) => out.push(format!("axis={k}")),
            Op::Fused { kernel, .. } => out.push(format!("kernel={}", kernel.token().short())),
        }
    }
}

/// The user's array behind [`Op::FromArray`]. It is never hashed: its identity is the
/// allocation and view it points at (two `from_array` of the same shared buffer and view
/// are the same node; separate copies are separate nodes).
#[derive(Clone, Debug)]
pub struct SourceArray {
    data: Chunk,
    identity: u64,
}

impl SourceArray {
    /// Wraps the user's data.
    pub fn new(data: Chunk) -> SourceArray {
        let mut h = StableHasher::new();
        with_chunk!(&data, a => {
            h.word(a.as_ptr() as usize as u64);
            for &s in a.strides() {
                h.word(s as u64);
            }
        });
        for &d in data.shape() {
            h.word(d as u64);
        }
        h.str(data.dtype().name());
        SourceArray { identity: h.finish128().0 as u64, data }
    }

    /// The data.
    pub fn data(&self) -> &Chunk {
        &self.data
    }
}

impl PartialEq for SourceArray {
    fn eq(&self, other: &Self) -> bool {
        self.identity == other.identity
    }
}
impl Eq for SourceArray {}
impl Hash for SourceArray {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.identity.hash(state);
    }
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
