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

Requirements: pip install numpy scipy scikit-learn torch.  Deterministic: one
CPU thread, fixed seeds, torch.use_deterministic_algorithms(True).
"""
import argparse
import importlib.util
import os
import sys
import time

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
def train(model, X, y, seed, epochs):
    import torch
    import torch.nn.functional as F

    g = torch.Generator().manual_seed(seed)        # data order differs by seed
    opt = torch.optim.Adam(model.parameters(), lr=LR, weight_decay=WEIGHT_DECAY)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=epochs)
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y)
    n = len(yt)
    for _ in range(epochs):
        model.train()
        perm = torch.randperm(n, generator=g)
        for s in range(0, n, BATCH):
            b = perm[s:s + BATCH]
            opt.zero_grad()
            F.cross_entropy(model(Xt[b]), yt[b]).backward()
            opt.step()
        sched.step()
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


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--epochs", type=int, default=EPOCHS)
    ap.add_argument("--ref-srm", help="path to ref_srm.py: also run the SRM check")
    ap.add_argument("--check-only", action="store_true",
                    help="skip training; only check existing files (needs --ref-srm)")
    a = ap.parse_args(argv)

    import torch
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    os.makedirs(OUT_DIR, exist_ok=True)

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
        with open(os.path.join(OUT_DIR, "make_demo.log"), "w") as f:
            f.write("\n".join(LOG) + "\n")


if __name__ == "__main__":
    main()
