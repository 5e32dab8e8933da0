//! `explain()`: the plan of a computation as text, stage by stage — the expression, what each
//! pass did, and the task graph's size. The default form has no timings (snapshot tests pin
//! it); the verbose form adds timings, the expression after each pass that changed it, and
//! the task list of small graphs.

use std::fmt::Write;

use kiln_ir::Expr;
use kiln_ir::expr_text::listing;
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
    indent(&mut out, &listing(&roots));
    let opts = cfg.pass_options();
    let mut records: Vec<PassRecord> = Vec::new();
    let roots = if cfg.optimize {
        match kiln_passes::optimize_exprs(&roots, &opts) {
            Ok((optimized, recs)) => {
                if optimized != roots {
                    out.push_str("optimized expression:\n");
                    indent(&mut out, &listing(&optimized));
                }
                records.extend(recs);
                optimized
            }
            Err(e) => {
                let _ = writeln!(out, "error: {e}");
                return out;
            }
        }
    } else {
        roots
    };
    match kiln_passes::build_graph(&roots, &opts) {
        Ok((graph, recs)) => {
            records.extend(recs);
            out.push_str("passes:\n");
            for r in &records {
                if verbose {
                    let _ = writeln!(out, "  {}: {} ({:.3} ms)", r.name, r.summary, r.elapsed.as_secs_f64() * 1e3);
                } else {
                    let _ = writeln!(out, "  {}: {}", r.name, r.summary);
                }
            }
            let _ = writeln!(out, "task graph: {}", graph.stats());
            if verbose && graph.len() <= LIST_TASKS_UP_TO {
                indent(&mut out, &graph.to_string());
            }
        }
        Err(e) => {
            let _ = writeln!(out, "error: {e}");
        }
    }
    out
}

fn indent(out: &mut String, text: &str) {
    for line in text.lines() {
        out.push_str("  ");
        out.push_str(line);
        out.push('\n');
    }
}
