"""The CLI's ``fit`` options as keyword arguments (underscores, same defaults) → engine settings."""
import json

# name: (default, allowed values or None)
FIT_OPTIONS = {
    "k": (None, None),
    "algo": ("prob", ("prob", "det", "procrustes")),
    "iters": (10, None),
    "tol": (None, None),
    "seed": (0, None),
    "init": ("brainiak", ("brainiak", "random")),
    "center": ("on", ("on", "brainiak")),
    "normalize": ("row", ("none", "unit", "row")),
    "max_units": (1000, None),
    "test_fraction": (0.2, None),
    "bootstrap": (1000, None),
    "knn": (10, None),
    "precision": ("f64", ("f64", "f32")),
    "smooth": (10, None),
    "split": ("srmscope", ("srmscope", "sklearn")),
}

# What preset="paper" fixes (the CLI's --preset paper refuses these beside it); the rest
# (bootstrap, knn, smooth) only changes how much is measured or drawn.
PAPER_FIXES = ("k", "algo", "iters", "tol", "seed", "init", "center", "normalize",
               "max_units", "test_fraction", "precision", "split")


def settings_json(where, preset=None, **kw):
    """JSON of the engine's ``Settings`` from CLI-named options; unknown names are refused.
    ``preset="paper"``: the authors' analysis (the CLI's ``--preset paper``)."""
    if preset is not None:
        if preset != "paper":
            raise ValueError("%s: preset must be 'paper', got %r" % (where, preset))
        clash = [k for k in PAPER_FIXES if k in kw]
        if clash:
            raise ValueError("%s: preset='paper' sets %s; drop %s or the preset"
                             % (where, ", ".join(clash), "it" if len(clash) == 1 else "them"))
        from . import _core
        s = json.loads(_core.paper_settings())
        for name, key in (("bootstrap", "bootstrap"), ("knn", "knn"), ("smooth", "smooth")):
            if name in kw:
                s[key] = int(kw.pop(name))
        unknown = sorted(set(kw) - set(FIT_OPTIONS))
        if unknown:
            raise TypeError("%s: unknown option %s" % (where, ", ".join(unknown)))
        return json.dumps(s)
    unknown = sorted(set(kw) - set(FIT_OPTIONS))
    if unknown:
        raise TypeError("%s: unknown option%s %s; the options are %s"
                        % (where, "s" if len(unknown) > 1 else "", ", ".join(unknown),
                           ", ".join(FIT_OPTIONS)))
    v = {name: kw.get(name, default) for name, (default, _) in FIT_OPTIONS.items()}
    for name, (_, allowed) in FIT_OPTIONS.items():
        if allowed is not None and v[name] not in allowed:
            raise ValueError("%s: %s must be one of %s, got %r"
                             % (where, name, ", ".join(allowed), v[name]))
    for name in ("k", "iters", "seed", "max_units", "bootstrap", "knn", "smooth"):
        if v[name] is not None and (isinstance(v[name], bool) or int(v[name]) != v[name]
                                     or v[name] < 0):
            raise ValueError("%s: %s must be a non-negative integer, got %r" % (where, name, v[name]))
    s = {
        "algo": v["algo"],
        "k": None if v["k"] is None else int(v["k"]),
        "n_iter": int(v["iters"]),
        "tol": None if v["tol"] is None else float(v["tol"]),
        "seed": int(v["seed"]),
        "init": v["init"],
        "center": v["center"],
        "normalize": v["normalize"],
        "max_units": int(v["max_units"]) or None,
        "test_fraction": float(v["test_fraction"]),
        "smooth": int(v["smooth"]),
        "bootstrap": int(v["bootstrap"]),
        "knn": int(v["knn"]),
        "precision": v["precision"],
        "split": v["split"],
    }
    return json.dumps(s)


def cli_args(**kw):
    """The same options as CLI flags (for the viewer's child process)."""
    out = []
    for name, value in kw.items():
        if value is None:
            continue
        out += ["--" + name.replace("_", "-"), str(value)]
    return out
