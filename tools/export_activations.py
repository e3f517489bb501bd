#!/usr/bin/env python3
"""Export hidden-layer activations of PyTorch networks for srmscope.

srmscope reads one matrix per network, shape (n_images, n_units), recorded on
the SAME images in the SAME order for every network, either as separate
``.npy`` files or bundled into a single ``.npz`` (one array per network plus an
optional int64 ``labels`` array, the input ``images`` and ``class_names``, which
the viewer shows on hover and beside the scrubber).  This module writes both.
It needs only numpy and torch.

Use from Python
---------------
    import sys; sys.path.insert(0, "tools")
    from export_activations import save_activations, save_bundle

    acts = {}
    for i, model in enumerate(models):             # independently trained nets
        acts[f"net{i}"] = save_activations(model, "classifier.1", test_loader,
                                           f"net{i}.npy")
    save_bundle(acts, test_labels, "bundle.npz",
                images=test_images,                 # (n, H, W[, C]) or (n, C, H, W)
                class_names=test_set.classes,       # e.g. ["airplane", ...]
                image_size=32)                      # optional: downsample to <= 32 px

``layer_name_or_module`` is either a dotted name as listed by
``model.named_modules()`` (e.g. ``"fc1"``, ``"layer4.1.bn2"``) or the module
object itself.  The hook records the layer's *output* (for a Linear layer that
is the pre-activation, as in the paper's Dense-512 pre-ReLU).  The loader must
not shuffle: every network has to see the images in the same order.

Use from the shell
------------------
    # bundle separate .npy files (names = file stems, or give name=path)
    python3 tools/export_activations.py bundle out.npz a.npy b.npy --labels labels.npy
    python3 tools/export_activations.py bundle out.npz net0=run0/acts.npy net1=run1/acts.npy
    # with the input images (downsampled to <= 32 px) and class names (one a line)
    python3 tools/export_activations.py bundle out.npz a.npy b.npy --labels labels.npy \
        --images images.npy --image-size 32 --class-names classes.txt

    # show what a .npz / .npy holds
    python3 tools/export_activations.py info out.npz

``--labels`` accepts a ``.npy`` file or a text file with one integer per line.
"""
import argparse
import os
import re
import sys

import numpy as np

_NAME_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.\-]*$")


def _resolve_layer(model, layer):
    if isinstance(layer, str):
        modules = dict(model.named_modules())
        if layer not in modules:
            names = [n for n in modules if n]
            raise KeyError("no layer named %r; available: %s" % (layer, ", ".join(names)))
        return modules[layer]
    return layer


def save_activations(model, layer_name_or_module, dataloader, path=None,
                     max_images=None, device=None):
    """Record the output of one layer for every image of ``dataloader``.

    Runs the model in eval mode under ``torch.no_grad()``, images in loader
    order.  Each output is flattened per image to ``(n_images, n_units)``
    float32.  Writes ``path`` (``.npy``) when given and returns the array.
    The loader may yield ``(x, y, ...)`` tuples/lists, dicts with key
    ``"x"``/``"input"``/``"image"``, or bare tensors.  ``max_images`` stops
    after that many images.  The model's train/eval mode is restored after.
    """
    import torch

    module = _resolve_layer(model, layer_name_or_module)
    if device is None:
        try:
            device = next(model.parameters()).device
        except StopIteration:
            device = torch.device("cpu")
    chunks = []
    count = [0]

    def hook(_mod, _inp, out):
        if isinstance(out, (tuple, list)):
            out = out[0]
        chunks.append(out.detach().reshape(out.shape[0], -1).to("cpu", torch.float32).numpy().copy())

    handle = module.register_forward_hook(hook)
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            for batch in dataloader:
                if isinstance(batch, (tuple, list)):
                    x = batch[0]
                elif isinstance(batch, dict):
                    x = next(batch[k] for k in ("x", "input", "image", "pixel_values") if k in batch)
                else:
                    x = batch
                if max_images is not None:
                    left = max_images - count[0]
                    if left <= 0:
                        break
                    x = x[:left]
                n_before = len(chunks)
                model(x.to(device))
                if len(chunks) != n_before + 1:
                    raise RuntimeError("layer was called %d times in one forward pass; "
                                       "pick a layer that runs exactly once" % (len(chunks) - n_before))
                count[0] += chunks[-1].shape[0]
    finally:
        handle.remove()
        model.train(was_training)
    if not chunks:
        raise ValueError("the dataloader yielded no images")
    acts = np.ascontiguousarray(np.concatenate(chunks, axis=0), dtype=np.float32)
    if not np.all(np.isfinite(acts)):
        raise ValueError("non-finite activations")
    if path is not None:
        np.save(path, acts)
    return acts


_RESERVED = ("labels", "images", "class_names")


def prepare_images(images, image_size=None):
    """Input images as uint8 (n, H, W) or (n, H, W, C) for srmscope.

    Accepts numpy arrays or tensors shaped (n, H, W), (n, H, W, C) or
    (n, C, H, W) with C in 1, 3, 4.  Floats are scaled by their min and max to
    0..255 (normalised tensors included).  ``image_size`` box-downsamples by an
    integer factor until the longer side is at most that many pixels: 10,000
    CIFAR images at 32 px are 30 MB, ImageNet crops at 224 px would be 1.5 GB.
    """
    a = images.detach().cpu().numpy() if hasattr(images, "detach") else np.asarray(images)
    if a.ndim == 4 and a.shape[1] in (1, 3, 4) and a.shape[3] not in (1, 3, 4):
        a = a.transpose(0, 2, 3, 1)                 # channels last
    if a.ndim not in (3, 4) or (a.ndim == 4 and a.shape[3] not in (1, 3, 4)):
        raise ValueError("images: expected (n, H, W), (n, H, W, C) or (n, C, H, W), got %s"
                         % (a.shape,))
    if a.dtype != np.uint8:
        a = a.astype(np.float64)
        lo, hi = float(np.nanmin(a)), float(np.nanmax(a))
        a = np.round((a - lo) / (hi - lo if hi > lo else 1.0) * 255.0)
        a = np.nan_to_num(a).clip(0, 255).astype(np.uint8)
    if image_size:
        f = -(-max(a.shape[1], a.shape[2]) // int(image_size))    # ceil
        if f > 1:
            h, w = a.shape[1] // f, a.shape[2] // f
            b = a[:, :h * f, :w * f].astype(np.float64)
            b = b.reshape((a.shape[0], h, f, w, f) + a.shape[3:]).mean(axis=(2, 4))
            a = np.round(b).astype(np.uint8)
    return np.ascontiguousarray(a)


def save_bundle(arrays, labels, path, images=None, class_names=None, image_size=None):
    """Write ``{name: (n_images, n_units)}`` plus ``labels`` into one ``.npz``.

    Names must be non-empty identifiers (letters, digits, ``_ . -``) and not
    ``labels``, ``images`` or ``class_names``; all arrays must share n_images;
    ``labels`` (may be None) must have n_images integer entries and is stored
    as int64.  Arrays are stored as float32 with ``np.savez_compressed``, in
    the given order.  ``images`` (optional, one per row; see
    :func:`prepare_images`, which ``image_size`` is passed to) are stored as
    uint8; ``class_names`` (optional) as strings, label k named
    ``class_names[k]``.
    """
    if len(arrays) < 2:
        raise ValueError("need at least 2 networks, got %d" % len(arrays))
    out = {}
    n = None
    for name, a in arrays.items():
        if not isinstance(name, str) or not _NAME_RE.match(name):
            raise ValueError("invalid network name %r" % (name,))
        if name in _RESERVED:
            raise ValueError("%r is reserved (labels, images, class_names)" % name)
        a = np.asarray(a)
        if a.ndim != 2:
            raise ValueError("%s: expected (n_images, n_units), got shape %s" % (name, a.shape))
        if n is None:
            n = a.shape[0]
        elif a.shape[0] != n:
            raise ValueError("%s has %d images, expected %d" % (name, a.shape[0], n))
        a = a.astype(np.float32, copy=False)
        if not np.all(np.isfinite(a)):
            raise ValueError("%s: non-finite values" % name)
        out[name] = a
    if labels is not None:
        lab = np.asarray(labels)
        if lab.ndim != 1 or lab.shape[0] != n:
            raise ValueError("labels: expected shape (%d,), got %s" % (n, lab.shape))
        if lab.size and not np.all(np.equal(np.mod(lab, 1), 0)):
            raise ValueError("labels must be integers")
        out["labels"] = lab.astype(np.int64)
    if images is not None:
        img = prepare_images(images, image_size)
        if img.shape[0] != n:
            raise ValueError("images: %d images, but the networks have %d" % (img.shape[0], n))
        out["images"] = img
    if class_names is not None:
        out["class_names"] = np.array([str(c) for c in class_names])
    np.savez_compressed(path, **out)
    return path


def _load_labels(p):
    if p.endswith(".npy"):
        return np.load(p)
    return np.loadtxt(p, dtype=np.int64, ndmin=1)


def _cmd_bundle(a):
    arrays = {}
    for spec in a.inputs:
        if "=" in spec and not os.path.exists(spec):
            name, p = spec.split("=", 1)
        else:
            p = spec
            name = os.path.splitext(os.path.basename(p))[0]
        if name in arrays:
            raise SystemExit("duplicate network name %r" % name)
        arrays[name] = np.load(p)
    labels = _load_labels(a.labels) if a.labels else None
    images = np.load(a.images) if a.images else None
    names = None
    if a.class_names:
        with open(a.class_names, encoding="utf-8") as f:
            names = [line.strip() for line in f.read().rstrip("\n").split("\n")]
    save_bundle(arrays, labels, a.out, images=images, class_names=names,
                image_size=a.image_size)
    print("wrote %s: %s%s%s%s" % (
        a.out, ", ".join("%s %s" % (k, v.shape) for k, v in arrays.items()),
        "" if labels is None else ", labels (%d,)" % len(labels),
        "" if images is None else ", images",
        "" if names is None else ", %d class names" % len(names)))


def _cmd_info(a):
    for p in a.files:
        d = np.load(p)
        items = d.items() if hasattr(d, "items") else [(os.path.basename(p), d)]
        print(p)
        for k, v in items:
            print("  %-12s %-12s %s" % (k, v.dtype, v.shape))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("bundle", help="bundle .npy files (n_images x n_units) into one .npz")
    b.add_argument("out")
    b.add_argument("inputs", nargs="+", help="file.npy or name=file.npy")
    b.add_argument("--labels", help=".npy or text file with one integer per image")
    b.add_argument("--images", help=".npy of input images, one per activation row")
    b.add_argument("--image-size", type=int, help="downsample images to at most this many px")
    b.add_argument("--class-names", help="text file, one class name a line")
    b.set_defaults(func=_cmd_bundle)
    i = sub.add_parser("info", help="list the arrays of .npz/.npy files")
    i.add_argument("files", nargs="+")
    i.set_defaults(func=_cmd_info)
    a = ap.parse_args(argv)
    try:
        a.func(a)
    except (ValueError, KeyError, OSError) as e:
        print("error: %s" % e, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
