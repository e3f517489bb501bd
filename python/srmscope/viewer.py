"""``srmscope.view``: the native viewer in its own process, from a script or a Jupyter kernel."""
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

__all__ = ["view", "ViewerUnavailable"]


class ViewerUnavailable(RuntimeError):
    """The viewer cannot open here (no display, or it exited at once)."""


def _has_display():
    if not sys.platform.startswith("linux"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def _write_arrays(items, labels, images, class_names, tmp, name="networks"):
    """Arrays as one .npz in ``tmp`` (the viewer reads it like any bundle; its stem is the
    dataset's name in the viewer)."""
    stem = "".join(c if c.isalnum() or c in "-_." else "_" for c in name).strip("._") or "networks"
    path = os.path.join(tmp, stem + ".npz")
    n = 1
    while os.path.exists(path):
        n += 1
        path = os.path.join(tmp, "%s-%d.npz" % (stem, n))
    arrays = {name: np.asarray(x) for name, x in items}
    if labels is not None:
        arrays["labels"] = np.asarray(labels, dtype=np.int64)
    if images is not None:
        arrays["images"] = np.asarray(images)
    if class_names is not None:
        arrays["class_names"] = np.asarray([str(c) for c in class_names])
    np.savez(path, **arrays)
    return path


def view(*inputs, compare=None, settings=None, wait=False, **fit_options):
    """Open the native viewer in a new process and return at once (the ``Popen`` handle).

    ``inputs``: files, folders, ``demo:<name>`` or a study, or a :class:`srmscope.Fit` (its
    arrays and settings are handed over), or a dict name → array. ``fit_options``: the CLI
    options (``k``, ``algo``, ...). Raises :class:`ViewerUnavailable` when there is no display
    (use ``Fit.to_html()`` or show the ``Fit`` inline in a notebook instead).
    """
    from .api import Fit, _networks
    from ._settings import settings_json

    if not _has_display():
        raise ViewerUnavailable(
            "srmscope.view: no display (DISPLAY and WAYLAND_DISPLAY are unset); in a notebook "
            "without a desktop, show the Fit inline or write fit.to_html('fig.html')")
    cleanup = None
    files = []
    opts = dict(fit_options)
    for inp in inputs or ("demo:convnet",):
        if isinstance(inp, Fit):
            items, labels, images, class_names = inp._inputs
            # The fit's own settings, exactly as it ran (preset included).
            if settings is None and not opts:
                settings = inp._core.settings_json()
            cleanup = cleanup or tempfile.mkdtemp(prefix="srmscope-view-")
            if items is None:
                raise ViewerUnavailable("srmscope.view: this Fit has no arrays to show")
            files.append(_write_arrays(items, labels, images, class_names, cleanup, inp.name))
        elif isinstance(inp, dict):
            cleanup = cleanup or tempfile.mkdtemp(prefix="srmscope-view-")
            files.append(_write_arrays(_networks(inp), None, None, None, cleanup))
        else:
            files.append(os.fspath(inp))
    sj = settings if settings is not None else (settings_json("srmscope.view", **opts)
                                                if opts else None)
    args = [sys.executable, "-m", "srmscope._viewer"]
    if sj is not None:
        args += ["--settings", sj if isinstance(sj, str) else json.dumps(sj)]
    if cleanup:
        args += ["--cleanup", cleanup]
    for c in compare or []:
        args += ["--compare", os.fspath(c)]
    args += ["--"] + files
    log = tempfile.TemporaryFile()
    proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                            start_new_session=True)
    # A viewer that cannot start (no GL, bad input) fails within a moment: say why.
    deadline = time.monotonic() + 1.5
    while time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.05)
    if proc.poll() not in (None, 0):
        log.seek(0)
        lines = [l for l in log.read().decode("utf-8", "replace").splitlines() if l.strip()]
        raise ViewerUnavailable("srmscope.view: the viewer exited: %s"
                                % (lines[-1] if lines else "exit code %d" % proc.returncode))
    if wait:
        proc.wait()
    return proc
