//! `FuseBlockwise`: merges connected blockwise operations into `Fused` nodes carrying one
//! kernel each.
