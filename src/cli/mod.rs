//! Subcommands of the `kiln` binary and their shared helpers.

pub mod bench;
pub mod tour;

/// What `kiln --help` prints.
pub const USAGE: &str = "\
usage: kiln <command> [options]

commands:
  tour [--size N] [--chunk C]   Dask's front-page example (x - x.mean(axis=1) on a random
                                N×N array, default 20000 in 2000×2000 chunks) and more,
                                printing each plan, a summary of each result and the time
  bench [--size N] [--chunk C] [--repeats R] [--only A1]
                                the benchmark workloads (default 8192 in 1024 chunks), the
                                best of R timed runs (default 3) after a warm-up

environment: KILN_SCHEDULER=sync|threads, KILN_THREADS=n, KILN_OPTIMIZE=0|1";

/// The result type of subcommands.
pub type CliResult = Result<(), Box<dyn std::error::Error>>;

/// Options of the subcommands: `--size N`, `--chunk C`, `--repeats R`.
pub struct Options {
    /// Side of the square arrays.
    pub size: usize,
    /// Side of the square blocks.
    pub chunk: usize,
    /// Timed runs per workload (the minimum is reported).
    pub repeats: usize,
    /// Only the workloads whose key starts with this (`--only A3`).
    pub only: Option<String>,
}

/// Reads the options from `args`, starting from the given defaults.
pub fn parse_options(args: &[String], defaults: Options) -> Result<Options, String> {
    let mut o = defaults;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        if a == "--only" {
            o.only = Some(it.next().ok_or("--only needs a workload name")?.clone());
            continue;
        }
        let target = match a.as_str() {
            "--size" => &mut o.size,
            "--chunk" => &mut o.chunk,
            "--repeats" => &mut o.repeats,
            other => return Err(format!("unknown option {other:?}")),
        };
        let v = it.next().ok_or_else(|| format!("{a} needs a value"))?;
        *target = v.parse().map_err(|_| format!("{a} {v:?}: expected a positive integer"))?;
        if *target == 0 {
            return Err(format!("{a} must be positive"));
        }
    }
    Ok(o)
}

/// Thousands separators for people: `20000` → `20,000`.
pub fn thousands(n: usize) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}
