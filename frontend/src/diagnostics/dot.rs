//! GraphViz exports of arrays: `Array::to_dot()` (the task graph a compute would run, like
//! Dask's `visualize`) and `Array::expr_dot()` (the expression DAG).

use kiln_ir::dot::expr_to_dot;

use crate::array::Array;
use crate::config::{self, Config};
use crate::error::Result;

impl Array {
    /// The task graph computing this array would run (optimized, with the global settings)
    /// in GraphViz DOT: one node per task labelled with its key, a colour per op, one cluster
    /// per expression node; graphs over [`DOT_TASK_LIMIT`](kiln_ir::dot::DOT_TASK_LIMIT)
    /// tasks are summarised with one box per expression node. Render it with
    /// `dot -Tsvg graph.dot -o graph.svg`. An invalid array gives its error.
    pub fn to_dot(&self) -> Result<String> {
        self.to_dot_with(&config::get()?)
    }

    /// [`Array::to_dot`] with the given settings (`with_optimize(false)` shows the graph as
    /// lowered, before culling and fusion).
    pub fn to_dot_with(&self, cfg: &Config) -> Result<String> {
        Ok(self.task_graph(cfg)?.to_dot())
    }

    /// The expression behind this array (as built, not optimized) in GraphViz DOT: one node
    /// per operation with its dtype, shape and chunks.
    pub fn expr_dot(&self) -> Result<String> {
        self.check()?;
        Ok(expr_to_dot(std::slice::from_ref(self.expr())))
    }
}

#[cfg(test)]
mod tests {
    use crate::array as ka;
    use crate::config::Config;

    #[test]
    fn dot_of_an_array_and_of_its_expression() {
        let x = ka::ones([4, 4], [2, 2]);
        let y = (&x + 1.0).sum();
        let cfg = Config::default();
        let graph = y.task_graph(&cfg).unwrap();
        let dot = y.to_dot_with(&cfg).unwrap();
        assert_eq!(dot.matches(" [label=").count(), graph.len(), "{dot}");
        let expr = y.expr_dot().unwrap();
        assert!(expr.contains("ones") || expr.contains("full"), "{expr}");
        let bad = ka::ones([4], [2]) + ka::ones([3], [3]);
        assert!(bad.to_dot_with(&cfg).is_err() && bad.expr_dot().is_err());
    }
}
