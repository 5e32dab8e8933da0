//! What one run of the e-graph optimizer did: the one-line summary the pipeline records,
//! and the full report verbose `explain` prints (stop reason, iterations, e-graph size,
//! rules fired, costs, times).

use std::fmt;
use std::time::Duration;

use crate::egraph::runner::StopReason;

/// The full report of one optimizer run.
#[derive(Clone, Debug)]
pub struct SimplifyReport {
    /// Why saturation stopped.
    pub stop_reason: StopReason,
    /// Saturation iterations.
    pub iterations: usize,
    /// E-nodes in the saturated e-graph.
    pub egraph_nodes: usize,
    /// E-classes in the saturated e-graph.
    pub egraph_classes: usize,
    /// Rules that made unions, with how many, in rulebook order.
    pub rules_fired: Vec<(&'static str, usize)>,
    /// Rule results dropped because their metadata differed from their class's.
    pub rejected: usize,
    /// Expression nodes before.
    pub nodes_before: usize,
    /// Expression nodes after.
    pub nodes_after: usize,
    /// Estimated cost before (see `cost.rs`).
    pub cost_before: f64,
    /// Estimated cost of the plan returned.
    pub cost_after: f64,
    /// Improvements the extractor's sharing-aware search made over tree costs.
    pub extract_improvements: usize,
    /// Whether the returned expressions differ from the input.
    pub changed: bool,
    /// Why the input was returned unchanged despite a cheaper plan (a failed rebuild, which
    /// would be a bug in a rule); `None` normally.
    pub fallback: Option<String>,
    /// Time spent saturating.
    pub saturate_time: Duration,
    /// Time spent extracting and rebuilding.
    pub extract_time: Duration,
    /// Total time.
    pub total_time: Duration,
}

impl SimplifyReport {
    /// Distinct rules that fired.
    pub fn n_rules_fired(&self) -> usize {
        self.rules_fired.len()
    }

    /// The one-line summary for the pipeline: `12 → 9 nodes, 3 rules fired (saturated)`.
    pub fn summary(&self) -> String {
        let rules = match self.n_rules_fired() {
            1 => "1 rule".to_string(),
            n => format!("{n} rules"),
        };
        let mut s = format!("{} → {} nodes, {rules} fired ({})", self.nodes_before, self.nodes_after, self.stop_reason);
        if self.fallback.is_some() {
            s.push_str(", kept the input");
        }
        s
    }
}

impl fmt::Display for SimplifyReport {
    /// Several lines: the summary, saturation, the rules fired, extraction and costs.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{}", self.summary())?;
        writeln!(
            f,
            "  saturation: {} after {} iterations, {} e-nodes in {} e-classes, {:.2} ms",
            self.stop_reason,
            self.iterations,
            self.egraph_nodes,
            self.egraph_classes,
            self.saturate_time.as_secs_f64() * 1e3
        )?;
        if !self.rules_fired.is_empty() {
            let fired: Vec<String> = self.rules_fired.iter().map(|(name, n)| format!("{name} ×{n}")).collect();
            writeln!(f, "  rules fired: {}", fired.join(", "))?;
        }
        writeln!(
            f,
            "  extraction: cost {:.3e} → {:.3e}, {} sharing-aware changes, {:.2} ms",
            self.cost_before,
            self.cost_after,
            self.extract_improvements,
            self.extract_time.as_secs_f64() * 1e3
        )?;
        if let Some(why) = &self.fallback {
            writeln!(f, "  kept the input: {why}")?;
        }
        Ok(())
    }
}
