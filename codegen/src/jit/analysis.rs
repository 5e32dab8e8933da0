//! What the code generator and the drivers need to know about a kernel before emitting or
//! running it: which instructions are live, which vary along a row (the rest are computed
//! once per row, before the loop), the per-row position slot and host-parameter slot of
//! every position-dependent source, and the affine flat index of random sources.

use kiln_ir::{DType, Inst, Kernel, Scalar, ValueId};

pub(crate) use crate::kernel::{operands, random_affine};

/// How an input is read along the innermost (row) axis.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Stride {
    /// The same element along the whole row (a broadcast axis, or a row of length 1).
    Zero,
    /// Consecutive elements.
    One,
    /// Any other step, passed at run time.
    Other,
}

impl Stride {
    /// The class of an element step.
    pub fn of(step: i64) -> Stride {
        match step {
            0 => Stride::Zero,
            1 => Stride::One,
            _ => Stride::Other,
        }
    }
}

/// The facts about one kernel (for a given row stride class of each input).
#[derive(Clone, Debug)]
pub(crate) struct Analysis {
    /// The dtype of every value.
    pub(crate) dtypes: Vec<DType>,
    /// Whether each instruction reaches the result.
    pub(crate) live: Vec<bool>,
    /// Whether each value varies along the row.
    pub(crate) varies: Vec<bool>,
    /// The per-row position slot of each source instruction (random: the flat index of the
    /// row's first element; arange/linspace: the global position of the row's first
    /// element along the source's axis).
    pub(crate) pos_slot: Vec<Option<usize>>,
    /// The host-parameter slot of each random or linspace instruction.
    pub(crate) aux_slot: Vec<Option<usize>>,
    /// The constant right operand of each `pow` whose exponent is a `Const`.
    pub(crate) const_exponent: Vec<Option<Scalar>>,
    /// The value the kernel produces (mapped or reduced).
    pub(crate) result: ValueId,
}

/// The row axis of a kernel's iteration space (a 0-d space is walked as one row of 1).
pub(crate) fn row_axis(kernel: &Kernel) -> usize {
    (kernel.ndim as usize).saturating_sub(1)
}

impl Analysis {
    /// Analyses `kernel` (verified) whose inputs are read along rows with `strides`.
    pub(crate) fn new(kernel: &Kernel, dtypes: Vec<DType>, strides: &[Stride]) -> Analysis {
        let n = kernel.body.len();
        let result = match &kernel.output {
            kiln_ir::KernelOutput::Map(v) => *v,
            kiln_ir::KernelOutput::Reduce { value, .. } => *value,
        };
        let mut live = vec![false; n];
        if let Some(l) = live.get_mut(result.idx()) {
            *l = true;
        }
        for i in (0..n).rev() {
            if live[i] {
                for v in operands(&kernel.body[i]) {
                    live[v.idx()] = true;
                }
            }
        }
        let last = row_axis(kernel);
        let along = |axis: u32| kernel.ndim > 0 && axis as usize == last;
        let mut varies = vec![false; n];
        let (mut pos_slot, mut aux_slot) = (vec![None; n], vec![None; n]);
        let (mut n_pos, mut n_aux) = (0, 0);
        for (i, inst) in kernel.body.iter().enumerate() {
            varies[i] = match inst {
                Inst::Load(k) => strides.get(*k as usize).is_some_and(|&s| s != Stride::Zero),
                Inst::Const(_) => false,
                Inst::Random { base, start, step, axes, .. } => {
                    random_affine(base, start, step, axes, kernel.ndim as usize).1[last] != 0
                }
                Inst::Arange { axis, .. } | Inst::Linspace { axis, .. } => along(*axis),
                other => operands(other).iter().any(|v| varies[v.idx()]),
            };
            if matches!(inst, Inst::Random { .. } | Inst::Arange { .. } | Inst::Linspace { .. }) {
                pos_slot[i] = Some(n_pos);
                n_pos += 1;
            }
            if matches!(inst, Inst::Random { .. } | Inst::Linspace { .. }) {
                aux_slot[i] = Some(n_aux);
                n_aux += 1;
            }
        }
        let const_exponent = crate::kernel::const_exponents(kernel);
        Analysis { dtypes, live, varies, pos_slot, aux_slot, const_exponent, result }
    }

    /// This analysis of a rewritten kernel (`jit::fills`: the same instructions at the same
    /// positions, some replaced by loads) with the source slots of the original's analysis
    /// `original`, which the drivers fill; replaced sources keep no slot.
    pub(crate) fn with_slots_of(mut self, kernel: &Kernel, original: &Analysis) -> Analysis {
        for (k, inst) in kernel.body.iter().enumerate() {
            let source = matches!(inst, Inst::Random { .. } | Inst::Arange { .. } | Inst::Linspace { .. });
            self.pos_slot[k] = original.pos_slot[k].filter(|_| source);
            self.aux_slot[k] = original.aux_slot[k].filter(|_| source);
        }
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kiln_ir::{BinaryOp, KernelInput, KernelOutput, UnaryOp};

    #[test]
    fn invariant_values_and_slots() {
        let v = ValueId;
        let k = Kernel {
            ndim: 2,
            inputs: vec![
                KernelInput { dtype: DType::F64, axes: vec![0, 1] },
                KernelInput { dtype: DType::F64, axes: vec![0] },
            ],
            body: vec![
                Inst::Load(0),
                Inst::Load(1),
                Inst::Unary(UnaryOp::Sin, v(1)),
                Inst::Binary(BinaryOp::Mul, v(0), v(2)),
                Inst::Arange { start: Scalar::F64(0.0), step: Scalar::F64(1.0), axis: 0 },
                Inst::Binary(BinaryOp::Add, v(3), v(4)),
                Inst::Unary(UnaryOp::Cos, v(1)),
            ],
            output: KernelOutput::Map(v(5)),
        };
        let a = Analysis::new(&k, k.dtypes().unwrap(), &[Stride::One, Stride::Zero]);
        assert_eq!(a.varies, vec![true, false, false, true, false, true, false]);
        assert_eq!(a.live, vec![true, true, true, true, true, true, false]);
        assert_eq!((a.pos_slot[4], a.aux_slot[4]), (Some(0), None));
        assert_eq!(Stride::of(-3), Stride::Other);
    }
}
