//! What every scheduler works out from a graph before its first task: the graph's checks,
//! each task's number of consumers, and how the requested values are gathered at the end.

use kiln_ir::{TaskGraph, TaskId, Value};

use crate::error::{Error, Result};

/// Checks what the schedulers rely on: every dependency comes before its task (so the graph
/// has no cycle and a run cannot wait forever) and every output task exists.
pub(crate) fn check_graph(graph: &TaskGraph) -> Result<()> {
    for i in 0..graph.len() {
        let id = TaskId(i as u32);
        if let Some(d) = graph.deps(id).iter().find(|d| d.idx() >= i) {
            return Err(Error::internal(format!(
                "task t{i} ({}) depends on t{} which does not come before it",
                graph.key_string(id),
                d.0
            )));
        }
    }
    for (k, output) in graph.outputs().iter().enumerate() {
        if let Some(bad) = output.tasks.iter().find(|t| t.idx() >= graph.len()) {
            return Err(Error::internal(format!("output {k} refers to missing task t{}", bad.0)));
        }
    }
    Ok(())
}

/// Per task, how many reads of its value the run will make: one per dependency edge (a task
/// reading the same value twice counts twice), plus one for the end of the run where the
/// task is an output (however many times it is listed).
pub(crate) fn consumer_counts(graph: &TaskGraph) -> Vec<u32> {
    let mut consumers = vec![0u32; graph.len()];
    for i in 0..graph.len() {
        for d in graph.deps(TaskId(i as u32)) {
            consumers[d.idx()] += 1;
        }
    }
    add_output_reads(graph, &mut consumers);
    consumers
}

/// Adds the end of the run's read to every output task's count in `consumers`.
pub(crate) fn add_output_reads(graph: &TaskGraph, consumers: &mut [u32]) {
    let mut is_output = vec![false; graph.len()];
    for id in graph.outputs().iter().flat_map(|o| &o.tasks) {
        if !std::mem::replace(&mut is_output[id.idx()], true) {
            consumers[id.idx()] += 1;
        }
    }
}

/// The values of the graph's outputs, in order, taken from `value_of` (which must clone:
/// a task may be listed more than once).
pub(crate) fn collect_outputs(
    graph: &TaskGraph,
    mut value_of: impl FnMut(TaskId) -> Option<Value>,
) -> Result<Vec<Vec<Value>>> {
    graph
        .outputs()
        .iter()
        .map(|output| {
            output
                .tasks
                .iter()
                .map(|&id| {
                    value_of(id).ok_or_else(|| {
                        Error::internal(format!("output task t{} ({}) has no value", id.0, graph.key_string(id)))
                    })
                })
                .collect()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use kiln_ir::{TaskGraphBuilder, TaskKind};

    #[test]
    fn consumers_count_edges_and_outputs_once() {
        let mut b = TaskGraphBuilder::new();
        let node = b.add_node(crate::synthetic::placeholder_expr(3), Default::default());
        let t0 = b.add_task(node, TaskKind::Block, 0, &[]);
        let t1 = b.add_task(node, TaskKind::Block, 1, &[t0, t0]);
        let t2 = b.add_task(node, TaskKind::Block, 2, &[t1]);
        b.add_output(node, vec![t1, t2, t2]);
        b.add_output(node, vec![t2]);
        let graph = b.finish();
        assert!(check_graph(&graph).is_ok());
        assert_eq!(consumer_counts(&graph), vec![2, 2, 1]);
    }

    #[test]
    fn missing_output_tasks_are_internal_errors() {
        let mut b = TaskGraphBuilder::new();
        let node = b.add_node(crate::synthetic::placeholder_expr(1), Default::default());
        b.add_task(node, TaskKind::Block, 0, &[]);
        b.add_output(node, vec![TaskId(7)]);
        let err = check_graph(&b.finish()).unwrap_err();
        assert_eq!(err, Error::internal("output 0 refers to missing task t7"));
    }
}
