#!/usr/bin/env python3
"""Record hidden-layer activations of PyTorch networks for srmscope (``srmscope.torch``).

:func:`capture` is the one call most users need: forward hooks record the given layers of
several networks (and of several checkpoints) into arrays that :func:`srmscope.fit` takes as
they are, or into a study folder that :func:`srmscope.study` runs.  torch is imported only
inside the functions that need it, so ``import srmscope`` never imports torch.

The rest of this module is the exporter that used to be ``tools/export_activations.py`` (that
file is now a shim over this one):

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

    # show what a .npz / .npy / study holds
    python3 tools/export_activations.py info out.npz
    python3 tools/export_activations.py info my-study/

``--labels`` accepts a ``.npy`` file or a text file with one integer per line.

Studies: several layers at several checkpoints
----------------------------------------------
A study is a folder with a ``study.json`` manifest and one ``.npz`` per
(arch, layer, checkpoint) cell, all on the same images in the same order;
srmscope loads the folder, its ``study.json`` or a ``.zip`` of the folder::

    from export_activations import write_study, zip_study
    write_study("digits-study", "digits",
                models={"convnet": {0: conv_e0, 8: conv_e8},    # lists of nets
                        "resnet": {0: res_e0, 8: res_e8}},
                layers={"pool1": "features.4", "fc": "hidden"},  # or ["features.4", "hidden"]
                inputs=x_test, labels=y_test,                    # tensor (n, ...) or a loader
                images=test_images, class_names=[str(k) for k in range(10)],
                dtype="float16")                                 # or "float32"
    zip_study("digits-study", "digits-study.zip")                # optional: one file

:func:`save_study` writes a study from arrays you already have, and the
``study`` subcommand from bundles on disk::

    python3 tools/export_activations.py study out-study --name digits \
        --cell convnet/pool1/0=e0_pool1.npz --cell convnet/pool1/8=e8_pool1.npz \
        --labels labels.npy --images images.npy --class-names classes.txt [--zip out.zip]
"""
import argparse
import io
import json
import os
import re
import sys
import zipfile

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


def _batch_input(batch):
    """The input tensor of one loader batch: ``(x, y, ...)``, a dict or a bare tensor."""
    if isinstance(batch, (tuple, list)):
        return batch[0]
    if isinstance(batch, dict):
        return next(batch[k] for k in ("x", "input", "image", "pixel_values") if k in batch)
    return batch


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
                x = _batch_input(batch)
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


# --------------------------------------------------------------------------
# several layers in one pass; studies (layers x checkpoints)
# --------------------------------------------------------------------------
def record_layers(model, layers, dataloader, max_images=None, device=None):
    """Record the outputs of several layers in ONE pass over ``dataloader``.

    ``layers`` is a list of module names (``"features.4"``, ``"hidden"``) or a
    dict ``{key: module name or module}``.  Returns ``{key: (n_images,
    n_units) float32}`` in the order given.  Same rules as
    :func:`save_activations`: eval mode, ``torch.no_grad()``, loader order,
    every layer must run exactly once per forward pass, the model's mode is
    restored after.
    """
    import torch

    if isinstance(layers, dict):
        spec = list(layers.items())
    else:
        spec = []
        for layer in layers:
            if not isinstance(layer, str):
                raise ValueError("record_layers: give modules as a dict {name: module}")
            spec.append((layer, layer))
    if not spec:
        raise ValueError("no layers to record")
    keys = [k for k, _ in spec]
    if len(set(keys)) != len(keys):
        raise ValueError("duplicate layer names: %s" % ", ".join(keys))
    if device is None:
        try:
            device = next(model.parameters()).device
        except StopIteration:
            device = torch.device("cpu")
    chunks = {k: [] for k in keys}

    def make_hook(key):
        def hook(_mod, _inp, out):
            if isinstance(out, (tuple, list)):
                out = out[0]
            chunks[key].append(out.detach().reshape(out.shape[0], -1)
                               .to("cpu", torch.float32).numpy().copy())
        return hook

    handles = [_resolve_layer(model, layer).register_forward_hook(make_hook(k))
               for k, layer in spec]
    was_training = model.training
    model.eval()
    count = 0
    try:
        with torch.no_grad():
            for batch in dataloader:
                x = _batch_input(batch)
                if max_images is not None:
                    left = max_images - count
                    if left <= 0:
                        break
                    x = x[:left]
                before = {k: len(v) for k, v in chunks.items()}
                model(x.to(device))
                for k in keys:
                    if len(chunks[k]) != before[k] + 1:
                        raise RuntimeError("layer %r was called %d times in one forward pass; "
                                           "pick a layer that runs exactly once"
                                           % (k, len(chunks[k]) - before[k]))
                count += chunks[keys[0]][-1].shape[0]
    finally:
        for h in handles:
            h.remove()
        model.train(was_training)
    if count == 0:
        raise ValueError("the dataloader yielded no images")
    out = {}
    for k in keys:
        a = np.ascontiguousarray(np.concatenate(chunks[k], axis=0), dtype=np.float32)
        if not np.all(np.isfinite(a)):
            raise ValueError("layer %r: non-finite activations" % k)
        out[k] = a
    return out


def _is_module(m):
    return hasattr(m, "named_modules") and hasattr(m, "register_forward_hook")


def _batches(inputs, batch_size, what, one_reader):
    """A tensor or array as a list of batches; a loader as it is, unless it is a one-shot
    iterator that several models would have to read."""
    import torch

    if isinstance(inputs, np.ndarray) or hasattr(inputs, "detach"):
        x = torch.as_tensor(inputs)
        if x.ndim < 1 or x.shape[0] == 0:
            raise ValueError("%s: no inputs" % what)
        bs = max(1, int(batch_size))
        return [x[s:s + bs] for s in range(0, x.shape[0], bs)]
    if iter(inputs) is inputs and not one_reader:
        raise ValueError("%s: a one-shot iterator, but every model must read the inputs; pass "
                         "a tensor, an array, a DataLoader or a list of batches" % what)
    return inputs


def capture(models, loader, layers, out=None, *, name="study", labels=None, images=None,
            class_names=None, max_images=None, device=None, dtype="float16",
            net_names=None, batch_size=256, overwrite=False):
    """Record ``layers`` of several networks with forward hooks, in ONE pass per network.

    ``models`` is either

    * one set of networks, ``{name: model}`` or ``[model, ...]`` (named ``net0``, ``net1``,
      ...): returns ``{name: (n_images, n_units) float32}`` when ``layers`` is one layer name,
      else ``{layer: {name: array}}``; pass either straight to :func:`srmscope.fit`;
    * several archs and checkpoints, ``{arch: {checkpoint: [model, ...] or {name: model}}}``:
      writes a study folder ``out`` (``study.json`` and one ``.npz`` per cell, see
      :func:`write_study`) and returns the manifest's path; ``out`` is required.

    ``loader`` is a non-shuffling, re-iterable loader yielding ``(x, y, ...)``, dicts or
    tensors, or a tensor/array of inputs fed in batches of ``batch_size``.  ``layers`` are
    module names as listed by ``model.named_modules()`` (or ``{name: module name}``).  Every
    model runs in eval mode under ``torch.no_grad()``; its mode is restored after.
    """

    if isinstance(models, dict) and models and not all(_is_module(m) for m in models.values()):
        if out is None:
            raise ValueError("capture: several archs/checkpoints are written as a study; "
                             "give out='my-study' (a new folder)")
        return write_study(out, name, models, layers, loader, labels=labels, images=images,
                           class_names=class_names, batch_size=batch_size, dtype=dtype,
                           net_names=net_names, overwrite=overwrite, device=device,
                           max_images=max_images)
    if isinstance(models, dict):
        nets = dict(models)
    elif isinstance(models, (list, tuple)):
        names = list(net_names) if net_names is not None else \
            ["net%d" % i for i in range(len(models))]
        if len(names) != len(models):
            raise ValueError("capture: %d models but %d net_names" % (len(models), len(names)))
        nets = dict(zip(names, models))
    else:
        raise ValueError("capture: models must be {name: model}, [model, ...] or "
                         "{arch: {checkpoint: models}}")
    if not nets:
        raise ValueError("capture: no models")
    for net, m in nets.items():
        if not _is_module(m):
            raise ValueError("capture: models[%r] is not a torch.nn.Module" % (net,))
    single = isinstance(layers, str)
    spec = [layers] if single else layers
    loader = _batches(loader, batch_size, "capture", one_reader=len(nets) == 1)
    recorded = {net: record_layers(m, spec, loader, max_images=max_images, device=device)
                for net, m in nets.items()}
    counts = {net: next(iter(r.values())).shape[0] for net, r in recorded.items()}
    if len(set(counts.values())) != 1:
        raise ValueError("capture: the networks saw different numbers of images %s; "
                         "the loader must yield the same images every time" % counts)
    keys = list(spec) if isinstance(spec, dict) else list(spec)
    by_layer = {k: {net: recorded[net][k] for net in nets} for k in keys}
    return by_layer[keys[0]] if single else by_layer


MANIFEST = "study.json"
_STUDY_DTYPES = ("float16", "float32")


def _to_numpy(a):
    return a.detach().cpu().numpy() if hasattr(a, "detach") else np.asarray(a)


def _umask():
    u = os.umask(0)
    os.umask(u)
    return u


def _atomic_write(path, write):
    """Write ``path`` through a temporary file in the same folder and os.replace."""
    import tempfile

    d = os.path.dirname(path) or "."
    fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".", suffix=".tmp", dir=d)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def _check_name(what, v):
    if not isinstance(v, str) or not _NAME_RE.match(v):
        raise ValueError("invalid %s %r (letters, digits, _ . -; not starting with . or -)"
                         % (what, v))
    return v


def _check_checkpoint(v):
    import operator

    if isinstance(v, bool):
        raise ValueError("checkpoint must be an integer >= 0, got %r" % (v,))
    try:
        c = operator.index(v)
    except TypeError:
        raise ValueError("checkpoint must be an integer >= 0, got %r" % (v,)) from None
    if c < 0:
        raise ValueError("checkpoint must be an integer >= 0, got %d" % c)
    return c


def save_study(out_dir, name, cells, labels=None, images=None, class_names=None,
               image_size=None, dtype="float16", layer_order=None, overwrite=False):
    """Write a study: ``out_dir/study.json`` plus one ``.npz`` per cell.

    ``cells`` is an iterable of ``(arch, layer, checkpoint, {net_name:
    (n_images, n_units)})`` (a generator is fine: one cell is held at a time).
    Cell files go to ``<arch>/e<checkpoint>/<layer>.npz`` (one array per
    network, ``dtype`` float16 or float32, ``np.savez_compressed``); the
    manifest lists the cells in the order given, each with its
    ``layer_index``: the layer's position in ``layer_order`` (a list for every
    arch or ``{arch: [layers]}``) or else its order of first appearance
    within its arch.  ``labels`` (int64 ``labels.npy``), ``images`` (uint8
    ``images.npy``, see :func:`prepare_images`) and ``class_names``
    (``class_names.txt``, one a line) are optional.

    Refuses (ValueError): an existing non-empty ``out_dir`` unless
    ``overwrite`` (which replaces only the files the study writes), duplicate
    cells, fewer than 2 networks in a cell, different network names within
    one arch, bad names, image counts that differ between cells, labels or
    images, and values that are not finite (or overflow float16).  Every file
    is written to a temporary name and renamed; ``study.json`` comes last, so
    a study without a manifest is an unfinished one.  If a cell fails, the
    files this call created are removed again.  Returns the manifest's path.
    """
    if not isinstance(name, str) or not name.strip():
        raise ValueError("study name must be a non-empty string")
    if str(np.dtype(dtype)) not in _STUDY_DTYPES:
        raise ValueError("dtype must be float16 or float32, got %r" % (dtype,))
    dt = np.dtype(dtype)
    out_dir = os.fspath(out_dir)
    if os.path.exists(out_dir):
        if not os.path.isdir(out_dir):
            raise ValueError("%s exists and is not a folder" % out_dir)
        if os.listdir(out_dir) and not overwrite:
            raise ValueError("%s exists and is not empty (overwrite=True or --overwrite "
                             "replaces the study's files in it)" % out_dir)

    n, n_from = None, None
    lab = None
    if labels is not None:
        lab = _to_numpy(labels)
        if lab.ndim != 1:
            raise ValueError("labels: expected one label per image, got shape %s" % (lab.shape,))
        if lab.size and not (np.issubdtype(lab.dtype, np.integer) or
                             (np.all(np.isfinite(lab)) and np.all(np.mod(lab, 1) == 0))):
            raise ValueError("labels must be integers")
        lab = lab.astype(np.int64)
        n, n_from = lab.shape[0], "the labels"
    img = None
    if images is not None:
        img = prepare_images(images, image_size)
        if n is not None and img.shape[0] != n:
            raise ValueError("images: %d images, but %d labels" % (img.shape[0], n))
        n, n_from = img.shape[0], "the images"
    names_txt = None
    if class_names is not None:
        cn = [str(c) for c in class_names]
        if any(("\n" in c or "\r" in c) for c in cn):
            raise ValueError("class names must not contain line breaks")
        names_txt = ("\n".join(cn) + "\n").encode("utf-8")

    order = {}
    if layer_order is not None:
        if isinstance(layer_order, dict):
            order = {a: list(v) for a, v in layer_order.items()}
        else:
            order = {None: list(layer_order)}

    made_dirs, made_files = [], []

    def ensure_dir(d):
        missing = []
        while d and not os.path.isdir(d):
            missing.append(d)
            d = os.path.dirname(d)
        for m in reversed(missing):
            os.mkdir(m)
            made_dirs.append(m)

    def put(rel, write):
        path = os.path.join(out_dir, *rel.split("/"))
        ensure_dir(os.path.dirname(path))
        existed = os.path.exists(path)
        _atomic_write(path, write)
        if not existed:
            made_files.append(path)

    manifest_cells, seen, seen_paths = [], set(), {}
    arch_nets, arch_layers = {}, {}
    try:
        ensure_dir(out_dir)
        for cell in cells:
            try:
                arch, layer, ckpt, arrays = cell
            except (TypeError, ValueError):
                raise ValueError("a cell must be (arch, layer, checkpoint, {net: array})") from None
            _check_name("arch name", arch)
            _check_name("layer name", layer)
            ckpt = _check_checkpoint(ckpt)
            what = "cell %s/%s/%d" % (arch, layer, ckpt)
            if (arch, layer, ckpt) in seen:
                raise ValueError("duplicate %s" % what)
            seen.add((arch, layer, ckpt))
            rel = "%s/e%d/%s.npz" % (arch, ckpt, layer)
            if rel.lower() in seen_paths:
                raise ValueError("%s and cell %s would share the file %s on a case-insensitive "
                                 "file system" % (what, seen_paths[rel.lower()], rel))
            seen_paths[rel.lower()] = what[5:]
            if not isinstance(arrays, dict) or len(arrays) < 2:
                raise ValueError("%s: need a dict of at least 2 networks" % what)
            nets = list(arrays)
            for net in nets:
                _check_name("network name", net)
                if net in _RESERVED:
                    raise ValueError("%s: network name %r is reserved" % (what, net))
            if arch in arch_nets and set(arch_nets[arch]) != set(nets):
                raise ValueError("%s: networks %s, but other cells of %s have %s"
                                 % (what, ", ".join(nets), arch, ", ".join(arch_nets[arch])))
            arch_nets.setdefault(arch, nets)
            out = {}
            for net in nets:
                a = _to_numpy(arrays[net])
                if a.ndim != 2:
                    raise ValueError("%s, %s: expected (n_images, n_units), got shape %s"
                                     % (what, net, a.shape))
                if n is None:
                    n, n_from = a.shape[0], "%s, %s" % (what, net)
                elif a.shape[0] != n:
                    raise ValueError("%s, %s: %d images, expected %d as in %s (every cell, "
                                     "the labels and the images must hold the same images)"
                                     % (what, net, a.shape[0], n, n_from))
                if a.shape[1] < 1:
                    raise ValueError("%s, %s: no units" % (what, net))
                if not np.all(np.isfinite(a)):
                    raise ValueError("%s, %s: non-finite values" % (what, net))
                with np.errstate(over="ignore"):
                    b = np.ascontiguousarray(a, dtype=dt)
                if not np.all(np.isfinite(b)):
                    raise ValueError("%s, %s: values beyond the %s range (max |x| %g); use "
                                     "dtype='float32'" % (what, net, dt, float(np.abs(a).max())))
                out[net] = b
            lays = arch_layers.setdefault(arch, [])
            if layer not in lays:
                lays.append(layer)
            listed = order.get(arch, order.get(None))
            if listed is None:
                index = lays.index(layer)
            elif layer in listed:
                index = listed.index(layer)
            else:
                raise ValueError("%s: layer %r is not in layer_order" % (what, layer))
            put(rel, lambda f, out=out: np.savez_compressed(f, **out))
            manifest_cells.append({"arch": arch, "layer": layer, "layer_index": index,
                                   "checkpoint": ckpt, "path": rel})
        if not manifest_cells:
            raise ValueError("no cells")
        manifest = {"name": name}
        if lab is not None:
            put("labels.npy", lambda f: np.save(f, lab))
            manifest["labels"] = "labels.npy"
        if img is not None:
            put("images.npy", lambda f: np.save(f, img))
            manifest["images"] = "images.npy"
        if names_txt is not None:
            put("class_names.txt", lambda f: f.write(names_txt))
            manifest["class_names"] = "class_names.txt"
        manifest["cells"] = manifest_cells
        text = _manifest_text(manifest)
        put(MANIFEST, lambda f: f.write(text.encode("utf-8")))
    except BaseException:
        for p in reversed(made_files):
            try:
                os.unlink(p)
            except OSError:
                pass
        for d in reversed(made_dirs):
            try:
                os.rmdir(d)
            except OSError:
                pass
        raise
    return os.path.join(out_dir, MANIFEST)


def _manifest_text(manifest):
    """JSON with one cell a line."""
    head = ",\n".join(' %s: %s' % (json.dumps(k), json.dumps(v))
                      for k, v in manifest.items() if k != "cells")
    cells = ",\n".join("  " + json.dumps(c) for c in manifest["cells"])
    return "{\n%s%s \"cells\": [\n%s\n ]\n}\n" % (head, ",\n" if head else "", cells)


def _layer_spec(layers, archs):
    """{arch: {study layer name: module name}} from write_study's ``layers``."""
    def one(spec):
        if isinstance(spec, dict):
            d = dict(spec)
        elif isinstance(spec, (list, tuple)):
            d = {}
            for layer in spec:
                if not isinstance(layer, str):
                    raise ValueError("layers: give module names (strings), got %r" % (layer,))
                if layer in d:
                    raise ValueError("duplicate layer %r" % layer)
                d[layer] = layer
        else:
            raise ValueError("layers: a list of module names or a dict {name: module name}")
        if not d:
            raise ValueError("no layers")
        for k, v in d.items():
            _check_name("layer name", k)
            if not isinstance(v, str):
                raise ValueError("layer %r: give the module's name (a string)" % k)
        return d

    if (isinstance(layers, dict) and layers and set(layers) == set(archs)
            and all(isinstance(v, (list, tuple, dict)) for v in layers.values())):
        return {a: one(layers[a]) for a in archs}
    d = one(layers)
    return {a: d for a in archs}


def write_study(out_dir, name, models, layers, inputs, labels=None, images=None,
                class_names=None, batch_size=256, dtype="float16", net_names=None,
                image_size=None, overwrite=False, device=None, max_images=None):
    """Record several layers of several networks at several checkpoints; write a study.

    ``models``: ``{arch: {checkpoint: [model, ...] or {net_name: model}}}``,
    e.g. ``{"convnet": {0: nets_e0, 8: nets_e8}}``; list entries are named
    ``net_names`` (a list) or ``net0``, ``net1``, ...; every checkpoint of one
    arch must have the same networks.  ``layers``: module names as listed by
    ``model.named_modules()`` (each is its layer's name in the study), a dict
    ``{study name: module name}``, or ``{arch: list or dict}`` per arch.
    ``inputs``: a tensor or array ``(n, ...)`` (fed in batches of
    ``batch_size``) or a re-iterable, non-shuffling loader.  Each model runs
    once (all layers hooked at once) in eval mode.  ``labels``, ``images``,
    ``class_names``, ``dtype``, ``overwrite``: see :func:`save_study`.
    Returns the manifest's path.
    """

    if not isinstance(models, dict) or not models:
        raise ValueError("models: expected {arch: {checkpoint: [model, ...]}}")
    archs = list(models)
    for arch in archs:
        _check_name("arch name", arch)
        if not isinstance(models[arch], dict) or not models[arch]:
            raise ValueError("models[%r]: expected {checkpoint: [model, ...]}" % arch)
    spec = _layer_spec(layers, archs)

    def named(arch, ckpt, nets):
        if isinstance(nets, dict):
            d = dict(nets)
        elif isinstance(nets, (list, tuple)):
            names = list(net_names) if net_names is not None else \
                ["net%d" % i for i in range(len(nets))]
            if len(names) != len(nets):
                raise ValueError("%s checkpoint %s: %d models but %d net_names"
                                 % (arch, ckpt, len(nets), len(names)))
            d = dict(zip(names, nets))
        else:
            raise ValueError("models[%r][%r]: a list of models or {name: model}" % (arch, ckpt))
        if len(d) < 2:
            raise ValueError("%s checkpoint %s: need at least 2 networks" % (arch, ckpt))
        return d

    # Check names and layers before running anything.
    plan = []
    for arch in archs:
        for ckpt in sorted(models[arch], key=_check_checkpoint):
            nets = named(arch, ckpt, models[arch][ckpt])
            for net, m in nets.items():
                _check_name("network name", net)
                mods = dict(m.named_modules())
                for lname, mname in spec[arch].items():
                    if mname not in mods:
                        raise ValueError("%s checkpoint %s %s: no layer named %r; available: %s"
                                         % (arch, ckpt, net, mname,
                                            ", ".join(k for k in mods if k)))
            plan.append((arch, ckpt, nets))

    batches = _batches(inputs, batch_size, "inputs", one_reader=False)

    def cells():
        for arch, ckpt, nets in plan:
            acts = {lname: {} for lname in spec[arch]}
            for net, m in nets.items():
                rec = record_layers(m, spec[arch], batches, max_images=max_images, device=device)
                for lname in spec[arch]:
                    acts[lname][net] = rec[lname]
            for lname in spec[arch]:
                yield arch, lname, ckpt, acts[lname]

    return save_study(out_dir, name, cells(), labels=labels, images=images,
                      class_names=class_names, image_size=image_size, dtype=dtype,
                      layer_order={a: list(spec[a]) for a in archs}, overwrite=overwrite)


ZIP_DATE = (1980, 1, 1, 0, 0, 0)


def zip_study(study_dir, zip_path, overwrite=False):
    """Pack a study folder into one ``.zip`` with ``study.json`` at its root.

    Members: the manifest, then labels / images / class names, then the cells
    (and any per-cell labels) in manifest order.  ``.npz`` members are STORED
    (they are compressed already), the rest DEFLATED; timestamps are fixed
    (1980-01-01) and permissions 0644, so equal studies give byte-identical
    archives.  Written to a temporary file and renamed.  Returns ``zip_path``.
    """
    mpath = os.path.join(study_dir, MANIFEST)
    with open(mpath, encoding="utf-8") as f:
        manifest = json.load(f)
    if os.path.exists(zip_path) and not overwrite:
        raise ValueError("%s exists (overwrite=True or --overwrite replaces it)" % zip_path)
    members = [MANIFEST]
    for key in ("labels", "images", "class_names"):
        if manifest.get(key):
            members.append(manifest[key])
    for c in manifest.get("cells", []):
        for rel in (c.get("labels"), c["path"]):
            if rel and rel not in members:
                members.append(rel)

    def write(f):
        with zipfile.ZipFile(f, "w") as z:
            for rel in members:
                with open(os.path.join(study_dir, *rel.split("/")), "rb") as g:
                    data = g.read()
                info = zipfile.ZipInfo(rel, date_time=ZIP_DATE)
                info.create_system = 3
                info.external_attr = 0o100644 << 16
                info.compress_type = (zipfile.ZIP_STORED if rel.endswith(".npz")
                                      else zipfile.ZIP_DEFLATED)
                z.writestr(info, data)

    _atomic_write(os.fspath(zip_path), write)
    return zip_path


def _read_study(path):
    """(manifest, reader(rel) -> bytes, shown) for a study folder, study.json or .zip."""
    if os.path.isdir(path):
        base = path
    elif path.endswith(".zip"):
        z = zipfile.ZipFile(path)
        return (json.loads(z.read(MANIFEST).decode("utf-8")),
                lambda rel: z.read(rel), path)
    else:
        base = os.path.dirname(path) or "."

    def read(rel):
        with open(os.path.join(base, *rel.split("/")), "rb") as f:
            return f.read()
    return json.loads(read(MANIFEST).decode("utf-8")), read, path


def _is_study(p):
    if os.path.isdir(p) or os.path.basename(p) == MANIFEST:
        return True
    if p.endswith(".zip") and zipfile.is_zipfile(p):
        with zipfile.ZipFile(p) as z:
            return MANIFEST in z.namelist()
    return False


def _print_study(p):
    manifest, read, shown = _read_study(p)
    print("%s: study %r, %d cells" % (shown, manifest.get("name"), len(manifest["cells"])))
    for key in ("labels", "images", "class_names"):
        if manifest.get(key):
            rel = manifest[key]
            if rel.endswith(".npy"):
                a = np.load(io.BytesIO(read(rel)))
                print("  %-12s %-28s %-8s %s" % (key, rel, a.dtype, a.shape))
            else:
                print("  %-12s %-28s %d lines" % (key, rel,
                                                    len(read(rel).decode("utf-8").splitlines())))
    for c in manifest["cells"]:
        d = np.load(io.BytesIO(read(c["path"])))
        shapes = sorted({(d[k].dtype.str, d[k].shape) for k in d.files})
        print("  %-10s %-10s [%s] ckpt %-5d %-28s %d nets %s" % (
            c["arch"], c["layer"], c.get("layer_index", "-"), c["checkpoint"], c["path"],
            len(d.files), ", ".join("%s %s" % s for s in shapes)))


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


def _cmd_study(a):
    cells = []
    for spec in a.cell:
        if "=" not in spec:
            raise ValueError("--cell %r: expected ARCH/LAYER/CHECKPOINT=FILE.npz" % spec)
        key, path = spec.split("=", 1)
        parts = key.split("/")
        if len(parts) != 3:
            raise ValueError("--cell %r: expected ARCH/LAYER/CHECKPOINT=FILE.npz" % spec)
        try:
            ckpt = int(parts[2])
        except ValueError:
            raise ValueError("--cell %r: checkpoint %r is not an integer"
                             % (spec, parts[2])) from None
        cells.append((parts[0], parts[1], ckpt, path))

    def load():
        for arch, layer, ckpt, path in cells:
            d = np.load(path)
            if not hasattr(d, "files"):
                raise ValueError("%s: expected a .npz bundle of networks" % path)
            yield arch, layer, ckpt, {k: d[k] for k in d.files if k not in _RESERVED}

    labels = _load_labels(a.labels) if a.labels else None
    images = np.load(a.images) if a.images else None
    names = None
    if a.class_names:
        with open(a.class_names, encoding="utf-8") as f:
            names = [line.strip() for line in f.read().rstrip("\n").split("\n")]
    if a.zip and os.path.exists(a.zip) and not a.overwrite:
        raise ValueError("%s exists (pass --overwrite to replace it)" % a.zip)
    m = save_study(a.out, a.name, load(), labels=labels, images=images, class_names=names,
                   image_size=a.image_size, dtype=a.dtype, overwrite=a.overwrite)
    print("wrote %s: %d cells" % (m, len(cells)))
    if a.zip:
        zip_study(a.out, a.zip, overwrite=a.overwrite)
        print("wrote %s (%.0f kB)" % (a.zip, os.path.getsize(a.zip) / 1024))


def _cmd_zip(a):
    zip_study(a.study, a.out, overwrite=a.overwrite)
    print("wrote %s (%.0f kB)" % (a.out, os.path.getsize(a.out) / 1024))


def _cmd_info(a):
    for p in a.files:
        if _is_study(p):
            _print_study(p)
            continue
        d = np.load(p)
        items = d.items() if hasattr(d, "items") else [(os.path.basename(p), d)]
        print(p)
        for k, v in items:
            print("  %-12s %-12s %s" % (k, v.dtype, v.shape))


__all__ = ["capture", "record_layers", "save_activations", "save_bundle", "prepare_images",
           "save_study", "write_study", "zip_study"]


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
    st = sub.add_parser("study", help="write a study (study.json + one .npz per cell) "
                                      "from bundles of (arch, layer, checkpoint)")
    st.add_argument("out", help="study folder to create")
    st.add_argument("--name", required=True, help="the study's name")
    st.add_argument("--cell", action="append", required=True, metavar="ARCH/LAYER/CKPT=FILE.npz",
                    help="one cell: a .npz of networks (n_images x n_units); repeat")
    st.add_argument("--labels", help=".npy or text file with one integer per image")
    st.add_argument("--images", help=".npy of input images, one per activation row")
    st.add_argument("--image-size", type=int, help="downsample images to at most this many px")
    st.add_argument("--class-names", help="text file, one class name a line")
    st.add_argument("--dtype", default="float16", choices=_STUDY_DTYPES)
    st.add_argument("--zip", help="also pack the study into this .zip")
    st.add_argument("--overwrite", action="store_true",
                    help="write into a non-empty folder / replace the .zip")
    st.set_defaults(func=_cmd_study)
    z = sub.add_parser("zip", help="pack a study folder into one .zip (byte-reproducible)")
    z.add_argument("study")
    z.add_argument("out")
    z.add_argument("--overwrite", action="store_true")
    z.set_defaults(func=_cmd_zip)
    i = sub.add_parser("info", help="list the arrays of .npz/.npy files or a study")
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
