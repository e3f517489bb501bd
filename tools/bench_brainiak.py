#!/usr/bin/env python3
"""BrainIAK 0.12 `SRM.fit` on the files `srmscope bench --paper` writes, timed in the same run.

Usage: bench_brainiak.py K ITERS REPEAT OUT_S.npy net0.npy net1.npy ...
Reads each (images x units) float32 file as float64 in BrainIAK's (units x images) orientation,
fits probabilistic SRM (rand_seed 0, BrainIAK's defaults otherwise) REPEAT times, saves the last
shared response to OUT_S.npy (k x images) and prints one JSON line with the fit times.
Run it with OPENBLAS_NUM_THREADS=1 for the one-thread figure (the bench sets it).
"""
import json
import sys
import time

import numpy as np
from brainiak.funcalign.srm import SRM


def main(argv):
    k, iters, repeat, out = int(argv[0]), int(argv[1]), int(argv[2]), argv[3]
    xs = [np.ascontiguousarray(np.load(f).astype(np.float64).T) for f in argv[4:]]
    times = []
    srm = None
    for _ in range(max(repeat, 1)):
        srm = SRM(n_iter=iters, features=k, rand_seed=0)
        t0 = time.perf_counter()
        srm.fit(xs)
        times.append(time.perf_counter() - t0)
    np.save(out, srm.s_)
    print(json.dumps({"seconds": times, "numpy": np.__version__}))


if __name__ == "__main__":
    main(sys.argv[1:])
