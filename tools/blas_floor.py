#!/usr/bin/env python3
"""The BLAS floor of a probabilistic SRM fit: numpy/OpenBLAS doing only the fit's own products.

Usage: blas_floor.py M V T K ITERS REPEAT [THREADS]
Per iteration and network a fit needs W_i^T X_i (k x v times v x T, the E-step) and X_i S^T
(v x T times T x k, the M-step); nothing else in a fit is O(vTk). This times exactly those
products, in float64 and float32, M networks x ITERS iterations, on THREADS OpenBLAS threads
(default 2), REPEAT times, and prints one JSON line with every time and the medians.
`srmscope bench` runs it and divides its own fit time by the float64 median.
"""
import json
import sys
import time

import numpy as np


def floor_once(xs, ws, s):
    t0 = time.perf_counter()
    for w, x in zip(ws, xs):
        _ = w.T @ x  # E-step: k x T
    for x in xs:
        _ = x @ s.T  # M-step: v x k
    return time.perf_counter() - t0


def main(argv):
    m, v, t, k, iters, repeat = (int(a) for a in argv[:6])
    threads = int(argv[6]) if len(argv) > 6 else 2
    try:
        from threadpoolctl import threadpool_limits
        limit = threadpool_limits(limits=threads, user_api="blas")
    except ImportError:  # the caller also sets OPENBLAS_NUM_THREADS
        limit = None
    rng = np.random.default_rng(0)
    out = {"threads": threads, "numpy": np.__version__}
    for name, dtype in (("f64", np.float64), ("f32", np.float32)):
        # BrainIAK's orientation: units x images, C order.
        xs = [rng.standard_normal((v, t)).astype(dtype) for _ in range(m)]
        ws = [np.linalg.qr(rng.standard_normal((v, k)))[0].astype(dtype) for _ in range(m)]
        s = rng.standard_normal((k, t)).astype(dtype)
        floor_once(xs, ws, s)  # warm-up: thread pool, page faults
        times = []
        for _ in range(max(repeat, 1)):
            total = 0.0
            for _ in range(iters):
                total += floor_once(xs, ws, s)
            times.append(total)
        out[name] = times
        out[name + "_median"] = float(np.median(times))
    del limit
    print(json.dumps(out))


if __name__ == "__main__":
    main(sys.argv[1:])
