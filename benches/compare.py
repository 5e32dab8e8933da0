#!/usr/bin/env python3
"""Side-by-side timings of kiln's array workloads in NumPy, Dask and kiln, in one run.

Usage:
    python3 -m venv benches/.venv && benches/.venv/bin/pip install -r benches/requirements.txt
    cargo build --release
    benches/.venv/bin/python benches/compare.py [--size 8192] [--chunk 1024] [--repeats 3]
        [--only A1] [--kiln-exe PATH] [--interp] [--no-dask] [--no-kiln]

Workloads (as in ../shared/bench/baselines.py): A1 ((sin(x)^2 + cos(y)^2) * x - y/2).sum(),
A2 (x - x.mean(axis=1, keepdims=True)).sum(), A3 x.sum() / x.mean(axis=0) / x.std(),
A5 (x + x.T).sum() and, along rows, (x + x.T).sum(axis=1), A6 (x ** y).sum(), and two results
returned whole (512 MiB each): M1 x * 2 and M2 x + x.T; x, y uniform f64 arrays held
in memory, Dask arrays made with da.from_array(x, chunks=(C, C)) and the threaded
scheduler. A1 and A6 also run in numexpr
(ne.evaluate of the elementwise part, then NumPy's sum: the baseline's fastest A1) when
numexpr is installed. kiln runs through `target/release/kiln bench` (or --kiln-exe), which
uses the same shapes and in-memory inputs; --interp adds a column of kiln with its JIT off
(KILN_JIT=0), run alternately with the JIT-on run. Each figure is the minimum of --repeats
timed runs after one warm-up; ratios are other / kiln.
"""

import argparse
import os
import re
import subprocess
import sys

# The workplace pins OpenBLAS to old kernels; none of these workloads use BLAS, but keep the
# environment as the baseline harness does.
for var in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):
    os.environ.pop(var, None)

import numpy as np  # noqa: E402

from bench_common import best_of  # noqa: E402

WORKLOADS = {
    "A1": lambda m, x, y: ((m.sin(x) ** 2 + m.cos(y) ** 2) * x - y / 2).sum(),
    "A2": lambda m, x, y: (x - x.mean(axis=1, keepdims=True)).sum(),
    "A3 sum": lambda m, x, y: x.sum(),
    "A3 mean0": lambda m, x, y: x.mean(axis=0),
    "A3 std": lambda m, x, y: x.std(),
    "A5": lambda m, x, y: (x + x.T).sum(),
    "A5 rows": lambda m, x, y: (x + x.T).sum(axis=1),
    "A6 pow": lambda m, x, y: (x**y).sum(),
    "M1 map": lambda m, x, y: x * 2,
    "M2 transpose": lambda m, x, y: x + x.T,
}


NUMEXPR = {"A1": "(sin(x) ** 2 + cos(y) ** 2) * x - y / 2", "A6 pow": "x ** y"}


def run_kiln(exe, size, chunk, repeats, only, jit=True):
    cmd = [exe, "bench", "--size", str(size), "--chunk", str(chunk), "--repeats", str(repeats)]
    if only:
        cmd += ["--only", only]
    env = dict(os.environ, KILN_JIT="1" if jit else "0")
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, env=env).stdout
    result = {}
    for line in out.splitlines():
        m = re.match(r"^([AM]\d(?: \w+)?)\s+([\d.]+) ms", line)
        if m:
            result[m.group(1)] = float(m.group(2)) / 1e3
    return result, out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size", type=int, default=8192)
    ap.add_argument("--chunk", type=int, default=1024)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--no-dask", action="store_true")
    ap.add_argument("--no-kiln", action="store_true")
    ap.add_argument("--only", help="run only the workloads whose name starts with this (e.g. A1)")
    ap.add_argument("--kiln-exe", help="the kiln binary (default: target/release/kiln, built if missing)")
    ap.add_argument("--interp", action="store_true", help="also time kiln with its JIT off (KILN_JIT=0)")
    args = ap.parse_args()
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    n, c = args.size, args.chunk
    rng = np.random.default_rng(42)
    x = rng.random((n, n))
    y = np.random.default_rng(7).random((n, n))
    workloads = {k: f for k, f in WORKLOADS.items() if not args.only or k.startswith(args.only)}
    rows = {}
    for name, f in workloads.items():
        rows.setdefault(name, {})["numpy"] = best_of(lambda: f(np, x, y), args.repeats)
    try:
        import numexpr as ne

        for name, expr in NUMEXPR.items():
            if name in rows:
                rows[name]["numexpr"] = best_of(
                    lambda: ne.evaluate(expr, local_dict={"x": x, "y": y}).sum(), args.repeats
                )
    except ImportError:
        pass
    if not args.no_dask:
        import dask
        import dask.array as da

        dx, dy = da.from_array(x, chunks=(c, c)), da.from_array(y, chunks=(c, c))
        with dask.config.set(scheduler="threads"):
            for name, f in workloads.items():
                rows[name]["dask"] = best_of(lambda: f(da, dx, dy).compute(), args.repeats)
    if not args.no_kiln:
        exe = args.kiln_exe or os.path.join(root, "target", "release", "kiln")
        if not os.path.exists(exe):
            subprocess.run(["cargo", "build", "--release"], cwd=root, check=True)
        # JIT on and off alternate, each keeping its best time per workload.
        for _ in range(args.repeats if args.interp else 1):
            for jit, column in ((True, "kiln"), (False, "kiln interp")) if args.interp else ((True, "kiln"),):
                kiln, _ = run_kiln(exe, n, c, args.repeats, args.only, jit)
                for name, secs in kiln.items():
                    if name in rows:
                        rows[name][column] = min(secs, rows[name].get(column, float("inf")))
    systems = [s for s in ("kiln", "kiln interp", "numexpr", "numpy", "dask") if any(s in r for r in rows.values())]
    print(f"{n} x {n} f64, chunks {c} x {c}, min of {args.repeats} (seconds); ratio = system / kiln")
    print("| workload | " + " | ".join(systems) + " | " + " | ".join(f"{s}/kiln" for s in systems if s != "kiln") + " |")
    print("|---" * (1 + 2 * len(systems) - 1) + "|")
    for name, r in rows.items():
        cells = [f"{r[s]:.4f}" if s in r else "-" for s in systems]
        ratios = [f"{r[s] / r['kiln']:.2f}x" if s in r and "kiln" in r else "-" for s in systems if s != "kiln"]
        print(f"| {name} | " + " | ".join(cells) + " | " + " | ".join(ratios) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
