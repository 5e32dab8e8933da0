//! DAG-aware extraction: picks one e-node per needed e-class so the chosen plan costs least,
//! where a class used by several consumers is computed once and counted once.
//!
//! egg's `Extractor` sums tree costs, so a shared value is paid for once per use; that
//! makes pushing a slice into a shared subexpression look free when it actually computes
//! the subexpression twice. kiln extracts in two steps:
//! 1. tree costs, bottom-up (a worklist over parents, so it is linear for DAGs), give every
//!    class a cheapest node and every node a finite cost or none (cycles);
//! 2. local search on the DAG cost (the sum of the chosen nodes' own costs over the classes
//!    reachable from the roots, each once). Tree costs over-count shared values, so they
//!    err on the side of recomputing: the search tries, for each reachable class, the
//!    alternatives whose inputs the plan computes anyway, and keeps one when the whole plan
//!    gets cheaper (and stays acyclic); it repeats until nothing improves or a work budget
//!    runs out.
//!
//! So `x.slice(..).sum() + x.sum()` keeps one `x` (slicing the shared `x` is cheaper than
//! recomputing the sliced part), while a slice of a shared random source is still pushed
//! into the source (regenerating is cheaper than pinning).

use std::collections::VecDeque;

use egg::Id;
use kiln_ir::Meta;

use crate::egraph::cost::node_cost;
use crate::egraph::language::{EGraph, node_key};

/// Most class visits the local search may spend (a few milliseconds).
pub const SEARCH_BUDGET: usize = 2_000_000;

/// The chosen node (an index into the class's nodes) of every class with a finite cost.
#[derive(Clone, Debug)]
pub struct Selection {
    /// Class (by `usize::from(id)`) → index of its chosen node, for canonical classes with
    /// an acyclic plan.
    pub choice: Vec<Option<usize>>,
    /// The DAG cost of the plan for the roots.
    pub cost: f64,
    /// Improvements the local search made.
    pub improvements: usize,
    /// Whether the local search stopped at its budget.
    pub budget_exhausted: bool,
}

impl Selection {
    /// The chosen node of class `id`.
    pub fn get(&self, id: Id) -> Option<usize> {
        self.choice.get(usize::from(id)).copied().flatten()
    }
}

/// Dense per-class tables, indexed by `usize::from(id)` of canonical ids.
struct Tables {
    /// Own cost of every node of every class.
    own: Vec<Vec<f64>>,
    /// Canonical children of every node of every class.
    children: Vec<Vec<Vec<usize>>>,
}

fn tables(egraph: &EGraph) -> Tables {
    let n = egraph.classes().map(|c| usize::from(c.id) + 1).max().unwrap_or(0);
    let mut own = vec![Vec::new(); n];
    let mut children = vec![Vec::new(); n];
    for class in egraph.classes() {
        let i = usize::from(class.id);
        for node in &class.nodes {
            let (op, meta) = node_key(egraph, node);
            let inputs: Vec<&Meta> = node.children.iter().map(|&c| &egraph[c].data.meta).collect();
            own[i].push(node_cost(op, meta, &inputs));
            children[i].push(node.children.iter().map(|&c| usize::from(egraph.find(c))).collect());
        }
    }
    Tables { own, children }
}

/// Cheapest tree cost and node of every class that has an acyclic plan.
fn tree_costs(egraph: &EGraph, t: &Tables) -> Vec<Option<(f64, usize)>> {
    let n = t.own.len();
    let mut best: Vec<Option<(f64, usize)>> = vec![None; n];
    let mut ids: Vec<Id> = egraph.classes().map(|c| c.id).collect();
    ids.sort_unstable();
    let mut queued = vec![false; n];
    for &id in &ids {
        queued[usize::from(id)] = true;
    }
    let mut queue: VecDeque<Id> = ids.into();
    while let Some(id) = queue.pop_front() {
        let i = usize::from(id);
        queued[i] = false;
        let mut improved = false;
        for (k, kids) in t.children[i].iter().enumerate() {
            let Some(below) = kids.iter().map(|&c| best[c].map(|b| b.0)).sum::<Option<f64>>() else { continue };
            let cost = t.own[i][k] + below;
            if best[i].is_none_or(|b| cost < b.0) {
                best[i] = Some((cost, k));
                improved = true;
            }
        }
        if improved {
            for parent in egraph[id].parents() {
                let p = egraph.find(parent);
                if !std::mem::replace(&mut queued[usize::from(p)], true) {
                    queue.push_back(p);
                }
            }
        }
    }
    best
}

/// The DAG cost of the plan `choice` for `roots` and the classes it reaches, inputs first;
/// `None` if the plan has a cycle or a class without a choice. Counts visits into `work`.
fn dag_cost(t: &Tables, choice: &[Option<usize>], roots: &[usize], work: &mut usize) -> Option<(f64, Vec<usize>)> {
    // 0: unvisited, 1: on the stack, 2: done.
    let mut state = vec![0u8; choice.len()];
    let mut order = Vec::new();
    let mut total = 0.0;
    let mut stack: Vec<(usize, bool)> = roots.iter().rev().map(|&r| (r, false)).collect();
    while let Some((i, expanded)) = stack.pop() {
        *work += 1;
        let k = choice[i]?;
        if expanded {
            state[i] = 2;
            total += t.own[i][k];
            order.push(i);
            continue;
        }
        match state[i] {
            2 => continue,
            1 => return None,
            _ => {}
        }
        state[i] = 1;
        stack.push((i, true));
        for &c in t.children[i][k].iter().rev() {
            match state[c] {
                2 => {}
                1 => return None,
                _ => stack.push((c, false)),
            }
        }
    }
    Some((total, order))
}

/// The cheapest plan this search finds for `roots` (canonical ids), or `None` when some
/// root has no acyclic plan.
pub fn extract(egraph: &EGraph, roots: &[Id]) -> Option<Selection> {
    let t = tables(egraph);
    let best = tree_costs(egraph, &t);
    let mut choice: Vec<Option<usize>> = best.iter().map(|b| b.map(|(_, k)| k)).collect();
    let roots: Vec<usize> = roots.iter().map(|&r| usize::from(egraph.find(r))).collect();
    let mut work = 0;
    let (mut cost, mut order) = dag_cost(&t, &choice, &roots, &mut work)?;
    let mut improvements = 0;
    let mut budget_exhausted = false;
    'rounds: for _round in 0..4 {
        let mut reachable = vec![false; choice.len()];
        for &i in &order {
            reachable[i] = true;
        }
        let mut improved = false;
        for &i in &order {
            let Some(current) = choice[i] else { continue };
            let mut best_here = (cost, current);
            for (k, kids) in t.children[i].iter().enumerate() {
                // Only alternatives that read values the plan computes anyway: tree costs
                // already chose well where nothing is shared.
                let candidate = k != current && !kids.is_empty() && kids.iter().all(|&c| reachable[c]);
                if !candidate {
                    continue;
                }
                choice[i] = Some(k);
                if let Some((c, _)) = dag_cost(&t, &choice, &roots, &mut work)
                    && c < best_here.0 * (1.0 - 1e-12)
                {
                    best_here = (c, k);
                }
                choice[i] = Some(best_here.1);
                if work > SEARCH_BUDGET {
                    budget_exhausted = true;
                    break 'rounds;
                }
            }
            if best_here.1 != current {
                cost = best_here.0;
                improvements += 1;
                improved = true;
            }
        }
        if !improved {
            break;
        }
        order = dag_cost(&t, &choice, &roots, &mut work)?.1;
    }
    let (cost, _) = dag_cost(&t, &choice, &roots, &mut work)?;
    Some(Selection { choice, cost, improvements, budget_exhausted })
}
