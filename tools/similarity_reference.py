#!/usr/bin/env python3
"""Independent reference values for srmscope's pairwise similarity measures.

Written from the papers' formulas, not from srmscope's Rust code:
  * linear CKA (Kornblith et al. 2019): HSIC_0 = tr(K H L H) / (n-1)^2 (biased) and the unbiased
    HSIC_1 of Song et al. 2012 (zero-diagonal kernels), CKA = HSIC(K,L)/sqrt(HSIC(K,K) HSIC(L,L));
  * Procrustes shape distances (Williams et al. 2021; netrep LinearMetric(alpha=1)): centre the
    units, scale each matrix to unit Frobenius norm, zero-pad the narrower one; angular =
    arccos(||X^T Y||_*), Euclidean = ||X Q - Y||_F with Q the optimal orthogonal map
    (scipy.linalg.orthogonal_procrustes), which equals sqrt(2 - 2 cos(angular));
  * second-order RSA through rsatoolbox 0.3.2: correlation RDMs (1 - Pearson r across units per
    image) of the unit-centred data, compared with rsatoolbox.rdm.compare 'corr' and 'spearman';
  * ISC per pair: mean over units d of Pearson r(X[:, d], Y[:, d]) (equal widths only);
  * mutual k-NN (Huh et al. 2024, platonic-rep): cosine neighbours of each image among the other
    images (unit-centred rows), ties to the lower index; mean over images of |N_X(i) & N_Y(i)|/k.

Usage: python tools/similarity_reference.py tests/data/similarity/golden.json
"""
import json
import sys

import numpy as np
import rsatoolbox
import scipy
from scipy.linalg import orthogonal_procrustes


def center(x):
    return x - x.mean(axis=0, keepdims=True)


def hsic_biased(k, l):
    n = k.shape[0]
    h = np.eye(n) - np.ones((n, n)) / n
    return np.trace(k @ h @ l @ h) / (n - 1) ** 2


def hsic_unbiased(k, l):
    n = k.shape[0]
    kt = k - np.diag(np.diag(k))
    lt = l - np.diag(np.diag(l))
    one = np.ones(n)
    term1 = np.trace(kt @ lt)
    term2 = (one @ kt @ one) * (one @ lt @ one) / ((n - 1) * (n - 2))
    term3 = 2.0 / (n - 2) * (one @ kt @ lt @ one)
    return (term1 + term2 - term3) / (n * (n - 3))


def cka(x, y, hsic):
    k = center(x) @ center(x).T
    l = center(y) @ center(y).T
    return hsic(k, l) / np.sqrt(hsic(k, k) * hsic(l, l))


def padded_unit(x, width):
    xc = center(x)
    xc = xc / np.linalg.norm(xc)
    out = np.zeros((x.shape[0], width))
    out[:, : x.shape[1]] = xc
    return out


def procrustes(x, y):
    w = max(x.shape[1], y.shape[1])
    a, b = padded_unit(x, w), padded_unit(y, w)
    nuc = np.linalg.svd(a.T @ b, compute_uv=False).sum()
    angular = np.arccos(np.clip(nuc, -1.0, 1.0))
    q, _ = orthogonal_procrustes(a, b)
    euclidean = np.linalg.norm(a @ q - b)
    return angular, euclidean


def rdm(x):
    ds = rsatoolbox.data.Dataset(center(x))
    return rsatoolbox.rdm.calc_rdm(ds, method="correlation")


def rsa(x, y):
    a, b = rdm(x), rdm(y)
    pearson = rsatoolbox.rdm.compare(a, b, method="corr")[0, 0]
    spearman = rsatoolbox.rdm.compare(a, b, method="spearman")[0, 0]
    return pearson, spearman


def isc_pair(x, y):
    if x.shape[1] != y.shape[1]:
        return None
    rs = [np.corrcoef(x[:, d], y[:, d])[0, 1] for d in range(x.shape[1])]
    return float(np.mean(rs))


def knn_sets(x, k):
    xc = center(x)
    norms = np.linalg.norm(xc, axis=1)
    s = (xc @ xc.T) / np.outer(norms, norms)
    np.fill_diagonal(s, -np.inf)
    # Stable sort on -s: equal similarities keep the lower index first.
    order = np.argsort(-s, axis=1, kind="stable")[:, :k]
    return [set(r) for r in order]


def mutual_knn(x, y, k):
    a, b = knn_sets(x, k), knn_sets(y, k)
    return float(np.mean([len(sa & sb) / k for sa, sb in zip(a, b)]))


def matrices(xs, k):
    m = len(xs)
    names = ["cka_linear", "cka_linear_debiased", "procrustes_angular",
             "procrustes_euclidean", "rsa_pearson", "rsa_spearman", "isc", "mutual_knn"]
    out = {n: [[None] * m for _ in range(m)] for n in names}
    for i in range(m):
        for j in range(m):
            x, y = xs[i], xs[j]
            out["cka_linear"][i][j] = cka(x, y, hsic_biased)
            out["cka_linear_debiased"][i][j] = cka(x, y, hsic_unbiased)
            ang, euc = procrustes(x, y)
            out["procrustes_angular"][i][j] = ang
            out["procrustes_euclidean"][i][j] = euc
            p, s = rsa(x, y)
            out["rsa_pearson"][i][j] = p
            out["rsa_spearman"][i][j] = s
            out["isc"][i][j] = isc_pair(x, y)
            out["mutual_knn"][i][j] = mutual_knn(x, y, k)
    return {n: [[None if v is None else float(v) for v in row] for row in mat]
            for n, mat in out.items()}


def make_case(rng, n, widths, latent=4, noise=0.7):
    s = rng.standard_normal((n, latent))
    xs = []
    for p in widths:
        a = rng.standard_normal((latent, p))
        offset = 3.0 * rng.standard_normal(p)
        xs.append(s @ a + noise * rng.standard_normal((n, p)) + offset)
    return xs


def main(path):
    rng = np.random.default_rng(20261201)
    cases = {
        "equal": (make_case(rng, 40, [8, 8, 8, 8]), 5),
        "ragged": (make_case(rng, 40, [6, 9, 12]), 5),
        # More units than images: the p > n path.
        "wide": (make_case(rng, 10, [16, 12, 16], latent=3), 3),
    }
    out = {
        "provenance": {
            "script": "tools/similarity_reference.py",
            "numpy": np.__version__,
            "scipy": scipy.__version__,
            "rsatoolbox": "0.3.2",
            "seed": 20261201,
        },
        "cases": {},
    }
    for name, (xs, k) in cases.items():
        out["cases"][name] = {
            "knn": k,
            "networks": [x.tolist() for x in xs],
            "pairs": matrices(xs, k),
        }
    with open(path, "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "tests/data/similarity/golden.json")
