"""Writes planted.npz (and a folder of .npy) with numpy: 3 networks, each a random rotation of
one 6-dim class-structured response over 240 images plus unit offsets and noise, as float32,
with int64 labels. Used by tests/cli.rs to run the binary on real numpy-written files."""
import os
import numpy as np

rng = np.random.default_rng(0)
T, k, classes = 240, 6, 4
labels = np.repeat(np.arange(classes), T // classes)
rng.shuffle(labels)
centres = rng.standard_normal((classes, k)) * 2
S = centres[labels] + rng.standard_normal((T, k)) * np.linspace(3, 1, k)
nets = {}
for i, v in enumerate([20, 24, 30]):
    q, _ = np.linalg.qr(rng.standard_normal((v, k)))
    nets[f"net{i}"] = (S @ q.T + rng.standard_normal(v) * 2 + 0.3 * rng.standard_normal((T, v))).astype(np.float32)
np.savez_compressed("planted.npz", labels=labels.astype(np.int64), **nets)
os.makedirs("planted_dir", exist_ok=True)
for name, x in nets.items():
    np.save(os.path.join("planted_dir", name + ".npy"), np.asfortranarray(x))
np.save(os.path.join("planted_dir", "labels.npy"), labels.astype(np.int32))
