//! Larger than memory, proven at a small scale: a 256 MiB `.npy` file is reduced under a
//! 64 MiB memory budget (`sum`, `mean_axis(0)`, and `x - x.mean_axis(0)` stored back to disk)
//! while the process's peak resident memory stays within 1.1 × the budget plus what it held
//! before. One test in its own binary, so that nothing else moves the process's memory.
//! (`examples/larger_than_memory.rs` does the same at gigabytes.)

use std::path::PathBuf;

use kiln::array as ka;
use kiln::prelude::*;
use kiln::runtime::MemoryBudget;

const BUDGET: usize = 64 << 20;
const ROWS: usize = 4096;
const COLS: usize = 8192;

/// Resident memory now and at its peak since the last reset, in bytes (Linux).
fn rss() -> (usize, usize) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let field = |name: &str| {
        let line = status.lines().find(|l| l.starts_with(name)).unwrap();
        line.split_whitespace().nth(1).unwrap().parse::<usize>().unwrap() * 1024
    };
    (field("VmRSS:"), field("VmHWM:"))
}

/// Starts counting the peak again from the current resident memory.
fn reset_peak() {
    std::fs::write("/proc/self/clear_refs", "5").unwrap();
}

fn temp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("kiln-ltm-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

#[test]
fn a_file_four_times_the_budget_is_reduced_within_the_budget() {
    let cfg = Config::default().with_scheduler(Scheduler::Threads(2)).with_memory(Some(MemoryBudget::new(BUDGET)));
    let source = ka::random::uniform([ROWS, COLS], [512, 1024], 3);
    let input = temp("x.npy");
    source.to_npy_with(&input, &cfg).unwrap();
    assert_eq!(std::fs::metadata(&input).unwrap().len() as usize, ROWS * COLS * 8 + 128);

    // What the answers must be, from the generator (a different plan: no file).
    let want_sum = source.sum().compute_with(&cfg).unwrap().into_scalar::<f64>().unwrap();
    let want_mean = source.mean_axis(Axis(0)).compute_with(&cfg).unwrap().into_f64().unwrap();

    let x = ka::from_npy(&input, [512, 1024]).unwrap();
    let output = temp("centred.npy");
    let (base, _) = rss();
    reset_peak();
    let sum = x.sum().compute_with(&cfg).unwrap().into_scalar::<f64>().unwrap();
    let mean = x.mean_axis(Axis(0)).compute_with(&cfg).unwrap().into_f64().unwrap();
    (&x - &x.mean_axis(Axis(0))).to_npy_with(&output, &cfg).unwrap();
    let (_, peak) = rss();

    assert!((sum - want_sum).abs() <= 1e-9 * want_sum.abs(), "{sum} vs {want_sum}");
    assert_eq!(mean.len(), COLS);
    for (a, b) in mean.iter().zip(want_mean.iter()) {
        assert!((a - b).abs() <= 1e-12, "{a} vs {b}");
    }
    let allowed = base + BUDGET + BUDGET / 10;
    eprintln!("baseline {} MiB, peak {} MiB, allowed {} MiB", base >> 20, peak >> 20, allowed >> 20);
    assert!(
        peak <= allowed,
        "peak resident memory {} MiB > {} MiB (baseline {} MiB + 1.1 × the {} MiB budget)",
        peak >> 20,
        allowed >> 20,
        base >> 20,
        BUDGET >> 20
    );

    // The stored result, checked on a few rows against the generator's values.
    let centred = ka::from_npy(&output, [512, 1024]).unwrap();
    let rows = s![100..103, ..];
    let got = centred.slice(rows).compute_with(&cfg).unwrap().into_f64().unwrap();
    let raw = source.slice(rows).compute_with(&cfg).unwrap().into_f64().unwrap();
    for ((g, r), m) in got.rows().into_iter().zip(raw.rows()).flat_map(|(g, r)| g.into_iter().zip(r).zip(mean.iter())) {
        assert!((g - (r - m)).abs() <= 1e-12, "{g} vs {r} - {m}");
    }
    std::fs::remove_dir_all(input.parent().unwrap()).unwrap();
}
