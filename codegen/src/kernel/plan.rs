//! The execution plan of one call: which instructions are live (reach the output), how
//! often each must be evaluated (once per block, once per row, or per tile: what does not
//! vary along the row is hoisted), and where each value lives during a tile (a scalar, a
//! pooled scratch slot reused once the value is dead, an input row borrowed in place, an
//! input's staged band, or the output block itself).

use kiln_ir::{DType, Inst, Kernel, Scalar, ValueId};

use crate::kernel::load::InputGeom;
use crate::kernel::walk::{Space, Tiling};

/// How often a value changes over the block.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Level {
    /// The same everywhere: evaluated once.
    Const,
    /// Varies with the row but not along it: evaluated once per row (unless rows are packed).
    Row,
    /// Varies along the row: evaluated per tile.
    Elem,
}

/// Where a value lives while a tile is evaluated.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(super) enum Loc {
    /// Not needed for the output: never evaluated.
    Dead,
    /// One value for the whole tile.
    Scalar,
    /// Scratch slot `k`, one value per tile position.
    Slot(usize),
    /// Its input's elements, borrowed in place where the tile's rows lie contiguously in
    /// the input (always, when rows are not packed); otherwise gathered into the slot.
    Input(Option<usize>),
    /// Input `k`'s rows of the band, staged (see `stage`), borrowed from the stage buffer.
    Staged(usize),
    /// Written straight into the output block (the output of a `Map`).
    Out,
}

/// The plan of one call.
#[derive(Clone, Debug)]
pub(super) struct Plan {
    /// Dtype of every value.
    pub(super) dtypes: Vec<DType>,
    /// Location of every value.
    pub(super) locs: Vec<Loc>,
    /// Dtype of every scratch slot.
    pub(super) slots: Vec<DType>,
    /// Live instructions evaluated once per call, in order.
    pub(super) once: Vec<usize>,
    /// Live instructions evaluated once per row (as scalars), in order.
    pub(super) per_row: Vec<usize>,
    /// Live instructions evaluated per tile, in order.
    pub(super) per_tile: Vec<usize>,
    /// For `pow` instructions whose exponent is a `Const`, that constant.
    pub(super) const_exponent: Vec<Option<Scalar>>,
    /// The inputs whose bands are staged (a live per-tile load reads them), in order.
    pub(super) staged_inputs: Vec<usize>,
}

/// The values instruction `inst` reads.
pub(crate) fn operands(inst: &Inst) -> Vec<ValueId> {
    match inst {
        Inst::Unary(_, a) | Inst::Cast(_, a) => vec![*a],
        Inst::Binary(_, a, b) => vec![*a, *b],
        Inst::Where(c, a, b) => vec![*c, *a, *b],
        _ => Vec::new(),
    }
}

/// The flat index in `base` of a random source as an affine function of the global
/// iteration position: `(offset, strides)` with `strides[a]` the step along iteration axis
/// `a` (source axis `j` on axis `a` moves `step[j] * (C-order stride of base axis j)`, and a
/// source axis on no iteration axis stays at `start[j]`). Wrapping arithmetic, like the
/// reference's `as u64` of the index.
pub(crate) fn random_affine(
    base: &[u64],
    start: &[i64],
    step: &[i64],
    axes: &[Option<u32>],
    ndim: usize,
) -> (i64, Vec<i64>) {
    let mut base_strides = vec![1i64; base.len()];
    for j in (0..base.len().saturating_sub(1)).rev() {
        base_strides[j] = base_strides[j + 1].wrapping_mul(base[j + 1] as i64);
    }
    let offset = start.iter().zip(&base_strides).fold(0i64, |acc, (&s, &b)| acc.wrapping_add(s.wrapping_mul(b)));
    let mut strides = vec![0i64; ndim.max(1)];
    for ((&s, &b), a) in step.iter().zip(&base_strides).zip(axes) {
        if let Some(a) = a
            && let Some(slot) = strides.get_mut(*a as usize)
        {
            *slot = s.wrapping_mul(b);
        }
    }
    (offset, strides)
}

/// How often each value of `kernel` changes over `space`, with inputs placed by `geoms`.
pub(super) fn levels(kernel: &Kernel, geoms: &[InputGeom], space: &Space) -> Vec<Level> {
    let last = space.last();
    let varies = |a: usize, stride: i64| stride != 0 && space.lens[a] > 1;
    let level_of_strides = |strides: &[i64]| {
        if varies(last, strides[last]) {
            Level::Elem
        } else if (0..last).any(|a| varies(a, strides[a])) {
            Level::Row
        } else {
            Level::Const
        }
    };
    let mut levels = Vec::with_capacity(kernel.body.len());
    for inst in &kernel.body {
        let level = match inst {
            Inst::Load(k) => geoms.get(*k as usize).map_or(Level::Const, |g| level_of_strides(&g.strides)),
            Inst::Const(_) => Level::Const,
            Inst::Random { base, start, step, axes, .. } => {
                level_of_strides(&random_affine(base, start, step, axes, kernel.ndim as usize).1)
            }
            Inst::Arange { axis, .. } | Inst::Linspace { axis, .. } => {
                let a = *axis as usize;
                if space.lens[a] <= 1 {
                    Level::Const
                } else if a == last {
                    Level::Elem
                } else {
                    Level::Row
                }
            }
            other => operands(other).iter().map(|v| levels[v.idx()]).max().unwrap_or(Level::Const),
        };
        levels.push(level);
    }
    levels
}

impl Plan {
    /// Plans `kernel` (verified, with value dtypes `dtypes`) whose result is `output`, over
    /// `space` with inputs placed by `geoms`. For a `Map` (`is_map`) the output value is
    /// written straight into the output block when it is computed per tile. Loads of the
    /// inputs marked in `staged` read their band's stage buffer.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn new(
        kernel: &Kernel,
        dtypes: Vec<DType>,
        output: ValueId,
        is_map: bool,
        geoms: &[InputGeom],
        space: &Space,
        tiling: Tiling,
        staged: &[bool],
    ) -> Plan {
        let n = kernel.body.len();
        let last = space.last();
        let levels = levels(kernel, geoms, space);

        // Liveness, backwards from the output; the last use of every live value.
        let mut live = vec![false; n];
        let mut last_use = vec![0usize; n];
        live[output.idx()] = true;
        last_use[output.idx()] = n;
        for i in (0..n).rev() {
            if live[i] {
                for v in operands(&kernel.body[i]) {
                    live[v.idx()] = true;
                    last_use[v.idx()] = last_use[v.idx()].max(i);
                }
            }
        }

        let scalar = |l: Level| l == Level::Const || (l == Level::Row && !tiling.packed());
        let mut locs = vec![Loc::Dead; n];
        let mut slots: Vec<DType> = Vec::new();
        let mut free: Vec<usize> = Vec::new();
        let (mut once, mut per_row, mut per_tile) = (Vec::new(), Vec::new(), Vec::new());
        let mut staged_inputs: Vec<usize> = Vec::new();
        for i in 0..n {
            if !live[i] {
                continue;
            }
            let level = levels[i];
            if scalar(level) {
                locs[i] = Loc::Scalar;
                if level == Level::Const {
                    once.push(i)
                } else {
                    per_row.push(i)
                }
                continue;
            }
            per_tile.push(i);
            if let Inst::Load(k) = kernel.body[i]
                && staged.get(k as usize).copied().unwrap_or(false)
            {
                locs[i] = Loc::Staged(k as usize);
                if !staged_inputs.contains(&(k as usize)) {
                    staged_inputs.push(k as usize);
                }
                continue;
            }
            let unit_stride_load = match &kernel.body[i] {
                Inst::Load(k) => geoms.get(*k as usize).is_some_and(|g| g.strides[last] == 1),
                _ => false,
            };
            locs[i] = if unit_stride_load && !tiling.packed() {
                Loc::Input(None)
            } else if is_map && i == output.idx() {
                Loc::Out
            } else {
                let d = dtypes[i];
                let k = match free.iter().position(|&k| slots[k] == d) {
                    Some(p) => free.swap_remove(p),
                    None => {
                        slots.push(d);
                        slots.len() - 1
                    }
                };
                if unit_stride_load { Loc::Input(Some(k)) } else { Loc::Slot(k) }
            };
            // Operands whose last use this is give their slots back (after the result took
            // its own, so an instruction never writes over what it reads).
            for v in operands(&kernel.body[i]) {
                if last_use[v.idx()] == i
                    && let Loc::Slot(k) | Loc::Input(Some(k)) = locs[v.idx()]
                    && !free.contains(&k)
                {
                    free.push(k);
                }
            }
        }
        let const_exponent = const_exponents(kernel);
        Plan { dtypes, locs, slots, once, per_row, per_tile, const_exponent, staged_inputs }
    }
}

/// Per instruction, the exponent of a `pow` whose exponent is a constant (`x ** 2` and
/// friends get a cheaper evaluation); `None` elsewhere.
pub(crate) fn const_exponents(kernel: &Kernel) -> Vec<Option<Scalar>> {
    kernel
        .body
        .iter()
        .map(|inst| match inst {
            Inst::Binary(kiln_ir::BinaryOp::Pow, _, b) => match kernel.body.get(b.idx()) {
                Some(Inst::Const(s)) => Some(*s),
                _ => None,
            },
            _ => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use kiln_ir::{BinaryOp, KernelInput, KernelOutput, UnaryOp};

    /// `((x + 1) * c) - sin(r)` over a 2-d space: `x` varies along rows, `c` is a column.
    fn kernel() -> Kernel {
        let v = ValueId;
        Kernel {
            ndim: 2,
            inputs: vec![
                KernelInput { dtype: DType::F64, axes: vec![0, 1] },
                KernelInput { dtype: DType::F64, axes: vec![0] },
            ],
            body: vec![
                Inst::Load(0),
                Inst::Const(Scalar::F64(1.0)),
                Inst::Binary(BinaryOp::Add, v(0), v(1)),
                Inst::Load(1),
                Inst::Binary(BinaryOp::Mul, v(2), v(3)),
                Inst::Unary(UnaryOp::Cos, v(3)),
                Inst::Unary(UnaryOp::Sin, v(3)),
                Inst::Binary(BinaryOp::Sub, v(4), v(6)),
            ],
            output: KernelOutput::Map(v(7)),
        }
    }

    #[test]
    fn hoists_and_reuses_slots() {
        let k = kernel();
        let dtypes = k.dtypes().unwrap();
        let space = Space { lens: vec![4, 2000], starts: vec![0, 0] };
        let geoms = [InputGeom { strides: vec![2000, 1] }, InputGeom { strides: vec![1, 0] }];
        let plan = Plan::new(&k, dtypes.clone(), ValueId(7), true, &geoms, &space, Tiling::new(2000), &[false; 2]);
        use Level::*;
        assert_eq!(levels(&k, &geoms, &space), vec![Elem, Const, Elem, Row, Elem, Row, Row, Elem]);
        use Loc::*;
        assert_eq!(plan.locs, vec![Input(None), Scalar, Slot(0), Scalar, Slot(1), Dead, Scalar, Out]);
        assert_eq!(
            (plan.once.clone(), plan.per_row.clone(), plan.per_tile.clone()),
            (vec![1], vec![3, 6], vec![0, 2, 4, 7])
        );
        assert_eq!(plan.slots, vec![DType::F64, DType::F64]);

        // Packed short rows: per-row values become tile vectors, loads are gathered.
        let space = Space { lens: vec![400, 3], starts: vec![0, 0] };
        let geoms = [InputGeom { strides: vec![3, 1] }, InputGeom { strides: vec![1, 0] }];
        let plan = Plan::new(&k, dtypes, ValueId(7), false, &geoms, &space, Tiling::new(3), &[false; 2]);
        assert_eq!(plan.locs, vec![Input(Some(0)), Scalar, Slot(1), Slot(0), Slot(2), Dead, Slot(1), Slot(0)]);
        assert!(plan.per_row.is_empty());
    }

    #[test]
    fn staged_loads_read_their_band() {
        // Input 0 read transposed and staged; the map's output is computed into a slot
        // as before, and a kernel whose output is the staged load itself reads the band.
        let k = kernel();
        let dtypes = k.dtypes().unwrap();
        let space = Space { lens: vec![64, 2000], starts: vec![0, 0] };
        let geoms = [InputGeom { strides: vec![1, 64] }, InputGeom { strides: vec![1, 0] }];
        let plan = Plan::new(&k, dtypes.clone(), ValueId(7), true, &geoms, &space, Tiling::new(2000), &[true, false]);
        use Loc::*;
        assert_eq!(plan.locs, vec![Staged(0), Scalar, Slot(0), Scalar, Slot(1), Dead, Scalar, Out]);
        assert_eq!(plan.staged_inputs, vec![0]);
        let plan = Plan::new(&k, dtypes.clone(), ValueId(0), true, &geoms, &space, Tiling::new(2000), &[true, false]);
        assert_eq!((plan.locs[0], plan.staged_inputs.clone()), (Staged(0), vec![0]));
        // A dead load stages nothing.
        let plan = Plan::new(&k, dtypes, ValueId(6), true, &geoms, &space, Tiling::new(2000), &[true, false]);
        assert!(plan.staged_inputs.is_empty());
    }

    #[test]
    fn random_flat_index_steps() {
        // Source axes (3, 5, 7): axis 0 on iteration axis 1 stepping 2, axis 2 on axis 0.
        let (offset, strides) = random_affine(&[3, 5, 7], &[1, 4, 6], &[2, 1, -1], &[Some(1), None, Some(0)], 2);
        assert_eq!((offset, strides), (35 + 4 * 7 + 6, vec![-1, 70]));
    }
}
