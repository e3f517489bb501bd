"""srmscope: do independently trained networks learn the same representation, up to a rotation?

A Rust engine behind numpy: the Shared Response Model exactly as BrainIAK fits it (a drop-in
``SRM`` / ``DetSRM``), the pipeline of ``srmscope fit`` (held-out ISC, RSA, variance explained,
3D PCA trajectories), pairwise similarity measures, studies over layers and checkpoints, GIF
and interactive HTML figures, and the native viewer in its own process.

    import srmscope
    fit = srmscope.fit({"net0": a0, "net1": a1, "net2": a2}, labels=y)
    fit.metrics["isc"]; fit.to_html("fig.html"); fit.view()
"""
from . import _core
from .api import (MEASURES, Fit, Model, StudyResults, fit, load, load_model, pairwise,
                  similarity, study)
from .srm import SRM, DetSRM, NotFittedError
from .viewer import ViewerUnavailable, view

__version__ = _core.__version__

#: The embedded demo sets (``"demo:<name>"`` works wherever a file does).
DEMOS = tuple(_core.demo_names())

__all__ = ["SRM", "DetSRM", "NotFittedError", "fit", "Fit", "load", "load_model", "Model",
           "similarity", "pairwise", "study", "StudyResults", "view", "ViewerUnavailable",
           "MEASURES", "DEMOS", "__version__"]
