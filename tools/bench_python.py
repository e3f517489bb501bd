#!/usr/bin/env python3
"""srmscope.SRM against BrainIAK 0.12's SRM in ONE process, on workload A.

Workload A: 5 networks × 8000 images × 512 units (float64, BrainIAK's units × samples layout),
k = 512, 10 iterations, rand_seed 0. Each fit runs REPEAT times, alternating srmscope and
BrainIAK so both see the same machine load; the script prints the median of each, their ratio,
the largest |ΔS| / max|S|, the process's peak RSS after the srmscope fits and after the BrainIAK
fits (peak RSS only grows, so the second figure covers both), and the CPU.

Usage: python tools/bench_python.py [--repeat 3] [--m 5 --n 8000 --v 512 --k 512 --iters 10]
Needs the srmscope wheel (a release build) and brainiak in the same environment.
"""
import argparse
import json
import platform
import resource
import statistics
import time

import numpy as np


def peak_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 1e6


def cpu():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--m", type=int, default=5)
    ap.add_argument("--n", type=int, default=8000)
    ap.add_argument("--v", type=int, default=512)
    ap.add_argument("--k", type=int, default=512)
    ap.add_argument("--iters", type=int, default=10)
    a = ap.parse_args()

    import srmscope
    from brainiak.funcalign.srm import SRM as BrainiakSRM

    rng = np.random.default_rng(0)
    shared = rng.standard_normal((a.k, a.n))
    xs = []
    for _ in range(a.m):
        w = np.linalg.qr(rng.standard_normal((a.v, min(a.k, a.v))))[0]
        xs.append(w @ shared[: w.shape[1]] + 0.5 * rng.standard_normal((a.v, a.n)) + 1.0)
    base = peak_mb()
    ours, theirs = [], []
    s_ours = s_theirs = None
    peak_ours = 0.0
    for _ in range(a.repeat):
        t0 = time.perf_counter()
        m = srmscope.SRM(n_iter=a.iters, features=a.k, rand_seed=0, progress=False).fit(xs)
        ours.append(time.perf_counter() - t0)
        s_ours = m.s_
        peak_ours = max(peak_ours, peak_mb())
        t0 = time.perf_counter()
        b = BrainiakSRM(n_iter=a.iters, features=a.k, rand_seed=0).fit(xs)
        theirs.append(time.perf_counter() - t0)
        s_theirs = b.s_
    mo, mt = statistics.median(ours), statistics.median(theirs)
    print(json.dumps({
        "workload": "%d x %d x %d, k = %d, %d iterations" % (a.m, a.n, a.v, a.k, a.iters),
        "cpu": cpu(),
        "srmscope_seconds": ours, "brainiak_seconds": theirs,
        "srmscope_median": mo, "brainiak_median": mt, "ratio": mo / mt,
        "max_abs_dS_over_max_S": float(np.abs(s_ours - s_theirs).max() / np.abs(s_theirs).max()),
        "peak_rss_mb_data": base, "peak_rss_mb_after_srmscope": peak_ours,
        "peak_rss_mb_after_brainiak": peak_mb(),
        "numpy": np.__version__, "srmscope": srmscope.__version__,
    }, indent=1))


if __name__ == "__main__":
    main()
