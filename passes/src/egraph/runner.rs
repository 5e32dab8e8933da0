//! Bounded equality saturation: each iteration searches every e-node with every rule
//! (read-only), then adds the replacements and unions them with their classes, then
//! rebuilds the e-graph. It stops when an iteration changes nothing (saturated) or at a
//! limit on iterations, e-nodes or time, and reports which. kiln runs its own loop rather
//! than egg's `Runner` because rules carry typed parameters (slice specs, views, chunks)
//! that egg's pattern substitutions cannot hold.

use std::fmt;
use std::time::{Duration, Instant};

use egg::Id;

use crate::egraph::language::{EGraph, ENode};
use crate::egraph::rules::{Ctx, Rule, Term};

/// Bounds on saturation.
#[derive(Clone, Debug, PartialEq)]
pub struct Limits {
    /// Most iterations (search, apply, rebuild).
    pub iterations: usize,
    /// Most e-nodes the rules may add to the input's.
    pub nodes: usize,
    /// Most wall time for saturation.
    pub time: Duration,
}

impl Default for Limits {
    /// 1,000 iterations (searching is incremental, and a slice moves one op down per
    /// iteration), 10,000 added e-nodes, 100 ms.
    fn default() -> Self {
        Limits { iterations: 1_000, nodes: 10_000, time: Duration::from_millis(100) }
    }
}

/// Why saturation stopped.
#[derive(Clone, Debug, PartialEq)]
pub enum StopReason {
    /// An iteration changed nothing: every rule's result is already in the e-graph.
    Saturated,
    /// The iteration limit was reached.
    IterationLimit(usize),
    /// The rules added more e-nodes than the limit allows.
    NodeLimit(usize),
    /// The time limit ran out.
    TimeLimit(Duration),
}

impl fmt::Display for StopReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StopReason::Saturated => f.write_str("saturated"),
            StopReason::IterationLimit(n) => write!(f, "iteration limit {n}"),
            StopReason::NodeLimit(n) => write!(f, "node limit {n}"),
            StopReason::TimeLimit(t) => write!(f, "time limit {} ms", t.as_millis()),
        }
    }
}

/// What saturation did.
#[derive(Clone, Debug)]
pub struct RunReport {
    /// Why it stopped.
    pub stop_reason: StopReason,
    /// Iterations run.
    pub iterations: usize,
    /// Per rule (in the order given), how many unions its results made.
    pub fired: Vec<usize>,
    /// Replacements dropped because their metadata differed from their class's.
    pub rejected: usize,
}

/// Adds a replacement to the e-graph; returns its class. Classes it makes go to `touched`.
fn add_term(egraph: &mut EGraph, term: &Term, touched: &mut Vec<Id>) -> Id {
    match term {
        Term::Class(id) => egraph.find(*id),
        Term::Node { op, meta, inputs } => {
            let children: Box<[Id]> = inputs.iter().map(|t| add_term(egraph, t, touched)).collect();
            let key = egraph.analysis.keys.intern(op.clone(), meta.clone());
            let n_classes = egraph.number_of_classes();
            let id = egraph.add(ENode { key, children });
            if egraph.number_of_classes() > n_classes {
                touched.push(id);
            }
            id
        }
    }
}

/// Saturates `egraph` with `rules` within `limits`.
///
/// Searching is incremental: a rule's matches at a node depend only on the node and the
/// nodes of its input classes, so after the first iteration only the classes an iteration
/// made or merged, and their parents, are searched again (everything, after a rebuild that
/// merged classes by congruence). An iteration costs what changed, so a slice can travel
/// down a long chain one op per iteration without rescanning the whole e-graph.
pub fn saturate(egraph: &mut EGraph, rules: &[&Rule], limits: &Limits) -> RunReport {
    let start = Instant::now();
    let mut fired = vec![0; rules.len()];
    let mut rejected = 0;
    let mut iterations = 0;
    let mut dirty: Vec<Id> = egraph.classes().map(|c| c.id).collect();
    let max_nodes = egraph.total_size().saturating_add(limits.nodes);
    let stop_reason = loop {
        if iterations >= limits.iterations {
            break StopReason::IterationLimit(limits.iterations);
        }
        if start.elapsed() > limits.time {
            break StopReason::TimeLimit(limits.time);
        }
        iterations += 1;
        dirty.sort_unstable();
        dirty.dedup();
        let mut found: Vec<(usize, Id, Term)> = Vec::new();
        {
            let ctx = Ctx { egraph };
            for &id in &dirty {
                let class = &egraph[id];
                for node in &class.nodes {
                    for (r, rule) in rules.iter().enumerate() {
                        found.extend((rule.search)(&ctx, node).into_iter().map(|t| (r, class.id, t)));
                    }
                }
            }
        }
        let mut touched: Vec<Id> = Vec::new();
        let mut changed = false;
        let mut over_limit = false;
        for (r, class, term) in found {
            let class = egraph.find(class);
            let same_meta = match &term {
                Term::Class(id) => egraph[*id].data.meta == egraph[class].data.meta,
                Term::Node { meta, .. } => *meta == egraph[class].data.meta,
            };
            if !same_meta {
                rejected += 1;
                continue;
            }
            let id = add_term(egraph, &term, &mut touched);
            if egraph.union(class, id) {
                fired[r] += 1;
                changed = true;
                touched.push(class);
            }
            if egraph.total_size() > max_nodes {
                over_limit = true;
                break;
            }
        }
        let congruences = egraph.rebuild();
        if over_limit {
            break StopReason::NodeLimit(limits.nodes);
        }
        if !changed {
            break StopReason::Saturated;
        }
        dirty = if congruences > 0 {
            egraph.classes().map(|c| c.id).collect()
        } else {
            let mut next = Vec::with_capacity(touched.len() * 2);
            for id in touched {
                let id = egraph.find(id);
                next.push(id);
                next.extend(egraph[id].parents().map(|p| egraph.find(p)));
            }
            next
        };
    };
    RunReport { stop_reason, iterations, fired, rejected }
}
