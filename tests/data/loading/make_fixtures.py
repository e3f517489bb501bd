#!/usr/bin/env python3
"""Write the tiny numpy fixtures used by tests/data_loading.rs.

Run from anywhere: `python3 tests/data/loading/make_fixtures.py`. Deterministic; the Rust tests
know the formulas below, so keep them in sync:

  base[i, j]  = (4*i + j) % 7 - 3          (6 images x 4 units)
  conv[i, ...] = arange(72).reshape(6, 2, 2, 3)   (flattened row i = 12*i .. 12*i+11)
  labels[i]   = i % 3
"""
import os
import shutil

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
os.chdir(HERE)

base = (np.arange(24).reshape(6, 4) % 7 - 3).astype(np.float64)
half = base + 0.5  # exact in every float type
labels = np.arange(6) % 3
conv = np.arange(72, dtype=np.float32).reshape(6, 2, 2, 3)


def save(name, arr):
    np.save(name, arr, allow_pickle=True)


for d in ["beside", "folder"]:
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)

# --- dtypes and layouts that must load ------------------------------------------------------
save("f16.npy", half.astype("<f2"))
save("f32.npy", half.astype("<f4"))
save("f64.npy", half.astype("<f8"))
save("int8.npy", base.astype(np.int8))
save("int32.npy", base.astype(np.int32))
save("uint8.npy", (base + 3).astype(np.uint8))
save("be_f4.npy", half.astype(">f4"))
save("be_f8.npy", half.astype(">f8"))
save("be_i4.npy", base.astype(">i4"))
save("fortran.npy", np.asfortranarray(half))
assert np.load("fortran.npy").flags.f_contiguous
with open("v2.npy", "wb") as f:
    np.lib.format.write_array(f, half.astype("<f4"), version=(2, 0))
with open("v3.npy", "wb") as f:
    np.lib.format.write_array(f, half.astype("<f4"), version=(3, 0))

np.savez("ints.npz",
         i1=base.astype(np.int8), i2=base.astype(np.int16), i4=base.astype(np.int32),
         i8=base.astype(np.int64), u1=(base + 3).astype(np.uint8), u2=(base + 3).astype(np.uint16),
         u4=(base + 3).astype(np.uint32), u8=(base + 3).astype(np.uint64),
         b1=(base > 0), be_i2=base.astype(">i2"), be_u8=(base + 3).astype(">u8"))

# npz stored (np.savez) and deflated (np.savez_compressed); archive order: net1, net0, labels
np.savez("stored.npz", net1=half.astype(np.float32), net0=2 * half, labels=labels)
np.savez_compressed("deflated.npz", net1=half.astype(np.float32), net0=2 * half, labels=labels)

# conv maps: C order, Fortran order, big-endian Fortran; all the same values
np.savez_compressed("conv4d.npz", net_c=conv, net_f=np.asfortranarray(conv),
                    net_bef=np.asfortranarray(conv.astype(">f8")))

# labels.npy beside the .npy files; a folder with its own labels (float, integral) and junk
save("beside/a.npy", half.astype(np.float32))
save("beside/b.npy", (2 * half).astype(np.float32))
save("beside/labels.npy", labels.astype(np.int16))
save("folder/net_b.npy", (2 * half).astype(np.float64))
save("folder/net_a.npy", half.astype(np.float32))
save("folder/labels.npy", labels.astype(np.float64))
with open("folder/README.txt", "w") as f:
    f.write("not an array\n")

# explicit labels files
save("labels_u8.npy", labels.astype(np.uint8))
save("labels_short.npy", labels[:5])
save("labels_frac.npy", labels + 0.5)
save("labels_str.npy", np.array(["a", "b", "c", "a", "b", "c"]))
save("labels_2d.npy", np.zeros((2, 3), dtype=np.int64))
np.savez("labels_only.npz", y=labels.astype(np.int32))

# --- things that must be refused ----------------------------------------------------------------
save("complex.npy", half.astype(np.complex128))
save("object.npy", np.array([[1, "a"], [None, 2.0]], dtype=object))
save("str.npy", np.array([["ab", "c"], ["d", "e"]]))
save("bytes.npy", np.array([[b"ab", b"c"], [b"d", b"e"]]))
save("structured.npy", np.zeros((6,), dtype=[("a", "<f4"), ("b", "<i4")]))
save("datetime.npy", np.zeros((6, 4), dtype="datetime64[s]"))
save("longdouble.npy", half.astype(np.longdouble))
save("one_d.npy", np.arange(6, dtype=np.float32))
save("zero_d.npy", np.float32(3.0))
save("empty_images.npy", np.zeros((0, 4), dtype=np.float32))
save("empty_units.npy", np.zeros((6, 0), dtype=np.float32))
nf = half.copy()
nf[2, 3] = np.nan
nf[4, 1] = np.inf
nf[5, 0] = -np.inf
save("nonfinite.npy", nf.astype(np.float32))
np.savez("nonfinite.npz", net0=half, net1=nf)
save("short.npy", half[:5].astype(np.float32))
np.savez("single.npz", net0=half, labels=labels)
np.savez("bad_dtype.npz", net0=half, net1=half.astype(np.complex64))

for root, _, files in os.walk("."):
    for fn in sorted(files):
        p = os.path.join(root, fn)
        assert os.path.getsize(p) < 8192, p
print("fixtures written with numpy", np.__version__)
