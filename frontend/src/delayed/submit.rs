//! Delayed graphs on a [`Client`](crate::Client): `client.compute(&delayed)` submits each
//! call of the graph as one task of the client's executor, keyed by the call's key, with
//! its dependencies as task inputs, so the graph runs on the client's workers alongside
//! other futures (as Dask's `client.compute` does with a delayed graph).
//!
//! Calls are submitted as pure tasks keyed by their token: computing the same delayed value
//! twice while the first result is held gives the same task, as in Dask, where the same key
//! is the same task. Impure calls have unique tokens, so only the same `Delayed` matches.

use std::sync::Arc;

use kiln_ir::TaskId;
use kiln_runtime::client::{Executor, Input, TaskFn, TaskHandle};

use super::Node;
use super::graph::Plan;

/// Submits the graph of `root` to `executor`; gives the root's task.
pub(crate) fn submit_graph(root: &Arc<Node>, executor: &Executor) -> TaskHandle {
    let plan = Plan::new(std::slice::from_ref(root));
    let mut handles: Vec<TaskHandle> = Vec::with_capacity(plan.nodes.len());
    for (i, node) in plan.nodes.iter().enumerate() {
        let inputs: Vec<Input> =
            plan.graph.deps(TaskId(i as u32)).iter().map(|d| Input::Task(handles[d.idx()].clone())).collect();
        let call = node.clone();
        let func: TaskFn = Box::new(move |mut values| call.run(&mut values));
        handles.push(executor.submit_pure(&node.name, node.token, inputs, func, 0));
    }
    let root = plan.roots[0];
    handles.swap_remove(root.idx())
}

#[cfg(test)]
mod tests {
    use crate::Client;
    use crate::delayed::{Delayed, call};

    #[test]
    fn a_delayed_graph_runs_as_client_tasks() {
        let client = Client::builder().threads(2).build().unwrap();
        let base = call(|| 20u64, ());
        let parts: Vec<Delayed<u64>> = (0..10u64).map(|i| call(move |b: u64| b + i, &base)).collect();
        let total = call(|v: Vec<u64>| v.iter().sum::<u64>(), parts);
        let f = client.compute(&total);
        assert_eq!(f.key(), total.key());
        assert_eq!(f.result().unwrap(), 245);
        // The same delayed value, computed again while the first future is held, is the
        // same task.
        let again = client.compute(&total);
        assert!(again.handle.same_task(&f.handle));
    }
}
