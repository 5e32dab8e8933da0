"""Helpers the side-by-side comparison scripts share: the best time of repeated runs, and
kiln's figures from a Rust bench binary's `--report` mode."""

import os
import re
import subprocess
import time


def best_of(fn, repeats):
    """The minimum wall time of `repeats` calls of `fn`, after one warm-up call."""
    fn()
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def kiln_report(bench, tasks, root):
    """Runs `cargo bench --bench <bench> -- --report` with KILN_BENCH_TASKS=tasks in `root`;
    gives {name: seconds} from its `<name> <seconds> s ...` lines."""
    env = dict(os.environ, KILN_BENCH_TASKS=str(tasks))
    out = subprocess.run(
        ["cargo", "bench", "--bench", bench, "--", "--report"],
        cwd=root, env=env, check=True, capture_output=True, text=True,
    ).stdout
    return {m.group(1): float(m.group(2)) for m in re.finditer(r"^(\w+) ([\d.]+) s", out, re.M)}
