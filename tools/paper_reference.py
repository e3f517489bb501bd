#!/usr/bin/env python3
"""The paper's analysis (Lu et al. 2018), transcribed independently of srmscope's Rust code.

Written from the definitions in docs/paper_parity.md (numpy + scikit-learn + scipy only), this is
the reference for `srmscope ... --preset paper`:

  split      scikit-learn's train_test_split(test_size, random_state=0, stratify=labels)
  normalise  each image z-scored across units (population std), train and test separately
  order      held-out images sorted by class, stably (the authors' argsort was unstable)
  fit        BrainIAK's probabilistic SRM (k = units, 10 iterations, seed 0), here a numpy
             transcription of its algorithm; transform W_i^T X_i, no centring
  measures   RSMs (image x image Pearson r across units) of the uncentred data, mean
             within-network RSM, leave-one-network-out inter-network RSM, RSA = Pearson r of
             their strict lower triangles; variance explained by the mean shared response;
             leave-one-out ISC (BrainIAK's `isc` convention: each network against the mean of
             the others, unit by unit, averaged over units, then networks)

Sub-commands
  goldens DIR [--demo FILE.npz...]
                         write the test inputs and expected values (tests/data/paper/)
  demo FILE.npz...       the preset's numbers on demo sets, and how much numpy's unstable
                         argsort (the authors' code) moves RSA
"""
import argparse
import json
import os
import sys

import numpy as np
import scipy
import scipy.linalg as sla
import sklearn
from scipy.stats import pearsonr
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

TEST_SIZE = 0.2
SEED = 0
N_ITER = 10
PERTURBATION = 1e-3


# ---------------------------------------------------------------------------------------------
# split, normalisation, order
# ---------------------------------------------------------------------------------------------
def sklearn_split(n, labels, test_size=TEST_SIZE, seed=SEED):
    """scikit-learn's indices, in its order (labels None: not stratified)."""
    idx = np.arange(n)
    train, test = train_test_split(idx, test_size=test_size, random_state=seed, stratify=labels)
    return [int(i) for i in train], [int(i) for i in test]


def display_order(test, labels, stable=True):
    """Held-out images by class; within a class in scikit-learn's order when `stable`."""
    test = np.asarray(test)
    if labels is None:
        return [int(i) for i in np.sort(test)]
    y = np.asarray(labels)[test]
    order = np.argsort(y, kind="stable" if stable else None)
    return [int(i) for i in test[order]]


def zscore_images(x):
    """images x units -> units x images, each image z-scored across units (population std)."""
    return StandardScaler().fit_transform(x.T.astype(np.float64))


# ---------------------------------------------------------------------------------------------
# BrainIAK's probabilistic SRM, from its algorithm (units x samples per network)
# ---------------------------------------------------------------------------------------------
def initial_w(units, k, seed):
    master = np.random.RandomState(seed)
    out = []
    for v in units:
        stream = np.random.RandomState(master.randint(2**32, dtype=np.int64))
        q, _ = np.linalg.qr(stream.random_sample((v, k)))
        out.append(q)
    return out


def fit_srm(xs, k, n_iter=N_ITER, seed=SEED):
    m, t = len(xs), xs[0].shape[1]
    units = [x.shape[0] for x in xs]
    w = initial_w(units, k, seed)
    centred = [x - x.mean(axis=1, keepdims=True) for x in xs]
    # BrainIAK's rho^2 uses the raw (uncentred) squared norm.
    raw_sq = [float(np.sum(x * x)) for x in xs]
    rho2 = np.ones(m)
    sigma_s = np.eye(k)
    eye = np.eye(k)
    for _ in range(n_iter):
        rho0 = np.sum(1.0 / rho2)
        inv_sigma_s = sla.cho_solve(sla.cho_factor(sigma_s), eye)
        post_cov = sla.cho_solve(sla.cho_factor(inv_sigma_s + rho0 * eye), eye)
        b = sum(wi.T @ xc / r for wi, xc, r in zip(w, centred, rho2))
        s = sigma_s @ (eye - rho0 * post_cov) @ b
        sigma_s = post_cov + s @ s.T / t
        tau = t * np.trace(sigma_s)
        for i, xc in enumerate(centred):
            c = xc @ s.T
            p = np.zeros_like(c)
            np.fill_diagonal(p, PERTURBATION)
            u, _, vt = np.linalg.svd(c + p, full_matrices=False)
            w[i] = u @ vt
            rho2[i] = (raw_sq[i] - 2.0 * np.sum(w[i] * c) + tau) / (t * units[i])
    return w


# ---------------------------------------------------------------------------------------------
# measures (networks as units x images)
# ---------------------------------------------------------------------------------------------
def rsm(a, b):
    """Image x image Pearson r across units between the columns of a and of b."""
    za = (a - a.mean(axis=0)) / a.std(axis=0)
    zb = (b - b.mean(axis=0)) / b.std(axis=0)
    return za.T @ zb / a.shape[0]


def within_rsm(xs):
    return np.mean([rsm(x, x) for x in xs], axis=0)


def inter_rsm(xs):
    m = len(xs)
    total = np.sum(xs, axis=0)
    return np.mean([rsm(x, (total - x) / (m - 1)) for x in xs], axis=0)


def rsa(a, b):
    low = np.tril_indices(a.shape[0], -1)
    return float(pearsonr(a[low], b[low])[0])


def variance_explained(xs, ws):
    ys = [w.T @ x for w, x in zip(ws, xs)]
    sbar = np.mean(ys, axis=0)
    return [float(1.0 - np.mean((w @ sbar - x) ** 2) / np.var(x)) for w, x in zip(ws, xs)]


def isc_loo(xs):
    m = len(xs)
    total = np.sum(xs, axis=0)
    per_net = []
    for x in xs:
        others = (total - x) / (m - 1)
        r = [np.corrcoef(x[d], others[d])[0, 1] for d in range(x.shape[0])]
        per_net.append(np.nanmean(r))
    return float(np.mean(per_net))


# ---------------------------------------------------------------------------------------------
# the whole analysis
# ---------------------------------------------------------------------------------------------
def analyse(nets, labels, stable=True):
    """nets: images x units arrays. The preset's numbers and its split."""
    n = nets[0].shape[0]
    train, test = sklearn_split(n, labels)
    test = display_order(test, labels, stable)
    xs_train = [zscore_images(x[train]) for x in nets]
    xs_test = [zscore_images(x[test]) for x in nets]
    k = min(x.shape[0] for x in xs_train)
    w = fit_srm(xs_train, k)
    ys = [wi.T @ x for wi, x in zip(w, xs_test)]
    within = within_rsm(xs_test)
    same_width = len({x.shape[0] for x in xs_test}) == 1
    return {
        "split": {"train": train, "test": test},
        "k": k,
        "rsa": {
            "native": rsa(inter_rsm(xs_test), within) if same_width else None,
            "shared": rsa(inter_rsm(ys), within),
        },
        "isc": {
            "native": isc_loo(xs_test) if same_width else None,
            "shared": isc_loo(ys),
        },
        "variance_explained": {
            "train": variance_explained(xs_train, w),
            "test": variance_explained(xs_test, w),
        },
    }


def provenance():
    return {
        "tool": "tools/paper_reference.py",
        "python": sys.version.split()[0],
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "scikit-learn": sklearn.__version__,
    }


# ---------------------------------------------------------------------------------------------
# fixed inputs
# ---------------------------------------------------------------------------------------------
def synthetic(rng, m, n, units, class_sizes, latent=4):
    """m networks sharing a class-structured latent, each through its own random loading, a
    ReLU, a per-unit offset and noise; images in a shuffled class order."""
    labels = np.repeat(np.arange(len(class_sizes)), class_sizes)
    rng.shuffle(labels)
    centres = rng.normal(size=(len(class_sizes), latent))
    z = centres[labels] + 0.6 * rng.normal(size=(n, latent))
    nets = []
    for _ in range(m):
        load = rng.normal(size=(latent, units))
        x = np.maximum(z @ load + 0.3 * rng.normal(size=(n, units)), 0.0)
        nets.append(x + rng.uniform(0.0, 2.0, size=units))
    return nets, labels.astype(np.int64)


CASES = {
    # More training images than units in all: srmscope's Gram-space route.
    "tall": dict(m=4, n=150, units=12, class_sizes=[50, 40, 30, 20, 10]),
    # More units in all than training images: the direct route.
    "wide": dict(m=3, n=60, units=40, class_sizes=[25, 20, 15]),
}


def split_cases(rng):
    """Label vectors for the split goldens: (name, labels or None, test_size, seed)."""
    unbalanced = rng.choice(5, size=137, p=[0.5, 0.2, 0.15, 0.1, 0.05])
    small = np.array([0] * 40 + [1] * 30 + [2] * 2 + [3] * 3)
    rng.shuffle(small)
    ties = np.tile(np.arange(7), 5)[:33]
    rng.shuffle(ties)
    return [
        ("balanced", np.repeat(np.arange(10), 20), 0.2, 0),
        ("unbalanced", unbalanced, 0.2, 0),
        ("small_class", small, 0.2, 0),
        ("ties", ties, 0.25, 0),
        ("negative_labels", np.array([-3, 7, 7, -3, 2, 2, 2, 7, -3, 2] * 4), 0.3, 5),
        ("seed_7", np.repeat(np.arange(3), [17, 9, 12]), 0.2, 7),
        ("no_labels", None, 0.2, 0),
        ("no_labels_odd", None, 0.15, 3),
    ]


def load_npz(path):
    z = np.load(path)
    names = sorted((k for k in z.files if k.startswith("net")), key=lambda s: int(s[3:]))
    return [z[k].reshape(z[k].shape[0], -1).astype(np.float64) for k in names], z["labels"]


def write_goldens(out, demo_paths=()):
    os.makedirs(out, exist_ok=True)
    rng = np.random.default_rng(20251205)
    cases = {}
    for name, spec in CASES.items():
        nets, labels = synthetic(rng, spec["m"], spec["n"], spec["units"], spec["class_sizes"])
        arrays = {f"net{i}": x for i, x in enumerate(nets)}
        np.savez(os.path.join(out, f"{name}.npz"), labels=labels, **arrays)
        cases[name] = analyse(nets, labels)
    demos = {}
    extra = split_cases(rng)
    for i, path in enumerate(demo_paths):
        nets, labels = load_npz(path)
        if i == 0:
            extra.append(("digits_809", labels, 0.2, 0))
        demos[os.path.splitext(os.path.basename(path))[0]] = analyse(nets, labels)
    splits = []
    for name, labels, size, seed in extra:
        n = 48 if labels is None else len(labels)
        train, test = sklearn_split(n, labels, size, seed)
        splits.append({
            "name": name,
            "n": n,
            "labels": None if labels is None else [int(v) for v in labels],
            "test_size": size,
            "seed": seed,
            "train": train,
            "test": test,
        })
    with open(os.path.join(out, "golden.json"), "w") as f:
        json.dump(
            {"provenance": provenance(), "cases": cases, "demo": demos, "splits": splits}, f, indent=1
        )
        f.write("\n")
    print(f"wrote {out}/golden.json and {', '.join(n + '.npz' for n in CASES)}")


def demo(paths):
    out = {"provenance": provenance()}
    for path in paths:
        nets, labels = load_npz(path)
        stable = analyse(nets, labels, stable=True)
        unstable = analyse(nets, labels, stable=False)
        res = {k: stable[k] for k in ("k", "rsa", "isc", "variance_explained")}
        res["variance_explained"]["test_mean"] = float(np.mean(res["variance_explained"]["test"]))
        res["n_train"] = len(stable["split"]["train"])
        res["n_test"] = len(stable["split"]["test"])
        res["unstable_argsort"] = {
            "same_order": stable["split"]["test"] == unstable["split"]["test"],
            "rsa_native_diff": unstable["rsa"]["native"] - stable["rsa"]["native"],
            "rsa_shared_diff": unstable["rsa"]["shared"] - stable["rsa"]["shared"],
        }
        out[os.path.basename(path)] = res
    print(json.dumps(out, indent=1))


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    g = sub.add_parser("goldens", help="write tests/data/paper/")
    g.add_argument("out")
    g.add_argument(
        "--demo",
        nargs="*",
        default=[],
        help="demo .npz sets analysed into `demo` (the first one's labels join the splits)",
    )
    d = sub.add_parser("demo", help="the preset's numbers on .npz demo sets")
    d.add_argument("files", nargs="+")
    a = p.parse_args()
    if a.cmd == "goldens":
        write_goldens(a.out, a.demo)
    else:
        demo(a.files)


if __name__ == "__main__":
    main()
