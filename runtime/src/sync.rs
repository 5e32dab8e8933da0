//! The `Sync` scheduler: runs every task on the calling thread, smallest id first.
//!
//! Task ids are priorities and dependencies have smaller ids, so the smallest task not yet
//! run is always ready: smallest-ready-first is simply id order, and this scheduler is a
//! loop over the ids with a consumer count per task to release values early.

use std::time::Instant;

use kiln_ir::{TaskGraph, TaskId, Value};

use crate::error::{Error, Result};
use crate::loom::AtomicBool;
use crate::plan;
use crate::runner::Runner;
use crate::stats::RunStats;
use crate::store::{Read, Store};
use crate::{RunOptions, RunOutput};

/// Runs `graph` on this thread with `opts`' callbacks and cancel token (checked before each
/// task), keeping values in `store`; `started` is when the run began, for the stats.
pub(crate) fn run(
    graph: &TaskGraph,
    runner: &Runner,
    opts: &RunOptions,
    store: Store,
    started: Instant,
) -> Result<RunOutput> {
    let callbacks = &opts.callbacks;
    let keep = AtomicBool::new(false);
    let mut inputs: Vec<Value> = Vec::new();
    for i in 0..graph.len() {
        let id = TaskId(i as u32);
        if let Some(token) = &opts.cancel
            && token.is_cancelled()
        {
            return Err(Error::Cancelled);
        }
        let (mut released, mut released_bytes) = (0, 0);
        for &d in graph.deps(id) {
            let Read { value, release } = store.read(graph, id, d, |t| runner.compute(graph, t, &mut Vec::new()))?;
            if release {
                released += 1;
                released_bytes += value.nbytes();
            }
            inputs.push(value);
        }
        let estimate = store.running_estimate(graph, id);
        store.meter().start_task(estimate);
        let res = if callbacks.is_empty() {
            runner.compute(graph, id, &mut inputs)
        } else {
            callbacks.observe(graph, id, 0, || runner.compute(graph, id, &mut inputs))
        };
        inputs.clear();
        store.meter().release(released, released_bytes);
        store.meter().end_task(estimate);
        store.put(graph, id, res?, &keep)?;
    }
    store.load_outputs(graph, |t| runner.compute(graph, t, &mut Vec::new()))?;
    let outputs = plan::collect_outputs(graph, |id| store.get(id))?;
    let (peak_values, peak_bytes) = store.meter().peaks();
    let (spilled_values, spilled_bytes, dropped_values) = store.spilled();
    let elapsed = started.elapsed();
    let stats = RunStats {
        tasks_run: graph.len(),
        peak_values,
        peak_bytes,
        elapsed,
        threads: 1,
        spilled_values,
        spilled_bytes,
        dropped_values,
    };
    Ok(RunOutput { outputs, stats })
}

/// The error for a dependency whose value is gone before its task ran: a runtime bug.
pub(crate) fn missing_input(graph: &TaskGraph, id: TaskId, dep: TaskId) -> Error {
    Error::internal(format!("task t{} ({}) found no value for its input t{}", id.0, graph.key_string(id), dep.0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::loom::{Arc, Mutex};
    use crate::synthetic;

    fn run_sync(graph: &TaskGraph, runner: Runner) -> Result<RunOutput> {
        run(graph, &runner, &RunOptions::default(), Store::new(graph, None).unwrap(), Instant::now())
    }

    #[test]
    fn runs_in_id_order_and_computes_every_shape() {
        for graph in [synthetic::chain(50), synthetic::wide(300, 16), synthetic::random_dag(500, 4, 7)] {
            let order = Arc::new(Mutex::new(Vec::new()));
            let seen = order.clone();
            let counting = synthetic::count_runner();
            let runner = Runner::Borrowing(Arc::new(move |g: &TaskGraph, id: TaskId, inputs: &[Value]| {
                seen.lock().unwrap().push(id.0);
                counting(g, id, inputs)
            }));
            let out = run_sync(&graph, runner).unwrap();
            assert_eq!(synthetic::output_u64(&out), synthetic::expected_outputs(&graph));
            assert_eq!(*order.lock().unwrap(), (0..graph.len() as u32).collect::<Vec<_>>());
            assert_eq!(out.stats.tasks_run, graph.len());
            assert_eq!(out.stats.threads, 1);
        }
    }

    #[test]
    fn the_last_consumer_gets_the_only_reference() {
        let graph = synthetic::chain(20);
        let runner = Runner::Owning(Arc::new(|_: &TaskGraph, id: TaskId, inputs: &mut Vec<Value>| {
            let prev = match inputs.pop() {
                None => 0,
                Some(v) => v.try_unwrap::<u64>().map_err(|v| format!("t{} shares {v:?}", id.0))?,
            };
            Ok(Value::new(prev + 1, 8))
        }));
        let out = run_sync(&graph, runner).unwrap();
        assert_eq!(synthetic::output_u64(&out), vec![vec![20]]);
        assert_eq!(out.stats.peak_values, 1);
    }
}
