//! `Store`: the values of one run, from the moment a task's value is computed until its last
//! reader has read it, counted against the run's memory budget. Each value sits in its own
//! slot (its own lock), in memory or, under memory pressure, in a spill file.
//!
//! Spilling: when the bytes held (stored values plus what running tasks are estimated to
//! hold: their outputs, and a block's staging buffer for `.npy` reads and writes)
//! pass the budget's spill threshold, the thread that stored a value spills the values
//! needed latest — a value's next use is its next reader's task id, and ids are priorities —
//! until the bytes held are back under the lower mark (over the pause threshold, every
//! thread storing a value spills, so computing cannot outrun the disk). It writes a value while the value
//! stays readable in its slot, and only then swaps the slot to the file, so readers never
//! wait on the disk write. A spilled value is read back by each of its readers; the file goes
//! when the last one has read it, and the run's spill folder goes with the store.
//!
//! A block of a source that is cheaper to read again than to spill (a `.npy` file's block,
//! a view of the user's array, generated values) is not written out: it is dropped, and each
//! later reader runs its task again (`Held::Rerun`).

use std::collections::BTreeSet;

use kiln_ir::{Op, TaskGraph, TaskId, Value};

use crate::error::{Error, Result};
use crate::loom::{Arc, AtomicBool, AtomicUsize, Mutex, Ordering, lock};
use crate::memory::MemoryBudget;
use crate::memory::spill::{SpillDir, SpillFile};
use crate::plan;
use crate::stats::MemoryMeter;

/// The values of one run.
pub(crate) struct Store {
    /// CSR offsets into `dependents`, one more than tasks.
    dependents_offsets: Vec<u32>,
    /// For each task, the tasks that read it, in increasing id order (a task reading a value
    /// twice is listed twice).
    dependents: Vec<TaskId>,
    slots: Box<[Mutex<Slot>]>,
    meter: MemoryMeter,
    spill: Option<Spiller>,
}

/// A task's value and the reads of it still to come.
struct Slot {
    held: Held,
    /// Reads still to come: dependents' reads plus one for the end of the run if the task is
    /// an output.
    consumers: u32,
    /// Dependents' reads made so far (the next reader is `dependents[reads]`).
    reads: u32,
}

/// Where a value is.
enum Held {
    /// Not computed yet, or released.
    Empty,
    /// In memory.
    Memory(Value),
    /// In a spill file.
    Disk(Arc<SpillFile>),
    /// Dropped: its task (a source's block) runs again for each reader.
    Rerun,
}

/// What spills a run's values, when it has a memory budget.
struct Spiller {
    budget: MemoryBudget,
    dir: SpillDir,
    /// Values that may be spilled, as (the id of the task that reads them next, their task):
    /// the last entry is needed latest. Entries of values already released are skipped.
    candidates: Mutex<BTreeSet<(u32, u32)>>,
    /// Set while a thread spills (one at a time; the others go on computing).
    busy: AtomicBool,
    spilled_values: AtomicUsize,
    spilled_bytes: AtomicUsize,
    dropped_values: AtomicUsize,
    /// Per graph node, whether its blocks are dropped rather than spilled (see
    /// [`rerunnable`]).
    node_rerun: Vec<bool>,
    /// Per graph node, the bytes of its largest block (what a running task is assumed to make).
    node_bytes: Vec<usize>,
}

/// A value read for a task, and whether the reader must count its bytes as released once
/// the task is done (it was the last read of a stored value, or a copy read back from disk).
pub(crate) struct Read {
    pub(crate) value: Value,
    pub(crate) release: bool,
}

impl Store {
    /// An empty store for `graph`'s values under `budget`. Fails when the results alone need
    /// more than the budget's limit.
    /// The bytes a run of `graph` allocates per task for its bookkeeping, on top of the graph
    /// itself and the values: a slot, the dependents list (CSR) and, on the threaded
    /// scheduler, a dependency counter.
    pub(crate) fn bytes_per_run(graph: &TaskGraph) -> usize {
        let edges: usize = (0..graph.len()).map(|i| graph.deps(TaskId(i as u32)).len()).sum();
        graph.len() * (std::mem::size_of::<Mutex<Slot>>() + 2 * std::mem::size_of::<u32>())
            + edges * std::mem::size_of::<TaskId>()
    }

    pub(crate) fn new(graph: &TaskGraph, budget: Option<&MemoryBudget>) -> Result<Store> {
        if let Some(b) = budget {
            let mut outputs: Vec<TaskId> = graph.outputs().iter().flat_map(|o| o.tasks.iter().copied()).collect();
            outputs.sort_unstable();
            outputs.dedup();
            let needed: usize = outputs.iter().map(|&id| graph.task_nbytes(id)).sum();
            if needed > b.limit {
                return Err(Error::MemoryLimit { needed, limit: b.limit });
            }
        }
        let (dependents_offsets, dependents) = graph.dependents();
        let slots = plan::consumer_counts(graph)
            .into_iter()
            .map(|consumers| Mutex::new(Slot { held: Held::Empty, consumers, reads: 0 }))
            .collect();
        let spill = budget.map(|b| Spiller {
            budget: b.clone(),
            dir: SpillDir::new(b.spill_dir.as_deref()),
            candidates: Mutex::new(BTreeSet::new()),
            busy: AtomicBool::new(false),
            spilled_values: AtomicUsize::new(0),
            spilled_bytes: AtomicUsize::new(0),
            dropped_values: AtomicUsize::new(0),
            node_rerun: graph.nodes().iter().map(|n| rerunnable(n.expr.op())).collect(),
            node_bytes: graph.nodes().iter().map(|n| running_bytes(&n.expr)).collect(),
        });
        Ok(Store { dependents_offsets, dependents, slots, meter: MemoryMeter::default(), spill })
    }

    /// The tasks that read task `id`'s value, in increasing id order.
    pub(crate) fn dependents(&self, id: TaskId) -> &[TaskId] {
        &self.dependents[self.dependents_offsets[id.idx()] as usize..self.dependents_offsets[id.idx() + 1] as usize]
    }

    /// The meter of the bytes held.
    pub(crate) fn meter(&self) -> &MemoryMeter {
        &self.meter
    }

    /// Whether the bytes held are above the budget's pause threshold: then the run starts
    /// one task at a time until spilling or finishing tasks brings them down.
    pub(crate) fn paused(&self) -> bool {
        self.spill.as_ref().is_some_and(|s| self.meter.load() > s.budget.pause_above())
    }

    /// Values spilled so far, their bytes, and source blocks dropped to be read again.
    pub(crate) fn spilled(&self) -> (usize, usize, usize) {
        self.spill.as_ref().map_or((0, 0, 0), |s| {
            let load = |a: &AtomicUsize| a.load(Ordering::Relaxed);
            (load(&s.spilled_values), load(&s.spilled_bytes), load(&s.dropped_values))
        })
    }

    /// The estimated bytes of task `id`'s output, counted while it runs: its node's largest
    /// block (0 without a budget, which then needs no estimate).
    pub(crate) fn running_estimate(&self, graph: &TaskGraph, id: TaskId) -> usize {
        self.spill.as_ref().map_or(0, |s| s.node_bytes[graph.task(id).node.0 as usize])
    }

    /// Keeps task `id`'s value for its readers; drops it at once where it has none or
    /// `discard` is set (checked under the slot's lock, so `release_all` cannot miss it).
    /// Then spills if the bytes held call for it.
    pub(crate) fn put(&self, graph: &TaskGraph, id: TaskId, value: Value, discard: &AtomicBool) -> Result<()> {
        let mut slot = lock(&self.slots[id.idx()]);
        if slot.consumers == 0 || discard.load(Ordering::SeqCst) {
            drop(slot);
            drop(value);
            return Ok(());
        }
        self.meter.hold(value.nbytes());
        let candidate = value.spill_codec().is_some().then(|| self.next_use(id, slot.reads));
        slot.held = Held::Memory(value);
        drop(slot);
        if let (Some(spill), Some(next)) = (&self.spill, candidate) {
            lock(&spill.candidates).insert((next, id.0));
            self.spill_if_needed(graph, spill)?;
        }
        Ok(())
    }

    /// Reads task `dep`'s value for task `reader`. The last read moves it out of its slot,
    /// so the reader then holds the only reference; a spilled value is read back from disk,
    /// a dropped one computed again by `rerun`.
    pub(crate) fn read(
        &self,
        graph: &TaskGraph,
        reader: TaskId,
        dep: TaskId,
        rerun: impl FnOnce(TaskId) -> Result<Value>,
    ) -> Result<Read> {
        let mut slot = lock(&self.slots[dep.idx()]);
        slot.consumers = slot.consumers.saturating_sub(1);
        let last = slot.consumers == 0;
        let before = slot.reads;
        slot.reads += 1;
        let found = if last {
            std::mem::replace(&mut slot.held, Held::Empty)
        } else {
            match &slot.held {
                Held::Empty => Held::Empty,
                Held::Memory(v) => Held::Memory(v.clone()),
                Held::Disk(f) => Held::Disk(f.clone()),
                Held::Rerun => Held::Rerun,
            }
        };
        drop(slot);
        if let (Some(spill), Held::Memory(v)) = (&self.spill, &found)
            && v.spill_codec().is_some()
        {
            let mut candidates = lock(&spill.candidates);
            candidates.remove(&(self.next_use(dep, before), dep.0));
            if !last {
                candidates.insert((self.next_use(dep, before + 1), dep.0));
            }
        }
        match found {
            Held::Empty => Err(crate::sync::missing_input(graph, reader, dep)),
            Held::Memory(value) => Ok(Read { value, release: last }),
            Held::Disk(file) => {
                let value = file.read()?;
                self.meter.hold(value.nbytes());
                Ok(Read { value, release: true })
            }
            Held::Rerun => {
                let value = rerun(dep)?;
                self.meter.hold(value.nbytes());
                Ok(Read { value, release: true })
            }
        }
    }

    /// Brings spilled or dropped output values back into memory, before the run hands them
    /// out.
    pub(crate) fn load_outputs(&self, graph: &TaskGraph, rerun: impl Fn(TaskId) -> Result<Value>) -> Result<()> {
        for &id in graph.outputs().iter().flat_map(|o| &o.tasks) {
            let file = match &lock(&self.slots[id.idx()]).held {
                Held::Disk(f) => Some(f.clone()),
                Held::Rerun => None,
                _ => continue,
            };
            let value = match file {
                Some(file) => file.read()?,
                None => rerun(id)?,
            };
            self.meter.hold(value.nbytes());
            lock(&self.slots[id.idx()]).held = Held::Memory(value);
        }
        Ok(())
    }

    /// A copy of task `id`'s value in memory, if it has one (for the run's outputs).
    pub(crate) fn get(&self, id: TaskId) -> Option<Value> {
        match &lock(&self.slots[id.idx()]).held {
            Held::Memory(v) => Some(v.clone()),
            _ => None,
        }
    }

    /// Drops task `id`'s value, wherever it is.
    pub(crate) fn release(&self, id: TaskId) {
        let held = std::mem::replace(&mut lock(&self.slots[id.idx()]).held, Held::Empty);
        if let Held::Memory(v) = held {
            self.meter.release(1, v.nbytes());
        }
    }

    /// Drops every value and the spill folder (at the end of a run; after a failure, with the
    /// discard flag set so that no value is stored after its slot is emptied here).
    pub(crate) fn release_all(&self) {
        for i in 0..self.slots.len() {
            self.release(TaskId(i as u32));
        }
        if let Some(spill) = &self.spill {
            spill.dir.close();
        }
    }

    /// The id of the task that reads task `id`'s value after `reads` reads (`u32::MAX` when
    /// only the end of the run reads it).
    fn next_use(&self, id: TaskId, reads: u32) -> u32 {
        self.dependents(id).get(reads as usize).map_or(u32::MAX, |t| t.0)
    }

    /// Spills the values needed latest while the bytes held are over the spill threshold,
    /// unless another thread is spilling already. Over the pause threshold every thread that
    /// stores a value spills too: the threads computing cannot outrun the disk.
    fn spill_if_needed(&self, graph: &TaskGraph, spill: &Spiller) -> Result<()> {
        let load = self.meter.load();
        if load <= spill.budget.spill_above() {
            return Ok(());
        }
        if load > spill.budget.pause_above() {
            return self.spill_down(graph, spill);
        }
        if spill.busy.swap(true, Ordering::AcqRel) {
            return Ok(());
        }
        let res = self.spill_down(graph, spill);
        spill.busy.store(false, Ordering::Release);
        res
    }

    /// Drops task `id`'s value, to be computed again by each later reader, if it is still in
    /// memory.
    fn drop_for_rerun(&self, id: TaskId, spill: &Spiller) {
        let mut slot = lock(&self.slots[id.idx()]);
        if let Held::Memory(v) = &slot.held {
            let nbytes = v.nbytes();
            slot.held = Held::Rerun;
            drop(slot);
            self.meter.release(1, nbytes);
            spill.dropped_values.fetch_add(1, Ordering::Relaxed);
        }
    }

    fn spill_down(&self, graph: &TaskGraph, spill: &Spiller) -> Result<()> {
        while self.meter.load() > spill.budget.spill_down_to() {
            let Some((_, t)) = lock(&spill.candidates).pop_last() else { return Ok(()) };
            let id = TaskId(t);
            if spill.node_rerun[graph.task(id).node.0 as usize] && graph.deps(id).is_empty() {
                self.drop_for_rerun(id, spill);
                continue;
            }
            let value = match &lock(&self.slots[id.idx()]).held {
                Held::Memory(v) => v.clone(),
                _ => continue,
            };
            let Some(file) = spill.dir.write(graph, id, &value)? else { continue };
            let mut slot = lock(&self.slots[id.idx()]);
            // Still there (a value leaves its slot only at its last read): swap it for the
            // file. Otherwise the file is dropped, and with it removed.
            if matches!(slot.held, Held::Memory(_)) {
                slot.held = Held::Disk(Arc::new(file));
                drop(slot);
                self.meter.release(1, value.nbytes());
                spill.spilled_values.fetch_add(1, Ordering::Relaxed);
                spill.spilled_bytes.fetch_add(value.nbytes(), Ordering::Relaxed);
            }
        }
        Ok(())
    }
}

/// Whether blocks of `op` are cheaper to make again than to spill: reads of a `.npy` file
/// (one positioned read, no write), views of the user's array (free: dropping one frees
/// nothing but its count) and generated values. `full` is left out: runtimes' placeholder
/// nodes use it for tasks that are not array blocks.
/// What a running task of node `e` is assumed to hold: its largest block, and for `.npy`
/// reads and writes also the staging buffer of a block's raw bytes (byte-swapped, Fortran
/// order, bool or strided blocks go through it).
fn running_bytes(e: &kiln_ir::Expr) -> usize {
    let block = |x: &kiln_ir::Expr| x.chunks().max_block_shape().iter().product::<usize>() * x.dtype().size();
    match e.op() {
        Op::FromNpy(_) => 2 * block(e),
        Op::StoreNpy(_) => e.inputs().first().map_or(0, block) + block(e),
        _ => block(e),
    }
}

fn rerunnable(op: &Op) -> bool {
    matches!(op, Op::FromNpy(_) | Op::FromArray(_) | Op::Random { .. } | Op::Arange { .. } | Op::Linspace { .. })
}

#[cfg(test)]
mod tests {
    use super::*;
    use kiln_ir::Chunk;

    fn chunk_value(n: usize) -> Value {
        Value::chunk(Chunk::new(ndarray::ArrayD::from_elem(ndarray::IxDyn(&[n]), 1.0f64)))
    }

    #[test]
    fn values_needed_latest_spill_first_and_read_back() {
        // Tasks 0..8 are all read by task 8 (their sum): under a budget of five values,
        // spilling keeps the bytes held under the threshold, taking the highest ids first.
        let graph = crate::synthetic::wide(8, 8);
        let budget = MemoryBudget::new(5 * 800).with_spill_dir(std::env::temp_dir());
        let store = Store::new(&graph, Some(&budget)).unwrap();
        let keep = AtomicBool::new(false);
        for i in 0..8 {
            store.put(&graph, TaskId(i), chunk_value(100), &keep).unwrap();
            assert!(store.meter().load() <= budget.spill_above(), "held {} after {i}", store.meter().load());
        }
        let (spilled, bytes, _) = store.spilled();
        assert!(spilled >= 3 && bytes == spilled * 800, "{spilled} {bytes}");
        let folder = store.spill.as_ref().unwrap().dir.path().unwrap();
        assert!(folder.exists());
        for i in 0..8 {
            let read =
                store.read(&graph, TaskId(8), TaskId(i), |_| Err(Error::internal("nothing is dropped"))).unwrap();
            assert!(read.release);
            assert_eq!(read.value.as_chunk().unwrap().len(), 100);
            store.meter().release(1, read.value.nbytes());
        }
        assert_eq!(store.meter().held(), (0, 0));
        drop(store);
        assert!(!folder.exists(), "the spill folder goes with the store");
    }

    #[test]
    fn results_larger_than_the_budget_are_refused() {
        let graph = crate::synthetic::wide(4, 2);
        let err = Store::new(&graph, Some(&MemoryBudget::new(1))).err().unwrap();
        assert!(matches!(err, Error::MemoryLimit { limit: 1, .. }), "{err}");
        assert!(err.to_string().contains("memory budget is 1 B"), "{err}");
    }
}
