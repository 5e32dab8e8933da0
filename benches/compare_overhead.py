#!/usr/bin/env python3
"""Per-task scheduling overhead: kiln's threaded runtime vs Dask's threaded scheduler on the
same graph shapes, side by side in one run.

Usage:
    benches/.venv/bin/pip install -r benches/requirements.txt
    benches/.venv/bin/python benches/compare_overhead.py [--tasks 100000] [--repeats 3]

Shapes (the same as benches/overhead.rs and kiln_runtime::synthetic): every task computes
1 + the sum of its inputs.
  wide        N sources summed in groups of 100, then one sink (N + N/100 + 1 tasks)
  chain       N tasks, each reading the one before
  random_dag  N tasks, task i reading up to 3 tasks among the 1,000 before it (SplitMix64
              seeded with 42, the same generator and draws as kiln's)
Dask runs a raw graph dict with dask.threaded.get(num_workers=2); kiln runs Threads(2)
through `cargo bench --bench overhead -- --report`. Each figure is the minimum of the timed
runs after a warm-up; per-task figures are wall time / number of tasks.
"""

import argparse
import os

from bench_common import best_of, kiln_report

MASK = (1 << 64) - 1


class SplitMix64:
    """kiln_runtime::synthetic's generator, draw for draw."""

    def __init__(self, seed):
        self.state = seed

    def next(self):
        self.state = (self.state + 0x9E3779B97F4A7C15) & MASK
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
        return z ^ (z >> 31)

    def below(self, n):
        return self.next() % n


def count(*inputs):
    return 1 + sum(inputs)


def wide(n):
    dsk, sums = {}, []
    for start in range(0, n, 100):
        keys = []
        for i in range(start, min(start + 100, n)):
            dsk[f"s{i}"] = (count,)
            keys.append(f"s{i}")
        dsk[f"g{start}"] = (count, *keys)
        sums.append(f"g{start}")
    dsk["sink"] = (count, *sums)
    return dsk, "sink"


def chain(n):
    dsk = {"t0": (count,)}
    for i in range(1, n):
        dsk[f"t{i}"] = (count, f"t{i - 1}")
    return dsk, f"t{n - 1}"


def random_dag(n, max_deps=3, seed=42):
    rng = SplitMix64(seed)
    dsk = {}
    for i in range(n):
        deps = []
        if i > 0:
            n_deps = rng.below(max_deps + 1)
            window = min(i, 1000)
            deps = [f"t{i - 1 - rng.below(window)}" for _ in range(n_deps)]
        dsk[f"t{i}"] = (count, *deps)
    return dsk, f"t{n - 1}"


SHAPES = {"wide": wide, "chain": chain, "random_dag": random_dag}



def run_kiln(tasks, root):
    return kiln_report("overhead", tasks, root)


def run_dask(tasks, repeats):
    import dask.threaded

    result = {}
    for name, make in SHAPES.items():
        dsk, key = make(tasks)
        result[name] = (best_of(lambda: dask.threaded.get(dsk, key, num_workers=2), repeats), len(dsk))
    return result


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tasks", type=int, default=100_000)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    kiln = run_kiln(args.tasks, root)
    dask = run_dask(args.tasks, args.repeats)
    print(f"{args.tasks} tasks per shape, 2 threads, min of runs; per task in microseconds; ratio = dask / kiln")
    print("| shape | tasks | kiln s | dask s | kiln us/task | dask us/task | dask/kiln |")
    print("|---|---|---|---|---|---|---|")
    for name in SHAPES:
        d, n = dask[name]
        k = kiln.get(name)
        ks = f"{k:.4f}" if k is not None else "-"
        kp = f"{k * 1e6 / n:.3f}" if k is not None else "-"
        ratio = f"{d / k:.0f}x" if k else "-"
        print(f"| {name} | {n} | {ks} | {d:.3f} | {kp} | {d * 1e6 / n:.2f} | {ratio} |")


if __name__ == "__main__":
    main()
