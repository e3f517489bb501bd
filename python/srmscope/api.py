"""``fit``, ``Fit``, ``load``, ``load_model``, ``similarity``, ``pairwise`` and ``study``."""
import html as _html
import json
import os
import pathlib
import tempfile

import numpy as np

from . import _core
from ._progress import callback
from ._settings import settings_json

__all__ = ["fit", "Fit", "load", "load_model", "Model", "similarity", "pairwise", "study",
           "StudyResults", "MEASURES"]

#: The keys of :func:`similarity` and of METRICS.json ``pairs``.
MEASURES = ("cka_linear", "cka_linear_debiased", "procrustes_angular", "procrustes_euclidean",
            "rsa_pearson", "rsa_spearman", "isc", "mutual_knn")


def _run(fn, progress, desc, *args):
    cb = callback(progress, desc)
    try:
        return fn(*args, cb)
    finally:
        if hasattr(cb, "close"):
            cb.close()


def load(*inputs, labels=None):
    """Read files, folders or ``demo:<name>`` as the CLI does.

    Returns a dict: ``name``, ``networks`` (name → images × units array; float32 files stay
    float32), ``labels``, ``images`` (n × H × W × 4 uint8), ``class_names``, ``notes``.
    """
    d = _core.load_dataset([os.fspath(i) for i in inputs], None if labels is None else os.fspath(labels))
    d["networks"] = dict(d["networks"])
    return d


def _networks(networks):
    """(name, array) pairs from a dict, a list of arrays, or file/demo names."""
    if isinstance(networks, (str, os.PathLike)):
        networks = [networks]
    if isinstance(networks, dict):
        items = list(networks.items())
    elif isinstance(networks, (list, tuple)) and networks and \
            all(isinstance(n, (str, os.PathLike)) for n in networks):
        return None
    elif isinstance(networks, (list, tuple)):
        items = [("network %d" % i, x) for i, x in enumerate(networks)]
    else:
        raise TypeError("networks: expected a dict name → array (images × units), a list of "
                        "arrays, or file names / 'demo:<name>'")
    out = []
    for name, x in items:
        if not isinstance(x, np.ndarray):
            x = np.asarray(x)
        out.append((str(name), x))
    return out


def _as_list(networks):
    return [networks] if isinstance(networks, (str, os.PathLike)) else list(networks)


def _labels(labels):
    if labels is None:
        return None
    if isinstance(labels, (str, os.PathLike)):
        labels = np.load(os.fspath(labels), allow_pickle=False)
    a = np.asarray(labels)
    if a.ndim != 1:
        raise ValueError("labels: expected one integer per image, got shape %s" % (a.shape,))
    if a.dtype.kind == "f":
        if not np.all(np.isfinite(a)) or np.any(a != np.round(a)):
            raise ValueError("labels: expected integers, got non-integer values")
    elif a.dtype.kind not in "iub":
        raise ValueError("labels: expected integers, got dtype %s" % a.dtype)
    return np.ascontiguousarray(a, dtype=np.int64)


def _images(images):
    """(n, H, W, C) uint8, C in 1/3/4, from (n,H,W), (n,H,W,C) or (n,C,H,W) of any numbers."""
    if images is None:
        return None
    if isinstance(images, (str, os.PathLike)):
        images = np.load(os.fspath(images), allow_pickle=False)
    a = np.asarray(images)
    if a.ndim == 3:
        a = a[..., None]
    elif a.ndim == 4 and a.shape[1] in (1, 3, 4) and a.shape[3] not in (1, 3, 4):
        a = a.transpose(0, 2, 3, 1)
    if a.ndim != 4 or a.shape[3] not in (1, 3, 4):
        raise ValueError("images: expected (n, H, W), (n, H, W, C) or (n, C, H, W) with C in "
                         "1, 3, 4; got shape %s" % (a.shape,))
    if a.dtype != np.uint8:
        a = a.astype(np.float64)
        lo, hi = np.nanmin(a), np.nanmax(a)
        scale = 255.0 / (hi - lo) if hi > lo else 0.0
        a = np.nan_to_num((a - lo) * scale).round().clip(0, 255).astype(np.uint8)
    return np.ascontiguousarray(a)


def _class_names(names):
    if names is None:
        return None
    if isinstance(names, (str, os.PathLike)):
        with open(os.fspath(names), encoding="utf-8") as f:
            return [line.rstrip("\r\n") for line in f]
    return [str(n) for n in names]


def fit(networks, *, labels=None, images=None, class_names=None, name=None, preset=None,
        progress=True, **settings):
    """Fit an alignment, as ``srmscope fit`` does, and return a :class:`Fit`.

    ``networks``: a dict name → array (images × units), a list of arrays, or file names /
    ``"demo:<name>"``. ``settings``: the CLI ``fit`` options with underscores and the same
    defaults (``k``, ``algo``, ``iters``, ``tol``, ``seed``, ``init``, ``center``,
    ``normalize``, ``max_units``, ``test_fraction``, ``bootstrap``, ``knn``, ``precision``,
    ``smooth``, ``split``). ``preset="paper"`` runs the authors' analysis exactly (the CLI's
    ``--preset paper``, docs/paper_parity.md). ``labels``, ``images`` and ``class_names`` take
    arrays, lists or file paths.

    Copies: each network is copied once into the engine's store (float32 stays float32).
    """
    sj = settings_json("srmscope.fit", preset, **settings)
    items = _networks(networks)
    if items is None:
        if isinstance(networks, (str, os.PathLike)):
            networks = [networks]
        d = load(*networks, labels=labels)
        items = list(d["networks"].items())
        name = name or d["name"]
        labels = d["labels"] if labels is None or isinstance(labels, (str, os.PathLike)) else labels
        images = d["images"] if images is None else images
        class_names = d["class_names"] if class_names is None else class_names
    core = _run(_core.fit, progress, "srmscope.fit", name or "arrays", items, sj,
                _labels(labels), _images(images), _class_names(class_names))
    return Fit(core, items, labels, images, class_names, settings)


class Fit:
    """A fitted alignment with its measures and trajectories (what ``srmscope fit`` writes)."""

    def __init__(self, core, items, labels, images, class_names, settings):
        self._core = core
        self._inputs = (items, labels, images, class_names)
        self._settings_kw = dict(settings)
        self._metrics = None
        self._model = None

    def __repr__(self):
        m = self.metrics
        return ("<srmscope.Fit %s: %d networks, k = %d, held-out ISC %s → %.3f, RSA %s → %.3f>"
                % (self.name, len(self.networks), self.k,
                   _fmt(m["isc"].get("native")), m["isc"]["shared"],
                   _fmt(m["rsa"].get("native")), m["rsa"]["shared"]))

    @property
    def name(self):
        return self._core.name

    @property
    def networks(self):
        return list(self.model["networks"])

    @property
    def k(self):
        return self._core.k

    @property
    def metrics(self):
        """METRICS.json as a dict."""
        if self._metrics is None:
            self._metrics = json.loads(self._core.metrics_json())
        return self._metrics

    @property
    def settings(self):
        """The engine's settings as saved in MODEL.npz."""
        return json.loads(self._core.settings_json())

    @property
    def model(self):
        """``networks``, ``w`` (units × k per network), ``mu``, ``s`` (k × train images),
        ``rho2``, ``sigma_s``, ``objective``, ``units_kept``."""
        if self._model is None:
            self._model = self._core.model()
        return self._model

    @property
    def split(self):
        """``(train, test)``: image indices into the input; ``test`` in frame order."""
        train, test = self._core.split
        return np.asarray(train), np.asarray(test)

    @property
    def notes(self):
        return list(self._core.notes)

    def trajectories(self, space="shared"):
        """networks × frames × 3 float32, as the viewer draws them (``"shared"`` after
        alignment, ``"native"`` before)."""
        return self._core.trajectories(space)

    def frames(self):
        """Per frame: ``image_index``, ``labels``, ``disagreement_before`` / ``_after``."""
        return self._core.frames()

    def transform(self, networks):
        """Networks (name → images × units, or a list in model order) in the shared space."""
        return _transform(self._core, self.networks, networks)

    def save(self, path):
        """Write MODEL.npz (the CLI's and the viewer's format); :func:`load_model` reads it."""
        self._core.save(os.fspath(path))

    def to_gif(self, path, *, view="after", layout="side-by-side", size=(640, 480),
               duration=10.0, frame_rate=25.0, frames=None, tail_duration=1.0,
               rotations=0.15, zoom=1.0, elevation=10.0, ghost="none", title=None,
               legend=True, cube=False, dark=False, color_by_label=False, show_image=False,
               progress=True):
        """An animated GIF (or one PNG frame for ``.png``), as ``srmscope export``."""
        w, h = _size(size)
        opts = {
            "duration": float(duration), "frame_rate": float(frame_rate), "frames": frames,
            "tail_duration": float(tail_duration), "rotations": float(rotations),
            "zoom": float(zoom), "elevation_deg": float(elevation), "width": w, "height": h,
            "view": _choice("view", view, {"before": "Before", "after": "After", "both": "Both"}),
            "both_layout": _choice("layout", layout, {"side-by-side": "SideBySide",
                                                      "sequence": "Sequence"}),
            "title": title, "show_image": bool(show_image),
            "style": {"ghost": _ghost(ghost), "show_legend": bool(legend),
                      "show_cube": bool(cube), "dark_background": bool(dark),
                      "color_by_label": bool(color_by_label)},
        }
        path = os.fspath(path)
        if path.lower().endswith(".png"):
            opts["format"] = "Png"
        elif path.lower().endswith(".gif"):
            opts["format"] = "Gif"
        else:
            raise ValueError("%s: use a .gif or .png file" % path)
        return _run(self._core.to_gif, progress, "srmscope export", path, json.dumps(opts))

    def _html_options(self, view="after", layout="side-by-side", size=(960, 640), tail=None,
                      ghost="none", title=None, legend=True, cube=False, dark=False,
                      color_by_label=False, yaw=-60.0, pitch=10.0, zoom=1.0, duration=10.0,
                      fps=25.0):
        w, h = _size(size)
        if title is None:
            title = "%s · %s, k = %d" % (self.name, self.settings.get("algo", ""), self.k)
        return json.dumps({
            "view": _choice("view", view, {"before": "before", "after": "after", "both": "both"}),
            "layout": _choice("layout", layout, {"side-by-side": "side-by-side",
                                                 "sequence": "sequence"}),
            "ghost": _ghost(ghost), "tail": tail, "width": w, "height": h, "title": title,
            "dark": bool(dark), "cube": bool(cube), "legend": bool(legend),
            "color_by_label": bool(color_by_label), "yaw_deg": float(yaw),
            "pitch_deg": float(pitch), "zoom": float(zoom), "duration": float(duration),
            "fps": float(fps),
        })

    def html(self, **options):
        """The self-contained interactive page as a string (see :meth:`to_html`)."""
        return self._core.html(self._html_options(**options))

    def to_html(self, path, **options):
        """Write one self-contained interactive HTML page (works offline, from file://).

        Options as ``srmscope export --out fig.html``: ``view``, ``layout``, ``size``,
        ``tail`` (images in the bright head), ``ghost``, ``title``, ``legend``, ``cube``,
        ``dark``, ``color_by_label``, ``yaw``, ``pitch``, ``zoom``. Returns the bytes written.
        """
        return self._core.to_html(os.fspath(path), self._html_options(**options))

    def _repr_html_(self):
        # An iframe keeps the page's script and styles away from the notebook's.
        page = self.html(size=(860, 560))
        return ('<iframe srcdoc="%s" style="width:100%%;max-width:1100px;height:760px;'
                'border:1px solid #ddd;border-radius:6px" sandbox="allow-scripts" '
                'title="srmscope figure"></iframe>' % _html.escape(page, quote=True))

    def view(self):
        """Open this fit's data in the native viewer (its own process); returns at once."""
        from .viewer import view
        return view(self)


def _transform(core, model_networks, networks):
    """``networks`` (a dict by name, a list in model order, or files) in the shared space of
    ``core`` (a fit or a loaded model); a dict in, a dict keyed by the model's networks out."""
    items = _networks(networks)
    if items is None:
        items = list(load(*_as_list(networks))["networks"].items())
    if not isinstance(networks, dict):
        items = [(n, x) for n, (_, x) in zip(model_networks, items)]
    out = core.transform(items)
    return dict(zip(model_networks, out)) if isinstance(networks, dict) else out


def _fmt(v):
    return "n/a" if v is None else "%.3f" % v


def _size(size):
    if isinstance(size, str):
        w, _, h = size.lower().partition("x")
        size = (int(w), int(h))
    w, h = (int(size[0]), int(size[1]))
    if not (16 <= w <= 8192 and 16 <= h <= 8192):
        raise ValueError("size: width and height must be between 16 and 8192, got %dx%d" % (w, h))
    return w, h


def _choice(what, value, table):
    if value not in table:
        raise ValueError("%s must be one of %s, got %r" % (what, ", ".join(table), value))
    return table[value]


def _ghost(g):
    return _choice("ghost", g, {"none": "None", "chemtrails": "Chemtrails", "precog": "Precog",
                                "bullettime": "Bullettime"})


class Model:
    """A MODEL.npz read back: ``model`` arrays, ``settings``, ``transform(networks)``."""

    def __init__(self, core):
        self._core = core
        self.model = core.model()
        self.settings = json.loads(core.settings_json())
        self.dataset = core.dataset
        self.notes = list(core.notes)

    @property
    def networks(self):
        return list(self.model["networks"])

    def transform(self, networks):
        return _transform(self._core, self.networks, networks)


def load_model(path):
    """Read a MODEL.npz written by ``srmscope fit``, the viewer or :meth:`Fit.save`."""
    return Model(_core.load_model(os.fspath(path)))


def similarity(x, y, measures=None, *, knn=10):
    """Every pairwise measure between two networks (images × units), keyed as METRICS.json
    ``pairs``; ``measures`` picks some. The data are used as given (each measure centres
    units itself). float64 arrays are read without a copy."""
    out = _core.similarity(x, y, knn)
    if measures is None:
        return out
    if isinstance(measures, str):
        measures = [measures]
    unknown = [m for m in measures if m not in out]
    if unknown:
        raise ValueError("unknown measure %s; the measures are %s"
                         % (", ".join(unknown), ", ".join(out)))
    return {m: out[m] for m in measures}


def pairwise(networks, *, knn=10, progress=True):
    """The m × m matrix of every measure between every pair of networks."""
    items = _networks(networks)
    if items is None:
        items = list(load(*_as_list(networks))["networks"].items())
    arrays = [x for _, x in items]
    return _run(lambda xs, k, cb: _core.pairwise(xs, k, cb), progress, "srmscope.pairwise",
                arrays, knn)


class StudyResults(dict):
    """RESULTS.json as a dict, plus :meth:`to_pandas`."""

    def to_pandas(self):
        """One row per cell: coordinates, the headline measures and the study measures."""
        import pandas as pd
        rows = []
        for c in self.get("cells", []):
            ve = c.get("variance_explained", {})
            rows.append({
                "arch": c["arch"], "layer": c["layer"], "layer_index": c["layer_index"],
                "checkpoint": c["checkpoint"], "path": c["path"], "k": c["k"],
                "n_images": c["n_images"], "n_train": c["n_train"], "n_test": c["n_test"],
                "isc_native": c["isc"].get("native"), "isc_shared": c["isc"]["shared"],
                "rsa_native": c["rsa"].get("native"), "rsa_shared": c["rsa"]["shared"],
                "ve_train": float(np.mean(ve["train"])) if ve.get("train") else None,
                "ve_test": float(np.mean(ve["test"])) if ve.get("test") else None,
                "within_rsm_consistency": c.get("within_rsm_consistency"),
                "dev_vs_final": c.get("dev_vs_final"), "dev_vs_same": c.get("dev_vs_same"),
            })
        return pd.DataFrame(rows)


_DEFAULT = object()


def _manifest_file(manifest, base, tmp):
    """A dict manifest written as study.json in ``tmp``, its paths made absolute from ``base``."""
    m = json.loads(json.dumps(manifest))
    base = pathlib.Path(base or os.getcwd())

    def absolute(p):
        if p is None or str(p).startswith("demo:"):
            return p
        q = pathlib.Path(p)
        return str(q if q.is_absolute() else (base / q).resolve())

    for key in ("labels", "images", "class_names"):
        if key in m:
            m[key] = absolute(m[key])
    for cell in m.get("cells", []):
        for key in ("path", "labels"):
            if key in cell:
                cell[key] = absolute(cell[key])
    path = pathlib.Path(tmp) / "study.json"
    path.write_text(json.dumps(m), encoding="utf-8")
    return str(path)


def study(path_or_manifest, *, cache=_DEFAULT, shard=None, jobs=None, base=None,
          preset=None, progress=True, **settings):
    """Fit every (arch, layer, checkpoint) cell of a study; returns RESULTS.json as a dict.

    ``path_or_manifest``: a study folder, its ``study.json``, a ``.zip``, ``demo:<study>``, or
    the manifest as a dict (relative paths resolved from ``base``, default the working
    directory). ``cache``: the default cache folder when omitted, a folder, or ``None`` for no
    cache. ``shard``: ``"I/N"`` or ``(I, N)``. ``settings``: the CLI options, as in :func:`fit`.
    """
    sj = settings_json("srmscope.study", preset, **settings)
    if cache is _DEFAULT:
        cache = _core.default_cache()
    if isinstance(shard, str):
        i, _, n = shard.partition("/")
        try:
            shard = (int(i), int(n))
        except ValueError:
            raise ValueError("shard %r: expected I/N, e.g. 2/8" % shard) from None
    with tempfile.TemporaryDirectory(prefix="srmscope-study-") as tmp:
        if isinstance(path_or_manifest, dict):
            path = _manifest_file(path_or_manifest, base, tmp)
        else:
            path = os.fspath(path_or_manifest)
        text = _run(lambda *a: _core.study(*a), progress, "srmscope.study", path, sj,
                    None if cache is None else os.fspath(cache), shard, jobs)
    return StudyResults(json.loads(text))


