//! Larger than memory at scale: writes a random `f64` array of `--gib` GiB to a `.npy` file,
//! then under a memory budget of `--budget` (default a quarter of the file) computes its
//! `sum`, its `mean_axis(0)`, and stores `x - x.mean_axis(0)` back to disk, printing the time,
//! the peak resident memory of each step and what was spilled.
//!
//! `cargo run --release --example larger_than_memory -- --gib 4 [--budget 1GiB] [--dir /tmp]`

use std::path::PathBuf;
use std::time::Instant;

use kiln::array as ka;
use kiln::prelude::*;
use kiln::runtime::{MemoryBudget, parse_limit};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let (mut gib, mut budget, mut dir) = (4.0f64, None, std::env::temp_dir());
    while let Some(a) = args.next() {
        let mut value = || args.next().ok_or(format!("{a} needs a value"));
        match a.as_str() {
            "--gib" => gib = value()?.parse()?,
            "--budget" => budget = parse_limit(&value()?).flatten(),
            "--dir" => dir = PathBuf::from(value()?),
            other => return Err(format!("unknown argument {other}").into()),
        }
    }
    let cols = 8192usize;
    let rows = ((gib * (1u64 << 30) as f64) / (cols * 8) as f64) as usize / 1024 * 1024;
    let file_bytes = rows * cols * 8;
    let budget = budget.unwrap_or(file_bytes / 4);
    let cfg = Config::default().with_memory(Some(MemoryBudget::new(budget).with_spill_dir(&dir)));
    let chunks = [1024, 1024];
    println!(
        "array {rows} x {cols} f64 ({:.2} GiB), budget {:.2} GiB, {:?}",
        file_bytes as f64 / (1u64 << 30) as f64,
        budget as f64 / (1u64 << 30) as f64,
        cfg.scheduler
    );
    let input = dir.join(format!("kiln-ltm-{}.npy", std::process::id()));
    let output = dir.join(format!("kiln-ltm-{}-centred.npy", std::process::id()));
    step("write x (random → to_npy)", || ka::random::uniform([rows, cols], chunks, 1).to_npy_with(&input, &cfg))?;
    let x = ka::from_npy(&input, chunks)?;
    step("x.sum()", || x.sum().compute_with_stats(&cfg).map(|(v, s)| report(v.into_scalar::<f64>(), s)))?;
    step("x.mean_axis(0)", || x.mean_axis(Axis(0)).compute_with_stats(&cfg).map(|(_, s)| report(Ok(0.0), s)))?;
    step("(x - x.mean_axis(0)).to_npy", || (&x - &x.mean_axis(Axis(0))).to_npy_with(&output, &cfg))?;
    std::fs::remove_file(&input)?;
    std::fs::remove_file(&output)?;
    Ok(())
}

/// Runs one step, printing its time and peak resident memory.
fn step<T>(name: &str, f: impl FnOnce() -> kiln::Result<T>) -> kiln::Result<T> {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
    let start = Instant::now();
    let out = f()?;
    println!("{name:34} {:8.2} s   peak RSS {:7.0} MiB", start.elapsed().as_secs_f64(), peak_rss() as f64 / 1048576.0);
    Ok(out)
}

fn report(value: kiln::Result<f64>, stats: kiln::runtime::RunStats) {
    println!(
        "    value {:?}, tasks {}, peak held {:.0} MiB, spilled {} values ({:.0} MiB)",
        value.ok(),
        stats.tasks_run,
        stats.peak_bytes as f64 / 1048576.0,
        stats.spilled_values,
        stats.spilled_bytes as f64 / 1048576.0
    );
}

/// The process's peak resident memory since the last reset, in bytes (Linux; 0 elsewhere).
fn peak_rss() -> usize {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let line = status.lines().find(|l| l.starts_with("VmHWM:")).unwrap_or("VmHWM: 0 kB");
    line.split_whitespace().nth(1).and_then(|v| v.parse::<usize>().ok()).unwrap_or(0) * 1024
}
