//! The e-graph optimizer (egg): rewrites expressions with a named table of exact rules and
//! extracts the cheapest equivalent plan.
