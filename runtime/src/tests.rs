//! Tests of `execute` that every scheduler must pass: results, memory, failures, edge cases.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use kiln_ir::TaskGraphBuilder;

use super::*;
use crate::synthetic::{self, count_runner, expected_outputs, output_u64};

pub(crate) const SCHEDULERS: [Scheduler; 3] = [Scheduler::Sync, Scheduler::Threads(2), Scheduler::Threads(4)];

pub(crate) fn opts(scheduler: Scheduler) -> RunOptions {
    RunOptions::new(scheduler)
}

/// A runner like `count_runner` that fails (or panics) at task `bad`, counting tasks started.
fn failing_runner(bad: u32, panic: bool, started: Arc<AtomicUsize>) -> Arc<TaskRunner> {
    let count = count_runner();
    Arc::new(move |g: &TaskGraph, id: TaskId, inputs: &[Value]| {
        started.fetch_add(1, Ordering::SeqCst);
        if id.0 == bad {
            if panic {
                panic!("task {bad} blew up");
            }
            return Err(format!("task {bad} has no data").into());
        }
        count(g, id, inputs)
    })
}

/// A value that counts how many of its kind are alive.
pub(crate) struct Counted(Arc<AtomicUsize>);

impl Counted {
    pub(crate) fn new(live: &Arc<AtomicUsize>) -> Counted {
        live.fetch_add(1, Ordering::SeqCst);
        Counted(live.clone())
    }
}

impl Drop for Counted {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Waits (up to 10 s) for `live` to reach zero: values held by tasks that were still
/// running on other threads when a failed run returned go when those tasks end.
pub(crate) fn wait_until_none_live(live: &AtomicUsize) -> usize {
    let deadline = Instant::now() + Duration::from_secs(10);
    while live.load(Ordering::SeqCst) > 0 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(1));
    }
    live.load(Ordering::SeqCst)
}

#[test]
fn every_scheduler_computes_every_shape() {
    let graphs = [
        synthetic::chain(300),
        synthetic::wide(2000, 50),
        synthetic::random_dag(3000, 4, 11),
        synthetic::block_sums(200, 4),
    ];
    for graph in graphs {
        let graph = Arc::new(graph);
        let expected = expected_outputs(&graph);
        for scheduler in SCHEDULERS {
            let out = execute_with(graph.clone(), &opts(scheduler), count_runner()).unwrap();
            assert_eq!(output_u64(&out), expected, "{scheduler:?}");
            assert_eq!(out.stats.tasks_run, graph.len(), "{scheduler:?}");
            assert!(out.stats.threads >= 1 && out.stats.threads <= scheduler.threads(), "{:?}", out.stats);
        }
    }
}

#[test]
fn linear_chains_run_through_with_their_values_handed_over() {
    let graphs = [synthetic::chain(300), synthetic::block_sums(200, 4), synthetic::random_dag(3000, 1, 5)];
    for graph in graphs {
        let expected = expected_outputs(&graph);
        let linked = Arc::new(graph.with_linear_hand_offs());
        let links = (0..linked.len()).filter(|&i| linked.hands_off(TaskId(i as u32))).count();
        assert!(links > 0);
        for scheduler in SCHEDULERS {
            let out = execute_with(linked.clone(), &opts(scheduler), count_runner()).unwrap();
            assert_eq!(output_u64(&out), expected, "{scheduler:?}");
            assert_eq!(out.stats.tasks_run, linked.len(), "{scheduler:?}");
        }
    }
    // A chain is one trip through the scheduler: only its last value is ever stored.
    let chain = Arc::new(synthetic::chain(1000).with_linear_hand_offs());
    let out = execute_with(chain.clone(), &opts(Scheduler::Threads(2)), count_runner()).unwrap();
    assert_eq!((out.stats.peak_values, output_u64(&out)), (1, vec![vec![1000]]));
    // A failure inside a chain names its task, and no later task starts.
    for panic in [false, true] {
        let started = Arc::new(AtomicUsize::new(0));
        let runner = failing_runner(400, panic, started.clone());
        let err = execute_with(chain.clone(), &opts(Scheduler::Threads(2)), runner).unwrap_err();
        assert!(err.to_string().contains(&chain.key_string(TaskId(400))), "{err}");
        assert_eq!(started.load(Ordering::SeqCst), 401);
    }
}

#[test]
fn depth_first_priorities_keep_few_values_alive() {
    let graph = Arc::new(synthetic::block_sums(1000, 4));
    for scheduler in [Scheduler::Sync, Scheduler::Threads(2)] {
        let out = execute_with(graph.clone(), &opts(scheduler), count_runner()).unwrap();
        assert_eq!(output_u64(&out), expected_outputs(&graph));
        assert!(out.stats.peak_values < 50, "{scheduler:?}: {:?}", out.stats);
        // Values and bytes are counted apart, so with threads their peaks may be reached at
        // slightly different moments.
        assert!(out.stats.peak_bytes > 0 && out.stats.peak_bytes < 8 * 50, "{scheduler:?}: {:?}", out.stats);
        if scheduler == Scheduler::Sync {
            assert_eq!(out.stats.peak_bytes, 8 * out.stats.peak_values);
        }
    }
}

#[test]
fn every_value_is_released_when_the_run_returns() {
    let live = Arc::new(AtomicUsize::new(0));
    let most_live = Arc::new(AtomicUsize::new(0));
    let (l, m) = (live.clone(), most_live.clone());
    let runner: Arc<TaskRunner> = Arc::new(move |_: &TaskGraph, _: TaskId, _: &[Value]| {
        let v = Value::new(Counted::new(&l), 8);
        m.fetch_max(l.load(Ordering::SeqCst), Ordering::SeqCst);
        Ok(v)
    });
    let graph = Arc::new(synthetic::block_sums(500, 4));
    for scheduler in SCHEDULERS {
        let out = execute_with(graph.clone(), &opts(scheduler), runner.clone()).unwrap();
        assert_eq!(live.load(Ordering::SeqCst), 1, "only the output is alive");
        drop(out);
        assert_eq!(live.load(Ordering::SeqCst), 0);
        assert!(most_live.load(Ordering::SeqCst) < 60, "{scheduler:?}");
    }
}

#[test]
fn task_errors_name_the_task_and_the_pool_stays_usable() {
    let graph = Arc::new(synthetic::wide(200, 10));
    for scheduler in SCHEDULERS {
        for panic in [false, true] {
            let started = Arc::new(AtomicUsize::new(0));
            let err = execute_with(graph.clone(), &opts(scheduler), failing_runner(5, panic, started)).unwrap_err();
            let key = graph.key_string(TaskId(5));
            let expected = if panic {
                Error::TaskPanicked { key, op: "full".into(), message: "task 5 blew up".into() }
            } else {
                Error::TaskFailed { key, op: "full".into(), message: "task 5 has no data".into() }
            };
            assert_eq!(err, expected, "{scheduler:?}");
            let out = execute_with(graph.clone(), &opts(scheduler), count_runner()).unwrap();
            assert_eq!(output_u64(&out), expected_outputs(&graph));
        }
    }
}

#[test]
fn a_failure_stops_a_large_run_early() {
    for graph in [synthetic::chain(10_000), synthetic::wide(10_000, 100)] {
        let graph = Arc::new(graph);
        for scheduler in SCHEDULERS {
            let started = Arc::new(AtomicUsize::new(0));
            let slow = failing_runner(20, false, started.clone());
            let runner: Arc<TaskRunner> = Arc::new(move |g: &TaskGraph, id: TaskId, inputs: &[Value]| {
                std::thread::sleep(Duration::from_micros(200));
                slow(g, id, inputs)
            });
            assert!(execute_with(graph.clone(), &opts(scheduler), runner).is_err());
            // Other threads may start a few more tasks while task 20 runs and fails (more on a
            // loaded machine), but the run stops long before the rest of the graph.
            let n = started.load(Ordering::SeqCst);
            assert!(n < 1000, "{scheduler:?}: {n} tasks started");
            if scheduler == Scheduler::Sync {
                assert_eq!(n, 21);
            }
        }
    }
}

#[test]
fn a_failed_run_releases_its_values() {
    let live = Arc::new(AtomicUsize::new(0));
    let l = live.clone();
    let runner: Arc<TaskRunner> = Arc::new(move |_: &TaskGraph, id: TaskId, _: &[Value]| {
        if id.0 == 300 {
            return Err("stop".into());
        }
        Ok(Value::new(Counted::new(&l), 8))
    });
    // Independent sources all summed by one sink: every value is held when task 300 fails.
    let graph = Arc::new(synthetic::wide(1000, 1000));
    for scheduler in SCHEDULERS {
        assert!(execute_with(graph.clone(), &opts(scheduler), runner.clone()).is_err());
        assert_eq!(wait_until_none_live(&live), 0, "{scheduler:?}");
    }
}

#[test]
fn the_last_consumer_can_take_its_input() {
    let runner: Arc<OwningTaskRunner> = Arc::new(|_: &TaskGraph, id: TaskId, inputs: &mut Vec<Value>| {
        let mut sum = 1u64;
        for v in inputs.drain(..) {
            sum += v.try_unwrap::<u64>().map_err(|v| format!("t{} shares {v:?}", id.0))?;
        }
        Ok(Value::new(sum, 8))
    });
    for graph in [synthetic::chain(1000), synthetic::block_sums(300, 4)] {
        let graph = Arc::new(graph);
        for scheduler in SCHEDULERS {
            let out = execute_owning(graph.clone(), &opts(scheduler), runner.clone()).unwrap();
            assert_eq!(output_u64(&out), expected_outputs(&graph), "{scheduler:?}");
        }
    }
}

#[test]
fn empty_graphs_and_repeated_outputs() {
    for scheduler in SCHEDULERS {
        let out = execute_with(Arc::new(TaskGraph::default()), &opts(scheduler), count_runner()).unwrap();
        assert!(out.outputs.is_empty());
        assert_eq!(out.stats.tasks_run, 0);

        let mut b = TaskGraphBuilder::new();
        let node = b.add_node(synthetic::placeholder_expr(3), Default::default());
        let t0 = b.add_task(node, kiln_ir::TaskKind::Block, 0, &[]);
        let t1 = b.add_task(node, kiln_ir::TaskKind::Block, 1, &[t0, t0]);
        b.add_output(node, vec![t1, t1]);
        b.add_output(node, vec![t0, t1]);
        b.add_output(node, vec![]);
        let out = execute_with(Arc::new(b.finish()), &opts(scheduler), count_runner()).unwrap();
        assert_eq!(output_u64(&out), vec![vec![3, 3], vec![1, 3], vec![]], "{scheduler:?}");
    }
}

#[test]
fn broken_graphs_are_internal_errors() {
    let mut b = TaskGraphBuilder::new();
    let node = b.add_node(synthetic::placeholder_expr(1), Default::default());
    b.add_task(node, kiln_ir::TaskKind::Block, 0, &[]);
    b.add_output(node, vec![TaskId(3)]);
    let graph = Arc::new(b.finish());
    for scheduler in SCHEDULERS {
        let err = execute_with(graph.clone(), &opts(scheduler), count_runner()).unwrap_err();
        assert_eq!(err, Error::internal("output 0 refers to missing task t3"));
    }
}

#[test]
fn tasks_can_run_graphs_themselves() {
    let inner = Arc::new(synthetic::wide(100, 10));
    let inner_value = expected_outputs(&inner)[0][0];
    let runner: Arc<TaskRunner> = Arc::new(move |g: &TaskGraph, id: TaskId, inputs: &[Value]| {
        let out = execute_with(inner.clone(), &opts(Scheduler::Threads(2)), count_runner())?;
        let mut sum = output_u64(&out)[0][0];
        for v in inputs {
            sum += v.downcast_ref::<u64>().copied().ok_or_else(|| format!("{} read no u64", g.key_string(id)))?;
        }
        Ok(Value::new(sum, 8))
    });
    let outer = Arc::new(synthetic::wide(50, 50));
    let out = execute_with(outer, &opts(Scheduler::Threads(2)), runner).unwrap();
    // 50 sources and 1 group task and 1 sink, each adding the inner graph's value.
    assert_eq!(output_u64(&out), vec![vec![inner_value * 52]]);
}

#[test]
fn runs_from_several_threads_are_independent() {
    let handles: Vec<_> = (0..4)
        .map(|k| {
            std::thread::spawn(move || {
                let graph = Arc::new(synthetic::random_dag(5000, 3, k));
                for scheduler in SCHEDULERS {
                    let out = execute_with(graph.clone(), &opts(scheduler), count_runner()).unwrap();
                    assert_eq!(output_u64(&out), expected_outputs(&graph));
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
}

#[test]
fn execute_without_kernels_reports_the_task() {
    // The kernels may not compute yet; either way `execute` returns, with a value or an error.
    let graph = Arc::new(synthetic::chain(1));
    match execute(graph, &opts(Scheduler::Sync)) {
        Ok(out) => assert_eq!(out.outputs.len(), 1),
        Err(e) => assert!(matches!(e, Error::TaskFailed { .. } | Error::TaskPanicked { .. }), "{e}"),
    }
}
