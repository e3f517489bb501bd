#!/usr/bin/env python3
"""Benchmark data + HyperTools baseline for `srmscope export`.

What it does
  1. Builds deterministic test data with numpy (seed 0): one smooth 64-dim
     random-walk trajectory over 600 images, and 5 "networks", each a random
     orthogonal rotation of it plus a little Gaussian noise (float32, 600x64).
  2. Saves them as /tmp/hbench/data.npz (arrays net0..net4) for srmscope.
  3. With --hypertools, also runs the HyperTools animation the issue compares
     against on the same arrays and writes /tmp/hbench/hyper.gif:
         hyp.plot(xs, animate=True, duration=10, frame_rate=30,
                  tail_duration=1, rotations=0.15, save_path=...,
                  size=(6.4, 4.8))
     and prints its wall time (import time excluded).

How to run
  pip install hypertools==1.1.0
  MPLBACKEND=Agg python3 tools/bench_hypertools.py               # data only
  MPLBACKEND=Agg /usr/bin/time -v python3 tools/bench_hypertools.py --hypertools
  /usr/bin/time -v target/release/srmscope export /tmp/hbench/data.npz \
      --out /tmp/hbench/srm.gif --duration 10 --frame-rate 30 \
      --tail-duration 1 --rotations 0.15 --size 640x480 \
      --test-fraction 0 --smooth 1 --k 64
"""
import argparse
import os
import time

import numpy as np

OUT_DIR = "/tmp/hbench"
N_NETS, N_IMAGES, N_UNITS = 5, 600, 64


def make_data(seed=0):
    rng = np.random.default_rng(seed)
    steps = rng.standard_normal((N_IMAGES, N_UNITS))
    walk = np.cumsum(steps, axis=0)
    # smooth the walk with a moving average so the trajectory is a curve
    kernel = np.ones(15) / 15.0
    walk = np.stack([np.convolve(walk[:, j], kernel, mode="same")
                     for j in range(N_UNITS)], axis=1)
    walk = (walk - walk.mean(0)) / walk.std()
    xs = []
    for _ in range(N_NETS):
        q, r = np.linalg.qr(rng.standard_normal((N_UNITS, N_UNITS)))
        q *= np.sign(np.diag(r))  # uniform (Haar) rotation
        x = walk @ q + 0.05 * rng.standard_normal((N_IMAGES, N_UNITS))
        xs.append(x.astype(np.float32))
    return xs


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--hypertools", action="store_true",
                    help="also render /tmp/hbench/hyper.gif with HyperTools")
    args = ap.parse_args()

    os.makedirs(OUT_DIR, exist_ok=True)
    xs = make_data()
    np.savez(os.path.join(OUT_DIR, "data.npz"),
             **{f"net{i}": x for i, x in enumerate(xs)})

    if args.hypertools:
        os.environ.setdefault("MPLBACKEND", "Agg")
        import hypertools as hyp
        t0 = time.perf_counter()
        hyp.plot(xs, animate=True, duration=10, frame_rate=30,
                 tail_duration=1, rotations=0.15,
                 save_path=os.path.join(OUT_DIR, "hyper.gif"),
                 size=(6.4, 4.8))
        print(f"hypertools {hyp.__version__} plot+save wall: "
              f"{time.perf_counter() - t0:.2f} s")


if __name__ == "__main__":
    main()
