#!/usr/bin/env python3
"""Per-task overhead of futures and delayed calls: kiln vs dask.distributed and dask.delayed,
side by side in one run.

Usage:
    benches/.venv/bin/pip install dask distributed
    benches/.venv/bin/python benches/compare_futures.py [--tasks 100000] [--repeats 3]

Workloads (the same as benches/futures.rs):
  futures_submit_gather   N futures of inc(i) submitted one by one, then gathered: kiln's
                          client.submit + client.gather; Dask's client.submit in a loop and
                          client.gather, on LocalCluster(processes=False) (threads), and
                          client.map + gather (Dask's fast path).
  delayed_build_and_compute
                          N delayed inc(i) calls summed in groups of 100, then summed
                          (N + N/100 + 1 calls), built and computed: kiln's delayed! and
                          compute(); dask.delayed with the threaded scheduler.
Each figure is the minimum of --repeats timed runs after a warm-up; per-task figures are
wall time / number of tasks.
"""

import argparse
import os
import sys

from bench_common import best_of, kiln_report



def inc(x):
    return x + 1


def add_all(parts):
    return sum(parts)


def run_kiln(tasks, root):
    return kiln_report("futures", tasks, root)


def run_dask_delayed(tasks, repeats):
    import dask

    def build_and_compute():
        incs = [dask.delayed(inc)(i) for i in range(tasks)]
        sums = [dask.delayed(add_all)(incs[i:i + 100]) for i in range(0, tasks, 100)]
        return dask.delayed(add_all)(sums).compute(scheduler="threads")

    return {"delayed_build_and_compute": best_of(build_and_compute, repeats)}


def run_dask_distributed(tasks, repeats):
    from dask.distributed import Client, LocalCluster

    result = {}
    with LocalCluster(processes=False, dashboard_address=None) as cluster, Client(cluster) as client:
        def submit_gather():
            futures = [client.submit(inc, i, pure=False) for i in range(tasks)]
            return sum(client.gather(futures))

        def map_gather():
            return sum(client.gather(client.map(inc, range(tasks), pure=False)))

        result["futures_submit_gather"] = best_of(submit_gather, repeats)
        result["futures_map_gather"] = best_of(map_gather, repeats)
    return result


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tasks", type=int, default=100_000)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--no-dask", action="store_true")
    args = ap.parse_args()
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    n = args.tasks
    counts = {
        "futures_submit_gather": n,
        "futures_map_gather": n,
        "delayed_build_and_compute": n + (n + 99) // 100 + 1,
    }
    rows = {name: {} for name in counts}
    for name, secs in run_kiln(n, root).items():
        if name in rows:
            rows[name]["kiln"] = secs
    if not args.no_dask:
        for name, secs in run_dask_delayed(n, args.repeats).items():
            rows[name]["dask"] = secs
        for name, secs in run_dask_distributed(n, args.repeats).items():
            rows[name]["dask"] = secs
    print(f"{n} tasks, min of {args.repeats}; per task in microseconds; ratio = dask / kiln")
    print("| workload | kiln s | dask s | kiln us/task | dask us/task | dask/kiln |")
    print("|---|---|---|---|---|---|")
    for name, r in rows.items():
        k, d = r.get("kiln"), r.get("dask")
        per = lambda s: f"{s * 1e6 / counts[name]:.2f}" if s is not None else "-"
        sec = lambda s: f"{s:.3f}" if s is not None else "-"
        ratio = f"{d / k:.0f}x" if k and d else "-"
        print(f"| {name} | {sec(k)} | {sec(d)} | {per(k)} | {per(d)} | {ratio} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
