//! The tile driver: prepares a call (checks the inputs, plans the body, picks the inputs to
//! stage, sets up the row trackers), then walks the block band by band (staging inputs read
//! across their layout) and tile by tile, evaluating every live instruction into its
//! location and handing the result to the sink (the output block or a reduction).

use std::ops::Range;

use kiln_ir::{Chunk, DType, Inst, Kernel, ValueId};

use crate::error::{Error, Result};
use crate::kernel::eval::{self, out};
use crate::kernel::load::{InputGeom, contiguous, gather, input_geom};
use crate::kernel::plan::{Loc, Plan, random_affine};
use crate::kernel::reduce::Reducer;
use crate::kernel::sources::{Arange, Linspace, RandomGen, fill_const};
use crate::kernel::stage::{Staging, gather_band};
use crate::kernel::tile::{AnySrc, Buf, Elem, Src, map1};
use crate::kernel::walk::{Rows, Space, Span, TileRows, Tiling, Trackers};
use crate::random::RandomStream;
use crate::reference::num::with_dtype;

/// What a source instruction needs at run time.
#[derive(Copy, Clone, Debug)]
enum Prepared {
    /// Nothing (not a position-dependent source, or dead).
    Nothing,
    /// A random source and the tracker of its flat index.
    Random { random: RandomGen, tracker: usize },
    /// An `arange`.
    Arange(Arange),
    /// A `linspace`.
    Linspace(Linspace),
}

/// Where the result of each tile goes.
#[derive(Debug)]
pub(super) enum Sink {
    /// The output block, grown tile by tile in C order.
    Map(Buf),
    /// A reduction's accumulators.
    Reduce(Reducer),
}

/// Everything about a call that does not change from tile to tile.
pub(super) struct Ctx<'a> {
    kernel: &'a Kernel,
    inputs: &'a [&'a Chunk],
    /// The plan.
    pub(super) plan: Plan,
    /// The block walked.
    pub(super) space: Space,
    tiling: Tiling,
    staging: Staging,
    /// The row trackers (a reduction adds its own before the walk).
    pub(super) trackers: Trackers,
    geoms: Vec<InputGeom>,
    input_trackers: Vec<usize>,
    prepared: Vec<Prepared>,
    output: ValueId,
}

/// The scratch of a call: scalars (hoisted values), pooled tile slots, which loads are
/// borrowed in place in the current tile, and per input its staged band (empty when not
/// staged) with the band's row starts in it.
struct Scratch {
    scalars: Vec<Buf>,
    slots: Vec<Buf>,
    borrowed: Vec<bool>,
    stages: Vec<Buf>,
    band_starts: Vec<i64>,
}

impl<'a> Ctx<'a> {
    /// Checks `kernel` and its `inputs` for the block at `region`, and plans the call whose
    /// result is `output` (written to an output block when `is_map`).
    pub(super) fn new(
        kernel: &'a Kernel,
        inputs: &'a [&'a Chunk],
        region: &[Range<usize>],
        output: ValueId,
        is_map: bool,
    ) -> Result<Ctx<'a>> {
        let invalid = |e: kiln_ir::Error| match e {
            kiln_ir::Error::Internal(m) => Error::Internal(format!("kernel: {m}")),
            other => Error::Internal(format!("kernel: {other}")),
        };
        kernel.verify().map_err(invalid)?;
        let dtypes = kernel.dtypes().map_err(invalid)?;
        if inputs.len() != kernel.inputs.len() {
            return Err(Error::Internal(format!(
                "kernel: {} input blocks for {} inputs",
                inputs.len(),
                kernel.inputs.len()
            )));
        }
        if region.len() != kernel.ndim as usize || region.iter().any(|r| r.start > r.end) {
            return Err(Error::Internal(format!("kernel: block region {region:?} for a {}-d kernel", kernel.ndim)));
        }
        let space = Space::new(region);
        let geoms = kernel
            .inputs
            .iter()
            .zip(inputs)
            .enumerate()
            .map(|(n, (spec, chunk))| input_geom(n, spec, chunk, &space.lens))
            .collect::<Result<Vec<_>>>()?;
        let tiling = Tiling::new(space.row_len());
        let sizes: Vec<usize> = kernel.inputs.iter().map(|spec| spec.dtype.size()).collect();
        let staging = Staging::new(&geoms, &sizes, &space, tiling);
        let plan = Plan::new(kernel, dtypes, output, is_map, &geoms, &space, tiling, &staging.inputs);
        let last = space.last();
        let mut trackers = Trackers::new(last);
        let input_trackers = geoms.iter().map(|g| trackers.add(0, &g.strides)).collect();
        let mut prepared = vec![Prepared::Nothing; kernel.body.len()];
        for (i, inst) in kernel.body.iter().enumerate() {
            if plan.locs[i] == Loc::Dead {
                continue;
            }
            prepared[i] = match inst {
                Inst::Random { dist, seed, base, start, step, axes } => {
                    let (offset, strides) = random_affine(base, start, step, axes, kernel.ndim as usize);
                    let init = space
                        .starts
                        .iter()
                        .zip(&strides)
                        .fold(offset, |acc, (&s, &d)| acc.wrapping_add((s as i64).wrapping_mul(d)));
                    let random = RandomGen { dist: *dist, stream: RandomStream::new(*seed), step: strides[last] };
                    Prepared::Random { random, tracker: trackers.add(init, &strides) }
                }
                Inst::Arange { start, step, .. } => Prepared::Arange(Arange::new(*start, *step)?),
                Inst::Linspace { start, stop, num, endpoint, .. } => {
                    Prepared::Linspace(Linspace::new(start.0, stop.0, *num, *endpoint))
                }
                _ => Prepared::Nothing,
            };
        }
        Ok(Ctx { kernel, inputs, plan, space, tiling, staging, trackers, geoms, input_trackers, prepared, output })
    }

    /// Walks the block, band by band and tile by tile, into `sink`.
    pub(super) fn run(&self, sink: &mut Sink) -> Result<()> {
        if self.space.is_empty() {
            return Ok(());
        }
        let row_len = self.space.row_len();
        let per_tile = self.tiling.rows_per_tile;
        let band_rows = self.staging.band_rows;
        let cap = per_tile.min(self.space.n_rows()) * self.tiling.seg_len;
        let band_cap = band_rows.min(self.space.n_rows()) * row_len;
        let mut stages = vec![Buf::default(); self.inputs.len()];
        for &k in &self.plan.staged_inputs {
            stages[k] = Buf::zeros(self.kernel.inputs[k].dtype, band_cap);
        }
        let mut scratch = Scratch {
            scalars: self
                .plan
                .locs
                .iter()
                .zip(&self.plan.dtypes)
                .map(|(&loc, &d)| if loc == Loc::Scalar { Buf::zeros(d, 1) } else { Buf::default() })
                .collect(),
            slots: self.plan.slots.iter().map(|&d| Buf::zeros(d, cap)).collect(),
            borrowed: vec![false; self.plan.locs.len()],
            stages,
            band_starts: Vec::with_capacity(band_rows),
        };
        let mut rows = Rows::new(&self.space, &self.trackers);
        let mut band = TileRows::default();
        let mut tile = TileRows::default();
        let mut first = true;
        while rows.next_tile(band_rows, &mut band) {
            if first {
                for &i in &self.plan.once {
                    self.eval_scalar(&mut scratch, &band, i)?;
                }
                first = false;
            }
            for &k in &self.plan.staged_inputs {
                self.stage(k, &band, &mut scratch)?;
            }
            if band.n <= per_tile {
                self.run_tile(&mut scratch, &band, sink)?;
                continue;
            }
            for start in (0..band.n).step_by(per_tile) {
                band.sub(start, per_tile, &mut tile);
                self.run_tile(&mut scratch, &tile, sink)?;
            }
        }
        Ok(())
    }

    /// Evaluates one tile, segment by segment, into `sink`.
    fn run_tile(&self, scratch: &mut Scratch, tile: &TileRows, sink: &mut Sink) -> Result<()> {
        let row_len = self.space.row_len();
        let seg_len = self.tiling.seg_len;
        for s in (0..row_len).step_by(seg_len.max(1)) {
            let span = Span { rows: tile.n, s, n: seg_len.min(row_len - s) };
            if s == 0 {
                for &i in &self.plan.per_row {
                    self.eval_scalar(scratch, tile, i)?;
                }
            }
            let flat = tile.first * row_len + s;
            let range = flat..flat + span.len();
            if let Sink::Map(out) = sink {
                out.resize(range.end);
            }
            for &i in &self.plan.per_tile {
                match self.plan.locs[i] {
                    Loc::Slot(k) => self.eval_slot(scratch, tile, span, i, k)?,
                    Loc::Input(slot) => {
                        let Inst::Load(k) = self.kernel.body[i] else {
                            return Err(Error::Internal(format!("kernel: %{i} borrows an input but loads none")));
                        };
                        let borrow = self.rows_contiguous(k as usize, tile, span);
                        scratch.borrowed[i] = borrow;
                        if let (false, Some(k)) = (borrow, slot) {
                            self.eval_slot(scratch, tile, span, i, k)?;
                        }
                    }
                    Loc::Out => {
                        let Sink::Map(out) = sink else {
                            return Err(Error::Internal("kernel: an output block for a reduction".into()));
                        };
                        self.eval(scratch, tile, span, i, out, range.clone())?;
                    }
                    _ => {}
                }
            }
            match sink {
                Sink::Map(out) => {
                    if self.plan.locs[self.output.idx()] != Loc::Out {
                        store(self.src(scratch, tile, span, self.output)?, out, range)?;
                    }
                }
                Sink::Reduce(r) => r.fold(self.src(scratch, tile, span, self.output)?, tile, span)?,
            }
        }
        Ok(())
    }

    /// Copies input `k`'s rows of `band` into its stage buffer, one row after another.
    fn stage(&self, k: usize, band: &TileRows, scratch: &mut Scratch) -> Result<()> {
        let chunk = self.input(k)?;
        let step = self.geoms[k].strides[self.space.last()];
        let t = self.input_trackers[k];
        scratch.band_starts.clear();
        scratch.band_starts.extend((0..band.n).map(|r| band.val(r, t)));
        let (starts, dst) = (&scratch.band_starts, &mut scratch.stages[k]);
        let row_len = self.space.row_len();
        with_dtype!(chunk.dtype(), T => gather_band::<T>(chunk, starts, step, row_len, dst.typed_mut::<T>()?))
    }

    /// Evaluates instruction `i` over `span` into slot `k`.
    fn eval_slot(&self, scratch: &mut Scratch, tile: &TileRows, span: Span, i: usize, k: usize) -> Result<()> {
        let mut dst = std::mem::take(&mut scratch.slots[k]);
        let res = self.eval(scratch, tile, span, i, &mut dst, 0..span.len());
        scratch.slots[k] = dst;
        res
    }

    /// Evaluates hoisted instruction `i` at the tile's first row.
    fn eval_scalar(&self, scratch: &mut Scratch, tile: &TileRows, i: usize) -> Result<()> {
        let mut dst = std::mem::take(&mut scratch.scalars[i]);
        let res = self.eval(scratch, tile, Span::SCALAR, i, &mut dst, 0..1);
        scratch.scalars[i] = dst;
        res
    }

    /// Evaluates instruction `i` over `span` of `tile` into `dst[range]`.
    fn eval(
        &self,
        scratch: &Scratch,
        tile: &TileRows,
        span: Span,
        i: usize,
        dst: &mut Buf,
        range: Range<usize>,
    ) -> Result<()> {
        let src = |v: &ValueId| self.src(scratch, tile, span, *v);
        let n = span.n;
        let row_range = |r: usize| range.start + r * n..range.start + (r + 1) * n;
        match (&self.kernel.body[i], self.prepared[i]) {
            (Inst::Load(k), _) => self.load(*k as usize, tile, span, dst, range),
            (Inst::Const(s), _) => fill_const(*s, dst, range),
            (Inst::Random { .. }, Prepared::Random { random, tracker }) => {
                let o = out::<f64>(dst, range)?;
                for (r, row) in o.chunks_exact_mut(n.max(1)).enumerate() {
                    random.fill(tile.val(r, tracker).wrapping_add((span.s as i64).wrapping_mul(random.step)), row);
                }
                Ok(())
            }
            (Inst::Arange { axis, .. }, Prepared::Arange(a)) => {
                for r in 0..span.rows {
                    let (first, along) = self.position(tile, r, *axis as usize, span);
                    a.fill(first, along, dst, row_range(r))?;
                }
                Ok(())
            }
            (Inst::Linspace { axis, .. }, Prepared::Linspace(l)) => {
                for r in 0..span.rows {
                    let (first, along) = self.position(tile, r, *axis as usize, span);
                    l.fill(first, along, out::<f64>(dst, row_range(r))?);
                }
                Ok(())
            }
            (Inst::Unary(op, a), _) => eval::unary(*op, src(a)?, dst, range),
            (Inst::Binary(op, a, b), _) => eval::binary(*op, src(a)?, src(b)?, self.plan.const_exponent[i], dst, range),
            (Inst::Where(c, a, b), _) => eval::where_(src(c)?, src(a)?, src(b)?, dst, range),
            (Inst::Cast(to, a), _) => eval::cast(*to, src(a)?, dst, range),
            (inst, _) => Err(Error::Internal(format!("kernel: %{i} = {inst:?} was not prepared"))),
        }
    }

    /// The global position of the span's first element of row `r` along `axis`, and
    /// whether positions advance along the span (`axis` is the row axis).
    fn position(&self, tile: &TileRows, r: usize, axis: usize, span: Span) -> (usize, bool) {
        let last = self.space.last();
        if axis == last { (self.space.starts[last] + span.s, true) } else { (tile.pos(r, axis, last), false) }
    }

    /// Reads input `k` over `span` into `dst[range]`.
    fn load(&self, k: usize, tile: &TileRows, span: Span, dst: &mut Buf, range: Range<usize>) -> Result<()> {
        let chunk = self.input(k)?;
        let step = self.geoms[k].strides[self.space.last()];
        let t = self.input_trackers[k];
        let starts = (0..span.rows).map(|r| tile.val(r, t).wrapping_add((span.s as i64).wrapping_mul(step)));
        with_dtype!(chunk.dtype(), T => gather::<T>(chunk, starts, step, span.n, out::<T>(dst, range)?))
    }

    /// Whether input `k` (stride 1 along the row) holds the span's rows one after another,
    /// so the tile can borrow them as one slice.
    fn rows_contiguous(&self, k: usize, tile: &TileRows, span: Span) -> bool {
        let t = self.input_trackers[k];
        let first = tile.val(0, t);
        span.rows == 1
            || (span.s == 0 && (1..span.rows).all(|r| tile.val(r, t) == first.wrapping_add((r * span.n) as i64)))
    }

    fn input(&self, k: usize) -> Result<&'a Chunk> {
        self.inputs.get(k).copied().ok_or_else(|| Error::Internal(format!("kernel: no input {k}")))
    }

    /// Value `v` over `span` of `tile`, wherever it lives.
    fn src<'s>(&'s self, scratch: &'s Scratch, tile: &TileRows, span: Span, v: ValueId) -> Result<AnySrc<'s>> {
        let i = v.idx();
        let d = self.plan.dtypes[i];
        let missing = || Error::Internal(format!("kernel: %{i} is not available in this tile"));
        match self.plan.locs[i] {
            Loc::Scalar => with_dtype!(d, T => {
                let x = *scratch.scalars[i].typed::<T>()?.first().ok_or_else(missing)?;
                Ok(T::any(Src::Splat(x)))
            }),
            Loc::Slot(k) => with_dtype!(d, T => {
                let xs = scratch.slots[k].typed::<T>()?.get(..span.len()).ok_or_else(missing)?;
                Ok(T::any(Src::Slice(xs)))
            }),
            Loc::Input(slot) => {
                if !scratch.borrowed[i] {
                    let k = slot.ok_or_else(missing)?;
                    return with_dtype!(d, T => {
                        let xs = scratch.slots[k].typed::<T>()?.get(..span.len()).ok_or_else(missing)?;
                        Ok(T::any(Src::Slice(xs)))
                    });
                }
                let Inst::Load(k) = self.kernel.body[i] else { return Err(missing()) };
                let chunk = self.input(k as usize)?;
                let start = tile.val(0, self.input_trackers[k as usize]).wrapping_add(span.s as i64);
                with_dtype!(d, T => Ok(T::any(Src::Slice(contiguous::<T>(chunk, start, span.len())?))))
            }
            Loc::Staged(k) => {
                // A tile's rows lie one after another in the stage: one row segment, or
                // (packed) whole rows.
                let start = tile.in_band * self.space.row_len() + span.s;
                with_dtype!(d, T => {
                    let xs = scratch.stages[k].typed::<T>()?.get(start..start + span.len()).ok_or_else(missing)?;
                    Ok(T::any(Src::Slice(xs)))
                })
            }
            Loc::Out | Loc::Dead => Err(missing()),
        }
    }

    /// The dtype of the result value.
    pub(super) fn out_dtype(&self) -> DType {
        self.plan.dtypes[self.output.idx()]
    }
}

/// Copies a tile operand into `dst[range]` (broadcasting a scalar).
fn store(src: AnySrc<'_>, dst: &mut Buf, range: Range<usize>) -> Result<()> {
    fn copy<T: Elem>(s: Src<'_, T>, dst: &mut Buf, range: Range<usize>) -> Result<()> {
        map1(s, out::<T>(dst, range)?, |x| x);
        Ok(())
    }
    match src {
        AnySrc::Bool(s) => copy(s, dst, range),
        AnySrc::I32(s) => copy(s, dst, range),
        AnySrc::I64(s) => copy(s, dst, range),
        AnySrc::F32(s) => copy(s, dst, range),
        AnySrc::F64(s) => copy(s, dst, range),
    }
}
