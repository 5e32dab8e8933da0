//! Figures of a run (`RunStats`) and the meter that tracks the task values a run holds.

use std::time::Duration;

use crate::loom::{AtomicUsize, Ordering};

/// Figures of one run.
#[derive(Clone, Debug, Default)]
pub struct RunStats {
    /// Tasks computed.
    pub tasks_run: usize,
    /// Most task values held at once.
    pub peak_values: usize,
    /// Most bytes of task values held at once.
    pub peak_bytes: usize,
    /// Wall time.
    pub elapsed: Duration,
    /// Most threads that worked on the run at once (the calling thread included).
    pub threads: usize,
    /// Values spilled to disk under the memory budget.
    pub spilled_values: usize,
    /// Bytes of the values spilled.
    pub spilled_bytes: usize,
    /// Source blocks dropped under the memory budget instead of spilled (cheaper to read or
    /// generate again), each computed again by its later readers.
    pub dropped_values: usize,
}

/// Counts the task values a run holds, and their bytes, from the moment a task's value is
/// stored until its last consumer has finished, plus the estimated outputs of running tasks
/// (under a memory budget); remembers the peaks. Shared by the threads of a run, so every
/// figure is an atomic (relaxed: they steer spilling and pausing, which tolerate a moment's
/// lag, and are otherwise statistics).
#[derive(Debug, Default)]
pub(crate) struct MemoryMeter {
    values: AtomicUsize,
    bytes: AtomicUsize,
    running: AtomicUsize,
    peak_values: AtomicUsize,
    peak_bytes: AtomicUsize,
}

impl MemoryMeter {
    /// Counts one more value of `nbytes` bytes.
    pub(crate) fn hold(&self, nbytes: usize) {
        let values = self.values.fetch_add(1, Ordering::Relaxed) + 1;
        let bytes = self.bytes.fetch_add(nbytes, Ordering::Relaxed) + nbytes;
        self.peak_values.fetch_max(values, Ordering::Relaxed);
        self.peak_bytes.fetch_max(bytes, Ordering::Relaxed);
    }

    /// Counts `values` values of `bytes` bytes in all as released.
    pub(crate) fn release(&self, values: usize, bytes: usize) {
        if values > 0 {
            self.values.fetch_sub(values, Ordering::Relaxed);
            self.bytes.fetch_sub(bytes, Ordering::Relaxed);
        }
    }

    /// Counts `nbytes` more of running tasks' (estimated) outputs.
    pub(crate) fn start_task(&self, nbytes: usize) {
        if nbytes > 0 {
            self.running.fetch_add(nbytes, Ordering::Relaxed);
        }
    }

    /// Counts a running task's estimated output as gone (it is stored or dropped).
    pub(crate) fn end_task(&self, nbytes: usize) {
        if nbytes > 0 {
            self.running.fetch_sub(nbytes, Ordering::Relaxed);
        }
    }

    /// Bytes held now: stored values and running tasks' estimated outputs.
    pub(crate) fn load(&self) -> usize {
        self.bytes.load(Ordering::Relaxed) + self.running.load(Ordering::Relaxed)
    }

    /// Values and bytes held now.
    #[cfg(test)]
    pub(crate) fn held(&self) -> (usize, usize) {
        (self.values.load(Ordering::Relaxed), self.bytes.load(Ordering::Relaxed))
    }

    /// Most values and bytes held at once so far.
    pub(crate) fn peaks(&self) -> (usize, usize) {
        (self.peak_values.load(Ordering::Relaxed), self.peak_bytes.load(Ordering::Relaxed))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn peaks_remember_the_most_held() {
        let meter = MemoryMeter::default();
        meter.hold(8);
        meter.hold(16);
        meter.release(1, 8);
        meter.hold(4);
        assert_eq!(meter.held(), (2, 20));
        assert_eq!(meter.peaks(), (2, 24));
        meter.release(2, 20);
        assert_eq!(meter.held(), (0, 0));
    }
}
