#!/usr/bin/env python3
"""Add the held-out 8x8 digit images and the class names to the demo .npz files in place.

Recomputes make_demo.py's split (sklearn load_digits, train_test_split(test_size=0.45,
stratify=labels, random_state=0), held-out rows in dataset order), checks that its labels equal
each npz's `labels` exactly, and rewrites the npz with every existing array unchanged plus
`images` (uint8 (809, 8, 8), 0..16 scaled to 0..255) and `class_names` ("0".."9").

    python3 tools/add_demo_images.py [assets/demo]
"""
import os
import sys

import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split


def heldout_digits():
    d = load_digits()
    y = d.target.astype(np.int64)
    idx = np.arange(len(y))
    _, te = train_test_split(idx, test_size=0.45, stratify=y, random_state=0)
    te = np.sort(te)
    images = np.round(d.images[te] * (255.0 / 16.0)).clip(0, 255).astype(np.uint8)
    return images, y[te]


def main():
    folder = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(__file__), "..", "assets", "demo")
    images, labels = heldout_digits()
    class_names = np.array([str(k) for k in range(10)])
    for name in ("convnet", "resnet", "convnet_untrained"):
        path = os.path.join(folder, name + ".npz")
        with np.load(path) as d:
            arrays = {k: d[k] for k in d.files if k not in ("images", "class_names")}
        if not np.array_equal(arrays["labels"], labels):
            sys.exit("%s: labels differ from the recomputed split; not changed" % path)
        arrays["images"] = images
        arrays["class_names"] = class_names
        tmp = path + ".tmp.npz"
        np.savez_compressed(tmp, **arrays)
        with np.load(tmp) as d:
            for k, v in arrays.items():
                assert d[k].dtype == v.dtype and np.array_equal(d[k], v), k
        os.replace(tmp, path)
        print("%s: added images %s %s and %d class names"
              % (path, images.shape, images.dtype, len(class_names)))


if __name__ == "__main__":
    main()
