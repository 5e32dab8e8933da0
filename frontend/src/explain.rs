//! `explain()`: the plan of a computation as text, stage by stage — the expression, the plan
//! after rewrites (unchanged stages are folded), the fused kernels in their text form, what
//! each pass did, and the task graph's size and estimated peak memory. The default form has
//! no timings (snapshot tests pin it); the verbose form adds each pass's time and details
//! (the e-graph report), the expression after every pass that changed it, the JIT's figures
//! so far, and the task list of small graphs.

use std::fmt::Write;

use kiln_ir::expr_text::listing;
use kiln_ir::{Expr, Op};
use kiln_passes::PassRecord;

use crate::array::Array;
use crate::config::Config;

/// Graphs up to this many tasks are listed in verbose explain.
const LIST_TASKS_UP_TO: usize = 64;

/// The plan of computing `arrays` together.
pub(crate) fn explain(arrays: &[&Array], cfg: &Config, verbose: bool) -> String {
    let mut out = String::new();
    for a in arrays {
        if let Err(e) = a.check() {
            let _ = writeln!(out, "error: {e}");
            return out;
        }
    }
    let roots: Vec<Expr> = arrays.iter().map(|a| a.expr().clone()).collect();
    out.push_str("expression:\n");
    indent(&mut out, &listing(&roots), 1);
    let opts = cfg.pass_options();
    let mut after_each: Vec<(&'static str, String)> = Vec::new();
    let mut observe = |r: &PassRecord, exprs: &[Expr]| {
        if verbose && r.changed {
            after_each.push((r.name, listing(exprs)));
        }
    };
    let (optimized, mut records) = match kiln_passes::pipeline::run_expr_passes(&roots, &opts, &mut observe) {
        Ok(res) => res,
        Err(e) => {
            let _ = writeln!(out, "error: {e}");
            return out;
        }
    };
    if verbose {
        for (name, text) in &after_each {
            let _ = writeln!(out, "after {name}:");
            indent(&mut out, text, 1);
        }
    } else if optimized != roots {
        out.push_str("optimized expression:\n");
        indent(&mut out, &listing(&optimized), 1);
    }
    write_kernels(&mut out, &optimized);
    match kiln_passes::build_graph(&optimized, &opts) {
        Ok((graph, recs)) => {
            records.extend(recs);
            out.push_str("passes:\n");
            for r in &records {
                if verbose {
                    let _ = writeln!(out, "  {}: {} ({:.3} ms)", r.name, r.summary, r.elapsed.as_secs_f64() * 1e3);
                    indent(&mut out, &r.details, 2);
                } else {
                    let _ = writeln!(out, "  {}: {}", r.name, r.summary);
                }
            }
            let _ = writeln!(out, "task graph: {}", graph.stats());
            if verbose {
                let _ = writeln!(out, "{}", jit_line());
            }
            if verbose && graph.len() <= LIST_TASKS_UP_TO {
                indent(&mut out, &graph.to_string(), 1);
            }
        }
        Err(e) => {
            let _ = writeln!(out, "error: {e}");
        }
    }
    out
}

/// Lists the kernel of every fused node, named as the expression listing names them.
fn write_kernels(out: &mut String, roots: &[Expr]) {
    let fused: Vec<Expr> = Expr::topo_order(roots).into_iter().filter(|e| matches!(e.op(), Op::Fused { .. })).collect();
    if fused.is_empty() {
        return;
    }
    out.push_str("kernels:\n");
    for e in fused {
        if let Op::Fused { kernel, grid } = e.op() {
            let _ = writeln!(out, "  kernel={} over {grid}:", kernel.token().short());
            indent(out, &kernel.to_string(), 2);
        }
    }
}

/// The JIT's switch and what it did in this process so far (verbose explain only: the
/// figures change from run to run).
fn jit_line() -> String {
    let s = kiln_codegen::jit::stats();
    let state = if kiln_codegen::jit::enabled() { "on" } else { "off (KILN_JIT=0 or jit::set_enabled)" };
    format!(
        "jit: {state}; this process so far: {} kernels compiled in {:.3} ms ({} with host-filled math or random values), {} cache hits, {} runs ({} pairs of mirrored blocks summed in one pass), {} left to the interpreter, {} failed compiles",
        s.compiled,
        s.compile_time.as_secs_f64() * 1e3,
        s.filled,
        s.hits,
        s.runs,
        s.one_pass_pairs,
        s.fallbacks,
        s.failures
    )
}

fn indent(out: &mut String, text: &str, levels: usize) {
    for line in text.lines() {
        for _ in 0..levels {
            out.push_str("  ");
        }
        out.push_str(line);
        out.push('\n');
    }
}
