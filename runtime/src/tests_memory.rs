//! Tests of the memory budget on every scheduler: runs whose values do not fit spill them
//! and still compute the right results, hold no more than the budget, and leave no spill
//! file behind, whether they succeed or fail; results larger than the budget are refused.

use std::path::PathBuf;
use std::time::Duration;

use kiln_ir::Chunk;

use super::*;
use crate::synthetic::{self, expected_outputs};
use crate::tests::SCHEDULERS;

/// Elements of each value the chunk runner makes (1 kB of `f64`).
const LEN: usize = 128;

/// Like `synthetic::count_runner`, with each value a spillable chunk of `LEN` copies of
/// `1 + the sum of its inputs`; `fail_at` makes that task fail.
fn chunk_runner(fail_at: Option<u32>) -> Arc<TaskRunner> {
    Arc::new(move |_: &TaskGraph, id: TaskId, inputs: &[Value]| {
        if Some(id.0) == fail_at {
            return Err("no data".into());
        }
        let mut sum = 1u64;
        for v in inputs {
            let Some(Chunk::F64(a)) = v.as_chunk() else { return Err(format!("t{} read a {v:?}", id.0).into()) };
            assert!(a.iter().all(|&x| x == a[[0]]), "a value read back from disk changed");
            sum = sum.wrapping_add(a[[0]] as u64);
        }
        let a = ndarray::ArrayD::from_elem(ndarray::IxDyn(&[LEN]), sum as f64);
        Ok(Value::chunk(Chunk::new(a)))
    })
}

/// A fresh, empty spill folder for one test.
fn spill_parent(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("kiln-test-{test}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn leftovers(dir: &PathBuf) -> Vec<PathBuf> {
    std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect()
}

#[test]
fn values_that_do_not_fit_spill_and_come_back() {
    let limit = 64 * LEN * 8;
    let parent = spill_parent("spill");
    // Values live long in a random DAG (read up to 1000 tasks later), and the 50 group sums
    // of the fan-in live until the end. (A task's own inputs must fit: they are held while
    // it runs.)
    for (name, graph) in [("dag", synthetic::random_dag(1500, 3, 11)), ("wide", synthetic::wide(600, 12))] {
        let expected: Vec<Vec<f64>> =
            expected_outputs(&graph).into_iter().map(|o| o.into_iter().map(|v| v as f64).collect()).collect();
        let graph = Arc::new(graph);
        for scheduler in SCHEDULERS {
            let opts = RunOptions::new(scheduler).with_memory(Some(MemoryBudget::new(limit).with_spill_dir(&parent)));
            let out = execute_with(graph.clone(), &opts, chunk_runner(None)).unwrap();
            let got: Vec<Vec<f64>> = out
                .outputs
                .iter()
                .map(|o| o.iter().map(|v| v.as_chunk().unwrap().typed::<f64>().unwrap()[[0]]).collect())
                .collect();
            assert_eq!(got, expected, "{name} {scheduler:?}");
            assert!(out.stats.spilled_values > 0, "{name} {scheduler:?}: {:?}", out.stats);
            assert_eq!(out.stats.spilled_bytes, out.stats.spilled_values * LEN * 8);
            assert!(out.stats.peak_bytes <= limit, "{name} {scheduler:?}: held {} > {limit}", out.stats.peak_bytes);
            assert!(leftovers(&parent).is_empty(), "{scheduler:?} left {:?}", leftovers(&parent));
        }
    }
    // Without a budget nothing spills, and the same run holds more.
    let graph = Arc::new(synthetic::random_dag(1500, 3, 11));
    let out = execute_with(graph, &RunOptions::new(Scheduler::Sync).with_memory(None), chunk_runner(None)).unwrap();
    assert_eq!(out.stats.spilled_values, 0);
    assert!(out.stats.peak_bytes > limit);
    std::fs::remove_dir_all(&parent).unwrap();
}

#[test]
fn a_failed_run_removes_its_spill_files() {
    let parent = spill_parent("spill-fail");
    let graph = Arc::new(synthetic::wide(300, 300));
    for scheduler in SCHEDULERS {
        let opts =
            RunOptions::new(scheduler).with_memory(Some(MemoryBudget::new(16 * LEN * 8).with_spill_dir(&parent)));
        let err = execute_with(graph.clone(), &opts, chunk_runner(Some(250))).unwrap_err();
        assert!(matches!(err, Error::TaskFailed { .. }), "{err}");
        // Tasks still running on other threads may hold a file for a moment.
        let deadline = Instant::now() + Duration::from_secs(10);
        while !leftovers(&parent).is_empty() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(1));
        }
        assert!(leftovers(&parent).is_empty(), "{scheduler:?} left {:?}", leftovers(&parent));
    }
    std::fs::remove_dir_all(&parent).unwrap();
}

#[test]
fn results_larger_than_the_budget_are_refused_before_any_task_runs() {
    let graph = Arc::new(synthetic::chain(3));
    for scheduler in SCHEDULERS {
        let opts = RunOptions::new(scheduler).with_memory(Some(MemoryBudget::new(4)));
        let err = execute_with(graph.clone(), &opts, chunk_runner(Some(0))).unwrap_err();
        assert_eq!(err, Error::MemoryLimit { needed: 8, limit: 4 });
    }
}

#[test]
fn an_unusable_spill_folder_fails_the_run_with_its_path() {
    let graph = Arc::new(synthetic::wide(100, 100));
    let budget = MemoryBudget::new(8 * LEN * 8).with_spill_dir("/proc/no/such/dir");
    for scheduler in SCHEDULERS {
        let opts = RunOptions::new(scheduler).with_memory(Some(budget.clone()));
        let err = execute_with(graph.clone(), &opts, chunk_runner(None)).unwrap_err();
        assert!(err.to_string().contains("cannot make the spill folder /proc/no/such/dir"), "{err}");
    }
}

#[test]
fn source_blocks_are_dropped_and_made_again_rather_than_spilled() {
    // 200 blocks of a random source, all made first, then summed ten at a time, then in all.
    let n = 200;
    let mut b = kiln_ir::TaskGraphBuilder::new();
    let dist = kiln_ir::Distribution::Uniform { low: kiln_ir::F64Bits(0.0), high: kiln_ir::F64Bits(1.0) };
    let source = kiln_ir::build::random(dist, 1, &[n * LEN], &kiln_ir::Chunks::from([LEN]));
    let source = b.add_node(source.unwrap(), Default::default());
    let sources: Vec<TaskId> = (0..n).map(|i| b.add_task(source, kiln_ir::TaskKind::Block, i as u64, &[])).collect();
    let groups = b.add_node(synthetic::placeholder_expr(n / 10), Default::default());
    let sums: Vec<TaskId> = sources
        .chunks(10)
        .enumerate()
        .map(|(g, s)| b.add_task(groups, kiln_ir::TaskKind::Block, g as u64, s))
        .collect();
    let sink = b.add_node(synthetic::placeholder_expr(1), Default::default());
    let out = b.add_task(sink, kiln_ir::TaskKind::Block, 0, &sums);
    b.add_output(sink, vec![out]);
    let graph = Arc::new(b.finish());
    for scheduler in SCHEDULERS {
        let runs = Arc::new(std::sync::Mutex::new(vec![0usize; graph.len()]));
        let counting = runs.clone();
        let inner = chunk_runner(None);
        let runner: Arc<TaskRunner> = Arc::new(move |g: &TaskGraph, id: TaskId, inputs: &[Value]| {
            counting.lock().unwrap()[id.idx()] += 1;
            inner(g, id, inputs)
        });
        let opts = RunOptions::new(scheduler).with_memory(Some(MemoryBudget::new(64 * LEN * 8)));
        let res = execute_with(graph.clone(), &opts, runner).unwrap();
        let total = res.outputs[0][0].as_chunk().unwrap().typed::<f64>().unwrap()[[0]];
        assert_eq!(total, (1 + n / 10 + n) as f64, "{scheduler:?}");
        // Only the group sums (not a source's blocks) can go to disk, when threads run ahead.
        assert!(res.stats.spilled_values <= n / 10, "{scheduler:?}: {:?}", res.stats);
        let runs = runs.lock().unwrap();
        let again = runs.iter().filter(|&&r| r > 1).count();
        assert!(res.stats.dropped_values > 0 && again == res.stats.dropped_values, "{scheduler:?}: {:?}", res.stats);
        assert!(res.stats.peak_bytes <= 64 * LEN * 8, "{scheduler:?}: {:?}", res.stats);
    }
}
