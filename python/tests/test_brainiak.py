"""srmscope.SRM / DetSRM against BrainIAK 0.12 itself, installed in the same environment."""
import json

import numpy as np
import pytest

import srmscope
from conftest import DATA, need

try:
    from brainiak.funcalign import srm as bsrm
except Exception as e:  # brainiak needs mpi4py and an MPI library
    bsrm = None
    WHY = "BrainIAK is not importable: %s" % e


def fixtures():
    index = json.loads((DATA / "fixtures" / "index.json").read_text())
    for name, meta in sorted(index.items()):
        with np.load(DATA / "fixtures" / name) as z:
            m = sum(1 for k in z.files if k.startswith("x_"))
            yield name, meta, [z["x_%d" % i] for i in range(m)]


def ragged(seed, units=(37, 50, 23), samples=60):
    rng = np.random.default_rng(seed)
    shared = rng.standard_normal((5, samples))
    out = []
    for v in units:
        w = np.linalg.qr(rng.standard_normal((v, 5)))[0]
        out.append(w @ shared + 0.3 * rng.standard_normal((v, samples)) + rng.random((v, 1)) * 4)
    return out


def cases():
    for name, meta, xs in fixtures():
        yield name, meta["algo"], meta["k"], meta["n_iter"], meta["rand_seed"], xs
    for seed in (1, 2):
        for algo in ("prob", "det"):
            yield "ragged-%d-%s" % (seed, algo), algo, 5, 10, seed, ragged(seed)


@pytest.mark.parametrize("case", list(cases()), ids=lambda c: c[0])
def test_equals_brainiak(case):
    need(bsrm is not None, globals().get("WHY", ""))
    name, algo, k, n_iter, seed, xs = case
    ours_cls, theirs_cls = (srmscope.SRM, bsrm.SRM) if algo == "prob" else (srmscope.DetSRM, bsrm.DetSRM)
    theirs = theirs_cls(n_iter=n_iter, features=k, rand_seed=seed).fit(xs)
    ours = ours_cls(n_iter=n_iter, features=k, rand_seed=seed, progress=False).fit(xs)
    for i in range(len(xs)):
        np.testing.assert_allclose(ours.w_[i], theirs.w_[i], atol=1e-8, rtol=0)
    np.testing.assert_allclose(ours.s_, theirs.s_, atol=1e-8, rtol=0)
    for a, b in zip(ours.transform(xs), theirs.transform(xs)):
        np.testing.assert_allclose(a, b, atol=1e-8, rtol=0)
    # Every fitted attribute BrainIAK has, with the same values.
    for attr in vars(theirs):
        if not attr.endswith("_") or attr.startswith("_"):
            continue
        assert hasattr(ours, attr), "srmscope.%s lacks %s" % (type(ours).__name__, attr)
        b = getattr(theirs, attr)
        a = getattr(ours, attr)
        if isinstance(b, np.random.RandomState):
            assert a.randint(2 ** 31) == b.randint(2 ** 31)
        elif isinstance(b, list):
            for u, v in zip(a, b):
                np.testing.assert_allclose(u, v, atol=1e-8, rtol=0)
        else:
            np.testing.assert_allclose(a, b, atol=1e-8, rtol=0)
    # transform_subject: a new subject's W against the fitted shared response.
    np.testing.assert_allclose(ours.transform_subject(xs[0]), theirs.transform_subject(xs[0]),
                               atol=1e-8, rtol=0)


def test_errors_are_brainiaks():
    xs = ragged(3)
    with pytest.raises(ValueError, match="not enough samples"):
        srmscope.SRM(features=100).fit(xs)
    with pytest.raises(ValueError, match="not enough subjects"):
        srmscope.SRM(features=3).fit(xs[:1])
    with pytest.raises(srmscope.NotFittedError):
        srmscope.DetSRM().transform(xs)
    bad = [x.copy() for x in xs]
    bad[1][0, 0] = np.nan
    with pytest.raises(ValueError, match=r"X\[1\]: contains 1 NaN/Inf"):
        srmscope.SRM(features=3, progress=False).fit(bad)


def test_center_keyword_subtracts_training_means():
    xs = ragged(4)
    m = srmscope.SRM(features=5, center=True, progress=False).fit(xs)
    for x, w, mu, s in zip(xs, m.w_, m.mu_, m.transform(xs)):
        np.testing.assert_allclose(s, w.T @ (x - mu[:, None]), atol=1e-12)
    raw = srmscope.SRM(features=5, progress=False).fit(xs)
    assert not np.allclose(raw.transform(xs)[0], m.transform(xs)[0])
