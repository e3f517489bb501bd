"""srmscope.fit against the CLI's METRICS.json and MODEL.npz, and the Fit's outputs."""
import json
import math
import os
import subprocess

import numpy as np
import pytest

import srmscope
from conftest import need

QUICK = dict(bootstrap=50, k=10)


def close(a, b, path="", tol=1e-10):
    """Recursive equality of two JSON values, numbers to a relative tolerance."""
    if isinstance(a, dict):
        assert set(a) == set(b), "%s: keys %s vs %s" % (path, sorted(a), sorted(b))
        for k in a:
            if k != "fit_seconds":
                close(a[k], b[k], path + "." + k, tol)
    elif isinstance(a, list):
        assert len(a) == len(b), path
        for i, (u, v) in enumerate(zip(a, b)):
            close(u, v, "%s[%d]" % (path, i), tol)
    elif isinstance(a, float) or isinstance(b, float):
        if a is None or b is None:
            assert a == b, path
        else:
            assert math.isclose(a, b, rel_tol=tol, abs_tol=tol), "%s: %r vs %r" % (path, a, b)
    else:
        assert a == b, "%s: %r vs %r" % (path, a, b)


@pytest.fixture(scope="module")
def demo_fit():
    return srmscope.fit("demo:convnet", progress=False, **QUICK)


def test_fit_equals_cli_metrics(cli, tmp_path, demo_fit):
    subprocess.run([cli, "fit", "demo:convnet", "--k", "10", "--bootstrap", "50",
                    "--out", str(tmp_path / "m.npz"), "--metrics", str(tmp_path / "m.json")],
                   check=True, capture_output=True)
    cli_metrics = json.loads((tmp_path / "m.json").read_text())
    close(demo_fit.metrics, cli_metrics)
    # The same model: W of every network.
    cli_model = srmscope.load_model(tmp_path / "m.npz")
    for a, b in zip(demo_fit.model["w"], cli_model.model["w"]):
        np.testing.assert_allclose(a, b, atol=1e-12)


def test_arrays_in_equal_files_in(demo_fit):
    d = srmscope.load("demo:convnet")
    f = srmscope.fit(d["networks"], labels=d["labels"], images=d["images"],
                     class_names=d["class_names"], progress=False, **QUICK)
    close(f.metrics, demo_fit.metrics)
    np.testing.assert_array_equal(f.trajectories(), demo_fit.trajectories())


def test_trajectories_split_and_frames(demo_fit):
    t = demo_fit.trajectories("shared")
    n = demo_fit.trajectories("native")
    assert t.dtype == np.float32 and t.shape == n.shape and t.shape[0] == 5 and t.shape[2] == 3
    assert np.abs(t).max() <= 1.0 + 1e-6
    train, test = demo_fit.split
    assert len(set(train) & set(test)) == 0 and len(train) + len(test) == 809
    fr = demo_fit.frames()
    assert len(fr["image_index"]) == t.shape[1]
    with pytest.raises(ValueError, match="space"):
        demo_fit.trajectories("sideways")


def test_save_load_transform_round_trip(tmp_path, demo_fit):
    path = tmp_path / "model.npz"
    demo_fit.save(path)
    m = srmscope.load_model(path)
    d = srmscope.load("demo:convnet")
    a = demo_fit.transform(d["networks"])
    b = m.transform(d["networks"])
    assert list(a) == demo_fit.networks
    for name in a:
        assert a[name].shape == (809, 10)
        np.testing.assert_allclose(a[name], b[name], atol=1e-12)
    with pytest.raises(OSError):
        demo_fit.save(tmp_path / "no-such-folder" / "m.npz")
    with pytest.raises(ValueError, match=".npz"):
        demo_fit.save(tmp_path / "m.txt")


def test_bad_input_is_one_clear_error():
    with pytest.raises(ValueError, match="at least 2 networks"):
        srmscope.fit({"a": np.zeros((20, 5))}, progress=False)
    with pytest.raises(TypeError, match="unknown option"):
        srmscope.fit({"a": np.zeros((20, 5)), "b": np.zeros((20, 5))}, kk=3)
    with pytest.raises(ValueError, match="algo"):
        srmscope.fit({"a": np.zeros((20, 5)), "b": np.zeros((20, 5))}, algo="pca")
    x = np.random.default_rng(0).standard_normal((40, 6))
    y = x.copy()
    y[3, 2] = np.inf
    with pytest.raises(ValueError, match="NaN/Inf"):
        srmscope.fit({"a": x, "b": y}, progress=False)
    with pytest.raises(OSError, match="no-such-file"):
        srmscope.fit(["no-such-file.npz"], progress=False)


def test_gif_and_png(tmp_path, demo_fit):
    need(os.environ.get("CI") == "true" or os.path.exists("/usr/lib/x86_64-linux-gnu/libEGL.so.1"),
         "no EGL for offscreen rendering")
    n = demo_fit.to_gif(tmp_path / "fig.gif", frames=6, size=(160, 120), progress=False)
    data = (tmp_path / "fig.gif").read_bytes()
    assert data[:6] == b"GIF89a" and n == len(data)
    demo_fit.to_gif(tmp_path / "last.png", size=(160, 120), view="both", progress=False)
    assert (tmp_path / "last.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_html_page_carries_the_trajectories(tmp_path, demo_fit):
    import base64
    import re
    n = demo_fit.to_html(tmp_path / "fig.html", view="before", tail=20)
    page = (tmp_path / "fig.html").read_text(encoding="utf-8")
    assert n == len(page.encode("utf-8"))
    blob = re.search(r'id="srmscope-data">(.*?)</script>', page, re.S).group(1)
    data = json.loads(blob.replace("<\\/", "</"))
    after = np.frombuffer(base64.b64decode(data["after"]), dtype="<f4").reshape(5, -1, 3)
    before = np.frombuffer(base64.b64decode(data["before"]), dtype="<f4").reshape(5, -1, 3)
    np.testing.assert_array_equal(after, demo_fit.trajectories("shared"))
    np.testing.assert_array_equal(before, demo_fit.trajectories("native"))
    assert data["style"]["view"] == "before" and data["style"]["tail"] == 20
    inline = demo_fit._repr_html_()
    assert inline.startswith("<iframe srcdoc=") and "sandbox" in inline and "<script" not in inline


def test_procrustes_and_det_run():
    d = srmscope.load("demo:resnet")
    for algo in ("det", "procrustes"):
        f = srmscope.fit(d["networks"], labels=d["labels"], algo=algo, k=8, bootstrap=0,
                         progress=False)
        assert f.metrics["isc"]["shared"] > 0.5
        assert f.k == 8


def test_paper_preset_equals_cli(cli, tmp_path):
    subprocess.run([cli, "fit", "demo:resnet", "--preset", "paper", "--bootstrap", "0",
                    "--out", str(tmp_path / "m.npz"), "--metrics", str(tmp_path / "m.json")],
                   check=True, capture_output=True)
    want = json.loads((tmp_path / "m.json").read_text())
    f = srmscope.fit("demo:resnet", preset="paper", bootstrap=0, progress=False)
    close(f.metrics, want)
    assert f.settings["split"] == "sklearn" and f.settings["center"] == "brainiak"
    train, test = f.split
    assert list(test) == want["split"]["test"] and list(train) == want["split"]["train"]
    with pytest.raises(ValueError, match="preset='paper' sets center"):
        srmscope.fit("demo:resnet", preset="paper", center="on")
