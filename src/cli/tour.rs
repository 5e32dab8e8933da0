//! `kiln tour`: Dask's front-page array example, `x - x.mean(axis=1)` on a 20,000 × 20,000
//! random array in 2,000 × 2,000 chunks, then a few more expressions. For each it prints the
//! plan (`explain()`), a small summary of the result (never gigabytes of numbers) and the
//! time; last, it profiles one compute and writes the task stream to the temp directory.

use std::time::Instant;

use kiln::array as ka;
use kiln::prelude::*;

use super::{CliResult, Options, parse_options, thousands};

/// Runs the tour.
pub fn run(args: &[String]) -> CliResult {
    let Options { size: n, chunk: c, .. } =
        parse_options(args, Options { size: 20_000, chunk: 2_000, repeats: 1, only: None })?;
    let cfg = kiln::config::get()?;
    println!("kiln tour: lazy chunked arrays, optimized, lowered and run on all cores");
    println!("scheduler: {:?}\n", cfg.scheduler);

    let x = ka::random::uniform([n, n], [c, c], 42);
    section(&format!(
        "1. Dask's front page: y = x - x.mean(axis=1) on a {} × {} random array in {} × {} chunks",
        thousands(n),
        thousands(n),
        thousands(c),
        thousands(c)
    ));
    println!("x = {x}");
    let y = &x - &x.mean_axis(Axis(1)).insert_axis(Axis(1));
    let corner = y.slice(s![..3, ..4]);
    let total = y.sum();
    println!("{}", y.explain());
    let t = Instant::now();
    let (corner, total) = kiln::compute((&corner, &total))?;
    let secs = t.elapsed().as_secs_f64();
    println!("y[:3, :4] =\n{corner:.6}");
    println!("y.sum() = {:.6e} (rows are centred, so this is ~0)", total.into_scalar::<f64>()?);
    println!("computed corner and sum together in {secs:.3} s\n");

    let m = (n / 20_000 * 8192).max(n.min(8192));
    let (xs, ys) =
        (ka::random::uniform([m, m], [c.min(m), c.min(m)], 1), ka::random::uniform([m, m], [c.min(m), c.min(m)], 7));
    section(&format!("2. fused-style elementwise then sum on {m} × {m}: ((sin(x)² + cos(y)²) · x − y/2).sum()"));
    let a1 = ((xs.sin().pow(2.0) + ys.cos().pow(2.0)) * &xs - &ys / 2.0).sum();
    timed(&a1, "sum")?;

    section("3. reductions: x.std(), x.argmax(), x.mean_axis(0)");
    timed(&xs.std(0.0), "std (uniform on [0,1): 1/√12 ≈ 0.288675)")?;
    timed(&xs.argmax(), "argmax (flat index)")?;
    let mean0 = xs.mean_axis(Axis(0));
    let t = Instant::now();
    let v = mean0.compute()?.into_f64()?;
    println!(
        "mean_axis(0): shape {:?}, first values {:.6?}, in {:.3} s\n",
        v.shape(),
        &v.as_slice().unwrap_or(&[])[..3.min(v.len())],
        t.elapsed().as_secs_f64()
    );

    section("4. transpose: (x + x.t()).sum()");
    timed(&(&xs + &xs.t()).sum(), "sum")?;

    section(&format!(
        "5. culling: x.slice(s![..10, ..]).sum() reads only the first row of blocks of the {} × {} array",
        thousands(n),
        thousands(n)
    ));
    let first_rows = x.slice(s![..10, ..]).sum();
    println!("{}", first_rows.explain());
    timed(&first_rows, "sum")?;

    section("6. diagnostics: a profile of section 2's sum, as an HTML task stream and a Chrome trace");
    let prof = kiln::diagnostics::Profile::new();
    let t = Instant::now();
    a1.compute_with(&cfg.clone().with_callback(prof.clone()))?;
    let secs = t.elapsed().as_secs_f64();
    let (html, trace) =
        (std::env::temp_dir().join("kiln-profile.html"), std::env::temp_dir().join("kiln-profile.json"));
    prof.write_html(&html)?;
    prof.write_chrome_trace(&trace)?;
    println!("{} tasks profiled in {secs:.3} s", prof.tasks().len());
    println!("task stream (open in a browser): {}", html.display());
    println!("Chrome trace (chrome://tracing or ui.perfetto.dev): {}", trace.display());
    Ok(())
}

fn section(title: &str) {
    println!("== {title} ==");
}

/// Computes a 0-d array and prints its value and the time.
fn timed(a: &Array, what: &str) -> CliResult {
    let t = Instant::now();
    let v = a.compute()?;
    let secs = t.elapsed().as_secs_f64();
    let shown = match v.dtype() {
        DType::F64 | DType::F32 => format!("{:.6}", v.into_scalar::<f64>()?),
        _ => format!("{}", v.into_scalar::<i64>()?),
    };
    println!("{what} = {shown} in {secs:.3} s\n");
    Ok(())
}
