"""srmscope.torch.capture on a tiny model, then straight into srmscope.fit."""
import numpy as np
import pytest

from conftest import need

try:
    import torch
except ImportError:
    torch = None


def tiny(seed):
    torch.manual_seed(seed)
    return torch.nn.Sequential(torch.nn.Linear(12, 16), torch.nn.ReLU(), torch.nn.Linear(16, 8))


def test_capture_arrays_and_study(tmp_path):
    need(torch is not None, "torch is not installed")
    from srmscope.torch import capture
    import srmscope

    x = torch.randn(120, 12)
    nets = {"a": tiny(0), "b": tiny(1), "c": tiny(2)}
    acts = capture(nets, x, "0", batch_size=32)
    assert set(acts) == {"a", "b", "c"} and acts["a"].shape == (120, 16)
    with torch.no_grad():
        np.testing.assert_allclose(acts["b"], nets["b"][0](x).numpy(), rtol=1e-6)
    both = capture(list(nets.values()), x, ["0", "2"], batch_size=50)
    assert set(both) == {"0", "2"} and both["2"]["net1"].shape == (120, 8)
    labels = np.arange(120) % 4
    fit = srmscope.fit(acts, labels=labels, k=8, bootstrap=0, progress=False)
    assert fit.trajectories().shape[0] == 3
    path = capture({"mlp": {0: [tiny(0), tiny(1)], 5: [tiny(2), tiny(3)]}}, x, ["0", "2"],
                   out=tmp_path / "study", labels=labels, dtype="float32")
    r = srmscope.study(str(path), cache=None, k=4, bootstrap=0, progress=False)
    assert r["n_cells"] == 4
    with pytest.raises(ValueError, match="out="):
        capture({"mlp": {0: [tiny(0), tiny(1)]}}, x, "0")
