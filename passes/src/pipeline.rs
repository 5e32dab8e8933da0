//! The pass pipeline: the ordered lists of expression passes and graph passes, the registry
//! that lets any pass but lowering be switched off by name, and the driver that times each
//! pass, records a one-line summary of what it did, and (with `PassOptions::verify`) runs
//! the verifier after it, naming the pass that broke an invariant.

use std::time::{Duration, Instant};

use kiln_ir::{Expr, TaskGraph};

use crate::cull::Cull;
use crate::egraph::Simplify;
use crate::fuse_blockwise::FuseBlockwise;
use crate::fuse_linear::FuseLinear;
use crate::lower::Lower;
use crate::order::Order;
use crate::verify::{OutputSignature, verify_exprs, verify_graph};
use crate::{Error, PassOptions, PassRecord, Result, Stage};

/// What a pass returns: its result, whether it changed anything, and a one-line summary
/// for `explain` (`300 → 120 tasks`).
#[derive(Clone, Debug)]
pub struct PassOutcome<T> {
    /// The rewritten expressions or graph.
    pub result: T,
    /// Whether the pass changed anything.
    pub changed: bool,
    /// What it did, in a few words.
    pub summary: String,
    /// More about what it did, for verbose `explain` (empty when there is nothing more).
    pub details: String,
}

/// A pass that rewrites expressions. Its `name()` is its file name.
pub trait ExprPass: Sync {
    /// The pass's name, used in records and to switch it off.
    fn name(&self) -> &'static str;
    /// Rewrites `roots`; the result has one expression per root, with the same dtype,
    /// shape and chunks.
    fn run(&self, roots: Vec<Expr>, opts: &PassOptions) -> Result<PassOutcome<Vec<Expr>>>;
}

/// A pass that rewrites a task graph. Its `name()` is its file name.
pub trait GraphPass: Sync {
    /// The pass's name, used in records and to switch it off.
    fn name(&self) -> &'static str;
    /// Rewrites `graph`, keeping its outputs (dtype, shape, chunks and task keys).
    fn run(&self, graph: TaskGraph, opts: &PassOptions) -> Result<PassOutcome<TaskGraph>>;
}

/// The expression passes, in order.
pub fn expr_passes() -> &'static [&'static dyn ExprPass] {
    &[
        // Simplify runs first: its rewrites (identities, slice pushdown into sources) see the
        // expression as the user built it, and what it removes never reaches fusion.
        &Simplify,
        // Fusion runs last among expression passes: it turns groups of blockwise nodes into
        // opaque `fused` nodes that rewrites (simplify, pushdowns) cannot look into, so every
        // rewrite must come before it; and what they remove (identity ops, pushed-down
        // slices) must be gone before groups are formed.
        &FuseBlockwise,
    ]
}

/// The graph passes, in order, run after lowering (which always runs first: it is what
/// makes the graph).
pub fn graph_passes() -> &'static [&'static dyn GraphPass] {
    &[
        // Cull comes before order, so that order renumbers only the tasks that will run.
        &Cull,
        // Order comes after every pass that adds, removes or moves tasks: they would undo
        // its depth-first numbering, which the runtime uses as priorities.
        &Order,
        // Linear fusion only marks tasks, and renumbering drops its marks: it runs last.
        &FuseLinear,
    ]
}

/// Every pass's name, in pipeline order: expression passes, `lower`, graph passes.
pub fn pass_names() -> Vec<&'static str> {
    let mut names: Vec<&'static str> = expr_passes().iter().map(|p| p.name()).collect();
    names.push(Lower::NAME);
    names.extend(graph_passes().iter().map(|p| p.name()));
    names
}

/// Checks that every name in `opts.disabled` is a pass that can be switched off.
fn check_disabled(opts: &PassOptions) -> Result<()> {
    let names = pass_names();
    for name in &opts.disabled {
        if name == Lower::NAME {
            return Err(kiln_ir::Error::invalid("passes", "pass \"lower\" cannot be disabled").into());
        }
        if !names.contains(&name.as_str()) {
            let known: Vec<&str> = names.iter().copied().filter(|n| *n != Lower::NAME).collect();
            return Err(kiln_ir::Error::invalid(
                "passes",
                format!("unknown pass {name:?} cannot be disabled (passes: {})", known.join(", ")),
            )
            .into());
        }
    }
    Ok(())
}

fn is_disabled(opts: &PassOptions, name: &str) -> bool {
    opts.disabled.iter().any(|d| d == name)
}

fn disabled_record(name: &'static str, stage: Stage) -> PassRecord {
    PassRecord {
        name,
        stage,
        elapsed: Duration::ZERO,
        changed: false,
        summary: "disabled".into(),
        details: String::new(),
    }
}

/// Runs the expression passes over `roots` (none when `opts.optimize` is off), calling
/// `observe` after each pass that ran.
pub fn run_expr_passes(
    roots: &[Expr],
    opts: &PassOptions,
    observe: &mut dyn FnMut(&PassRecord, &[Expr]),
) -> Result<(Vec<Expr>, Vec<PassRecord>)> {
    check_disabled(opts)?;
    let mut exprs = roots.to_vec();
    let mut records = Vec::new();
    let signature = opts.verify.then(|| OutputSignature::of_roots(roots));
    for pass in expr_passes() {
        if !opts.optimize || is_disabled(opts, pass.name()) {
            records.push(disabled_record(pass.name(), Stage::Expr));
            continue;
        }
        let start = Instant::now();
        let outcome = pass.run(exprs, opts)?;
        let elapsed = start.elapsed();
        exprs = outcome.result;
        if let Some(signature) = &signature {
            verify_exprs(&exprs)
                .and_then(|()| signature.check_same(&OutputSignature::of_roots(&exprs)))
                .map_err(|message| Error::Verify { pass: pass.name(), message })?;
        }
        let record = PassRecord {
            name: pass.name(),
            stage: Stage::Expr,
            elapsed,
            changed: outcome.changed,
            summary: outcome.summary,
            details: outcome.details,
        };
        observe(&record, &exprs);
        records.push(record);
    }
    Ok((exprs, records))
}

/// Lowers `roots` and runs the graph passes, calling `observe` after lowering and after
/// each graph pass that ran.
pub fn run_graph_passes(
    roots: &[Expr],
    opts: &PassOptions,
    observe: &mut dyn FnMut(&PassRecord, &TaskGraph),
) -> Result<(TaskGraph, Vec<PassRecord>)> {
    check_disabled(opts)?;
    run_graph_list(roots, graph_passes(), opts, observe)
}

/// Lowers `roots` and runs `passes` in order.
fn run_graph_list(
    roots: &[Expr],
    passes: &[&dyn GraphPass],
    opts: &PassOptions,
    observe: &mut dyn FnMut(&PassRecord, &TaskGraph),
) -> Result<(TaskGraph, Vec<PassRecord>)> {
    let mut records = Vec::new();
    let start = Instant::now();
    let lowered = Lower.run(roots, opts)?;
    let elapsed = start.elapsed();
    let mut graph = lowered.result;
    if opts.verify {
        verify_graph(&graph)
            .and_then(|()| OutputSignature::of_roots(roots).check(&graph))
            .map_err(|message| Error::Verify { pass: Lower::NAME, message })?;
    }
    let record = PassRecord {
        name: Lower::NAME,
        stage: Stage::Lower,
        elapsed,
        changed: lowered.changed,
        summary: lowered.summary,
        details: lowered.details,
    };
    observe(&record, &graph);
    records.push(record);
    for pass in passes {
        if is_disabled(opts, pass.name()) {
            records.push(disabled_record(pass.name(), Stage::Graph));
            continue;
        }
        let signature = opts.verify.then(|| OutputSignature::of_graph(&graph));
        let start = Instant::now();
        let outcome = pass.run(graph, opts)?;
        let elapsed = start.elapsed();
        graph = outcome.result;
        if let Some(signature) = &signature {
            verify_graph(&graph)
                .and_then(|()| signature.check(&graph))
                .map_err(|message| Error::Verify { pass: pass.name(), message })?;
        }
        let record = PassRecord {
            name: pass.name(),
            stage: Stage::Graph,
            elapsed,
            changed: outcome.changed,
            summary: outcome.summary,
            details: outcome.details,
        };
        observe(&record, &graph);
        records.push(record);
    }
    Ok((graph, records))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::*;

    #[test]
    fn names_follow_the_pipeline() {
        assert_eq!(pass_names(), vec!["simplify", "fuse_blockwise", "lower", "cull", "order", "fuse_linear"]);
    }

    #[test]
    fn records_summarize_every_pass() {
        let x = uniform(&[8, 8], &[2, 2], 1);
        let y = reduce(kiln_ir::ReduceOp::Sum, &slice(&x, ndarray::s![..2, ..].as_ref()), None);
        let (_, records) = crate::build_graph(&[y], &PassOptions { verify: true, ..Default::default() }).unwrap();
        let text: Vec<String> = records.iter().map(|r| format!("{}: {}", r.name, r.summary)).collect();
        insta::assert_snapshot!(text.join("\n"), @"
        lower: 3 nodes → 25 tasks
        cull: 25 → 13 tasks
        order: 13 tasks, 10 moved
        fuse_linear: 13 tasks, 12 in 4 linear chains
        ");
        assert!(records.iter().all(|r| r.changed));
    }

    #[test]
    fn disabled_passes_are_recorded_and_skipped() {
        let x = uniform(&[4], &[2], 1);
        let opts = PassOptions { disabled: vec!["cull".into(), "order".into()], ..Default::default() };
        let (graph, records) = crate::build_graph(&[exp(&x)], &opts).unwrap();
        let text: Vec<String> = records.iter().map(|r| format!("{}: {}", r.name, r.summary)).collect();
        insta::assert_snapshot!(text.join("\n"), @"
        lower: 2 nodes → 4 tasks
        cull: disabled
        order: disabled
        fuse_linear: 4 tasks, 4 in 2 linear chains
        ");
        assert_eq!(graph.len(), 4);
    }

    #[test]
    fn unknown_or_required_passes_cannot_be_disabled() {
        let x = uniform(&[4], &[2], 1);
        let err = |name: &str| {
            let opts = PassOptions { disabled: vec![name.into()], ..Default::default() };
            crate::build_graph(std::slice::from_ref(&x), &opts).unwrap_err().to_string()
        };
        insta::assert_snapshot!(err("cul"), @r#"passes: unknown pass "cul" cannot be disabled (passes: simplify, fuse_blockwise, cull, order, fuse_linear)"#);
        insta::assert_snapshot!(err("lower"), @r#"passes: pass "lower" cannot be disabled"#);
    }

    #[test]
    fn optimize_exprs_records_every_expression_pass() {
        let x = uniform(&[4], &[2], 1);
        let (exprs, records) = crate::optimize_exprs(std::slice::from_ref(&x), &opts(&[])).unwrap();
        assert_eq!(exprs, vec![x.clone()]);
        let text: Vec<String> = records.iter().map(|r| format!("{}: {}", r.name, r.summary)).collect();
        insta::assert_snapshot!(text.join("\n"), @"
        simplify: 1 → 1 nodes, 0 rules fired (saturated)
        fuse_blockwise: 1 nodes, no kernels
        ");
        let y = exp(&x);
        let (exprs, records) = crate::optimize_exprs(std::slice::from_ref(&y), &opts(&[])).unwrap();
        assert!(matches!(exprs[0].op(), kiln_ir::Op::Fused { .. }));
        assert_eq!(records[1].summary, "2 → 1 nodes, 1 kernel");
        let off = PassOptions { optimize: false, ..opts(&[]) };
        let (exprs, records) = crate::optimize_exprs(std::slice::from_ref(&y), &off).unwrap();
        assert_eq!((exprs, records[0].summary.as_str()), (vec![y.clone()], "disabled"));
        let (exprs, _) = crate::optimize_exprs(std::slice::from_ref(&y), &opts(&["fuse_blockwise"])).unwrap();
        assert_eq!(exprs, vec![y]);
    }

    /// A graph pass that drops an output's task, to show the verifier naming it.
    struct DropOutput;

    impl GraphPass for DropOutput {
        fn name(&self) -> &'static str {
            "drop_output"
        }

        fn run(&self, graph: TaskGraph, _: &PassOptions) -> Result<PassOutcome<TaskGraph>> {
            let mut b = kiln_ir::TaskGraphBuilder::new();
            for n in graph.nodes() {
                b.add_node(n.expr.clone(), n.aux.clone());
            }
            for (i, t) in graph.tasks().iter().enumerate().take(graph.len() - 1) {
                b.add_task(t.node, t.kind, t.index, graph.deps(kiln_ir::TaskId(i as u32)));
            }
            let out = &graph.outputs()[0];
            b.add_output(out.node, out.tasks[..out.tasks.len() - 1].to_vec());
            Ok(PassOutcome { result: b.finish(), changed: true, summary: String::new(), details: String::new() })
        }
    }

    #[test]
    fn the_verifier_names_the_pass_that_broke_the_graph() {
        let x = uniform(&[4], &[2], 1);
        let opts = PassOptions { verify: true, ..Default::default() };
        let err = run_graph_list(&[exp(&x)], &[&Cull, &DropOutput, &Order], &opts, &mut |_, _| {}).unwrap_err();
        insta::assert_snapshot!(err.to_string(), @"internal error: pass drop_output produced an invalid result: output 0 has 1 tasks for 2 blocks");
    }
}
