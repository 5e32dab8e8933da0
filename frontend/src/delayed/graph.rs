//! Running delayed calls: the task graph of a set of roots (one task per distinct call,
//! numbered depth first so that ids are good priorities), its text and DOT forms, joint
//! computes of several roots, and errors renamed after the user's calls.
//!
//! The graph's tasks all belong to one placeholder expression node (as the runtime's
//! synthetic graphs do); the runner looks the call up by task id. No IR op is needed.

use std::collections::HashMap;
use std::sync::Arc;

use kiln_ir::{TaskGraph, TaskGraphBuilder, TaskId, TaskKind, Token, Value};
use kiln_runtime::{BoxError, OwningTaskRunner};

use super::args::{Data, unpack};
use super::{Delayed, Node};
use crate::config::{self, Config};
use crate::error::{Error, Result};

/// A `Delayed` with its value type forgotten (see [`Delayed::erase`]).
#[derive(Clone)]
pub struct AnyDelayed {
    pub(crate) node: Arc<Node>,
}

/// The graph of some roots: calls by task id, and the task of each root.
pub(crate) struct Plan {
    pub(crate) graph: TaskGraph,
    pub(crate) nodes: Vec<Arc<Node>>,
    pub(crate) roots: Vec<TaskId>,
}

impl Plan {
    /// The graph of `roots`: each distinct call (by token) once, dependencies first,
    /// numbered in depth-first post-order from the first root.
    pub(crate) fn new(roots: &[Arc<Node>]) -> Plan {
        let mut ids: HashMap<Token, TaskId> = HashMap::new();
        let mut nodes: Vec<Arc<Node>> = Vec::new();
        let mut builder = TaskGraphBuilder::new();
        let mut root_ids = Vec::with_capacity(roots.len());
        let mut deps = Vec::new();
        // An explicit stack (graphs may be chains of 100,000 calls): (node, next dependency).
        let mut stack: Vec<(Arc<Node>, usize)> = Vec::new();
        for root in roots {
            if !ids.contains_key(&root.token) {
                stack.push((root.clone(), 0));
            }
            while let Some((node, next)) = stack.last_mut() {
                if let Some(dep) = node.deps.get(*next) {
                    *next += 1;
                    if !ids.contains_key(&dep.token) {
                        let dep = dep.clone();
                        stack.push((dep, 0));
                    }
                    continue;
                }
                let node = stack.pop().expect("the stack is not empty").0;
                deps.clear();
                deps.extend(node.deps.iter().map(|d| ids[&d.token]));
                // A pure call met twice while unfinished (two nodes, one token) is added once.
                if ids.contains_key(&node.token) {
                    continue;
                }
                let index = builder.n_tasks() as u64;
                let id = builder.add_task(kiln_ir::NodeId(0), TaskKind::Block, index, &deps);
                ids.insert(node.token, id);
                nodes.push(node);
            }
            root_ids.push(ids[&root.token]);
        }
        builder.add_node(kiln_runtime::synthetic::placeholder_expr(nodes.len()), Default::default());
        let output_node =
            builder.add_node(kiln_runtime::synthetic::placeholder_expr(root_ids.len()), Default::default());
        builder.add_output(output_node, root_ids.clone());
        Plan { graph: builder.finish(), nodes, roots: root_ids }
    }

    /// The graph as text: figures, then one line per task for small graphs.
    pub(crate) fn explain(&self) -> String {
        let stats = self.graph.stats();
        let mut out = format!("delayed: {} tasks, depth {}, {} outputs\n", stats.tasks, stats.depth, self.roots.len());
        if self.nodes.len() <= 200 {
            for (i, node) in self.nodes.iter().enumerate() {
                out.push_str(&format!("t{i} = {}", node.key()));
                let deps = self.graph.deps(TaskId(i as u32));
                if !deps.is_empty() {
                    let d: Vec<String> = deps.iter().map(|d| format!("t{}", d.0)).collect();
                    out.push_str(&format!(" <- {}", d.join(", ")));
                }
                out.push('\n');
            }
            let r: Vec<String> = self.roots.iter().map(|t| format!("t{}", t.0)).collect();
            out.push_str(&format!("out = [{}]\n", r.join(", ")));
        }
        out
    }

    /// The graph in Graphviz DOT: one box per call, an edge per dependency, outputs bold.
    pub(crate) fn to_dot(&self) -> String {
        let mut out = String::from("digraph delayed {\n  node [shape=box];\n");
        for (i, node) in self.nodes.iter().enumerate() {
            let bold = if self.roots.contains(&TaskId(i as u32)) { ", style=bold" } else { "" };
            out.push_str(&format!("  t{i} [label=\"{}\"{bold}];\n", node.key()));
        }
        for i in 0..self.nodes.len() {
            for d in self.graph.deps(TaskId(i as u32)) {
                out.push_str(&format!("  t{} -> t{i};\n", d.0));
            }
        }
        out.push_str("}\n");
        out
    }

    /// The call of the task a runtime error names, from the block index in its key
    /// (`full-1a2b3c4d(7)` is task 7 of the placeholder node).
    fn node_of_key(&self, key: &str) -> Option<&Arc<Node>> {
        let inner = key.strip_suffix(')')?.rsplit_once('(')?.1;
        self.nodes.get(inner.parse::<usize>().ok()?)
    }

    /// `err` with the placeholder task's key replaced by the user call's key and name.
    fn rename(&self, err: kiln_runtime::Error) -> kiln_runtime::Error {
        use kiln_runtime::Error as E;
        match err {
            E::TaskFailed { key, message, op } => match self.node_of_key(&key) {
                Some(n) => E::TaskFailed { key: n.key(), op: n.name.clone(), message },
                None => E::TaskFailed { key, op, message },
            },
            E::TaskPanicked { key, message, op } => match self.node_of_key(&key) {
                Some(n) => E::TaskPanicked { key: n.key(), op: n.name.clone(), message },
                None => E::TaskPanicked { key, op, message },
            },
            other => other,
        }
    }
}

/// Runs the graph of `roots` with `cfg`'s scheduler; gives each root's value, in order.
pub(crate) fn run_roots(roots: &[Arc<Node>], cfg: &Config) -> Result<Vec<Value>> {
    cfg.validate()?;
    let plan = Plan::new(roots);
    let nodes: Arc<Vec<Arc<Node>>> = Arc::new(plan.nodes.clone());
    let runner: Arc<OwningTaskRunner> = Arc::new(move |_: &TaskGraph, id: TaskId, inputs: &mut Vec<Value>| {
        nodes.get(id.idx()).ok_or_else(|| BoxError::from("a task with no call"))?.run(inputs)
    });
    // Chains of calls (`process(load(f))`) run through on one thread, as the array
    // pipeline's `FuseLinear` pass makes them.
    let graph = Arc::new(plan.graph.clone().with_linear_hand_offs());
    let out =
        kiln_runtime::execute_owning(graph, &cfg.run_options(), runner).map_err(|e| Error::from(plan.rename(e)))?;
    Ok(out.outputs.into_iter().next().unwrap_or_default())
}

/// Runs the graph of `root` with `cfg`'s scheduler; gives its value.
pub(crate) fn run_one(root: &Arc<Node>, cfg: &Config) -> Result<Value> {
    run_roots(std::slice::from_ref(root), cfg)?.pop().ok_or_else(|| Error::Type("the run gave no value".into()))
}

/// A root's value as a `T`.
pub(crate) fn unpack_output<T: Data>(value: Value) -> Result<T> {
    unpack::<T>(value).map_err(|e| Error::Type(e.to_string()))
}

/// What [`compute`] accepts: tuples of `&Delayed<_>` (up to 6), slices and vectors of
/// `Delayed<T>`, and vectors of [`AnyDelayed`].
pub trait DelayedCollection {
    /// What computing gives back.
    type Output;
    /// The roots, in order.
    fn roots(&self) -> Vec<AnyDelayed>;
    /// Packs the roots' values (in the same order) into the output.
    fn unpack(values: Vec<Value>) -> Result<Self::Output>;
}

macro_rules! tuple_collection {
    ($($t:ident $d:ident),+) => {
        impl<'a, $($t: Data),+> DelayedCollection for ($(&'a Delayed<$t>,)+) {
            type Output = ($($t,)+);
            fn roots(&self) -> Vec<AnyDelayed> {
                let ($($d,)+) = *self;
                vec![$($d.erase()),+]
            }
            fn unpack(values: Vec<Value>) -> Result<Self::Output> {
                let mut it = values.into_iter();
                Ok(($(unpack_output::<$t>(it.next().ok_or_else(|| Error::Type("a value is missing".into()))?)?,)+))
            }
        }
    };
}

tuple_collection!(A a);
tuple_collection!(A a, B b);
tuple_collection!(A a, B b, C c);
tuple_collection!(A a, B b, C c, D d);
tuple_collection!(A a, B b, C c, D d, E e);
tuple_collection!(A a, B b, C c, D d, E e, F f);

impl<T: Data> DelayedCollection for &[Delayed<T>] {
    type Output = Vec<T>;
    fn roots(&self) -> Vec<AnyDelayed> {
        self.iter().map(Delayed::erase).collect()
    }
    fn unpack(values: Vec<Value>) -> Result<Vec<T>> {
        values.into_iter().map(unpack_output).collect()
    }
}

impl<T: Data> DelayedCollection for &Vec<Delayed<T>> {
    type Output = Vec<T>;
    fn roots(&self) -> Vec<AnyDelayed> {
        self.iter().map(Delayed::erase).collect()
    }
    fn unpack(values: Vec<Value>) -> Result<Vec<T>> {
        values.into_iter().map(unpack_output).collect()
    }
}

impl DelayedCollection for &[AnyDelayed] {
    type Output = Vec<Value>;
    fn roots(&self) -> Vec<AnyDelayed> {
        self.to_vec()
    }
    fn unpack(values: Vec<Value>) -> Result<Vec<Value>> {
        Ok(values)
    }
}

/// Computes several delayed values in one graph: calls they share run once.
/// `kiln_frontend::delayed::compute((&a, &b))` gives `(A, B)`.
///
/// ```
/// let x = kiln_frontend::delayed::call(|| 20u64, ());
/// let a = kiln_frontend::delayed::call(|v: u64| v + 1, &x);
/// let b = kiln_frontend::delayed::call(|v: u64| v * 2, &x);
/// assert_eq!(kiln_frontend::delayed::compute((&a, &b))?, (21, 40));
/// # Ok::<(), kiln_frontend::Error>(())
/// ```
pub fn compute<C: DelayedCollection>(collection: C) -> Result<C::Output> {
    compute_with(collection, &config::get()?)
}

/// [`compute`] with the given settings.
pub fn compute_with<C: DelayedCollection>(collection: C, cfg: &Config) -> Result<C::Output> {
    let roots: Vec<Arc<Node>> = collection.roots().into_iter().map(|d| d.node).collect();
    C::unpack(run_roots(&roots, cfg)?)
}

impl AnyDelayed {
    /// The call's key.
    pub fn key(&self) -> String {
        self.node.key()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Scheduler;
    use crate::delayed::call;

    #[test]
    fn shared_calls_run_once_and_chains_are_deep() {
        let runs = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let r = runs.clone();
        let base = call(
            move |n: u64| {
                r.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                n
            },
            5u64,
        );
        let a = call(|x: u64| x + 1, &base);
        let b = call(|x: u64| x * 2, &base);
        assert_eq!(compute((&a, &b, &base)).unwrap(), (6, 10, 5));
        assert_eq!(runs.load(std::sync::atomic::Ordering::SeqCst), 1);
        let mut x = call(|| 0u64, ());
        for _ in 0..100_000 {
            x = call(|v: u64| v + 1, x);
        }
        let cfg = Config::default().with_scheduler(Scheduler::Sync);
        assert_eq!(x.compute_with(&cfg).unwrap(), 100_000);
    }

    #[test]
    fn panics_name_the_call() {
        fn explode(x: u64) -> u64 {
            if x > 1 {
                panic!("too big: {x}");
            }
            x
        }
        let bad = crate::delayed!(explode(5));
        let sum = call(|v: Vec<u64>| v.len(), vec![bad.clone(), crate::delayed!(explode(0))]);
        for scheduler in [Scheduler::Sync, Scheduler::Threads(2)] {
            let err = sum.compute_with(&Config::default().with_scheduler(scheduler)).unwrap_err();
            assert_eq!(err.to_string(), format!("task {} (explode) panicked: too big: 5", bad.key()));
        }
        let text = sum.explain();
        assert!(text.contains("delayed: 3 tasks, depth 2, 1 outputs"), "{text}");
        assert!(sum.to_dot().contains("t0 -> t2;"), "{}", sum.to_dot());
    }
}
