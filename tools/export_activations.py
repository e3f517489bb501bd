#!/usr/bin/env python3
"""Shim: the exporter now lives in the Python package as ``srmscope.torch``.

This file keeps the old entry points working from a checkout without installing the package:
``python3 tools/export_activations.py bundle|study|zip|info ...`` and
``from export_activations import save_bundle, write_study, capture, ...``.
Installed users write ``from srmscope.torch import capture``.
"""
import importlib.util
import os
import sys

_PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, "python",
                     "srmscope", "torch.py")
_spec = importlib.util.spec_from_file_location("_srmscope_torch", _PATH)
_mod = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_mod)
globals().update({k: v for k, v in vars(_mod).items() if not k.startswith("__")})

if __name__ == "__main__":
    sys.exit(_mod.main())
