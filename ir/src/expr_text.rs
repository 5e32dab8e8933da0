//! The text form of expressions: one line per node in topological order, SSA style, e.g.
//! `%3 = sub(%0, %2) : f64(20000, 20000) chunks=(2000×10, 2000×10)`. It is what `explain()`
//! prints, what snapshot tests pin and what error messages quote.

use std::collections::HashMap;
use std::fmt;

use crate::expr::Expr;
use crate::op::Op;

/// Writes the listing of every node reachable from `roots`; roots are marked `→ out0`, ...
/// when there are several.
pub fn write_listing(f: &mut dyn fmt::Write, roots: &[Expr]) -> fmt::Result {
    let order = Expr::topo_order(roots);
    let mut ids: HashMap<usize, usize> = HashMap::with_capacity(order.len());
    for (i, e) in order.iter().enumerate() {
        ids.insert(e.addr(), i);
    }
    for (i, e) in order.iter().enumerate() {
        let inputs: Vec<String> = e.inputs().iter().map(|x| format!("%{}", ids[&x.addr()])).collect();
        let mut params = Vec::new();
        let ndim_in = e.inputs().first().map_or(0, Expr::ndim);
        e.op().write_params(&mut params, ndim_in);
        if matches!(e.op(), Op::AsType) {
            params.push(e.dtype().to_string());
        }
        let name = match e.op() {
            Op::Full(_) if e.meta().weak.is_some() => "scalar",
            op => op.name(),
        };
        let (inputs, params) = (inputs.join(", "), params.join(", "));
        let body = match (inputs.is_empty(), params.is_empty()) {
            (_, true) => inputs,
            (true, false) => params,
            (false, false) => format!("{inputs}; {params}"),
        };
        write!(f, "%{i} = {name}({body}) : {}{}", e.dtype(), e.shape())?;
        if e.ndim() > 0 {
            write!(f, " chunks={}", e.chunks())?;
        }
        if roots.len() > 1 {
            let outs: Vec<String> = roots
                .iter()
                .enumerate()
                .filter(|(_, r)| r.addr() == e.addr())
                .map(|(k, _)| format!("out{k}"))
                .collect();
            if !outs.is_empty() {
                write!(f, "  → {}", outs.join(", "))?;
            }
        }
        writeln!(f)?;
    }
    Ok(())
}

/// The listing as a `String`.
pub fn listing(roots: &[Expr]) -> String {
    let mut s = String::new();
    write_listing(&mut s, roots).expect("writing to a String cannot fail");
    s
}

impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_listing(f, std::slice::from_ref(self))
    }
}
