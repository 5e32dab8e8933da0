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
  bench [--size N] [--chunk C]  the benchmark workloads once each (default 8192, 1024)

environment: KILN_SCHEDULER=sync|threads, KILN_THREADS=n, KILN_OPTIMIZE=0|1";

/// The result type of subcommands.
pub type CliResult = Result<(), Box<dyn std::error::Error>>;

/// Reads `--size N` and `--chunk C` from `args`, with defaults.
pub fn size_and_chunk(args: &[String], size: usize, chunk: usize) -> Result<(usize, usize), String> {
    let (mut size, mut chunk) = (size, chunk);
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let target = match a.as_str() {
            "--size" => &mut size,
            "--chunk" => &mut chunk,
            other => return Err(format!("unknown option {other:?}")),
        };
        let v = it.next().ok_or_else(|| format!("{a} needs a value"))?;
        *target = v.parse().map_err(|_| format!("{a} {v:?}: expected a positive integer"))?;
        if *target == 0 {
            return Err(format!("{a} must be positive"));
        }
    }
    Ok((size, chunk))
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
