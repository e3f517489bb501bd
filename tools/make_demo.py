#!/usr/bin/env python3
"""Build srmscope's demo data: hidden-layer activations of independently
trained networks on held-out handwritten digits.

A CPU-sized version of the setting of Lu et al. (2018), "Shared
representational geometry across neural networks":

* data: scikit-learn's bundled digits (1797 grey 8x8 images, 10 classes, no
  download).  A stratified 55/45 split (seed 0) gives the training set for the
  networks and a held-out set that no network ever sees.  Activations are
  recorded only on the held-out images, in their original dataset order
  (srmscope splits them again 80/20 and sorts by class).
* networks: 5 ConvNets (a small Keras-cifar10_cnn: Conv32-Conv32-Pool-
  Conv64-Conv64-Pool-Dense128-Dense10) and 5 small ResNets (BatchNorm basic
  blocks, global average pooling, Dense128-Dense10).  Networks of one kind
  differ only in their seed (initialisation, dropout and data order).  The
  recorded layer is the hidden Dense-128 *pre-ReLU* output, as the paper's
  Dense-512 pre-ReLU layer.  A control set holds the same 5 ConvNets at their
  random initialisation (epoch 0, no training).
* output (assets/demo/): convnet.npz, resnet.npz, convnet_untrained.npz, each
  with float32 net0..net4 (n_heldout x 128) and int64 labels (n_heldout,),
  plus a log of the run (make_demo.log).

Optional check (needs the numpy SRM reference, e.g. srm reference ref_srm.py):
    python3 tools/make_demo.py --ref-srm path/to/ref_srm.py
re-splits the held-out images 80/20 (stratified, seed 0), z-scores each image
across units, fits probabilistic SRM (k=10, 10 iterations, seed 0) on the
80 % and prints held-out leave-one-out ISC and second-order RSA before and
after alignment (also for k=128 = n_units, the paper's pure-rotation SRM).  ``--check-only`` skips training and checks existing files.

Study (``--study``, runs alone and leaves the .npz files untouched):
    python3 tools/make_demo.py --study
trains the same 10 networks again (same seeds and recipe) and records several
layers of each, shallow to deep (STUDY_LAYERS), at epochs 0 (initialisation),
1, 2, 4, 8 and the final one, on the same held-out images.  Layers with more
than 48 units keep a fixed seeded subset of 48 (unit_subset: the same units for
every seed and checkpoint of one arch/layer).  Output: ONE file,
assets/demo/digits-study.zip, a study (study.json + labels.npy + images.npy +
class_names.txt + <arch>/e<epoch>/<layer>.npz, float16, written by
export_activations.save_study and packed byte-reproducibly by zip_study), and
a study section in make_demo.log with the accuracy per checkpoint and the
within-network RSM consistency of every cell, read back from the zip with
numpy only.  ``--study --check-only`` reruns that read-back check.

Requirements: pip install numpy scipy scikit-learn torch.  Deterministic: one
CPU thread, fixed seeds, torch.use_deterministic_algorithms(True).
"""
import argparse
import importlib.util
import os
import sys
import time
import zlib

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

OUT_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "assets", "demo")
SPLIT_SEED = 0
HELDOUT_FRACTION = 0.45
CONV_SEEDS = [0, 1, 2, 3, 4]
RESNET_SEEDS = [100, 101, 102, 103, 104]
EPOCHS = 30
BATCH = 32
LR = 1e-3
WEIGHT_DECAY = 1e-4


def log(msg=""):
    print(msg, flush=True)
    LOG.append(msg)


LOG = []


# --------------------------------------------------------------------------
# data
# --------------------------------------------------------------------------
def load_data():
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    d = load_digits()
    X = d.images.astype(np.float32)            # (1797, 8, 8), values 0..16
    y = d.target.astype(np.int64)
    idx = np.arange(len(y))
    tr, te = train_test_split(idx, test_size=HELDOUT_FRACTION, stratify=y,
                              random_state=SPLIT_SEED)
    tr, te = np.sort(tr), np.sort(te)          # keep the original dataset order
    mean_img = X[tr].mean(axis=0)              # paper: subtract mean training image
    Xn = (X - mean_img) / 8.0                  # ... and scale (CIFAR: /128 of 0..255)
    return Xn[:, None], y, tr, te


def digit_images(te):
    """The held-out 8x8 digits as uint8 (0..16 scaled to 0..255), for the viewer's image panel."""
    from sklearn.datasets import load_digits

    img = load_digits().images[te] * (255.0 / 16.0)
    return np.round(img).clip(0, 255).astype(np.uint8)


# --------------------------------------------------------------------------
# models
# --------------------------------------------------------------------------
def build_convnet():
    import torch.nn as nn

    class ConvNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.features = nn.Sequential(
                nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(),
                nn.Conv2d(32, 32, 3, padding=1), nn.ReLU(),
                nn.MaxPool2d(2), nn.Dropout(0.25),            # 32 x 4 x 4
                nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(),
                nn.Conv2d(64, 64, 3, padding=1), nn.ReLU(),
                nn.MaxPool2d(2), nn.Dropout(0.25),            # 64 x 2 x 2
                nn.Flatten())
            self.hidden = nn.Linear(256, 128)                 # recorded (pre-ReLU)
            self.head = nn.Sequential(nn.ReLU(), nn.Dropout(0.5), nn.Linear(128, 10))

        def forward(self, x):
            return self.head(self.hidden(self.features(x)))

    return ConvNet()


def build_resnet():
    import torch.nn as nn
    import torch.nn.functional as F

    class Block(nn.Module):
        def __init__(self, cin, cout, stride):
            super().__init__()
            self.c1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
            self.b1 = nn.BatchNorm2d(cout)
            self.c2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
            self.b2 = nn.BatchNorm2d(cout)
            self.skip = None
            if stride != 1 or cin != cout:
                self.skip = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False),
                                          nn.BatchNorm2d(cout))

        def forward(self, x):
            h = F.relu(self.b1(self.c1(x)))
            h = self.b2(self.c2(h))
            return F.relu(h + (x if self.skip is None else self.skip(x)))

    class ResNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.stem = nn.Sequential(nn.Conv2d(1, 32, 3, 1, 1, bias=False),
                                      nn.BatchNorm2d(32), nn.ReLU())
            self.blocks = nn.Sequential(Block(32, 32, 1), Block(32, 32, 1),   # 8 x 8
                                        Block(32, 64, 2), Block(64, 64, 1))   # 4 x 4
            self.pool = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten())
            self.hidden = nn.Linear(64, 128)                  # recorded (pre-ReLU)
            self.head = nn.Sequential(nn.ReLU(), nn.Dropout(0.5), nn.Linear(128, 10))

        def forward(self, x):
            return self.head(self.hidden(self.pool(self.blocks(self.stem(x)))))

    return ResNet()


# --------------------------------------------------------------------------
# training / recording
# --------------------------------------------------------------------------
def train(model, X, y, seed, epochs, on_epoch=None):
    """Train in place.  ``on_epoch(e, model)`` (optional) runs after epoch e (1-based);
    recording in it (eval mode, no_grad) draws no random numbers, so it leaves
    the training itself unchanged."""
    import torch
    import torch.nn.functional as F

    g = torch.Generator().manual_seed(seed)        # data order differs by seed
    opt = torch.optim.Adam(model.parameters(), lr=LR, weight_decay=WEIGHT_DECAY)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=epochs)
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y)
    n = len(yt)
    for ep in range(epochs):
        model.train()
        perm = torch.randperm(n, generator=g)
        for s in range(0, n, BATCH):
            b = perm[s:s + BATCH]
            opt.zero_grad()
            F.cross_entropy(model(Xt[b]), yt[b]).backward()
            opt.step()
        sched.step()
        if on_epoch is not None:
            on_epoch(ep + 1, model)
    return model


def record(model, X, y):
    """(hidden pre-ReLU activations float32 (n, 128), accuracy) on X."""
    import torch
    from export_activations import save_activations

    Xt = torch.from_numpy(X)
    loader = [(Xt[s:s + 256], None) for s in range(0, len(Xt), 256)]
    acts = save_activations(model, "hidden", loader)
    model.eval()
    with torch.no_grad():
        pred = model(Xt).argmax(1).numpy()
    return acts, float(np.mean(pred == y))


def make_set(kind, seeds, X, y, tr, te, epochs):
    import torch

    build = build_convnet if kind == "convnet" else build_resnet
    acts, accs, secs = {}, [], []
    for i, seed in enumerate(seeds):
        t0 = time.time()
        torch.manual_seed(seed)
        np.random.seed(seed)
        model = build()
        if epochs:
            train(model, X[tr], y[tr], seed, epochs)
        a, acc = record(model, X[te], y[te])
        acts["net%d" % i] = a
        accs.append(acc)
        secs.append(time.time() - t0)
        log("  %-18s net%d seed %3d: held-out accuracy %.4f  (%.1f s)"
            % (kind + ("" if epochs else " (untrained)"), i, seed, acc, secs[-1]))
    return acts, accs, secs


# --------------------------------------------------------------------------
# check with the numpy SRM reference
# --------------------------------------------------------------------------
def check(path_npz, ref, k=10, n_iter=10, seed=0):
    from sklearn.model_selection import train_test_split

    d = np.load(path_npz)
    names = [n for n in d.files if n not in ("labels", "images", "class_names")]
    labels = d["labels"]
    idx = np.arange(len(labels))
    itr, ite = train_test_split(idx, test_size=0.2, stratify=labels, random_state=0)

    def zrows(A):                                  # each image across units
        A = A - A.mean(axis=1, keepdims=True)
        s = A.std(axis=1, keepdims=True)
        s[s == 0] = 1.0
        return A / s

    Xtr = [zrows(d[n][itr].astype(np.float64)).T for n in names]   # units x images
    Xte = [zrows(d[n][ite].astype(np.float64)).T for n in names]
    fit = ref.fit_prob(Xtr, k, n_iter=n_iter, seed=seed)
    Xc = [X - X.mean(axis=1, keepdims=True) for X in Xte]
    Y = ref.transform(Xte, fit["W"], fit["mu"])
    w_rsm = np.mean([ref.rsm(X) for X in Xc], axis=0)
    out = dict(
        isc_native=ref.isc_loo(Xc),
        isc_shared=ref.isc_loo(Y),
        rsa_native=ref.lower_tri_corr(ref.inter_rsm_loo(Xc), w_rsm),
        rsa_shared=ref.lower_tri_corr(ref.inter_rsm_loo(Y), w_rsm),
        within_consistency=float(np.mean([ref.lower_tri_corr(ref.rsm(a), ref.rsm(b))
                                          for i, a in enumerate(Xc) for b in Xc[i + 1:]])),
        n_train=len(itr), n_test=len(ite))
    return out


def run_checks(ref_path):
    spec = importlib.util.spec_from_file_location("ref_srm", ref_path)
    ref = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(ref)
    log("check with %s: held-out 80/20 split (stratified, seed 0), per-image z-score,"
        % os.path.basename(ref_path))
    log("  fit_prob n_iter=10 seed=0 on the 80 %; numbers on the 20 %;")
    log("  k=10 (reduced SRM) and k=128 (= n_units: a pure rotation, the paper's choice)")
    log("  %-20s %4s %10s %10s %10s %10s %12s" % ("set", "k", "ISC nat", "ISC shared",
                                                   "RSA nat", "RSA shared", "within cons"))
    res = {}
    for k in (10, 128):
        for name in ("convnet", "resnet", "convnet_untrained"):
            r = check(os.path.join(OUT_DIR, name + ".npz"), ref, k=k)
            res[(name, k)] = r
            log("  %-20s %4d %10.3f %10.3f %10.3f %10.3f %12.3f" % (
                name, k, r["isc_native"], r["isc_shared"], r["rsa_native"], r["rsa_shared"],
                r["within_consistency"]))
    log("  (SRM fit on %d images, evaluated on %d)" % (r["n_train"], r["n_test"]))
    return res


# --------------------------------------------------------------------------
# the study: every layer at every checkpoint (--study)
# --------------------------------------------------------------------------
STUDY_NAME = "digits-study"
STUDY_ZIP = os.path.join(OUT_DIR, STUDY_NAME + ".zip")
STUDY_EPOCHS = (0, 1, 2, 4, 8)              # + the final epoch
STUDY_MAX_UNITS = 48                        # per layer; the logits keep their 10
STUDY_MARK = "=== study "                   # where the log's study section starts
# (study layer name, module name as in model.named_modules()), shallow to deep
STUDY_LAYERS = {
    "convnet": [("pool1", "features.4"),    # 1st MaxPool: 32 x 4 x 4 = 512
                ("pool2", "features.10"),   # 2nd MaxPool: 64 x 2 x 2 = 256
                ("dense128", "hidden"),     # Dense-128 pre-ReLU (the demo's layer)
                ("logits", "head.2")],      # Dense-10 output
    "resnet": [("stem", "stem"),            # Conv-BN-ReLU stem: 32 x 8 x 8 = 2048
               ("block2", "blocks.1"),      # end of the 8x8 stage: 32 x 8 x 8 = 2048
               ("gap", "pool"),             # global average pool of block 4: 64
               ("dense128", "hidden"),
               ("logits", "head.2")],
}


def study_checkpoints(epochs):
    return [e for e in STUDY_EPOCHS if e < epochs] + [epochs]


def unit_subset(arch, layer, n_units, max_units):
    """The fixed subset of units kept of one layer (None: all of them).

    A sorted random choice of ``max_units`` of the layer's flattened units
    (channel-major, as torch flattens C x H x W), seeded by the arch and layer
    name only, so every seed and checkpoint of one arch/layer keeps the same
    units."""
    if n_units <= max_units:
        return None
    seed = zlib.crc32(("%s/%s" % (arch, layer)).encode("ascii"))
    rng = np.random.default_rng(seed)
    return np.sort(rng.choice(n_units, size=max_units, replace=False))


def study_set(arch, seeds, X, y, tr, te, epochs, max_units):
    """Train one arch's networks once each and record every study layer at every checkpoint.

    Returns ({checkpoint: {layer: {net: float32 (n_heldout, units)}}},
    {checkpoint: [accuracy per net]}, {layer: (n_units, kept unit indices or None)})."""
    import torch
    from export_activations import record_layers

    build = build_convnet if arch == "convnet" else build_resnet
    layers = dict(STUDY_LAYERS[arch])
    ckpts = study_checkpoints(epochs)
    loader = [(torch.from_numpy(X[te][s:s + 256]), None) for s in range(0, len(te), 256)]
    acts = {c: {l: {} for l in layers} for c in ckpts}
    accs = {c: [] for c in ckpts}
    units = {}
    for i, seed in enumerate(seeds):
        t0 = time.time()
        torch.manual_seed(seed)                # exactly as make_set: same networks
        np.random.seed(seed)
        model = build()
        net = "net%d" % i

        def rec(ep, m):
            if ep not in acts:
                return
            r = record_layers(m, layers, loader)
            for l, a in r.items():
                if l not in units:
                    units[l] = (a.shape[1], unit_subset(arch, l, a.shape[1], max_units))
                keep = units[l][1]
                acts[ep][l][net] = a if keep is None else np.ascontiguousarray(a[:, keep])
            accs[ep].append(float(np.mean(r["logits"].argmax(1) == y[te])))

        rec(0, model)
        if epochs:
            train(model, X[tr], y[tr], seed, epochs, on_epoch=rec)
        log("  %-8s net%d seed %3d: held-out accuracy %s  (%.1f s)" % (
            arch, i, seed, " ".join("e%d %.4f" % (c, accs[c][i]) for c in ckpts),
            time.time() - t0))
    return acts, accs, units


def within_consistency(nets):
    """Mean pairwise Pearson r of the networks' within-network RSMs.

    Each image is z-scored across units; the RSM is the image x image
    correlation; two RSMs are compared on their lower triangles."""
    tri = None
    vecs = []
    for a in nets:
        a = a.astype(np.float64)
        a = a - a.mean(axis=1, keepdims=True)
        sd = a.std(axis=1, keepdims=True)
        sd[sd == 0] = 1.0
        z = a / sd
        rsm = z @ z.T / z.shape[1]
        if tri is None:
            tri = np.tril_indices(len(rsm), -1)
        v = rsm[tri]
        v = v - v.mean()
        vecs.append(v / (np.linalg.norm(v) or 1.0))
    rs = [float(vecs[i] @ vecs[j]) for i in range(len(vecs)) for j in range(i + 1, len(vecs))]
    return float(np.mean(rs))


def read_study_zip(path):
    """(manifest, {cell path: {net: array}}, labels) straight from the archive."""
    import io
    import json
    import zipfile

    with zipfile.ZipFile(path) as z:
        manifest = json.loads(z.read("study.json").decode("utf-8"))
        cells = {}
        for c in manifest["cells"]:
            d = np.load(io.BytesIO(z.read(c["path"])))
            cells[c["path"]] = {k: d[k] for k in d.files}
        labels = np.load(io.BytesIO(z.read(manifest["labels"])))
    return manifest, cells, labels


def make_study(X, y, tr, te, epochs, max_units):
    import tempfile
    from export_activations import save_study, zip_study

    import torch

    ckpts = study_checkpoints(epochs)
    log("%s%s (--study) ===" % (STUDY_MARK, STUDY_NAME))
    log("torch %s, numpy %s, %d thread(s); %d epochs, checkpoints (epochs) %s"
        % (torch.__version__, np.__version__, torch.get_num_threads(), epochs,
           ", ".join(map(str, ckpts))))
    t_all = time.time()
    results = {}
    for arch, seeds in (("convnet", CONV_SEEDS), ("resnet", RESNET_SEEDS)):
        results[arch] = study_set(arch, seeds, X, y, tr, te, epochs, max_units)
    log("training/recording time: %.1f s" % (time.time() - t_all))

    log("layers (units kept of the layer's units; a fixed seeded subset where it has more "
        "than %d):" % max_units)
    for arch in results:
        units = results[arch][2]
        for l, module in STUDY_LAYERS[arch]:
            n, keep = units[l]
            log("  %-8s %-9s %-12s %4d of %4d%s" % (
                arch, l, module, n if keep is None else len(keep), n,
                "" if keep is None else "  units " + " ".join(map(str, keep))))
    log("held-out accuracy, mean of 5 networks, per checkpoint (epoch):")
    log("  %-8s %s" % ("", "".join("%8s" % ("e%d" % c) for c in ckpts)))
    for arch in results:
        accs = results[arch][1]
        log("  %-8s %s" % (arch, "".join("%8.4f" % np.mean(accs[c]) for c in ckpts)))

    def cells():
        for arch in results:
            acts = results[arch][0]
            for c in ckpts:
                for l, _ in STUDY_LAYERS[arch]:
                    yield arch, l, c, acts[c][l]

    with tempfile.TemporaryDirectory(prefix="digits-study-") as tmp:
        folder = os.path.join(tmp, STUDY_NAME)
        save_study(folder, STUDY_NAME, cells(), labels=y[te].astype(np.int64),
                   images=digit_images(te), class_names=[str(k) for k in range(10)],
                   dtype="float16",
                   layer_order={a: [l for l, _ in STUDY_LAYERS[a]] for a in STUDY_LAYERS})
        zip_study(folder, STUDY_ZIP, overwrite=True)
    size = os.path.getsize(STUDY_ZIP)
    log("  -> %s: %d cells (2 archs x %d checkpoints x 4/5 layers), 5 networks x %d images "
        "each, float16; %.2f MB (%d bytes)"
        % (os.path.relpath(STUDY_ZIP), sum(len(ckpts) * len(STUDY_LAYERS[a]) for a in results),
           len(ckpts), len(te), size / 1e6, size))
    total = sum(os.path.getsize(os.path.join(OUT_DIR, f)) for f in os.listdir(OUT_DIR)
                if os.path.isfile(os.path.join(OUT_DIR, f)))
    log("  assets/demo in total: %.2f MB (before this log is rewritten)" % (total / 1e6))
    return results


def check_study(epochs):
    """Read the archive back (numpy only) and print the within-RSM consistency table; check
    that its final (and the ConvNets' epoch-0) dense128 cells are the demo's networks."""
    t0 = time.time()
    ckpts = study_checkpoints(epochs)
    manifest, cells, labels = read_study_zip(STUDY_ZIP)
    by = {(c["arch"], c["layer"], c["checkpoint"]): cells[c["path"]] for c in manifest["cells"]}
    log("within-network RSM consistency (read back from the zip): mean pairwise Pearson r "
        "of the 5 networks' RSMs")
    log("  (per-image z-score across units, image x image correlation, lower triangle, "
        "all %d images)" % len(labels))
    log("  %-8s %-9s %5s %s" % ("arch", "layer", "units",
                                "".join("%8s" % ("e%d" % c) for c in ckpts)))
    for arch in STUDY_LAYERS:
        for l, _ in STUDY_LAYERS[arch]:
            row = [within_consistency([by[(arch, l, c)][k] for k in sorted(by[(arch, l, c)])])
                   for c in ckpts]
            log("  %-8s %-9s %5d %s" % (arch, l, by[(arch, l, ckpts[0])]["net0"].shape[1],
                                        "".join("%8.3f" % r for r in row)))
    # Same seeds, same recipe as the demo's .npz files: on the CPU that built those the
    # dense128 cells equal them up to float16 rounding.  Elsewhere float32 kernels differ in
    # the last bits: epoch 0 still matches, but 30 epochs of training magnify the difference.
    log("dense128 cells against the demo's .npz (the same %d units; float16 rounding "
        "allows |diff| <= 2^-10 |x|):" % by[("convnet", "dense128", 0)]["net0"].shape[1])
    pairs = [("convnet", 0, "convnet_untrained.npz")]
    if epochs == EPOCHS:
        pairs += [("convnet", epochs, "convnet.npz"), ("resnet", epochs, "resnet.npz")]
    for arch, c, fname in pairs:
        path = os.path.join(OUT_DIR, fname)
        if not os.path.exists(path):
            continue
        d = np.load(path)
        cell = by[(arch, "dense128", c)]
        keep = unit_subset(arch, "dense128", d["net0"].shape[1], cell["net0"].shape[1])
        diff, tol, rs = 0.0, True, []
        for k in sorted(cell):
            ref = (d[k] if keep is None else d[k][:, keep]).astype(np.float64)
            got = cell[k].astype(np.float64)
            e = np.abs(got - ref)
            diff = max(diff, float(e.max()))
            tol = tol and bool(np.all(e <= 2.0 ** -10 * np.abs(ref) + 2.0 ** -24))
            rs.append(np.corrcoef(got.ravel(), ref.ravel())[0, 1])
        same_labels = np.array_equal(labels, d["labels"])
        log("  %-8s e%-3d vs %-22s labels %s, max |diff| %.2g, r %.4f..%.4f: %s"
            % (arch, c, fname, "equal" if same_labels else "DIFFER", diff, min(rs), max(rs),
               "equal up to float16 rounding" if tol and same_labels
               else "different (see README: CPU-dependent last bits grow in training)"))
    log("check time: %.1f s" % (time.time() - t0))


def write_log(study):
    """Rewrite make_demo.log: the main part and the study section each replace only their own."""
    path = os.path.join(OUT_DIR, "make_demo.log")
    old = ""
    if os.path.exists(path):
        with open(path) as f:
            old = f.read()
    i = old.find(STUDY_MARK)
    main_part, study_part = (old, "") if i < 0 else (old[:i], old[i:])
    new = "\n".join(LOG) + "\n"
    with open(path, "w") as f:
        f.write(main_part + new if study else new + study_part)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--epochs", type=int, default=EPOCHS)
    ap.add_argument("--ref-srm", help="path to ref_srm.py: also run the SRM check")
    ap.add_argument("--check-only", action="store_true",
                    help="skip training; only check existing files (needs --ref-srm, or --study)")
    ap.add_argument("--study", action="store_true",
                    help="build only the study assets/demo/%s.zip (every layer at checkpoints "
                         "0, 1, 2, 4, 8 and the final epoch); leaves the .npz files alone"
                    % STUDY_NAME)
    ap.add_argument("--study-units", type=int, default=STUDY_MAX_UNITS,
                    help="keep at most this many units per study layer (default %(default)s)")
    a = ap.parse_args(argv)

    import torch
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    os.makedirs(OUT_DIR, exist_ok=True)

    if a.study:
        if a.check_only:
            check_study(a.epochs)
            return
        t_all = time.time()
        X, y, tr, te = load_data()
        make_study(X, y, tr, te, a.epochs, a.study_units)
        check_study(a.epochs)
        log("total --study time: %.1f s" % (time.time() - t_all))
        write_log(study=True)
        return
    if not a.check_only:
        t_all = time.time()
        X, y, tr, te = load_data()
        log("digits: %d images; networks train on %d, activations on %d held-out"
            % (len(y), len(tr), len(te)))
        log("torch %s, numpy %s, %d thread(s), %d epochs"
            % (torch.__version__, np.__version__, torch.get_num_threads(), a.epochs))
        sets = [("convnet", "convnet", CONV_SEEDS, a.epochs),
                ("resnet", "resnet", RESNET_SEEDS, a.epochs),
                ("convnet_untrained", "convnet", CONV_SEEDS, 0)]
        for fname, kind, seeds, ep in sets:
            acts, accs, _ = make_set(kind, seeds, X, y, tr, te, ep)
            path = os.path.join(OUT_DIR, fname + ".npz")
            np.savez_compressed(path, labels=y[te].astype(np.int64), **acts,
                                images=digit_images(te),
                                class_names=np.array([str(k) for k in range(10)]))
            log("  -> %s: %d x %d per network, mean accuracy %.4f, %.0f kB"
                % (os.path.relpath(path), len(te), acts["net0"].shape[1], np.mean(accs),
                   os.path.getsize(path) / 1024))
        log("total training/recording time: %.1f s" % (time.time() - t_all))
    if a.ref_srm:
        t0 = time.time()
        run_checks(a.ref_srm)
        log("check time: %.1f s" % (time.time() - t0))
    elif a.check_only:
        ap.error("--check-only needs --ref-srm")
    if not a.check_only:
        write_log(study=False)


if __name__ == "__main__":
    main()
