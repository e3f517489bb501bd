"""srmscope.study against `srmscope study` on the embedded demo study."""
import json
import subprocess

import pytest

import srmscope
from test_fit import close

OPTS = dict(k=5, bootstrap=0, iters=5)


@pytest.fixture(scope="module")
def results():
    return srmscope.study("demo:digits-study", cache=None, progress=False, **OPTS)


def test_study_equals_cli(cli, tmp_path, results):
    subprocess.run([cli, "study", "demo:digits-study", "--no-cache", "--k", "5",
                    "--bootstrap", "0", "--iters", "5", "--out", str(tmp_path / "r.json")],
                   check=True, capture_output=True)
    want = json.loads((tmp_path / "r.json").read_text())
    for c in want["cells"] + results["cells"]:
        c.pop("fit_seconds", None)
    close(results["cells"], want["cells"])
    assert results["name"] == want["name"] and results["n_cells"] == want["n_cells"]


def test_cache_and_shards(tmp_path, results):
    first = srmscope.study("demo:digits-study", cache=tmp_path / "cache", progress=False, **OPTS)
    again = srmscope.study("demo:digits-study", cache=tmp_path / "cache", progress=False, **OPTS)
    for a, b in zip(first["cells"], again["cells"]):
        a.pop("fit_seconds"), b.pop("fit_seconds")
        assert a == b
    half = srmscope.study("demo:digits-study", cache=None, shard="1/2", progress=False, **OPTS)
    assert half["shard"] == [1, 2] and 0 < len(half["cells"]) < results["n_cells"]
    with pytest.raises(ValueError, match="shard"):
        srmscope.study("demo:digits-study", cache=None, shard="3/2", **OPTS)


def test_to_pandas(results):
    pd = pytest.importorskip("pandas")
    df = results.to_pandas()
    assert isinstance(df, pd.DataFrame) and len(df) == results["n_cells"]
    assert {"arch", "layer", "checkpoint", "isc_shared", "rsa_shared"} <= set(df.columns)


def test_manifest_dict_resolves_paths(tmp_path):
    import numpy as np
    d = srmscope.load("demo:convnet")
    np.savez(tmp_path / "cell.npz", **d["networks"], labels=d["labels"])
    manifest = {"name": "one", "cells": [{"arch": "a", "layer": "l", "checkpoint": 0,
                                          "path": "cell.npz"}]}
    r = srmscope.study(manifest, base=tmp_path, cache=None, progress=False, **OPTS)
    assert r["n_cells"] == 1 and r["cells"][0]["isc"]["shared"] > 0.5
