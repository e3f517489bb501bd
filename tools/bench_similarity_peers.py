#!/usr/bin/env python3
"""The peers of srmscope's similarity measures, timed on the files `srmscope bench --similarity
--against-python` writes, in the same run.

Usage: bench_similarity_peers.py THREADS REPEAT RDMS_OUT.npy net0.npy net1.npy ...
Each file is one network (images x units, float32), read as float64. Every timed step covers the
same pairs srmscope computes (i <= j, the diagonal included) and starts from the raw data:
  * cka_linear: numpy linear CKA in feature space (Kornblith et al. 2019):
    ||Yc^T Xc||_F^2 / (||Xc^T Xc||_F ||Yc^T Yc||_F), columns centred, per pair;
  * procrustes: netrep LinearMetric(alpha=1)'s fit and score per pair, with scipy: centre the
    units, zero-pad the narrower, R = scipy.linalg.orthogonal_procrustes(Xc, Yc) (the SVD of
    Xc^T Yc), angular = arccos(<Xc R, Yc> / (|Xc| |Yc|)); Euclidean = |Xc R/|Xc| - Yc/|Yc|| (netrep's
    Euclidean score on unit-norm inputs, srmscope's definition). One fit gives both scores
    (netrep would fit two LinearMetric objects, one per score_method);
  * rdm: rsatoolbox 0.3.2 calc_rdm(method='correlation') of each network with its units centred
    (1 - Pearson r across units per pair of images);
  * rsa_pearson / rsa_spearman: the rdm step plus rsatoolbox.rdm.compare(rdms, rdms,
    method='corr' / 'spearman') over all networks at once.
BLAS runs on THREADS threads (threadpoolctl). Prints one JSON line: per step a list of REPEAT
times in seconds, the values computed ("values": m x m matrices), the versions and BLAS threads,
and "missing": packages to pip install (their steps are skipped). The RDMs (m x n(n-1)/2,
rsatoolbox's upper-triangle order) go to RDMS_OUT.npy for srmscope to compare with its RSMs.
"""
import json
import platform
import sys
import time
from importlib.metadata import version


def cka_linear(x, y):
    import numpy as np

    xc = x - x.mean(axis=0, keepdims=True)
    yc = y - y.mean(axis=0, keepdims=True)
    num = np.linalg.norm(yc.T @ xc) ** 2
    return num / (np.linalg.norm(xc.T @ xc) * np.linalg.norm(yc.T @ yc))


def procrustes(x, y):
    import numpy as np
    from scipy.linalg import orthogonal_procrustes

    w = max(x.shape[1], y.shape[1])
    xc = x - x.mean(axis=0, keepdims=True)
    yc = y - y.mean(axis=0, keepdims=True)
    if xc.shape[1] < w:
        xc = np.pad(xc, ((0, 0), (0, w - xc.shape[1])))
    if yc.shape[1] < w:
        yc = np.pad(yc, ((0, 0), (0, w - yc.shape[1])))
    r, _ = orthogonal_procrustes(xc, yc)
    xr = xc @ r
    nx, ny = np.linalg.norm(xc), np.linalg.norm(yc)
    cos = np.sum(xr * yc) / (nx * ny)
    angular = float(np.arccos(np.clip(cos, -1.0, 1.0)))
    euclidean = float(np.linalg.norm(xr / nx - yc / ny))
    return angular, euclidean


def pairs(m):
    return [(i, j) for i in range(m) for j in range(i, m)]


def num(v):
    # JSON has no NaN: a non-finite value travels as a string, which srmscope reads as NaN.
    v = float(v)
    return v if abs(v) < float("inf") else str(v)


def filled(m, vals):
    out = [[None] * m for _ in range(m)]
    for (i, j), v in vals.items():
        out[i][j] = out[j][i] = num(v)
    return out


def main(argv):
    threads, repeat, rdm_out = int(argv[0]), max(int(argv[1]), 1), argv[2]
    out = {"python": platform.python_version(), "missing": [], "seconds": {}, "values": {}}
    try:
        import numpy as np
    except ImportError:
        out["missing"] = ["numpy", "scipy", "threadpoolctl", "rsatoolbox==0.3.2"]
        print(json.dumps(out))
        return
    out["numpy"] = np.__version__
    try:
        import scipy
        import scipy.linalg  # noqa: F401

        out["scipy"] = scipy.__version__
    except ImportError:
        scipy = None
        out["missing"].append("scipy")
    try:
        import rsatoolbox

        out["rsatoolbox"] = version("rsatoolbox")
    except ImportError:
        rsatoolbox = None
        out["missing"].append("rsatoolbox==0.3.2")
    try:
        from threadpoolctl import threadpool_info, threadpool_limits
    except ImportError:
        # The bench also sets OPENBLAS_NUM_THREADS & co.; only the report is missing.
        threadpool_info = threadpool_limits = None
        out["missing"].append("threadpoolctl")

    xs = [np.load(f).astype(np.float64) for f in argv[3:]]
    m = len(xs)
    ps = pairs(m)
    sec = out["seconds"]

    def timed(name, fn):
        t0 = time.perf_counter()
        r = fn()
        sec.setdefault(name, []).append(time.perf_counter() - t0)
        return r

    def run():
        for _ in range(repeat):
            cka = timed("cka_linear", lambda: {p: cka_linear(xs[p[0]], xs[p[1]]) for p in ps})
            out["values"]["cka_linear"] = filled(m, cka)
            if scipy is not None:
                pr = timed("procrustes", lambda: {p: procrustes(xs[p[0]], xs[p[1]]) for p in ps})
                out["values"]["procrustes_angular"] = filled(m, {p: v[0] for p, v in pr.items()})
                out["values"]["procrustes_euclidean"] = filled(
                    m, {p: v[1] for p, v in pr.items()}
                )
            if rsatoolbox is not None:
                # Units centred first: every srmscope measure starts from centred units.
                rdms = timed(
                    "rdm",
                    lambda: rsatoolbox.rdm.calc_rdm(
                        [rsatoolbox.data.Dataset(x - x.mean(axis=0, keepdims=True)) for x in xs],
                        method="correlation",
                    ),
                )
                t_rdm = sec["rdm"][-1]
                for key, method in (("rsa_pearson", "corr"), ("rsa_spearman", "spearman")):
                    v = timed(key, lambda: rsatoolbox.rdm.compare(rdms, rdms, method=method))
                    # End to end, as a user runs it: this repeat's RDMs plus the comparison.
                    sec[key][-1] += t_rdm
                    out["values"][key] = [[num(a) for a in row] for row in v]
        if rsatoolbox is not None:
            np.save(rdm_out, rdms.get_vectors())
        if threadpool_info is not None:
            out["blas"] = [
                {k: d.get(k) for k in ("internal_api", "version", "num_threads", "architecture")}
                for d in threadpool_info()
            ]

    if threadpool_limits is not None:
        with threadpool_limits(limits=threads):
            run()
    else:
        run()
    out["threads"] = threads
    print(json.dumps(out))


if __name__ == "__main__":
    main(sys.argv[1:])
