"""Drop-in replacements for BrainIAK's ``brainiak.funcalign.srm.SRM`` and ``DetSRM``.

Same constructor arguments, data layout (a list of units × samples arrays; unit counts may
differ), fitted attributes and methods. By default the numbers are BrainIAK 0.12's, including
its initialisation and its transform, which does not subtract the training means (BrainIAK
issue #406). ``center=True`` turns on srmscope's corrected centring: the probabilistic model's
likelihood uses the centred data, DetSRM fits the centred data, and ``transform`` subtracts
``mu_``.

Copies: float64 arrays are read in place (C or Fortran order); other dtypes are converted to a
float64 copy first. The fitted arrays are handed to numpy without a copy.
"""
import numpy as np

from . import _core
from ._progress import callback

try:  # the exception BrainIAK raises, when scikit-learn is there
    from sklearn.exceptions import NotFittedError
except ImportError:  # pragma: no cover - depends on the environment
    class NotFittedError(ValueError, AttributeError):
        """The model has not been fitted yet."""

__all__ = ["SRM", "DetSRM", "NotFittedError"]


class _Base:
    _algo = "prob"

    def __init__(self, n_iter=10, features=50, rand_seed=0, comm=None, *, center=False,
                 precision="f64", progress=True):
        self.n_iter = n_iter
        self.features = features
        self.rand_seed = rand_seed
        self.comm = comm
        self.center = center
        self.precision = precision
        self.progress = progress

    # scikit-learn's estimator protocol, as BrainIAK's classes inherit it.
    def get_params(self, deep=True):
        return {k: getattr(self, k) for k in ("n_iter", "features", "rand_seed", "comm",
                                              "center", "precision", "progress")}

    def set_params(self, **params):
        for k, v in params.items():
            if k not in self.get_params():
                raise ValueError("Invalid parameter %s for estimator %s" % (k, type(self).__name__))
            setattr(self, k, v)
        return self

    def __repr__(self):
        return "%s(n_iter=%r, features=%r, rand_seed=%r)" % (
            type(self).__name__, self.n_iter, self.features, self.rand_seed)

    def fit(self, X, y=None):
        """Fit on ``X``: a list of arrays, one per subject/network, units × samples."""
        if len(X) <= 1:
            raise ValueError("There are not enough subjects ({0:d}) to train the model."
                             .format(len(X)))
        X = [np.asarray(x) if not isinstance(x, np.ndarray) else x for x in X]
        for i, x in enumerate(X):
            if x.ndim != 2:
                raise ValueError("X[%d]: expected a 2-D array (units × samples), got shape %s"
                                 % (i, x.shape))
        if X[0].shape[1] < self.features:
            raise ValueError("There are not enough samples to train the model with "
                             "{0:d} features.".format(self.features))
        samples = X[0].shape[1]
        for x in X:
            if x.shape[1] != samples:
                raise ValueError("Different number of samples between subjects.")
        # BrainIAK's random_state_ after fit: one 32-bit seed drawn per subject.
        self.random_state_ = np.random.RandomState(self.rand_seed)
        for _ in X:
            self.random_state_.randint(2 ** 32)
        cb = callback(self.progress, type(self).__name__)
        try:
            res = _core.srm_fit(X, self._algo, int(self.features), int(self.n_iter),
                                int(self.rand_seed), bool(self.center), self.precision, cb)
        finally:
            if hasattr(cb, "close"):
                cb.close()
        self.w_ = res["w"]
        self.s_ = res["s"]
        self.objective_ = np.asarray(res["objective"])
        if self._algo == "prob":
            self.sigma_s_ = res["sigma_s"]
            self.mu_ = res["mu"]
            self.rho2_ = res["rho2"]
        elif self.center:
            self.mu_ = res["mu"]
        return self

    def _check_fitted(self):
        if not hasattr(self, "w_"):
            raise NotFittedError("The model fit has not been run yet.")

    def transform(self, X, y=None):
        """Each subject's data (units × samples) in the shared space (features × samples)."""
        self._check_fitted()
        if len(X) != len(self.w_):
            raise ValueError("The number of subjects does not match the one in the model.")
        s = [None] * len(X)
        for i, x in enumerate(X):
            if x is not None:
                x = np.asarray(x)
                if self.center:
                    x = x - self.mu_[i][:, None]
                s[i] = self.w_[i].T.dot(x)
        return s

    def fit_transform(self, X, y=None):
        return self.fit(X, y).transform(X)

    def transform_subject(self, X):
        """W for a new subject (units × samples) recorded on the training samples."""
        self._check_fitted()
        X = np.asarray(X)
        if X.shape[1] != self.s_.shape[1]:
            raise ValueError("The number of timepoints(TRs) does not match the one in the "
                             "model.")
        return _core.transform_subject(X, self.s_, bool(self.center))


class SRM(_Base):
    """Probabilistic SRM (BrainIAK ``SRM``): ``w_``, ``s_``, ``sigma_s_``, ``mu_``, ``rho2_``,
    ``random_state_``, plus ``objective_`` (the log-likelihood per iteration)."""

    _algo = "prob"


class DetSRM(_Base):
    """Deterministic SRM (BrainIAK ``DetSRM``): ``w_``, ``s_``, ``random_state_``, plus
    ``objective_`` (the objective after init and each iteration)."""

    _algo = "det"
