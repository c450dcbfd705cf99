"""PyMC backend: a Bayesian Gaussian mixture whose posterior replaces the bootstrap.

Model, on standardised data ``X`` (n, d) with K components::

    w        ~ Dirichlet(prior_weight_concentration * ones(K))
    mu_k     ~ Normal(0, prior_mean_sd)                        (each coordinate)
    L_k      ~ LKJCholeskyCov(eta=prior_lkj_eta, sd ~ HalfNormal(prior_scale_sd))
    log p(X) = sum_i logsumexp_k [log w_k + log N(x_i | mu_k, L_k L_k^T)]

The likelihood is written by hand (triangular solve + logsumexp) and added with
``pm.Potential``; it is several times cheaper per gradient than ``pm.Mixture``.
Every chain starts at a jittered EM fit (the Numba backend's), with unordered
means: MI is invariant to relabelling the components, so label switching does
not bias it, while an ordering constraint was found to trap chains in
different modes. PyMC is imported lazily; see ``docs/bayesian.md``.
"""

from __future__ import annotations

import math
import time

import numpy as np

from .._validation import check_choice, check_float, check_int
from ..mixture import MixtureDraws
from .base import FitDiagnostics

_INSTALL_HINT = 'The "pymc" backend needs PyMC; install it with: pip install "gmmmi[pymc]"'

#: options of the Numba backend forwarded to it when it chooses K / gives the EM start
_EM_OPTIONS = {
    "init_type": "random_sklearn",
    "threshold_fit": 1e-5,
    "reg_covar": 1e-15,
    "max_iter": 10000,
    "n_inits": 3,
    "n_folds": 2,
    "metric_method": "valid",
    "threshold_components": 1e-5,
    "patience": 1,
    "max_components": 50,
}

_OPTIONS = {
    "draws": 1000,
    "tune": 1000,
    "chains": 2,
    "target_accept": 0.9,
    "method": "nuts",
    "cores": 1,
    "prior_weight_concentration": 1.0,
    "prior_mean_sd": 2.0,
    "prior_scale_sd": 1.0,
    "prior_lkj_eta": 1.0,
    "init": None,
    "init_jitter": 0.1,
    "compile_mode": "NUMBA",
    **_EM_OPTIONS,
}

_MIN_INIT_WEIGHT = 1e-3


def _import_pymc():
    """Import PyMC (slow: several seconds), or raise ImportError with the install command."""
    try:
        import pymc
        import pytensor.tensor  # noqa: F401
    except ImportError as err:  # pragma: no cover - depends on the environment
        raise ImportError(_INSTALL_HINT) from err
    return pymc


class PyMCBackend:
    """Bayesian Gaussian mixture sampled with NUTS (PyMC); S = chains * draws draws.

    Options (passed as keyword arguments to ``fit`` / ``gmmmi.estimate``)
    --------------------------------------------------------------------
    draws : int, default 1000
        Posterior draws kept per chain.
    tune : int, default 1000
        Tuning (warm-up) steps per chain, discarded.
    chains : int, default 2
        Independent chains (at least 2 for R-hat).
    target_accept : float, default 0.9
        NUTS target acceptance rate in (0, 1); raise it if there are divergences.
    method : {"nuts"}, default "nuts"
        ``"advi"`` is refused with an explanation (see docs/bayesian.md).
    cores : int, default 1
        Processes running chains in parallel. 1 runs the chains one after
        another in this process, which is fastest for small data sets (each
        worker process must reload the compiled model); use ``cores=chains``
        for large ones. Draws do not depend on it.
    prior_weight_concentration : float, default 1.0
        Symmetric Dirichlet concentration of the weights (1 = uniform on the simplex).
    prior_mean_sd : float, default 2.0
        Standard deviation of the Normal(0, .) prior on each mean coordinate,
        in units of the data's standard deviation.
    prior_scale_sd : float, default 1.0
        Scale of the HalfNormal prior on each component standard deviation,
        in units of the data's standard deviation.
    prior_lkj_eta : float, default 1.0
        LKJ shape of the component correlation matrices (1 = uniform, which
        does not shrink correlations and therefore MI).
    init : MixtureDraws or None, default None
        Starting mixture (S = 1, K components, standardised units); None =
        the Numba backend's EM fit on the same data.
    init_jitter : float, default 0.1
        Relative size of the per-chain perturbation of the starting point.
    compile_mode : str, default "NUMBA"
        PyTensor compilation mode (``"NUMBA"`` needs no C compiler and
        compiles in seconds; ``"FAST_RUN"`` is the C backend).
    init_type, threshold_fit, reg_covar, max_iter, n_inits, n_folds, metric_method,
    threshold_components, patience, max_components
        Forwarded to the Numba backend for choosing K and the EM start.
    """

    name = "pymc"
    options = dict(_OPTIONS)

    def fit(
        self,
        X: np.ndarray,
        *,
        n_components: int | None,
        rng: np.random.Generator,
        progress: bool,
        **options,
    ) -> tuple[MixtureDraws, FitDiagnostics]:
        """Sample the posterior of a K-component Gaussian mixture.

        Parameters
        ----------
        X : ndarray, shape (n, d)
            Standardised data (float64, C-contiguous).
        n_components : int or None
            K; None = the number the Numba backend's cross-validation selects.
        rng : numpy.random.Generator
            Source of every random number (jitter and the sampler's seed).
        progress : bool
            Show PyMC's progress bar.
        **options
            See the class docstring.

        Returns
        -------
        draws : MixtureDraws
            S = chains * draws mixtures in standardised units, chain-major.
        diagnostics : FitDiagnostics
            ``method="nuts"``, ``sample_stats`` (xarray Dataset with ``chain``
            and ``draw`` dims, including ``diverging``), ``extra`` with
            ``chains``, ``draws``, ``divergences``, ``seed``, ``init``,
            ``posterior`` (the mixture parameters) and ``timings``.
        """
        opts = _check_options(options)
        pm = _import_pymc()
        init, em_diag = _em_start(X, n_components, rng, opts)
        K = init.n_components
        seed = int(rng.integers(2**31 - 1))
        initvals = [_initial_point(init, rng, opts["init_jitter"]) for _ in range(opts["chains"])]
        model = _build_model(pm, X, K, opts)
        idata, timings = _sample_nuts(pm, model, initvals, seed, progress, opts)
        draws = _posterior_draws(idata.posterior)
        divergences = int(idata.sample_stats["diverging"].sum())
        diag = FitDiagnostics(
            method="nuts",
            n_components=K,
            reference_fit=None,
            metric_per_k=em_diag.metric_per_k if em_diag is not None else {},
            metric_method=em_diag.metric_method if em_diag is not None else None,
            n_iter=np.full(draws.n_draws, opts["tune"] + opts["draws"]),
            converged=np.ones(draws.n_draws, dtype=bool),
            loss_curves=em_diag.loss_curves if em_diag is not None else {},
            reached_max_components=bool(em_diag.reached_max_components) if em_diag else False,
            sample_stats=idata.sample_stats,
            extra={
                "chains": opts["chains"],
                "draws": opts["draws"],
                "tune": opts["tune"],
                "target_accept": opts["target_accept"],
                "divergences": divergences,
                "seed": seed,
                "init": init,
                "posterior": idata.posterior,
                "timings": timings,
                "priors": {k: v for k, v in opts.items() if k.startswith("prior_")},
            },
        )
        return draws, diag


# --------------------------------------------------------------------------- options
def _check_options(options: dict) -> dict:
    unknown = sorted(set(options) - set(_OPTIONS))
    if unknown:
        raise TypeError(
            f"Unknown option(s) for the pymc backend: {', '.join(unknown)}; "
            f"valid options are {', '.join(sorted(_OPTIONS))}."
        )
    opts = {**_OPTIONS, **options}
    method = check_choice("method", opts["method"], ("nuts", "advi"))
    if method == "advi":
        raise ValueError(
            'method="advi" is not available: in our tests mean-field and full-rank ADVI '
            "did not give a converged, correct posterior of MI for Gaussian mixtures "
            '(see docs/bayesian.md). Use method="nuts" (the default).'
        )
    opts["draws"] = check_int("draws", opts["draws"], minimum=1)
    opts["tune"] = check_int("tune", opts["tune"], minimum=0)
    opts["chains"] = check_int("chains", opts["chains"], minimum=1)
    opts["cores"] = check_int("cores", opts["cores"], minimum=1)
    ta = check_float("target_accept", opts["target_accept"], minimum=0.0, strict=True)
    if ta >= 1.0:
        raise ValueError(f"target_accept must be in (0, 1); got {ta}.")
    for name in ("prior_weight_concentration", "prior_mean_sd", "prior_scale_sd", "prior_lkj_eta"):
        opts[name] = check_float(name, opts[name], minimum=0.0, strict=True)
    opts["init_jitter"] = check_float("init_jitter", opts["init_jitter"], minimum=0.0)
    if opts["init"] is not None and not (
        isinstance(opts["init"], MixtureDraws) and opts["init"].n_draws == 1
    ):
        raise TypeError(
            f"init must be a MixtureDraws with one draw (S=1) or None; got {opts['init']!r}."
        )
    return opts


# ------------------------------------------------------------------------ start point
def _em_start(X, n_components, rng, opts):
    """The EM mixture every chain starts from, and the Numba diagnostics (or None)."""
    init = opts["init"]
    if init is not None:
        if init.n_dim != X.shape[1]:
            raise ValueError(
                f"init has dimension {init.n_dim} but the data have {X.shape[1]} columns."
            )
        if n_components is not None and init.n_components != n_components:
            raise ValueError(
                f"init has {init.n_components} components but n_components={n_components}."
            )
        return init, None
    from . import get_backend

    em_opts = {k: opts[k] for k in _EM_OPTIONS}
    draws, diag = get_backend("numba").fit(
        X, n_components=n_components, rng=rng, progress=False, n_bootstrap=0, **em_opts
    )
    return draws.select(0), diag


def _pack_cholesky(L: np.ndarray) -> np.ndarray:
    """Row-major lower-triangular entries of ``L`` (d, d), PyMC's packed order."""
    return L[np.tril_indices(L.shape[0])]


def _initial_point(init: MixtureDraws, rng: np.random.Generator, jitter: float) -> dict:
    """A jittered copy of the EM mixture as PyMC initial values (constrained space).

    Weights are floored at 1e-3 (the Dirichlet needs an interior point) and
    perturbed on the log scale; means move by ``jitter`` component standard
    deviations; Cholesky factors are scaled by ``exp(jitter * N(0, 1))``.
    """
    K, d = init.n_components, init.n_dim
    w = np.maximum(init.weights[0], _MIN_INIT_WEIGHT)
    w = w * np.exp(jitter * rng.standard_normal(K))
    L = np.linalg.cholesky(init.covariances[0])
    sd = np.sqrt(np.diagonal(init.covariances[0], axis1=1, axis2=2))
    mu = init.means[0] + jitter * sd * rng.standard_normal((K, d))
    L = L * np.exp(jitter * rng.standard_normal((K, 1, 1)))
    point = {"weights": w / w.sum(), "means": mu}
    for k in range(K):
        point[f"chol_{k}"] = _pack_cholesky(L[k])
    return point


# ----------------------------------------------------------------------------- model
def _build_model(pm, X: np.ndarray, K: int, opts: dict):
    """The PyMC model: Dirichlet weights, Normal means, LKJ-Cholesky covariances."""
    import pytensor.tensor as pt

    n, d = X.shape
    coords = {"component": np.arange(K), "dim": np.arange(d)}
    with pm.Model(coords=coords) as model:
        w = pm.Dirichlet(
            "weights", a=np.full(K, opts["prior_weight_concentration"]), dims="component"
        )
        mu = pm.Normal("means", mu=0.0, sigma=opts["prior_mean_sd"], dims=("component", "dim"))
        Xt = pt.as_tensor_variable(X.T)  # (d, n)
        log_norm = -0.5 * d * math.log(2 * math.pi)
        terms = []
        for k in range(K):
            L, _, _ = pm.LKJCholeskyCov(
                f"chol_{k}",
                n=d,
                eta=opts["prior_lkj_eta"],
                sd_dist=pm.HalfNormal.dist(sigma=opts["prior_scale_sd"], shape=d),
                compute_corr=True,
                store_in_trace=False,
            )
            pm.Deterministic(f"cov_{k}", L @ L.T)
            z = pt.linalg.solve_triangular(L, Xt - mu[k][:, None], lower=True)
            logdet = pt.sum(pt.log(pt.diag(L)))
            terms.append(pt.log(w[k]) + log_norm - logdet - 0.5 * pt.sum(z**2, axis=0))
        pm.Potential("loglik", pt.sum(pm.math.logsumexp(pt.stack(terms), axis=0)))
    return model


# -------------------------------------------------------------------------- sampling
def _sample_nuts(pm, model, initvals, seed, progress, opts):
    """Run ``pm.sample`` with BLAS limited to one thread; return (idata, timings)."""
    import pytensor
    from threadpoolctl import threadpool_limits

    t0 = time.perf_counter()
    mode = opts["compile_mode"]
    with model, threadpool_limits(1), pytensor.config.change_flags(mode=mode):
        idata = pm.sample(
            draws=opts["draws"],
            tune=opts["tune"],
            chains=opts["chains"],
            cores=opts["cores"],
            target_accept=opts["target_accept"],
            random_seed=seed,
            initvals=initvals,
            init="adapt_diag",
            progressbar=bool(progress),
            compute_convergence_checks=False,
            compile_kwargs={"mode": opts["compile_mode"]},
        )
    return idata, {"sample": time.perf_counter() - t0}


def _posterior_draws(posterior) -> MixtureDraws:
    """Chain-major `MixtureDraws` (S = chains * draws) from the posterior Dataset."""
    w = posterior["weights"].values  # (chain, draw, K)
    C, D, K = w.shape
    mu = posterior["means"].values
    d = mu.shape[-1]
    covs = np.stack([posterior[f"cov_{k}"].values for k in range(K)], axis=2)
    return MixtureDraws(w.reshape(C * D, K), mu.reshape(C * D, K, d), covs.reshape(C * D, K, d, d))
