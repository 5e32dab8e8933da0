//! The runtime's promises seen from the API: chunks are freed early, culling skips unneeded
//! blocks, failures become errors naming the task, and computing from several threads, from
//! inside a running task, or on very deep expressions neither deadlocks nor overflows.

mod common;

use std::sync::Arc;

use kiln::array as ka;
use kiln::ir::{TaskGraph, TaskId, Value};
use kiln::prelude::*;

#[test]
fn chunks_are_freed_as_soon_as_their_consumers_finish() {
    let x = ka::ones([1000, 10], [1, 10]);
    assert_eq!(x.n_blocks(), 1000);
    for scheduler in [Scheduler::Sync, Scheduler::Threads(2)] {
        let cfg = Config::default().with_scheduler(scheduler);
        let (v, stats) = (&x + 1.0).sum().compute_with_stats(&cfg).unwrap();
        assert_eq!(v.into_scalar::<f64>().unwrap(), 20_000.0);
        assert!(stats.peak_values < 60, "{scheduler:?}: {} values held at once", stats.peak_values);
        // Fused: one map-reduce partial per block, then the combine tree.
        assert!(stats.tasks_run > 1000, "{stats:?}");
    }
}

#[test]
fn culling_runs_only_the_blocks_a_slice_needs() {
    // 100 × 100 blocks; the first 10 rows live in the first block row.
    let x = ka::random::uniform([1000, 1000], [10, 10], 7);
    let head = x.slice(s![..10, ..]).sum();
    let (v, stats) = head.compute_with_stats(&Config::default()).unwrap();
    let direct = x.slice(s![..10, ..]).compute().unwrap().into_f64().unwrap().sum();
    assert!((v.into_scalar::<f64>().unwrap() - direct).abs() < 1e-9);
    // 100 sources + 100 slices + 100 partials + a small combine tree.
    assert!(stats.tasks_run < 330, "ran {} tasks", stats.tasks_run);
    assert!(head.explain().contains("cull:"));
}

#[test]
fn failures_name_the_task_and_leave_the_runtime_usable() {
    let x = ka::from_array(ndarray::array![1i64, 2, 3, 4], [1]);
    for scheduler in [Scheduler::Sync, Scheduler::Threads(2)] {
        // Fused, the failing task is the kernel's; unfused, the op's. Both messages say why.
        for (optimize, op) in [(true, "fused"), (false, "pow")] {
            let cfg = Config::default().with_scheduler(scheduler).with_optimize(optimize);
            let err = (x.pow(-2i64) + 1i64).sum().compute_with(&cfg).unwrap_err().to_string();
            let named = err.contains(&format!("task {op}-")) && err.contains(&format!("({op})"));
            assert!(named && err.contains("pow: integers to negative integer powers"), "{err}");
            assert_eq!(x.sum().compute_with(&cfg).unwrap().into_scalar::<i64>().unwrap(), 10);
        }
    }
}

#[test]
fn compute_from_many_threads_at_once() {
    let handles: Vec<_> = (0..4)
        .map(|i| {
            std::thread::spawn(move || {
                let x = ka::ones([200, 200], [50, 50]) * (i as f64);
                x.sum().compute().unwrap().into_scalar::<f64>().unwrap()
            })
        })
        .collect();
    for (i, h) in handles.into_iter().enumerate() {
        assert_eq!(h.join().unwrap(), 40_000.0 * i as f64);
    }
}

#[test]
fn compute_inside_a_running_task_does_not_deadlock() {
    // A graph of 8 tasks whose runner computes an array itself, on a 2-thread pool.
    let x = ka::ones([8], [1]);
    let graph = kiln::passes::build_graph(std::slice::from_ref(x.expr()), &Default::default()).unwrap().0;
    let runner = Arc::new(|_: &TaskGraph, _: TaskId, _: &[Value]| -> Result<Value, kiln::runtime::BoxError> {
        let inner = ka::ones([100, 100], [10, 10]).sum().compute()?;
        Ok(Value::new(inner.into_scalar::<f64>()?, 8))
    });
    let opts = kiln::runtime::RunOptions::new(Scheduler::Threads(2));
    let out = kiln::runtime::execute_with(Arc::new(graph), &opts, runner).unwrap();
    assert!(out.outputs[0].iter().all(|v| *v.downcast_ref::<f64>().unwrap() == 10_000.0));
}

#[test]
fn very_deep_expressions_neither_overflow_nor_crawl() {
    let mut x = ka::zeros([4], [2]);
    for _ in 0..100_000 {
        x = &x + 1.0;
    }
    assert!(x.explain().contains("task graph: "));
    let v = x.sum().compute_with(&Config::default().with_scheduler(Scheduler::Sync)).unwrap();
    assert_eq!(v.into_scalar::<f64>().unwrap(), 400_000.0);
    drop(x);
}

#[test]
fn a_million_chunk_array_is_one_node() {
    let x = ka::ones([1_000_000, 10], [1, 10]);
    assert_eq!(x.n_blocks(), 1_000_000);
    let y = ((&x + 1.0) * 2.0).sum();
    assert_eq!(kiln::ir::Expr::topo_order(std::slice::from_ref(y.expr())).len(), 6);
}
