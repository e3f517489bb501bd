"""srmscope.similarity / pairwise against tools/similarity_reference.py's goldens."""
import json

import numpy as np
import pytest

import srmscope
from conftest import DATA


def cases():
    d = json.loads((DATA / "similarity" / "golden.json").read_text())
    return list(d["cases"].items()) if isinstance(d["cases"], dict) else list(enumerate(d["cases"]))


@pytest.mark.parametrize("case", cases(), ids=lambda c: str(c[0]))
def test_pairwise_equals_goldens(case):
    _, c = case
    xs = [np.asarray(x, dtype=np.float64) for x in c["networks"]]
    knn = int(c["knn"])
    got = srmscope.pairwise(xs, knn=knn, progress=False)
    for key, want in c["pairs"].items():
        want = np.array([[np.nan if v is None else v for v in row] for row in want], dtype=float)
        # A network against itself: the golden's arccos(1 - ε) carries √ε noise (1e-8), as the
        # Rust tests allow near a zero angle.
        atol = 1e-7 if key.startswith("procrustes") else 1e-9
        np.testing.assert_allclose(got[key], want, atol=atol, rtol=1e-9, err_msg=key)
    # The two-network call gives the same numbers as the matrix.
    one = srmscope.similarity(xs[0], xs[1], knn=knn)
    assert set(one) == set(srmscope.MEASURES)
    for key, v in one.items():
        w = got[key][0, 1]
        assert (np.isnan(v) and np.isnan(w)) or abs(v - w) < 1e-12, key


def test_measures_subset_and_errors():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((30, 8))
    perm = rng.permutation(8)
    got = srmscope.similarity(x, 3.0 * x[:, perm], measures=["cka_linear", "rsa_pearson"])
    assert list(got) == ["cka_linear", "rsa_pearson"]
    assert abs(got["cka_linear"] - 1) < 1e-12 and abs(got["rsa_pearson"] - 1) < 1e-12
    with pytest.raises(ValueError, match="unknown measure"):
        srmscope.similarity(x, x, measures="cka")
    with pytest.raises(ValueError):
        srmscope.similarity(x[:2], x[:2])
